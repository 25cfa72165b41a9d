"""Background jobs through a transactional outbox: work that must happen after a commit.

Framework-neutral. Some work belongs after a request, not in it: sending a mail
takes a network round trip to an SMTP server that may be slow or down, and a
request should not wait for it, nor fail because of it. The easy way, "commit,
then put a message on a queue", loses the job whenever the process dies (or the
queue is unreachable) between the two steps, and the reverse order sends mail
about changes that were then rolled back.

The outbox closes that gap: :func:`enqueue` adds a row to ``outbox_jobs`` in
the *caller's* transaction, so the job is committed together with the change
that causes it, or not at all. A dispatcher then drains the table:

1. :func:`claim_due` takes a batch of due jobs in one ``WITH due AS (SELECT
   ... LIMIT n) UPDATE ... WHERE id IN (SELECT id FROM due) AND
   (claimed_until IS NULL OR claimed_until < now)``, which sets a
   lease (``claimed_until``) and a random ``claim_token``. The statement is
   atomic on both databases (SQLite holds its write lock for it; PostgreSQL
   re-checks the ``WHERE`` of a row another transaction just changed, and
   ``SKIP LOCKED`` lets a second dispatcher pass over rows being claimed), so a
   job claimed by one process, on any host, is not taken by another while the
   lease holds.
2. The job's function runs, outside any transaction.
3. The job is marked ``done``; on an exception it is retried later with
   exponential backoff (``JOBS_RETRY_DELAY * 2 ** (attempt - 1)``), and after
   ``JOBS_MAX_ATTEMPTS`` claims it is parked as ``failed`` for a person to
   look at (``jobs failed``, ``jobs retry``).

**At least once.** A process killed after the job's effect (the mail was
accepted) but before step 3 leaves the claim to expire, and the job runs
again: a job function must tolerate running twice. A mail does so by carrying
a ``Message-ID`` derived from the job (``blog_api/mail.py``), so a second
copy is recognisably the same message.

Who drains it: a :class:`Dispatcher` thread in each app process (started at
the first request and woken by every commit that enqueued a job), or the
``jobs run`` command. In ``thread`` mode (the default without ``REDIS_URL``)
the thread runs the jobs itself; in ``celery`` mode (the default with
``REDIS_URL``) it publishes what it claims to Celery workers
(:func:`relay_due`, ``blog_api/celery_worker.py``), which run the same job
functions (:func:`run_claimed`). Done jobs are deleted once they are older
than ``JOBS_KEEP_DONE`` (:func:`sweep_done`). ``docs/jobs.md`` tells the whole
story.

Example::

    jobs.enqueue(session, "mail", {"to": "ann@example.com", "subject": "Hi", "body": "..."})
    session.commit()          # the job exists from here on, and only if this succeeds
    jobs.run_due(engine, app.config)
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, event, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from blog_api.models import OutboxJob, utcnow

log = logging.getLogger(__name__)

#: ``session.info`` key set by :func:`enqueue`: the session's next commit wakes
#: the dispatcher thread, so a job starts at once instead of at the next poll.
ENQUEUED = "blog_jobs_enqueued"
#: Jobs claimed per statement: enough to drain a burst, few enough that a
#: dispatcher killed mid-batch leaves little waiting for its lease to expire.
BATCH_SIZE = 20
#: ``last_error`` keeps the start of the exception's text.
MAX_ERROR_LENGTH = 2000
#: Seconds between two sweeps of done jobs by one dispatcher thread: the
#: DELETE is cheap, but there is no reason to run it at every poll.
SWEEP_INTERVAL = 3600


@dataclass(frozen=True)
class Job:
    """A claimed job, as its function sees it."""

    id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


#: A job function: the job, and the app's settings (where the SMTP server is...).
Handler = Callable[[Job, Mapping[str, Any]], None]
#: kind -> function, filled by :func:`job` as the modules that define jobs are imported.
HANDLERS: dict[str, Handler] = {}


def job(kind: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the one that runs jobs of ``kind``.

    Example::

        @jobs.job("mail")
        def send_mail(job: Job, config: Mapping[str, Any]) -> None: ...
    """

    def register(function: Handler) -> Handler:
        HANDLERS[kind] = function
        return function

    return register


