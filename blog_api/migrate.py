"""Schema migrations with Alembic: the ``db`` commands and the start-up check.

Flask projects usually get this from Flask-Migrate (``flask db upgrade``);
blog_api calls Alembic's own API (``alembic.command``) instead, because the
blog supports two frameworks and keeps its database settings in one place
(``BLOG_DATABASE_URL``). The revisions live in ``blog_api/migrations/versions``,
one file each: ``0001_initial`` is the schema as it stood when migrations began,
and every change to ``models.py`` since is a new revision next to it.

Every run goes through :func:`_migration_connection`, which makes three
promises Alembic alone does not:

* **All or nothing.** The whole run is one transaction, on SQLite too
  (Python's sqlite3 would otherwise commit each DDL statement on its own), so
  a migration that fails half-way leaves the database as it was.
* **One at a time.** Two processes that upgrade together (gunicorn workers
  finding a new SQLite file, two hosts deploying at once) queue: SQLite's
  ``BEGIN IMMEDIATE`` and PostgreSQL's advisory lock let the second see the
  first one's result, so it has nothing left to do.
* **Rows are safe.** SQLite's batch mode rebuilds a table by copying it and
  dropping the old one; with foreign keys on, that ``DROP`` would cascade into
  the child tables. Runs therefore keep them off and check every reference
  (``PRAGMA foreign_key_check``) before committing.

The start-up check that every app runs is ``blog_api/schema.py``; it imports
this module (and so Alembic) only when the database is not at the newest
revision.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url

from blog_api.db import make_engine
from blog_api.models import Base
from blog_api.schema import SchemaNotReady

log = logging.getLogger(__name__)

SCRIPT_LOCATION = "blog_api:migrations"
VERSIONS = Path(__file__).parent / "migrations" / "versions"
INITIAL_REVISION = "0001"
#: Any constant will do: the two hosts of one deployment must agree on it.
POSTGRESQL_LOCK_KEY = 0x0B10_6D_B0
#: How long a migration waits for SQLite's write lock (the app waits 5 s).
SQLITE_LOCK_WAIT_MS = 60_000


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's settings, built in code: there is no ``alembic.ini``.

    ``file_template`` names new revisions ``0002_add_something.py``, so the
    directory lists them in order; ``quiet`` keeps Alembic's progress lines
    out of the commands' output, which says what happened in one line.
    """
    config = Config(cmd_opts=argparse.Namespace(quiet=True))
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


def script_directory() -> ScriptDirectory:
    """The revisions this code knows."""
    return ScriptDirectory.from_config(alembic_config())


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Leave out of autogenerate what it cannot compare: the ``lower()`` indexes.

    Alembic does not compare expression indexes reliably across databases (it
    skips them on SQLite with a warning and renders them differently on
    PostgreSQL). ``ux_users_*_lower`` are created by ``0001_initial`` and
    checked by name in the test suite instead.
    """
    return not (type_ == "index" and name is not None and name.endswith("_lower"))


# -- one run: its engine, its connection, its lock ------------------------------


def _migration_engine(url: str | URL) -> Engine:
    """An engine for one migration run (see the module docstring for why its own)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return make_engine(parsed.render_as_string(hide_password=False))
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # we say BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=OFF")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_LOCK_WAIT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        # IMMEDIATE takes the write lock now, so concurrent runs queue here.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@contextlib.contextmanager
def _migration_connection(url: str | URL) -> Iterator[Connection]:
    """A connection in a transaction that holds the migration lock; commits on success."""
    engine = _migration_engine(url)
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": POSTGRESQL_LOCK_KEY}
                )
            yield connection
            if connection.dialect.name == "sqlite":
                _check_foreign_keys(connection)
    finally:
        engine.dispose()


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({row[0] for row in broken})
        raise SchemaNotReady(
            f"migration rolled back: it left {len(broken)} rows whose foreign keys point "
            f"nowhere (tables {', '.join(tables)})"
        )


# -- the commands --------------------------------------------------------------


def upgrade(url: str | URL, revision: str = "head") -> None:
    """Bring the database to ``revision``; a database made before migrations is adopted first."""
    with _migration_connection(url) as connection:
        _adopt_unversioned(connection)
        command.upgrade(alembic_config(connection), revision)


def downgrade(url: str | URL, revision: str = "-1") -> None:
    """Undo revisions down to ``revision`` (``-1``: the last one; ``base``: all)."""
    with _migration_connection(url) as connection:
        command.downgrade(alembic_config(connection), revision)


def stamp(url: str | URL, revision: str) -> None:
    """Record ``revision`` as applied without running anything."""
    with _migration_connection(url) as connection:
        command.stamp(alembic_config(connection), revision)


