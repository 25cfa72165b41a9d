"""The transactional outbox (blog_api/jobs.py): enqueue, claim, run, retry, park; the CLI.

A job exists exactly when the transaction that enqueued it committed; a
claim is never held by two dispatchers at once (threads racing on SQLite and
on PostgreSQL); failures are retried with backoff and then parked, and
``jobs retry`` brings them back; a dispatcher that dies after the mail was
sent leaves the job to be sent again, with the same ``Message-ID``, once the
lease runs out. Done jobs older than ``JOBS_KEEP_DONE`` are swept (by the
dispatcher thread hourly, or ``jobs sweep``); pending and failed ones never.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, update

from blog_api import create_app, jobs, mail
from blog_api.db import make_engine, make_session_factory
from blog_api.models import OutboxJob, PasswordReset, utcnow
from blog_api.services import password_resets
from tests.blog_api.conftest import Api, make_config
from tests.blog_api.mailbox import SMTPServer

SETTINGS = {
    "JOBS_LEASE": 60,
    "JOBS_MAX_ATTEMPTS": 3,
    "JOBS_RETRY_DELAY": 10,
    "JOBS_POLL_INTERVAL": 0.05,
}


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a migrated database of each kind."""
    from blog_api import migrate

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'jobs.db'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    migrate.upgrade(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def add_jobs(engine: Engine, count: int, kind: str = "record") -> list[int]:
    """Enqueue ``count`` jobs of ``kind`` in one committed transaction; their ids."""
    with make_session_factory(engine)() as session:
        rows = [jobs.enqueue(session, kind, {"n": n}) for n in range(count)]
        session.commit()
        return [row.id for row in rows]


def job_row(engine: Engine, job_id: int) -> OutboxJob:
    with make_session_factory(engine)() as session:
        row = session.get(OutboxJob, job_id)
        assert row is not None
        return row


def expire_leases(engine: Engine) -> None:
    """Make every claim's lease run out, as if its dispatcher died long ago."""
    with engine.begin() as connection:
        connection.execute(update(OutboxJob).values(claimed_until=utcnow() - timedelta(seconds=1)))


def make_due(engine: Engine) -> None:
    """Skip the backoff wait: every pending job is due now."""
    with engine.begin() as connection:
        connection.execute(update(OutboxJob).values(next_attempt_at=utcnow()))


@pytest.fixture
def recorded() -> Iterator[list[int]]:
    """A ``record`` job kind that notes each ``n`` it runs, and a ``broken`` one that fails."""
    seen: list[int] = []

    def record(job: jobs.Job, config: Mapping[str, Any]) -> None:
        seen.append(job.payload["n"])

    def broken(job: jobs.Job, config: Mapping[str, Any]) -> None:
        raise ConnectionRefusedError("the server is down")

    jobs.HANDLERS.update(record=record, broken=broken)
    yield seen
    del jobs.HANDLERS["record"], jobs.HANDLERS["broken"]


def test_a_job_exists_only_if_its_transaction_commits(engine: Engine, recorded: list[int]) -> None:
    with make_session_factory(engine)() as session:
        jobs.enqueue(session, "record", {"n": 1})
        session.rollback()
        jobs.enqueue(session, "record", {"n": 2})
        session.commit()
    assert jobs.run_due(engine, SETTINGS).done == 1
    assert recorded == [2]


def test_enqueue_refuses_a_kind_nothing_runs(engine: Engine) -> None:
    with make_session_factory(engine)() as session, pytest.raises(ValueError, match="nope"):
        jobs.enqueue(session, "nope", {})


def test_a_done_job_is_marked_and_its_payload_emptied(engine: Engine, recorded: list[int]) -> None:
    [job_id] = add_jobs(engine, 1)
    result = jobs.run_due(engine, SETTINGS)
    assert (result.claimed, result.done) == (1, 1)
    row = job_row(engine, job_id)
    assert (row.status, row.attempts, row.payload, row.claimed_until) == ("done", 1, "{}", None)
    assert row.done_at is not None
    assert jobs.run_due(engine, SETTINGS).claimed == 0  # never run twice by one dispatcher


def test_a_claim_is_not_taken_again_until_its_lease_runs_out(
    engine: Engine, recorded: list[int]
) -> None:
    [job_id] = add_jobs(engine, 1)
    settings = jobs.JobSettings.from_config(SETTINGS)
    first = jobs.claim_due(engine, settings, "a" * 32, 10)
    assert [job.id for job in first] == [job_id]
    assert jobs.claim_due(engine, settings, "b" * 32, 10) == []
    expire_leases(engine)
    [again] = jobs.claim_due(engine, settings, "c" * 32, 10)
    assert (again.id, again.attempts) == (job_id, 2)


def test_a_claim_takes_at_most_its_limit(engine: Engine, recorded: list[int]) -> None:
    # PostgreSQL once claimed all 8: it re-ran the LIMIT ... FOR UPDATE
    # subquery for every row the UPDATE looked at (a semi-join's rescans).
    ids = add_jobs(engine, 8)
    settings = jobs.JobSettings.from_config(SETTINGS)
    claimed = jobs.claim_due(engine, settings, "a" * 32, limit=2)
    assert [job.id for job in claimed] == ids[:2]
    with engine.connect() as connection:
        tokens = connection.scalars(select(OutboxJob.claim_token).order_by(OutboxJob.id)).all()
    assert tokens == ["a" * 32] * 2 + [None] * 6
    assert jobs.run_due(engine, SETTINGS, limit=3).claimed == 3


def test_concurrent_dispatchers_never_claim_one_job_twice(
    engine: Engine, recorded: list[int]
) -> None:
    """Four threads, each with its own connections, claim 200 jobs in small batches."""
    add_jobs(engine, 200)
    settings = jobs.JobSettings.from_config(SETTINGS)
    claims: Counter[int] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(4)

    def dispatcher(name: str) -> None:
        start.wait()
        while batch := jobs.claim_due(engine, settings, name * 32, 7):
            with lock:
                claims.update(job.id for job in batch)

    threads = [threading.Thread(target=dispatcher, args=(name,)) for name in "abcd"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claims) == 200
    assert set(claims.values()) == {1}


def test_a_failing_job_is_retried_with_backoff_then_parked(
    engine: Engine, recorded: list[int]
) -> None:
    [job_id] = add_jobs(engine, 1, kind="broken")
    before = utcnow()
    assert jobs.run_due(engine, SETTINGS).retrying == 1
    row = job_row(engine, job_id)
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error == "ConnectionRefusedError: the server is down"
    assert timedelta(seconds=10) <= row.next_attempt_at - before < timedelta(seconds=12)
    assert jobs.run_due(engine, SETTINGS).claimed == 0  # not due yet
    make_due(engine)
    before = utcnow()
    assert jobs.run_due(engine, SETTINGS).retrying == 1
    # The wait doubles: 10 s after the first failure, 20 s after the second.
    assert timedelta(seconds=20) <= job_row(engine, job_id).next_attempt_at - before
    make_due(engine)
    assert jobs.run_due(engine, SETTINGS).failed == 1
    assert job_row(engine, job_id).status == "failed"
    make_due(engine)
    assert jobs.run_due(engine, SETTINGS).claimed == 0
    assert [row.id for row in jobs.failed_jobs(engine)] == [job_id]


def test_retry_makes_parked_jobs_due_with_fresh_attempts(
    engine: Engine, recorded: list[int]
) -> None:
    ids = add_jobs(engine, 2, kind="broken")
    with engine.begin() as connection:
        connection.execute(update(OutboxJob).values(status="failed", attempts=3))
    assert jobs.retry(engine, [ids[0]]) == 1
    assert job_row(engine, ids[0]).status == "pending"
    assert job_row(engine, ids[0]).attempts == 0
    assert job_row(engine, ids[1]).status == "failed"
    assert jobs.retry(engine) == 1
    assert jobs.retry(engine) == 0


def test_a_job_that_kills_its_dispatcher_every_time_is_parked(
    engine: Engine, recorded: list[int]
) -> None:
    """Claims count as attempts: a job nobody ever finishes cannot loop forever."""
    [job_id] = add_jobs(engine, 1)
    settings = jobs.JobSettings.from_config(SETTINGS)
    for _ in range(3):  # claimed, then the process "dies": nothing is recorded
        assert jobs.claim_due(engine, settings, "x" * 32, 10)
        expire_leases(engine)
    jobs.HANDLERS["record"] = jobs.HANDLERS["broken"]
    assert jobs.run_due(engine, SETTINGS).failed == 1  # the fourth claim is past the limit
    assert job_row(engine, job_id).attempts == 4


def test_publishing_to_an_idle_queue_does_not_use_up_a_jobs_tries(
    engine: Engine, recorded: list[int]
) -> None:
    """Celery mode with no worker running: each lease publishes the job again, uncounted."""
    [job_id] = add_jobs(engine, 1)
    published: list[tuple[int, str]] = []
    for _ in range(SETTINGS["JOBS_MAX_ATTEMPTS"] + 2):  # more rounds than the job has tries
        relayed = jobs.relay_due(engine, SETTINGS, lambda *message: published.append(message))
        assert relayed.claimed == 1
        expire_leases(engine)
    assert job_row(engine, job_id).attempts == 0
    # A worker finally runs the last message: that run is the first attempt.
    assert jobs.run_claimed(engine, SETTINGS, *published[-1]) == "done"
    assert recorded == [0] and job_row(engine, job_id).attempts == 1
    # An older message's claim was taken over: it runs nothing.
    assert jobs.run_claimed(engine, SETTINGS, *published[0]) == "skipped"


def test_a_job_a_worker_fails_counts_each_run_and_is_parked_after_the_last(
    engine: Engine, recorded: list[int]
) -> None:
    [job_id] = add_jobs(engine, 1, kind="broken")
    published: list[tuple[int, str]] = []
    for attempt in range(1, SETTINGS["JOBS_MAX_ATTEMPTS"] + 1):
        jobs.relay_due(engine, SETTINGS, lambda *message: published.append(message))
        outcome = jobs.run_claimed(engine, SETTINGS, *published[-1])
        assert job_row(engine, job_id).attempts == attempt
        make_due(engine)
    assert outcome == "failed" and job_row(engine, job_id).status == "failed"


# Mail through the outbox, at least once.


def smtp_config(tmp_path: Path, smtp_server: SMTPServer, **overrides: Any) -> dict[str, Any]:
    """App settings that send mail to the test's SMTP server."""
    return make_config(tmp_path, SMTP_URL=smtp_server.url, **{**SETTINGS, **overrides})


def test_a_mail_resent_after_its_dispatcher_died_has_the_same_message_id(
    tmp_path: Path, smtp_server: SMTPServer
) -> None:
    config = smtp_config(tmp_path, smtp_server)
    app = create_app("miniflask", config)
    engine = app.extensions["blog_db"].engine
    with app.extensions["blog_db"].session_factory() as session:
        mail.enqueue_mail(session, "ann@example.com", "Hello", "Twice, maybe.")
        session.commit()
    # A dispatcher claims the job and sends the mail, then is killed before
    # it can mark the job done.
    [claimed] = jobs.claim_due(engine, jobs.JobSettings.from_config(config), "k" * 32, 10)
    mail.send_mail(claimed, app.config)
    assert jobs.run_due(engine, app.config).claimed == 0  # its lease still holds
    expire_leases(engine)
    assert jobs.run_due(engine, app.config).done == 1
    first, second = smtp_server.wait_for(2)
    assert first["Message-ID"] == second["Message-ID"]
    assert first["Message-ID"].startswith(f"<job-{claimed.id}.")
    assert str(first) == str(second)  # the same message, byte for byte
    engine.dispose()


def test_a_refusing_smtp_server_parks_the_mail_and_jobs_retry_delivers_it(
    tmp_path: Path, smtp_server: SMTPServer
) -> None:
    app = create_app("flask", smtp_config(tmp_path, smtp_server, JOBS_MAX_ATTEMPTS=2))
    engine = app.extensions["blog_db"].engine
    with app.extensions["blog_db"].session_factory() as session:
        mail.enqueue_mail(session, "ann@example.com", "Hello", "Eventually.")
        session.commit()
    smtp_server.failing = True
    runner = app.test_cli_runner()
    assert "retrying later 1" in runner.invoke(args=["jobs", "run"]).output
    make_due(engine)
    assert "parked 1" in runner.invoke(args=["jobs", "run"]).output
    listing = runner.invoke(args=["jobs", "failed"]).output
    assert "2 attempts" in listing and "451" in listing and "1 failed job(s)" in listing
    smtp_server.failing = False
    assert runner.invoke(args=["jobs", "retry", "--all"]).output == "1 job(s) pending again\n"
    assert "done 1" in runner.invoke(args=["jobs", "run"]).output
    assert smtp_server.wait_for(1)[0]["Subject"] == "Hello"
    assert runner.invoke(args=["jobs", "failed"]).output == "0 failed job(s)\n"
    engine.dispose()


def test_jobs_retry_needs_ids_or_all(tmp_path: Path) -> None:
    app = create_app("miniflask", make_config(tmp_path))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["jobs", "retry"]).exit_code == 2
    assert runner.invoke(args=["jobs", "retry", "1", "--all"]).exit_code == 2
    assert runner.invoke(args=["jobs", "retry", "1"]).output == "0 job(s) pending again\n"
    app.extensions["blog_db"].engine.dispose()


