"""Rate limiting of failed logins, per client address and username.

Framework-neutral. A fixed window: the first failure opens a window of
``window`` seconds; after ``max_failures`` failures in it, further attempts
for that (client, username) are refused with 429 and ``Retry-After`` until the
window ends. A successful login clears the count. Keying on the pair (not
just the username) stops an attacker from locking a victim out from elsewhere,
and keying on the pair (not just the address) stops one address from being
blocked for every account after a few typos.

``MemoryRateLimiter`` is per process; ``RedisRateLimiter`` shares counts across
workers and hosts (``INCR`` + ``EXPIRE``), which is needed under gunicorn or an
attacker simply gets ``max_failures`` tries per worker.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

from blog_api.errors import TooManyRequests


class RateLimiter(Protocol):
    """What the auth views need."""

    def check(self, client: str, username: str) -> None:
        """Raise ``TooManyRequests`` if this pair is locked out."""

    def record_failure(self, client: str, username: str) -> None:
        """Count one failed attempt."""

    def reset(self, client: str, username: str) -> None:
        """Forget the failures (after a successful login)."""


def _key(client: str, username: str) -> str:
    return f"{client}|{username.lower()}"


def _refuse(retry_after: float) -> TooManyRequests:
    return TooManyRequests(
        "Too many failed login attempts; try again later", retry_after=int(retry_after + 0.999)
    )


class MemoryRateLimiter:
    """In-process counters: ``{key: (failures, window_end)}``."""

    def __init__(self, max_failures: int = 5, window: float = 300) -> None:
        self.max_failures = max_failures
        self.window = window
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str, username: str) -> None:
        """See ``RateLimiter.check``."""
        with self._lock:
            count, window_end = self._failures.get(_key(client, username), (0, 0.0))
            remaining = window_end - time.monotonic()
        if count >= self.max_failures and remaining > 0:
            raise _refuse(remaining)

    def record_failure(self, client: str, username: str) -> None:
        """See ``RateLimiter.record_failure``."""
        now = time.monotonic()
        with self._lock:
            self._forget_expired(now)
            count, window_end = self._failures.get(_key(client, username), (0, 0.0))
            if window_end <= now:
                count, window_end = 0, now + self.window
            self._failures[_key(client, username)] = (count + 1, window_end)

    def reset(self, client: str, username: str) -> None:
        """See ``RateLimiter.reset``."""
        with self._lock:
            self._failures.pop(_key(client, username), None)

    def _forget_expired(self, now: float) -> None:
        """Keep memory bounded: drop closed windows (called with the lock held)."""
        if len(self._failures) > 10_000:
            expired = [key for key, (_, end) in self._failures.items() if end <= now]
            for key in expired:
                del self._failures[key]


class RedisRateLimiter:
    """Shared counters in Redis; the key's TTL is the window."""

    def __init__(
        self, client: Any, prefix: str = "blog:", max_failures: int = 5, window: int = 300
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.max_failures = max_failures
        self.window = window

    def check(self, client: str, username: str) -> None:
        """See ``RateLimiter.check``."""
        key = self._key(client, username)
        count = int(self.client.get(key) or 0)
        if count >= self.max_failures:
            ttl = self.client.ttl(key)
            raise _refuse(ttl if ttl and ttl > 0 else self.window)

    def record_failure(self, client: str, username: str) -> None:
        """See ``RateLimiter.record_failure``."""
        key = self._key(client, username)
        pipe = self.client.pipeline()
        pipe.incr(key)
        # NX: only the first failure sets the expiry, so the window is fixed.
        pipe.expire(key, self.window, nx=True)
        pipe.execute()

    def reset(self, client: str, username: str) -> None:
        """See ``RateLimiter.reset``."""
        self.client.delete(self._key(client, username))

    def _key(self, client: str, username: str) -> str:
        return f"{self.prefix}login-failures:{_key(client, username)}"


def make_rate_limiter(config: Any, redis_client: Any | None) -> RateLimiter:
    """Pick the backend: Redis when a client is configured, else in-process."""
    max_failures = int(config["LOGIN_MAX_FAILURES"])
    window = int(config["LOGIN_FAILURE_WINDOW"])
    if redis_client is not None:
        return RedisRateLimiter(redis_client, config["REDIS_PREFIX"], max_failures, window)
    return MemoryRateLimiter(max_failures, window)