def current(url: str | URL) -> tuple[str, ...]:
    """The revisions recorded in the database (empty: none)."""
    engine = make_engine(make_url(url).render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            return tuple(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()


def history() -> list[tuple[str, str | None, str]]:
    """``(revision, revises, first line of its docstring)``, newest first."""
    return [
        (script.revision, _down(script.down_revision), (script.doc or "").strip())
        for script in script_directory().walk_revisions()
    ]


def _down(down: str | Sequence[str] | None) -> str | None:
    return down if down is None or isinstance(down, str) else ", ".join(down)


def new_revision(url: str | URL, message: str, autogenerate: bool = True) -> Path:
    """Write the next revision file (``NNNN_message.py``) and return its path.

    With ``autogenerate`` Alembic compares ``models.py`` with the database
    (which must be at head) and drafts the operations; read and edit the
    draft before committing it: renames come out as drop + add.
    """
    rev_id = f"{len(list(script_directory().walk_revisions())) + 1:04d}"
    with _migration_connection(url) as connection:
        script = command.revision(
            alembic_config(connection), message=message, autogenerate=autogenerate, rev_id=rev_id
        )
    assert script is not None and not isinstance(script, list)
    return Path(script.path)


def differences(url: str | URL) -> list[Any]:
    """What autogenerate would change to make the database match ``models.py`` (none: agree)."""
    from alembic.autogenerate import compare_metadata

    engine = make_engine(make_url(url).render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "compare_server_default": True,
                    "include_object": include_object,
                },
            )
            with warnings.catch_warnings():
                # The ones include_object leaves out, announced by SQLite's reflection.
                warnings.filterwarnings("ignore", ".*expression-based index")
                return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


# -- databases from before migrations ------------------------------------------


def _adopt_unversioned(connection: Connection) -> None:
    """Stamp a database made by ``create_all`` (an older ``init-db``) at ``0001``.

    Such a database has the tables but no ``alembic_version``. If it has
    every table and column ``0001`` creates, it is that revision; anything
    less is refused, naming what is missing, rather than guessed at.
    """
    if MigrationContext.configure(connection).get_current_heads():
        return
    present = _columns(connection)
    if not set(present) & set(Base.metadata.tables):
        return  # empty: the upgrade creates everything
    missing = _missing(_initial_columns(), present)
    if missing:
        raise SchemaNotReady(
            "the database has tables but no migration history, and lacks "
            f"{', '.join(missing)} of revision {INITIAL_REVISION}: back it up and "
            "add them by hand, or start from a new database"
        )
    log.info("database made before migrations: recorded as revision %s", INITIAL_REVISION)
    command.stamp(alembic_config(connection), INITIAL_REVISION)


def _columns(connection: Connection) -> dict[str, set[str]]:
    inspector = inspect(connection)
    return {
        table: {column["name"] for column in inspector.get_columns(table)}
        for table in inspector.get_table_names()
    }


def _initial_columns() -> dict[str, set[str]]:
    """The tables and columns of revision ``0001``, read from a scratch database."""
    with _migration_connection("sqlite://") as scratch:
        command.upgrade(alembic_config(scratch), INITIAL_REVISION)
        columns = _columns(scratch)
    columns.pop("alembic_version", None)
    return columns


def _missing(wanted: dict[str, set[str]], present: dict[str, set[str]]) -> list[str]:
    missing = []
    for table, columns in sorted(wanted.items()):
        if table not in present:
            missing.append(f"table {table}")
        else:
            missing.extend(f"{table}.{column}" for column in sorted(columns - present[table]))
    return missing


# -- where a database stands (blog_api/schema.py's slow path) --------------------


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands against the revisions this code knows."""

    current: tuple[str, ...]
    heads: tuple[str, ...]
    known: frozenset[str]
    has_tables: bool

    @property
    def at_head(self) -> bool:
        return set(self.current) == set(self.heads)

    @property
    def ahead(self) -> bool:
        """Recorded revisions this code has never heard of: newer code migrated it."""
        return bool(self.current) and not set(self.current) <= self.known


def schema_state(engine: Engine) -> SchemaState:
    """Read the database's revision (one query) and compare it with the code's."""
    scripts = script_directory()
    with engine.connect() as connection:
        current = tuple(MigrationContext.configure(connection).get_current_heads())
        has_tables = bool(current) or bool(
            set(inspect(connection).get_table_names()) & set(Base.metadata.tables)
        )
    return SchemaState(
        current=current,
        heads=tuple(scripts.get_heads()),
        known=frozenset(script.revision for script in scripts.walk_revisions()),
        has_tables=has_tables,
    )
