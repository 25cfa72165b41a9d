"""Start, probe and stop a gunicorn server on 127.0.0.1 for the benchmarks.

``GunicornServer`` is a context manager: it starts gunicorn in its own process
group with a free port, waits (bounded) until the server answers HTTP, and on
exit sends SIGTERM to the master, then SIGKILL to its own group if it has not
stopped in time. Only 127.0.0.1 is ever bound.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from benchmarks.environment import ROOT

HOST = "127.0.0.1"
#: Our settings file; also keeps gunicorn from loading the project's ./gunicorn.conf.py.
CONFIG = Path(__file__).with_name("gunicorn.conf.py")
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    """A TCP port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, bytes]:
    """One HTTP request to the local server; returns status and body."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=dict(headers or {}))
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class GunicornServer:
    """A gunicorn master with its workers, for the duration of a ``with`` block.

    Args:
        app: the WSGI target, e.g. ``"blog_api.wsgi:app"``.
        environment: extra environment variables (``BLOG_FRAMEWORK``...); ``BLOG_*``
            variables of the calling shell are dropped so they cannot leak in.
        workers: number of worker processes.
        worker_class: ``"sync"`` or ``"gthread"``.
        threads: threads per worker (gthread only).
        cwd: the directory gunicorn starts in; gunicorn puts it first on
            ``sys.path``, so the ``blog_api`` and ``miniflask`` found there are the
            ones imported (``benchmarks/versus.py`` runs an older checkout this way).
            Default: this checkout.
        pythonpath: directories for gunicorn's ``--pythonpath``, put before ``cwd``
            on the workers' ``sys.path``.
    """

    def __init__(
        self,
        app: str,
        environment: Mapping[str, str],
        workers: int = 2,
        worker_class: str = "sync",
        threads: int = 4,
        cwd: Path = ROOT,
        pythonpath: Sequence[str] = (),
    ) -> None:
        self.app = app
        self.environment = dict(environment)
        self.workers = workers
        self.worker_class = worker_class
        self.threads = threads
        self.cwd = cwd
        self.pythonpath = list(pythonpath)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    def command(self) -> list[str]:
        """The gunicorn command line."""
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(CONFIG),
            "--bind",
            f"{HOST}:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            self.worker_class,
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
        ]
        if self.worker_class == "gthread":
            command += ["--threads", str(self.threads)]
        if self.pythonpath:
            command += ["--pythonpath", ",".join(self.pythonpath)]
        return [*command, self.app]

    def __enter__(self) -> GunicornServer:
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("BLOG_", "BENCH_"))}
        environment.update(self.environment)
        self._log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            self.command(),
            cwd=self.cwd,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=self._log,
            start_new_session=True,
        )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _wait_until_ready(self) -> None:
        """Poll until an HTTP answer arrives (any status) and all workers exist."""
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.log_tail()}")
            try:
                request(self.port, "GET", "/__bench_ready__", timeout=2)
            except OSError:
                time.sleep(0.1)
                continue
            if len(self.worker_pids()) >= self.workers:
                return
            time.sleep(0.1)
        raise TimeoutError(f"gunicorn not ready after {START_TIMEOUT} s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        """The master's child processes (gunicorn's workers)."""
        assert self.process is not None
        return children(self.process.pid)

    def log_tail(self, size: int = 4000) -> str:
        """The end of gunicorn's combined stdout/stderr, for error messages."""
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-size:]

    def stop(self) -> None:
        """SIGTERM the master (graceful), then SIGKILL our process group if needed."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                # start_new_session made the master the leader of its own group.
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=STOP_TIMEOUT)
        if self._log is not None:
            self._log.close()
            self._log = None


def children(pid: int) -> list[int]:
    """Child pids of ``pid``, from ``/proc/<pid>/task/*/children``."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return sorted(found)


def rss_kib(pid: int) -> int:
    """Resident set size of a process in KiB (``VmRSS`` in ``/proc/<pid>/status``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def cpu_ticks(pids: Sequence[int]) -> dict[int, int]:
    """CPU time so far (user + system, in clock ticks) of each process, from ``/proc/<pid>/stat``.

    A process that is gone, or a system without ``/proc``, is left out.
    """
    ticks: dict[int, int] = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        ticks[pid] = int(fields[11]) + int(fields[12])  # utime, stime (proc(5))
    return ticks


def run_bounded(
    command: Sequence[str], timeout: float, **options: Any
) -> subprocess.CompletedProcess[str]:
    """``subprocess.run`` with text output, captured, and a hard timeout."""
    return subprocess.run(
        list(command), capture_output=True, text=True, timeout=timeout, check=False, **options
    )
