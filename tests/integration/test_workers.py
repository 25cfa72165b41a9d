"""Several gunicorn workers, the embedded defaults (SQLite, no Redis), real HTTP.

What ``make run`` must get right however many worker processes serve it:

* **No stale or leaked reads.** After a write, 100 anonymous list reads spread
  over the workers all show it; after a post is unpublished or deleted, none of
  40 anonymous reads returns it. (Each worker caches in its own memory; the
  cache's generation is in the database.)
* **Login throttling counts across workers.** The first 429 comes after exactly
  the configured number of failures, for one client and username, for one
  client spraying usernames, for one username from many clients, and for a
  burst of concurrent guesses.
* **Slow clients do not stop the server.** With six clients stalled in the
  middle of their request bodies, other users are still answered, and the
  stalled ones get a 408 in the API's JSON shape when the read times out.

The first two run on 5 sync workers (the layout the problems were measured
on) and on ``make run``'s gthread default; the slow-client test on the
default only, since it is what makes that one hold. Each test prints one
summary line (``-s``); ``docs/reliability.md`` quotes them. Timings are
printed, not asserted.
"""

from __future__ import annotations

import json
import re
import socket
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
import requests

from blog_api.config import DEFAULTS
from tests.integration.conftest import FRAMEWORKS, Client, GunicornServer, ServerPool

pytestmark = pytest.mark.slow

#: (workers, threads) per layout; threads None keeps gunicorn.conf.py's
#: default, as ``make run`` does (3 workers is its default on 2 cores).
LAYOUTS = {"sync-5": (5, 1), "make-run": (3, None)}
#: gunicorn's access line with the worker's pid, to see that reads really
#: were spread over several processes.
ACCESS_FORMAT = '%(h)s "%(r)s" %(s)s pid=%(p)s rid=%({x-request-id}o)s'
READ_TIMEOUT = 4  # seconds; GUNICORN_READ_TIMEOUT for these servers
STALLED_CLIENTS = 6
HTTP_TIMEOUT = 10.0


#: Values for the ``server`` fixture (tests pick them with ``indirect=True``).
EVERY_LAYOUT = [
    pytest.param((f, layout), id=f"{f}-{layout}") for f in FRAMEWORKS for layout in LAYOUTS
]
MAKE_RUN = [pytest.param((f, "make-run"), id=f"{f}-make-run") for f in FRAMEWORKS]


@pytest.fixture(scope="module")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GunicornServer]:
    """One server per (framework, layout), SQLite, no Redis, shared by this module's tests.

    ``BLOG_PROXY_HOPS=1`` lets a test pick its client address with
    ``X-Forwarded-For``, as if it came through nginx. The password hash is
    made slower than the other integration tests' (scrypt is slower still),
    so concurrent login attempts overlap as they would in production.
    """
    framework, layout = request.param
    workers, threads = LAYOUTS[layout]
    pool = ServerPool(tmp_path_factory.mktemp(f"workers-{framework}-{layout}"))
    env = {
        "BLOG_FRAMEWORK": framework,
        "BLOG_PROXY_HOPS": "1",
        "BLOG_PASSWORD_HASH_METHOD": "pbkdf2:sha256:100000",
        "GUNICORN_READ_TIMEOUT": str(READ_TIMEOUT),
    }
    args = ("--access-logformat", ACCESS_FORMAT)
    try:
        # Five workers booting at once on a busy 2-core machine can take a while.
        yield pool.start(env, workers=workers, threads=threads, args=args, startup_timeout=90)
    finally:
        pool.stop_all()


def fresh_get(server: GunicornServer, path: str, request_id: str) -> requests.Response:
    """A GET on a new connection, so that any worker may take it (no keep-alive)."""
    return requests.get(
        server.url(path),
        headers={"X-Request-ID": request_id, "Connection": "close"},
        timeout=HTTP_TIMEOUT,
    )


def reads(server: GunicornServer, path: str, count: int, label: str) -> list[requests.Response]:
    """``count`` anonymous GETs of ``path``, each on its own connection, 8 at a time.

    Eight at once keep several workers busy, so the reads cross processes
    whatever the kernel does: one after another, on an idle machine, one
    worker can accept every connection.
    """
    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(lambda n: fresh_get(server, path, f"{label}-{n}"), range(count)))


def served_by(server: GunicornServer, label: str) -> set[str]:
    """The worker pids that answered the requests whose ids start with ``label``."""
    deadline = time.monotonic() + 5
    pattern = re.compile(rf"pid=<(\d+)> rid={re.escape(label)}-")  # gunicorn writes <pid>
    while True:  # gunicorn writes the access line just after the response
        pids = {m.group(1) for line in server.access_log() if (m := pattern.search(line))}
        if pids or time.monotonic() > deadline:
            return pids
        time.sleep(0.05)


