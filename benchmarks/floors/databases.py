"""The two databases the floors run on: SQLite (``sqlite3``) and PostgreSQL (psycopg 3).

The floors write their SQL once, in the words both databases understand, with
``:name`` parameters; what the two disagree on lives here, behind one small
interface (``Database``):

* parameters: ``sqlite3`` takes ``:name``, psycopg ``%(name)s``;
* folding a post's tag names into one column: ``group_concat(name)`` against
  ``string_agg(name, ',')``;
* the id of a new row: ``cursor.lastrowid`` against ``RETURNING id``;
* times: SQLAlchemy stores them in SQLite as text (``2026-12-02 15:07:05.123456``),
  in PostgreSQL as ``timestamp`` columns that psycopg reads as naive
  ``datetime`` objects; both hold UTC;
* transactions: ``sqlite3`` opened with ``isolation_level=None`` and psycopg
  with ``autocommit=True`` run each read statement on its own (no ``BEGIN``
  before a read, which a hand-written data path does not need); a write
  opens a transaction of its own.

One connection per floor set, as SQLAlchemy's pool keeps one per worker: the
in-process benchmark calls from one thread.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: The blog's SQLite settings (``blog_api/db.py``), set on the floor's connection too.
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    "PRAGMA synchronous=NORMAL",
)
Row = tuple[Any, ...]
Params = dict[str, Any]


class Database:
    """One connection, and the few words of SQL the two databases spell differently.

    Subclassed once per database (``SQLiteDatabase``, ``PostgresDatabase``);
    the floors call only these methods.
    """

    #: The SQL aggregate that joins ``t.name`` over a group with commas.
    join_tag_names = ""

    def one(self, sql: str, params: Params) -> Row | None:
        """The first row of ``sql``, or ``None``."""
        raise NotImplementedError

    def all(self, sql: str, params: Params) -> list[Row]:
        """Every row of ``sql``."""
        raise NotImplementedError

    def run(self, sql: str, params: Params) -> int:
        """Execute a write; the number of rows it changed."""
        raise NotImplementedError

    def run_many(self, sql: str, rows: Sequence[Params]) -> None:
        """Execute a write once per parameter set."""
        raise NotImplementedError

    def insert(self, sql: str, params: Params) -> int:
        """Execute an ``INSERT`` of one row; the new row's ``id``."""
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[None]:
        """``BEGIN`` ... ``COMMIT``, or ``ROLLBACK`` when the block raises."""
        raise NotImplementedError

    def stored_time(self, moment: datetime) -> Any:
        """A time as SQLAlchemy stores it, to bind as a parameter."""
        raise NotImplementedError

    def json_time(self, stored: Any) -> str:
        """A time as read from a row, as the API writes it (``blog_api/schemas.py``)."""
        raise NotImplementedError


def connect(database: Path | str) -> Database:
    """The database behind a ``FloorSettings.database``: a SQLite file or a SQLAlchemy URL."""
    if isinstance(database, Path):
        return SQLiteDatabase(database)
    scheme, _, rest = database.partition("://")
    if scheme == "sqlite":
        return SQLiteDatabase(Path(rest.removeprefix("/")))
    if scheme in ("postgresql", "postgresql+psycopg"):
        # libpq reads the same URL without SQLAlchemy's "+driver" part.
        return PostgresDatabase(f"postgresql://{rest}")
    raise ValueError(f"the floors run on SQLite or PostgreSQL (psycopg), not {scheme!r}")


class SQLiteDatabase(Database):
    """``sqlite3``, with the blog's pragmas."""

    join_tag_names = "group_concat(t.name)"

    def __init__(self, path: Path) -> None:
        # isolation_level=None: no implicit BEGIN; writes open their own
        # transaction, reads run outside one, as under SQLAlchemy's pysqlite.
        self.connection = sqlite3.connect(path, isolation_level=None)
        for pragma in PRAGMAS:
            self.connection.execute(pragma)

    def one(self, sql: str, params: Params) -> Row | None:
        row: Row | None = self.connection.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: Params) -> list[Row]:
        return self.connection.execute(sql, params).fetchall()

    def run(self, sql: str, params: Params) -> int:
        return self.connection.execute(sql, params).rowcount

    def run_many(self, sql: str, rows: Sequence[Params]) -> None:
        self.connection.executemany(sql, rows)

    def insert(self, sql: str, params: Params) -> int:
        row_id = self.connection.execute(sql, params).lastrowid
        assert row_id is not None, "an INSERT gives a row id"
        return row_id

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.connection.execute("BEGIN")
        try:
            yield
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def stored_time(self, moment: datetime) -> str:
        """Naive UTC, always six decimals: SQLAlchemy's text for a SQLite ``DATETIME``."""
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f")

    def json_time(self, stored: str) -> str:
        """``2026-12-02 15:07:05.123456`` -> ``2026-12-02T15:07:05.123456Z``.

        ``datetime.isoformat`` leaves out a zero fraction, and so does the blog.
        """
        return stored.removesuffix(".000000").replace(" ", "T") + "Z"


#: A ``:name`` parameter (not the second colon of a ``::`` cast).
_NAMED_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class PostgresDatabase(Database):
    """psycopg 3, the blog's PostgreSQL driver, in autocommit mode."""

    join_tag_names = "string_agg(t.name, ',')"

    def __init__(self, url: str) -> None:
        import psycopg  # only here, so the SQLite floors run where psycopg is missing

        self.connection = psycopg.connect(url, autocommit=True)
        self._translated: dict[str, str] = {}

    def _sql(self, sql: str) -> str:
        """``sql`` with psycopg's ``%(name)s`` parameters, translated once per text."""
        translated = self._translated.get(sql)
        if translated is None:
            translated = _NAMED_PARAMETER.sub(r"%(\1)s", sql)
            self._translated[sql] = translated
        return translated

    def one(self, sql: str, params: Params) -> Row | None:
        return self.connection.execute(self._sql(sql), params).fetchone()

    def all(self, sql: str, params: Params) -> list[Row]:
        return self.connection.execute(self._sql(sql), params).fetchall()

    def run(self, sql: str, params: Params) -> int:
        return self.connection.execute(self._sql(sql), params).rowcount

    def run_many(self, sql: str, rows: Sequence[Params]) -> None:
        self.connection.cursor().executemany(self._sql(sql), rows)

    def insert(self, sql: str, params: Params) -> int:
        row = self.one(f"{sql} RETURNING id", params)
        assert row is not None, "INSERT ... RETURNING gives a row"
        return int(row[0])

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.connection.transaction():
            yield

    def stored_time(self, moment: datetime) -> datetime:
        """Naive UTC, as the blog's ``UTCDateTime`` binds it to a ``timestamp`` column."""
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        return moment

    def json_time(self, stored: datetime) -> str:
        """A naive UTC ``datetime`` -> ``2026-12-02T15:07:05.123456Z`` (no zero fraction)."""
        return stored.isoformat() + "Z"
