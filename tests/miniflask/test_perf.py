"""Every speed-up (``# PERF:``) answers what its plain version answers.

``docs/perf.md`` lists each site with the test that proves it. Most of those
tests live beside their module (``test_wrappers.py`` compares the response
constructor with Werkzeug's, ``test_sessions.py`` the cookies with
itsdangerous'...). This file holds the rest:

* the side-by-side tests (miniflask against Flask) run again with
  ``MINIFLASK_PLAIN=1``, so every site with a ``PLAIN`` branch is compared
  with Flask in both versions (see ``miniflask/perf.py``);
* one test for each site that had no such test.

Run as a script, it measures the sites whose gain no benchmark had measured
(``docs/perf.md`` quotes a run)::

    .venv/bin/python -m tests.miniflask.test_perf
"""

from __future__ import annotations

import importlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder

import miniflask
from miniflask import Flask, request_started
from miniflask.app import _HEADER_VALUES, _JSON_BODIES, _PLAIN_BODIES, _STATUS_LINES
from miniflask.ctx import AppContext
from miniflask.globals import _cv_request, request, request_ctx
from miniflask.routing import _request_server_name, _server_name
from miniflask.wrappers import Request, Response

REPO_ROOT = Path(__file__).resolve().parents[2]
SIDE_BY_SIDE = sorted(str(path) for path in Path(__file__).parent.glob("test_side_by_side*.py"))


def test_side_by_side_tests_pass_with_the_plain_versions() -> None:
    environ = {**os.environ, "MINIFLASK_PLAIN": "1"}
    check = subprocess.run(
        [sys.executable, "-c", "import miniflask.perf as p; assert p.PLAIN"],
        env=environ,
        cwd=REPO_ROOT,
    )
    assert check.returncode == 0, "MINIFLASK_PLAIN=1 did not switch the plain versions on"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SIDE_BY_SIDE],
        env=environ,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


VALUES = [
    "text",
    b"bytes",
    bytearray(b"x"),
    iter([b"a"]),
    {"a": 1},
    [1],
    (1, 2),
    200,
    None,
    miniflask.Response("x"),
]


@pytest.mark.parametrize("value", VALUES, ids=lambda value: type(value).__name__)
def test_kind_tuples_answer_as_the_unions_would(value: Any) -> None:
    from werkzeug.datastructures import Headers

    assert isinstance(value, _JSON_BODIES) == isinstance(value, dict | list)
    assert isinstance(value, _PLAIN_BODIES) == isinstance(value, str | bytes | bytearray | Iterator)
    assert isinstance(value, _STATUS_LINES) == isinstance(value, str | bytes | bytearray)
    assert isinstance(value, _HEADER_VALUES) == isinstance(value, Headers | dict | tuple | list)


def test_the_context_variable_holds_what_the_proxies_show() -> None:
    app = Flask(__name__)
    with app.test_request_context("/"):
        assert _cv_request.get() is request_ctx._get_current_object()  # type: ignore[attr-defined]  # proxies are typed as what they stand for
        assert _cv_request.get().request is request._get_current_object()  # type: ignore[attr-defined]  # proxies are typed as what they stand for


def test_a_receiver_connected_after_the_first_request_still_receives() -> None:
    """The receivers are checked at every request, not once."""
    app = Flask(__name__)
    app.get("/")(lambda: "hi")
    client = app.test_client()
    client.get("/")
    received = []

    def started(sender: Any, **extra: Any) -> None:
        received.append(sender)

    request_started.connect(started, app)
    try:
        client.get("/")
    finally:
        request_started.disconnect(started, app)
    assert received == [app]


def _sent(response: Response) -> tuple[Any, ...]:
    return response.status, response.headers.to_wsgi_list(), response.get_data()


@pytest.mark.parametrize(
    "body",
    ["text", b"bytes", bytearray(b"array")],
    ids=["str", "bytes", "bytearray"],
)
@pytest.mark.parametrize("status", [None, 201, "202 ACCEPTED"])
def test_a_plain_body_gets_what_naming_no_type_gives(body: Any, status: Any) -> None:
    app = Flask(__name__)
    with app.test_request_context("/"):
        fast = app._plain_response(body, status, None)
        plain = app.response_class(body, status=status, headers=None)
    assert _sent(fast) == _sent(plain)


def test_an_iterator_body_gets_what_naming_no_type_gives() -> None:
    app = Flask(__name__)
    with app.test_request_context("/"):
        fast = app._plain_response(iter([b"a", b"b"]), None, None)
        plain = app.response_class(iter([b"a", b"b"]), status=None, headers=None)
    assert _sent(fast) == _sent(plain)


@pytest.mark.parametrize("server_name", [None, "example.org", "example.org:8080"])
def test_the_app_context_builds_the_adapter_flask_builds(server_name: str | None) -> None:
    app = Flask(__name__)
    app.config["SERVER_NAME"] = server_name
    app.get("/posts/<int:post_id>", endpoint="post")(lambda post_id: "")
    adapter = AppContext(app).url_adapter
    plain = app.create_url_adapter(None)
    if plain is None:
        assert adapter is None
        return
    assert adapter is not None
    assert adapter.build("post", {"post_id": 3}, force_external=True) == plain.build(
        "post", {"post_id": 3}, force_external=True
    )


