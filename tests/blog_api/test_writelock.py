"""SQLite's writers take turns on ``<database>-writer.lock`` (blog_api/writelock.py).

Most connections here are opened with ``timeout=0``: SQLite's own busy handler
then refuses a write at once with "database is locked" when another holds the
lock, so a write that succeeds after waiting was queued by the lock file.
"""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.process import BaseProcess
from pathlib import Path

import pytest
from sqlalchemy import text

from blog_api.db import make_engine
from blog_api.writelock import QueuedWriterConnection, lock_path


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "blog.db"
    with open_queued(path) as setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
        setup.commit()
    yield path


def open_queued(path: Path, timeout: float = 0.0) -> sqlite3.Connection:
    return sqlite3.connect(
        path, factory=QueuedWriterConnection, timeout=timeout, check_same_thread=False
    )


def lock_is_free(path: Path) -> bool:
    """Whether no connection holds the database's writer lock file now."""
    fd = os.open(f"{path}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing lets our own lock go
    return True


def rows(path: Path) -> list[int]:
    with sqlite3.connect(path) as reader:
        return [x for (x,) in reader.execute("SELECT x FROM t ORDER BY x")]


def test_a_second_writer_waits_for_the_first_to_commit(database: Path) -> None:
    first = open_queued(database)
    first.execute("INSERT INTO t VALUES (1)")  # holds the write lock until commit
    events: list[str] = []

    def second_writer() -> None:
        second = open_queued(database)  # SQLite alone would refuse at once
        second.execute("INSERT INTO t VALUES (2)")
        events.append("second wrote")
        second.commit()
        second.close()

    thread = threading.Thread(target=second_writer)
    thread.start()
    time.sleep(0.2)
    events.append("first commits")
    first.commit()
    thread.join(timeout=10)
    assert events == ["first commits", "second wrote"]
    assert rows(database) == [1, 2]


def _hold_a_write(path: str, holding: multiprocessing.synchronize.Event, seconds: float) -> None:
    connection = open_queued(Path(path))
    connection.execute("INSERT INTO t VALUES (10)")
    holding.set()
    time.sleep(seconds)
    connection.commit()
    connection.close()


@contextmanager
def writer_in_another_process(database: Path, seconds: float) -> Iterator[BaseProcess]:
    """A process that holds a write transaction for ``seconds``, then commits; the
    block runs once it holds it, and the process is waited for after the block."""
    context = multiprocessing.get_context("spawn")
    holding = context.Event()
    process = context.Process(target=_hold_a_write, args=(str(database), holding, seconds))
    process.start()
    try:
        assert holding.wait(timeout=30), "the other process never started its write"
        yield process
    finally:
        process.join(timeout=30)


def test_writers_in_other_processes_take_turns_too(database: Path) -> None:
    with writer_in_another_process(database, 0.3) as process:
        mine = open_queued(database)
        mine.execute("INSERT INTO t VALUES (11)")  # queued behind the other process
        mine.commit()
        mine.close()
    assert process.exitcode == 0
    assert rows(database) == [10, 11]


def test_a_writer_killed_while_holding_the_lock_lets_it_go(database: Path) -> None:
    with writer_in_another_process(database, 60.0) as process:
        assert not lock_is_free(database)
        process.kill()  # SIGKILL: no commit, no rollback, no close
    assert lock_is_free(database)
    mine = open_queued(database)
    mine.execute("INSERT INTO t VALUES (11)")
    mine.commit()
    assert rows(database) == [11]  # the killed writer's row was never committed


def _commit(connection: sqlite3.Connection) -> None:
    connection.commit()


def _rollback(connection: sqlite3.Connection) -> None:
    connection.rollback()


def _close(connection: sqlite3.Connection) -> None:
    connection.close()


@pytest.mark.parametrize("end", [_commit, _rollback, _close], ids=["commit", "rollback", "close"])
def test_the_lock_is_let_go_when_the_transaction_ends(
    database: Path, end: Callable[[sqlite3.Connection], None]
) -> None:
    first = open_queued(database)
    first.execute("INSERT INTO t VALUES (1)")
    assert not lock_is_free(database)
    end(first)
    assert lock_is_free(database)


def test_a_failed_write_holds_the_lock_until_its_rollback(database: Path) -> None:
    first = open_queued(database)
    first.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(sqlite3.IntegrityError):
        first.execute("INSERT INTO t VALUES (1)")
    assert first.in_transaction
    assert not lock_is_free(database)
    first.rollback()
    assert lock_is_free(database)
    other = open_queued(database)
    other.execute("INSERT INTO t VALUES (1)")
    other.commit()
    assert rows(database) == [1]


def test_reads_do_not_wait_for_a_writer(database: Path) -> None:
    writer = open_queued(database)
    writer.execute("INSERT INTO t VALUES (1)")
    reader = open_queued(database)
    assert reader.execute("SELECT count(*) FROM t").fetchone() == (0,)
    assert reader.in_transaction is False
    writer.commit()
    assert reader.execute("SELECT count(*) FROM t").fetchone() == (1,)
    assert lock_is_free(database)


def test_a_write_outside_a_transaction_lets_the_lock_go_at_once(database: Path) -> None:
    autocommit = open_queued(database)
    autocommit.isolation_level = None  # each statement commits itself
    autocommit.executemany("INSERT INTO t VALUES (?)", [(1,), (2,)])
    assert lock_is_free(database)
    assert rows(database) == [1, 2]


def test_a_thread_never_waits_for_its_own_other_connection(database: Path) -> None:
    first = open_queued(database)
    first.execute("INSERT INTO t VALUES (1)")
    second = open_queued(database, timeout=0.1)
    started = time.monotonic()
    # Waiting for the file would wait for ourselves (five seconds, then the
    # same answer): SQLite answers at once instead.
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        second.execute("INSERT INTO t VALUES (2)")
    assert time.monotonic() - started < 2.0
    first.rollback()


def test_the_blogs_engine_queues_its_writers(tmp_path: Path) -> None:
    database = tmp_path / "blog.db"
    engine = make_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
        with engine.connect() as connection:
            assert isinstance(connection.connection.dbapi_connection, QueuedWriterConnection)
            connection.execute(text("INSERT INTO t VALUES (1)"))
            other = open_queued(database)
            events: list[str] = []
            thread = threading.Thread(
                target=lambda: (other.execute("INSERT INTO t VALUES (2)"), events.append("other"))
            )
            thread.start()
            time.sleep(0.2)
            events.append("engine commits")
            connection.commit()
            thread.join(timeout=10)
            other.commit()
        assert events == ["engine commits", "other"]
        assert os.path.exists(f"{database}-writer.lock")
    finally:
        engine.dispose()


def test_an_in_memory_database_has_no_lock_file() -> None:
    assert lock_path(":memory:") is None
    assert lock_path("") is None
    connection = sqlite3.connect(":memory:", factory=QueuedWriterConnection)
    connection.execute("CREATE TABLE t (x)")
    connection.execute("INSERT INTO t VALUES (1)")
    connection.commit()
    assert connection.execute("SELECT x FROM t").fetchall() == [(1,)]


def test_without_a_lock_file_sqlite_decides_and_says_so(
    database: Path, caplog: pytest.LogCaptureFixture
) -> None:
    os.remove(f"{database}-writer.lock")
    os.mkdir(f"{database}-writer.lock")  # a path that cannot be opened as a file
    connection = open_queued(database, timeout=5.0)
    assert "writers will not queue" in caplog.text
    connection.execute("INSERT INTO t VALUES (1)")
    connection.commit()
    assert rows(database) == [1]
