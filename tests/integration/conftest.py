"""Fixtures that run the real thing: gunicorn (and nginx) on 127.0.0.1 ports.

Everything in ``tests/integration`` talks HTTP to real server processes, so it
sees what a client in production sees: gunicorn's own parsing and limits,
several worker processes sharing one database, signals, the proxy in front.

* ``start_gunicorn(directory, env, ...)`` starts ``gunicorn -c gunicorn.conf.py
  blog_api.wsgi:app`` with the given ``BLOG_*`` variables, on a port the kernel
  picks (``--bind 127.0.0.1:0``; the port is read back from gunicorn's log, so
  there is no window in which another process can take it), creates the tables
  first, and waits (bounded) until every worker answers.
* The ``gunicorn`` fixture is a factory for one test; ``live_server`` is one
  session-wide server per framework (``miniflask`` and ``flask``), shared by
  the attack tests so the suite starts few processes.
* ``postgres_url`` gives a private PostgreSQL schema, ``nginx_binary`` an nginx
  (installed with apt-get when missing, else the test skips with the reason).

Every server started here is stopped at the end of its scope: SIGTERM first
(gunicorn's graceful shutdown), SIGKILL to the process group after a timeout.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from blog_api import migrate
from tests.support.apt import apt_install
from tests.support.postgres import postgres_schema

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
SECRET = "integration-secret-key-long-enough-for-hs256-" + "0123456789" * 3
FAST_HASH = "pbkdf2:sha256:1000"
PASSWORD = "correct horse battery"
FRAMEWORKS = ["miniflask", "flask"]
STARTUP_TIMEOUT = 30.0  # seconds until every worker answers
STOP_TIMEOUT = 15.0  # seconds for a graceful stop before SIGKILL
HTTP_TIMEOUT = 10.0  # seconds for any single request in these tests
#: Settings that switch the failed-login limits off (0 = off), for servers whose
#: tests fail many logins on purpose from one address.
NO_LOGIN_LIMITS = {
    "BLOG_LOGIN_MAX_FAILURES": "0",
    "BLOG_LOGIN_CLIENT_MAX_FAILURES": "0",
    "BLOG_LOGIN_ACCOUNT_MAX_FAILURES": "0",
}

_LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")


@dataclass
class GunicornServer:
    """One running gunicorn master, its workers, and its combined log.

    gunicorn's error log, its access log and the app's JSON log lines all go to
    stderr, which is ``log_path``: tests read it to check what was logged.
    """

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    database_url: str
    env: dict[str, str] = field(repr=False)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` on this server."""
        return self.base_url + path

    def log_text(self) -> str:
        """Everything the master, its workers and the app wrote so far."""
        return self.log_path.read_text(errors="replace")

    def app_log(self) -> list[dict[str, Any]]:
        """The app's JSON log records (``blog_api/logs.py``), in order."""
        records = []
        for line in self.log_text().splitlines():
            if line.startswith("{"):
                try:
                    records.append(json.loads(line))
                except ValueError:
                    continue  # a line cut by a concurrent write from another worker
        return records

    def access_log(self) -> list[str]:
        """gunicorn's access-log lines (the ones carrying ``rid=``)."""
        return [line for line in self.log_text().splitlines() if " rid=" in line]

    def worker_pids(self) -> set[int]:
        """The pids of the master's live children (its workers)."""
        return _children_of(self.process.pid)

    def wait_for_workers(
        self, count: int, exclude: AbstractSet[int] = frozenset(), timeout: float = 20
    ) -> set[int]:
        """Wait until ``count`` workers, none of them in ``exclude``, are alive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.worker_pids()
            if len(pids) == count and not pids & exclude:
                return pids
            time.sleep(0.05)
        raise AssertionError(f"expected {count} fresh workers, have {self.worker_pids()}")

    def signal(self, signum: int) -> None:
        """Send a signal to the master (HUP reloads, TERM stops gracefully)."""
        self.process.send_signal(signum)

    def stop(self, timeout: float = STOP_TIMEOUT, graceful: bool = False) -> int:
        """Stop the server; SIGKILL its process group if that hangs.

        The fixtures use SIGQUIT, gunicorn's quick shutdown, since nothing is
        in flight at the end of a test; ``graceful=True`` sends SIGTERM, which
        lets in-flight requests finish (up to ``graceful_timeout``).
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM if graceful else signal.SIGQUIT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(5)
        return self.process.returncode