# Sweeping done jobs.


def set_rows(engine: Engine, ids: list[int], **values: Any) -> None:
    """Give the jobs ``ids`` these column values, as time and outcomes would have."""
    with engine.begin() as connection:
        connection.execute(update(OutboxJob).where(OutboxJob.id.in_(ids)).values(**values))


def remaining_ids(engine: Engine) -> list[int]:
    with engine.connect() as connection:
        return list(connection.scalars(select(OutboxJob.id).order_by(OutboxJob.id)))


def add_swept_and_kept(engine: Engine) -> tuple[list[int], list[int]]:
    """Two done jobs eight days old (to sweep), and a week's jobs that must stay.

    The old ones ran for real (``run_due``) and were then made older. Those to
    keep: a done job six days old, and a pending and a failed job whose
    ``done_at`` is old too, so that only their status can save them.
    """
    old_done = add_jobs(engine, 2)
    assert jobs.run_due(engine, SETTINGS).done == 2
    recent_done, pending, failed = (add_jobs(engine, 2) for _ in range(3))
    long_ago = utcnow() - timedelta(days=8)
    set_rows(engine, old_done, done_at=long_ago)
    set_rows(engine, recent_done, status="done", done_at=utcnow() - timedelta(days=6))
    set_rows(engine, pending, done_at=long_ago)
    set_rows(engine, failed, status="failed", done_at=long_ago)
    return old_done, sorted(recent_done + pending + failed)


