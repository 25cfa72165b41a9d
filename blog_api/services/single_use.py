"""Spending a mailed single-use link (a password reset, an e-mail confirmation).

Both kinds are rows with ``id``, ``user_id`` and ``used_at``, found by the
SHA-256 of the token a mail carried; spending one is the same two UPDATEs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from blog_api.errors import BadRequest


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
    if spent.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult: DML has rowcount
        raise BadRequest(invalid)
    session.execute(update(model).where(model.user_id == link.user_id, unused).values(used_at=now))
