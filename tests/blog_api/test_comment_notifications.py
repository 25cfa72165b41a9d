"""A new comment mails the post's author (services/comments.py), through the outbox and real SMTP.

Not for the author's own comments, not when they turned it off, and only if
the comment was stored; the mail links to the post on the reader site. Both
frameworks.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from blog_api import jobs
from tests.blog_api.conftest import Api
from tests.blog_api.mailbox import SMTPServer
from tests.blog_api.test_site import log_in, token_from


@pytest.fixture
def config(config: dict[str, Any], smtp_server: SMTPServer) -> dict[str, Any]:
    """The suite's settings, with mail going to the test's SMTP server."""
    config["SMTP_URL"] = smtp_server.url
    return config


def notifications(api: Api, smtp_server: SMTPServer) -> list[Any]:
    """Deliver the outbox; the comment mails the server received (not the confirmations)."""
    jobs.run_due(api.app.extensions["blog_db"].engine, api.app.config)
    return [m for m in smtp_server.messages if m["Subject"].startswith("New comment on")]


def test_a_comment_by_someone_else_mails_the_posts_author(
    api: Api, smtp_server: SMTPServer, alice: dict[str, str], bob: dict[str, str]
) -> None:
    post = api.create_post(alice, title="Line one\nline two")
    api.comment(bob, post["id"], "What a post!")
    [message] = notifications(api, smtp_server)
    assert message["To"] == "alice@example.com"
    assert message["Subject"] == 'New comment on "Line one line two"'
    text = message.get_content()
    assert "bob commented on your post" in text and "What a post!" in text


def test_the_mail_links_to_the_post_on_the_reader_site(
    api: Api, smtp_server: SMTPServer, alice: dict[str, str], bob: dict[str, str]
) -> None:
    post = api.create_post(alice, title="Worth a link")
    api.comment(bob, post["id"], "See you there")
    [message] = notifications(api, smtp_server)
    found = re.search(r"^Read it and reply: (\S+)$", message.get_content(), re.MULTILINE)
    assert found is not None
    # Absolute, on the request's host (the test client's), as reset links are.
    assert found[1] == f"http://localhost/posts/{post['id']}"
    page = api.client.get(found[1])
    assert page.status_code == 200
    assert "Worth a link" in page.get_data(as_text=True)


def test_a_comment_from_the_reader_site_mails_the_link_too(
    api: Api, smtp_server: SMTPServer, alice: dict[str, str], bob: dict[str, str]
) -> None:
    post = api.create_post(alice, title="Commented in a browser")
    site = api.app.test_client()
    log_in(site, "bob", api.password)
    token = token_from(site.get(f"/posts/{post['id']}").get_data(as_text=True))
    form = {"body": "From the site", "csrf_token": token}
    assert site.post(f"/posts/{post['id']}/comments", data=form).status_code == 303
    [message] = notifications(api, smtp_server)
    assert "From the site" in message.get_content()
    assert f"Read it and reply: http://localhost/posts/{post['id']}\n" in message.get_content()


def test_the_authors_own_comments_mail_nobody(
    api: Api, smtp_server: SMTPServer, alice: dict[str, str]
) -> None:
    post = api.create_post(alice)
    api.comment(alice, post["id"])
    assert notifications(api, smtp_server) == []


def test_an_author_can_turn_the_mails_off(
    api: Api, smtp_server: SMTPServer, alice: dict[str, str], bob: dict[str, str]
) -> None:
    me = api.client.get("/api/v1/users/me", headers=alice)
    assert me.get_json()["notify_on_comments"] is True
    change = api.client.patch(
        f"/api/v1/users/{me.get_json()['id']}",
        json={"notify_on_comments": False},
        headers={**alice, "If-Match": me.headers["ETag"]},
    )
    assert change.status_code == 200
    assert change.get_json()["notify_on_comments"] is False
    post = api.create_post(alice)
    api.comment(bob, post["id"])
    assert notifications(api, smtp_server) == []


def test_others_do_not_see_the_setting(
    api: Api, alice: dict[str, str], bob: dict[str, str]
) -> None:
    alice_id = api.client.get("/api/v1/users/me", headers=alice).get_json()["id"]
    seen_by_bob = api.client.get(f"/api/v1/users/{alice_id}", headers=bob).get_json()
    assert "notify_on_comments" not in seen_by_bob


def test_a_refused_comment_mails_nobody(
    api: Api, smtp_server: SMTPServer, alice: dict[str, str], bob: dict[str, str]
) -> None:
    post = api.create_post(alice)
    response = api.client.post(
        f"/api/v1/posts/{post['id']}/comments", json={"body": ""}, headers=bob
    )
    assert response.status_code == 422
    assert notifications(api, smtp_server) == []
