"""Two hosts, one database: two blog API servers behind one nginx upstream.

What ``docs/deploy.md`` ("Two hosts: PostgreSQL, Redis and nginx") describes,
run for real on one machine. Each host is a network namespace with an address
of its own (``tests/support/netns.py``), running its own gunicorn master with
its own instance folder; both share one PostgreSQL schema (through its Unix
socket, since a namespace cannot reach the root namespace's loopback), one
private Redis (a socket file) and ``BLOG_SECRET_KEY``. nginx, in the root
namespace, has both hosts in one ``upstream`` block. The tests show, in order:

1. a write through host A is read through host B, and through nginx, at once;
2. the failed-login limit and the response cache are shared by the hosts;
3. ``kill -9`` of host A's whole process group under load through nginx: the
   5xx answers are only requests that were in flight on A, nginx sends
   everything else to B, and no acknowledged write is lost;
4. with A started again, a test-only revision (expand-only, on top of the
   code's newest) is migrated in under load on both hosts without one error,
   the old code keeps serving on the newer schema, and a restarted host
   (fresh start, or ``HUP``) serves it too, with a warning.

Where namespaces cannot be made (not root, no ``ip``), the hosts are two
ports on 127.0.0.1 instead; the tests say so (a warning and a printed line)
and still run. Run with ``-s`` to see the figures; ``docs/deploy.md`` quotes
one run's.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import uuid
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from sqlalchemy import text

from blog_api import migrate
from blog_api.db import make_engine
from tests.integration.conftest import (
    GUNICORN,
    PASSWORD,
    ROOT,
    STARTUP_TIMEOUT,
    Client,
    GunicornServer,
    _wait_until_ready,
    server_env,
    unique_name,
)
from tests.support.netns import (
    Host,
    Hosts,
    RedisServer,
    free_port,
    hosts,
    postgres_socket_problem,
    redis_server,
    unix_socket_url,
)
from tests.support.postgres import postgres_schema

pytestmark = pytest.mark.slow

WORKERS = 2  # per host: two hosts of two workers each on the 2-core machine
LOGIN_LIMIT = 5  # BLOG_LOGIN_MAX_FAILURES: failures per client and username
#: The address nginx would put in X-Forwarded-For for one client; the tests
#: send it to A and B directly, as nginx would, to be one client on both hosts.
CLIENT = "198.51.100.23"
LOAD_THREADS = 6
FAILOVER_WARMUP = 3.0  # seconds of load before the kill
FAILOVER_AFTER = 4.0  # seconds of load after it
MIGRATION_LOAD = 2.0  # seconds of load before and after the migration
#: nginx marks a host down after this many failures, for this long (then tries again).
MAX_FAILS, FAIL_TIMEOUT = 1, 5

NGINX_CONFIG = """\
user {user};
worker_processes 1;
error_log {directory}/error.log warn;
pid {directory}/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {directory}/temp/client_body;
    proxy_temp_path {directory}/temp/proxy;
    fastcgi_temp_path {directory}/temp/fastcgi;
    uwsgi_temp_path {directory}/temp/uwsgi;
    scgi_temp_path {directory}/temp/scgi;
    # Which host answered each request (several, comma-separated, when nginx
    # passed it on): how the test attributes every 5xx to a host.
    log_format upstreams '$msec $http_x_request_id $status "$upstream_addr" '
                         '"$upstream_status" $request_time "$request"';
    access_log {directory}/access.log upstreams;

    upstream blog_api {{
        zone blog_api 64k;  # the hosts' up/down state, shared by nginx's workers
{servers}
    }}

    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://blog_api;
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Forwarded-Port $server_port;
            # A host that refuses the connection, or fails before answering,
            # is skipped: the request goes to the other one. nginx never
            # passes on a POST it has already sent (it may have been done).
            proxy_next_upstream error timeout http_502;
            proxy_next_upstream_tries 2;
            proxy_connect_timeout 2s;
            proxy_read_timeout 35s;
        }}
    }}
}}
"""

#: The code's newest revision, and the test-only one rolled out on top of it.
HEAD = migrate.script_directory().get_current_head()
TEST_REVISION = "test_subtitle"

#: The test-only revision: expand only (a nullable column), as the
#: expand/contract rule in blog_api/migrate.py asks of every revision.
TEST_REVISION_SOURCE = f'''\
"""posts.subtitle: test-only, from tests/integration/test_two_hosts.py."""

import sqlalchemy as sa
from alembic import op

revision = "{TEST_REVISION}"
down_revision = "{HEAD}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("posts", sa.Column("subtitle", sa.String(200), nullable=True))


def downgrade() -> None:
    op.drop_column("posts", "subtitle")
'''


@dataclass
class HostServer(GunicornServer):
    """A gunicorn master on one host's address (in its namespace, when it has one)."""

    address: str = "127.0.0.1"
    command: list[str] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        """``http://<host address>:<port>``."""
        return f"http://{self.address}:{self.port}"


