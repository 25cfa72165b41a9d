"""No mail is lost: 1,000 requests that each mail a link, with faults, through real gunicorn.

Issue 15's goal for the outbox (``blog_api/jobs.py``): every job committed
with a change is delivered at least once, even when the outbound side is down
for a while and web workers die right after their commits. The test runs the
default configuration, ``BLOG_JOBS_DISPATCHER=thread`` (a dispatcher thread in
each gunicorn worker), against a real SMTP server (aiosmtpd), and breaks it
while client threads send 1,000 ``POST /api/v1/auth/password-reset`` requests
for existing accounts (each one commits a reset link and the job that mails
it):

* **outbound outage**: the SMTP server stops listening several times for a
  second and a half, so deliveries fail and are retried with backoff
  (``BLOG_JOBS_RETRY_DELAY=1``);
* **worker kills**: a gunicorn worker is killed with SIGKILL right after a
  request was acknowledged, every 80 acknowledged requests; its claims are
  taken over by the other dispatchers once their lease (``BLOG_JOBS_LEASE=3``)
  runs out, and the master starts a new worker.

Then it waits until the outbox is drained and checks that every job in it
reached the SMTP server (0 lost), that every acknowledged request has its
mail, that each duplicate is byte for byte the message it repeats (same
``Message-ID``, same body), and that no job was parked as failed. It prints
one line of figures (run with ``-s``); ``docs/jobs.md`` quotes them.

Run on SQLite with miniflask and on PostgreSQL with Flask, so both databases
and both frameworks meet the faults.

The second test does the same in **Celery mode** (``BLOG_JOBS_DISPATCHER=celery``):
the dispatcher threads publish what they claim to a Celery worker
(``celery -A blog_api.jobs worker``) through a Redis of the test's own, and
the faults are the broker's: that Redis is killed three times (with no
persistence, so every queued message is lost) and started again 1.5 s later,
the Celery worker is killed with SIGKILL five times and replaced, and the
gunicorn workers are killed as above. Lost messages are published again when
their claims' lease (``BLOG_JOBS_LEASE=10``) runs out. Skipped without
``redis-server`` or the ``celery`` extra.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
import redis
import requests
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, func, select

from blog_api.db import make_engine
from blog_api.models import OutboxJob, PasswordReset
from tests.blog_api.mailbox import SMTPServer, free_port
from tests.blog_api.test_celery import start_worker
from tests.blog_api.test_celery import stop as stop_worker
from tests.integration.conftest import (
    NO_LOGIN_LIMITS,
    Client,
    GunicornServer,
    ServerPool,
    postgres_schema,
    unique_name,
)

pytestmark = pytest.mark.slow

REQUESTS = 1000
CLIENT_THREADS = 4
ACCOUNTS_PER_THREAD = 10  # each thread owns its accounts: their requests never overlap
KILL_EVERY = 80  # acknowledged requests between two worker kills
OUTAGE_EVERY = 300  # acknowledged requests between the starts of two SMTP outages
OUTAGE_SECONDS = 1.5
DRAIN_TIMEOUT = 180.0  # seconds for the outbox to empty after the last request
SETTINGS = {
    "BLOG_JOBS_DISPATCHER": "thread",
    # Short, so that the faults are recovered from within the test's time: a
    # failed delivery is retried after 1 s, 2 s, 4 s...; a dead worker's
    # claims are free again after 3 s (a local SMTP conversation takes ms).
    "BLOG_JOBS_RETRY_DELAY": "1",
    "BLOG_JOBS_LEASE": "3",
    "BLOG_JOBS_MAX_ATTEMPTS": "12",
    **NO_LOGIN_LIMITS,  # one client asks for 1,000 links: the mail limits would stop it
}
#: ``<job-<id>.<created_at as %Y%m%d%H%M%S%f>@domain>`` (``blog_api/mail.py``).
MESSAGE_ID = re.compile(r"<job-(\d+)\.(\d{20})@")


class OutageableSMTP:
    """A real SMTP server (``SMTPServer`` records the mail) that can stop and start listening.

    aiosmtpd's ``Controller`` cannot be started again once stopped, so each
    start makes a new one on the same port: clients see "connection refused"
    while it is down, as they would from a mail relay being restarted.
    """

    def __init__(self) -> None:
        self.recorder = SMTPServer()
        self.controller: Controller | None = None
        #: (stopped, listening again) wall-clock times of each outage
        self.outages: list[tuple[float, float]] = []

    @property
    def url(self) -> str:
        """The ``BLOG_SMTP_URL``."""
        return self.recorder.url

    def start(self) -> None:
        """Listen (again) on the recorder's port."""
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.recorder.port)
        self.controller.start()

    def stop(self) -> None:
        """Stop listening; messages in the middle of their conversation fail."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def outage(self, seconds: float) -> None:
        """Be down for ``seconds``, then listen again."""
        stopped = time.time()
        self.stop()
        time.sleep(seconds)
        self.start()
        self.outages.append((stopped, time.time()))


@dataclass
class Load:
    """What the clients did: attempts per account, acknowledgements, timings."""

    acknowledged: Counter[str] = field(default_factory=Counter)
    #: attempts whose outcome the client could not see (the worker died)
    unknown: Counter[str] = field(default_factory=Counter)
    #: attempts answered 5xx where the test allows it (sent again)
    refused: Counter[str] = field(default_factory=Counter)
    #: account -> [(sent, ended)] wall-clock times of every attempt, in order
    attempts: dict[str, list[tuple[float, float]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    progress: threading.Condition = field(default_factory=threading.Condition)
    done: threading.Event = field(default_factory=threading.Event)

    def total(self) -> int:
        """Requests acknowledged so far."""
        return sum(self.acknowledged.values())

    def wait_for_total(self, count: int, timeout: float) -> None:
        """Block until ``count`` requests are acknowledged, the load ends, or ``timeout``."""
        with self.progress:
            self.progress.wait_for(lambda: self.done.is_set() or self.total() >= count, timeout)


@dataclass
class Fault:
    """A fault injected every ``every`` acknowledged requests, the first at ``first``.

    ``act`` either happens at once (a kill) or, with ``lasts``, takes a while
    (an outage) and runs in a thread of its own; the next one of a lasting
    fault waits until the previous one is over.
    """

    name: str
    every: int
    first: int
    act: Callable[[], None]
    lasts: bool = False
    times: int = 0
    thread: threading.Thread | None = None

    def due(self, total: int) -> bool:
        """Whether the fault's next occurrence is due after ``total`` acknowledgements."""
        return total >= self.first + self.times * self.every

    def busy(self) -> bool:
        """Whether the previous occurrence is still going on."""
        return self.thread is not None and self.thread.is_alive()

    def happen(self) -> None:
        """Inject it once."""
        self.times += 1
        if self.lasts:
            self.thread = threading.Thread(target=self.act)
            self.thread.start()
        else:
            self.act()


