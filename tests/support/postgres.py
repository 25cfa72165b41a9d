"""A private PostgreSQL schema per test, on the machine's server.

Tests that need PostgreSQL use a fresh schema and drop it afterwards, so
parallel runs and other suites never see each other's tables; when no server
answers at 127.0.0.1:5432 (database ``test``) the test is skipped with the
reason.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextlib.contextmanager
def postgres_schema(prefix: str = "blog_test") -> Iterator[str]:
    """Yield a PostgreSQL URL whose connections use a new schema (dropped after)."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 2})
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as e:
        pytest.skip(f"PostgreSQL not reachable at 127.0.0.1:5432 (database test): {e}")
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