@dataclass
class Nginx:
    """nginx with both hosts in its upstream, on 127.0.0.1:<port>."""

    process: subprocess.Popen[bytes]
    port: int
    directory: Path

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def access_log(self) -> dict[str, LogLine]:
        """The access log's lines by request id (the load's ids are unique)."""
        path = self.directory / "access.log"
        lines = path.read_text().splitlines() if path.exists() else []
        parsed = (LogLine.parse(line) for line in lines)
        return {line.request_id: line for line in parsed if line is not None}


@dataclass(frozen=True)
class LogLine:
    """One line of nginx's ``upstreams`` log format."""

    request_id: str
    status: int
    upstreams: tuple[str, ...]
    upstream_statuses: tuple[str, ...]

    _FORMAT = re.compile(r'^\S+ (\S+) (\d+) "([^"]*)" "([^"]*)"')

    @classmethod
    def parse(cls, line: str) -> LogLine | None:
        """The fields of ``line``, or ``None`` for a line in another shape."""
        match = cls._FORMAT.match(line)
        if match is None:
            return None
        request_id, status, upstreams, statuses = match.groups()
        return cls(request_id, int(status), _split(upstreams), _split(statuses))


def _split(field: str) -> tuple[str, ...]:
    """nginx separates the servers it tried with ``, `` (and groups with `` : ``)."""
    return tuple(part.strip() for part in re.split(r"[,:] ", field) if part.strip())


@dataclass
class Cluster:
    """Two hosts, their shared PostgreSQL and Redis, and nginx in front."""

    network: Hosts
    database_url: str
    redis: RedisServer
    env: dict[str, str]
    directory: Path
    servers: dict[str, HostServer] = field(default_factory=dict)
    nginx: Nginx | None = None

    def host(self, name: str) -> Host:
        """The address and namespace of host ``name`` (``"a"`` or ``"b"``)."""
        return next(host for host in self.network.hosts if host.name == name)

    def start(self, name: str) -> HostServer:
        """Start (or start again) host ``name``'s gunicorn, on its address."""
        self.servers[name] = start_host(self.directory / f"host-{name}", self.host(name), self.env)
        return self.servers[name]

    def client(self, name: str) -> Client:
        """A client of host ``name``, or of ``"nginx"``."""
        if name == "nginx":
            assert self.nginx is not None
            return Client(self.nginx.base_url)
        return Client(self.servers[name].base_url)

    def stop(self) -> None:
        """Stop nginx and every host (the finalizer; also after a failure)."""
        if self.nginx is not None:
            stop_process(self.nginx.process)
        for server in self.servers.values():
            server.stop()


def start_host(directory: Path, host: Host, env: dict[str, str]) -> HostServer:
    """``gunicorn -c gunicorn.conf.py blog_api.wsgi:app`` on ``host``, once it serves.

    The same command as ``make run`` and the image, prefixed with ``ip netns
    exec <namespace>`` when the host has a namespace (``ip`` execs gunicorn
    in place, so the process is gunicorn's master and its group is the host).
    """
    directory.mkdir(parents=True, exist_ok=True)
    full_env = server_env(directory, env)
    full_env["WEB_CONCURRENCY"] = str(WORKERS)
    log_path = directory / f"gunicorn-{uuid.uuid4().hex[:8]}.log"
    config = str(ROOT / "gunicorn.conf.py")
    command = host.command(GUNICORN, "-c", config, "--bind", host.bind, "blog_api.wsgi:app")
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the whole host, for kill -9
        )
    server = HostServer(
        process, host.port, log_path, env["BLOG_DATABASE_URL"], full_env, host.address, command
    )
    try:
        _wait_until_ready(server, "/api/v1/openapi.json", WORKERS, STARTUP_TIMEOUT)
    except BaseException:
        kill_group(process)
        raise
    return server


