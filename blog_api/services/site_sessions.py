"""Reader-site logins kept on the server: start one, find its user, end it.

Framework-neutral. The reader site keeps its login in Flask's signed-cookie
session, and a signed cookie cannot be taken back: clearing it at log out
only replaces the browser's copy, and a copy taken earlier (a stolen cookie,
a shared computer's saved request) would stay valid for as long as its
signature does (``PERMANENT_SESSION_LIFETIME``, 31 days by default).

So the cookie carries a random token naming a ``SiteSession`` row, and the
login is only as alive as that row. Why a row per login rather than one
"session version" number per user that log out increments:

* logging out on one browser ends that login only, not the user's others;
* it is a table of its own rather than a column on ``users``, so adding
  it changed no existing row (it is part of migration ``0001_initial``);
* the state is in the database, so every gunicorn worker (and every host)
  sees a log out at once.

Only the token's SHA-256 is stored, as for refresh tokens: someone who can
read the table cannot replay a login from it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from blog_api.models import SiteSession, User, utcnow


def start_login(session: Session, user: User, lifetime: timedelta) -> str:
    """Record a new login for ``user`` and return the token for the cookie.

    Expired rows are removed on the way, so the table holds live logins only
    (a log in is rare enough to pay for one DELETE). Commits.

    Args:
        lifetime: how long the login may last without a log out; the site
            passes the session cookie's own lifetime.
    """
    now = utcnow()
    session.execute(delete(SiteSession).where(SiteSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    session.add(
        SiteSession(
            token_hash=_hash(token), user_id=user.id, created_at=now, expires_at=now + lifetime
        )
    )
    session.commit()
    return token


def login_user(session: Session, token: object) -> User | None:
    """The user of a live login, or ``None`` (unknown, logged out or expired).

    One query, joining the user, so a logged-in page costs no more than
    loading the user by id did.
    """
    if not isinstance(token, str) or not token:
        return None
    query = (
        select(User)
        .join(SiteSession, SiteSession.user_id == User.id)
        .where(SiteSession.token_hash == _hash(token), SiteSession.expires_at > utcnow())
    )
    return session.scalars(query).first()


def end_login(session: Session, token: object) -> None:
    """Forget a login, so the cookie that carries ``token`` logs in no one. Commits."""
    if isinstance(token, str) and token:
        session.execute(delete(SiteSession).where(SiteSession.token_hash == _hash(token)))
        session.commit()


def end_all_logins(session: Session, user: User) -> None:
    """Forget every login of ``user`` (a password change). The caller commits."""
    session.execute(delete(SiteSession).where(SiteSession.user_id == user.id))


def _hash(token: str) -> str:
    """SHA-256 hex digest: the tokens are long and random, so no salt is needed."""
    return hashlib.sha256(token.encode()).hexdigest()