def cache_hits(server: GunicornServer, label: str) -> int:
    """How many of the ``label`` requests were answered from a worker's cache."""
    records = server.app_log()
    return sum(
        1
        for r in records
        if str(r.get("request_id", "")).startswith(f"{label}-") and r.get("cache") == "hit"
    )


@pytest.mark.parametrize("server", EVERY_LAYOUT, indirect=True)
def test_a_write_is_seen_by_the_next_read_on_every_worker(server: GunicornServer) -> None:
    client = Client(server.base_url)
    _, author = client.new_user()
    tag = f"t{uuid.uuid4().hex[:8]}"  # this test's own list, whatever else the server holds
    path = f"/api/v1/posts?tag={tag}"
    client.create_post(author, tags=[tag])
    run = uuid.uuid4().hex[:6]
    assert {r.status_code for r in reads(server, path, 100, f"warm-{run}")} == {200}
    new = client.create_post(author, tags=[tag])
    after = reads(server, path, 100, f"after-{run}")

    stale = sum(1 for r in after if new["id"] not in [p["id"] for p in r.json()["items"]])
    workers = served_by(server, f"after-{run}")
    hits = cache_hits(server, f"after-{run}")
    print(
        f"[stale reads {server.env['BLOG_FRAMEWORK']} {len(server.worker_pids())} workers] "
        f"{stale} of 100 list reads after a write missed it; {len(workers)} workers answered, "
        f"{hits} from their caches"
    )
    assert stale == 0
    assert len(workers) >= 2  # the reads did cross processes
    assert hits > 0  # and the cache was on: correct, not merely switched off


@pytest.mark.parametrize("server", EVERY_LAYOUT, indirect=True)
@pytest.mark.parametrize("change", ["unpublish", "delete"])
def test_an_unpublished_or_deleted_post_is_not_served_by_any_worker(
    server: GunicornServer, change: str
) -> None:
    client = Client(server.base_url)
    _, author = client.new_user()
    post = client.create_post(author)
    path = f"/api/v1/posts/{post['id']}"
    run = uuid.uuid4().hex[:6]
    assert {r.status_code for r in reads(server, path, 40, f"warm-{run}")} == {200}
    if change == "unpublish":
        changed = client.request("PATCH", path, json={"status": "draft"}, headers=author)
        assert changed.status_code == 200
    else:
        assert client.request("DELETE", path, headers=author).status_code == 204
    after = reads(server, path, 40, f"after-{run}")

    leaked = sum(1 for r in after if r.status_code == 200)
    print(
        f"[leaked reads {server.env['BLOG_FRAMEWORK']} {len(server.worker_pids())} workers] "
        f"{leaked} of 40 reads after '{change}' returned the post"
    )
    assert leaked == 0
    assert {r.status_code for r in after} == {404}


def login(server: GunicornServer, username: str, password: str, address: str) -> int:
    """A login from ``address`` (via X-Forwarded-For), on its own connection."""
    response = requests.post(
        server.url("/api/v1/auth/login"),
        json={"username": username, "password": password},
        headers={"X-Forwarded-For": address, "Connection": "close"},
        timeout=HTTP_TIMEOUT,
    )
    return response.status_code


def first_429(statuses: list[int]) -> int:
    """How many attempts were answered before the first 429 (all must be 401)."""
    assert 429 in statuses, f"never throttled: {statuses}"
    position = statuses.index(429)
    assert set(statuses[:position]) == {401} and set(statuses[position:]) == {429}, statuses
    return position


def an_address() -> str:
    """A client address of 198.18.0.0/15 (benchmarking range) no other test uses."""
    number = uuid.uuid4().int
    return f"198.{18 + number % 2}.{number // 2 % 256}.{number // 512 % 254 + 1}"


@pytest.mark.parametrize("server", EVERY_LAYOUT, indirect=True)
def test_the_first_429_comes_after_exactly_the_configured_failures(
    server: GunicornServer,
) -> None:
    client = Client(server.base_url)
    victim = client.register()["username"]
    address = an_address()
    guesses = [login(server, victim, f"wrong {n}", address) for n in range(8)]
    per_pair = first_429(guesses)

    sprayer = an_address()
    sprayed = [
        login(server, f"nobody{uuid.uuid4().hex[:8]}", "Summer2024!", sprayer) for _ in range(13)
    ]
    per_client = first_429(sprayed)

    target = client.register()["username"]
    spread = [login(server, target, "wrong", an_address()) for _ in range(24)]
    per_account = first_429(spread)

    print(
        f"[login limits {server.env['BLOG_FRAMEWORK']} {len(server.worker_pids())} workers] "
        f"first 429 after {per_pair} failures (one client, one username), {per_client} "
        f"(one client, {len(sprayed)} usernames), {per_account} (one username, "
        f"{len(spread)} clients)"
    )
    assert per_pair == DEFAULTS["LOGIN_MAX_FAILURES"]
    assert per_client == DEFAULTS["LOGIN_CLIENT_MAX_FAILURES"]
    assert per_account == DEFAULTS["LOGIN_ACCOUNT_MAX_FAILURES"]