def kill_group(process: subprocess.Popen[bytes]) -> None:
    """``kill -9`` the process group ``process`` leads, and reap its leader."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGQUIT (nginx's graceful stop), then SIGKILL to the group after 10 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            kill_group(process)


def start_nginx(binary: str, directory: Path, upstreams: list[Host]) -> Nginx:
    """nginx in the foreground with one upstream of ``upstreams``; retried on a taken port."""
    (directory / "temp").mkdir(parents=True, exist_ok=True)
    servers = "\n".join(
        f"        server {host.bind} max_fails={MAX_FAILS} fail_timeout={FAIL_TIMEOUT}s;"
        for host in upstreams
    )
    user = pwd.getpwuid(os.geteuid()).pw_name
    for _attempt in range(3):  # a free port may be taken between choosing and binding
        port = free_port()
        config = directory / "nginx.conf"
        config.write_text(
            NGINX_CONFIG.format(user=user, directory=directory, servers=servers, port=port)
        )
        command = [binary, "-e", str(directory / "error.log"), "-c", str(config)]
        command += ["-g", "daemon off;"]
        output = (directory / "stderr.log").open("ab")
        process = subprocess.Popen(command, stdout=output, stderr=output, start_new_session=True)
        if _listening(process, port):
            return Nginx(process, port, directory)
    raise RuntimeError(f"nginx did not start:\n{(directory / 'error.log').read_text()[-2000:]}")


def _listening(process: subprocess.Popen[bytes], port: int, timeout: float = 15) -> bool:
    """Whether nginx accepts connections on ``port`` before it exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    stop_process(process)
    return False


