"""Celery workers for the outbox (blog_api/celery_worker.py): real worker processes, real Redis.

The app's dispatcher thread, in ``celery`` mode, claims jobs and publishes
them; ``celery -A blog_api.jobs worker`` runs them. A worker killed with
SIGKILL in the middle of a batch loses nothing: once the claims' leases run
out the jobs are published again, every mail arrives, and any duplicate is
the same message (same ``Message-ID``, same bytes) as its first copy.
The tests of start-up (the default mode with ``BLOG_REDIS_URL``, its log line,
Celery missing) need neither; the others are skipped without Redis at
127.0.0.1:6379.
"""

from __future__ import annotations

import importlib
import logging
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import func, select

from blog_api import create_app, jobs, mail, migrate
from blog_api.models import OutboxJob
from tests.blog_api.conftest import SECRET, Api, make_config
from tests.blog_api.mailbox import SMTPServer
from tests.blog_api.test_jobs import expire_leases

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database the app and the workers share, of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'blog.db'}"
    url = str(request.getfixturevalue("postgres_url"))
    migrate.upgrade(url)
    return url


@pytest.fixture
def celery_env(
    tmp_path: Path,
    database_url: str,
    redis_settings: dict[str, str],
    smtp_server: SMTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[dict[str, str]]:
    """The BLOG_* settings shared by this test's app and workers; a queue of its own."""
    queue = f"blogtest-jobs-{uuid.uuid4().hex[:12]}"
    env = {
        "BLOG_DATABASE_URL": database_url,
        "BLOG_REDIS_URL": redis_settings["REDIS_URL"],
        "BLOG_SMTP_URL": smtp_server.url,
        "BLOG_JOBS_CELERY_QUEUE": queue,
        "BLOG_SECRET_KEY": SECRET,
        "BLOG_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    # Not a BLOG_* variable: the app's rate-limit keys get the test's own prefix.
    env["REDIS_PREFIX"] = redis_settings["REDIS_PREFIX"]
    from blog_api import celery_worker

    importlib.reload(celery_worker)  # its settings are read at import: this test's
    yield env
    client = redis.Redis.from_url(redis_settings["REDIS_URL"])
    for key in client.scan_iter(f"*{queue}*"):
        client.delete(key)
    # A killed worker's message stays in kombu's shared "unacked" hash (to be
    # restored to its queue an hour later): forget this test's.
    for tag, message in client.hgetall("unacked").items():
        if queue.encode() in message:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``celery -A blog_api.jobs worker``, one process running one job at a time."""
    command = [sys.executable, "-m", "celery", "-A", "blog_api.jobs", "worker", "--pool=solo"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"]
    with log.open("ab") as output:
        return subprocess.Popen(
            command, env={**os.environ, **env}, cwd=ROOT, stdout=output, stderr=output
        )


def stop(worker: subprocess.Popen[bytes]) -> None:
    """Stop a worker the polite way (SIGTERM: a warm shutdown), or kill it after 10 s."""
    worker.terminate()
    try:
        worker.wait(10)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(10)


def build(framework: str, tmp_path: Path, env: dict[str, str], **settings: Any) -> Any:
    config = make_config(
        tmp_path,
        DATABASE_URL=env["BLOG_DATABASE_URL"],
        REDIS_URL=env["BLOG_REDIS_URL"],
        SMTP_URL=env["BLOG_SMTP_URL"],
        JOBS_CELERY_QUEUE=env["BLOG_JOBS_CELERY_QUEUE"],
        REDIS_PREFIX=env["REDIS_PREFIX"],
        **settings,
    )
    return create_app(framework, config)


def test_celery_mode_needs_a_broker(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="BLOG_REDIS_URL"):
        create_app("miniflask", make_config(tmp_path, JOBS_DISPATCHER="celery"))


#: A server's settings (not TESTING) with a broker; nothing connects to it at start-up.
SERVER_WITH_REDIS = {"TESTING": False, "REDIS_URL": "redis://:hunter2@127.0.0.1:6379/0"}


def test_with_redis_a_server_publishes_to_celery_and_its_log_says_a_worker_must_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="blog_api")
    app = create_app("miniflask", make_config(tmp_path, **SERVER_WITH_REDIS))
    dispatcher = app.extensions["blog_jobs"]
    assert dispatcher._run is jobs._relay_to_celery
    [line] = [r.getMessage() for r in caplog.records if "job dispatcher" in r.getMessage()]
    assert "celery (Redis at 127.0.0.1)" in line and "hunter2" not in line
    assert "nothing is delivered until a worker runs `celery -A blog_api.jobs worker`" in line
    assert "BLOG_JOBS_DISPATCHER=thread sends from the web processes instead" in line
    app.extensions["blog_db"].engine.dispose()


def test_without_celery_installed_celery_mode_stops_the_start_with_both_remedies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "celery", None)  # find_spec("celery") is then None
    for settings, why in [
        (SERVER_WITH_REDIS, "the default when BLOG_REDIS_URL is set"),
        ({**SERVER_WITH_REDIS, "JOBS_DISPATCHER": "celery"}, "BLOG_JOBS_DISPATCHER=celery"),
    ]:
        with pytest.raises(RuntimeError) as refused:
            create_app("miniflask", make_config(tmp_path, **settings))
        message = str(refused.value)
        assert "\n" not in message and f"celery ({why}) but Celery is not installed" in message
        assert "pip install -e '.[celery]'" in message
        assert "or set BLOG_JOBS_DISPATCHER=thread" in message
    # The way out the message names: the thread sends the mail, no Celery needed.
    settings = {**SERVER_WITH_REDIS, "JOBS_DISPATCHER": "thread"}
    app = create_app("miniflask", make_config(tmp_path, **settings))
    assert app.extensions["blog_jobs"]._run is jobs.run_due
    app.extensions["blog_db"].engine.dispose()


def test_a_web_process_in_celery_mode_does_not_import_celery_at_start_up(tmp_path: Path) -> None:
    script = (
        "import sys; from blog_api import create_app, jobs; app = create_app('miniflask'); "
        "print(jobs.dispatcher_mode(app.config), 'celery' in sys.modules)"
    )
    env = {
        **os.environ,
        "BLOG_DATABASE_URL": f"sqlite:///{tmp_path / 'blog.db'}",
        "BLOG_REDIS_URL": SERVER_WITH_REDIS["REDIS_URL"],
        "BLOG_SECRET_KEY": SECRET,
        "BLOG_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    env.pop("BLOG_JOBS_DISPATCHER", None)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "celery False"


def test_a_reset_mail_goes_through_a_celery_worker(
    framework: str, tmp_path: Path, celery_env: dict[str, str], smtp_server: SMTPServer
) -> None:
    app = build(framework, tmp_path, celery_env, JOBS_DISPATCHER="celery")
    worker = start_worker(celery_env, tmp_path / "worker.log")
    api = Api(app, app.test_client())
    try:
        api.register("alice")
        response = api.client.post(
            "/api/v1/auth/password-reset", json={"email": "alice@example.com"}
        )
        assert response.status_code == 202
        arrived = smtp_server.wait_for(2, timeout=30)  # the confirmation, then the reset
        assert [m["Subject"] for m in arrived] == [
            "Confirm your e-mail address",
            "Reset your password",
        ]
    finally:
        app.extensions["blog_jobs"].stop()
        stop(worker)
        app.extensions["blog_db"].engine.dispose()


def test_a_worker_killed_mid_batch_loses_nothing_and_duplicates_are_the_same_message(
    tmp_path: Path, celery_env: dict[str, str], smtp_server: SMTPServer
) -> None:
    from blog_api import celery_worker

    app = build("miniflask", tmp_path, celery_env, JOBS_LEASE=60)
    engine = app.extensions["blog_db"].engine
    with app.extensions["blog_db"].session_factory() as session:
        for n in range(30):
            mail.enqueue_mail(session, f"reader{n}@example.com", f"Mail {n}", "Hello.")
        session.commit()
    assert jobs.relay_due(engine, app.config, celery_worker.publish, limit=100).claimed == 30
    smtp_server.delay = 0.05  # a slow server: the kill lands in the middle of the batch
    log = tmp_path / "worker.log"
    worker = start_worker(celery_env, log)
    try:
        smtp_server.wait_for(10, timeout=30)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        # The dead worker's claims run out; the dispatcher publishes the jobs again.
        expire_leases(engine)
        jobs.relay_due(engine, app.config, celery_worker.publish, limit=100)
        worker = start_worker(celery_env, log)
        deadline = time.monotonic() + 60
        while len({m["Message-ID"] for m in smtp_server.messages}) < 30:
            assert time.monotonic() < deadline, "not every mail arrived"
            time.sleep(0.1)
        with app.extensions["blog_db"].session_factory() as session:
            done = select(func.count()).where(OutboxJob.status == "done")
            while session.scalar(done) != 30:
                assert time.monotonic() < deadline, "not every job was marked done"
                time.sleep(0.1)
    finally:
        stop(worker)
        engine.dispose()
    copies = Counter(m["Message-ID"] for m in smtp_server.messages)
    duplicates = {message_id for message_id, count in copies.items() if count > 1}
    for message_id in duplicates:
        versions = {bytes(m) for m in smtp_server.messages if m["Message-ID"] == message_id}
        assert len(versions) == 1, f"{message_id} was sent in two versions"
    print(
        f"\n30 jobs, worker killed after 10 or more: {len(smtp_server.messages)} delivered, "
        f"{sum(copies.values()) - len(copies)} duplicate(s), all with their first copy's Message-ID"
    )
