"""SQL pieces that make read statements return values ready for JSON.

The blog's reads (``services/posts.py``, ``services/comments.py``) select rows
with SQLAlchemy Core and turn each row into the API's dict by hand. Two kinds
of column would otherwise need work in Python for every row:

* timestamps: SQLAlchemy turns SQLite's stored text into a ``datetime``, the
  UTC column type (``models.UTCDateTime``) gives it a time zone, and the API
  writes it back as ISO 8601 text. :func:`api_time` selects the column so that
  it arrives as the API's text, ``2026-12-02T15:07:05.123456Z``, in one step.
* a post's tag names: :class:`joined_names` aggregates them into one string
  inside the SELECT, so a page of posts with their tags is one statement.

PERF: the plain versions are ``UTCDateTime`` columns rendered by
``schemas.json_datetime`` (2.7 against 0.4 us per value, :func:`api_text`)
and SQLAlchemy's ``aggregate_strings``, whose separator is a bound value that
SQLAlchemy writes into the SQL text again on every execution (a one-post
SELECT took 30 against 23 us on SQLite); see ``benchmarks/where_time_goes.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import String, type_coerce
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import UserDefinedType


class ApiTime(UserDefinedType[str]):
    """A UTC timestamp column read as the API's text (``schemas.json_datetime``'s form).

    Only for selecting (``type_coerce``; no table has a column of this type):
    the value is taken as the driver returns it, before any ``DateTime``
    processing. SQLite returns the stored text, psycopg a naive ``datetime``;
    both hold UTC (``models.UTCDateTime`` stores it so).
    """

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        """Never used in DDL; the name says what it is."""
        return "TIMESTAMP"

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], str | None]:
        """:func:`api_text`, for every dialect."""
        return api_text


def api_text(value: Any) -> str | None:
    """A stored UTC time as ISO 8601 with ``Z``: ``2026-12-02T15:07:05.123456Z``.

    Whole seconds drop the fraction, as ``datetime.isoformat`` does. SQLite's
    text as SQLAlchemy writes it (``2026-12-02 15:07:05.123456``) is rewritten
    as text (PERF: 0.4 against 2.7 us per value, the plain version being the
    ``datetime`` round trip that every other form takes).
    """
    if value is None:
        return None
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " " and value[19] == ".":
            if value.endswith(".000000"):
                return f"{value[:10]}T{value[11:19]}Z"
            return f"{value[:10]}T{value[11:]}Z"
        value = datetime.fromisoformat(value)
    return f"{value.isoformat()}Z"


def api_time(column: Any) -> Any:
    """``column`` (a ``UTCDateTime``) selected as API text, labelled with its own name."""
    return type_coerce(column, ApiTime()).label(column.key)


class joined_names(FunctionElement[str]):
    """``joined_names(tags.name)``: an aggregate of names joined by commas.

    ``group_concat(name, ',')`` on SQLite and ``string_agg(name, ',')`` on
    PostgreSQL, with the separator written into the SQL as a constant. The
    order of the names is not defined: split and sort. A name must not hold a
    comma (tag names cannot: ``schemas.TAG_PATTERN``).
    """

    type = String()
    name = "joined_names"
    inherit_cache = True


@compiles(joined_names, "sqlite")
def _group_concat(element: joined_names, compiler: SQLCompiler, **kw: Any) -> str:
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


@compiles(joined_names, "postgresql")
def _string_agg(element: joined_names, compiler: SQLCompiler, **kw: Any) -> str:
    return f"string_agg({compiler.process(element.clauses, **kw)}, ',')"


def split_names(joined: str | None) -> list[str]:
    """The names in a :class:`joined_names` value, sorted; none for ``NULL``."""
    return sorted(joined.split(",")) if joined else []