@pytest.fixture(scope="module")
def cluster(nginx_binary: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Namespaces, PostgreSQL schema, Redis, two hosts and nginx; all removed after."""
    problem = postgres_socket_problem()
    if problem:
        pytest.skip(problem)
    if shutil.which("redis-server") is None:
        pytest.skip("no redis-server on PATH, so no Redis for both hosts to share")
    with contextlib.ExitStack() as stack:
        network = stack.enter_context(hosts(["a", "b"]))
        if not network.isolated:
            message = f"hosts on 127.0.0.1 ports, not namespaces: {network.fallback_reason}"
            print(f"\ntwo-hosts: {message}")
            warnings.warn(message, stacklevel=1)
        database_url = unix_socket_url(stack.enter_context(postgres_schema("blog_2h")))
        redis_instance = stack.enter_context(redis_server())
        migrate.upgrade(database_url)  # what `make run` and the image do first
        cluster = Cluster(
            network,
            database_url,
            redis_instance,
            _host_env(network, database_url, redis_instance),
            tmp_path_factory.mktemp("two-hosts"),
        )
        stack.callback(cluster.stop)
        cluster.start("a")
        cluster.start("b")
        cluster.nginx = start_nginx(nginx_binary, cluster.directory / "nginx", network.hosts)
        _print_setup(cluster)
        yield cluster


def _print_setup(cluster: Cluster) -> None:
    """The commands that made the hosts, as run, for docs/deploy.md."""
    assert cluster.nginx is not None
    print("\ntwo-hosts setup:")
    for command in cluster.network.commands:
        print("  " + " ".join(command))
    for name, server in cluster.servers.items():
        print(f"  host {name}: {' '.join(server.command)}")
    print(f"  database: {cluster.database_url}; redis: {cluster.redis.url}")
    print(f"  nginx upstream: {', '.join(h.bind for h in cluster.network.hosts)}")


def _host_env(network: Hosts, database_url: str, redis_instance: RedisServer) -> dict[str, str]:
    """The settings both hosts get: one database, one Redis, one key, one proxy hop."""
    addresses = sorted({host.address for host in network.hosts})
    return {
        "BLOG_FRAMEWORK": "miniflask",
        "BLOG_DATABASE_URL": database_url,
        "BLOG_REDIS_URL": redis_instance.url,
        # With Redis the default is Celery, whose worker this cluster does not
        # run: the hosts send their mail (the confirmations) themselves.
        "BLOG_JOBS_DISPATCHER": "thread",
        # server_env sets the same BLOG_SECRET_KEY for every server it starts.
        "BLOG_PROXY_HOPS": "1",
        # nginx forwards the Host its clients used (127.0.0.1); the tests also
        # talk to each host directly, by its address.
        "BLOG_TRUSTED_HOSTS": ",".join(["localhost", "127.0.0.1", *addresses]),
        "BLOG_LOGIN_MAX_FAILURES": str(LOGIN_LIMIT),
    }


# -- 1. one database --------------------------------------------------------------


def test_a_write_through_host_a_is_read_through_host_b_and_nginx(cluster: Cluster) -> None:
    a, b, nginx = cluster.client("a"), cluster.client("b"), cluster.client("nginx")
    _, headers = a.new_user()
    post = a.create_post(headers, title=unique_name("title"))

    on_b = b.get(f"/api/v1/posts/{post['id']}")
    assert on_b.status_code == 200
    assert on_b.json()["title"] == post["title"]
    on_nginx = nginx.get(f"/api/v1/posts/{post['id']}")
    assert on_nginx.status_code == 200
    assert on_nginx.json()["title"] == post["title"]
    # The token A issued is good on B: one BLOG_SECRET_KEY.
    assert b.create_post(headers, title=unique_name("title"))["author"] == post["author"]


# -- 2. shared counters and cache ---------------------------------------------------


def test_failed_logins_are_counted_across_both_hosts(cluster: Cluster) -> None:
    user = cluster.client("nginx").register()
    statuses = []
    for attempt in range(LOGIN_LIMIT + 2):
        host = cluster.client("a" if attempt % 2 == 0 else "b")
        response = host.post(
            "/api/v1/auth/login",
            json={"username": user["username"], "password": "wrong " + PASSWORD},
            headers={"X-Forwarded-For": CLIENT},  # one client, as nginx would say
        )
        statuses.append(response.status_code)
    assert statuses == [401] * LOGIN_LIMIT + [429, 429]
    # Even the right password is refused now, on either host.
    right = cluster.client("b").post(
        "/api/v1/auth/login",
        json={"username": user["username"], "password": PASSWORD},
        headers={"X-Forwarded-For": CLIENT},
    )
    assert right.status_code == 429
    shared = redis.Redis.from_url(cluster.redis.url)
    assert shared.keys("blog:login-failures:*"), "the counters live in the shared Redis"
    print(f"\ntwo-hosts login limit: {statuses} alternating A, B ({LOGIN_LIMIT} allowed)")


def test_the_response_cache_is_shared_and_a_write_on_a_invalidates_b(cluster: Cluster) -> None:
    a, b = cluster.client("a"), cluster.client("b")
    _, headers = a.new_user()
    a.create_post(headers, title=unique_name("title"))
    filled, served = unique_name("req"), unique_name("req")
    assert a.get("/api/v1/posts", headers={"X-Request-ID": filled}).status_code == 200
    before = b.get("/api/v1/posts", headers={"X-Request-ID": served})
    # B answered from the entry A stored in Redis.
    assert _log_record(cluster.servers["b"], served)["cache"] == "hit"

    post = a.create_post(headers, title=unique_name("title"))
    after = b.get("/api/v1/posts")
    assert after.status_code == 200
    assert after.json()["items"][0]["id"] == post["id"]
    assert post["id"] not in [item["id"] for item in before.json()["items"]]


def _log_record(server: GunicornServer, request_id: str) -> dict[str, Any]:
    """The app's ``request`` log record of ``request_id`` (log lines arrive just after)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for record in server.app_log():
            if record.get("request_id") == request_id and record.get("event") == "request":
                return record
        time.sleep(0.05)
    raise AssertionError(f"no log record for {request_id}")


def _wait_for_text(server: GunicornServer, needle: str, timeout: float = 10) -> None:
    """Until ``needle`` is in the server's log (workers log as they boot)."""
    deadline = time.monotonic() + timeout
    while needle not in server.log_text():
        assert time.monotonic() < deadline, f"{needle!r} not logged:\n{server.log_text()[-2000:]}"
        time.sleep(0.1)


# -- the load generator -------------------------------------------------------------


@dataclass
class Outcome:
    """One request of the load: when it was sent and answered, and how."""

    target: str  # the base URL it was sent to
    kind: str  # "read" or "write"
    request_id: str
    started: float
    finished: float
    status: int | None  # None: no HTTP answer at all (the error says why)
    error: str = ""
    title: str = ""
    post_id: int | None = None


class Load:
    """Threads sending a mix of reads and writes until stopped.

    Every third request is a write (a published post with a unique title);
    the others list posts or read one of ``post_ids``. Each request carries
    a unique ``X-Request-ID``, so nginx's log says which host served it.
    Thread ``i`` sends to ``base_urls[i % len(base_urls)]``.
    """

    def __init__(
        self, base_urls: list[str], headers: dict[str, str], post_ids: list[int], threads: int
    ) -> None:
        self.base_urls = base_urls
        self.headers = headers
        self.post_ids = post_ids
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(base_urls[i % len(base_urls)],), daemon=True)
            for i in range(threads)
        ]

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def _run(self, base_url: str) -> None:
        with requests.Session() as session:
            count = 0
            while not self._stop.is_set():
                outcome = self._one(session, base_url, count)
                with self._lock:
                    self.outcomes.append(outcome)
                count += 1

    def _one(self, session: requests.Session, base_url: str, count: int) -> Outcome:
        request_id = uuid.uuid4().hex
        headers = {"X-Request-ID": request_id}
        if count % 3 == 0:
            title = f"load {request_id}"
            body = {"title": title, "body": "load", "status": "published"}
            kind, method, path = "write", "POST", "/api/v1/posts"
            kwargs: dict[str, Any] = {"json": body, "headers": {**headers, **self.headers}}
        else:
            title, kind, method, kwargs = "", "read", "GET", {"headers": headers}
            path = "/api/v1/posts?per_page=5"
            if count % 3 == 2:
                path = f"/api/v1/posts/{self.post_ids[count % len(self.post_ids)]}"
        started = time.monotonic()
        try:
            response = session.request(method, base_url + path, timeout=10, **kwargs)
        except requests.RequestException as e:
            error = type(e).__name__
            return Outcome(base_url, kind, request_id, started, time.monotonic(), None, error)
        finished = time.monotonic()
        outcome = Outcome(base_url, kind, request_id, started, finished, response.status_code)
        outcome.title = title
        if kind == "write" and response.status_code == 201:
            outcome.post_id = response.json()["id"]
        return outcome

    def statuses(self) -> Counter[int | None]:
        """Responses by status (``None``: requests that got no answer)."""
        return Counter(outcome.status for outcome in self.outcomes)


