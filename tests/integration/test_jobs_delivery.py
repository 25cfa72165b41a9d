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
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import statistics
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, func, select

from blog_api.db import make_engine
from blog_api.models import OutboxJob, PasswordReset
from tests.blog_api.mailbox import SMTPServer
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
    #: account -> [(sent, ended)] wall-clock times of every attempt, in order
    attempts: dict[str, list[tuple[float, float]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    progress: threading.Condition = field(default_factory=threading.Condition)
    done: threading.Event = field(default_factory=threading.Event)
    kills: int = 0

    def total(self) -> int:
        """Requests acknowledged so far."""
        return sum(self.acknowledged.values())

    def wait_for_total(self, count: int, timeout: float) -> None:
        """Block until ``count`` requests are acknowledged, the load ends, or ``timeout``."""
        with self.progress:
            self.progress.wait_for(lambda: self.done.is_set() or self.total() >= count, timeout)


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
    client = Client(server.base_url)
    accounts = [
        [client.register(unique_name("mail"))["email"] for _ in range(ACCOUNTS_PER_THREAD)]
        for _ in range(CLIENT_THREADS)
    ]
    load, per_thread = Load(), REQUESTS // CLIENT_THREADS
    started = time.monotonic()
    chaos = threading.Thread(target=_make_trouble, args=(server, smtp, load), daemon=True)
    chaos.start()
    threads = [
        threading.Thread(target=_ask_for_links, args=(server, mine, per_thread, load))
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
    requests_ended = time.monotonic()
    assert not load.unexpected, load.unexpected[:5]
    assert load.total() == REQUESTS
    assert len(smtp.outages) >= 3 and load.kills >= 10, "the faults did not all happen"

    drained = _wait_until_drained(engine, smtp.recorder, DRAIN_TIMEOUT)
    figures = _check_delivery(engine, smtp, load)
    print(
        f"\n{REQUESTS} requests ({sum(load.unknown.values())} more cut by a kill) in "
        f"{requests_ended - started:.1f} s, {len(smtp.outages)} SMTP outages, "
        f"{load.kills} worker kills; jobs {figures['jobs']}, mails received "
        f"{figures['received']}, distinct {figures['distinct']}, lost 0, duplicates "
        f"{figures['duplicates']}, parked 0; drained {drained - requests_ended:.1f} s after "
        f"the last request; request to mail median {figures['median_ms']:.0f} ms, "
        f"p90 {figures['p90_ms']:.0f} ms, max {figures['max_ms']:.0f} ms; "
        f"{figures['first_try']:.0f} delivered at their first claim (median "
        f"{figures['first_try_ms']:.0f} ms), {figures['retried']:.0f} after retries or a "
        f"lost claim (median {figures['retried_ms']:.0f} ms)"
    )


def _ask_for_links(server: GunicornServer, emails: list[str], count: int, load: Load) -> None:
    """Send ``count`` reset requests for this thread's accounts, each until acknowledged.

    A request cut off by a killed worker may or may not have committed; it is
    sent again (counted in ``unknown``), so the account may get one mail more
    than it has acknowledgements, never fewer.
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
                if response.status_code != 202:
                    load.unexpected.append(f"{response.status_code} {response.text[:200]}")
                    return
                load.acknowledged[email] += 1
            with load.progress:
                load.progress.notify_all()
            break
    http.close()


def _make_trouble(server: GunicornServer, smtp: OutageableSMTP, load: Load) -> None:
    """Kill a worker every ``KILL_EVERY`` acknowledgements; stop the SMTP server now and then.

    The kill follows an acknowledgement at once: the worker that committed
    has just woken its dispatcher, which is claiming or sending. Which of
    the two workers dies is chosen at random.
    """
    next_kill, next_outage = KILL_EVERY, OUTAGE_EVERY // 2
    outage: threading.Thread | None = None
    while not load.done.is_set():
        load.wait_for_total(min(next_kill, next_outage), timeout=5)
        total = load.total()
        if total >= next_kill and not load.done.is_set():
            # The master replaces a dead worker within a second or so; kill
            # one of a full set, so that there is always a survivor to
            # take over the dead one's claims.
            pids = server.wait_for_workers(2)
            os.kill(random.choice(sorted(pids)), signal.SIGKILL)
            load.kills += 1
            next_kill += KILL_EVERY
        if total >= next_outage and not load.done.is_set():
            if outage is not None and outage.is_alive():
                time.sleep(0.05)  # the next outage is due: it starts when this one ends
                continue
            outage = threading.Thread(target=smtp.outage, args=(OUTAGE_SECONDS,))
            outage.start()
            next_outage += OUTAGE_EVERY
    if outage is not None:
        outage.join()
    if smtp.controller is None:
        smtp.start()


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
        assert acknowledged <= reset_mails[email] <= acknowledged + load.unknown[email], email
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
