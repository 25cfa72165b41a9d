"""Who a request acts for: the signed-in user as the checks see them (``g.user``).

The API's checks read four things of the signed-in user: the id (whose
drafts, who wrote it), the username (the author of a new post), whether they
are an admin, and whether their address is confirmed. :class:`Principal` is
that shape; services take a ``Principal`` wherever they only check or name
the caller.

Two kinds of object have it:

* :class:`TokenUser`, what the Bearer token check reads
  (``tokens.authenticate_access_token``): those columns only, by one Core
  SELECT, as plain data. An API request that only reads builds no ORM
  session at all, nor does a post's write; other writes build one.
  PERF: the plain version loads a ``User`` entity in an ORM session for
  every signed-in request: 195 against 73 us for the session, the SELECT
  and their clean-up on SQLite.
* a ``models.User`` entity, which the reader site's cookie log-in loads
  (``site_sessions.login_user``) and which a view that changes the user
  themself (their profile, password or confirmation mail), or makes them the
  author of a comment, loads with ``Web.require_account``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class Principal(Protocol):
    """What a check may read of the caller (read-only)."""

    @property
    def id(self) -> int: ...

    @property
    def username(self) -> str: ...

    @property
    def is_admin(self) -> bool: ...

    @property
    def email_confirmed_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class TokenUser:
    """The user an access token speaks for, as their row was when the token was checked."""

    id: int
    username: str
    is_admin: bool
    email_confirmed_at: datetime | None