def _seed_posts(client: Client, headers: dict[str, str], count: int = 5) -> list[int]:
    """A few published posts for the load's reads."""
    return [client.create_post(headers, title=unique_name("seed"))["id"] for _ in range(count)]


def _lost_writes(client: Client, outcomes: list[Outcome]) -> list[int]:
    """Ids of acknowledged (201) posts that ``client`` cannot read back with their title."""
    lost = []
    for outcome in outcomes:
        if outcome.post_id is None:
            continue
        response = client.get(f"/api/v1/posts/{outcome.post_id}")
        if response.status_code != 200 or response.json()["title"] != outcome.title:
            lost.append(outcome.post_id)
    return lost


# -- 3. failover --------------------------------------------------------------------


@dataclass
class Kill:
    """When host A was killed: the signal sent, and the moment all its processes were gone."""

    sent: float
    gone: float
    processes: int


def test_killing_host_a_under_load_fails_over_to_b_losing_no_acknowledged_write(
    cluster: Cluster,
) -> None:
    assert cluster.nginx is not None
    nginx = cluster.client("nginx")
    _, headers = nginx.new_user()
    post_ids = _seed_posts(nginx, headers)
    with Load([cluster.nginx.base_url], headers, post_ids, LOAD_THREADS) as load:
        time.sleep(FAILOVER_WARMUP)
        kill = _kill_host(cluster.servers["a"])
        time.sleep(FAILOVER_AFTER)
    cluster.start("a")  # the next tests want both hosts again, whatever this one finds
    run = Failover(load, kill, _wait_for_log(cluster.nginx, load.outcomes), cluster.host("a"))
    lost = _lost_writes(cluster.client("b"), run.acknowledged)
    stored_anyway = _stored_titles(cluster, [o.title for o in run.unacknowledged])
    print(
        f"\ntwo-hosts failover: {run.summary()}; {len(lost)} acknowledged writes lost, "
        f"{len(stored_anyway)} unacknowledged ones stored all the same"
    )

    # Every request that failed was on A when it died: 502 for a POST nginx
    # had sent (it never re-sends one), a cut body for a GET whose answer had
    # begun. Every other request was answered: by A or B before the kill, by B
    # after it (nginx passing on what A's address refused).
    assert {o.request_id for o in run.failed} <= {o.request_id for o in run.in_flight_on_a}
    assert len(run.server_errors) <= len(run.in_flight_on_a)
    assert all(o.status is not None and o.status < 500 for o in run.after), "B serves all"
    assert any(o.kind == "write" and o.status == 201 for o in run.after)
    assert run.acknowledged and not lost, f"acknowledged writes lost: {lost}"