def kill_a_web_worker(server: GunicornServer) -> None:
    """SIGKILL one of the two gunicorn workers, at random.

    Called right after an acknowledgement: the worker that committed has just
    woken its dispatcher, which is claiming, sending or publishing. The
    master replaces a dead worker within a second or so; the kill waits for a
    full set, so that there is always a survivor to take over the claims.
    """
    pids = server.wait_for_workers(2)
    os.kill(random.choice(sorted(pids)), signal.SIGKILL)


@pytest.fixture(params=[("sqlite", "miniflask"), ("postgresql", "flask")], ids=str)
def setup(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[GunicornServer, OutageableSMTP, Engine]]:
    """A 2-worker gunicorn with the thread dispatcher, its SMTP server, and its database."""
    database, framework = request.param
    smtp = OutageableSMTP()
    smtp.start()
    pool = ServerPool(tmp_path)
    with contextlib.ExitStack() as stack:
        stack.callback(smtp.stop)
        env = {**SETTINGS, "BLOG_FRAMEWORK": framework, "BLOG_SMTP_URL": smtp.url}
        if database == "postgresql":
            env["BLOG_DATABASE_URL"] = stack.enter_context(postgres_schema("blog_jobs"))
        stack.callback(pool.stop_all)
        server = pool.start(env, workers=2, threads=None)
        engine = make_engine(server.database_url)
        stack.callback(engine.dispose)
        yield server, smtp, engine


