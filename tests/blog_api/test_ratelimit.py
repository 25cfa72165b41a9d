"""Failed-login rate limiting shared by every worker (blog_api/ratelimit.py).

The web tests run with the counters in SQLite (the default), in PostgreSQL
and in Redis; PostgreSQL and Redis skip with the reason when unreachable.
Two apps on one database (or one Redis) stand for two gunicorn workers.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from blog_api.db import create_schema, make_engine
from blog_api.errors import TooManyRequests
from blog_api.models import LoginFailure
from blog_api.ratelimit import DatabaseRateLimiter, LoginLimits, RedisRateLimiter
from tests.blog_api.conftest import PASSWORD, build_app


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def config(request: pytest.FixtureRequest, config: dict[str, Any]) -> dict[str, Any]:
    """Three failures allowed per client and username, counted where the param says."""
    config["LOGIN_MAX_FAILURES"] = 3
    if request.param == "postgresql":
        config["DATABASE_URL"] = request.getfixturevalue("postgres_url_migrated")
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


def test_usernames_are_counted_case_insensitively(api: Any, client: Any) -> None:
    api.register("alice")
    for username in ("alice", "Alice", "ALICE"):
        assert login(client, "wrong", username=username).status_code == 401
    assert login(client, api.password).status_code == 429


@pytest.fixture
def workers(framework: str, config: dict[str, Any]) -> Iterator[Callable[..., list[Any]]]:
    """A factory: ``workers(n, **settings)`` -> n apps on one database (or Redis).

    Each app stands for one gunicorn worker; ``settings`` change the config
    first (the limits are read when an app is built).
    """
    apps: list[Any] = []

    def build(count: int = 1, **settings: Any) -> list[Any]:
        built = [build_app(framework, {**config, **settings}) for _ in range(count)]
        apps.extend(built)
        return built

    yield build
    for app in apps:
        app.extensions["blog_db"].engine.dispose()


def register(app: Any, *usernames: str) -> None:
    for username in usernames:
        response = app.test_client().post(
            "/api/v1/auth/register",
            json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        )
        assert response.status_code == 201, response.get_json()


def test_counts_are_shared_by_every_worker(workers: Callable[..., list[Any]]) -> None:
    apps = workers(2)
    register(apps[0], "alice")
    clients = [app.test_client() for app in apps]
    statuses = [login(clients[i % 2], "wrong").status_code for i in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert login(clients[1], PASSWORD).status_code == 429


def test_one_password_sprayed_over_many_usernames_is_throttled_per_client(
    workers: Callable[..., list[Any]],
) -> None:
    (app,) = workers(LOGIN_CLIENT_MAX_FAILURES=4)
    register(app, "alice")
    client = app.test_client()
    sprayed = [login(client, "Summer2024!", username=f"user{n}").status_code for n in range(5)]
    assert sprayed == [401, 401, 401, 401, 429]
    # Even the right password is refused from that address, but not from another.
    assert login(client, PASSWORD).status_code == 429
    assert login(client, PASSWORD, addr="10.0.0.2").status_code == 200


def test_a_success_does_not_clear_the_client_count(workers: Callable[..., list[Any]]) -> None:
    """An attacker's own account cannot wipe the spraying count."""
    (app,) = workers(LOGIN_CLIENT_MAX_FAILURES=3)
    register(app, "alice")
    client = app.test_client()
    assert login(client, "guess", username="victim1").status_code == 401
    assert login(client, "guess", username="victim2").status_code == 401
    assert login(client, PASSWORD).status_code == 200  # gives back only its own count
    assert login(client, "guess", username="victim3").status_code == 401
    assert login(client, "guess", username="victim4").status_code == 429


def test_many_clients_guessing_one_account_hit_the_account_limit(
    workers: Callable[..., list[Any]],
) -> None:
    (app,) = workers(LOGIN_ACCOUNT_MAX_FAILURES=4)
    register(app, "alice", "bob")
    client = app.test_client()
    guesses = [login(client, "wrong", addr=f"192.0.2.{n}").status_code for n in range(1, 6)]
    assert guesses == [401, 401, 401, 401, 429]
    # The lock-out trade-off: the owner, from a fresh address, is refused too...
    assert login(client, PASSWORD, addr="198.51.100.1").status_code == 429
    # ...but only for this account.
    assert login(client, PASSWORD, username="bob", addr="192.0.2.1").status_code == 200


def test_a_limit_of_zero_switches_a_counter_off(workers: Callable[..., list[Any]]) -> None:
    (app,) = workers(
        LOGIN_MAX_FAILURES=0, LOGIN_CLIENT_MAX_FAILURES=0, LOGIN_ACCOUNT_MAX_FAILURES=0
    )
    register(app, "alice")
    client = app.test_client()
    assert {login(client, "wrong").status_code for _ in range(25)} == {401}
    assert login(client, PASSWORD).status_code == 200


