"""Storage setup: the SQLAlchemy engine, and the ``Database`` extension.

The engine half is framework-neutral (the CLI uses it too). ``Database`` is a
Flask-style extension: ``init_app`` stores it in ``app.extensions["blog_db"]``
and registers a ``teardown_appcontext`` function; a view asks for
``db.session`` and gets one session per request, opened lazily on ``g`` and
closed when the app context ends. Closing a session rolls back whatever was
not committed, so a request that fails half-way writes nothing.

Reads that need no entities (a page of posts, one post, comments, the
user of a Bearer token) ask for ``db.connection`` instead: the session's
connection when the request has a session, else a plain Core connection of
its own. A request that only reads never builds an ORM session (PERF: the
plain version, ``session.connection()`` for every read, costs a ``Session``,
its transaction object and its close: a one-post read in an app context took
102 against 62 us on SQLite; see ``benchmarks/where_time_goes.md``). Writes
made of Core statements alone (a post's create, change and delete) run on
that connection too, and ``db.commit()`` commits whichever of the two the
request used.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from blog_api.models import Base
from blog_api.writelock import WAIT_SECONDS, QueuedWriterConnection

SQLITE_PRAGMAS = (
    # WAL lets readers run while one writer writes: several gunicorn workers.
    "PRAGMA journal_mode=WAL",
    # SQLite ignores foreign keys unless told, per connection.
    "PRAGMA foreign_keys=ON",
    # Wait for a lock instead of failing at once with "database is locked"
    # (the blog's own writers queue first, for as long: blog_api/writelock.py).
    f"PRAGMA busy_timeout={int(WAIT_SECONDS * 1000)}",
    "PRAGMA synchronous=NORMAL",
)


def make_engine(url: str, **options: Any) -> Engine:
    """Create an engine for ``url``; SQLite gets its pragmas on every connection.

    Args:
        url: a SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://...``).
        options: passed to ``create_engine`` (tests pass ``connect_args``).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Writers take turns on a lock file, the next one starting within
        # 0.1 ms of a commit, not in SQLite's sleeping busy handler
        # (blog_api/writelock.py).
        connect_args = {"factory": QueuedWriterConnection, **options.pop("connect_args", {})}
        engine = create_engine(url, connect_args=connect_args, **options)
        event.listen(engine, "connect", _set_sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        # Plain "postgresql://" would pick psycopg2; we ship psycopg 3.
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return create_engine(url, pool_pre_ping=True, **options)


def _set_sqlite_pragmas(dbapi_connection: sqlite3.Connection, connection_record: Any) -> None:
    """Engine ``connect`` event: configure each new SQLite connection."""
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def upsert(engine: Engine) -> Any:
    """The engine's dialect-specific ``insert``, which has ``on_conflict_do_update``.

    ``INSERT ... ON CONFLICT ... DO UPDATE`` (with ``RETURNING``) is one atomic
    statement on both databases blog_api supports (SQLite 3.35+, PostgreSQL),
    and both spell it the same way; counters shared by every worker are built
    on it (``caching.py``, ``ratelimit.py``).
    """
    return {"postgresql": postgresql_insert, "sqlite": sqlite_insert}[engine.dialect.name]


def create_schema(engine: Engine) -> None:
    """Create every table and index that does not exist yet."""
    Base.metadata.create_all(engine)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after ``commit`` (views serialise them)."""
    return sessionmaker(engine, expire_on_commit=False)


class Database:
    """The storage extension: one engine per app, one session per request.

    Framework-neutral by construction: it is handed the framework's ``g``
    proxy instead of importing it, so the same class serves Flask and miniflask.

    Example::

        db = Database(fw.g)
        db.init_app(app)          # reads app.config["DATABASE_URL"]
        user = db.session.get(User, 1)
    """

    extension_name = "blog_db"

    def __init__(self, context_globals: Any, app: Any = None) -> None:
        self._g = context_globals
        self.engine: Engine | None = None
        self.session_factory: sessionmaker[Session] | None = None
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Any) -> None:
        """Create the engine from the app's config and register the teardown."""
        self.engine = make_engine(app.config["DATABASE_URL"])
        self.session_factory = make_session_factory(self.engine)
        app.extensions[self.extension_name] = self
        app.teardown_appcontext(self.close_session)

    @property
    def session(self) -> Session:
        """The current app context's session, opened on first use.

        The request's own connection (:attr:`connection`), if it opened one,
        is closed first, which rolls back what it did not commit: a view
        commits its Core writes (:meth:`commit`) before it uses the session.
        From then on the session's connection serves reads too, so the
        request sees its own writes.
        """
        session: Session | None = getattr(self._g, "_blog_db_session", None)
        if session is None:
            assert self.session_factory is not None, "Database.init_app was not called"
            self._close_connection()
            session = self.session_factory()
            self._g._blog_db_session = session
        return session

    @property
    def connection(self) -> Connection:
        """A connection for Core statements: the session's, or the request's own.

        Without a session (an anonymous read, a signed-in one, a post's
        write) this is a Core connection from the engine's pool, opened on
        first use and closed at teardown, which rolls back what was not
        committed (:meth:`commit`); no ORM session is built for it.
        """
        session: Session | None = getattr(self._g, "_blog_db_session", None)
        if session is not None:
            return session.connection()
        connection: Connection | None = getattr(self._g, "_blog_db_connection", None)
        if connection is None:
            assert self.engine is not None, "Database.init_app was not called"
            connection = self.engine.connect()
            self._g._blog_db_connection = connection
        return connection

    def commit(self) -> None:
        """Commit this request's writes: the session's transaction, or the connection's.

        A view whose writes are Core statements on :attr:`connection` commits
        with this and never builds a session. PERF: the plain version runs
        them on ``session.connection()`` and commits the session: a
        ``POST /posts`` took 1,079 against 983 us, a ``PATCH`` 1,051 against
        939 us (``benchmarks/where_time_goes.md``).
        The jobs outbox hears of commits through the session (``jobs.py``),
        so a write that enqueues a job goes through the session.
        """
        transaction = self._transaction()
        if transaction is not None:
            transaction.commit()

    def rollback(self) -> None:
        """Roll back what this request wrote and has not committed (see :meth:`commit`)."""
        transaction = self._transaction()
        if transaction is not None:
            transaction.rollback()

    def _transaction(self) -> Session | Connection | None:
        """What holds this request's transaction: its session, else its own connection.

        At most one of the two is open: :attr:`session` closes the connection.
        """
        session: Session | None = getattr(self._g, "_blog_db_session", None)
        if session is not None:
            return session
        connection: Connection | None = getattr(self._g, "_blog_db_connection", None)
        return connection

    def close_session(self, exc: BaseException | None = None) -> None:
        """``teardown_appcontext``: close the session, discarding uncommitted work.

        The request's own connection is closed too, which rolls back what it
        did not commit.
        """
        self._close_connection()
        session: Session | None = getattr(self._g, "_blog_db_session", None)
        if session is not None:
            self._g._blog_db_session = None
            session.close()

    def _close_connection(self) -> None:
        connection: Connection | None = getattr(self._g, "_blog_db_connection", None)
        if connection is not None:
            self._g._blog_db_connection = None
            connection.close()

    def create_all(self) -> None:
        """Create the schema on this extension's engine."""
        assert self.engine is not None, "Database.init_app was not called"
        create_schema(self.engine)
