"""The robustness sweep: over ten thousand malformed requests per framework, never a 5xx.

House rule: bad input gets a 4xx with the JSON error body (an HTML page on the
reader site), never a 500, and writes nothing. This test sends every route of
the app, API and site alike, malformed ids, query parameters, cursors, bodies,
tokens, hosts, methods, paths and headers (``bad_requests.py`` builds them),
in-process through WSGI, and checks every answer:

* no 5xx, and a 4xx wherever the request is certainly wrong; a merely odd one
  (a junk ``If-None-Match`` on a read) may succeed, but never with a 5xx;
* an ``/api/`` error is JSON in the documented shape, ``code`` equal to the
  status; a site error is an HTML page;
* every response says ``X-Content-Type-Options: nosniff``;
* the status and every header are documented in ``/api/v1/openapi.json`` for
  the operation that answered (``spec_check.py``);
* afterwards: no ERROR log record, and no content table changed.

The requests: the hand-picked ``catalogue``; then every family twice over,
``HYPOTHESIS`` probes drawn by Hypothesis (derandomized) and ``RANDOM`` probes
from a ``random.Random`` seeded with the family's name, so every run sends the
same requests. Totals are printed (``-s``) and quoted in docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import func, select

from blog_api import models
from blog_api.schemas import ErrorOut, OAuthErrorOut
from tests.blog_api.bad_requests import (
    FAMILIES,
    Answer,
    HypothesisSource,
    Probe,
    RandomSource,
    Route,
    Target,
    catalogue,
    send,
)
from tests.blog_api.conftest import PASSWORD, build_app, make_config
from tests.blog_api.spec_check import SpecCheck

#: Probes per family and framework from each engine. The bulk is random: its
#: values cost next to nothing, while Hypothesis spends a few milliseconds of
#: its own on each. Families whose bad part is refused early (an id, a host)
#: cost about a millisecond a request and get the most; those that pass
#: authentication and database reads first (a body, If-Match) and the site's
#: log-ins (a password check and a write) get fewer.
HYPOTHESIS = {name: 60 for name in FAMILIES} | {"site-session": 20}
RANDOM = {
    "id": 1100,
    "host": 1100,
    "token": 1100,
    "method": 900,
    "path": 900,
    "form": 900,
    "query": 700,
    "cursor": 600,
    "body": 600,
    "noise": 600,
    "content-type": 400,
    "if-match": 400,
    "site-session": 150,
}
#: Probes per Hypothesis example: its engine's own work per example costs more
#: than a request, and a failing batch still shrinks to the probe that fails.
BATCH = 10
MIN_DISTINCT_PER_FRAMEWORK = 10_000
#: Content tables: bad input must leave every row as it was.
CONTENT = (models.User, models.Post, models.Comment, models.Tag, models.RefreshToken)


@dataclass
class Tally:
    """What the sweep sent and got: statuses per family, distinct probes, CPU time."""

    framework: str
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    distinct: set[Probe] = field(default_factory=set)
    seconds: Counter[str] = field(default_factory=Counter)


def test_thousands_of_malformed_requests_get_4xx_never_5xx(target: Target, spec: SpecCheck) -> None:
    tally = Tally(target.framework)
    before = _row_counts(target.app)
    started = time.perf_counter()
    with _quiet_request_log() as errors:
        with _cpu_time(tally, "catalogue"):
            for probe in catalogue(target):
                _run(target, spec, tally, probe)
        for family in FAMILIES:
            with _cpu_time(tally, family):
                _sweep(target, spec, tally, family)
    _report(tally, time.perf_counter() - started)
    assert not errors, [record.getMessage() for record in errors]
    assert _row_counts(target.app) == before, "a bad request wrote to the database"
    assert len(tally.distinct) >= MIN_DISTINCT_PER_FRAMEWORK


def _sweep(target: Target, spec: SpecCheck, tally: Tally, family: str) -> None:
    """One family: its Hypothesis probes, then its seeded random ones."""
    build = FAMILIES[family]

    @settings(
        max_examples=HYPOTHESIS[family] // BATCH,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def drawn_by_hypothesis(data: st.DataObject) -> None:
        source = HypothesisSource(data)
        for _ in range(BATCH):
            _run(target, spec, tally, build(target, source))

    drawn_by_hypothesis()
    source = RandomSource(f"robustness-{family}")
    for _ in range(RANDOM[family]):
        _run(target, spec, tally, build(target, source))


def _run(target: Target, spec: SpecCheck, tally: Tally, probe: Probe) -> None:
    """Send one probe, count it, and fail with the details if the answer is wrong."""
    answer = send(target.app, probe)
    tally.counts[(probe.family, f"{answer.status // 100}xx")] += 1
    tally.distinct.add(probe)
    found = problems(spec, probe, answer)
    assert not found, f"{probe}\n-> {answer.status} {answer.body[:300]!r}\n" + "\n".join(found)


# Judging an answer.


def problems(spec: SpecCheck, probe: Probe, answer: Answer) -> list[str]:
    """Everything wrong with ``answer`` (empty when it is right)."""
    status, found = answer.status, []
    if status >= 500:
        found.append(f"server error {status}")
    elif probe.expect == "4xx" and not 400 <= status < 500:
        found.append(f"expected a 4xx, got {status}")
    elif probe.expect == "redirect":
        found += _redirect_problems(probe, answer)
    if answer.header("X-Content-Type-Options") != "nosniff":
        found.append("no X-Content-Type-Options: nosniff")
    path = unquote_to_bytes(probe.path).decode("utf-8", "replace")
    if status >= 400:
        found += _error_body_problems(path, answer)
    return found + spec.problems(probe.method, path, status, answer.headers)


def _error_body_problems(path: str, answer: Answer) -> list[str]:
    """API errors are our JSON shape (RFC 6749's at the token endpoint); site errors HTML."""
    content_type = answer.header("Content-Type") or ""
    if not path.startswith(("/api/", "/.well-known/")):
        return [] if content_type.startswith("text/html") else [f"site error as {content_type}"]
    if not content_type.startswith("application/json"):
        return [f"API error as {content_type!r}"]
    try:
        body = json.loads(answer.body)
    except ValueError:
        return [f"API error body is not JSON: {answer.body[:100]!r}"]
    model = OAuthErrorOut if "error_description" in body else ErrorOut
    try:
        model.model_validate(body)
    except ValidationError as e:
        return [f"error body is not {model.__name__}: {e}"]
    return [] if body["code"] == answer.status else [f"code {body['code']} != {answer.status}"]


def _redirect_problems(probe: Probe, answer: Answer) -> list[str]:
    """A log in goes to its ``next`` only when that is a plain local path, else home."""
    if answer.status != 303:
        return [f"log in answered {answer.status}, not 303"]
    location = answer.header("Location") or ""
    if location in ("/", "http://localhost/"):
        return []
    fields = dict(re.findall(r"([^&=]+)=([^&]*)", probe.body.decode()))
    asked = unquote_to_bytes(fields["next"].replace("+", " ")).decode("utf-8", "replace")
    if location != asked or not re.fullmatch(r"/(?!/)[\x21-\x7e]*", location):
        return [f"redirected to {location!r}"]
    return []


# The app under test and its data.


@pytest.fixture(params=["flask", "miniflask"])
def target(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Target]:
    """An app on one framework with alice, bob, posts, a comment and two site sessions."""
    config = make_config(
        tmp_path,
        # Failed log-ins are part of the sweep; a lock-out would turn the
        # site-session family's right password into 429s.
        LOGIN_MAX_FAILURES=10**9,
        LOGIN_CLIENT_MAX_FAILURES=10**9,
        LOGIN_ACCOUNT_MAX_FAILURES=10**9,
    )
    app = build_app(str(request.param), config)
    yield _prepare(str(request.param), app)
    app.extensions["blog_db"].engine.dispose()


@pytest.fixture
def spec(target: Target) -> SpecCheck:
    """The app's own OpenAPI document, to judge its answers by."""
    return SpecCheck(target.app, target.app.test_client().get("/api/v1/openapi.json").get_json())


def _prepare(framework: str, app: Any) -> Target:
    """Create the data the probes refer to, through the API and the site like users."""
    client = app.test_client()
    tokens = {name: _register_and_log_in(client, name) for name in ("alice", "bob")}
    alice = {"Authorization": f"Bearer {tokens['alice']}"}
    post = client.post(
        "/api/v1/posts",
        json={"title": "Hello", "body": "World", "tags": ["t"], "status": "published"},
        headers=alice,
    ).get_json()
    second = {"title": "Two", "body": "x", "status": "published"}
    client.post("/api/v1/posts", json=second, headers=alice)
    bob = {"Authorization": f"Bearer {tokens['bob']}"}
    comment = client.post(
        f"/api/v1/posts/{post['id']}/comments", json={"body": "Nice"}, headers=bob
    ).get_json()
    cursor = client.get("/api/v1/posts?per_page=1&cursor=").get_json()["next_cursor"]
    ids = {"post_id": post["id"], "comment_id": comment["id"], "user_id": post["author"]["id"]}
    logged_in, anonymous = app.test_client(), app.test_client()
    csrf_anonymous = _csrf(anonymous.get("/login"))
    form = {"username": "alice", "password": PASSWORD, "csrf_token": _csrf(logged_in.get("/login"))}
    assert logged_in.post("/login", data=form).status_code == 303
    return Target(
        framework,
        app,
        tuple(_routes(app, ids)),
        tokens["alice"],
        post["id"],
        cursor,
        logged_in.get_cookie("session").value,
        _csrf(logged_in.get(f"/posts/{post['id']}")),
        anonymous.get_cookie("session").value,
        csrf_anonymous,
    )


def _register_and_log_in(client: Any, name: str) -> str:
    """Register ``name`` and return an access token."""
    account = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    assert client.post("/api/v1/auth/register", json=account).status_code == 201
    response = client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    token: str = response.get_json()["access_token"]
    return token


def _csrf(response: Any) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
    assert match, "no CSRF field on the page"
    return match.group(1)


def _routes(app: Any, ids: dict[str, int]) -> Iterator[Route]:
    """Every (rule, method) of the app, described from its OpenAPI document."""
    spec = SpecCheck(app, app.test_client().get("/api/v1/openapi.json").get_json())
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        values = {argument: ids.get(argument, "site.css") for argument in rule.arguments}
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            path = adapter.build(rule.endpoint, values, method=method)
            yield _route(spec, rule.rule, method, path)


def _route(spec: SpecCheck, rule: str, method: str, path: str) -> Route:
    found = spec.operation(method, path)
    if found is None:  # a reader-site page, or a static file
        return Route(method, rule, path, api=False, body="form" if method == "POST" else None)
    operation = found[1]
    content = operation.get("requestBody", {}).get("content", {})
    body = "form" if "application/x-www-form-urlencoded" in content else "json" if content else None
    query = frozenset(p["name"] for p in operation["parameters"] if p["in"] == "query")
    bearer_only = operation.get("security") == [{"bearerAuth": []}]
    return Route(method, rule, path, True, bearer_only, body, "per_page" in query, query)


# Bookkeeping.


def _row_counts(app: Any) -> dict[str, int]:
    with app.extensions["blog_db"].session_factory() as session:
        return {
            model.__tablename__: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in CONTENT
        }


class _ErrorRecords(logging.Handler):
    """A handler that keeps the ERROR records of the ``blog_api`` loggers."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def _quiet_request_log() -> Iterator[list[logging.LogRecord]]:
    """Silence the per-request INFO lines during the sweep; collect ERROR records.

    Ten thousand request lines would cost more than the requests (pytest
    keeps every record); a 5xx is logged at ERROR and still collected.
    """
    errors, request_log = _ErrorRecords(), logging.getLogger("blog_api.request")
    level = request_log.level
    request_log.setLevel(logging.WARNING)
    logging.getLogger("blog_api").addHandler(errors)
    try:
        yield errors.records
    finally:
        logging.getLogger("blog_api").removeHandler(errors)
        request_log.setLevel(level)


@contextlib.contextmanager
def _cpu_time(tally: Tally, name: str) -> Iterator[None]:
    """Add the CPU time the block takes to ``tally.seconds[name]``."""
    started = time.process_time()
    yield
    tally.seconds[name] += time.process_time() - started


def _report(tally: Tally, seconds: float) -> None:
    """Print the figures docs/reliability.md quotes."""
    families: Counter[str] = Counter()
    classes: Counter[str] = Counter()
    for (family, status_class), count in tally.counts.items():
        families[family] += count
        classes[status_class] += count
    print(
        f"\n[robustness {tally.framework}] {sum(families.values())} malformed requests "
        f"({len(tally.distinct)} distinct) in {seconds:.1f} s, "
        f"{sum(tally.seconds.values()):.1f} s CPU: "
        + ", ".join(f"{name} {count}" for name, count in sorted(classes.items()))
        + "\n  by family: "
        + ", ".join(f"{name} {count}" for name, count in families.items())
        + "\n  CPU s: "
        + ", ".join(f"{name} {value:.1f}" for name, value in tally.seconds.items())
    )
