"""Confirming an e-mail address: a single-use, expiring link mailed at registration.

Framework-neutral. :func:`start` writes an ``email_confirmations`` row and the
``mail`` job that carries its token into the caller's transaction (the
registration's, or the change of address's), so the link is mailed if and only
if the account (or the new address) was stored. Only the token's SHA-256 is
kept, as for refresh tokens and reset links.

:func:`confirm` spends a token and sets ``users.email_confirmed_at``. What an
unconfirmed account may do is a setting: ``BLOG_REQUIRE_CONFIRMED_EMAIL`` off
(the default) allows everything; on, :func:`ensure_may_publish` refuses
publishing and commenting with 403 until the address is confirmed.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy.orm import Session

from blog_api.errors import BadRequest, Forbidden
from blog_api.mail import MailedLink, enqueue_mail
from blog_api.models import EmailConfirmation, User, utcnow
from blog_api.principal import Principal
from blog_api.services import single_use
from blog_api.tokens import hash_refresh_token

SUBJECT = "Confirm your e-mail address"
BODY = """Hello {username},

Please confirm that this address belongs to your blog account: open this link
within {hours} hours and press the button; it works once:

    {link}

If you did not create an account, ignore this mail.

(For API clients: POST /api/v1/auth/confirm-email with {{"token": "{token}"}})
"""
INVALID = "The confirmation token is unknown, used or expired; ask for a new one"


class EmailNotConfirmed(Forbidden):
    """403: the deployment requires a confirmed address for this, and the user has none."""

    code = "email_not_confirmed"


def start(session: Session, user: User, link: MailedLink) -> None:
    """Store a link for ``user``'s current address and queue its mail; the caller commits.

    The mail carries ``link.url(token)``, the reader site's confirmation
    page, and the token itself for API clients.

    ``user`` may be new (not yet flushed): the row refers to it through its
    relationship, and the unit of work inserts the user first.
    """
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        EmailConfirmation(
            token_hash=hash_refresh_token(raw),
            user=user,
            email=user.email,
            created_at=now,
            expires_at=now + timedelta(seconds=link.ttl),
        )
    )
    hours = max(link.ttl // 3600, 1)
    body = BODY.format(username=user.username, token=raw, link=link.url(raw), hours=hours)
    enqueue_mail(session, user.email, SUBJECT, body)


def confirm(session: Session, raw: str) -> User:
    """Confirm the address a token was mailed to; the caller commits.

    Raises:
        BadRequest: the token is unknown, used or expired, or the account's
            address changed since it was mailed (one message for all).
    """
    now = utcnow()
    link = single_use.find_usable(session, EmailConfirmation, raw, now, INVALID)
    user = session.get(User, link.user_id)
    if user is None or user.email != link.email:
        raise BadRequest(INVALID)
    single_use.spend(session, EmailConfirmation, link, now, INVALID)
    user.email_confirmed_at = now
    return user


def ensure_may_publish(user: Principal, required: bool) -> None:
    """Refuse publishing or commenting by an unconfirmed user, when the deployment requires it.

    Administrators are exempt: they are made by hand (``seed``, the
    database), not by registering, and must be able to act on a deployment
    that switches the requirement on.

    Raises:
        EmailNotConfirmed: ``required`` is on and ``user`` has not confirmed.
    """
    if required and user.email_confirmed_at is None and not user.is_admin:
        raise EmailNotConfirmed(
            "Confirm your e-mail address first (the link is in the mail we sent; "
            "POST /api/v1/auth/confirm-email/resend sends a new one)"
        )
