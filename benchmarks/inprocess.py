"""In-process benchmark: call each app's WSGI callable directly, no server, no socket.

What it measures: the framework's own cost per request (µs), from ``app(environ,
start_response)`` to the last body chunk and ``close()``, as a WSGI server would
drive it. Environs are prepared once per scenario with Werkzeug's
``EnvironBuilder``; each call gets a shallow copy and a fresh ``wsgi.input``.

Controls: a bare WSGI function (the harness cost) and a hand-written Werkzeug
app (what Flask's building blocks cost without Flask), for the scenarios they
can answer; Bottle and Falcon as peers on the same four scenarios
(``peers.py``); and, for the blog's data path, hand-written floors
(``floors/``: the database driver and ``json`` only) answering the blog's reads and
writes with the same body and headers. Ratios are taken against Flask (or
the floor) *in the same round*, because these machines drift by 15-50%
between runs: only interleaved, repeated measurements compare.

Method: every round visits every scenario and, within it, every app in an order
that rotates from round to round; each visit runs N calls (N calibrated so a
visit lasts about ``slot_ms``) and records their mean. A figure is the median
of the per-round means, reported with min, max and quartiles. Each visit is
timed by the wall clock (the published figure) and by the thread's CPU time,
which stays comparable when other processes take the CPUs. Before any
timing, every app must give the same status, body and Content-Type for each
scenario; the floors, the same headers too (see ``Scenario.check``).

Run it alone: ``python -m benchmarks.inprocess [--full]``.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from werkzeug.test import EnvironBuilder

from benchmarks import apps, blogdb, floors, peers
from benchmarks.environment import describe, log, write_results
from benchmarks.stats import summarize

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


@dataclass
class Scenario:
    """One request, prepared once, and the apps that answer it.

    Attributes:
        name: short id used in results files.
        title: what a reader sees in tables.
        kind: ``"framework"`` (the scenario app; counts for the 0.5x goal),
            ``"blog"`` (the blog API on both frameworks) or ``"floor"`` (the
            blog's data path against its hand-written floor; the 3x goal).
        environ: the WSGI environ without ``wsgi.input``.
        body: the request body, wrapped in a fresh ``BytesIO`` per call.
        targets: app label -> WSGI callable.
        check: how ``verify`` compares the answers: ``"body"`` (status, body
            and Content-Type), ``"exact"`` (and every header, values included,
            but those of ``PER_REQUEST_HEADERS``) or ``"write"`` (as exact,
            except what differs between two writes: ``PER_WRITE_FIELDS`` of the
            JSON body, ``PER_WRITE_HEADERS`` and the id ending ``Location``).
    """

    name: str
    title: str
    kind: str
    environ: dict[str, Any]
    body: bytes
    targets: dict[str, apps.WSGIApp] = field(default_factory=dict)
    check: str = "body"


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


def prepare_environ(
    method: str = "GET",
    path: str = "/",
    *,
    json: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[dict[str, Any], bytes]:
    """Build an environ once with Werkzeug's ``EnvironBuilder``; split off the body."""
    pairs = list((headers or {}).items())
    builder = EnvironBuilder(method=method, path=path, json=json, headers=pairs)
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    body = environ.pop("wsgi.input").read()
    return environ, body


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


def build_scenarios(blog_directory: Path | None) -> list[Scenario]:
    """All scenarios with their apps; the blog ones only when a directory is given.

    Args:
        blog_directory: a scratch directory for the seeded SQLite database; ``None``
            skips the blog API scenarios.
    """
    import flask

    import miniflask

    frameworks = {"flask": flask, "miniflask": miniflask}
    plain = {label: apps.build_app(fw) for label, fw in frameworks.items()}
    hooked = {label: apps.build_app(fw, hooks=apps.HOOKS) for label, fw in frameworks.items()}
    controls: dict[str, apps.WSGIApp] = {
        "wsgi": apps.bare_wsgi_app,
        "werkzeug": apps.werkzeug_app,
    }
    others = {"bottle": peers.bottle_app(), "falcon": peers.falcon_app()}
    everyone = {**controls, **plain, **others}
    scenarios = [
        _scenario("text", "plain-text GET", everyone, "GET", "/text"),
        _scenario("json_param", "JSON GET with a URL parameter", everyone, "GET", "/users/42"),
        _scenario(
            "post_echo",
            "POST JSON, echoed with 201",
            everyone,
            "POST",
            "/echo",
            json=apps.ECHO_PAYLOAD,
        ),
        _scenario("not_found", "404 (no route matches)", everyone, "GET", "/missing"),
        _scenario(
            "hooks",
            f"JSON GET + {apps.HOOKS} before/{apps.HOOKS} after hooks",
            hooked,
            "GET",
            "/users/42",
        ),
        _scenario("blueprint", "route in a nested blueprint", plain, "GET", "/api/v1/items/7"),
        _scenario("template", "template render (Jinja, 10-row loop)", plain, "GET", "/page"),
        _scenario(
            "session",
            "session read + write (signed cookie)",
            plain,
            "GET",
            "/session",
            headers={"Cookie": f"session={_session_cookie(plain['flask'])}"},
        ),
    ]
    scenarios.append(_tracing_scenario(plain["flask"]))
    if blog_directory is not None:
        scenarios += _blog_scenarios(blog_directory, frameworks)
    return scenarios


def _tracing_scenario(flask_app: Any) -> Scenario:
    """The JSON GET on a miniflask app with the request tracer on.

    With ``TRACE`` off (every other row) miniflask runs no tracing code, so
    the cost of the tracer shows only here, against the JSON GET row.
    """
    import miniflask

    traced = apps.build_app(miniflask)
    traced.config["TRACE"] = True
    return _scenario(
        "json_param_traced",
        "JSON GET, miniflask with TRACE on",
        {"flask": flask_app, "miniflask": traced},
        "GET",
        "/users/42",
        kind="tracing",
    )


def _scenario(
    name: str,
    title: str,
    targets: dict[str, Any],
    method: str,
    path: str,
    *,
    json: Any = None,
    headers: dict[str, str] | None = None,
    kind: str = "framework",
    check: str = "body",
) -> Scenario:
    environ, body = prepare_environ(method, path, json=json, headers=headers)
    return Scenario(name, title, kind, environ, body, dict(targets), check)


def _session_cookie(flask_app: Any) -> str:
    """A session cookie holding ``{"n": 1}``, signed as Flask signs it.

    miniflask must read Flask's cookie (same serializer, salt and key), so
    one cookie serves both; if it could not, ``verify`` would fail on the body.
    """
    serializer = flask_app.session_interface.get_signing_serializer(flask_app)
    cookie: str = serializer.dumps({"n": 1})
    return cookie


def _blog_scenarios(directory: Path, frameworks: dict[str, Any]) -> list[Scenario]:
    """The blog API's list and 304 revalidation, with the server cache on and off."""
    from blog_api import create_app

    database = blogdb.seed(directory)
    instance = directory / "instance"
    cached = {
        label: create_app(label, blogdb.app_config(database, instance)) for label in frameworks
    }
    uncached = {
        label: create_app(label, blogdb.app_config(database, instance, cache=False))
        for label in frameworks
    }
    post_path = f"/api/v1/posts/{database.published_post_id}"
    etag = cached["flask"].test_client().get(post_path).headers["ETag"]
    revalidate = {"If-None-Match": etag}
    scenarios = [
        _scenario(
            "blog_list",
            "blog: GET /posts (page of 20)",
            cached,
            "GET",
            "/api/v1/posts",
            kind="blog",
        ),
        _scenario(
            "blog_list_nocache",
            "blog: GET /posts, server cache off",
            uncached,
            "GET",
            "/api/v1/posts",
            kind="blog",
        ),
        _scenario(
            "blog_post_304",
            "blog: GET /posts/<id>, 304 revalidation",
            cached,
            "GET",
            post_path,
            headers=revalidate,
            kind="blog",
        ),
        _scenario(
            "blog_post_304_nocache",
            "blog: GET /posts/<id> 304, server cache off",
            uncached,
            "GET",
            post_path,
            headers=revalidate,
            kind="blog",
        ),
    ]
    scenarios.extend(floor_scenarios(database, uncached))
    return scenarios


#: The body of the POST scenario: a draft, so the anonymous lists stay the same
#: while the run adds posts; one tag exists already, one is new the first time.
NEW_POST = {"title": " A new post ", "body": "Text of the post.", "tags": ["Python", "floor"]}
#: The body of the PATCH scenario, sent again and again to the same post.
POST_CHANGES = {"title": "An edited title", "tags": ["python", "edited"]}


def floor_scenarios(database: blogdb.SeededDatabase, blog: dict[str, Any]) -> list[Scenario]:
    """The blog's reads and writes (server cache off) beside their hand-written floors.

    Writes carry an access token from the blog's own log-in endpoint; the
    floors check it as the blog does (same secret, same database).
    """
    floor = floors.build_floors(floors.FloorSettings(database.path, blogdb.SECRET_KEY))
    login = blog["miniflask"].test_client().post("/api/v1/auth/login", json=blogdb.LOGIN)
    bearer = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
    post = f"/api/v1/posts/{database.published_post_id}"
    draft = f"/api/v1/posts/{blogdb.draft_of(database, blogdb.LOGIN['username'])}"
    plan: list[tuple[str, str, str, str, str, dict[str, Any]]] = [
        ("floor_list", "GET /posts (page 1 of 20)", "list_posts", "GET", "/api/v1/posts", {}),
        (
            "floor_list_cursor",
            "GET /posts?cursor= (keyset)",
            "list_posts",
            "GET",
            "/api/v1/posts?cursor=",
            {},
        ),
        ("floor_post", "GET /posts/<id>", "get_post", "GET", post, {}),
        (
            "floor_comments",
            "GET /posts/<id>/comments",
            "list_comments",
            "GET",
            f"{post}/comments",
            {},
        ),
        ("floor_create", "POST /posts (Bearer)", "create_post", "POST", "/api/v1/posts", NEW_POST),
        ("floor_patch", "PATCH /posts/<id> (Bearer)", "patch_post", "PATCH", draft, POST_CHANGES),
    ]
    return [
        _scenario(
            name,
            title,
            {"floor": floor[endpoint], **blog},
            method,
            path,
            json=payload or None,
            headers=bearer if method != "GET" else None,
            kind="floor",
            check="exact" if method == "GET" else "write",
        )
        for name, title, endpoint, method, path, payload in plan
    ]


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


def run(full: bool = False, blog: bool = True) -> dict[str, Any]:
    """Build, verify and measure everything; returns the results document."""
    meta = describe("full" if full else "quick")  # before the run loads the machine
    settings = FULL if full else QUICK
    with tempfile.TemporaryDirectory(prefix="bench-inprocess-") as directory:
        scenarios = build_scenarios(Path(directory) if blog else None)
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
        },
        **summarize_run(scenarios, samples),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.inprocess [--full] [--no-blog]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--full", action="store_true", help="the long run (more, longer rounds)")
    parser.add_argument("--no-blog", action="store_true", help="skip the blog API scenarios")
    args = parser.parse_args(argv)
    path = write_results("inprocess", run(full=args.full, blog=not args.no_blog))
    log(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
