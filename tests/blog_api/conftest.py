"""Fixtures for the blog_api suite: every web test runs on Flask and on miniflask.

The ``app`` fixture is parametrised with the ids ``flask`` and ``miniflask``, so
``pytest -k "not miniflask"`` runs only the Flask half. Each test gets a fresh
SQLite database in ``tmp_path`` and a cheap password hash (production keeps
Werkzeug's scrypt default).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from blog_api import create_app, migrate
from blog_api.models import User
from tests.blog_api.mailbox import SMTPServer
from tests.support.postgres import postgres_schema

FRAMEWORKS = ["flask", "miniflask"]
SECRET = "test-secret-key-long-enough-even-for-hs512-" + "0123456789" * 3
FAST_HASH = "pbkdf2:sha256:1000"
REDIS_URL = "redis://127.0.0.1:6379/0"
PASSWORD = "correct horse battery"


def make_config(tmp_path: Path, **overrides: Any) -> dict[str, Any]:
    """Test settings: a database in ``tmp_path``, a fixed key, a fast hash."""
    config = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'blog.db'}",
        "SECRET_KEY": SECRET,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "PASSWORD_HASH_METHOD": FAST_HASH,
        "REDIS_URL": None,
        "TESTING": True,
    }
    config.update(overrides)
    return config


def build_app(framework: str, config: dict[str, Any]) -> Any:
    """Create an app; on a new SQLite file ``create_app`` makes the tables itself."""
    return create_app(framework, config)


@pytest.fixture(params=FRAMEWORKS)
def framework(request: pytest.FixtureRequest) -> str:
    """The framework under test: "flask" or "miniflask" (also the test id)."""
    return str(request.param)


@pytest.fixture
def config(tmp_path: Path) -> dict[str, Any]:
    """The settings the ``app`` fixture uses; tests may edit them first."""
    return make_config(tmp_path)


@pytest.fixture
def app(framework: str, config: dict[str, Any]) -> Iterator[Any]:
    """The blog API on one framework, with an empty database."""
    app = build_app(framework, config)
    yield app
    app.extensions["blog_db"].engine.dispose()


@pytest.fixture
def client(app: Any) -> Any:
    """The framework's test client."""
    return app.test_client()


class Api:
    """Small helpers over the test client, so tests read as user stories."""

    def __init__(self, app: Any, client: Any) -> None:
        self.app = app
        self.client = client

    def register(self, username: str = "alice", password: str = PASSWORD) -> dict[str, Any]:
        """Register a user and return the response body."""
        response = self.client.post(
            "/api/v1/auth/register",
            json={"username": username, "email": f"{username}@example.com", "password": password},
        )
        assert response.status_code == 201, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body

    def login(self, username: str = "alice", password: str = PASSWORD) -> dict[str, Any]:
        """Log in and return the token response."""
        response = self.client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.get_json()
        body: dict[str, Any] = response.get_json()
        return body

    def user(self, username: str = "alice", admin: bool = False) -> dict[str, str]:
        """Register (and maybe promote) a user; return their Authorization header."""
        self.register(username)
        if admin:
            self.make_admin(username)
        return bearer(self.login(username)["access_token"])

    def make_admin(self, username: str) -> None:
        """Promote a user directly in the database (there is no API for it)."""
        with self.app.extensions["blog_db"].session_factory() as session:
            session.execute(update(User).where(User.username == username).values(is_admin=True))
            session.commit()

    password = PASSWORD

    @staticmethod
    def bearer(token: str) -> dict[str, str]:
        """An Authorization header for an access token."""
        return bearer(token)

    def create_post(self, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
        """Create a post (published unless said otherwise) and return it."""
        body = {"title": "Hello", "body": "World", "tags": [], "status": "published"}
        body.update(fields)
        response = self.client.post("/api/v1/posts", json=body, headers=headers)
        assert response.status_code == 201, response.get_json()
        post: dict[str, Any] = response.get_json()
        return post

    def comment(self, headers: dict[str, str], post_id: int, text: str = "Nice") -> dict[str, Any]:
        """Comment on a post and return the comment."""
        response = self.client.post(
            f"/api/v1/posts/{post_id}/comments", json={"body": text}, headers=headers
        )
        assert response.status_code == 201, response.get_json()
        comment: dict[str, Any] = response.get_json()
        return comment


def bearer(token: str) -> dict[str, str]:
    """An Authorization header for an access token."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(app: Any, client: Any) -> Api:
    """The ``Api`` helpers for the current app."""
    return Api(app, client)


@pytest.fixture
def alice(api: Api) -> dict[str, str]:
    """A registered, logged-in user "alice": her Authorization header."""
    return api.user("alice")


@pytest.fixture
def orm_sessions(app: Any, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every ORM session the app builds from now on, in order (for tests that want none)."""
    database = app.extensions["blog_db"]
    sessions: list[Any] = []
    make_session = database.session_factory

    def counted() -> Any:
        sessions.append(make_session())
        return sessions[-1]

    monkeypatch.setattr(database, "session_factory", counted)
    return sessions


@pytest.fixture
def bob(api: Api) -> dict[str, str]:
    """A second user "bob": his Authorization header."""
    return api.user("bob")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL whose connections use a fresh, private schema.

    Skips when no server answers at 127.0.0.1:5432; the schema is dropped
    afterwards, so parallel runs never see each other's tables.
    """
    with postgres_schema("blog_test") as url:
        yield url


@pytest.fixture
def postgres_url_migrated(postgres_url: str) -> str:
    """``postgres_url`` at the newest revision, as ``db upgrade`` leaves it."""
    migrate.upgrade(postgres_url)
    return postgres_url


@pytest.fixture
def redis_settings() -> Iterator[dict[str, str]]:
    """Config keys for the local Redis with a unique key prefix.

    Skips when Redis is not reachable; the test's keys are deleted afterwards.
    """
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as e:
        pytest.skip(f"Redis not reachable at 127.0.0.1:6379: {e}")
    prefix = f"blogtest:{uuid.uuid4().hex[:12]}:"
    yield {"REDIS_URL": REDIS_URL, "REDIS_PREFIX": prefix}
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    """A real SMTP server (aiosmtpd) on a free port; ``.messages`` holds what it accepted."""
    server = SMTPServer()
    server.start()
    yield server
    server.stop()
