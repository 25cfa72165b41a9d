"""Old against new: the blog API of two checkouts under gunicorn, side by side, loaded by wrk.

What it measures: requests/s and p99 latency of the same three requests on two
versions of the code, for issue 14's goal ("with the server cache off: uncached
``GET /api/v1/posts`` and ``POST /api/v1/posts`` at >= 3x today's requests/s, p99
no worse; with the cache on, no worse than today"):

* ``GET /api/v1/posts`` anonymous (with the cache on, the cache answers it);
* ``GET /api/v1/posts`` signed in with a Bearer token (the cache never answers it);
* ``POST /api/v1/posts`` with a Bearer token: drafts, by another account than
  the signed-in reader (``http_load.ACCOUNTS``), so no list a read loads grows.

Control: the other checkout, at the same time, on the same machine. Each
checkout gets its own gunicorn (``benchmarks/http_load.py``'s settings: 2 workers,
``sync`` and then ``gthread`` with 4 threads, wrk with 1 thread and 8 connections
on 127.0.0.1) and its own SQLite file, seeded by that checkout's own code
(``benchmarks/blogdb.py`` ``seed``, 5 users and 200 posts), because the schema
may differ between versions. Every round loads each endpoint on both servers,
in an order that alternates from round to round (old/new, new/old...); a figure
is the median over rounds with its range, and new / old is the median of the
per-round ratios. With gthread workers, a run that one worker served nearly alone
(``ONE_SIDED_SHARE``) is measured again: which worker accepts wrk's kept-alive
connections is a race that has nothing to do with either checkout.

The old revision is checked out with ``git worktree add --detach`` into a
temporary directory, removed at the end (also on an error, Ctrl-C or SIGTERM;
``benchmarks/checkouts.py``). Both checkouts run on this virtualenv's packages:
gunicorn starts in the checkout's directory, which puts it first on
``sys.path``, ahead of the editable install of this one. Every worker reports
the files it imported ``blog_api`` and ``miniflask`` from, and the run stops if
they are not the checkout's own.

Run it alone (see ``benchmarks/README.md``)::

    python -m benchmarks.versus 74f8f4a                 # against the working tree
    python -m benchmarks.versus 74f8f4a --new HEAD --framework flask --full
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import dataclasses
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from benchmarks import blogdb, checkouts, http_load
from benchmarks.environment import PROJECT_PACKAGES, ROOT, describe, log, write_results
from benchmarks.server import GunicornServer, cpu_ticks
from benchmarks.stats import summarize

WORKER_CLASSES = http_load.WORKER_CLASSES
#: ``off`` is ``CACHE_TTL=0`` (every request runs the view); ``on`` is the default TTL.
CACHE_MODES = ("off", "on")
#: The endpoints of issue 14's goal, by their name in ``http_load.endpoints``.
MEASURED = ("posts_list", "posts_list_signed_in", "post_create")
#: How long the workers get to import the app and report where it came from.
REPORT_TIMEOUT = 30.0
#: A gthread worker keeps each connection it accepts for as long as wrk keeps it
#: alive, and which worker accepts wrk's connections, opened together at the start
#: of a run, is a race: in some runs one worker took them all and the other stood
#: idle, which halved the requests/s of either checkout alike (``where_time_goes.md``,
#: fifth pass). A run in which one worker used this share of the workers' CPU time
#: or more is "one-sided"; with gthread workers it is measured again, up to
#: ``ONE_SIDED_ATTEMPTS`` runs in all, and the last one counts either way.
ONE_SIDED_SHARE = 0.9
ONE_SIDED_ATTEMPTS = 5

#: The gunicorn target: a module written next to the run (not into either
#: checkout) that re-exports the blog's app, so requests reach the app itself.
PROBE_MODULE = "versus_probe"
PROBE_SOURCE = '''"""Written by benchmarks/versus.py: blog_api.wsgi's app, and where it came from.