def enqueue(session: Session, kind: str, payload: dict[str, Any]) -> OutboxJob:
    """Add a job to the caller's transaction; it exists once, and only if, that commits.

    Args:
        session: the session whose transaction holds the change causing the job.
        kind: a kind registered with :func:`job`.
        payload: the job's arguments; must be JSON-serialisable.

    Raises:
        ValueError: no function runs jobs of ``kind`` (a typo would otherwise
            only show when the job is parked as failed).
    """
    if kind not in HANDLERS:
        raise ValueError(f"no job function is registered for {kind!r}")
    row = OutboxJob(
        kind=kind,
        payload=json.dumps(payload),
        status="pending",
        attempts=0,
        next_attempt_at=utcnow(),
        created_at=utcnow(),
    )
    session.add(row)
    session.info[ENQUEUED] = True
    return row


@dataclass(frozen=True)
class JobSettings:
    """How jobs are claimed and retried (``BLOG_JOBS_*``)."""

    lease: int = 60
    max_attempts: int = 8
    retry_delay: int = 30

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> JobSettings:
        """Read the settings from an app config (or any mapping)."""
        return cls(
            int(config["JOBS_LEASE"]),
            int(config["JOBS_MAX_ATTEMPTS"]),
            int(config["JOBS_RETRY_DELAY"]),
        )

    def backoff(self, attempts: int) -> timedelta:
        """The wait before the next try after ``attempts`` tries failed: doubling each time."""
        return timedelta(seconds=self.retry_delay * 2 ** max(attempts - 1, 0))


@dataclass
class RunResult:
    """What one :func:`run_due` did."""

    claimed: int = 0
    done: int = 0
    retrying: int = 0
    failed: int = 0


def run_due(
    engine: Engine,
    config: Mapping[str, Any],
    handlers: Mapping[str, Handler] | None = None,
    limit: int = BATCH_SIZE,
) -> RunResult:
    """Claim up to ``limit`` due jobs and run them, one after the other.

    Tests call it to run the outbox synchronously; the dispatcher thread and
    ``jobs run`` call it in a loop.
    """
    settings = JobSettings.from_config(config)
    token = uuid.uuid4().hex
    result = RunResult()
    for claimed in claim_due(engine, settings, token, limit):
        result.claimed += 1
        outcome = _run_one(engine, claimed, token, config, settings, handlers or HANDLERS)
        setattr(result, outcome, getattr(result, outcome) + 1)
    return result


def claim_due(
    engine: Engine, settings: JobSettings, token: str, limit: int, *, count: bool = True
) -> list[Job]:
    """Lease up to ``limit`` pending, due, unclaimed jobs to ``token``, in one statement.

    ``attempts`` counts runs, not failures: a job whose function kills its
    process every time must reach ``max_attempts`` too, so a claim that will
    run the job counts it at once. A claim that only publishes the job to a
    queue (:func:`relay_due`, ``count=False``) does not: with no Celery worker
    running, the job is published again at every lease, and those rounds must
    not use up its tries before any worker has run it (:func:`run_claimed`
    counts the run).
    """
    now = utcnow()
    row = OutboxJob
    free = or_(row.claimed_until.is_(None), row.claimed_until < now)
    due = (
        select(row.id)
        .where(row.status == "pending", row.next_attempt_at <= now, free)
        .order_by(row.next_attempt_at, row.id)
        .limit(limit)
        # PostgreSQL: pass over rows another dispatcher is claiming right now
        # instead of queueing behind it. SQLite has no row locks and drops it.
        .with_for_update(skip_locked=True)
        # A WITH query that PostgreSQL must run once. As a plain subquery it
        # may be planned as the inner side of a semi-join and re-run for each
        # row the UPDATE looks at, which claimed every due job, not ``limit``.
        .cte("due")
        .prefix_with("MATERIALIZED", dialect="postgresql")
    )
    statement = (
        update(row)
        # The conditions again, on the row as it is when the UPDATE reaches it:
        # on PostgreSQL a concurrent claim may have committed since the subquery read it.
        .where(row.id.in_(select(due.c.id)), row.status == "pending", free)
        .values(
            claimed_until=now + timedelta(seconds=settings.lease),
            claim_token=token,
            attempts=row.attempts + 1 if count else row.attempts,
        )
        .returning(row.id, row.kind, row.payload, row.attempts, row.created_at)
    )
    with engine.begin() as connection:
        rows = connection.execute(statement).all()
    jobs = [Job(r.id, r.kind, json.loads(r.payload), r.attempts, r.created_at) for r in rows]
    return sorted(jobs, key=lambda claimed: claimed.id)


