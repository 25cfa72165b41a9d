"""Confirming an e-mail address (services/email_confirmations.py), through real SMTP.

Registration mails a single-use, expiring link; following it sets
``email_confirmed_at``. By default an unconfirmed account may do everything;
with ``REQUIRE_CONFIRMED_EMAIL`` publishing and commenting wait for the
confirmation, in the API and on the reader site. Both frameworks.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from blog_api import jobs
from blog_api.models import EmailConfirmation, OutboxJob, utcnow
from tests.blog_api.conftest import Api
from tests.blog_api.mailbox import SMTPServer, confirmation_token
from tests.blog_api.test_site import log_in, token_from

CONFIRM = "/api/v1/auth/confirm-email"
RESEND = "/api/v1/auth/confirm-email/resend"
PUBLISHED = {"title": "Hello", "body": "World", "status": "published"}


@pytest.fixture
def config(config: dict[str, Any], smtp_server: SMTPServer) -> dict[str, Any]:
    """The suite's settings, with mail going to the test's SMTP server."""
    config["SMTP_URL"] = smtp_server.url
    return config


def mailed_token(api: Api, smtp_server: SMTPServer, to: str = "alice@example.com") -> str:
    """Deliver the outbox and read the token of the newest confirmation mail to ``to``."""
    jobs.run_due(api.app.extensions["blog_db"].engine, api.app.config)
    mails = [m for m in smtp_server.messages if m["To"] == to]
    assert mails, f"no mail to {to}"
    return confirmation_token(mails[-1])


def confirm(api: Api, token: str) -> Any:
    return api.client.post(CONFIRM, json={"token": token})


def me(api: Api, headers: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = api.client.get("/api/v1/users/me", headers=headers).get_json()
    return body


def require_confirmation(api: Api) -> None:
    api.app.config["REQUIRE_CONFIRMED_EMAIL"] = True


def test_registration_mails_a_link_that_confirms_the_address(
    api: Api, smtp_server: SMTPServer
) -> None:
    alice = api.user("alice")
    assert me(api, alice)["email_confirmed_at"] is None
    token = mailed_token(api, smtp_server)
    [message] = smtp_server.messages
    assert (message["To"], message["Subject"]) == (
        "alice@example.com",
        "Confirm your e-mail address",
    )
    assert confirm(api, token).status_code == 204
    assert me(api, alice)["email_confirmed_at"] is not None
    assert confirm(api, token).status_code == 400  # once only


def test_others_do_not_see_whether_an_address_is_confirmed(api: Api, bob: dict[str, str]) -> None:
    alice_id = me(api, api.user("alice"))["id"]
    assert (
        "email_confirmed_at"
        not in api.client.get(f"/api/v1/users/{alice_id}", headers=bob).get_json()
    )


def test_a_failed_registration_mails_nothing(api: Api) -> None:
    api.register("alice")
    taken = {"username": "alice", "email": "alice@example.com", "password": api.password}
    assert api.client.post("/api/v1/auth/register", json=taken).status_code == 409
    with api.app.extensions["blog_db"].session_factory() as session:
        assert session.scalar(select(func.count()).select_from(OutboxJob)) == 1


def test_by_default_an_unconfirmed_user_may_publish_and_comment(api: Api) -> None:
    alice = api.user("alice")
    post = api.create_post(alice)
    api.comment(alice, post["id"])


def test_when_required_publishing_and_commenting_wait_for_the_confirmation(
    api: Api, smtp_server: SMTPServer
) -> None:
    alice = api.user("alice")
    draft = api.create_post(alice, status="draft")
    require_confirmation(api)
    refused = api.client.post("/api/v1/posts", json=PUBLISHED, headers=alice)
    assert refused.status_code == 403
    assert refused.get_json()["type"] == "email_not_confirmed"
    etag = api.client.get(f"/api/v1/posts/{draft['id']}", headers=alice).headers["ETag"]
    publish = {"status": "published"}
    headers = {**alice, "If-Match": etag}
    patch = api.client.patch(f"/api/v1/posts/{draft['id']}", json=publish, headers=headers)
    assert patch.status_code == 403
    api.create_post(alice, status="draft")  # drafts are always allowed
    comment = api.client.post(
        f"/api/v1/posts/{draft['id']}/comments", json={"body": "hi"}, headers=alice
    )
    assert comment.status_code == 403
    assert confirm(api, mailed_token(api, smtp_server)).status_code == 204
    post = api.create_post(alice)
    api.comment(alice, post["id"])


def test_when_required_admins_are_not_held_back(api: Api) -> None:
    admin = api.user("root", admin=True)
    require_confirmation(api)
    api.create_post(admin)


def test_when_required_the_site_refuses_comments_too(api: Api, smtp_server: SMTPServer) -> None:
    alice = api.user("alice")
    post = api.create_post(alice)
    require_confirmation(api)
    browser = api.app.test_client()
    assert log_in(browser).status_code == 303
    token = token_from(browser.get(f"/posts/{post['id']}").get_data(as_text=True))
    form = {"body": "Nice", "csrf_token": token}
    refused = browser.post(f"/posts/{post['id']}/comments", data=form)
    assert refused.status_code == 403
    assert refused.mimetype == "text/html"


def test_an_expired_link_is_refused_and_a_new_one_can_be_asked_for(
    api: Api, smtp_server: SMTPServer
) -> None:
    alice = api.user("alice")
    old = mailed_token(api, smtp_server)
    with api.app.extensions["blog_db"].session_factory() as session:
        session.execute(update(EmailConfirmation).values(expires_at=utcnow() - timedelta(1)))
        session.commit()
    assert confirm(api, old).status_code == 400
    resent = api.client.post(RESEND, headers=alice)
    assert resent.status_code == 202
    assert confirm(api, mailed_token(api, smtp_server)).status_code == 204
    again = api.client.post(RESEND, headers=alice)
    assert again.status_code == 409


def test_a_new_address_needs_its_own_confirmation(api: Api, smtp_server: SMTPServer) -> None:
    alice = api.user("alice")
    old_link = mailed_token(api, smtp_server)
    user_id = me(api, alice)["id"]
    etag = api.client.get("/api/v1/users/me", headers=alice).headers["ETag"]
    change = {"email": "alice@new.example", "current_password": api.password}
    response = api.client.patch(
        f"/api/v1/users/{user_id}", json=change, headers={**alice, "If-Match": etag}
    )
    assert response.status_code == 200
    assert confirm(api, old_link).status_code == 400  # mailed to the old address
    assert me(api, alice)["email_confirmed_at"] is None
    assert confirm(api, mailed_token(api, smtp_server, "alice@new.example")).status_code == 204
    assert me(api, alice)["email_confirmed_at"] is not None


def test_seeded_demo_accounts_count_as_confirmed(api: Api) -> None:
    import random

    from blog_api.commands import seed_database
    from blog_api.models import User

    seed_database(api.app.extensions["blog_db"].engine, 2, 1, 0, random.Random(1))
    with api.app.extensions["blog_db"].session_factory() as session:
        unconfirmed = session.scalars(select(User).where(User.email_confirmed_at.is_(None)))
        assert unconfirmed.all() == []
