"""HTTP benchmark: the blog API under gunicorn, loaded by wrk over 127.0.0.1.

What it measures: requests/s, p50/p99 latency and error counts of the whole
stack a client sees (kernel TCP, gunicorn's HTTP parser and worker model, the
framework, the blog's own code and SQLite), for the read endpoints
``GET /api/v1/posts`` and ``GET /api/v1/posts/<id>`` (anonymous: the server cache
answers most of them), ``GET /api/v1/posts`` signed in (the cache is bypassed, so
the view and its queries run every time) and for an authenticated write,
``POST /api/v1/posts`` with a Bearer token (drafts, by another account than the
signed-in reader: ``ACCOUNTS``).

Control: the same blog code on Flask, at the same time, on the same machine.
Both servers run side by side (2 workers each, ``sync`` and then ``gthread``
with 4 threads), each on its own copy of one seeded SQLite file, so a write
run on one cannot grow the other's tables. Every round loads each endpoint on
both frameworks in an order that alternates from round to round (A/B, B/A...),
and a figure is the median over rounds, shown with its spread.

Here the server's own cost is a large share of every request, so framework
differences shrink (1.1-1.6x in the issue's measurements).

Needs ``wrk`` (Debian: ``apt-get install wrk``; ``--install-wrk`` does that as
root). Run it alone: ``python -m benchmarks.http_load [--full]``.

Named ``http_load`` rather than ``http``: running a file of this directory
directly puts the directory on ``sys.path``, and a local ``http.py`` would then
shadow the standard library's ``http`` package.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import blogdb
from benchmarks.environment import compile_project_bytecode, describe, log, write_results
from benchmarks.server import GunicornServer, request, rss_kib, run_bounded
from benchmarks.stats import summarize

FRAMEWORKS = ("miniflask", "flask")
WORKER_CLASSES = ("sync", "gthread")
WORKERS = 2
THREADS = 4
CONNECTIONS = 8
#: One wrk thread: the box has 2 cores, and the servers need them more than wrk.
WRK_THREADS = 1

QUICK = {"rounds": 5, "seconds": 3, "warmup_seconds": 1}
FULL = {"rounds": 10, "seconds": 10, "warmup_seconds": 3}

WRITE_BODY = json.dumps(
    {"title": "Benchmark post", "body": "Written by wrk.", "tags": [], "status": "draft"}
)
#: Who is signed in, by ``Endpoint.account``. The writer is not the reader, and
#: writes drafts: the rows a write run adds are in no list the reads load (an
#: anonymous list shows published posts; the reader's, published posts and
#: the reader's own drafts), so a round's reads do not slow down as the
#: table grows.
ACCOUNTS = {"reader": blogdb.LOGIN, "writer": blogdb.WRITER}

#: Appended to every wrk script: one machine-readable line with exact figures (µs).
REPORT_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"duration_us":%.0f,"requests":%.0f,"bytes":%.0f,'
    .. '"connect_errors":%.0f,"read_errors":%.0f,"write_errors":%.0f,'
    .. '"status_errors":%.0f,"timeout_errors":%.0f,'
    .. '"latency_mean_us":%.1f,"latency_max_us":%.0f,'
    .. '"latency_p50_us":%.0f,"latency_p90_us":%.0f,"latency_p99_us":%.0f}\\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
"""


@dataclass(frozen=True)
class Endpoint:
    """One loaded URL: its name in results, method, path, and who is signed in (``ACCOUNTS``)."""

    name: str
    method: str
    path: str
    account: str | None = None

    @property
    def authenticated(self) -> bool:
        """Whether the requests carry a Bearer token."""
        return self.account is not None

    @property
    def read(self) -> bool:
        """Read endpoints are the ones the goals are about."""
        return self.method == "GET"


def endpoints(post_id: int) -> list[Endpoint]:
    """The loaded endpoints; the write goes last in each round."""
    return [
        Endpoint("posts_list", "GET", "/api/v1/posts"),
        Endpoint("post_get", "GET", f"/api/v1/posts/{post_id}"),
        # A signed-in reader: the server cache serves anonymous reads only, so
        # every one of these runs the view and its queries (the blog's data path).
        Endpoint("posts_list_signed_in", "GET", "/api/v1/posts", account="reader"),
        Endpoint("post_create", "POST", "/api/v1/posts", account="writer"),
    ]


def wrk_script(endpoint: Endpoint, token: str | None) -> str:
    """The Lua script for one endpoint: the request setup plus ``REPORT_LUA``."""
    if not endpoint.authenticated:
        return REPORT_LUA
    assert token is not None and re.fullmatch(r"[A-Za-z0-9._-]+", token), "unexpected token"
    setup = f'wrk.method = "{endpoint.method}"\nwrk.headers["Authorization"] = "Bearer {token}"\n'
    if endpoint.method == "POST":
        setup += (
            'wrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = {json.dumps(WRITE_BODY)}\n"
        )
    return setup + REPORT_LUA