@pytest.mark.parametrize(
    "host", ["example.org", "EXAMPLE.org:8080", "bücher.example", "[::1]:5000", None]
)
@pytest.mark.parametrize("trusted", [None, ["example.org", ".example"]])
def test_the_host_cache_answers_as_the_function(host: str | None, trusted: Any) -> None:
    headers = {} if host is None else {"Host": host}
    req = Request(EnvironBuilder("/", headers=headers).get_environ())
    req.trusted_hosts = trusted

    def answer(compute: Callable[[], str]) -> Any:
        try:
            return compute()
        except Exception as e:  # the same error, or the same host
            return type(e)

    def uncached() -> str:
        trusted_hosts = None if trusted is None else tuple(trusted)
        return _server_name.__wrapped__(  # type: ignore[attr-defined]  # lru_cache keeps the function
            req.scheme, req.environ.get("HTTP_HOST"), req.server, trusted_hosts
        )

    assert answer(lambda: _request_server_name(req)) == answer(uncached)


def test_every_lazily_imported_cli_name_is_its_modules() -> None:
    import miniflask.cli as cli

    for name, module in cli._LAZY.items():
        value = getattr(cli, name)
        assert value is getattr(importlib.import_module(f"miniflask.cli.{module}"), name)


# Measuring: `python -m tests.miniflask.test_perf`. Not a test.


def compare(fast: Callable[[], Any], plain: Callable[[], Any], number: int = 20_000) -> str:
    """Median CPU time per call of each, over 11 rounds that alternate the two."""
    times: dict[str, list[float]] = {"fast": [], "plain": []}
    for round_number in range(11):
        pair = [("fast", fast), ("plain", plain)]
        for name, function in pair if round_number % 2 == 0 else reversed(pair):
            start = time.process_time()
            for _ in range(number):
                function()
            times[name].append((time.process_time() - start) / number * 1e6)
    return f"{statistics.median(times['plain']):.2f} -> {statistics.median(times['fast']):.2f} µs"


def measure() -> dict[str, str]:
    """The figures of docs/perf.md marked "this page's script"."""
    from itsdangerous import URLSafeTimedSerializer

    from miniflask import signals
    from miniflask.routing import bind_to_environ, bind_to_request
    from miniflask.sessions import _SessionSerializer

    app = Flask(__name__)
    app.get("/posts/<int:post_id>")(lambda post_id: {"id": post_id})
    environ = EnvironBuilder("/posts/7").get_environ()

    def request_once() -> None:
        b"".join(app(dict(environ), lambda *args: None))

    request_once()
    results: dict[str, str] = {}
    results["JSON GET, whole request"] = compare(request_once, request_once, 3000)

    ctx = app.request_context(dict(environ))
    adapter = ctx.url_adapter
    assert adapter is not None
    cache = app.url_match_cache
    results["MatchCache.match, per match"] = compare(
        lambda: cache.match(adapter), lambda: adapter.match(return_rule=True)
    )

    def without_memo() -> None:
        cache._enabled = False
        request_once()

    def with_memo() -> None:
        cache._enabled = True
        request_once()

    results["MatchCache.match, JSON GET"] = compare(with_memo, without_memo, 3000)
    cache._enabled = True

    def eager_adapter() -> None:
        AppContext(app).url_adapter  # noqa: B018 (building it is the point)

    results["AppContext.url_adapter"] = compare(lambda: AppContext(app), eager_adapter)

    req = Request(dict(environ))
    results["bind_to_request"] = compare(
        lambda: bind_to_request(app, req), lambda: bind_to_environ(app, req)
    )

    def uncached_host() -> str:
        return _server_name.__wrapped__(  # type: ignore[attr-defined, no-any-return]  # lru_cache keeps the function
            req.scheme, req.environ.get("HTTP_HOST"), req.server, None
        )

    results["_request_server_name"] = compare(lambda: _request_server_name(req), uncached_host)

    signal = signals.request_started
    results["signals: send() to no receivers vs the check"] = compare(
        lambda: signal.receivers and None,
        lambda: signal.send(app, _async_wrapper=app.ensure_sync),
    )

    with app.test_request_context("/"):
        results["the context variable vs request_ctx.request"] = compare(
            lambda: _cv_request.get().request, lambda: request_ctx.request
        )

    body = {"a": 1}
    results["kind tuples vs unions"] = compare(
        lambda: isinstance(body, _PLAIN_BODIES),
        lambda: isinstance(body, str | bytes | bytearray | Iterator),
    )

    response_class = app.response_class
    results["_plain_response, iterator body"] = compare(
        lambda: response_class(iter([b"x"]), mimetype=response_class.default_mimetype),
        lambda: response_class(iter([b"x"]), headers=None),
    )
    results["_plain_response, str body"] = compare(
        lambda: response_class("x", mimetype=response_class.default_mimetype),
        lambda: response_class("x", headers=None),
    )

    app.secret_key = "measure"
    serializer = app.session_interface.get_signing_serializer(app)
    assert isinstance(serializer, _SessionSerializer)

    class PlainSigners(_SessionSerializer):
        def make_signer(self, salt: str | bytes | None = None) -> Any:
            return URLSafeTimedSerializer.make_signer(self, salt)

    plain_serializer = PlainSigners(
        list(serializer.secret_keys),
        salt=serializer.salt,
        serializer=serializer.serializer,
        signer_kwargs=serializer.signer_kwargs,
    )
    session = {"user_id": 1, "csrf": "abc"}
    results["_SessionSerializer.make_signer, dumps + loads"] = compare(
        lambda: serializer.loads(serializer.dumps(session), max_age=3600),
        lambda: plain_serializer.loads(plain_serializer.dumps(session), max_age=3600),
    )
    results.update(_measure_more(app, environ, serializer))
    results["lazy miniflask.cli modules, KiB"] = _cli_import_kib()
    return results


