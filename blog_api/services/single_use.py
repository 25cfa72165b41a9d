"""Finding and spending a mailed single-use link (a password reset, an e-mail confirmation).

Both kinds are rows with ``id``, ``user_id``, ``token_hash``, ``expires_at``
and ``used_at``, found by the SHA-256 of the token a mail carried; finding a
usable one is the same query, and spending it the same two UPDATEs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from blog_api.errors import BadRequest
from blog_api.tokens import hash_refresh_token


def find_usable(session: Session, model: Any, raw: str, now: datetime, invalid: str) -> Any:
    """The row of ``model`` for token ``raw``, if it is neither used nor expired at ``now``.

    Raises:
        BadRequest: with ``invalid``, one message for unknown, used and
            expired alike: which one it is helps only an attacker.
    """
    query = select(model).where(model.token_hash == hash_refresh_token(raw))
    link = session.scalars(query).first()
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise BadRequest(invalid)
    return link


def spend(session: Session, model: Any, link: Any, now: datetime, invalid: str) -> None:
    """Mark ``link`` (a row of ``model``) used, and every other unused link of its account.

    The first UPDATE's row count says whether this request spent the token:
    two requests that both read it unused cannot both succeed, because the
    database applies the second UPDATE's ``used_at IS NULL`` to the row as
    the first left it (PostgreSQL re-checks it after waiting for the row;
    SQLite runs writers one at a time). The second UPDATE retires the
    account's older links, so only the newest mail ever worked.

    Raises:
        BadRequest: with ``invalid``: another request spent the token in the meantime.
    """
    unused = model.used_at.is_(None)
    spent = session.execute(update(model).where(model.id == link.id, unused).values(used_at=now))
    # Session.execute is typed as returning a Result; for an UPDATE it is a
    # CursorResult, which has rowcount. Connection.execute is typed so, but it
    # would skip the ORM's update of ``link`` in this session (synchronize_session).
    if spent.rowcount != 1:  # type: ignore[attr-defined]  # see above: a CursorResult
        raise BadRequest(invalid)
    session.execute(update(model).where(model.user_id == link.user_id, unused).values(used_at=now))
