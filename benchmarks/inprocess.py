"""In-process benchmark: call each app's WSGI callable directly, no server, no socket.

What it measures: the framework's own cost per request (µs), from ``app(environ,
start_response)`` to the last body chunk and ``close()``, as a WSGI server would
drive it. Environs are prepared once per scenario (``scenarios.py``) with Werkzeug's
``EnvironBuilder``; each call gets a shallow copy and a fresh ``wsgi.input``.

Controls: a bare WSGI function (the harness cost) and a hand-written Werkzeug
app (what Flask's building blocks cost without Flask), for the scenarios they
can answer; Bottle and Falcon as peers on the same four scenarios
(``peers.py``); and, for the blog's data path, hand-written floors
(``floors/``: the database driver and ``json`` only) answering the blog's reads and
writes with the same body and headers, on SQLite and, when a server answers at
127.0.0.1:5432, on PostgreSQL too (a private schema, seeded alike). Ratios
are taken against Flask (or the floor) *in the same round*, because these
machines drift by 15-50% between runs: only interleaved, repeated
measurements compare.

Method: every round visits every scenario and, within it, every app in an order
that rotates from round to round; each visit runs N calls (N calibrated so a
visit lasts about ``slot_ms``) and records their mean. A figure is the median
of the per-round means, reported with min, max and quartiles. Each visit is
timed by the wall clock (the published figure) and by the thread's CPU time,
which stays comparable when other processes take the CPUs. Before any
timing, every app must give the same status, body and Content-Type for each
scenario; the floors, the same headers too (see ``Scenario.check``).

Run it alone: ``python -m benchmarks.inprocess [--full] [--no-blog] [--no-postgres]``.
"""

from __future__ import annotations

import argparse
import gc
import io
import json as json_module
import re
import tempfile
import time
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from benchmarks import apps, blogdb
from benchmarks.environment import describe, log, write_results
from benchmarks.scenarios import Scenario, build_scenarios, prepare_environ
from benchmarks.stats import summarize

__all__ = ["Answer", "Scenario", "build_scenarios", "call", "prepare_environ", "run", "verify"]

#: App labels in display order: the floors, the frameworks, then the peers.
APP_LABELS = ("wsgi", "werkzeug", "floor", "flask", "miniflask", "bottle", "falcon")
APP_TITLES = {
    "wsgi": "bare WSGI",
    "werkzeug": "Werkzeug app",
    "floor": "hand-written floor",
    "flask": "Flask",
    "miniflask": "miniflask",
    "bottle": "Bottle",
    "falcon": "Falcon",
}
#: Headers whose values differ from request to request, whoever answers.
PER_REQUEST_HEADERS = frozenset({"Date", "X-Request-ID"})
#: What differs between two writes of the same data: the new row's id, its
#: times, its version, and the headers that carry them.
PER_WRITE_FIELDS = frozenset({"id", "created_at", "updated_at", "version"})
PER_WRITE_HEADERS = PER_REQUEST_HEADERS | {"ETag", "Content-Length"}

QUICK = {"rounds": 15, "slot_ms": 15.0}
FULL = {"rounds": 60, "slot_ms": 40.0}


class HarnessError(AssertionError):
    """The apps disagree on a scenario, so timing them would compare different work."""


@dataclass(frozen=True)
class Answer:
    """What an app answered: status code, whole body, Content-Type, and all headers.

    Two answers are equal when the first three are; ``verify`` compares the
    headers only for the scenarios that ask (``Scenario.check``), since the
    framework scenarios differ in headers nobody reads (``Set-Cookie`` order...).
    """

    status: int
    body: bytes
    content_type: str | None = None
    headers: tuple[tuple[str, str], ...] = field(default=(), compare=False)


