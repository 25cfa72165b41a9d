"""A server-side cache for hot anonymous reads, invalidated on every write.

Framework-neutral. Anonymous GETs of public data (published posts, lists,
tags) are the same for everyone, so their rendered JSON can be reused. Rather
than tracking which entries a write affects, every key includes a
*generation* number and a successful write bumps it: all older entries become
unreachable at once and expire by TTL. Coarse, but never stale, and one
counter works the same in-process and in Redis.

``MemoryCache`` serves one process (the default). ``RedisCache`` is shared by
all gunicorn workers and hosts (``BLOG_REDIS_URL``), which is necessary as soon
as there is more than one worker: an in-process cache in worker A does not see
a write handled by worker B until its TTL runs out.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class CachedResponse:
    """What is kept of a response: enough to rebuild it and answer If-None-Match."""

    body: bytes
    etag: str
    cache_control: str
    link: str | None = None

    def dumps(self) -> bytes:
        """Serialise for Redis."""
        header = json.dumps(
            {"etag": self.etag, "cache_control": self.cache_control, "link": self.link}
        )
        return header.encode() + b"\n" + self.body

    @classmethod
    def loads(cls, raw: bytes) -> CachedResponse:
        """Inverse of ``dumps``."""
        header, _, body = raw.partition(b"\n")
        meta = json.loads(header)
        return cls(body, meta["etag"], meta["cache_control"], meta["link"])


class ResponseCache(Protocol):
    """What the web layer needs from a cache backend."""

    def get(self, key: str) -> CachedResponse | None:
        """The entry for ``key`` in the current generation, if any."""

    def set(self, key: str, value: CachedResponse) -> None:
        """Store ``value`` under ``key`` in the current generation."""

    def invalidate(self) -> None:
        """Start a new generation: every existing entry becomes unreachable."""


class MemoryCache:
    """An in-process, thread-safe LRU cache with a TTL per entry."""

    def __init__(self, ttl: float = 60, max_entries: int = 2048) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, CachedResponse]] = OrderedDict()
        self._generation = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> CachedResponse | None:
        """See ``ResponseCache.get``."""
        with self._lock:
            entry = self._entries.get(self._key(key))
            if entry is None:
                return None
            expires, value = entry
            if expires < time.monotonic():
                del self._entries[self._key(key)]
                return None
            self._entries.move_to_end(self._key(key))
            return value

    def set(self, key: str, value: CachedResponse) -> None:
        """See ``ResponseCache.set``."""
        with self._lock:
            self._entries[self._key(key)] = (time.monotonic() + self.ttl, value)
            self._entries.move_to_end(self._key(key))
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def invalidate(self) -> None:
        """See ``ResponseCache.invalidate``; old entries are dropped at once here."""
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def _key(self, key: str) -> str:
        return f"{self._generation}:{key}"


class RedisCache:
    """A cache shared through Redis: ``INCR`` on a generation key invalidates.

    Args:
        client: a ``redis.Redis`` client.
        prefix: namespace for keys (tests use a unique one per test).
        ttl: seconds an entry lives.
    """

    def __init__(self, client: Any, prefix: str = "blog:", ttl: int = 60) -> None:
        self.client = client
        self.prefix = prefix
        self.ttl = ttl

    def get(self, key: str) -> CachedResponse | None:
        """See ``ResponseCache.get``."""
        raw = self.client.get(self._key(key))
        return None if raw is None else CachedResponse.loads(raw)

    def set(self, key: str, value: CachedResponse) -> None:
        """See ``ResponseCache.set``."""
        self.client.set(self._key(key), value.dumps(), ex=self.ttl)

    def invalidate(self) -> None:
        """See ``ResponseCache.invalidate``."""
        self.client.incr(self.prefix + "cache:generation")

    def _key(self, key: str) -> str:
        # PERF: one extra round trip per lookup for the generation; a write in
        # another worker must be seen at once, so it cannot be cached locally.
        generation = self.client.get(self.prefix + "cache:generation") or b"0"
        return f"{self.prefix}cache:{generation.decode()}:{key}"


def make_cache(config: Any, redis_client: Any | None) -> ResponseCache:
    """Pick the backend: Redis when a client is configured, else in-process."""
    if redis_client is not None:
        return RedisCache(redis_client, config["REDIS_PREFIX"], int(config["CACHE_TTL"]))
    return MemoryCache(float(config["CACHE_TTL"]), int(config["CACHE_MAX_ENTRIES"]))