def _run_one(
    engine: Engine,
    claimed: Job,
    token: str,
    config: Mapping[str, Any],
    settings: JobSettings,
    handlers: Mapping[str, Handler],
) -> str:
    """Run one claimed job and record how it went: ``done``, ``retrying`` or ``failed``."""
    handler = handlers.get(claimed.kind)
    try:
        if handler is None:
            raise LookupError(f"no job function is registered for {claimed.kind!r}")
        handler(claimed, config)
    except Exception as e:
        # Logged and recorded in the row (last_error); the job is retried or parked.
        log.warning("job %s (%s) failed: %s", claimed.id, claimed.kind, e, exc_info=True)
        return _record_failure(engine, claimed, token, settings, e)
    _finish(engine, claimed, token, status="done", done_at=utcnow(), payload="{}")
    return "done"


def _record_failure(
    engine: Engine, claimed: Job, token: str, settings: JobSettings, error: Exception
) -> str:
    """Schedule the next try with backoff, or park the job after its last attempt."""
    message = f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]
    if claimed.attempts >= settings.max_attempts:
        _finish(engine, claimed, token, status="failed", last_error=message)
        log.error("job %s (%s) parked after %s tries", claimed.id, claimed.kind, claimed.attempts)
        return "failed"
    retry_at = utcnow() + settings.backoff(claimed.attempts)
    _finish(engine, claimed, token, status="pending", next_attempt_at=retry_at, last_error=message)
    return "retrying"


def _finish(engine: Engine, claimed: Job, token: str, **values: Any) -> None:
    """Release the claim with ``values``, if it is still ours.

    A claim whose lease expired may have been taken by another dispatcher,
    which will record its own outcome; ours must not overwrite it.
    """
    row = OutboxJob
    statement = (
        update(row)
        .where(row.id == claimed.id, row.claim_token == token)
        .values(claimed_until=None, claim_token=None, **values)
    )
    with engine.begin() as connection:
        connection.execute(statement)


#: Hands a claimed job (its id and claim token) to another process: the Celery
#: task's ``delay`` (``blog_api/celery_worker.py``).
Publish = Callable[[int, str], Any]


def relay_due(
    engine: Engine, config: Mapping[str, Any], publish: Publish, limit: int = BATCH_SIZE
) -> RunResult:
    """Claim due jobs and hand each to ``publish`` (a Celery queue) instead of running it.

    The claim is the same as :func:`run_due`'s, so the outbox stays the record
    of what is owed: a job whose worker dies, or whose message the broker
    loses, is claimed and published again when its lease runs out. Publishing
    is not a run, so it does not count as an attempt (the worker's
    :func:`run_claimed` does). When ``publish`` fails (the broker is down),
    the claim is given back at once, and the rest of the batch waits for the
    next poll.
    """
    settings = JobSettings.from_config(config)
    token = uuid.uuid4().hex
    result = RunResult()
    claimed = claim_due(engine, settings, token, limit, count=False)
    for position, claimed_job in enumerate(claimed):
        try:
            publish(claimed_job.id, token)
        except Exception as e:
            log.warning("could not publish job %s, will try again: %s", claimed_job.id, e)
            for unpublished in claimed[position:]:
                _finish(engine, unpublished, token)
            break
        result.claimed += 1
    return result


def run_claimed(
    engine: Engine,
    config: Mapping[str, Any],
    job_id: int,
    token: str,
    handlers: Mapping[str, Handler] | None = None,
) -> str:
    """Run one job published by :func:`relay_due`, if its claim is still ``token``'s.

    The claim's lease is renewed first, in the same statement that checks it
    and counts the attempt: the job may have waited in the broker's queue for
    a while. A message whose claim was taken over (its lease ran out and the
    job was published again) runs nothing, so a slow queue does not send two
    copies.

    Returns:
        ``done``, ``retrying``, ``failed``, or ``skipped``.
    """
    settings = JobSettings.from_config(config)
    row = OutboxJob
    renew = (
        update(row)
        .where(row.id == job_id, row.claim_token == token, row.status == "pending")
        .values(
            claimed_until=utcnow() + timedelta(seconds=settings.lease),
            attempts=row.attempts + 1,
        )
        .returning(row.id, row.kind, row.payload, row.attempts, row.created_at)
    )
    with engine.begin() as connection:
        found = connection.execute(renew).first()
    if found is None:
        return "skipped"
    claimed = Job(found.id, found.kind, json.loads(found.payload), found.attempts, found.created_at)
    return _run_one(engine, claimed, token, config, settings, handlers or HANDLERS)


