"""Smoke test of Flask-Session: server-side sessions through the test client.

Flask-Session's sdist ships no tests, so this file stands in for them. The
harness runs it twice, on Flask and on miniflask (``import flask`` is then
miniflask), and scores it like any suite. Each test runs on three stores:
cachelib's file cache, a SQL table through Flask-SQLAlchemy (SQLite), and
Redis at 127.0.0.1:6379 (skipped, on both frameworks, when none is running).

What is checked is what an app relies on: the cookie carries only the
session id, the data lives in the store, clearing the session deletes both,
a read-only request sets no cookie, the permanent session's cookie expires
after ``PERMANENT_SESSION_LIFETIME``, and ``regenerate`` issues a new id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, session
from flask_session import Session

#: Reads a session's data from its store, by store id; None when it is not there.
StoreReader = Callable[[str], "dict[str, Any] | None"]

BACKENDS = ("cachelib", "sqlalchemy", "redis")


@pytest.fixture(params=BACKENDS)
def app_and_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Flask, StoreReader]]:
    """An app whose sessions live in the backend named by the parameter."""
    app = Flask(__name__)
    app.config.update(TESTING=True, PERMANENT_SESSION_LIFETIME=timedelta(hours=2))
    # A fresh prefix per test, so Redis keys of other runs never interfere.
    app.config["SESSION_KEY_PREFIX"] = f"compat-smoke-{uuid.uuid4().hex}:"
    add_views(app)
    setup = {"cachelib": use_cachelib, "sqlalchemy": use_sqlalchemy, "redis": use_redis}
    yield from setup[request.param](app, tmp_path)


def use_cachelib(app: Flask, tmp_path: Path) -> Iterator[tuple[Flask, StoreReader]]:
    """Sessions as files in a cachelib FileSystemCache."""
    from cachelib.file import FileSystemCache

    cache = FileSystemCache(str(tmp_path / "sessions"), threshold=100)
    app.config.update(SESSION_TYPE="cachelib", SESSION_CACHELIB=cache)
    Session(app)
    yield app, cache.get  # cachelib pickles the session's dict itself


def use_sqlalchemy(app: Flask, tmp_path: Path) -> Iterator[tuple[Flask, StoreReader]]:
    """Sessions as rows of a table created by Flask-Session on SQLite."""
    from flask_sqlalchemy import SQLAlchemy

    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'sessions.db'}"
    db = SQLAlchemy(app)
    app.config.update(SESSION_TYPE="sqlalchemy", SESSION_SQLALCHEMY=db)
    Session(app)
    model = app.session_interface.sql_session_model  # type: ignore[attr-defined]

    def read(store_id: str) -> dict[str, Any] | None:
        with app.app_context():
            query = db.select(model.data).where(model.session_id == store_id)
            return decode(app, db.session.execute(query).scalar())

    yield app, read
    with app.app_context():
        db.engine.dispose()


def use_redis(app: Flask, tmp_path: Path) -> Iterator[tuple[Flask, StoreReader]]:
    """Sessions as keys in the Redis at 127.0.0.1:6379, with a TTL."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    app.config.update(SESSION_TYPE="redis", SESSION_REDIS=client)
    Session(app)

    def read(store_id: str) -> dict[str, Any] | None:
        stored = client.get(store_id)
        assert stored is None or isinstance(stored, bytes)
        return decode(app, stored)

    yield app, read
    prefix = app.config["SESSION_KEY_PREFIX"]
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


def decode(app: Flask, stored: bytes | None) -> dict[str, Any] | None:
    """A session's data from the bytes Flask-Session stored (msgpack by default)."""
    if stored is None:
        return None
    return app.session_interface.serializer.decode(stored)  # type: ignore[attr-defined]


def add_views(app: Flask) -> None:
    """Views that write, read, clear and regenerate the session."""

    @app.post("/login/<name>")
    def login(name: str) -> str:
        session["user"] = name
        return "ok"

    @app.get("/whoami")
    def whoami() -> str:
        return session.get("user", "anonymous")

    @app.post("/logout")
    def logout() -> str:
        session.clear()
        return "bye"

    @app.post("/regenerate")
    def regenerate() -> str:
        app.session_interface.regenerate(session)  # type: ignore[attr-defined]
        return "new id"


def session_id(client: object) -> str:
    """The value of the session cookie the test client holds."""
    cookie = client.get_cookie("session")  # type: ignore[attr-defined]
    assert cookie is not None, "no session cookie was set"
    return cookie.value


def test_a_value_set_in_one_request_is_read_in_the_next(
    app_and_store: tuple[Flask, StoreReader],
) -> None:
    app, _ = app_and_store
    client = app.test_client()
    assert client.get("/whoami").text == "anonymous"
    client.post("/login/ada")
    assert client.get("/whoami").text == "ada"


def test_the_cookie_holds_only_the_id_and_the_data_is_in_the_store(
    app_and_store: tuple[Flask, StoreReader],
) -> None:
    app, read = app_and_store
    client = app.test_client()
    client.post("/login/ada")
    sid = session_id(client)
    assert "ada" not in sid
    assert read(app.config["SESSION_KEY_PREFIX"] + sid) == {"_permanent": True, "user": "ada"}


def test_clearing_the_session_deletes_the_stored_data_and_the_cookie(
    app_and_store: tuple[Flask, StoreReader],
) -> None:
    app, read = app_and_store
    client = app.test_client()
    client.post("/login/ada")
    store_id = app.config["SESSION_KEY_PREFIX"] + session_id(client)
    response = client.post("/logout")
    assert "Cookie" in response.vary
    assert read(store_id) is None
    assert client.get_cookie("session") is None
    assert client.get("/whoami").text == "anonymous"


def test_a_request_that_only_reads_sets_no_cookie_but_varies_on_cookie(
    app_and_store: tuple[Flask, StoreReader],
) -> None:
    app, _ = app_and_store
    client = app.test_client()
    response = client.get("/whoami")
    assert "Set-Cookie" not in response.headers
    assert "Cookie" in response.vary


def test_the_permanent_session_cookie_expires_after_the_configured_lifetime(
    app_and_store: tuple[Flask, StoreReader],
) -> None:
    app, _ = app_and_store
    client = app.test_client()
    client.post("/login/ada")
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.expires is not None
    left = cookie.expires - datetime.now(UTC)
    assert timedelta(hours=1, minutes=58) < left <= timedelta(hours=2)


def test_regenerate_issues_a_new_id_and_keeps_the_data(
    app_and_store: tuple[Flask, StoreReader],
) -> None:
    app, read = app_and_store
    client = app.test_client()
    client.post("/login/ada")
    old_id = session_id(client)
    client.post("/regenerate")
    new_id = session_id(client)
    assert new_id != old_id
    assert read(app.config["SESSION_KEY_PREFIX"] + old_id) is None
    assert client.get("/whoami").text == "ada"