#: How long after A's last process died a request may still have been on its
#: way to A through nginx (see ``Failover.in_flight``).
NGINX_LEARNS = 0.1


@dataclass
class Failover:
    """What the load saw around the kill, each request matched with nginx's log line."""

    load: Load
    kill: Kill
    log: dict[str, LogLine]
    killed: Host

    def tried(self, outcome: Outcome) -> tuple[str, ...]:
        """The hosts nginx tried for ``outcome``, in order (none if it never logged it)."""
        line = self.log.get(outcome.request_id)
        return line.upstreams if line is not None else ()

    @property
    def server_errors(self) -> list[Outcome]:
        """Requests answered 5xx."""
        return [o for o in self.load.outcomes if o.status is not None and o.status >= 500]

    @property
    def cut(self) -> list[Outcome]:
        """Requests with no complete answer (a body cut off when its host died)."""
        return [o for o in self.load.outcomes if o.status is None]

    @property
    def failed(self) -> list[Outcome]:
        """Every request the client saw fail."""
        return self.server_errors + self.cut

    @property
    def in_flight(self) -> list[Outcome]:
        """Sent before all of A's processes were gone, answered after the kill.

        "Gone" is when this test saw the last process die; nginx can still be
        writing a request on a kept-alive connection to A a moment later (it
        learns of A's death from that failure), so requests the client sent up
        to ``NGINX_LEARNS`` after it count as in flight too, if nginx sent
        them to A first (``in_flight_on_a``).
        """
        kill = self.kill
        return [
            o
            for o in self.load.outcomes
            if o.started < kill.gone + NGINX_LEARNS and o.finished >= kill.sent
        ]

    @property
    def in_flight_on_a(self) -> list[Outcome]:
        """Those that nginx had passed to A (first), so that A's death hit them."""
        return [o for o in self.in_flight if self.tried(o)[:1] == (self.killed.bind,)]

    @property
    def after(self) -> list[Outcome]:
        """Requests sent once A was gone (and nginx could have learnt it)."""
        return [o for o in self.load.outcomes if o.started >= self.kill.gone + NGINX_LEARNS]

    @property
    def acknowledged(self) -> list[Outcome]:
        """Writes answered 201."""
        return [o for o in self.load.outcomes if o.kind == "write" and o.status == 201]

    @property
    def unacknowledged(self) -> list[Outcome]:
        """Writes not answered 201 (they may or may not have been committed)."""
        return [o for o in self.load.outcomes if o.kind == "write" and o.status != 201]

    def summary(self) -> str:
        """The figures, in one line for the docs."""
        outcomes = self.load.outcomes
        errors_end = max((o.finished for o in self.failed), default=None)
        last_failure = (
            "no failure"
            if errors_end is None
            else f"the last failure {(errors_end - self.kill.sent) * 1000:.0f} ms after the kill"
        )
        retried = [o for o in self.after if self.killed.bind in self.tried(o)]
        writes = [o for o in outcomes if o.kind == "write"]
        return (
            f"{len(outcomes)} requests through nginx ({LOAD_THREADS} threads, "
            f"{FAILOVER_WARMUP + FAILOVER_AFTER:.0f} s, a third of them writes), statuses "
            f"{dict(sorted(self.load.statuses().items(), key=str))}; kill -9 of host A "
            f"({self.kill.processes} processes, gone in "
            f"{(self.kill.gone - self.kill.sent) * 1000:.0f} ms): {len(self.in_flight)} requests "
            f"in flight, {len(self.in_flight_on_a)} of them on A; {len(self.server_errors)} 5xx "
            f"({dict(Counter(o.kind for o in self.server_errors))}), {len(self.cut)} cut off "
            f"({dict(Counter(o.error for o in self.cut))}); {last_failure}; {len(self.after)} "
            f"requests after it, {len(retried)} of them tried on A and passed to B by nginx; "
            f"writes: {len(writes)} sent, {len(self.acknowledged)} acknowledged"
        )