def test_concurrent_attempts_cannot_pass_the_limit(workers: Callable[..., list[Any]]) -> None:
    """Twelve wrong passwords at once, over two workers: exactly three are checked.

    The password hash is made slow here (as scrypt is in production), so the
    twelve requests are in flight together; counting failures after the
    password check let all of them through.
    """
    apps = workers(2, PASSWORD_HASH_METHOD="pbkdf2:sha256:100000")
    register(apps[0], "alice")
    start = threading.Barrier(12)
    statuses: list[int] = []

    def guess(number: int) -> None:
        client = apps[number % 2].test_client()
        start.wait(timeout=10)
        statuses.append(login(client, f"wrong {number}").status_code)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert Counter(statuses) == Counter({401: 3, 429: 9})


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine with the schema, on SQLite or PostgreSQL."""
    if request.param == "postgresql":
        url = str(request.getfixturevalue("postgres_url_migrated"))
    else:
        url = f"sqlite:///{tmp_path / 'limits.db'}"
    engine = make_engine(url)
    create_schema(engine)
    yield engine
    engine.dispose()


def test_a_window_closes_and_counting_starts_again(engine: Engine) -> None:
    clock = [1_000_000.0]
    limits = LoginLimits(per_client_and_username=2, per_client=0, per_account=0, window=60)
    limiter = DatabaseRateLimiter(engine, limits, clock=lambda: clock[0])
    limiter.attempt("ip", "alice")
    clock[0] += 10
    limiter.attempt("ip", "alice")
    with pytest.raises(TooManyRequests) as refused:
        limiter.attempt("ip", "alice")
    assert refused.value.retry_after == 50  # the window opened at the first failure
    clock[0] += 51
    late = limiter.attempt("ip", "alice")  # a new window, counting from 1
    limiter.attempt("ip", "alice")
    with pytest.raises(TooManyRequests):
        limiter.attempt("ip", "alice")
    clock[0] += 61
    limiter.attempt("ip", "alice")  # yet another window
    limiter.succeeded(late)  # clears the pair, whichever window it was
    limiter.attempt("ip", "alice")
    limiter.attempt("ip", "alice")


def test_a_late_success_gives_back_nothing_in_a_later_window(engine: Engine) -> None:
    clock = [1_000_000.0]
    limits = LoginLimits(per_client_and_username=0, per_client=2, per_account=0, window=60)
    limiter = DatabaseRateLimiter(engine, limits, clock=lambda: clock[0])
    slow = limiter.attempt("ip", "alice")  # its password check outlives the window
    clock[0] += 61
    limiter.attempt("ip", "bob")
    limiter.attempt("ip", "carol")
    limiter.succeeded(slow)
    with pytest.raises(TooManyRequests):
        limiter.attempt("ip", "dave")


def test_expired_counters_are_swept(engine: Engine) -> None:
    clock = [1_000_000.0]
    limiter = DatabaseRateLimiter(engine, LoginLimits(window=60), clock=lambda: clock[0])
    for number in range(5):
        limiter.attempt(f"192.0.2.{number}", f"user{number}")
    assert rows(engine) == 15  # three counters each
    clock[0] += 61
    limiter.attempt("ip", "alice")
    assert rows(engine) == 3


def rows(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(LoginFailure)).scalar_one())


def test_the_table_holds_no_address_or_username(engine: Engine) -> None:
    limiter = DatabaseRateLimiter(engine, LoginLimits())
    limiter.attempt("203.0.113.9", "alice")
    with engine.connect() as connection:
        keys = connection.execute(select(LoginFailure.key)).scalars().all()
    assert len(keys) == 3
    assert not [key for key in keys if "alice" in key or "203.0.113" in key]


def test_redis_limiter_shares_counts_between_instances(redis_settings: dict[str, str]) -> None:
    import redis

    client = redis.Redis.from_url(redis_settings["REDIS_URL"])
    limits = LoginLimits(per_client_and_username=2, per_client=0, per_account=0, window=30)
    worker_a = RedisRateLimiter(client, limits, redis_settings["REDIS_PREFIX"])
    worker_b = RedisRateLimiter(client, limits, redis_settings["REDIS_PREFIX"])
    worker_a.attempt("ip", "alice")
    attempt = worker_b.attempt("ip", "alice")
    with pytest.raises(TooManyRequests) as refused:
        worker_a.attempt("ip", "alice")
    assert 0 < refused.value.retry_after <= 30
    worker_b.succeeded(attempt)
    worker_a.attempt("ip", "alice")
    client.close()
