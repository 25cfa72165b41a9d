"""Forgot password (blog_api/auth.py, services/password_resets.py), end to end through real SMTP.

A user asks for a link, the outbox's dispatcher mails it to an aiosmtpd
server, the test reads the token out of the mail as a user would, sets a new
password with it, and logs in with that password; every token from before is
dead. Both frameworks.
"""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from blog_api import jobs
from blog_api.models import OutboxJob, PasswordReset, utcnow
from tests.blog_api.conftest import Api
from tests.blog_api.mailbox import SMTPServer, reset_token

ASK = "/api/v1/auth/password-reset"
CONFIRM = "/api/v1/auth/password-reset/confirm"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def config(config: dict[str, Any], smtp_server: SMTPServer) -> dict[str, Any]:
    """The suite's settings, with mail going to the test's SMTP server."""
    config["SMTP_URL"] = smtp_server.url
    return config


def ask(api: Api, email: str) -> Any:
    return api.client.post(ASK, json={"email": email})


def deliver(api: Api) -> None:
    """Run the outbox once, as the dispatcher would."""
    jobs.run_due(api.app.extensions["blog_db"].engine, api.app.config)


def mailed_token(api: Api, smtp_server: SMTPServer, email: str = "alice@example.com") -> str:
    """Ask for a link for ``email``, deliver it, and read the token from the newest mail."""
    before = len(smtp_server.messages)
    assert ask(api, email).status_code == 202
    deliver(api)
    return reset_token(smtp_server.wait_for(before + 1)[-1])


def confirm(api: Api, token: str, password: str = NEW_PASSWORD) -> Any:
    return api.client.post(CONFIRM, json={"token": token, "new_password": password})


def reset_mails(smtp_server: SMTPServer) -> list[Any]:
    """The reset mails among what the server received (registration mails a confirmation too)."""
    return [m for m in smtp_server.messages if m["Subject"] == "Reset your password"]


def count(api: Api, model: Any) -> int:
    with api.app.extensions["blog_db"].session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_forgotten_password_is_reset_through_the_mailed_link(
    api: Api, smtp_server: SMTPServer
) -> None:
    api.register("alice")
    old = api.login("alice")
    token = mailed_token(api, smtp_server)
    [message] = reset_mails(smtp_server)
    assert message["To"] == "alice@example.com"
    assert message["Subject"] == "Reset your password"
    assert message["Message-ID"].startswith("<job-")
    assert confirm(api, token).status_code == 204
    assert api.login("alice", NEW_PASSWORD)["access_token"]
    failed = api.client.post(
        "/api/v1/auth/login", json={"username": "alice", "password": api.password}
    )
    assert failed.status_code == 401
    refreshed = api.client.post(
        "/api/v1/auth/refresh", json={"refresh_token": old["refresh_token"]}
    )
    assert refreshed.status_code == 401
    me = api.client.get("/api/v1/users/me", headers=api.bearer(old["access_token"]))
    assert me.status_code == 401


def test_the_answer_is_the_same_whether_or_not_the_address_has_an_account(
    api: Api, smtp_server: SMTPServer
) -> None:
    api.register("alice")
    jobs_before = count(api, OutboxJob)  # the registration's confirmation mail
    known, unknown = ask(api, "alice@example.com"), ask(api, "nobody@example.com")
    assert (known.status_code, known.get_json()) == (unknown.status_code, unknown.get_json())
    assert known.status_code == 202
    assert known.headers["Cache-Control"] == unknown.headers["Cache-Control"] == "no-store"
    assert count(api, OutboxJob) == jobs_before + 1  # only the account's link is mailed
    deliver(api)
    smtp_server.wait_for(jobs_before + 1)
    assert [m["To"] for m in reset_mails(smtp_server)] == ["alice@example.com"]


def test_the_address_matches_in_any_case(api: Api, smtp_server: SMTPServer) -> None:
    api.register("alice")
    assert confirm(api, mailed_token(api, smtp_server, "ALICE@Example.COM")).status_code == 204