def _measure_more(app: Flask, environ: dict[str, Any], serializer: Any) -> dict[str, str]:
    """The sites whose comment gave a figure but not where it was measured."""
    import jinja2
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer
    from werkzeug.exceptions import NotFound
    from werkzeug.wrappers import Response as WerkzeugResponse

    from miniflask.json.tag import TaggedJSONSerializer
    from miniflask.wrappers import http_error_response

    results: dict[str, str] = {}

    def werkzeug_init() -> None:
        WerkzeugResponse.__init__(Response.__new__(Response), "hello")

    results["Response.__init__"] = compare(lambda: Response("hello"), werkzeug_init)
    response = Response("hello")
    results["Response.get_wsgi_response"] = compare(
        lambda: response.get_wsgi_response(environ),
        lambda: WerkzeugResponse.get_wsgi_response(response, environ),
    )
    results["Response.get_app_iter"] = compare(
        lambda: response.get_app_iter(environ),
        lambda: WerkzeugResponse.get_app_iter(response, environ),
    )
    results["http_error_response, a 404"] = compare(
        lambda: http_error_response(Response, NotFound(), environ),
        lambda: Response.force_type(NotFound(), environ),  # type: ignore[arg-type]  # an HTTPException is a WSGI app
    )
    signer = serializer.make_signer()
    results["_SessionSigner.derive_key"] = compare(
        lambda: signer.derive_key(), lambda: TimestampSigner.derive_key(signer)
    )
    interface = app.session_interface
    results["get_signing_serializer"] = compare(
        lambda: interface.get_signing_serializer(app),
        lambda: interface._new_serializer(URLSafeTimedSerializer, (app.secret_key,)),
    )
    cookie_environ = {**environ, "HTTP_COOKIE": "session=abc; theme=dark"}
    results["_request_cookie (a fresh Request each time)"] = compare(
        lambda: _request_cookie_of(Request(cookie_environ)),
        lambda: Request(cookie_environ).cookies.get("session"),
    )
    environment = app.jinja_env
    row = {"name": "ada"}
    results["Environment.getattr on a dict"] = compare(
        lambda: environment.getattr(row, "name"),
        lambda: jinja2.Environment.getattr(environment, row, "name"),
    )
    provider = app.json
    document = {"id": 7, "title": "hello", "tags": ["a", "b"]}
    results["DefaultJSONProvider dumps (the _encoder)"] = compare(
        lambda: provider.dumps(document, separators=(",", ":")),
        lambda: json.dumps(
            document,
            default=provider.default,  # type: ignore[attr-defined]  # DefaultJSONProvider
            ensure_ascii=provider.ensure_ascii,  # type: ignore[attr-defined]  # DefaultJSONProvider
            sort_keys=provider.sort_keys,  # type: ignore[attr-defined]  # DefaultJSONProvider
            separators=(",", ":"),
        ),
    )
    tagger = TaggedJSONSerializer()

    def tag_loop() -> Any:
        for tag in tagger.order:
            if tag.check("hello"):
                return tag.tag("hello")
        return "hello"

    results["TaggedJSONSerializer.tag, a str"] = compare(lambda: tagger.tag("hello"), tag_loop)

    def view() -> str:
        return ""

    results["views._call: ensure_sync asked vs not"] = compare(
        lambda: view(), lambda: app.ensure_sync(view)()
    )
    return results


def _request_cookie_of(request: Request) -> str | None:
    from miniflask.sessions import _request_cookie

    return _request_cookie(request, "session")


def _cli_import_kib() -> str:
    """Memory allocated by importing the lazily imported modules, in a fresh process."""
    code = (
        "import tracemalloc, miniflask, miniflask.cli; tracemalloc.start();"
        "import miniflask.cli.commands, miniflask.cli.flaskgroup, miniflask.cli.options,"
        " miniflask.cli.trace;"
        "print(tracemalloc.get_traced_memory()[0] // 1024)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return f"{run.stdout.strip()} KiB allocated by the four imports"


if __name__ == "__main__":
    print("CPU time per call, plain -> fast, median of 11 alternating rounds (noisy machine):")
    print(json.dumps(measure(), indent=2, ensure_ascii=False))