def parse_wrk(output: str) -> dict[str, float]:
    """Read the ``WRK_JSON`` line that ``REPORT_LUA`` prints; derive rate and ms.

    Returns:
        The raw counters plus ``rps``, ``p50_ms``, ``p90_ms``, ``p99_ms``,
        ``non_2xx`` (wrk counts statuses >= 400) and ``socket_errors``.

    Raises:
        ValueError: the output holds no report line (wrk failed before the end).
    """
    match = re.search(r"^WRK_JSON (\{.*\})\s*$", output, re.MULTILINE)
    if match is None:
        raise ValueError(f"no WRK_JSON line in wrk output:\n{output[-2000:]}")
    raw: dict[str, float] = json.loads(match.group(1))
    seconds = raw["duration_us"] / 1e6
    return {
        **raw,
        "rps": raw["requests"] / seconds if seconds else 0.0,
        "p50_ms": raw["latency_p50_us"] / 1000,
        "p90_ms": raw["latency_p90_us"] / 1000,
        "p99_ms": raw["latency_p99_us"] / 1000,
        "non_2xx": raw["status_errors"],
        "socket_errors": raw["connect_errors"]
        + raw["read_errors"]
        + raw["write_errors"]
        + raw["timeout_errors"],
    }


def run_wrk(
    port: int, endpoint: Endpoint, tokens: Mapping[str, str], seconds: int, scripts: Path
) -> str:
    """Run wrk once against ``endpoint``; returns its standard output."""
    script = scripts / f"{endpoint.name}.lua"
    token = tokens[endpoint.account] if endpoint.account is not None else None
    script.write_text(wrk_script(endpoint, token))
    command = [
        "wrk",
        f"--threads={WRK_THREADS}",
        f"--connections={CONNECTIONS}",
        f"--duration={seconds}s",
        "--timeout=5s",
        "--latency",
        f"--script={script}",
        f"http://127.0.0.1:{port}{endpoint.path}",
    ]
    done = run_bounded(command, timeout=seconds + 30)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return done.stdout


def ensure_wrk(install: bool) -> bool:
    """Whether wrk is on PATH; with ``install`` (and root), apt-get it first."""
    if shutil.which("wrk"):
        return True
    if install and os.geteuid() == 0 and shutil.which("apt-get"):
        log("installing wrk with apt-get")
        run_bounded(["apt-get", "install", "-y", "wrk"], timeout=600)
        return shutil.which("wrk") is not None
    log(
        "wrk is not installed: the HTTP benchmark needs it. On Debian/Ubuntu run "
        "`sudo apt-get install wrk` (or pass --install-wrk as root), then `make bench` again."
    )
    return False


def login(port: int) -> dict[str, str]:
    """An access token per account of ``ACCOUNTS``, from the API itself."""
    return {account: _token(port, credentials) for account, credentials in ACCOUNTS.items()}


def _token(port: int, credentials: dict[str, str]) -> str:
    """An access token for a seeded user."""
    status, body = request(
        port,
        "POST",
        "/api/v1/auth/login",
        json.dumps(credentials).encode(),
        {"Content-Type": "application/json"},
        timeout=30,
    )
    if status != 200:
        raise RuntimeError(f"login failed with {status}: {body[:300]!r}")
    token: str = json.loads(body)["access_token"]
    return token


def check_endpoints(port: int, points: Sequence[Endpoint], tokens: Mapping[str, str]) -> None:
    """Each endpoint answers 2xx once before any load, or the run stops."""
    for endpoint in points:
        headers = {}
        if endpoint.account is not None:
            headers["Authorization"] = f"Bearer {tokens[endpoint.account]}"
        body = None
        if endpoint.method == "POST":
            body = WRITE_BODY.encode()
            headers["Content-Type"] = "application/json"
        status, content = request(port, endpoint.method, endpoint.path, body, headers)
        if not 200 <= status < 300:
            raise RuntimeError(f"{endpoint.method} {endpoint.path}: {status} {content[:300]!r}")