@pytest.mark.parametrize("server", EVERY_LAYOUT, indirect=True)
def test_concurrent_guesses_get_exactly_the_configured_number_of_checks(
    server: GunicornServer,
) -> None:
    client = Client(server.base_url)
    victim = client.register()["username"]
    address = an_address()
    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(lambda n: login(server, victim, f"w{n}", address), range(20)))
    outcome = Counter(statuses)
    print(
        f"[login burst {server.env['BLOG_FRAMEWORK']} {len(server.worker_pids())} workers] "
        f"20 concurrent wrong guesses: {dict(outcome)}"
    )
    limit = DEFAULTS["LOGIN_MAX_FAILURES"]
    assert outcome == Counter({401: limit, 429: 20 - limit})


def stall(server: GunicornServer) -> socket.socket:
    """A client that sends its headers and a few bytes of a 100-byte body, then nothing."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=HTTP_TIMEOUT)
    sock.sendall(
        b"POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        b'{"username": "slow'
    )
    return sock


def still_waiting(sock: socket.socket) -> bool:
    """True when nothing has been answered on ``sock`` yet."""
    sock.setblocking(False)
    try:
        return not sock.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    finally:
        sock.setblocking(True)
        sock.settimeout(HTTP_TIMEOUT)


def answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Read a whole HTTP response (the server closes the connection after it)."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in headers.items()}, body


@dataclass
class OtherUsers:
    """Six readers going on with their business, 10 reads a second each.

    Three keep one connection alive and three open a new one per read. A
    kept-alive connection waits in its worker's main loop between requests,
    so it also shows when that loop itself is held up. Latencies are seconds.
    """

    server: GunicornServer
    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> OtherUsers:
        """Start the readers."""
        self.threads = [threading.Thread(target=self._run, args=(n % 2 == 0,)) for n in range(6)]
        for thread in self.threads:
            thread.start()
        return self

    def stop(self) -> OtherUsers:
        """Stop the readers and wait for them."""
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=30)
        return self

    def _run(self, keep_alive: bool) -> None:
        session = requests.Session() if keep_alive else None
        while not self.stopping.is_set():
            self._read(session)
            time.sleep(0.1)
        if session is not None:
            session.close()

    def _read(self, session: requests.Session | None) -> None:
        started = time.perf_counter()
        try:
            http = session or requests
            response = http.get(self.server.url("/api/v1/posts"), timeout=HTTP_TIMEOUT)
            outcome = "" if response.status_code == 200 else str(response.status_code)
        except requests.RequestException as e:
            outcome = type(e).__name__
        with self.lock:
            self.latencies.append(time.perf_counter() - started)
            if outcome:
                self.failures[outcome] += 1

    def summary(self) -> str:
        """p50, p95 and max in ms."""
        ordered = sorted(self.latencies)
        p95 = ordered[int(len(ordered) * 0.95)]
        return (
            f"p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
            f"max {ordered[-1] * 1000:.0f} ms over {len(ordered)} reads"
        )


@pytest.mark.parametrize("server", MAKE_RUN, indirect=True)
def test_stalled_clients_do_not_block_others_and_get_408(server: GunicornServer) -> None:
    before = OtherUsers(server).start()
    time.sleep(2)
    before.stop()

    during = OtherUsers(server).start()
    stalled = [stall(server) for _ in range(STALLED_CLIENTS)]
    try:
        started = time.monotonic()
        time.sleep(READ_TIMEOUT / 2)  # the stalled clients are inside the app, waiting
        measured_while_stalled = all(still_waiting(sock) for sock in stalled)
        answers = [answer(sock) for sock in stalled]
        answered_after = time.monotonic() - started
        time.sleep(1)  # and a little after their answers, when their connections close
    finally:
        during.stop()
        for sock in stalled:
            sock.close()

    added = statistics.median(during.latencies) - statistics.median(before.latencies)
    print(
        f"[slow clients {server.env['BLOG_FRAMEWORK']} {len(server.worker_pids())} gthread "
        f"workers] {STALLED_CLIENTS} stalled bodies; other users before: {before.summary()}; "
        f"during: {during.summary()} (p50 {added * 1000:+.0f} ms), failures "
        f"{dict(during.failures)}; the stalled clients got "
        f"{sorted(status for status, _, _ in answers)} after {answered_after:.1f} s"
    )
    assert measured_while_stalled, "the reads were not measured while the clients stalled"
    assert not before.failures and not during.failures
    for status, headers, body in answers:
        assert status == 408
        assert headers["content-type"] == "application/json"
        assert json.loads(body)["type"] == "request_timeout"
    _assert_no_traceback(server)


def _assert_no_traceback(server: GunicornServer) -> None:
    log = server.log_text()
    assert "Traceback" not in log, log[-3000:]
    assert not [r for r in server.app_log() if (r.get("status") or 0) >= 500]
