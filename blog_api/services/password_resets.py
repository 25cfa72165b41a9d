""" "Forgot password": single-use, expiring reset links sent by mail.

Framework-neutral. :func:`request_reset` writes a ``password_resets`` row and
the ``mail`` job that carries its token in one transaction (the caller's), so
a link is mailed if and only if it was stored. Only the SHA-256 of the random
token is stored, as for refresh tokens (``blog_api/tokens.py``): the table
alone cannot reset anyone's password.

:func:`confirm_reset` spends a token: the new password goes through
``services.users.set_password`` (the password policy, and every token and
site login of the account revoked), and every other outstanding link of the
account is spent with it.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from blog_api.errors import BadRequest
from blog_api.mail import MailedLink, enqueue_mail
from blog_api.models import PasswordReset, User, utcnow
from blog_api.services import single_use
from blog_api.services.users import set_password
from blog_api.tokens import hash_refresh_token

SUBJECT = "Reset your password"
BODY = """Hello {username},

Someone (we hope you) asked to reset the password of your blog account.
To choose a new password, open this link within {minutes} minutes; it works once:

    {link}

Resetting the password logs you out everywhere. If you did not ask for this,
ignore this mail: your password stays as it is.

(For API clients: POST /api/v1/auth/password-reset/confirm with
{{"token": "{token}", "new_password": "..."}})
"""
INVALID = "The reset token is unknown, used or expired; request a new one"


def request_reset(session: Session, email: str, link: MailedLink) -> bool:
    """Store a reset link for the account of ``email`` and queue its mail; the caller commits.

    The mail carries ``link.url(token)``, the reader site's page that spends
    the token, and the token itself for API clients.

    Returns:
        Whether the address has an account. The web layer must not tell the
        client (no probing for addresses); tests and logs may.
    """
    user = session.scalars(select(User).where(func.lower(User.email) == email.lower())).first()
    if user is None:
        return False
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        PasswordReset(
            token_hash=hash_refresh_token(raw),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(seconds=link.ttl),
        )
    )
    minutes = max(link.ttl // 60, 1)
    body = BODY.format(username=user.username, token=raw, link=link.url(raw), minutes=minutes)
    enqueue_mail(session, user.email, SUBJECT, body)
    return True


def confirm_reset(session: Session, raw: str, new_password: str, hash_method: str) -> User:
    """Set a new password with a reset token and spend the account's links; the caller commits.

    Raises:
        BadRequest: the token is unknown, already used or expired (one
            message for all three: which one it is helps only an attacker).
        ValidationError: the password breaks the policy; the token stays usable.
    """
    now = utcnow()
    reset = single_use.find_usable(session, PasswordReset, raw, now, INVALID)
    user = session.get(User, reset.user_id)
    if user is None:
        raise BadRequest(INVALID)
    set_password(session, user, new_password, hash_method)
    single_use.spend(session, PasswordReset, reset, now, INVALID)
    return user