def _children_of(parent: int) -> set[int]:
    """Pids whose parent is ``parent``, read from ``/proc`` (Linux only)."""
    children = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended while we looked
        # Field 4 is the parent pid; the command name (field 2) may hold spaces.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == parent and fields[0] != "Z":
            children.add(int(entry.name))
    return children


def server_env(directory: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a test server: ours, minus any ``BLOG_*`` of the caller's.

    Defaults: miniflask, a SQLite file in ``directory``, a fixed secret key (so
    tests can forge tokens), a cheap password hash, logs at INFO.
    """
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BLOG_", "GUNICORN_")) and key != "WEB_CONCURRENCY"
    }
    base.update(
        {
            "BLOG_FRAMEWORK": "miniflask",
            "BLOG_DATABASE_URL": f"sqlite:///{directory / 'blog.db'}",
            "BLOG_INSTANCE_PATH": str(directory / "instance"),
            "BLOG_SECRET_KEY": SECRET,
            "BLOG_PASSWORD_HASH_METHOD": FAST_HASH,
            "PYTHONUNBUFFERED": "1",
        }
    )
    base.update(env or {})
    return base


def start_gunicorn(
    directory: Path,
    env: Mapping[str, str] | None = None,
    *,
    workers: int = 2,
    threads: int | None = 1,
    app: str = "blog_api.wsgi:app",
    args: tuple[str, ...] = (),
    ready_path: str = "/api/v1/openapi.json",
    startup_timeout: float = STARTUP_TIMEOUT,
) -> GunicornServer:
    """Start gunicorn with ``gunicorn.conf.py`` and wait until it serves.

    Args:
        directory: where the log, the SQLite file and the instance folder go.
        env: ``BLOG_*`` (or other) variables over ``server_env``'s defaults;
            ``BLOG_FRAMEWORK`` picks Flask or miniflask.
        workers: worker processes (``WEB_CONCURRENCY``).
        threads: threads per worker; more than 1 selects ``gthread`` workers;
            ``None`` keeps ``gunicorn.conf.py``'s default (what ``make run`` uses).
        app: the WSGI application, as gunicorn names it.
        args: extra gunicorn command-line options.
        ready_path: a GET that must answer 200 before the server counts as up.
        startup_timeout: seconds to wait for that, and for every worker.

    Returns:
        The running server; call ``stop()`` (the fixtures do it for you).
    """
    directory.mkdir(parents=True, exist_ok=True)
    full_env = server_env(directory, env)
    full_env["WEB_CONCURRENCY"] = str(workers)
    if threads is not None:
        full_env["GUNICORN_THREADS"] = str(threads)
    database_url = full_env["BLOG_DATABASE_URL"]
    migrate.upgrade(database_url)  # what `make run` does first
    log_path = directory / f"gunicorn-{uuid.uuid4().hex[:8]}.log"
    command = [GUNICORN, "-c", str(ROOT / "gunicorn.conf.py"), "--bind", "127.0.0.1:0", *args, app]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a hung one can be killed whole
        )
    try:
        port = _wait_for_port(process, log_path, startup_timeout)
        server = GunicornServer(process, port, log_path, database_url, full_env)
        _wait_until_ready(server, ready_path, workers, startup_timeout)
    except BaseException:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        raise
    return server


def _wait_for_port(process: subprocess.Popen[bytes], log_path: Path, timeout: float) -> int:
    """The port gunicorn bound, from its "Listening at" line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = _LISTENING.search(log_path.read_text(errors="replace"))
        if match:
            return int(match.group(1))
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"gunicorn did not start:\n{log_path.read_text(errors='replace')[-3000:]}")


def _wait_until_ready(server: GunicornServer, path: str, workers: int, timeout: float) -> None:
    """Until ``path`` answers 200 and all workers have booted."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            ready = requests.get(server.url(path), timeout=2).status_code == 200
        except requests.RequestException:
            ready = False
        if ready and len(server.worker_pids()) >= workers:
            return
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn not ready:\n{server.log_text()[-3000:]}")


class ServerPool:
    """Starts servers in numbered folders and stops them all at the end of a scope."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.servers: list[GunicornServer] = []

    def start(self, env: Mapping[str, str] | None = None, **options: Any) -> GunicornServer:
        """``start_gunicorn`` in a fresh sub-folder; see its arguments."""
        folder = self.directory / f"server{len(self.servers)}"
        server = start_gunicorn(folder, env, **options)
        self.servers.append(server)
        return server

    def stop_all(self) -> None:
        """Stop every server this pool started."""
        for server in self.servers:
            server.stop()