def failed_jobs(engine: Engine) -> list[OutboxJob]:
    """The parked jobs, oldest first (``jobs failed``)."""
    query = select(OutboxJob).where(OutboxJob.status == "failed").order_by(OutboxJob.id)
    with Session(engine) as session:
        return list(session.scalars(query))


def retry(engine: Engine, ids: Iterable[int] | None = None) -> int:
    """Make parked jobs (``ids``, or all of them) due now, with their attempts reset.

    Returns:
        How many jobs were parked and are pending again.
    """
    row = OutboxJob
    statement = update(row).where(row.status == "failed")
    if ids is not None:
        statement = statement.where(row.id.in_(list(ids)))
    statement = statement.values(status="pending", attempts=0, next_attempt_at=utcnow())
    with engine.begin() as connection:
        return connection.execute(statement).rowcount


def sweep_done(engine: Engine, older_than: timedelta) -> int:
    """Delete the done jobs finished more than ``older_than`` ago, in one statement.

    A done job's row is only a record once its mail has left (its payload is
    already emptied), so old ones can go; without this the table grows by a
    row for every mail ever sent. Pending jobs are owed work and failed jobs
    wait for a person (``jobs failed``), so neither is ever swept.

    Returns:
        How many rows were deleted.
    """
    row = OutboxJob
    cutoff = utcnow() - older_than
    statement = delete(row).where(row.status == "done", row.done_at < cutoff)
    with engine.begin() as connection:
        return connection.execute(statement).rowcount


class Dispatcher:
    """A daemon thread that drains the outbox inside an app process (``JOBS_DISPATCHER=thread``).

    Every gunicorn worker runs one, so ``make run`` alone delivers mail with no
    other service; the claims keep them (and any ``jobs run``) from running a
    job twice while its lease holds. The thread polls every ``poll_interval``
    seconds, and a commit that enqueued a job in this process wakes it at once
    (:meth:`on_commit`), so a mail usually leaves within milliseconds of the
    request that caused it. Once an hour (:data:`SWEEP_INTERVAL`) it also
    deletes the done jobs older than ``JOBS_KEEP_DONE`` (:func:`sweep_done`).

    It is started lazily by :meth:`ensure_started` (a ``before_request``
    function), not when the app is built: a command such as ``db upgrade``
    builds the app too and must not start draining, and a thread started in
    a process that then forks would not exist in the child.
    """

    def __init__(
        self,
        engine: Engine,
        config: Mapping[str, Any],
        run: Callable[[Engine, Mapping[str, Any]], RunResult] = run_due,
    ) -> None:
        self.engine = engine
        self.config = config
        self.poll_interval = float(config["JOBS_POLL_INTERVAL"])
        self.keep_done = timedelta(seconds=float(config["JOBS_KEEP_DONE"]))
        self._run = run
        self._next_sweep = 0.0  # time.monotonic() of the next sweep; 0: the first round sweeps
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def ensure_started(self) -> None:
        """Start the thread in this process if it is not running (cheap when it is)."""
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="blog-jobs", daemon=True)
            self._thread.start()
            self._pid = os.getpid()

    def on_commit(self, session: Session) -> None:
        """Session ``after_commit`` event: wake the thread if the commit enqueued a job."""
        if session.info.pop(ENQUEUED, False):
            self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread after the job it is running (tests, and orderly shutdowns)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._thread, self._pid = None, None

    def _loop(self) -> None:
        """Drain, then sleep until woken or the poll interval passes; until stopped."""
        while not self._stop.is_set():
            self._wake.clear()
            try:
                result = self._run(self.engine, self.config)
            except Exception:
                # The database is unreachable, say: the jobs wait in it, so
                # log and look again at the next poll.
                log.exception("the job dispatcher could not read the outbox")
                result = RunResult()
            self.sweep_if_due()
            if result.claimed < BATCH_SIZE:
                self._wake.wait(self.poll_interval)

    def sweep_if_due(self) -> int:
        """Delete old done jobs if the last sweep is an hour ago; how many went.

        A failed sweep is logged and tried again an hour later: the rows only
        take room, and the loop must go on delivering.
        """
        now = time.monotonic()
        if now < self._next_sweep:
            return 0
        self._next_sweep = now + SWEEP_INTERVAL
        try:
            deleted = sweep_done(self.engine, self.keep_done)
        except Exception:
            log.exception("the job dispatcher could not sweep the done jobs")
            return 0
        if deleted:
            log.info("swept %s done job(s) older than %s", deleted, self.keep_done)
        return deleted


