"""Tests for ``blog_api/site/accounts.py``: the pages the reset and confirmation mails open.

Driven like ``test_site.py``, through the framework's test client as a
browser would (CSRF token out of the form, back with the session cookie), on
Flask and miniflask; the mails go through the outbox to a real SMTP server
(aiosmtpd), and the test follows the link the mail carries.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from blog_api import jobs
from blog_api.models import User
from tests.blog_api.conftest import PASSWORD, Api, build_app
from tests.blog_api.mailbox import SMTPServer
from tests.blog_api.test_site import log_in, token_from

NEW_PASSWORD = "a brand new passphrase"
#: The reader-site link of a reset or confirmation mail.
LINK = re.compile(r"^\s*(https?://\S+/(?:reset-password|confirm-email)\?token=\S+)$", re.M)


@pytest.fixture
def config(config: dict[str, Any], smtp_server: SMTPServer) -> dict[str, Any]:
    """The suite's settings, with mail going to the test's SMTP server."""
    config["SMTP_URL"] = smtp_server.url
    return config


def mailed_link(app: Any, smtp_server: SMTPServer, subject: str) -> str:
    """Deliver the outbox; the link in the newest mail with ``subject``."""
    jobs.run_due(app.extensions["blog_db"].engine, app.config)
    mails = [m for m in smtp_server.messages if m["Subject"] == subject]
    assert mails, f"no mail {subject!r}"
    body = mails[-1].get_body(preferencelist=("plain",))
    assert body is not None
    match = LINK.search(body.get_content())
    assert match, "no reader-site link in the mail"
    return match.group(1)


def local(url: str) -> str:
    """The path and query of an absolute URL, for the test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def ask_for_reset(client: Any, email: str = "alice@example.com") -> Any:
    """Fill in and send the "forgot your password" form."""
    token = token_from(client.get("/forgot-password").get_data(as_text=True))
    return client.post("/forgot-password", data={"email": email, "csrf_token": token})


def set_password(client: Any, link: str, password: str) -> Any:
    """Open the reset link and send its form with ``password``."""
    page = client.get(local(link)).get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token, "no token field on the reset page"
    form = {"token": token.group(1), "new_password": password, "csrf_token": token_from(page)}
    return client.post("/reset-password", data=form)


def reset_link(api: Api, smtp_server: SMTPServer) -> str:
    """Register alice, ask for a reset on the site, return the mailed link."""
    api.register("alice")
    assert ask_for_reset(api.client).status_code == 303
    return mailed_link(api.app, smtp_server, "Reset your password")


def test_the_login_page_links_to_the_forgot_password_form(client: Any) -> None:
    page = client.get("/login").get_data(as_text=True)
    assert 'href="/forgot-password">Forgot your password?</a>' in page
    form = client.get("/forgot-password").get_data(as_text=True)
    assert 'name="email"' in form and 'name="csrf_token"' in form


def test_a_reset_mail_links_to_the_reset_page_of_this_site(
    api: Api, smtp_server: SMTPServer
) -> None:
    link = reset_link(api, smtp_server)
    assert link.startswith("http://localhost/reset-password?token=")
    page = api.client.get(local(link))
    assert page.status_code == 200
    assert 'name="new_password"' in page.get_data(as_text=True)


def test_the_form_answers_the_same_for_unknown_addresses_and_mails_nobody(
    api: Api, smtp_server: SMTPServer
) -> None:
    api.register("alice")
    jobs.run_due(api.app.extensions["blog_db"].engine, api.app.config)  # the confirmation
    delivered = len(smtp_server.messages)
    known = ask_for_reset(api.client, "alice@example.com")
    unknown = ask_for_reset(api.client, "nobody@example.com")
    assert known.status_code == unknown.status_code == 303
    assert known.headers["Location"] == unknown.headers["Location"] == "/login"
    jobs.run_due(api.app.extensions["blog_db"].engine, api.app.config)
    assert [m["To"] for m in smtp_server.messages[delivered:]] == ["alice@example.com"]
    page = api.client.get("/login").get_data(as_text=True)
    assert "If an account has this address, a reset link is on its way to it." in page


def test_a_malformed_address_shows_the_form_again(client: Any) -> None:
    response = ask_for_reset(client, "not an address")
    assert response.status_code == 400
    assert "Enter the e-mail address of your account." in response.get_data(as_text=True)


def test_the_forgot_password_form_needs_the_csrf_token(api: Api, smtp_server: SMTPServer) -> None:
    api.register("alice")
    api.client.get("/forgot-password")
    response = api.client.post("/forgot-password", data={"email": "alice@example.com"})
    assert response.status_code == 400
    jobs.run_due(api.app.extensions["blog_db"].engine, api.app.config)
    assert all(m["Subject"] != "Reset your password" for m in smtp_server.messages)