def test_no_mail_is_lost_through_smtp_outages_and_killed_workers(
    setup: tuple[GunicornServer, OutageableSMTP, Engine],
) -> None:
    server, smtp, engine = setup
    accounts = _register_accounts(server)

    def smtp_outage() -> None:
        smtp.outage(OUTAGE_SECONDS)

    faults = [
        Fault("worker kills", KILL_EVERY, KILL_EVERY, lambda: kill_a_web_worker(server)),
        Fault("SMTP outages", OUTAGE_EVERY, OUTAGE_EVERY // 2, smtp_outage, lasts=True),
    ]
    # With BLOG_REDIS_URL the login limiter's counters live in Redis too, so
    # while it is down the requests, which count in them, are refused (503).
    load, took = _run_load(server, accounts, faults, retry_5xx=True)
    requests_ended = time.monotonic()
    assert all(fault.times >= 3 for fault in faults), "the faults did not all happen"

    drained = _wait_until_drained(engine, smtp.recorder, DRAIN_TIMEOUT)
    figures = _check_delivery(engine, smtp, load)
    print(f"\n{_summary(load, took, faults)}; {_figures(figures, drained - requests_ended)}")


def _register_accounts(server: GunicornServer) -> list[list[str]]:
    """``ACCOUNTS_PER_THREAD`` new accounts' addresses for each client thread."""
    client = Client(server.base_url)
    return [
        [client.register(unique_name("mail"))["email"] for _ in range(ACCOUNTS_PER_THREAD)]
        for _ in range(CLIENT_THREADS)
    ]


def _run_load(
    server: GunicornServer, accounts: list[list[str]], faults: list[Fault], retry_5xx: bool = False
) -> tuple[Load, float]:
    """Send the ``REQUESTS`` with the faults injected; what the clients saw, and the seconds."""
    load, per_thread = Load(), REQUESTS // CLIENT_THREADS
    started = time.monotonic()
    chaos = threading.Thread(target=_make_trouble, args=(load, faults), daemon=True)
    chaos.start()
    threads = [
        threading.Thread(target=_ask_for_links, args=(server, mine, per_thread, load, retry_5xx))
        for mine in accounts
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    load.done.set()
    with load.progress:
        load.progress.notify_all()
    chaos.join(timeout=60)
    assert not load.unexpected, load.unexpected[:5]
    assert load.total() == REQUESTS
    return load, time.monotonic() - started


def _summary(load: Load, took: float, faults: list[Fault]) -> str:
    """The load's half of the printed line."""
    injected = ", ".join(f"{fault.times} {fault.name}" for fault in faults)
    cut, refused = sum(load.unknown.values()), sum(load.refused.values())
    again = f"{cut} more cut off" + (f", {refused} answered 5xx" if refused else "")
    return f"{REQUESTS} requests ({again}; sent again) in {took:.1f} s, {injected}"


def _figures(figures: dict[str, float], drain: float) -> str:
    """The delivery half of the printed line."""
    return (
        f"jobs {figures['jobs']}, mails received {figures['received']}, distinct "
        f"{figures['distinct']}, lost 0, duplicates {figures['duplicates']}, parked 0; "
        f"drained {drain:.1f} s after the last request; request to mail median "
        f"{figures['median_ms']:.0f} ms, p90 {figures['p90_ms']:.0f} ms, max "
        f"{figures['max_ms']:.0f} ms; {figures['first_try']:.0f} delivered at their first "
        f"claim (median {figures['first_try_ms']:.0f} ms), {figures['retried']:.0f} after "
        f"retries or a lost claim (median {figures['retried_ms']:.0f} ms)"
    )


def _ask_for_links(
    server: GunicornServer, emails: list[str], count: int, load: Load, retry_5xx: bool
) -> None:
    """Send ``count`` reset requests for this thread's accounts, each until acknowledged.

    A request cut off by a killed worker may or may not have committed; it is
    sent again (counted in ``unknown``), so the account may get one mail more
    than it has acknowledgements, never fewer. With ``retry_5xx``, a 5xx
    answer is counted in ``refused`` and the request sent again too.
    """
    http = requests.Session()
    url = server.url("/api/v1/auth/password-reset")
    for number in range(count):
        email = emails[number % len(emails)]
        while True:
            sent = time.time()
            try:
                response = http.post(url, json={"email": email}, timeout=30)
            except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                with load.lock:
                    load.unknown[email] += 1
                    load.attempts[email].append((sent, time.time()))
                http = requests.Session()
                time.sleep(0.05)
                continue
            ended = time.time()
            with load.lock:
                load.attempts[email].append((sent, ended))
                if retry_5xx and response.status_code >= 500:
                    load.refused[email] += 1
                    time.sleep(0.05)
                    continue
                if response.status_code != 202:
                    load.unexpected.append(f"{response.status_code} {response.text[:200]}")
                    return
                load.acknowledged[email] += 1
            with load.progress:
                load.progress.notify_all()
            break
    http.close()


def _make_trouble(load: Load, faults: list[Fault]) -> None:
    """Inject each fault when its number of acknowledgements is reached, until the load ends."""
    while not load.done.is_set():
        waiting = [fault for fault in faults if not fault.due(load.total())]
        if waiting:
            load.wait_for_total(min(f.first + f.times * f.every for f in waiting), timeout=5)
        for fault in faults:
            if load.done.is_set() or not fault.due(load.total()):
                continue
            if fault.busy():
                time.sleep(0.05)  # due: it starts when the previous one is over
                continue
            fault.happen()
    for fault in faults:
        if fault.thread is not None:
            fault.thread.join()


def _wait_until_drained(engine: Engine, recorder: SMTPServer, timeout: float) -> float:
    """Wait until no job is pending and every job's mail arrived; the time it happened.

    Raises:
        AssertionError: a job was parked as failed, or the outbox did not
            drain within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            statuses = dict(
                connection.execute(
                    select(OutboxJob.status, func.count()).group_by(OutboxJob.status)
                ).all()
            )
            ids = set(connection.scalars(select(OutboxJob.id)))
        assert not statuses.get("failed"), f"jobs parked as failed: {statuses}"
        if not statuses.get("pending") and ids <= set(_by_job(recorder.messages)):
            return time.monotonic()
        time.sleep(0.2)
    raise AssertionError(f"the outbox did not drain in {timeout} s: {statuses}")


def _by_job(messages: list[EmailMessage]) -> dict[int, list[int]]:
    """Job id -> the positions of its copies in ``messages``, from each ``Message-ID``."""
    copies: dict[int, list[int]] = defaultdict(list)
    for position, message in enumerate(messages):
        match = MESSAGE_ID.match(str(message["Message-ID"]))
        assert match, f"not a job's Message-ID: {message['Message-ID']}"
        copies[int(match.group(1))].append(position)
    return copies


def _check_delivery(engine: Engine, smtp: OutageableSMTP, load: Load) -> dict[str, float]:
    """Assert no loss, identical duplicates, one mail per acknowledged request; the figures."""
    messages, arrivals = list(smtp.recorder.messages), list(smtp.recorder.arrivals)
    copies = _by_job(messages)
    with engine.connect() as connection:
        attempts = dict(connection.execute(select(OutboxJob.id, OutboxJob.attempts)).all())
        job_ids = set(attempts)
        resets = connection.scalar(select(func.count()).select_from(PasswordReset))
    assert job_ids - set(copies) == set(), "jobs whose mail never arrived"
    assert set(copies) - job_ids == set(), "mail from jobs that are not in the outbox"
    duplicates = 0
    for positions in copies.values():
        first = messages[positions[0]]
        for position in positions[1:]:
            duplicates += 1
            again = messages[position]
            assert again["Message-ID"] == first["Message-ID"]
            assert again.get_content() == first.get_content()
            assert bytes(again) == bytes(first)
    reset_mails = _reset_mails_per_account(messages, copies)
    assert sum(reset_mails.values()) == resets, "a stored reset link without its mail, or more"
    for email, acknowledged in load.acknowledged.items():
        at_most = acknowledged + load.unknown[email] + load.refused[email]
        assert acknowledged <= reset_mails[email] <= at_most, email
    timed = _latencies(messages, arrivals, copies, load)
    assert len(timed) >= REQUESTS
    latencies = list(timed.values())
    deciles = statistics.quantiles(latencies, n=10)
    first_try = [latency for job_id, latency in timed.items() if attempts[job_id] == 1]
    retried = [latency for job_id, latency in timed.items() if attempts[job_id] > 1]
    return {
        "jobs": len(job_ids),
        "received": len(messages),
        "distinct": len(copies),
        "duplicates": duplicates,
        "median_ms": statistics.median(latencies) * 1000,
        "p90_ms": deciles[-1] * 1000,
        "max_ms": max(latencies) * 1000,
        "first_try": len(first_try),
        "first_try_ms": statistics.median(first_try or [0]) * 1000,
        "retried": len(retried),
        "retried_ms": statistics.median(retried or [0]) * 1000,
    }


def _reset_mails_per_account(
    messages: list[EmailMessage], copies: dict[int, list[int]]
) -> Counter[str]:
    """Distinct reset mails (one per job) received per address."""
    per_account: Counter[str] = Counter()
    for positions in copies.values():
        first = messages[positions[0]]
        if first["Subject"] == "Reset your password":
            per_account[str(first["To"])] += 1
    return per_account


def _latencies(
    messages: list[EmailMessage],
    arrivals: list[float],
    copies: dict[int, list[int]],
    load: Load,
) -> dict[int, float]:
    """Job id -> seconds from sending its reset request to the mail's first arrival.

    The job's creation time (in its ``Message-ID``) falls inside exactly one
    attempt of its account, since one thread sends an account's requests one
    after the other; the arrival is the recorder's monotonic time on the wall clock.
    """
    wall_offset = time.time() - time.monotonic()
    latencies = {}
    for job_id, positions in copies.items():
        first = messages[positions[0]]
        if first["Subject"] != "Reset your password":
            continue
        match = MESSAGE_ID.match(str(first["Message-ID"]))
        assert match
        created = datetime.strptime(match.group(2), "%Y%m%d%H%M%S%f")
        created_at = created.replace(tzinfo=UTC).timestamp()
        sent = next(
            begin
            for begin, end in load.attempts[str(first["To"])]
            if begin - 0.01 <= created_at <= end + 0.01
        )
        latencies[job_id] = arrivals[positions[0]] + wall_offset - sent
    return latencies


REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
CELERY_SETTINGS = {
    **SETTINGS,
    "BLOG_JOBS_DISPATCHER": "celery",
    # Longer than in thread mode: a job waits in the broker's queue behind the
    # backlog, and a claim that runs out there is claimed (and counted) again.
    "BLOG_JOBS_LEASE": "10",
}
CELERY_KILL_EVERY = 200  # acknowledged requests between two kills of the Celery worker


class PrivateRedis:
    """A redis-server of the test's own, on a free port and without persistence.

    Stopping it (SIGKILL) loses every message queued in it, as a broker that
    crashes would; the shared Redis at 6379 is left alone.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The ``BLOG_REDIS_URL``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it and wait until it answers PING."""
        command = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.directory)]
        with (self.directory / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=log)
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        """Kill it: whatever was queued is gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def outage(self, seconds: float) -> None:
        """Be down for ``seconds``, then start empty again."""
        self.stop()
        time.sleep(seconds)
        self.start()


class CeleryWorker:
    """``celery -A blog_api.jobs worker`` (solo pool) with the server's settings."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start a worker process."""
        self.process = start_worker(self.env, self.log)

    def kill_and_replace(self) -> None:
        """SIGKILL the worker, perhaps in the middle of a job, and start another."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.start()

    def stop(self) -> None:
        """Stop it (warm shutdown, or SIGKILL after 10 s)."""
        if self.process is not None:
            stop_worker(self.process)


@pytest.fixture(params=[("sqlite", "flask"), ("postgresql", "miniflask")], ids=str)
def celery_setup(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[GunicornServer, OutageableSMTP, Engine, PrivateRedis, CeleryWorker]]:
    """gunicorn in ``celery`` mode, a private Redis as its broker, a Celery worker, SMTP."""
    pytest.importorskip("celery", reason="the celery extra is not installed")
    if not os.access(REDIS_SERVER, os.X_OK):
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    database, framework = request.param
    with contextlib.ExitStack() as stack:
        broker = PrivateRedis(tmp_path)
        broker.start()
        stack.callback(broker.stop)
        smtp = OutageableSMTP()
        smtp.start()
        stack.callback(smtp.stop)
        env = {**CELERY_SETTINGS, "BLOG_FRAMEWORK": framework, "BLOG_SMTP_URL": smtp.url}
        env["BLOG_REDIS_URL"] = broker.url
        if database == "postgresql":
            env["BLOG_DATABASE_URL"] = stack.enter_context(postgres_schema("blog_jobs"))
        pool = ServerPool(tmp_path)
        stack.callback(pool.stop_all)
        server = pool.start(env, workers=2, threads=None)
        worker = CeleryWorker(server.env, tmp_path / "celery.log")
        worker.start()
        stack.callback(worker.stop)
        engine = make_engine(server.database_url)
        stack.callback(engine.dispose)
        yield server, smtp, engine, broker, worker


def test_no_mail_is_lost_in_celery_mode_through_broker_outages_and_killed_workers(
    celery_setup: tuple[GunicornServer, OutageableSMTP, Engine, PrivateRedis, CeleryWorker],
) -> None:
    server, smtp, engine, broker, worker = celery_setup
    accounts = _register_accounts(server)

    def broker_outage() -> None:
        broker.outage(OUTAGE_SECONDS)

    faults = [
        Fault("web worker kills", KILL_EVERY, KILL_EVERY, lambda: kill_a_web_worker(server)),
        Fault("Celery worker kills", CELERY_KILL_EVERY, 100, worker.kill_and_replace),
        Fault("broker outages", OUTAGE_EVERY, OUTAGE_EVERY // 2, broker_outage, lasts=True),
    ]
    # With BLOG_REDIS_URL the login limiter's counters live in Redis too, so
    # while it is down the requests, which count in them, are refused (503).
    load, took = _run_load(server, accounts, faults, retry_5xx=True)
    requests_ended = time.monotonic()
    assert all(fault.times >= 3 for fault in faults), "the faults did not all happen"

    drained = _wait_until_drained(engine, smtp.recorder, DRAIN_TIMEOUT)
    figures = _check_delivery(engine, smtp, load)
    print(f"\n{_summary(load, took, faults)}; {_figures(figures, drained - requests_ended)}")
