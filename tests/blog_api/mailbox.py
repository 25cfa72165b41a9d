"""Test helpers for mail: a real SMTP server (aiosmtpd) and the tokens inside the mails.

``SMTPServer`` runs aiosmtpd's ``Controller`` (a thread with its own event
loop) on a free port of 127.0.0.1 and keeps every message it accepts, parsed,
with the time it arrived. ``failing`` makes it refuse every message with a
temporary error (451), as a server that is down for maintenance would.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

#: The token line of the reset and confirmation mails (blog_api/services/).
TOKEN = re.compile(r'"token": "([A-Za-z0-9_-]+)"')


class SMTPServer:
    """A running SMTP server that records what it accepts."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.arrivals: list[float] = []
        self.failing = False
        #: Seconds each message takes to be accepted (a slow server, for tests
        #: that kill a sender mid-batch).
        self.delay = 0.0
        self._arrived = threading.Condition()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        """The ``BLOG_SMTP_URL`` of this server."""
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start listening (returns once the server answers)."""
        self._controller.start()

    def stop(self) -> None:
        """Stop listening."""
        self._controller.stop()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """aiosmtpd's hook for a message's content: keep it, or refuse it while failing."""
        if self.failing:
            return "451 4.3.0 try again later"
        if self.delay:
            await asyncio.sleep(self.delay)
        # SMTP carries lines ending in CRLF; the parsed message gets Python's "\n".
        content = envelope.content.replace(b"\r\n", b"\n")
        with self._arrived:
            self.messages.append(message_from_bytes(content, policy=policy.default))
            self.arrivals.append(time.monotonic())
            self._arrived.notify_all()
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Block until ``count`` messages have arrived; return them."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"{len(self.messages)} of {count} messages arrived")
            return list(self.messages)


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def reset_token(message: EmailMessage) -> str:
    """The reset token in a "Reset your password" mail."""
    assert message["Subject"] == "Reset your password", message["Subject"]
    return _token(message)


def confirmation_token(message: EmailMessage) -> str:
    """The token in a "Confirm your e-mail address" mail."""
    assert message["Subject"] == "Confirm your e-mail address", message["Subject"]
    return _token(message)


def _token(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    assert body is not None, "the mail has no text part"
    match = TOKEN.search(body.get_content())
    assert match, "no token in the mail"
    return match.group(1)


def eml_messages(app: Any) -> list[EmailMessage]:
    """Run the app's due jobs, then read the .eml files its mail transport wrote, oldest first."""
    from blog_api import jobs, mail

    jobs.run_due(app.extensions["blog_db"].engine, app.config)
    files = sorted(mail.mail_directory(app.config).glob("*.eml"), key=lambda p: p.stat().st_mtime)
    return [message_from_bytes(path.read_bytes(), policy=policy.default) for path in files]