def call(app: apps.WSGIApp, environ: dict[str, Any], body: bytes) -> Answer:
    """Drive one request like a WSGI server and return what the app answered."""
    statuses: list[str] = []
    sent: list[tuple[str, str]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        statuses.append(status)
        sent[:] = headers
        return None

    request_environ = dict(environ)
    request_environ["wsgi.input"] = io.BytesIO(body)
    iterable = app(request_environ, start_response)
    try:
        content = b"".join(iterable)
    finally:
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    content_type = next((value for name, value in sent if name.lower() == "content-type"), None)
    return Answer(int(statuses[-1].split()[0]), content, content_type, tuple(sent))


def _start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
    """The timed loop's ``start_response``: a server would write the headers here."""
    return None


class Timing(NamedTuple):
    """Mean µs per request of one visit, by two clocks."""

    #: Wall clock (``perf_counter_ns``): what a client would wait. The figure we publish.
    wall_us: float
    #: CPU time of this thread (``thread_time_ns``): leaves out the time the OS gave
    #: to other processes, so it stays comparable on a busy machine.
    cpu_us: float


def time_calls(app: apps.WSGIApp, environ: dict[str, Any], body: bytes, calls: int) -> Timing:
    """Mean µs per request over ``calls`` back-to-back requests, wall and CPU.

    Each call pays what a server pays outside the app too (an environ copy, a
    ``BytesIO``, iterating the body and ``close()``); the bare WSGI floor shows
    how much that is.
    """
    cpu_start = time.thread_time_ns()
    start = time.perf_counter_ns()
    for _ in range(calls):
        request_environ = environ.copy()
        request_environ["wsgi.input"] = io.BytesIO(body)
        iterable = app(request_environ, _start_response)
        for _chunk in iterable:
            pass
        close = getattr(iterable, "close", None)
        if close is not None:
            close()
    wall = time.perf_counter_ns() - start
    cpu = time.thread_time_ns() - cpu_start
    return Timing(wall / calls / 1000, cpu / calls / 1000)


def verify(scenarios: Iterable[Scenario]) -> None:
    """Fail loudly unless every app gives the same answer per scenario.

    What "the same" means is the scenario's ``check`` (see ``Scenario``).

    Raises:
        HarnessError: naming the scenario and showing each app's answer.
    """
    for scenario in scenarios:
        answers = {
            label: call(app, scenario.environ, scenario.body)
            for label, app in scenario.targets.items()
        }
        compared = {label: comparable(answer, scenario.check) for label, answer in answers.items()}
        if len(set(compared.values())) > 1:
            shown = "\n".join(
                f"  {label}: {answer.status} {answer.content_type} {answer.body[:300]!r}"
                + (f"\n    {list(answer.headers)}" if scenario.check != "body" else "")
                for label, answer in answers.items()
            )
            raise HarnessError(f"apps disagree on scenario {scenario.name!r}:\n{shown}")


def comparable(answer: Answer, check: str) -> Any:
    """What of ``answer`` must be equal across apps under ``check`` (hashable)."""
    if check == "body":
        return answer
    varying = PER_REQUEST_HEADERS if check == "exact" else PER_WRITE_HEADERS
    headers = tuple(
        (name, "<varies>" if name in varying else value) for name, value in answer.headers
    )
    if check == "exact":
        return answer.status, answer.body, headers
    headers = tuple(
        (name, re.sub(r"/[0-9]+$", "/<id>", value) if name == "Location" else value)
        for name, value in headers
    )
    return answer.status, headers, _without_write_fields(answer.body)


def _without_write_fields(body: bytes) -> str:
    """A JSON object body with ``PER_WRITE_FIELDS`` blanked, as canonical JSON."""
    data = json_module.loads(body)
    if isinstance(data, dict):
        data = {key: "<varies>" if key in PER_WRITE_FIELDS else v for key, v in data.items()}
    return json_module.dumps(data, sort_keys=True)


def calibrate(scenario: Scenario, label: str, slot_ms: float) -> int:
    """How many calls make one visit last about ``slot_ms`` (at least 3, so slow
    scenarios still average a few requests per visit)."""
    app = scenario.targets[label]
    calls = 1
    while True:
        elapsed_us = time_calls(app, scenario.environ, scenario.body, calls).wall_us * calls
        if elapsed_us > 2000 or calls >= 1 << 16:
            return max(3, int(slot_ms * 1000 * calls / elapsed_us))
        calls *= 4


@dataclass
class Samples:
    """Raw measurements: scenario -> app label -> per-round mean µs, and calls per visit."""

    means: dict[str, dict[str, list[float]]]
    calls: dict[str, dict[str, int]]
    #: The same by CPU time (see ``Timing``); empty when not measured.
    cpu: dict[str, dict[str, list[float]]] = field(default_factory=dict)


def measure(scenarios: Sequence[Scenario], rounds: int, slot_ms: float) -> Samples:
    """Run the interleaved rounds (see the module docstring)."""
    plan = {
        scenario.name: {label: calibrate(scenario, label, slot_ms) for label in scenario.targets}
        for scenario in scenarios
    }
    samples = Samples(
        {scenario.name: {label: [] for label in scenario.targets} for scenario in scenarios},
        plan,
        {scenario.name: {label: [] for label in scenario.targets} for scenario in scenarios},
    )
    for number in range(rounds):
        gc.collect()
        for scenario in scenarios:
            labels = list(scenario.targets)
            shift = number % len(labels)
            for label in labels[shift:] + labels[:shift]:
                timing = time_calls(
                    scenario.targets[label],
                    scenario.environ,
                    scenario.body,
                    plan[scenario.name][label],
                )
                samples.means[scenario.name][label].append(timing.wall_us)
                samples.cpu[scenario.name][label].append(timing.cpu_us)
        log(f"  in-process round {number + 1}/{rounds}")
    return samples


def summarize_run(scenarios: Sequence[Scenario], samples: Samples) -> dict[str, Any]:
    """Per scenario and app: µs summary, calls per visit, and the ratio to Flask per round."""
    results: list[dict[str, Any]] = []
    for scenario in scenarios:
        per_app: dict[str, Any] = {}
        for label in APP_LABELS:
            if label not in scenario.targets:
                continue
            per_app[label] = {
                "calls_per_round": samples.calls[scenario.name][label],
                **_clock_summary(samples.means[scenario.name], label, ""),
            }
            if samples.cpu:
                per_app[label].update(_clock_summary(samples.cpu[scenario.name], label, "cpu_"))
            if "floor" in scenario.targets:
                per_app[label].update(_floor_ratios(samples, scenario.name, label))
        results.append(
            {"name": scenario.name, "title": scenario.title, "kind": scenario.kind, "apps": per_app}
        )
    hooks = {"hooks": _per_hook(samples.means)}
    if samples.cpu:
        hooks["hooks_cpu"] = _per_hook(samples.cpu)
    return {"scenarios": results, **hooks}


def _clock_summary(
    rounds_by_app: dict[str, list[float]], label: str, prefix: str
) -> dict[str, Any]:
    """``us`` and ``ratio_to_flask`` (per-round ratios) for one app, keys prefixed."""
    rounds = rounds_by_app[label]
    ratios = [mine / theirs for mine, theirs in zip(rounds, rounds_by_app["flask"], strict=True)]
    return {f"{prefix}us": summarize(rounds), f"{prefix}ratio_to_flask": summarize(ratios)}


def _floor_ratios(samples: Samples, scenario: str, label: str) -> dict[str, Any]:
    """``ratio_to_floor`` (and ``cpu_ratio_to_floor``): app ÷ floor, round by round."""
    ratios = {}
    for prefix, clock in (("", samples.means), ("cpu_", samples.cpu)):
        if not clock:
            continue
        rounds = clock[scenario]
        ratios[f"{prefix}ratio_to_floor"] = summarize(
            [mine / floor for mine, floor in zip(rounds[label], rounds["floor"], strict=True)]
        )
    return ratios


def _per_hook(samples: dict[str, dict[str, list[float]]]) -> dict[str, Any]:
    """Cost of one hook: (hooks scenario - plain JSON GET) / 6, round by round.

    Both scenarios run in the same round, so their difference is less exposed
    to drift than a difference of two medians would be.
    """
    if "hooks" not in samples or "json_param" not in samples:
        return {}
    count = 2 * apps.HOOKS
    per_hook: dict[str, Any] = {}
    for label in ("flask", "miniflask"):
        differences = [
            (hooked - plain) / count
            for hooked, plain in zip(
                samples["hooks"][label], samples["json_param"][label], strict=True
            )
        ]
        per_hook[label] = summarize(differences)
    return per_hook


def run(full: bool = False, blog: bool = True, postgres: bool = True) -> dict[str, Any]:
    """Build, verify and measure everything; returns the results document.

    The PostgreSQL floors run when ``blog`` and ``postgres`` are true and a
    server answers; otherwise the reason is logged and kept in the results.
    """
    meta = describe("full" if full else "quick")  # before the run loads the machine
    settings = FULL if full else QUICK
    with ExitStack() as stack:
        directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-inprocess-"))
        seeded, on_postgres = _postgres(stack, blog and postgres)
        scenarios = build_scenarios(Path(directory) if blog else None, seeded)
        verify(scenarios)
        log(
            f"in-process: {len(scenarios)} scenarios verified; "
            f"{settings['rounds']} rounds of ~{settings['slot_ms']} ms per app"
        )
        samples = measure(scenarios, int(settings["rounds"]), float(settings["slot_ms"]))
    return {
        "meta": meta,
        "settings": {
            **settings,
            "blog_cache": "on for blog_list / blog_post_304 (default CACHE_TTL=60); "
            "off (CACHE_TTL=0) for the *_nocache variants and the floor_* scenarios",
            "postgresql": on_postgres,
        },
        **summarize_run(scenarios, samples),
    }


def _postgres(stack: ExitStack, wanted: bool) -> tuple[blogdb.SeededPostgres | None, str]:
    """A seeded PostgreSQL schema (dropped when ``stack`` closes), and what to report.

    The second value is the server's version, or why the PostgreSQL floors
    did not run: the benchmark runs on machines without the server.
    """
    if not wanted:
        return None, "not run (--no-blog or --no-postgres)"
    try:
        seeded = stack.enter_context(blogdb.seed_postgres())
    except blogdb.PostgresUnavailable as e:
        log(f"in-process: skipping the PostgreSQL floor scenarios: {e}")
        return None, f"not run: {e}"
    return seeded, seeded.server_version


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.inprocess [--full] [--no-blog] [--no-postgres]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="the long run (more, longer rounds)")
    parser.add_argument("--no-blog", action="store_true", help="skip the blog API scenarios")
    parser.add_argument(
        "--no-postgres", action="store_true", help="skip the floor scenarios on PostgreSQL"
    )
    args = parser.parse_args(argv)
    results = run(full=args.full, blog=not args.no_blog, postgres=not args.no_postgres)
    path = write_results("inprocess", results)
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