def load_worker_class(
    worker_class: str, database: blogdb.SeededDatabase, directory: Path, settings: dict[str, int]
) -> dict[str, Any]:
    """Both frameworks side by side under one worker class, A/B interleaved rounds."""
    points = endpoints(database.published_post_id)
    samples: dict[str, dict[str, list[dict[str, float]]]] = {
        point.name: {fw: [] for fw in FRAMEWORKS} for point in points
    }
    with contextlib.ExitStack() as stack:
        servers: dict[str, GunicornServer] = {}
        tokens: dict[str, dict[str, str]] = {}
        for fw in FRAMEWORKS:
            copy = database.copy_to(directory / f"{fw}-{worker_class}.db")
            servers[fw] = stack.enter_context(
                GunicornServer(
                    "blog_api.wsgi:app",
                    blogdb.server_environment(copy, directory / "instance", fw),
                    workers=WORKERS,
                    worker_class=worker_class,
                    threads=THREADS,
                )
            )
            tokens[fw] = login(servers[fw].port)
            check_endpoints(servers[fw].port, points, tokens[fw])
        for fw, server in servers.items():
            for point in points:
                run_wrk(server.port, point, tokens[fw], settings["warmup_seconds"], directory)
        for number in range(settings["rounds"]):
            order = FRAMEWORKS if number % 2 == 0 else FRAMEWORKS[::-1]
            for point in points:
                for fw in order:
                    output = run_wrk(
                        servers[fw].port, point, tokens[fw], settings["seconds"], directory
                    )
                    sample = parse_wrk(output)
                    if not sample["requests"]:
                        raise RuntimeError(
                            f"{fw} answered no request to {point.path} in {settings['seconds']} s;"
                            f" wrk said:\n{output}\ngunicorn said:\n{servers[fw].log_tail()}"
                        )
                    samples[point.name][fw].append(sample)
            log(f"  gunicorn {worker_class}: round {number + 1}/{settings['rounds']}")
        rss_after = {
            fw: [rss_kib(pid) for pid in server.worker_pids()] for fw, server in servers.items()
        }
    return {
        "worker_class": worker_class,
        "endpoints": [_summarize_endpoint(point, samples[point.name]) for point in points],
        "worker_rss_after_load_kib": rss_after,
    }


def summarize_rounds(rounds: Sequence[dict[str, float]]) -> dict[str, Any]:
    """One server's wrk runs of an endpoint: rate and latency spreads, request and error counts."""
    return {
        "rps": summarize([sample["rps"] for sample in rounds]),
        "p50_ms": summarize([sample["p50_ms"] for sample in rounds]),
        "p99_ms": summarize([sample["p99_ms"] for sample in rounds]),
        "requests": int(sum(sample["requests"] for sample in rounds)),
        "non_2xx": int(sum(sample["non_2xx"] for sample in rounds)),
        "socket_errors": int(sum(sample["socket_errors"] for sample in rounds)),
    }


def _summarize_endpoint(
    point: Endpoint, samples: dict[str, list[dict[str, float]]]
) -> dict[str, Any]:
    """Medians and spreads per framework, and miniflask ÷ Flask round by round."""
    frameworks = {fw: summarize_rounds(rounds) for fw, rounds in samples.items()}
    pairs = list(zip(samples["miniflask"], samples["flask"], strict=True))
    return {
        "name": point.name,
        "method": point.method,
        "path": point.path,
        "read": point.read,
        "frameworks": frameworks,
        # Paired per round (A/B back to back), like the in-process ratios.
        "rps_ratio_miniflask_to_flask": summarize([m["rps"] / f["rps"] for m, f in pairs]),
        "p99_ratio_miniflask_to_flask": summarize([m["p99_ms"] / f["p99_ms"] for m, f in pairs]),
    }


def run(full: bool = False) -> dict[str, Any]:
    """Seed once, then load both worker classes; returns the results document."""
    meta = describe("full" if full else "quick")  # before the run loads the machine
    settings = FULL if full else QUICK
    compile_project_bytecode()  # workers then load both frameworks from bytecode
    with tempfile.TemporaryDirectory(prefix="bench-http-") as name:
        directory = Path(name)
        database = blogdb.seed(directory)
        results = []
        for worker_class in WORKER_CLASSES:
            log(f"gunicorn {worker_class}: starting both servers")
            results.append(load_worker_class(worker_class, database, directory, settings))
    return {
        "meta": meta,
        "settings": {
            **settings,
            "workers": WORKERS,
            "gthread_threads": THREADS,
            "connections": CONNECTIONS,
            "wrk_threads": WRK_THREADS,
            "server_cache": "on (blog_api default, in-process per worker, CACHE_TTL=60)",
            "log_level": "WARNING (per-request access log off)",
            "database": f"SQLite, {blogdb.SEED_USERS} users, {blogdb.SEED_POSTS} posts, "
            "one copy per server",
        },
        "worker_classes": results,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.http_load [--full] [--install-wrk]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="10 rounds of 10 s instead of 5 x 3 s")
    parser.add_argument("--install-wrk", action="store_true", help="apt-get install wrk if absent")
    args = parser.parse_args(argv)
    if not ensure_wrk(args.install_wrk):
        return 2
    path = write_results("http", run(full=args.full))
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
