"""Shared by the seed examples that use blog_api: an app on a throwaway SQLite file.

Not an example itself. ``make_blog_app()`` builds the blog API as the tests do
(``tests/blog_api/conftest.py``): a database in a temporary folder, a fixed
secret key and a cheap password hash, so each example starts from nothing and
leaves nothing behind.
"""

from __future__ import annotations

import tempfile
from typing import Any

from blog_api import create_app

SECRET = "seed-example-secret-key-" + "0123456789" * 4
PASSWORD = "correct horse battery"


def make_blog_app(framework: str = "miniflask", **overrides: Any) -> Any:
    """The blog API on ``framework`` with empty tables in a temporary folder."""
    folder = tempfile.mkdtemp(prefix="seed-example-")
    config = {
        "DATABASE_URL": f"sqlite:///{folder}/blog.db",
        "SECRET_KEY": SECRET,
        "INSTANCE_PATH": f"{folder}/instance",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "REDIS_URL": None,
        "LOG_LEVEL": "WARNING",
        # No outbox dispatcher thread: its look at the outbox every second
        # would land among the SQL statements the examples count.
        "JOBS_DISPATCHER": "off",
    }
    config.update(overrides)
    return create_app(framework, config)  # a new SQLite file: create_app makes the tables


def sign_up(client: Any, username: str = "alice") -> dict[str, str]:
    """Register and log in ``username``; return the ``Authorization`` header."""
    registered = client.post(
        "/api/v1/auth/register",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
    )
    assert registered.status_code == 201, registered.get_json()
    tokens = client.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    ).get_json()
    return {"Authorization": f"Bearer {tokens['access_token']}"}
