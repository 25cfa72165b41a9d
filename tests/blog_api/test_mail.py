"""Outgoing mail (blog_api/mail.py): the message, the SMTP and .eml transports, the log line."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from blog_api import create_app, jobs, mail
from tests.blog_api.conftest import make_config
from tests.blog_api.mailbox import SMTPServer

CONFIG = {"MAIL_FROM": "Blog <blog@example.org>", "INSTANCE_PATH": "instance"}
WHEN = datetime(2026, 12, 2, 15, 0, 0, 123456, tzinfo=UTC)


def a_job(job_id: int = 7, body: str = "Hello, Ann.\nSee you.") -> jobs.Job:
    payload = {"to": "ann@example.com", "subject": "Greetings", "body": body}
    return jobs.Job(job_id, "mail", payload, 1, WHEN)


def test_the_message_has_its_headers_and_a_message_id_that_only_the_job_decides() -> None:
    message = mail.build_message(a_job(), CONFIG)
    assert message["From"] == "Blog <blog@example.org>"
    assert message["To"] == "ann@example.com"
    assert message["Subject"] == "Greetings"
    assert message["Message-ID"] == "<job-7.20261202150000123456@example.org>"
    assert message["Date"] == "Wed, 02 Dec 2026 15:00:00 +0000"
    assert message.get_content() == "Hello, Ann.\nSee you.\n"
    assert bytes(mail.build_message(a_job(), CONFIG)) == bytes(message)
    assert mail.build_message(a_job(8), CONFIG)["Message-ID"] != message["Message-ID"]


def test_without_an_smtp_url_mail_becomes_a_readable_eml_file(tmp_path: Path) -> None:
    config = {**CONFIG, "INSTANCE_PATH": str(tmp_path / "instance")}
    mail.send_mail(a_job(body="Grüße aus Berlin"), config)
    mail.send_mail(a_job(body="Grüße aus Berlin"), config)  # run again: the same file
    [path] = (tmp_path / "instance" / "mail").iterdir()
    assert path.name == "job-7.20261202150000123456@example.org.eml"
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["Subject"] == "Greetings"
    assert message.get_content() == "Grüße aus Berlin\n"


def test_smtp_delivers_to_the_server_in_the_url(smtp_server: SMTPServer) -> None:
    mail.send_mail(a_job(), {**CONFIG, "SMTP_URL": smtp_server.url})
    [message] = smtp_server.wait_for(1)
    assert message["Message-ID"] == "<job-7.20261202150000123456@example.org>"
    assert message.get_content() == "Hello, Ann.\nSee you.\n"


def test_an_unreachable_smtp_server_raises_so_the_job_is_retried() -> None:
    from tests.blog_api.mailbox import free_port

    with pytest.raises(OSError):
        mail.send_mail(a_job(), {**CONFIG, "SMTP_URL": f"smtp://127.0.0.1:{free_port()}"})


def test_the_start_up_log_says_where_mail_goes_without_the_password(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="blog_api")
    url = "smtp://mailer:s3cret@mail.example.org:587"
    app = create_app("miniflask", make_config(tmp_path, SMTP_URL=url, SMTP_STARTTLS=True))
    app.extensions["blog_db"].engine.dispose()
    app = create_app("flask", make_config(tmp_path))
    app.extensions["blog_db"].engine.dispose()
    lines = [record.getMessage() for record in caplog.records if record.name == "blog_api"]
    assert lines[0].startswith("mail: SMTP to mail.example.org:587 with STARTTLS;")
    assert "s3cret" not in lines[0]
    expected = f"mail: no BLOG_SMTP_URL, writing .eml files to {tmp_path / 'instance' / 'mail'}"
    assert lines[1].startswith(expected)
    assert lines[1].endswith("job dispatcher: off in this process (run `jobs run`)")
