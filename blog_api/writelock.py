"""SQLite's writers take turns on a lock file that wakes them within a tenth of a millisecond.

SQLite lets one connection write at a time. A second writer that finds the
lock taken waits in SQLite's busy handler (``PRAGMA busy_timeout``), which
sleeps 1, 2, 5, 10 ms... between tries instead of waking when the lock is
freed. A blog write holds the lock for a few tenths of a millisecond, so a
writer that waits sleeps several times longer than it had to: under gunicorn
with two sync workers, 13 % of ``POST /posts`` waited so, 1.4 ms on average,
8 % of a worker's time (``benchmarks/where_time_goes.md``).

So each SQLite connection of the blog (:class:`QueuedWriterConnection`, made
by ``db.make_engine``) takes an exclusive ``flock`` on ``<database>-writer.lock``
before the statement that starts its write transaction, and lets it go when
that transaction ends (commit, rollback or close). A writer that finds it
taken tries again every :data:`RETRY_SECONDS`, so it starts within about that
long of the other's commit. Every connection opens the file itself, so
threads of one process take turns as processes do.

The file only orders the blog's own writers; SQLite's lock still decides, and
its busy handler still waits for any other writer (the ``sqlite3`` shell, a
migration run). The wait here is bounded by :data:`WAIT_SECONDS` (the same as
``busy_timeout``): after it, or at once when this thread already holds the
file through another connection (which would otherwise wait for itself), the
statement goes on to SQLite, which answers as it did without the file.

PERF: the plain version is ``busy_timeout`` alone. Under gunicorn with the
benchmark's settings, the file gave sync workers 1.26-1.29x the ``POST /posts``
a second and cut gthread's ``POST`` p99 from 70 to 22-25 ms; where nobody
waits it costs about 3 us per statement (one-post SELECT, 54 against 57 us)
and 1.8 us per write transaction (``benchmarks/where_time_goes.md``, fifth pass).
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
import weakref
from typing import Any

log = logging.getLogger(__name__)

#: How long a writer waits for the file before it leaves the wait to SQLite.
WAIT_SECONDS = 5.0
#: How often a waiting writer tries the file again.
RETRY_SECONDS = 0.0001
#: The statements before which Python's ``sqlite3`` opens a transaction (its
#: legacy transaction control): those that write rows.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")

#: The lock this thread holds, if any (see :meth:`WriterLock.acquire`), as a
#: weak reference: a connection dropped unclosed must not leave it marked held.
_held_by_thread = threading.local()


def _held_here() -> WriterLock | None:
    """The writer lock this thread holds through one of its connections, if any."""
    reference: weakref.ref[WriterLock] | None = getattr(_held_by_thread, "lock", None)
    lock = reference() if reference is not None else None
    return lock if lock is not None and lock.held else None


def lock_path(database: str) -> str | None:
    """The lock file of a database file; ``None`` for an in-memory database."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return f"{database}-writer.lock"


class WriterLock:
    """One connection's handle on the database's writer lock file."""

    def __init__(self, path: str, mode: int) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, mode)
        self.held = False
        # Closing the file lets the lock go; a connection dropped without
        # close() closes it when this object is collected.
        self._closer = weakref.finalize(self, os.close, self._fd)

    def acquire(self) -> None:
        """Wait for the file, at most :data:`WAIT_SECONDS`; then go on regardless."""
        if _held_here() is not None:
            return  # this thread's other connection holds it: SQLite decides
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return
                time.sleep(RETRY_SECONDS)
                continue
            self.held = True
            _held_by_thread.lock = weakref.ref(self)
            return

    def release(self) -> None:
        """Let the next writer in (nothing when this handle does not hold the file)."""
        if not self.held:
            return
        self.held = False
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        """Release and close the file (the connection is closing)."""
        self.release()
        self._closer()


class QueuedWriterCursor(sqlite3.Cursor):
    """A cursor that takes the writer lock before a statement that starts a write."""

    connection: QueuedWriterConnection

    def execute(self, sql: str, parameters: Any = (), /) -> QueuedWriterCursor:
        if self.connection.lock_for(sql) is None:
            return super().execute(sql, parameters)  # a read, or inside a transaction
        try:
            return super().execute(sql, parameters)
        finally:
            self.connection.after_statement()

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> QueuedWriterCursor:
        if self.connection.lock_for(sql) is None:
            return super().executemany(sql, seq_of_parameters)
        try:
            return super().executemany(sql, seq_of_parameters)
        finally:
            self.connection.after_statement()


class QueuedWriterConnection(sqlite3.Connection):
    """A ``sqlite3`` connection whose writes wait their turn on ``<database>-writer.lock``.

    Pass it as ``sqlite3.connect(path, factory=QueuedWriterConnection)``;
    ``db.make_engine`` does, through SQLAlchemy's ``connect_args``.
    """

    def __init__(self, database: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(database, *args, **kwargs)
        self._writer_lock = _open_lock(os.fspath(database))

    def cursor(self, factory: Any = QueuedWriterCursor) -> Any:
        return super().cursor(factory)

    # sqlite3's shortcuts make their cursor in C, not through cursor().
    def execute(self, sql: str, parameters: Any = (), /) -> QueuedWriterCursor:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> QueuedWriterCursor:
        return self.cursor().executemany(sql, seq_of_parameters)

    def lock_for(self, sql: str) -> WriterLock | None:
        """The writer lock, taken now when ``sql`` opens a write transaction; ``None``
        when the statement has nothing to do with it (a read, a statement inside a
        transaction this connection opened without it)."""
        lock = self._writer_lock
        if lock is None or lock.held:
            return lock  # held: the statement may end the transaction (after_statement)
        if self.in_transaction or not sql.lstrip()[:7].upper().startswith(_WRITES):
            return None
        lock.acquire()
        return lock

    def after_statement(self) -> None:
        """Let the lock go once no transaction is open: after a commit, a rollback,
        or a write that ran outside a transaction (autocommit)."""
        lock = self._writer_lock
        if lock is not None and lock.held and not self.in_transaction:
            lock.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.after_statement()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.after_statement()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._writer_lock is not None:
                self._writer_lock.close()
                self._writer_lock = None


def _open_lock(database: str) -> WriterLock | None:
    """The database's writer lock, made with the database file's permissions (as
    SQLite makes its ``-wal`` and ``-shm`` files); ``None`` when there is no file
    to lock, or it cannot be opened (a read-only directory): SQLite decides then."""
    path = lock_path(database)
    if path is None:
        return None
    try:
        mode = os.stat(database).st_mode & 0o666
    except OSError:
        mode = 0o644
    try:
        return WriterLock(path, mode)
    except OSError as problem:
        log.warning(
            "writers will not queue on %s (%s); SQLite's busy handler waits instead", path, problem
        )
        return None