Each gunicorn worker imports this module once and writes the files that
``blog_api`` and ``miniflask`` were loaded from, so the benchmark can check
that a checkout ran its own code and not the editable install's.
"""

import json
import os
import sys

from blog_api.wsgi import app  # noqa: F401  (the gunicorn target)

_origins = {
    name: getattr(sys.modules.get(name), "__file__", None) for name in ("blog_api", "miniflask")
}
_report = os.path.join(os.environ["BENCH_VERSUS_REPORT"], f"{os.getpid()}.json")
with open(_report + ".tmp", "w") as file:
    json.dump(_origins, file)
os.replace(_report + ".tmp", _report)
'''

#: Run with ``python -c`` in each checkout: seed with the checkout's own code, and
#: say which files that code was imported from.
SEED_SCRIPT = """
import json, sys
from pathlib import Path
import blog_api, miniflask
from benchmarks import blogdb
database = blogdb.seed(Path(sys.argv[1]))
print(json.dumps({
    "path": str(database.path),
    "published_post_id": database.published_post_id,
    "modules": {
        "blog_api": blog_api.__file__,
        "miniflask": miniflask.__file__,
        "benchmarks.blogdb": blogdb.__file__,
    },
}))
"""


@dataclasses.dataclass(frozen=True)
class Plan:
    """What to run: the framework, the configurations and the timing of rounds."""

    framework: str
    worker_classes: tuple[str, ...]
    cache_modes: tuple[str, ...]
    rounds: int
    seconds: int
    warmup_seconds: int


def prepare(tree: checkouts.Tree, directory: Path) -> tuple[blogdb.SeededDatabase, dict[str, str]]:
    """Compile the checkout's packages and seed its database with its own code.

    Returns:
        The seeded database, and the files the seeding process imported
        ``blog_api``, ``miniflask`` and ``benchmarks.blogdb`` from.

    Raises:
        RuntimeError: the seeding failed, or imported code from outside ``tree``.
    """
    for package in PROJECT_PACKAGES:
        # Workers then load bytecode in both checkouts (see compile_project_bytecode).
        if (tree.path / package).is_dir():
            compileall.compile_dir(tree.path / package, quiet=1)
    directory.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", SEED_SCRIPT, str(directory)],
        cwd=tree.path,
        env=checkouts.checkout_environment(tree),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"seeding the {tree.label} checkout failed:\n{done.stderr[-3000:]}")
    seeded = json.loads(done.stdout.strip().splitlines()[-1])
    modules: dict[str, str] = seeded["modules"]
    checkouts.check_origins(tree, modules)
    return blogdb.SeededDatabase(Path(seeded["path"]), seeded["published_post_id"]), modules


def measured_endpoints(post_id: int) -> list[http_load.Endpoint]:
    """http_load's endpoints that issue 14's goal names (same paths, tokens and bodies)."""
    return [point for point in http_load.endpoints(post_id) if point.name in MEASURED]


def load_configuration(
    worker_class: str,
    cache: str,
    trees: Sequence[checkouts.Tree],
    databases: dict[str, blogdb.SeededDatabase],
    plan: Plan,
    directory: Path,
) -> dict[str, Any]:
    """Both checkouts side by side under one worker class and cache mode, rounds interleaved."""
    points = measured_endpoints(databases["old"].published_post_id)
    samples: dict[str, dict[str, list[dict[str, float]]]] = {
        point.name: {tree.label: [] for tree in trees} for point in points
    }
    with contextlib.ExitStack() as stack:
        servers: dict[str, GunicornServer] = {}
        tokens: dict[str, dict[str, str]] = {}
        origins: dict[str, dict[str, str]] = {}
        for tree in trees:
            servers[tree.label], origins[tree.label] = start_server(
                stack, tree, databases[tree.label], worker_class, cache, plan, directory
            )
            tokens[tree.label] = http_load.login(servers[tree.label].port)
            http_load.check_endpoints(servers[tree.label].port, points, tokens[tree.label])
        if plan.warmup_seconds:
            warm_up(servers, tokens, points, plan.warmup_seconds, directory)
        for number in range(plan.rounds):
            order = trees if number % 2 == 0 else trees[::-1]
            for point in points:
                for tree in order:
                    server = servers[tree.label]
                    sample = measure(server, point, tokens[tree.label], plan.seconds, directory)
                    samples[point.name][tree.label].append(sample)
            log(f"  {worker_class}, cache {cache}: round {number + 1}/{plan.rounds}")
    return {
        "worker_class": worker_class,
        "cache": cache,
        "worker_modules": origins,
        "endpoints": [summarize_endpoint(point, samples[point.name]) for point in points],
    }


def warm_up(
    servers: Mapping[str, GunicornServer],
    tokens: Mapping[str, Mapping[str, str]],
    points: Sequence[http_load.Endpoint],
    seconds: int,
    directory: Path,
) -> None:
    """Load every endpoint of every server once, unmeasured, as http_load does."""
    for label, server in servers.items():
        for point in points:
            http_load.run_wrk(server.port, point, tokens[label], seconds, directory)


def start_server(
    stack: contextlib.ExitStack,
    tree: checkouts.Tree,
    database: blogdb.SeededDatabase,
    worker_class: str,
    cache: str,
    plan: Plan,
    directory: Path,
) -> tuple[GunicornServer, dict[str, str]]:
    """gunicorn on a fresh copy of the checkout's database, its workers' imports checked.

    Returns:
        The running server (stopped when ``stack`` closes) and the files its
        workers imported ``blog_api`` and ``miniflask`` from.
    """
    name = f"{tree.label}-{worker_class}-cache-{cache}"
    copy = database.copy_to(directory / f"{name}.db")
    reports = directory / f"{name}-workers"
    reports.mkdir()
    environment = {
        **checkouts.checkout_environment(tree),
        **blogdb.server_environment(
            copy, directory / f"{tree.label}-instance", plan.framework, cache=cache == "on"
        ),
        # No outbox dispatcher thread where the checkout has one; older ones ignore it.
        "BLOG_JOBS_DISPATCHER": "off",
        "BENCH_VERSUS_REPORT": str(reports),
    }
    server = GunicornServer(
        f"{PROBE_MODULE}:app",
        environment,
        workers=http_load.WORKERS,
        worker_class=worker_class,
        threads=http_load.THREADS,
        cwd=tree.path,
        pythonpath=[str(directory / "probe")],
    )
    stack.enter_context(server)
    return server, worker_origins(server, reports, tree, plan.framework)


def worker_origins(
    server: GunicornServer, reports: Path, tree: checkouts.Tree, framework: str
) -> dict[str, str]:
    """Wait for every worker's import report, check it, and return the files named.

    Raises:
        TimeoutError: a worker wrote no report in ``REPORT_TIMEOUT`` seconds.
        RuntimeError: a worker imported the blog (or miniflask, when it is the
            framework) from outside ``tree``, or not at all.
    """
    deadline = time.monotonic() + REPORT_TIMEOUT
    while True:
        files = [reports / f"{pid}.json" for pid in server.worker_pids()]
        if files and all(file.exists() for file in files):
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"{tree.label} workers did not report:\n{server.log_tail()}")
        time.sleep(0.1)
    origins: dict[str, str] = {}
    for file in files:
        modules: dict[str, str | None] = json.loads(file.read_text())
        checkouts.check_origins(tree, modules)
        origins.update({name: path for name, path in modules.items() if path is not None})
    required = {"blog_api", "miniflask"} if framework == "miniflask" else {"blog_api"}
    if not required <= set(origins):
        raise RuntimeError(f"{tree.label} workers did not import {sorted(required - set(origins))}")
    return origins


def measure(
    server: GunicornServer,
    point: http_load.Endpoint,
    tokens: Mapping[str, str],
    seconds: int,
    directory: Path,
) -> dict[str, float]:
    """One wrk run against one server (more when gthread's is one-sided); its parsed figures.

    The figures include ``busiest_worker_share``, the busiest worker's share of
    the workers' CPU time in the run (when ``/proc`` tells it), and
    ``attempts``, the runs it took (see :data:`ONE_SIDED_SHARE`).

    Raises:
        RuntimeError: the server answered no request at all.
    """
    attempts = ONE_SIDED_ATTEMPTS if server.worker_class == "gthread" else 1
    for attempt in range(1, attempts + 1):
        before = cpu_ticks(server.worker_pids())
        output = http_load.run_wrk(server.port, point, tokens, seconds, directory)
        share = busiest_share(before, cpu_ticks(server.worker_pids()))
        sample = http_load.parse_wrk(output)
        if not sample["requests"]:
            raise RuntimeError(
                f"no answer to {point.method} {point.path} in {seconds} s; wrk said:\n{output}\n"
                f"gunicorn said:\n{server.log_tail()}"
            )
        sample["attempts"] = attempt
        if share is not None:
            sample["busiest_worker_share"] = share
        if share is None or share < ONE_SIDED_SHARE:
            break
    return sample


def busiest_share(before: Mapping[int, int], after: Mapping[int, int]) -> float | None:
    """The busiest worker's share of the CPU time the workers used between two readings.

    ``None`` when it cannot be told: fewer than two workers read both times, or
    no time used.
    """
    used = [after[pid] - before[pid] for pid in after.keys() & before.keys()]
    if len(used) < 2 or sum(used) <= 0:
        return None
    return max(used) / sum(used)


def summarize_endpoint(
    point: http_load.Endpoint, samples: dict[str, list[dict[str, float]]]
) -> dict[str, Any]:
    """Medians and ranges per checkout, and new / old paired round by round."""
    trees = {label: http_load.summarize_rounds(rounds) for label, rounds in samples.items()}
    # Each pair ran back to back in one round, so machine noise mostly cancels.
    pairs = list(zip(samples["new"], samples["old"], strict=True))
    return {
        "name": point.name,
        "method": point.method,
        "path": point.path,
        "signed_in": point.authenticated,
        "trees": trees,
        "rps_ratio_new_to_old": summarize([new["rps"] / old["rps"] for new, old in pairs]),
        "p99_ratio_new_to_old": summarize([new["p99_ms"] / old["p99_ms"] for new, old in pairs]),
        "workers": {label: _balance(rounds) for label, rounds in samples.items()},
    }


def _balance(rounds: Sequence[dict[str, float]]) -> dict[str, Any]:
    """How the work of one checkout's rounds fell on its workers (see :data:`ONE_SIDED_SHARE`).

    ``busiest_share``: the spread of the busiest worker's share over the rounds
    (``None`` when it could not be read); ``runs_again``: the one-sided runs
    measured again; ``one_sided_rounds``: the rounds still one-sided after that.
    """
    shares = [
        sample["busiest_worker_share"] for sample in rounds if "busiest_worker_share" in sample
    ]
    return {
        "busiest_share": summarize(shares) if shares else None,
        "runs_again": int(sum(sample.get("attempts", 1) - 1 for sample in rounds)),
        "one_sided_rounds": sum(share >= ONE_SIDED_SHARE for share in shares),
    }


def run(old: str, new: str, plan: Plan, mode: str) -> dict[str, Any]:
    """Check out, seed and load both versions; returns the results document."""
    meta = describe(mode)  # before the run loads the machine
    with contextlib.ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="versus-run-")))
        trees = (checkouts.materialise("old", old, stack), checkouts.materialise("new", new, stack))
        (directory / "probe").mkdir()
        (directory / "probe" / f"{PROBE_MODULE}.py").write_text(PROBE_SOURCE)
        databases: dict[str, blogdb.SeededDatabase] = {}
        records: list[dict[str, Any]] = []
        for tree in trees:
            log(f"{tree.label}: {tree.spec} at {tree.commit[:12]} in {tree.path}; seeding")
            databases[tree.label], modules = prepare(tree, directory / tree.label)
            records.append({**tree.record(), "seeded_with": modules})
        configurations = []
        for worker_class in plan.worker_classes:
            for cache in plan.cache_modes:
                log(f"gunicorn {worker_class}, cache {cache}: starting both servers")
                configurations.append(
                    load_configuration(worker_class, cache, trees, databases, plan, directory)
                )
    return {
        "meta": meta,
        "trees": records,
        "settings": settings_record(plan),
        "configurations": configurations,
    }


def settings_record(plan: Plan) -> dict[str, Any]:
    """The run's settings, for the results file."""
    return {
        "framework": plan.framework,
        "rounds": plan.rounds,
        "seconds": plan.seconds,
        "warmup_seconds": plan.warmup_seconds,
        "worker_classes": list(plan.worker_classes),
        "cache_modes": list(plan.cache_modes),
        "workers": http_load.WORKERS,
        "gthread_threads": http_load.THREADS,
        "connections": http_load.CONNECTIONS,
        "wrk_threads": http_load.WRK_THREADS,
        "cache": "off: BLOG_CACHE_TTL=0; on: the checkout's default",
        "log_level": "WARNING (per-request access log off)",
        "database": f"SQLite, {blogdb.SEED_USERS} users, {blogdb.SEED_POSTS} posts, seeded by "
        "each checkout's own benchmarks/blogdb.py, one copy per server",
    }


def markdown_table(data: dict[str, Any]) -> str:
    """The results as a markdown table: one row per worker class, cache mode and endpoint."""
    old, new = (tree["described"] for tree in data["trees"])
    lines = [
        f"old = {old}, new = {new}; requests/s and p99 are medians [min-max] over "
        f"{data['settings']['rounds']} round(s) of {data['settings']['seconds']} s; new ÷ old is "
        "the median of per-round ratios.",
        "",
        "| workers | cache | endpoint | old req/s | new req/s | new ÷ old req/s "
        "| old p99 ms | new p99 ms | new ÷ old p99 |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    warnings = []
    for configuration in data["configurations"]:
        for endpoint in configuration["endpoints"]:
            lines.append(_row(configuration, endpoint))
            warnings += _error_notes(configuration, endpoint)
    return "\n".join(lines + (["", *warnings] if warnings else []))


def _row(configuration: dict[str, Any], endpoint: dict[str, Any]) -> str:
    """One table row."""
    trees = endpoint["trees"]
    cells = [
        configuration["worker_class"],
        configuration["cache"],
        _endpoint_name(endpoint),
        _spread(trees["old"]["rps"], "{:,.0f}"),
        _spread(trees["new"]["rps"], "{:,.0f}"),
        f"{endpoint['rps_ratio_new_to_old']['median']:.2f}x",
        _spread(trees["old"]["p99_ms"], "{:.1f}"),
        _spread(trees["new"]["p99_ms"], "{:.1f}"),
        f"{endpoint['p99_ratio_new_to_old']['median']:.2f}x",
    ]
    return "| " + " | ".join(cells) + " |"


def _endpoint_name(endpoint: dict[str, Any]) -> str:
    """``GET /api/v1/posts (signed in)`` and the like."""
    suffix = " (signed in)" if endpoint["signed_in"] and endpoint["method"] == "GET" else ""
    return f"{endpoint['method']} {endpoint['path']}{suffix}"


def _spread(summary: dict[str, Any], number: str) -> str:
    """``median [min-max]``, with one round shown as just its value."""
    if summary["n"] == 1:
        return number.format(summary["median"])
    values = (number.format(summary[key]) for key in ("median", "min", "max"))
    return "{} [{}-{}]".format(*values)


def _error_notes(configuration: dict[str, Any], endpoint: dict[str, Any]) -> list[str]:
    """A line per checkout that got non-2xx answers or socket errors (its figures are
    suspect), and one per checkout whose one-sided runs were measured again."""
    notes = []
    for label, figures in endpoint["trees"].items():
        where = (
            f"- {label}, {configuration['worker_class']}, cache {configuration['cache']}, "
            f"{_endpoint_name(endpoint)}"
        )
        if figures["non_2xx"] or figures["socket_errors"]:
            notes.append(
                f"{where}: {figures['non_2xx']} non-2xx answers, "
                f"{figures['socket_errors']} socket errors"
            )
        balance = endpoint.get("workers", {}).get(label)
        if balance and (balance["runs_again"] or balance["one_sided_rounds"]):
            notes.append(
                f"{where}: {balance['runs_again']} one-sided run(s) measured again, "
                f"{balance['one_sided_rounds']} round(s) left one-sided"
            )
    return notes


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("old", help="the old revision (a commit, tag or branch), or a directory")
    parser.add_argument(
        "--new", default=str(ROOT), help="a revision or a directory (default: the working tree)"
    )
    parser.add_argument("--framework", choices=http_load.FRAMEWORKS, default="miniflask")
    parser.add_argument("--full", action="store_true", help="10 rounds of 10 s instead of 5 x 3 s")
    parser.add_argument("--rounds", type=int, help="rounds (default: 5, or 10 with --full)")
    parser.add_argument("--seconds", type=int, help="seconds per wrk run (default: 3, or 10)")
    parser.add_argument("--warmup-seconds", type=int, help="per server and endpoint; 0 skips")
    parser.add_argument(
        "--worker-class", action="append", choices=WORKER_CLASSES, help="repeatable; default both"
    )
    parser.add_argument(
        "--cache", action="append", choices=CACHE_MODES, help="repeatable; default both"
    )
    parser.add_argument("--output", type=Path, help="default: benchmarks/results/versus.json")
    parser.add_argument("--install-wrk", action="store_true", help="apt-get install wrk if absent")
    return parser.parse_args(argv)


def plan_from(arguments: argparse.Namespace) -> Plan:
    """The plan the arguments ask for; unset timings come from http_load's quick or full run."""
    defaults = http_load.FULL if arguments.full else http_load.QUICK
    return Plan(
        framework=arguments.framework,
        worker_classes=tuple(arguments.worker_class or WORKER_CLASSES),
        cache_modes=tuple(arguments.cache or CACHE_MODES),
        rounds=arguments.rounds or defaults["rounds"],
        seconds=arguments.seconds or defaults["seconds"],
        # 0 is a value here (no warm-up), so ``or`` would not do.
        warmup_seconds=defaults["warmup_seconds"]
        if arguments.warmup_seconds is None
        else arguments.warmup_seconds,
    )


def save(data: dict[str, Any], output: Path | None) -> Path:
    """Write the results to ``output``, or to ``benchmarks/results/versus.json``."""
    if output is None:
        return write_results("versus", data)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(data, indent=2) + "\n")
    return output


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into ``SystemExit``, so the servers stop and the worktree goes."""
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.versus <old> [--new REV|DIR] [--framework ...] [--full]``."""
    arguments = parse_arguments(argv)
    if not http_load.ensure_wrk(arguments.install_wrk):
        return 2
    plan = plan_from(arguments)
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        data = run(arguments.old, arguments.new, plan, "full" if arguments.full else "quick")
    finally:
        signal.signal(signal.SIGTERM, previous)
    path = save(data, arguments.output)
    print(markdown_table(data))
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
