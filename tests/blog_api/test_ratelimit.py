"""Failed-login rate limiting per client and username (blog_api/ratelimit.py)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from blog_api.errors import TooManyRequests
from blog_api.ratelimit import MemoryRateLimiter, RedisRateLimiter


@pytest.fixture(params=["memory", "redis"])
def config(request: pytest.FixtureRequest, config: dict[str, Any]) -> dict[str, Any]:
    """Three failures allowed, counted in-process or in Redis."""
    config["LOGIN_MAX_FAILURES"] = 3
    if request.param == "redis":
        config.update(request.getfixturevalue("redis_settings"))
    return config


def login(client: Any, password: str, username: str = "alice", addr: str = "10.0.0.1") -> Any:
    return client.post(
        "/api/v1/auth/login",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": addr},
    )


def test_too_many_failures_give_429_with_retry_after(api: Any, client: Any) -> None:
    api.register("alice")
    for _ in range(3):
        assert login(client, "wrong").status_code == 401
    response = login(client, api.password)
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 300
    assert response.get_json()["code"] == 429


def test_limit_is_per_client_and_username(api: Any, client: Any) -> None:
    api.register("alice")
    api.register("bob")
    for _ in range(3):
        login(client, "wrong")
    assert login(client, api.password).status_code == 429
    assert login(client, api.password, addr="10.0.0.2").status_code == 200
    assert login(client, api.password, username="bob").status_code == 200


def test_success_resets_the_count(api: Any, client: Any) -> None:
    api.register("alice")
    for _ in range(2):
        login(client, "wrong")
    assert login(client, api.password).status_code == 200
    for _ in range(2):
        login(client, "wrong")
    assert login(client, api.password).status_code == 200


def test_memory_limiter_window_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("blog_api.ratelimit.time.monotonic", lambda: clock[0])
    limiter = MemoryRateLimiter(max_failures=2, window=60)
    limiter.record_failure("ip", "Alice")
    limiter.record_failure("ip", "alice")
    with pytest.raises(TooManyRequests) as refused:
        limiter.check("ip", "ALICE")
    assert refused.value.retry_after == 60
    clock[0] += 61
    limiter.check("ip", "alice")


def test_redis_limiter_shares_counts_between_instances(redis_settings: dict[str, str]) -> None:
    import redis

    client = redis.Redis.from_url(redis_settings["REDIS_URL"])
    prefix = redis_settings["REDIS_PREFIX"] + uuid.uuid4().hex
    worker_a = RedisRateLimiter(client, prefix, max_failures=2, window=30)
    worker_b = RedisRateLimiter(client, prefix, max_failures=2, window=30)
    worker_a.record_failure("ip", "alice")
    worker_b.record_failure("ip", "alice")
    with pytest.raises(TooManyRequests) as refused:
        worker_a.check("ip", "alice")
    assert 0 < refused.value.retry_after <= 30
    worker_b.reset("ip", "alice")
    worker_a.check("ip", "alice")