def _kill_host(server: HostServer) -> Kill:
    """``kill -9`` the host's whole process group; returns when every process is gone."""
    pids = {server.process.pid, *server.worker_pids()}
    sent = time.monotonic()
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(10)
    while any(_alive(pid) for pid in pids):
        time.sleep(0.001)
    return Kill(sent, time.monotonic(), len(pids))


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs; a zombie (dead, not yet reaped by init) does not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def _wait_for_log(nginx: Nginx, outcomes: list[Outcome]) -> dict[str, LogLine]:
    """nginx's log lines of every request of the load (written just after answering).

    A request missing from it never reached nginx: a failure of the front
    itself, which no host's death may cause.
    """
    wanted = {o.request_id for o in outcomes}
    deadline = time.monotonic() + 5
    while not wanted <= set(log := nginx.access_log()) and time.monotonic() < deadline:
        time.sleep(0.1)
    missing = wanted - set(log)
    assert not missing, f"{len(missing)} requests never reached nginx: {sorted(missing)[:3]}"
    return log


def _stored_titles(cluster: Cluster, titles: list[str]) -> list[str]:
    """Which of ``titles`` are in the database (a write answered 502 may have committed)."""
    if not titles:
        return []
    engine = make_engine(cluster.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT title FROM posts WHERE title = ANY(:titles)"), {"titles": titles}
            )
            return [row[0] for row in rows]
    finally:
        engine.dispose()


# -- 4. a rolling migration ---------------------------------------------------------


def test_an_expand_migration_rolls_through_while_both_hosts_serve(
    cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cluster.nginx is not None
    scripts = tmp_path / "migrations"
    shutil.copytree(
        ROOT / "blog_api" / "migrations", scripts, ignore=shutil.ignore_patterns("__pycache__")
    )
    (scripts / "versions" / "test_posts_subtitle.py").write_text(TEST_REVISION_SOURCE)
    monkeypatch.setattr(migrate, "SCRIPT_LOCATION", str(scripts))
    a = cluster.client("a")
    _, headers = a.new_user()
    post_ids = _seed_posts(a, headers)
    targets = [cluster.servers["a"].base_url, cluster.servers["b"].base_url]
    targets.append(cluster.nginx.base_url)
    with Load(targets, headers, post_ids, LOAD_THREADS) as load:
        time.sleep(MIGRATION_LOAD)
        started = time.monotonic()
        migrate.upgrade(cluster.database_url)
        finished = time.monotonic()
        time.sleep(MIGRATION_LOAD)
    outcomes = load.outcomes
    during = [o for o in outcomes if o.finished >= started and o.started <= finished]
    bad = [o for o in outcomes if o.status not in (200, 201)]
    slowest = max((o.finished - o.started for o in during), default=0.0)
    print(
        f"\ntwo-hosts migration: {HEAD} -> {TEST_REVISION} in "
        f"{(finished - started) * 1000:.0f} ms under load on A, B and nginx; "
        f"{len(outcomes)} requests, "
        f"{dict(sorted(load.statuses().items(), key=str))}, {len(during)} overlapping the "
        f"migration (slowest {slowest * 1000:.0f} ms), {len(bad)} errors"
    )
    assert not bad, f"errors during the migration: {Counter(o.status for o in bad)}"
    assert during, "the load overlapped the migration"
    assert migrate.current(cluster.database_url) == (TEST_REVISION,)
    assert not _lost_writes(cluster.client("b"), outcomes)
    for target in targets:  # old code writes to the new schema, on both hosts
        assert any(o.status == 201 for o in outcomes if o.target == target and o.started > finished)

    _restarted_hosts_serve_the_newer_schema(cluster, headers)


def _restarted_hosts_serve_the_newer_schema(cluster: Cluster, headers: dict[str, str]) -> None:
    """A fresh start of A and a HUP of B both serve the newer schema with the old code."""
    cluster.servers["a"].stop(graceful=True)
    restarted = cluster.start("a")
    b = cluster.servers["b"]
    old_workers = b.worker_pids()
    b.signal(signal.SIGHUP)
    b.wait_for_workers(WORKERS, exclude=old_workers)
    for server in (restarted, b):
        _wait_for_text(server, "newer than this code's")
        client = Client(server.base_url)
        post = client.create_post(headers, title=unique_name("after"))
        assert client.get(f"/api/v1/posts/{post['id']}").json()["title"] == post["title"]
