"""Rate limiting of failed logins, counted where every worker and host sees it.

Framework-neutral. Three counters are kept for each attempt, each in a fixed
window of ``LOGIN_FAILURE_WINDOW`` seconds that the first failure opens; when
any of them is at its limit, the attempt is refused with 429 and
``Retry-After`` before the password is checked:

* **client and username** (``LOGIN_MAX_FAILURES``, 5): someone guessing one
  account from one address. A successful login clears it.
* **client** (``LOGIN_CLIENT_MAX_FAILURES``, 10): one address trying a
  password against many usernames ("password spraying"), which the pair
  counter never sees twice. Success does not clear it (an attacker could log
  in to an account of their own to do so); it only gives back its own count.
* **account** (``LOGIN_ACCOUNT_MAX_FAILURES``, 20): many addresses guessing one
  account. Success gives back its own count here too.

A limit of 0 turns its counter off. The account counter is the one an
attacker can turn against a user: failing 20 times (from at least four
addresses, since each is held to 5 on that account) refuses the real owner
too. We keep that lock short rather than long: it ends with the window, at
most five minutes after the attack stops, and while it lasts an attacker
gets 20 guesses per window at most. ``docs/blog_api.md`` says more.

**Counted before the check, not after.** An attempt *reserves* one failure in
every counter, atomically and only if all of them are below their limits,
and a success gives it back. Counting after the password check would let
concurrent attempts all pass the check at once (one per worker thread); a
reservation cannot be shared, so the first 429 comes after exactly the
configured number of attempts however many workers serve them.

``DatabaseRateLimiter`` (the default) keeps the counters in the
``login_failures`` table, which every worker and host already shares; each
reservation is an ``INSERT ... ON CONFLICT DO UPDATE ... WHERE failures <
limit RETURNING`` per counter, in one transaction. ``RedisRateLimiter``
(``BLOG_REDIS_URL``) does the same in one Lua script.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, case, delete, or_, select, update

from blog_api.db import upsert
from blog_api.errors import TooManyRequests
from blog_api.models import LoginFailure


@dataclass(frozen=True)
class LoginLimits:
    """How many failures each counter allows per window (0 switches one off)."""

    per_client_and_username: int = 5
    per_client: int = 10
    per_account: int = 20
    window: int = 300

    @classmethod
    def from_config(cls, config: Any) -> LoginLimits:
        """The limits in the app's config (``BLOG_LOGIN_*``)."""
        return cls(
            int(config["LOGIN_MAX_FAILURES"]),
            int(config["LOGIN_CLIENT_MAX_FAILURES"]),
            int(config["LOGIN_ACCOUNT_MAX_FAILURES"]),
            int(config["LOGIN_FAILURE_WINDOW"]),
        )

    def counters(self, client: str, username: str) -> list[FailureCounter]:
        """The counters one attempt reserves in, sorted by key.

        Always the same order, so two transactions that reserve in the same
        counters lock their rows in the same order and cannot deadlock.
        """
        name = username.lower()
        counters = [
            FailureCounter(f"pair:{client}|{name}", self.per_client_and_username, clears=True),
            FailureCounter(f"client:{client}", self.per_client),
            FailureCounter(f"account:{name}", self.per_account),
        ]
        return sorted((c for c in counters if c.limit > 0), key=lambda c: c.key)


@dataclass(frozen=True)
class FailureCounter:
    """One failure counter: its key, its limit, and whether a success empties it."""

    key: str
    limit: int
    clears: bool = False

    @property
    def digest(self) -> str:
        """The database key: the SHA-256 of ``key`` (fixed length, no address stored)."""
        return hashlib.sha256(self.key.encode()).hexdigest()


@dataclass(frozen=True)
class Attempt:
    """The counters a login attempt reserved a failure in; a success gives it back.

    ``windows`` maps each counter's key to the end of the window the
    reservation was made in (database backend), so a late success cannot give
    back a count of a later window.
    """

    counters: list[FailureCounter]
    windows: dict[str, float] = field(default_factory=dict)


class RateLimiter(Protocol):
    """What the auth views need."""

    def attempt(self, client: str, username: str) -> Attempt:
        """Reserve one failure in every counter; ``TooManyRequests`` if one is full."""

    def succeeded(self, attempt: Attempt) -> None:
        """The password was right: give the reservation back (and clear the pair)."""


def refusal(retry_after: float) -> TooManyRequests:
    """The 429 for a full counter, with ``Retry-After`` rounded up to whole seconds."""
    return TooManyRequests(
        "Too many failed login attempts; try again later", retry_after=int(retry_after + 0.999)
    )


