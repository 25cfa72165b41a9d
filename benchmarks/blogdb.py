"""One seeded SQLite database for the blog API benchmarks, and the settings to use it.

Both frameworks read the same data: ``seed`` fills one file with the blog's own
seeding code (``seed_database``, which the ``seed`` command runs), and the HTTP
benchmark copies that file once per framework so that the write benchmark of
one server cannot grow the other's tables.

Settings are blog_api's defaults except:

* ``LOG_LEVEL=WARNING``: the per-request JSON access log line would otherwise
  go to the terminal (in-process) or to gunicorn's stderr on every request.
  Logging is framework-neutral code, so it would only add the same cost to both.
* a fixed ``SECRET_KEY`` and a long ``ACCESS_TOKEN_TTL``, so a token obtained
  once lasts a full run.

The server-side response cache (``CACHE_TTL``, on by default) is left on: hot
anonymous reads are answered by a ``before_request`` hook from the cache. The
``cache_off`` settings set ``CACHE_TTL=0``, which makes every entry expire at
once, so each request runs the view and its SQL.
"""

from __future__ import annotations

import random
import shutil
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from blog_api import migrate
from blog_api.commands import seed_database
from blog_api.db import make_engine, make_session_factory
from blog_api.models import Post

SECRET_KEY = "benchmark-secret-key-long-enough-for-hs512-0123456789abcdef0123456789"
SEED_USERS = 5
SEED_POSTS = 200
#: A seeded account (``seed_database`` gives every ``userN`` this password).
LOGIN = {"username": "user1", "password": "password"}
ACCESS_TOKEN_TTL = 24 * 3600


@dataclass(frozen=True)
class SeededDatabase:
    """A seeded SQLite file and a published post in it."""

    path: Path
    published_post_id: int

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the file."""
        return f"sqlite:///{self.path}"

    def copy_to(self, path: Path) -> SeededDatabase:
        """A copy of the file (WAL checkpointed first by ``seed``), same post id."""
        shutil.copyfile(self.path, path)
        return SeededDatabase(path, self.published_post_id)


def seed(directory: Path) -> SeededDatabase:
    """Create ``directory/blog.db`` with 5 users, 200 posts and 2 comments per post.

    The random seed is fixed, so every run benchmarks the same data.
    """
    path = directory / "blog.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrate.upgrade(engine.url)  # as `make run` does
        seed_database(engine, SEED_USERS, SEED_POSTS, 2, random.Random(1))
        with make_session_factory(engine)() as session:
            post_id = session.scalar(
                select(Post.id).where(Post.status == "published").order_by(Post.id.desc())
            )
        with engine.begin() as connection:
            # Fold the WAL into the main file so a plain file copy is complete.
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    if post_id is None:
        raise RuntimeError("seeding produced no published post")
    return SeededDatabase(path, int(post_id))


def draft_of(database: SeededDatabase, username: str) -> int:
    """A draft written by ``username`` (a post of theirs if they have none).

    The write scenarios PATCH it over and over: a draft stays out of the
    anonymous lists the read scenarios fetch, so their answers do not change.
    """
    with closing(sqlite3.connect(database.path)) as connection:
        row = connection.execute(
            "SELECT p.id FROM posts p JOIN users u ON u.id = p.author_id WHERE u.username = ?"
            " ORDER BY p.status = 'draft' DESC, p.id DESC LIMIT 1",
            (username,),
        ).fetchone()
    if row is None:
        raise RuntimeError(f"{username} wrote no post")
    return int(row[0])


def app_config(database: SeededDatabase, instance: Path, cache: bool = True) -> dict[str, Any]:
    """Settings for ``blog_api.create_app`` in-process (see the module docstring)."""
    config: dict[str, Any] = {
        "DATABASE_URL": database.url,
        "SECRET_KEY": SECRET_KEY,
        "INSTANCE_PATH": str(instance),
        "REDIS_URL": None,
        "LOG_LEVEL": "WARNING",
        "ACCESS_TOKEN_TTL": ACCESS_TOKEN_TTL,
        # No outbox dispatcher thread: the measured requests send no mail, and a
        # thread per app would outlive the apps of the benchmark's own tests.
        "JOBS_DISPATCHER": "off",
    }
    if not cache:
        config["CACHE_TTL"] = 0
    return config


def server_environment(
    database: SeededDatabase, instance: Path, framework: str, cache: bool = True
) -> dict[str, str]:
    """The same settings as ``BLOG_*`` environment variables, for gunicorn."""
    environment = {
        "BLOG_FRAMEWORK": framework,
        "BLOG_DATABASE_URL": database.url,
        "BLOG_SECRET_KEY": SECRET_KEY,
        "BLOG_INSTANCE_PATH": str(instance),
        "BLOG_LOG_LEVEL": "WARNING",
        "BLOG_ACCESS_TOKEN_TTL": str(ACCESS_TOKEN_TTL),
    }
    if not cache:
        environment["BLOG_CACHE_TTL"] = "0"
    return environment