def test_sweep_deletes_only_done_jobs_older_than_the_cutoff(
    engine: Engine, recorded: list[int]
) -> None:
    old_done, kept = add_swept_and_kept(engine)
    assert jobs.sweep_done(engine, timedelta(days=7)) == len(old_done)
    assert remaining_ids(engine) == kept
    assert jobs.sweep_done(engine, timedelta(days=7)) == 0


def test_the_dispatcher_sweeps_at_most_once_an_hour(
    engine: Engine, recorded: list[int], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="blog_api.jobs")
    _, kept = add_swept_and_kept(engine)
    dispatcher = jobs.Dispatcher(engine, {**SETTINGS, "JOBS_KEEP_DONE": 7 * 24 * 3600})
    assert dispatcher.sweep_if_due() == 2
    assert "swept 2 done job(s)" in caplog.text
    more = add_jobs(engine, 1)
    set_rows(engine, more, status="done", done_at=utcnow() - timedelta(days=8))
    assert dispatcher.sweep_if_due() == 0  # within the hour: not even a statement
    assert remaining_ids(engine) == sorted(kept + more)
    dispatcher._next_sweep = time.monotonic()  # an hour later
    assert dispatcher.sweep_if_due() == 1
    assert remaining_ids(engine) == kept


def test_the_dispatcher_thread_sweeps_and_a_failing_sweep_does_not_stop_it(
    engine: Engine, recorded: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, kept = add_swept_and_kept(engine)
    config = {**SETTINGS, "JOBS_KEEP_DONE": 7 * 24 * 3600}
    dispatcher = jobs.Dispatcher(engine, config)
    dispatcher.ensure_started()
    try:
        deadline = time.monotonic() + 5
        while remaining_ids(engine) != kept and time.monotonic() < deadline:
            time.sleep(0.02)
        assert remaining_ids(engine) == kept
    finally:
        dispatcher.stop()

    def broken_sweep(engine: Engine, older_than: timedelta) -> int:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(jobs, "sweep_done", broken_sweep)
    rounds: list[int] = []

    def count_rounds(engine: Engine, config: Mapping[str, Any]) -> jobs.RunResult:
        rounds.append(1)
        return jobs.RunResult()

    survivor = jobs.Dispatcher(engine, config, count_rounds)
    survivor.ensure_started()
    try:
        deadline = time.monotonic() + 5
        while len(rounds) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(rounds) >= 3  # it went on polling after the sweep failed
    finally:
        survivor.stop()


def test_jobs_sweep_deletes_old_done_jobs_and_says_how_many(tmp_path: Path) -> None:
    app = create_app("miniflask", make_config(tmp_path))
    engine = app.extensions["blog_db"].engine
    with app.extensions["blog_db"].session_factory() as session:
        for subject in ("old", "recent"):
            mail.enqueue_mail(session, "ann@example.com", subject, "...")
        session.commit()
    runner = app.test_cli_runner()
    assert "done 2" in runner.invoke(args=["jobs", "run"]).output
    [old, recent] = remaining_ids(engine)
    set_rows(engine, [old], done_at=utcnow() - timedelta(days=2))
    assert runner.invoke(args=["jobs", "sweep"]).output == "0 done job(s) deleted\n"  # 7 days
    swept = runner.invoke(args=["jobs", "sweep", "--older-than", "86400"])
    assert swept.output == "1 done job(s) deleted\n"
    assert remaining_ids(engine) == [recent]
    assert runner.invoke(args=["jobs", "sweep", "--older-than", "-1"]).exit_code == 2
    engine.dispose()


# The web side: no job without its commit; the dispatcher thread.


def test_a_request_that_fails_after_enqueueing_leaves_no_job(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.register("alice")
    sessions = api.app.extensions["blog_db"].session_factory
    with sessions() as session:
        jobs_before = session.scalars(select(OutboxJob)).all()  # the confirmation mail
    real = password_resets.request_reset

    def request_then_fail(*args: Any) -> bool:
        real(*args)  # the link and its mail job are in the session...
        raise RuntimeError("the request dies before its commit")

    monkeypatch.setattr(password_resets, "request_reset", request_then_fail)
    response = api.client.post("/api/v1/auth/password-reset", json={"email": "alice@example.com"})
    assert response.status_code == 500
    with sessions() as session:
        assert len(session.scalars(select(OutboxJob)).all()) == len(jobs_before)
        assert session.scalars(select(PasswordReset)).all() == []


def test_the_dispatcher_mode_is_celery_by_default_when_redis_is_set() -> None:
    redis = {"REDIS_URL": "redis://127.0.0.1:6379/0"}
    assert jobs.dispatcher_mode({}) == "thread"
    assert jobs.dispatcher_mode({"REDIS_URL": None}) == "thread"
    assert jobs.dispatcher_mode(redis) == "celery"
    # Tests run the outbox themselves, Redis or not.
    assert jobs.dispatcher_mode({**redis, "TESTING": True}) == "off"
    # An explicit setting wins over both defaults.
    assert jobs.dispatcher_mode({**redis, "JOBS_DISPATCHER": "thread"}) == "thread"
    assert jobs.dispatcher_mode({**redis, "JOBS_DISPATCHER": "off"}) == "off"
    assert jobs.dispatcher_mode({**redis, "TESTING": True, "JOBS_DISPATCHER": "celery"}) == "celery"


def test_the_dispatcher_is_off_in_test_apps_and_starts_at_the_first_request_in_servers(
    tmp_path: Path, framework: str
) -> None:
    assert jobs.dispatcher_mode({"TESTING": True}) == "off"
    assert jobs.dispatcher_mode({}) == "thread"
    assert jobs.dispatcher_mode({"TESTING": True, "JOBS_DISPATCHER": "thread"}) == "thread"
    before = set(threading.enumerate())  # other tests' apps may have threads of their own
    app = create_app(framework, make_config(tmp_path, JOBS_DISPATCHER="thread", **SETTINGS))
    dispatcher = app.extensions["blog_jobs"]
    started = {thread.name for thread in set(threading.enumerate()) - before}
    assert "blog-jobs" not in started  # building the app (as the CLI does) starts nothing
    assert dispatcher._thread is None
    app.test_client().get("/api/v1/posts")
    assert dispatcher._thread is not None and dispatcher._thread.is_alive()
    dispatcher.stop()
    assert dispatcher._thread is None
    app.extensions["blog_db"].engine.dispose()


def test_the_dispatcher_thread_delivers_a_reset_mail_without_being_asked(
    tmp_path: Path, framework: str, smtp_server: SMTPServer
) -> None:
    config = smtp_config(tmp_path, smtp_server, JOBS_DISPATCHER="thread", JOBS_POLL_INTERVAL=30)
    app = create_app(framework, config)
    api = Api(app, app.test_client())
    api.register("alice")
    try:
        response = api.client.post(
            "/api/v1/auth/password-reset", json={"email": "alice@example.com"}
        )
        assert response.status_code == 202
        # The poll interval is 30 s: only the commit's wake-up can deliver it this soon.
        confirmation, reset = smtp_server.wait_for(2, timeout=5)  # registration mails too
        assert confirmation["Subject"] == "Confirm your e-mail address"
        assert (reset["To"], reset["Subject"]) == ("alice@example.com", "Reset your password")
    finally:
        app.extensions["blog_jobs"].stop()
        app.extensions["blog_db"].engine.dispose()
