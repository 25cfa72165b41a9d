"""Instructions per request under ``valgrind --tool=callgrind``: a clock that does not drift.

What it measures: how many CPU instructions one request of a scenario costs each
framework, counted by callgrind. Unlike a timer, the count is the same from run
to run whatever else the machine is doing (same binary, inputs and
``PYTHONHASHSEED``), so two commits can be compared an hour apart. It is not
time: an instruction that misses the cache costs more than one that hits, so
the wall-clock ratios of ``inprocess.py`` remain the published figures.

Method: for each framework and scenario, the in-process harness's app and
environ are run in two child processes under callgrind, one making ``W``
warm-up requests and one making ``W + N``; the difference of their totals,
divided by ``N``, is the cost of a request with imports, set-up and first-use
caches left out.

Run it: ``python -m benchmarks.instructions [--requests N] [SCENARIO ...]``
(needs ``valgrind``; about a minute per framework and scenario). It prints a
Markdown table; nothing is written to ``results/``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence

from benchmarks.environment import ROOT

#: The framework scenarios of ``inprocess.py`` (those the 0.5x goal is about).
SCENARIOS = (
    "text",
    "json_param",
    "not_found",
    "post_echo",
    "hooks",
    "blueprint",
    "template",
    "session",
)
FRAMEWORKS = ("flask", "miniflask")
WARM_UP = 50


def run_requests(framework: str, scenario: str, count: int) -> None:
    """The child's work: ``WARM_UP + count`` requests of one scenario on one app."""
    from benchmarks import inprocess

    chosen = {s.name: s for s in inprocess.build_scenarios(None)}[scenario]
    app = chosen.targets[framework]
    for _ in range(WARM_UP + count):
        inprocess.call(app, chosen.environ, chosen.body)


def count_instructions(framework: str, scenario: str, requests: int) -> int:
    """Instructions per request: (total with ``requests`` more - warm-up only) / requests."""
    totals = [_callgrind_total(framework, scenario, n) for n in (0, requests)]
    return (totals[1] - totals[0]) // requests


def _callgrind_total(framework: str, scenario: str, count: int) -> int:
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        "-m",
        "benchmarks.instructions",
        "--child",
        framework,
        scenario,
        str(count),
    ]
    env = {**os.environ, "PYTHONHASHSEED": "0"}  # str hashes decide dict probing: fix them
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return parse_callgrind_total(done.stderr)


def parse_callgrind_total(output: str) -> int:
    """The instruction total from callgrind's summary (``==PID== Collected : N``)."""
    found = re.search(r"Collected : (\d+)", output)
    if found is None:
        raise RuntimeError(f"no instruction total in callgrind's output:\n{output[-2000:]}")
    return int(found.group(1))


def table(counts: dict[str, dict[str, int]]) -> str:
    """A Markdown table: scenario, Flask, miniflask, ratio."""
    lines = ["| scenario | Flask | miniflask | ratio |", "|---|---:|---:|---:|"]
    for scenario, by_framework in counts.items():
        flask, mini = by_framework["flask"], by_framework["miniflask"]
        lines.append(f"| {scenario} | {flask:,} | {mini:,} | {mini / flask:.2f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.instructions", description=__doc__.split("\n")[0]
    )
    parser.add_argument("scenarios", nargs="*", help=f"some of {', '.join(SCENARIOS)} (all)")
    parser.add_argument("--requests", type=int, default=200, help="requests counted (200)")
    parser.add_argument("--child", nargs=3, metavar=("FRAMEWORK", "SCENARIO", "COUNT"))
    args = parser.parse_args(argv)
    if args.child:
        framework, scenario, count = args.child
        run_requests(framework, scenario, int(count))
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    unknown = set(args.scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    counts: dict[str, dict[str, int]] = {}
    for scenario in args.scenarios or SCENARIOS:
        counts[scenario] = {
            framework: count_instructions(framework, scenario, args.requests)
            for framework in FRAMEWORKS
        }
        print(f"{scenario}: {counts[scenario]}", file=sys.stderr, flush=True)
    print(table(counts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