def test_a_link_works_once(api: Api, smtp_server: SMTPServer) -> None:
    api.register("alice")
    token = mailed_token(api, smtp_server)
    assert confirm(api, token).status_code == 204
    again = confirm(api, token, "yet another passphrase")
    assert again.status_code == 400
    assert again.get_json()["type"] == "bad_request"
    api.login("alice", NEW_PASSWORD)


def test_using_one_link_spends_the_others(api: Api, smtp_server: SMTPServer) -> None:
    api.register("alice")
    first, second = mailed_token(api, smtp_server), mailed_token(api, smtp_server)
    assert confirm(api, second).status_code == 204
    assert confirm(api, first, "yet another passphrase").status_code == 400


def test_an_expired_or_unknown_link_is_refused(api: Api, smtp_server: SMTPServer) -> None:
    api.register("alice")
    token = mailed_token(api, smtp_server)
    with api.app.extensions["blog_db"].session_factory() as session:
        session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    assert confirm(api, token).status_code == 400
    assert confirm(api, "not-a-token").status_code == 400
    api.login("alice")  # the password is unchanged


def test_a_weak_new_password_is_refused_and_the_link_stays_usable(
    api: Api, smtp_server: SMTPServer
) -> None:
    api.register("alice")
    token = mailed_token(api, smtp_server)
    weak = confirm(api, token, "password1")
    assert weak.status_code == 422
    assert confirm(api, token).status_code == 204


def test_only_the_hash_of_the_token_is_stored_and_the_sent_mail_is_forgotten(
    api: Api, smtp_server: SMTPServer
) -> None:
    api.register("alice")
    token = mailed_token(api, smtp_server)
    with api.app.extensions["blog_db"].session_factory() as session:
        [reset] = session.scalars(select(PasswordReset)).all()
        done = session.scalars(select(OutboxJob)).all()
    assert token not in reset.token_hash and len(reset.token_hash) == 64
    assert {(job.status, job.payload) for job in done} == {("done", "{}")}


def test_asking_too_often_is_limited_but_logging_in_is_not(
    api: Api, config: dict[str, Any]
) -> None:
    api.register("alice")
    jobs_before = count(api, OutboxJob)
    limit = config.get("LOGIN_MAX_FAILURES", 5)
    statuses = [ask(api, "alice@example.com").status_code for _ in range(limit + 1)]
    assert statuses == [202] * limit + [429]
    refused = ask(api, "alice@example.com")
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.get_json()["error"] == "Too many password reset requests; try again later"
    api.login("alice")
    assert count(api, OutboxJob) == jobs_before + limit


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_two_confirmations_racing_with_one_token_succeed_once(
    database: str, tmp_path: Any, request: pytest.FixtureRequest
) -> None:
    """The second confirmation read the token unused, but waits for the first and then fails."""
    from blog_api import migrate
    from blog_api.db import make_engine, make_session_factory
    from blog_api.errors import BadRequest
    from blog_api.mail import MailedLink
    from blog_api.models import User
    from blog_api.services import password_resets

    url = f"sqlite:///{tmp_path / 'race.db'}"
    if database == "postgresql":
        url = str(request.getfixturevalue("postgres_url"))
    migrate.upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        session.add(User(username="ann", email="ann@example.com", password_hash="h"))
        link = MailedLink(3600, lambda token: f"http://localhost/reset-password?token={token}")
        password_resets.request_reset(session, "ann@example.com", link)
        session.commit()
        raw = session.scalars(select(OutboxJob.payload)).one()
    token = re.search(r'\\"token\\": \\"([^\\"]+)\\"', raw)
    assert token is not None
    first, second = sessions(), sessions()
    password_resets.confirm_reset(first, token.group(1), NEW_PASSWORD, "pbkdf2:sha256:1000")
    outcome: list[str] = []

    def confirm_second() -> None:
        try:
            password_resets.confirm_reset(second, token.group(1), "another passphrase", "pbkdf2")
            second.commit()
            outcome.append("reset")
        except BadRequest:
            outcome.append("refused")

    racer = threading.Thread(target=confirm_second)
    racer.start()
    time.sleep(0.3)  # the racer has read the token as unused and waits to write
    first.commit()
    racer.join()
    first.close(), second.close()
    assert outcome == ["refused"]
    engine.dispose()