@pytest.fixture
def gunicorn(tmp_path: Path) -> Iterator[Callable[..., GunicornServer]]:
    """A factory: ``gunicorn(env, workers=..., threads=...)`` -> a running server.

    Every server it started is stopped when the test ends.
    """
    pool = ServerPool(tmp_path)
    yield pool.start
    pool.stop_all()


@pytest.fixture(scope="session")
def gunicorn_session(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., GunicornServer]]:
    """Like ``gunicorn``, but the servers live until the end of the session."""
    pool = ServerPool(tmp_path_factory.mktemp("gunicorn"))
    yield pool.start
    pool.stop_all()


@pytest.fixture(scope="session", params=FRAMEWORKS)
def live_server(
    request: pytest.FixtureRequest, gunicorn_session: Callable[..., GunicornServer]
) -> GunicornServer:
    """One server per framework for the whole session (ids ``miniflask``/``flask``).

    Shared by many tests, so tests using it must not depend on the database
    being empty: make unique names (``unique_name``) and compare deltas.
    The login rate limits are off, so that the many failed logins of the
    attack tests are answered 401 rather than 429.
    """
    env = {"BLOG_FRAMEWORK": request.param, **NO_LOGIN_LIMITS}
    return gunicorn_session(env, workers=2)


def unique_name(prefix: str = "u") -> str:
    """A username no other test uses (letters and digits, as the schema wants)."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


class Client:
    """A ``requests`` session bound to one server, with the API's user stories."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Any request, with a bounded timeout."""
        kwargs.setdefault("timeout", HTTP_TIMEOUT)
        return self.http.request(method, self.base_url + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        """A GET."""
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        """A POST."""
        return self.request("POST", path, **kwargs)

    def register(self, username: str | None = None, password: str = PASSWORD) -> dict[str, Any]:
        """Register a user (a unique one by default) and return its JSON."""
        username = username or unique_name()
        response = self.post(
            "/api/v1/auth/register",
            json={"username": username, "email": f"{username}@example.com", "password": password},
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def login(self, username: str, password: str = PASSWORD) -> dict[str, Any]:
        """Log in and return the token pair."""
        response = self.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def new_user(self) -> tuple[dict[str, Any], dict[str, str]]:
        """A fresh registered user and their ``Authorization`` header."""
        user = self.register()
        tokens = self.login(user["username"])
        return user, {"Authorization": f"Bearer {tokens['access_token']}"}

    def create_post(self, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
        """Create a published post and return it."""
        body = {"title": "Hello", "body": "World", "tags": [], "status": "published", **fields}
        response = self.post("/api/v1/posts", json=body, headers=headers)
        assert response.status_code == 201, response.text
        post: dict[str, Any] = response.json()
        return post


@pytest.fixture
def client(live_server: GunicornServer) -> Iterator[Client]:
    """A ``Client`` for the session's server of the current framework."""
    client = Client(live_server.base_url)
    yield client
    client.http.close()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """``postgres_schema()`` for one test."""
    with postgres_schema("blog_it") as url:
        yield url


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``slow`` mark (load and fault tests; still run by ``make test``)."""
    config.addinivalue_line("markers", "slow: load or fault-injection test, several seconds")


NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/bin/nginx")
APT_TIMEOUT = 300  # seconds for apt-get, at most once per session


@pytest.fixture(scope="session")
def nginx_binary() -> str:
    """The nginx executable, installing Debian's ``nginx`` package when missing.

    Skips with the reason when it is missing and cannot be installed (not
    root, no apt-get, no network to the Debian mirror, or too slow).
    """
    found = _find_nginx()
    if found:
        return found
    problem = apt_install("nginx", timeout=APT_TIMEOUT)
    found = _find_nginx()
    if not found:
        pytest.skip(f"nginx unavailable: {problem or 'installed, but no nginx binary found'}")
    return found


def _find_nginx() -> str | None:
    """An nginx binary on PATH or in Debian's place."""
    return shutil.which("nginx") or next(
        (path for path in NGINX_CANDIDATES if os.access(path, os.X_OK)), None
    )
