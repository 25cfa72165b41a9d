"""Footprint benchmark: import time of each framework and the memory of an idle worker.

What it measures:

* Import time, two ways, each in fresh interpreters alternating Flask and
  miniflask: ``python -X importtime -c "import X"`` (the interpreter's own
  cumulative figure for the top-level package, in µs), and the wall clock of
  ``python -c "import X"`` minus that of ``python -c "pass"`` (what a CLI
  start or a worker boot actually waits for). Control: the bare interpreter.
* Worker RSS: ``VmRSS`` of each gunicorn worker (sync, 2 workers) shortly after
  start-up, having answered at most one readiness request, for the blog API
  (``blog_api.wsgi:app``) and for the small scenario app
  (``benchmarks.wsgi:app``), which isolates the framework from the blog's
  SQLAlchemy and pydantic. RSS counts shared pages (the interpreter, shared
  libraries) too; both frameworks pay those equally.

Run it alone: ``python -m benchmarks.footprint [--full]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import blogdb
from benchmarks.environment import ROOT, compile_project_bytecode, describe, log, write_results
from benchmarks.server import GunicornServer, rss_kib, run_bounded
from benchmarks.stats import summarize

FRAMEWORKS = ("miniflask", "flask")
QUICK = {"import_repeats": 10, "rss_repeats": 2}
FULL = {"import_repeats": 40, "rss_repeats": 5}
SETTLE_SECONDS = 1.0


def importtime_us(module: str) -> int:
    """Cumulative import time of ``module`` as ``-X importtime`` reports it (µs).

    The report has one line per module, ``self | cumulative | name``, indented
    by nesting depth; the line for the top-level name holds the total.
    """
    done = run_bounded([sys.executable, "-X", "importtime", "-c", f"import {module}"], 60, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{done.stderr[-2000:]}")
    return parse_importtime(done.stderr, module)


def parse_importtime(report: str, module: str) -> int:
    """The cumulative µs on the top-level line for ``module`` in an importtime report."""
    for line in report.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = line[len("import time:") :].split("|")
        if len(fields) == 3 and fields[2].rstrip() == f" {module}":
            return int(fields[1])
    raise ValueError(f"no top-level line for {module!r} in the importtime report")


def wall_ms(code: str) -> float:
    """Wall-clock milliseconds of ``python -c code`` in a fresh interpreter."""
    start = time.perf_counter()
    done = run_bounded([sys.executable, "-c", code], 60, cwd=ROOT)
    elapsed = (time.perf_counter() - start) * 1000
    if done.returncode != 0:
        raise RuntimeError(f"python -c {code!r} failed:\n{done.stderr[-2000:]}")
    return elapsed


def measure_imports(repeats: int) -> dict[str, Any]:
    """Both import-time measures, alternating frameworks, ``repeats`` times each."""
    importtime: dict[str, list[float]] = {fw: [] for fw in FRAMEWORKS}
    wall: dict[str, list[float]] = {fw: [] for fw in (*FRAMEWORKS, "bare")}
    for number in range(repeats):
        order = FRAMEWORKS if number % 2 == 0 else FRAMEWORKS[::-1]
        wall["bare"].append(wall_ms("pass"))
        for fw in order:
            importtime[fw].append(importtime_us(fw) / 1000)
            wall[fw].append(wall_ms(f"import {fw}"))
    bare = statistics.median(wall["bare"])
    return {
        "importtime_ms": {fw: summarize(values) for fw, values in importtime.items()},
        "wall_ms": {fw: summarize(values) for fw, values in wall.items()},
        "wall_minus_bare_ms": {fw: statistics.median(wall[fw]) - bare for fw in FRAMEWORKS},
    }


def idle_worker_rss(target: str, environment: dict[str, str]) -> list[int]:
    """RSS (KiB) of each worker of a fresh 2-worker sync gunicorn, once it is idle."""
    with GunicornServer(target, environment, workers=2, worker_class="sync") as server:
        time.sleep(SETTLE_SECONDS)
        return [rss_kib(pid) for pid in server.worker_pids()]


def measure_rss(repeats: int, directory: Path) -> dict[str, Any]:
    """Idle worker RSS for the blog API and the scenario app on both frameworks (MiB)."""
    database = blogdb.seed(directory)
    targets = {
        "blog_api": lambda fw: (
            "blog_api.wsgi:app",
            blogdb.server_environment(database, directory / "instance", fw),
        ),
        "scenario_app": lambda fw: ("benchmarks.wsgi:app", {"BENCH_FRAMEWORK": fw}),
    }
    results: dict[str, Any] = {}
    for name, make in targets.items():
        samples: dict[str, list[float]] = {fw: [] for fw in FRAMEWORKS}
        for number in range(repeats):
            order = FRAMEWORKS if number % 2 == 0 else FRAMEWORKS[::-1]
            for fw in order:
                target, environment = make(fw)
                samples[fw] += [kib / 1024 for kib in idle_worker_rss(target, environment)]
        results[name] = {fw: summarize(values) for fw, values in samples.items()}
        log(f"  footprint: RSS of {name} done")
    return results


def run(full: bool = False) -> dict[str, Any]:
    """Import times, then worker RSS; returns the results document."""
    meta = describe("full" if full else "quick")  # before the run loads the machine
    settings = FULL if full else QUICK
    compile_project_bytecode()  # Flask is loaded from bytecode: so is miniflask
    imports = measure_imports(settings["import_repeats"])
    log("  footprint: import times done")
    with tempfile.TemporaryDirectory(prefix="bench-footprint-") as name:
        rss = measure_rss(settings["rss_repeats"], Path(name))
    return {
        "meta": meta,
        "settings": settings,
        "imports": imports,
        "worker_rss_mib": rss,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.footprint [--full]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="more repeats")
    args = parser.parse_args(argv)
    path = write_results("footprint", run(full=args.full))
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
