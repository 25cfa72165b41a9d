"""Outgoing mail: messages built with the standard library, sent by the ``mail`` job.

Framework-neutral. Nothing here runs in a request: a view calls
:func:`enqueue_mail`, which adds a ``mail`` job to the request's transaction
(``blog_api/jobs.py``), and a dispatcher later runs :func:`send_mail`, which
builds an ``email.message.EmailMessage`` and hands it to one of two transports:

* **SMTP**, when ``BLOG_SMTP_URL`` is set: ``smtp://[user:password@]host[:port]``
  (port 25 by default), with ``BLOG_SMTP_STARTTLS=1`` to upgrade the
  connection with STARTTLS before logging in.
* **.eml files** under ``INSTANCE_PATH/mail/`` otherwise: one readable file
  per message, which any mail client opens, so ``make run`` shows the mail a
  deployment would send without any server.

Delivery is at least once (a dispatcher killed after the SMTP server accepted
a message sends it again), so every message's ``Message-ID`` is derived from
its job: the job's id and creation time, which never change. A second copy is
then the *same* message to the receiving side, and the .eml transport simply
writes the same file again.
"""

from __future__ import annotations

import logging
import os
import smtplib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy.orm import Session

from blog_api import jobs

log = logging.getLogger(__name__)

#: Seconds an SMTP conversation may stall; keep it well under ``JOBS_LEASE``,
#: or a slow server would let another dispatcher send the same mail meanwhile.
SMTP_TIMEOUT = 20


@dataclass(frozen=True)
class MailedLink:
    """A single-use link to mail: how long it works and where it leads.

    The services that mail links (reset, confirmation) are framework-neutral,
    so they cannot call ``url_for``; the web layer hands them this, whose
    ``page`` turns the link's token into the absolute URL of the reader-site
    page that spends it (``auth.mailed_link`` builds it with
    ``url_for(..., _external=True)``).

    Example::

        link = MailedLink(3600, lambda token: f"https://blog.example/reset-password?token={token}")
        link.url("abc")   # 'https://blog.example/reset-password?token=abc'
    """

    ttl: int
    page: Callable[[str], str]

    def url(self, token: str) -> str:
        """The absolute URL that carries ``token``."""
        return self.page(token)


def enqueue_mail(session: Session, to: str, subject: str, body: str) -> None:
    """Queue a plain-text mail in the caller's transaction (sent after it commits)."""
    jobs.enqueue(session, "mail", {"to": to, "subject": subject, "body": body})


@jobs.job("mail")
def send_mail(job: jobs.Job, config: Mapping[str, Any]) -> None:
    """The ``mail`` job: build the message and send it with the configured transport.

    Raises:
        OSError, smtplib.SMTPException: the transport failed; the job is retried.
    """
    message = build_message(job, config)
    if config.get("SMTP_URL"):
        send_smtp(message, config["SMTP_URL"], starttls=bool(config.get("SMTP_STARTTLS")))
    else:
        write_eml(message, mail_directory(config))


def build_message(job: jobs.Job, config: Mapping[str, Any]) -> EmailMessage:
    """The ``EmailMessage`` of a mail job: From, To, Subject, Date, Message-ID, text body."""
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = job.payload["to"]
    # One line: a subject built from user input (a post's title) may hold line
    # breaks, which the email package refuses in a header (header injection).
    message["Subject"] = " ".join(job.payload["subject"].split())
    message["Date"] = formatdate(job.created_at.timestamp(), usegmt=True)
    message["Message-ID"] = message_id(job, config["MAIL_FROM"])
    message.set_content(job.payload["body"])
    return message


def message_id(job: jobs.Job, sender: str) -> str:
    """A ``Message-ID`` (RFC 5322 §3.6.4) that is the same each time ``job`` runs.

    The creation time is part of it so that a database started afresh, whose
    job ids begin at 1 again, does not reuse the ids of mail already sent.
    """
    domain = sender.rpartition("@")[2].strip("> ") or "localhost"
    return f"<job-{job.id}.{job.created_at:%Y%m%d%H%M%S%f}@{domain}>"


def send_smtp(message: EmailMessage, url: str, starttls: bool = False) -> None:
    """Hand ``message`` to the SMTP server at ``url`` (``smtp://[user:pass@]host[:port]``)."""
    parts = urlsplit(url)
    host, port = parts.hostname or "localhost", parts.port or 25
    with smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT) as smtp:
        if starttls:
            smtp.starttls()
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(message)


def write_eml(message: EmailMessage, directory: Path) -> Path:
    """Write ``message`` to ``directory/<message id>.eml``; a second copy replaces the first.

    Written to a temporary name and renamed, so a reader never sees half a file.
    """
    directory.mkdir(parents=True, exist_ok=True)
    name = message["Message-ID"].strip("<>").replace("/", "_")
    path = directory / f"{name}.eml"
    partial = directory / f".{name}.{os.getpid()}.tmp"
    partial.write_bytes(bytes(message))
    partial.replace(path)
    return path


def mail_directory(config: Mapping[str, Any]) -> Path:
    """Where the .eml transport writes: ``INSTANCE_PATH/mail``."""
    return Path(config["INSTANCE_PATH"]) / "mail"


def describe_transport(config: Mapping[str, Any]) -> str:
    """One line for the start-up log: where mail goes (the URL without its password)."""
    url = config.get("SMTP_URL")
    if not url:
        return f"mail: no BLOG_SMTP_URL, writing .eml files to {mail_directory(config).resolve()}"
    parts = urlsplit(url)
    tls = " with STARTTLS" if config.get("SMTP_STARTTLS") else ""
    return f"mail: SMTP to {parts.hostname}:{parts.port or 25}{tls}"
