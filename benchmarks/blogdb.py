"""One seeded database for the blog API benchmarks, and the settings to use it.

Both frameworks read the same data: ``seed`` fills one SQLite file with the
blog's own seeding code (``seed_database``, which the ``seed`` command runs),
and the HTTP benchmark copies that file once per framework so that the write
benchmark of one server cannot grow the other's tables. ``seed_postgres``
seeds the same data, by the same code and random seed, into a private schema
of the PostgreSQL server at 127.0.0.1:5432 (database ``test``, as the tests
use it), dropped when the run ends.

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
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text

from blog_api import migrate
from blog_api.commands import seed_database
from blog_api.db import make_engine, make_session_factory
from blog_api.models import Post, User

SECRET_KEY = "benchmark-secret-key-long-enough-for-hs512-0123456789abcdef0123456789"
SEED_USERS = 5
SEED_POSTS = 200
#: A seeded account (``seed_database`` gives every ``userN`` this password).
LOGIN = {"username": "user1", "password": "password"}
#: Another seeded account: the HTTP benchmark's writes sign in as it (``http_load.ACCOUNTS``).
WRITER = {"username": "user2", "password": "password"}
ACCESS_TOKEN_TTL = 24 * 3600
#: The machine's PostgreSQL server, as ``tests/support/postgres.py`` reaches it.
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


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


@dataclass(frozen=True)
class SeededPostgres:
    """A seeded private schema on PostgreSQL and a published post in it."""

    #: The SQLAlchemy URL, whose connections use the schema (``search_path``).
    url: str
    published_post_id: int
    #: The server's version, for the results file.
    server_version: str


#: Either seeded database: both have ``url`` and ``published_post_id``.
Seeded = SeededDatabase | SeededPostgres


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server answers at ``POSTGRES_URL``; the message says why."""


def seed(directory: Path) -> SeededDatabase:
    """Create ``directory/blog.db`` with 5 users, 200 posts and 2 comments per post.

    The random seed is fixed, so every run benchmarks the same data.
    """
    path = directory / "blog.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        post_id = _seed(engine)
        with engine.begin() as connection:
            # Fold the WAL into the main file so a plain file copy is complete.
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    return SeededDatabase(path, post_id)


def _seed(engine: Engine) -> int:
    """Migrate and seed the database behind ``engine``; the newest published post's id."""
    migrate.upgrade(engine.url)  # as `make run` does
    seed_database(engine, SEED_USERS, SEED_POSTS, 2, random.Random(1))
    with make_session_factory(engine)() as session:
        post_id = session.scalar(
            select(Post.id).where(Post.status == "published").order_by(Post.id.desc())
        )
    if post_id is None:
        raise RuntimeError("seeding produced no published post")
    return int(post_id)


@contextmanager
def seed_postgres(prefix: str = "bench") -> Iterator[SeededPostgres]:
    """A new schema on the PostgreSQL server, seeded as ``seed`` seeds SQLite; dropped after.

    Raises:
        PostgresUnavailable: no server answers (the caller skips what needs it).
    """
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(POSTGRES_URL, connect_args={"connect_timeout": 2})
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            version = connection.execute(text("SHOW server_version")).scalar_one()
    except Exception as e:
        admin.dispose()
        raise PostgresUnavailable(f"PostgreSQL not reachable at {POSTGRES_URL}: {e}") from e
    url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    try:
        engine = make_engine(url)
        try:
            post_id = _seed(engine)
        finally:
            engine.dispose()
        yield SeededPostgres(url, post_id, f"PostgreSQL {version}")
    finally:
        with admin.begin() as connection:
            # A connection left inside a transaction would make the DROP wait forever.
            connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def draft_of(database: Seeded, username: str) -> int:
    """A draft written by ``username`` (a post of theirs if they have none).

    The write scenarios PATCH it over and over: a draft stays out of the
    anonymous lists the read scenarios fetch, so their answers do not change.
    """
    engine = make_engine(database.url)
    try:
        with make_session_factory(engine)() as session:
            post_id = session.scalar(
                select(Post.id)
                .join(User, User.id == Post.author_id)
                .where(User.username == username)
                .order_by((Post.status == "draft").desc(), Post.id.desc())
                .limit(1)
            )
    finally:
        engine.dispose()
    if post_id is None:
        raise RuntimeError(f"{username} wrote no post")
    return int(post_id)


def app_config(database: Seeded, instance: Path, cache: bool = True) -> dict[str, Any]:
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