def __getattr__(name: str) -> Any:
    """``celery -A blog_api.jobs worker`` asks this module for ``app`` (or ``celery``).

    Answered lazily from ``blog_api/celery_worker.py``, so importing the jobs
    module (every web worker does) does not import Celery.
    """
    if name in {"app", "celery"}:
        from blog_api import celery_worker

        return celery_worker.app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _relay_to_celery(engine: Engine, config: Mapping[str, Any]) -> RunResult:
    """The dispatcher's round in ``celery`` mode: claim, and publish to the workers."""
    from blog_api import celery_worker

    return relay_due(engine, config, celery_worker.publish)


def dispatcher_mode(config: Mapping[str, Any]) -> str:
    """``JOBS_DISPATCHER`` if set; else ``off`` in a TESTING app, ``celery`` with ``REDIS_URL``.

    The issue asked that a deployment with Redis run its jobs on Celery
    workers without a second setting. Tests run the outbox themselves
    (:func:`run_due`), so a TESTING app gets ``off`` even with Redis; an app
    with neither setting gets ``thread``, which needs no other process.
    """
    mode = config.get("JOBS_DISPATCHER")
    if mode:
        return str(mode)
    if config.get("TESTING"):
        return "off"
    return "celery" if config.get("REDIS_URL") else "thread"


def init_app(app: Any, session_factory: sessionmaker[Session], engine: Engine) -> Dispatcher:
    """Give ``app`` its dispatcher (``app.extensions["blog_jobs"]``), armed if the mode says so.

    In ``thread`` mode the thread starts at the app's first request, and the
    app's sessions wake it when they commit a job. ``celery`` mode is the
    same thread, publishing the jobs it claims to Celery workers instead of
    running them. In ``off`` mode nothing drains the outbox in this process:
    ``jobs run``, another process, or a test calling :func:`run_due` must.

    Raises:
        ValueError: ``celery`` mode without ``REDIS_URL``.
        RuntimeError: ``celery`` mode without Celery installed.
    """
    mode = dispatcher_mode(app.config)
    if mode == "celery":
        _check_celery(app.config)
    dispatcher = Dispatcher(engine, app.config, _relay_to_celery if mode == "celery" else run_due)
    app.extensions["blog_jobs"] = dispatcher
    if mode in {"thread", "celery"}:
        event.listen(session_factory, "after_commit", dispatcher.on_commit)
        app.before_request(dispatcher.ensure_started)
    return dispatcher


def _check_celery(config: Mapping[str, Any]) -> None:
    """Refuse ``celery`` mode at start-up when it could never deliver a job.

    ``find_spec`` looks for Celery without importing it: web processes only
    publish, and import it at their first publish, not at start-up.
    """
    if not config.get("REDIS_URL"):
        raise ValueError("BLOG_JOBS_DISPATCHER=celery needs BLOG_REDIS_URL (the broker)")
    if importlib.util.find_spec("celery") is None:
        why = (
            "BLOG_JOBS_DISPATCHER=celery"
            if config.get("JOBS_DISPATCHER")
            else "the default when BLOG_REDIS_URL is set"
        )
        raise RuntimeError(
            f"the job dispatcher is celery ({why}) but Celery is not installed: "
            "pip install -e '.[celery]' and run "
            "`celery -A blog_api.jobs worker`, or set BLOG_JOBS_DISPATCHER=thread "
            "to send the jobs from the web processes"
        )