class DatabaseRateLimiter:
    """Counters in the ``login_failures`` table (SQLite or PostgreSQL).

    Args:
        engine: the app's engine; counting uses transactions of its own, so a
            failed login (whose request is rolled back) still counts. Call it
            while the request's session has written nothing: on SQLite that
            session would hold the write lock the counter needs, and the two
            would wait on each other until ``busy_timeout``.
        limits: the limits and the window.
        clock: Unix time; every host's clock must agree (NTP), since a window's
            end is stored as a time.
    """

    def __init__(
        self, engine: Engine, limits: LoginLimits, clock: Callable[[], float] = time.time
    ) -> None:
        self.engine = engine
        self.limits = limits
        self.clock = clock
        self._next_sweep = 0.0
        self._sweep_lock = threading.Lock()

    def attempt(self, client: str, username: str) -> Attempt:
        """See ``RateLimiter.attempt``."""
        now = self.clock()
        self._sweep(now)
        attempt = Attempt(self.limits.counters(client, username))
        # One transaction: if a later counter is full, leaving the block by
        # the exception rolls back the reservations already made in the others.
        with self.engine.begin() as connection:
            for counter in attempt.counters:
                window_ends = self._reserve(connection, counter, now)
                if window_ends is None:
                    raise refusal(self._window_ends(connection, counter) - now)
                attempt.windows[counter.key] = window_ends
        return attempt

    def _reserve(self, connection: Connection, counter: FailureCounter, now: float) -> float | None:
        """Count one failure unless the counter is full; the window's end, or ``None``.

        The row is created on the first failure, and an expired window starts
        again from 1; ``WHERE`` leaves a full counter unchanged, and then
        ``RETURNING`` returns no row.
        """
        row = LoginFailure
        expired = row.window_ends <= now
        statement = (
            upsert(self.engine)(row)
            .values(key=counter.digest, failures=1, window_ends=now + self.limits.window)
            .on_conflict_do_update(
                index_elements=[row.key],
                set_={
                    "failures": case((expired, 1), else_=row.failures + 1),
                    "window_ends": case((expired, now + self.limits.window), else_=row.window_ends),
                },
                where=or_(expired, row.failures < counter.limit),
            )
            .returning(row.window_ends)
        )
        window_ends = connection.execute(statement).scalar()
        return None if window_ends is None else float(window_ends)

    def _window_ends(self, connection: Connection, counter: FailureCounter) -> float:
        """When a full counter's window ends (for ``Retry-After``)."""
        statement = select(LoginFailure.window_ends).where(LoginFailure.key == counter.digest)
        return float(connection.execute(statement).scalar_one())

    def succeeded(self, attempt: Attempt) -> None:
        """See ``RateLimiter.succeeded``."""
        row = LoginFailure
        with self.engine.begin() as connection:
            for counter in attempt.counters:
                if counter.clears:
                    connection.execute(delete(row).where(row.key == counter.digest))
                    continue
                connection.execute(
                    update(row)
                    .where(
                        row.key == counter.digest,
                        row.window_ends == attempt.windows[counter.key],
                        row.failures > 0,
                    )
                    .values(failures=row.failures - 1)
                )

    def _sweep(self, now: float) -> None:
        """Delete expired counters, at most once per window in each process.

        Rows are reused when their key fails again, but keys that never
        return (one-off addresses, mistyped usernames) would pile up.
        ``SKIP LOCKED`` (PostgreSQL; SQLite has no row locks and ignores it)
        leaves rows that a reservation is updating right now alone, so the
        sweep never waits for one and cannot deadlock with it.
        """
        with self._sweep_lock:
            if now < self._next_sweep:
                return
            self._next_sweep = now + self.limits.window
        row = LoginFailure
        expired = select(row.key).where(row.window_ends <= now).with_for_update(skip_locked=True)
        with self.engine.begin() as connection:
            connection.execute(delete(row).where(row.key.in_(expired)))


#: Reserve one failure in every counter (KEYS) if none is at its limit
#: (ARGV[2...], in KEYS order); ARGV[1] is the window. Returns {0, 0}, or
#: {1, seconds left} for the first full counter. Redis runs a script without
#: interleaving anything else: the check and the increments are one step.
_RESERVE = """
for i, key in ipairs(KEYS) do
    if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[i + 1]) then
        return {1, redis.call('TTL', key)}
    end
end
for _, key in ipairs(KEYS) do
    if redis.call('INCR', key) == 1 then
        redis.call('EXPIRE', key, ARGV[1])
    end
end
return {0, 0}
"""

#: Give a success's reservation back: delete the first ARGV[1] KEYS (the
#: counters a success clears), decrement the others that still count.
_GIVE_BACK = """
for i, key in ipairs(KEYS) do
    if i <= tonumber(ARGV[1]) then
        redis.call('DEL', key)
    elseif tonumber(redis.call('GET', key) or '0') > 0 then
        redis.call('DECR', key)
    end
end
return 0
"""


class RedisRateLimiter:
    """The same counters in Redis; a key's TTL is its window.

    Unlike the database's rows, a key does not record which window it counts,
    so a success whose password check outlived its window gives its count
    back to the next window: one failure too few, at most once per success.
    """

    def __init__(self, client: Any, limits: LoginLimits, prefix: str = "blog:") -> None:
        self.client = client
        self.limits = limits
        self.prefix = prefix
        self._reserve = client.register_script(_RESERVE)
        self._give_back = client.register_script(_GIVE_BACK)

    def attempt(self, client: str, username: str) -> Attempt:
        """See ``RateLimiter.attempt``."""
        attempt = Attempt(self.limits.counters(client, username))
        keys = [self._key(counter) for counter in attempt.counters]
        limits = [counter.limit for counter in attempt.counters]
        refused, seconds_left = self._reserve(keys=keys, args=[self.limits.window, *limits])
        if refused:
            raise refusal(seconds_left if seconds_left > 0 else self.limits.window)
        return attempt

    def succeeded(self, attempt: Attempt) -> None:
        """See ``RateLimiter.succeeded``."""
        cleared = [c for c in attempt.counters if c.clears]
        kept = [c for c in attempt.counters if not c.clears]
        keys = [self._key(counter) for counter in [*cleared, *kept]]
        self._give_back(keys=keys, args=[len(cleared)])

    def _key(self, counter: FailureCounter) -> str:
        return f"{self.prefix}login-failures:{counter.key}"


def make_rate_limiter(config: Any, redis_client: Any | None, engine: Engine) -> RateLimiter:
    """Pick the backend: Redis when a client is configured, else the database."""
    limits = LoginLimits.from_config(config)
    if redis_client is not None:
        return RedisRateLimiter(redis_client, limits, config["REDIS_PREFIX"])
    return DatabaseRateLimiter(engine, limits)
