"""Separate hosts on one machine: network namespaces, and services they can reach.

A test that wants two blog API hosts behind one nginx needs two addresses,
each with its own network stack, so that "host A is gone" means what it does
in production: connections to A's address are refused while B's keep working.
Linux network namespaces give that cheaply. Each host gets one namespace and a
veth pair (a virtual cable): the root namespace's end is ``10.231.N.1/24``,
the host's end ``10.231.N.2/24``, and programs run inside with ``ip netns
exec``. Making them needs root and the ``ip`` command; where that fails,
:func:`hosts` falls back to separate ports on ``127.0.0.1`` and says why.

A namespace has its own loopback, so PostgreSQL and Redis listening on the
root namespace's ``127.0.0.1`` are out of its reach. Unix sockets are files,
and the file system is shared: :func:`unix_socket_url` turns a TCP PostgreSQL
URL into one through ``/var/run/postgresql``, and :func:`redis_server` starts a
private Redis that listens only on a socket file.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import redis
from sqlalchemy.engine import URL, make_url

#: The /16 the hosts' /24 subnets come from (private, rarely used by real networks).
SUBNET_PREFIX = "10.231"
#: The port every host listens on inside its namespace (each has its own address).
NAMESPACE_PORT = 8000
POSTGRES_SOCKET_DIR = "/var/run/postgresql"
IP_TIMEOUT = 10.0  # seconds for one `ip` command


@dataclass(frozen=True)
class Host:
    """Where one host lives: its namespace (``None`` on the fallback) and address.

    ``gateway`` is the root namespace's end of the host's cable: what the host
    sees as the address of everything outside (nginx, the test's client).
    """

    name: str
    address: str
    port: int
    namespace: str | None = None
    gateway: str | None = None

    @property
    def bind(self) -> str:
        """What gunicorn's ``--bind`` gets."""
        return f"{self.address}:{self.port}"

    def command(self, *argv: str) -> list[str]:
        """``argv`` run on this host: inside its namespace, when it has one."""
        if self.namespace is None:
            return list(argv)
        return ["ip", "netns", "exec", self.namespace, *argv]


@dataclass
class Hosts:
    """The hosts :func:`hosts` made, and why namespaces were not used (if not)."""

    hosts: list[Host]
    fallback_reason: str | None = None
    commands: list[list[str]] = field(default_factory=list)

    @property
    def isolated(self) -> bool:
        """True when each host has a network namespace of its own."""
        return self.fallback_reason is None


@contextlib.contextmanager
def hosts(names: list[str]) -> Iterator[Hosts]:
    """One namespace per name, removed again on exit (also when the test fails).

    Namespace and interface names carry this process's id, so two runs on one
    machine do not collide; each /24 is one that no interface uses yet.

    Yields:
        The hosts; on the loopback fallback, ``fallback_reason`` says why.
    """
    problem = namespace_problem()
    if problem is not None:
        yield Hosts(_loopback_hosts(names), fallback_reason=problem)
        return
    made = Hosts([])
    try:
        for index, name in enumerate(names):
            made.hosts.append(_make_namespace(name, index, made.commands))
        yield made
    finally:
        for host in made.hosts:
            _remove_namespace(host)


def namespace_problem() -> str | None:
    """Why network namespaces cannot be made here, or ``None`` when they can."""
    if os.geteuid() != 0:
        return "not root, so no network namespaces"
    if shutil.which("ip") is None:
        return "no `ip` command (iproute2), so no network namespaces"
    probe = f"blogprobe{os.getpid()}"
    added = _ip("netns", "add", probe, check=False)
    if added.returncode:
        return f"`ip netns add` failed: {added.stderr.strip()}"
    _ip("netns", "del", probe, check=False)
    return None


def _loopback_hosts(names: list[str]) -> list[Host]:
    """The fallback: every host on 127.0.0.1, each on a port free right now."""
    return [Host(name, "127.0.0.1", free_port()) for name in names]


def free_port(address: str = "127.0.0.1") -> int:
    """A TCP port free at ``address`` right now (nginx needs ports known up front)."""
    with socket.socket() as sock:
        sock.bind((address, 0))
        port: int = sock.getsockname()[1]
        return port


def _make_namespace(name: str, index: int, log: list[list[str]]) -> Host:
    """A namespace, its cable, addresses on both ends, and ``lo`` up inside."""
    tag = f"{os.getpid()}{chr(ord('a') + index)}"
    namespace, outside, inside = f"blog{tag}", f"bh{tag}", f"bn{tag}"
    subnet = _unused_subnet()
    gateway, address = f"{subnet}.1", f"{subnet}.2"
    host = Host(name, address, NAMESPACE_PORT, namespace, gateway)
    steps = [
        ["netns", "add", namespace],
        ["link", "add", outside, "type", "veth", "peer", "name", inside],
        ["link", "set", inside, "netns", namespace],
        ["addr", "add", f"{gateway}/24", "dev", outside],
        ["link", "set", outside, "up"],
        ["-n", namespace, "addr", "add", f"{address}/24", "dev", inside],
        ["-n", namespace, "link", "set", inside, "up"],
        ["-n", namespace, "link", "set", "lo", "up"],
    ]
    try:
        for step in steps:
            _ip(*step)
            log.append(["ip", *step])
    except BaseException:
        _remove_namespace(host)
        raise
    return host


def _unused_subnet() -> str:
    """``10.231.N`` for an N that no interface on this machine has an address in.

    The search starts at a place picked from the pid, so concurrent runs rarely
    even look at the same N.
    """
    listing = _ip("-o", "-4", "addr", "show").stdout
    used = {int(n) for n in re.findall(rf"inet {re.escape(SUBNET_PREFIX)}\.(\d+)\.", listing)}
    start = os.getpid() % 250
    for offset in range(250):
        candidate = 1 + (start + offset) % 250
        if candidate not in used:
            return f"{SUBNET_PREFIX}.{candidate}"
    raise RuntimeError(f"every {SUBNET_PREFIX}.N/24 is in use")


def _remove_namespace(host: Host) -> None:
    """Delete the namespace and the cable; each step ignores what is already gone.

    Deleting a namespace destroys its end of the veth pair, which takes the
    other end with it; the explicit ``link del`` covers a namespace that could
    not be made after its cable was.
    """
    if host.namespace is None:
        return
    outside = "bh" + host.namespace.removeprefix("blog")
    _ip("netns", "del", host.namespace, check=False)
    _ip("link", "del", outside, check=False)


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``ip ARGS``; with ``check``, a failure raises with ip's message."""
    result = subprocess.run(
        ["ip", *args], capture_output=True, text=True, timeout=IP_TIMEOUT, check=False
    )
    if check and result.returncode:
        raise RuntimeError(f"ip {' '.join(args)} failed: {result.stderr.strip()}")
    return result


def unix_socket_url(url: str, socket_dir: str = POSTGRES_SOCKET_DIR) -> str:
    """The same PostgreSQL URL, connecting through the server's Unix socket.

    ``postgresql+psycopg://postgres@127.0.0.1:5432/test?options=...`` becomes
    ``postgresql+psycopg://postgres@/test?host=/var/run/postgresql&options=...``:
    libpq reads a ``host`` that starts with ``/`` as the socket's directory.
    Everything else (user, database, the private schema in ``options``) stays.
    """
    parsed = make_url(url)
    port = parsed.port or 5432
    query = {**parsed.query, "host": socket_dir}
    if port != 5432:
        query["port"] = str(port)
    socket_url = URL.create(
        parsed.drivername,
        username=parsed.username,
        password=parsed.password,
        database=parsed.database,
        query=query,
    )
    return socket_url.render_as_string(hide_password=False)


def postgres_socket_problem(socket_dir: str = POSTGRES_SOCKET_DIR) -> str | None:
    """Why PostgreSQL's Unix socket is not usable, or ``None``."""
    if not list(Path(socket_dir).glob(".s.PGSQL.*")):
        return f"no PostgreSQL Unix socket in {socket_dir}"
    return None


@dataclass
class RedisServer:
    """A private ``redis-server`` listening only on a socket file."""

    process: subprocess.Popen[bytes]
    socket_path: Path

    @property
    def url(self) -> str:
        """``unix:///path/redis.sock?db=0``, the form redis-py's ``from_url`` reads."""
        return f"unix://{self.socket_path}?db=0"


@contextlib.contextmanager
def redis_server(startup_timeout: float = 10.0) -> Iterator[RedisServer]:
    """Start a real Redis for one test (no TCP port, no persistence); stop it after.

    The socket lives in a short ``/tmp`` folder of its own: a Unix socket's
    path may not exceed 107 bytes, which pytest's ``tmp_path`` can.

    Raises:
        RuntimeError: ``redis-server`` is missing or did not answer in time.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("no redis-server on PATH")
    directory = Path(tempfile.mkdtemp(prefix="blog-redis-"))
    socket_path = directory / "redis.sock"
    command = [binary, "--port", "0", "--unixsocket", str(socket_path)]
    command += ["--unixsocketperm", "777", "--save", "", "--appendonly", "no"]
    command += ["--dir", str(directory), "--logfile", str(directory / "redis.log")]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    server = RedisServer(process, socket_path)
    try:
        _wait_for_redis(server, startup_timeout)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        shutil.rmtree(directory, ignore_errors=True)


def _wait_for_redis(server: RedisServer, timeout: float) -> None:
    """Until ``PING`` through the socket answers, or the server has exited."""
    deadline = time.monotonic() + timeout
    client = redis.Redis.from_url(server.url, socket_timeout=1)
    try:
        while time.monotonic() < deadline and server.process.poll() is None:
            with contextlib.suppress(redis.RedisError, OSError):
                if client.ping():
                    return
            time.sleep(0.05)
    finally:
        client.close()
    raise RuntimeError(f"redis-server did not answer on {server.socket_path}")