def test_the_site_form_shares_the_apis_rate_limit(
    api: Api, config: dict[str, Any], smtp_server: SMTPServer
) -> None:
    api.register("alice")
    limit = config.get("LOGIN_MAX_FAILURES", 5)
    for _ in range(limit - 1):
        assert ask_for_reset(api.client).status_code == 303
    body = {"email": "alice@example.com"}
    assert api.client.post("/api/v1/auth/password-reset", json=body).status_code == 202
    refused = ask_for_reset(api.client)
    assert refused.status_code == 429
    assert "text/html" in refused.headers["Content-Type"]


def test_resetting_on_the_site_changes_the_password_and_sends_to_log_in(
    api: Api, smtp_server: SMTPServer
) -> None:
    link = reset_link(api, smtp_server)
    response = set_password(api.client, link, NEW_PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    page = api.client.get("/login").get_data(as_text=True)
    assert "Your password is changed. Log in with the new one." in page
    assert log_in(api.client, "alice", PASSWORD).status_code == 400
    assert log_in(api.client, "alice", NEW_PASSWORD).status_code == 303


def test_a_reset_link_works_once(api: Api, smtp_server: SMTPServer) -> None:
    link = reset_link(api, smtp_server)
    assert set_password(api.client, link, NEW_PASSWORD).status_code == 303
    again = set_password(api.client, link, "yet another passphrase")
    assert again.status_code == 400
    text = again.get_data(as_text=True)
    assert "unknown, used or expired" in text
    assert 'name="new_password"' not in text
    assert log_in(api.client, "alice", NEW_PASSWORD).status_code == 303


def test_a_password_against_the_policy_is_shown_and_the_link_still_works(
    api: Api, smtp_server: SMTPServer
) -> None:
    link = reset_link(api, smtp_server)
    refused = set_password(api.client, link, "short")
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "Use at least 8 characters" in text
    assert 'name="new_password"' in text  # the form again, with the token
    assert set_password(api.client, link, NEW_PASSWORD).status_code == 303


def test_the_reset_form_needs_the_csrf_token(api: Api, smtp_server: SMTPServer) -> None:
    link = reset_link(api, smtp_server)
    token = local(link).split("token=", 1)[1]
    api.client.get(local(link))
    forged = api.client.post("/reset-password", data={"token": token, "new_password": "x" * 20})
    assert forged.status_code == 400
    assert set_password(api.client, link, NEW_PASSWORD).status_code == 303


def test_a_reset_page_without_a_token_offers_a_new_link(client: Any) -> None:
    page = client.get("/reset-password").get_data(as_text=True)
    assert 'name="new_password"' not in page
    assert 'href="/forgot-password"' in page


def test_a_confirmation_mail_links_to_a_page_whose_get_confirms_nothing(
    api: Api, smtp_server: SMTPServer
) -> None:
    api.register("alice")
    link = mailed_link(api.app, smtp_server, "Confirm your e-mail address")
    assert link.startswith("http://localhost/confirm-email?token=")
    page = api.client.get(local(link))
    assert page.status_code == 200
    assert "Confirm my address</button>" in page.get_data(as_text=True)
    api.client.get(local(link))
    assert confirmed_at(api) is None


def test_pressing_the_button_confirms_the_address(api: Api, smtp_server: SMTPServer) -> None:
    api.register("alice")
    link = mailed_link(api.app, smtp_server, "Confirm your e-mail address")
    response = press_confirm(api.client, link)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert "alice@example.com is confirmed" in api.client.get("/").get_data(as_text=True)
    assert confirmed_at(api) is not None
    again = press_confirm(api.client, link)
    assert again.status_code == 400
    assert "unknown, used or expired" in again.get_data(as_text=True)


def test_the_confirm_button_needs_the_csrf_token(api: Api, smtp_server: SMTPServer) -> None:
    api.register("alice")
    link = mailed_link(api.app, smtp_server, "Confirm your e-mail address")
    api.client.get(local(link))
    token = local(link).split("token=", 1)[1]
    assert api.client.post("/confirm-email", data={"token": token}).status_code == 400
    assert confirmed_at(api) is None


def test_links_use_the_public_scheme_and_host_behind_a_trusted_proxy(
    framework: str, config: dict[str, Any], smtp_server: SMTPServer
) -> None:
    config.update(PROXY_HOPS=1, TRUSTED_HOSTS=["blog.example"])
    app = build_app(framework, config)
    client = app.test_client()
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "blog.example"}
    body = {"username": "alice", "email": "alice@example.com", "password": PASSWORD}
    response = client.post("/api/v1/auth/register", json=body, headers=forwarded)
    assert response.status_code == 201
    link = mailed_link(app, smtp_server, "Confirm your e-mail address")
    assert link.startswith("https://blog.example/confirm-email?token=")


def press_confirm(client: Any, link: str) -> Any:
    """Open the confirmation link and press its button."""
    page = client.get(local(link)).get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', page)
    assert token, "no token field on the confirmation page"
    form = {"token": token.group(1), "csrf_token": token_from(page)}
    return client.post("/confirm-email", data=form)


def confirmed_at(api: Api) -> Any:
    """alice's ``email_confirmed_at``, read from the database."""
    with api.app.extensions["blog_db"].session_factory() as session:
        return session.scalar(select(User.email_confirmed_at).where(User.username == "alice"))
