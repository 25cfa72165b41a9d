"""The same app on real Flask 3.1 and on miniflask must answer every request the same.

How to read this file:

1. :func:`build_app` builds one app from a framework *module* (``flask`` or
   ``miniflask``): it only uses ``fw.Flask``, ``fw.request``, ``fw.abort`` ...,
   so the two apps are the same code.
2. :data:`CASES` is a table of requests: ``(method, path, client kwargs)``.
3. :func:`run_case` sends one request to the app built on one framework,
   and returns an :class:`Outcome`: status, the headers that matter, body,
   and the names of the hooks and signals that ran, in order.
4. :func:`test_same_answer` asserts ``run_case(flask) == run_case(miniflask)``.

A failure prints both outcomes side by side, so the difference is visible at
once. The apps run with ``TESTING`` off: an unhandled error must become a 500,
as in production, not propagate into the test.
"""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import functools
import importlib
import logging
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from types import ModuleType
from typing import Any, NamedTuple

import pytest
from markupsafe import Markup
from werkzeug.datastructures import Headers
from werkzeug.exceptions import HTTPException
from werkzeug.test import create_environ, run_wsgi_app
from werkzeug.wrappers import Response as WerkzeugResponse

flask = importlib.import_module("flask")
miniflask = importlib.import_module("miniflask")


class CustomError(Exception):
    """An application error with its own error handler."""


class SubCustomError(CustomError):
    """Handled by the handler of its parent class (the MRO is walked)."""


class BrokenHandlerError(Exception):
    """Its handler raises: the new error becomes a 500."""


class NoneHandlerError(Exception):
    """Its handler returns None: a TypeError, so a 500."""


@dataclasses.dataclass
class Point:
    x: int
    y: int


# 1. The app, written once for the Flask API.


def build_app(fw: ModuleType, config: dict[str, Any]) -> tuple[Any, list[str]]:
    """The app under comparison, built on ``fw``; returns it and its event log.

    Hooks append their names to the log; :func:`run_case` adds signals.
    """
    app = fw.Flask("side_by_side", static_folder=None)
    app.config.update(SECRET_KEY="side-by-side", MAX_CONTENT_LENGTH=64, **config)
    log: list[str] = []
    _add_hooks(fw, app, log)
    _add_return_value_views(fw, app)
    _add_routing_views(fw, app)
    _add_json_views(fw, app)
    _add_error_views_and_handlers(fw, app)
    _add_url_processors(fw, app)
    app.register_blueprint(_build_blueprints(fw, log))
    return app, log


def _exc_name(exc: BaseException | None) -> str:
    return type(exc).__name__ if exc is not None else "None"


def _add_hooks(fw: ModuleType, app: Any, log: list[str]) -> None:
    @app.before_request
    def before_first() -> Any:
        log.append("before_request:1")
        if fw.request.args.get("short"):
            return "short-circuited", 203
        if fw.request.args.get("abort_before"):
            fw.abort(403)
        if fw.request.args.get("raise_before"):
            raise CustomError("from before_request")
        return None

    @app.before_request
    def before_second() -> None:
        log.append("before_request:2")

    @app.after_request
    def after_first(response: Any) -> Any:
        log.append("after_request:1")
        response.headers["X-After"] = response.headers.get("X-After", "") + "1"
        return response

    @app.after_request
    def after_second(response: Any) -> Any:
        log.append("after_request:2")
        response.headers["X-After"] = response.headers.get("X-After", "") + "2"
        if fw.request.args.get("replace"):
            return fw.Response("replaced by after_request", status=202)
        if fw.request.args.get("raise_after"):
            raise RuntimeError("from after_request")
        return response

    @app.teardown_request
    def teardown(exc: BaseException | None) -> None:
        log.append(f"teardown_request:{_exc_name(exc)}")

    @app.teardown_appcontext
    def teardown_app(exc: BaseException | None) -> None:
        log.append(f"teardown_appcontext:{_exc_name(exc)}")


def _add_return_value_views(fw: ModuleType, app: Any) -> None:
    routes: dict[str, Callable[[], Any]] = {
        "/": lambda: "index",
        "/bytes": lambda: b"raw bytes",
        "/unicode": lambda: "h\u00e9llo \u2713",
        "/dict": lambda: {"b": 1, "a": [1, 2]},
        "/list": lambda: [1, "two", None],
        "/response": lambda: fw.Response("made", status=201, mimetype="text/plain"),
        "/stream": lambda: (chunk for chunk in ("one ", "two ", "three")),
        "/iterator": lambda: iter([b"a", b"b"]),
        "/tuple/status": lambda: ("created", 201),
        "/tuple/status-str": lambda: ("custom", "299 CUSTOM THING"),
        "/tuple/headers-dict": lambda: ("h", {"X-Extra": "1"}),
        "/tuple/headers-list": lambda: ("h", [("X-Extra", "1"), ("X-Extra", "2")]),
        "/tuple/all": lambda: ("all", 202, {"X-Extra": "1", "Content-Type": "text/plain"}),
        "/tuple/dict-status": lambda: ({"created": True}, 201),
        "/tuple/response-status": lambda: (fw.Response("r"), 418, {"X-Extra": "1"}),
        "/tuple/headers-object": lambda: ("h", 201, Headers([("X-Extra", "1")])),
        "/tuple/status-none": lambda: ("body", None, {"X-Extra": "1"}),
        "/tuple/list-status": lambda: ([1, 2], 201),
        "/tuple/dict-headers": lambda: ({"a": 1}, {"X-Extra": "1"}),
        "/tuple/stream-status": lambda: ((c for c in "abc"), 206, [("X-Extra", "1")]),
        "/tuple/unknown-status": lambda: ("odd", 299),
        "/tuple/bad-length": lambda: ("a", 200, {}, "extra"),
        "/bytearray": lambda: bytearray(b"mutable"),
        "/markup": lambda: Markup("<b>safe</b>"),
        "/werkzeug-response": lambda: WerkzeugResponse("plain werkzeug", mimetype="text/csv"),
        "/not-serialisable": lambda: {"when": object()},
        "/none": lambda: None,
        "/unsupported": lambda: 42,
        "/wsgi": lambda: _wsgi_app,
        "/make-response": lambda: _make_response_view(fw),
        "/redirect": lambda: fw.redirect(fw.url_for("index", q="1")),
        "/cookie": lambda: _cookie_view(fw),
    }
    for path, view in routes.items():
        app.add_url_rule(
            path, endpoint=path.strip("/").replace("/", "_") or "index", view_func=view
        )


def _wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/x-wsgi")])
    return [b"from a WSGI callable"]


def _make_response_view(fw: ModuleType) -> Any:
    response = fw.make_response("made by make_response", 201)
    response.headers["X-Made"] = "yes"
    return response


def _cookie_view(fw: ModuleType) -> Any:
    fw.session["user"] = "ada"
    response = fw.make_response("cookies")
    response.set_cookie("flavour", "oat")
    return response


def _add_routing_views(fw: ModuleType, app: Any) -> None:
    @app.route("/items/<int:item_id>", methods=["GET", "PUT"])
    def item(item_id: int) -> Any:
        return {
            "id": item_id,
            "endpoint": fw.request.endpoint,
            "view_args": fw.request.view_args,
            "rule": fw.request.url_rule.rule,
            "method": fw.request.method,
        }

    @app.post("/items")
    def create_item() -> Any:
        return "created", 201

    @app.route("/slash/", methods=["GET", "POST"])
    def with_slash() -> str:
        return "slash"

    @app.get("/defaults/", defaults={"page": 1})
    @app.get("/defaults/<int:page>")
    def with_defaults(page: int) -> str:
        return f"page {page}"

    @app.post("/no-auto-options", provide_automatic_options=False)
    def no_auto_options() -> str:
        return "posted"

    @app.get("/old", redirect_to="/items/1")
    def old() -> str:
        return "never called"

    @app.get("/build-error")
    def build_error() -> str:
        return fw.url_for("no_such_endpoint")

    @app.route("/path/<path:rest>")
    def path_converter(rest: str) -> str:
        return rest

    @app.route("/manual-options", methods=["GET", "OPTIONS"])
    def manual_options() -> Any:
        return f"handled {fw.request.method} myself"

    @app.get("/urls")
    def urls() -> Any:
        return {
            "plain": fw.url_for("item", item_id=3),
            "query": fw.url_for("item", item_id=3, page=2, tags=["a", "b"]),
            "external": fw.url_for("item", item_id=3, _external=True),
            "scheme": fw.url_for("item", item_id=3, _scheme="https", _external=True),
            "anchor": fw.url_for("index", _anchor="a b/c?"),
            "method": fw.url_for("create_item", _method="POST"),
            "blueprint": fw.url_for("parent.child.leaf"),
        }

    @app.get("/this-request")
    def this_request() -> str:
        @fw.after_this_request
        def add_header(response: Any) -> Any:
            response.headers["X-This-Request"] = "yes"
            return response

        return "after this request"


def _add_json_views(fw: ModuleType, app: Any) -> None:
    @app.post("/echo")
    def echo() -> Any:
        return {"got": fw.request.get_json()}

    @app.post("/echo-silent")
    def echo_silent() -> Any:
        return {"got": fw.request.get_json(silent=True)}

    @app.post("/form")
    def form() -> Any:
        return dict(fw.request.form)

    @app.route("/missing-key", methods=["GET", "POST"])
    def missing_key() -> Any:
        source = fw.request.form if fw.request.method == "POST" else fw.request.args
        return source["name"]

    jsonify_cases: dict[str, Callable[[], Any]] = {
        "one": lambda: fw.jsonify({"a": 1}),
        "args": lambda: fw.jsonify(1, 2, 3),
        "kwargs": lambda: fw.jsonify(b=2, a=1),
        "empty": lambda: fw.jsonify(),
        "string": lambda: fw.jsonify("text"),
        "types": lambda: fw.jsonify(
            date=datetime.date(2024, 2, 29),
            datetime=datetime.datetime(2024, 2, 29, 13, 45, 1, tzinfo=datetime.UTC),
            naive=datetime.datetime(2024, 2, 29, 13, 45, 1),
            decimal=decimal.Decimal("10.50"),
            uuid=uuid.UUID("12345678-1234-5678-1234-567812345678"),
            dataclass=Point(1, 2),
            markup=Markup("<b>bold</b>"),
            unicode="\u00e9\u2713",
        ),
    }
    for name, view in jsonify_cases.items():
        app.add_url_rule(f"/jsonify/{name}", endpoint=f"jsonify_{name}", view_func=view)


def _add_error_views_and_handlers(fw: ModuleType, app: Any) -> None:
    @app.route("/abort/<int:code>")
    def abort_code(code: int) -> Any:
        fw.abort(code)

    @app.route("/abort-response")
    def abort_response() -> Any:
        fw.abort(fw.Response("aborted with a response", status=409))

    @app.route("/abort-description")
    def abort_description() -> Any:
        fw.abort(400, description="Missing the 'name' field.")

    errors: dict[str, Callable[[], Exception]] = {
        "custom": lambda: CustomError("custom"),
        "subcustom": lambda: SubCustomError("sub"),
        "keyerror": lambda: KeyError("k"),
        "runtime": lambda: RuntimeError("boom"),
    }

    @app.route("/raise/<kind>")
    def raise_error(kind: str) -> Any:
        raise errors[kind]()

    @app.errorhandler(404)
    def not_found(e: HTTPException) -> Any:
        return f"app 404 handler: {fw.request.path}", 404

    @app.errorhandler(CustomError)
    def custom(e: CustomError) -> Any:
        return f"{type(e).__name__} handled by CustomError handler", 400

    def lookup(e: LookupError) -> Any:
        return {"handled": type(e).__name__, "by": "LookupError"}, 422

    app.register_error_handler(LookupError, lookup)

    @app.route("/raise/handler-fails")
    def raise_handler_fails() -> Any:
        raise BrokenHandlerError()

    @app.errorhandler(BrokenHandlerError)
    def broken_handler(e: BrokenHandlerError) -> Any:
        raise RuntimeError("the error handler failed")

    @app.route("/raise/handler-returns-none")
    def raise_handler_returns_none() -> Any:
        raise NoneHandlerError()

    @app.errorhandler(NoneHandlerError)
    def none_handler(e: NoneHandlerError) -> None:
        return None

    @app.errorhandler(410)
    def gone_returns_the_error(e: HTTPException) -> Any:
        return e

    @app.errorhandler(500)
    def server_error(e: Any) -> Any:
        original = getattr(e, "original_exception", None)
        return f"500 handler: {type(e).__name__} from {_exc_name(original)}", 500


def _add_url_processors(fw: ModuleType, app: Any) -> None:
    """The language-code example of Flask's docs: a URL value kept on ``g``."""

    @app.url_value_preprocessor
    def pull_lang(endpoint: str | None, values: dict[str, Any] | None) -> None:
        if values is not None and "lang" in values:
            fw.g.lang = values.pop("lang")

    @app.url_defaults
    def add_lang(endpoint: str, values: dict[str, Any]) -> None:
        if "lang" in values or "lang" not in fw.g:
            return
        if app.url_map.is_endpoint_expecting(endpoint, "lang"):
            values["lang"] = fw.g.lang

    @app.get("/<lang>/about")
    def about() -> Any:
        return {
            "lang": fw.g.lang,
            "self": fw.url_for("about"),
            "other": fw.url_for("about", lang="fr"),
        }


def _build_blueprints(fw: ModuleType, log: list[str]) -> Any:
    parent = fw.Blueprint("parent", __name__, url_prefix="/parent")
    child = fw.Blueprint("child", __name__, url_prefix="/child")

    for name, bp in (("parent", parent), ("child", child)):
        _add_blueprint_hooks(fw, bp, name, log)

        @bp.get("/raise-value")
        def raise_value() -> Any:
            raise ValueError("from a blueprint view")

        @bp.errorhandler(ValueError)
        def value_error(e: ValueError, name: str = name) -> Any:
            return f"{name} ValueError handler", 400

    @parent.get("/")
    def home() -> Any:
        return {"blueprint": fw.request.blueprint, "blueprints": fw.request.blueprints}

    @parent.errorhandler(404)
    def parent_not_found(e: HTTPException) -> Any:
        return "parent 404 handler", 404

    @parent.get("/abort-404")
    def parent_abort() -> Any:
        fw.abort(404)

    @child.get("/leaf")
    def leaf() -> Any:
        return {
            "endpoint": fw.request.endpoint,
            "blueprint": fw.request.blueprint,
            "blueprints": fw.request.blueprints,
            "relative": fw.url_for(".leaf"),
            "parent": fw.url_for("parent.home"),
            "app": fw.url_for("index"),
        }

    @child.get("/abort-404")
    def child_abort() -> Any:
        fw.abort(404)

    @child.errorhandler(HTTPException)
    def child_http_error(e: HTTPException) -> Any:
        return {"child handled": e.code}, e.code

    parent.register_blueprint(child)
    return parent


def _add_blueprint_hooks(fw: ModuleType, bp: Any, name: str, log: list[str]) -> None:
    @bp.before_request
    def before() -> None:
        log.append(f"{name}.before_request")

    @bp.after_request
    def after(response: Any) -> Any:
        log.append(f"{name}.after_request")
        return response

    @bp.teardown_request
    def teardown(exc: BaseException | None) -> None:
        log.append(f"{name}.teardown_request:{_exc_name(exc)}")


# 2. The requests both apps answer.


class Case(NamedTuple):
    method: str
    path: str
    kwargs: dict[str, Any] = {}

    def __str__(self) -> str:
        return f"{self.method} {self.path}" + (" +body" if self.kwargs else "")


BIG = "x" * 100  # over MAX_CONTENT_LENGTH (64)

CASES = [
    # Return values.
    Case("GET", "/"),
    Case("GET", "/bytes"),
    Case("GET", "/unicode"),
    Case("GET", "/dict"),
    Case("GET", "/list"),
    Case("GET", "/response"),
    Case("GET", "/stream"),
    Case("GET", "/iterator"),
    Case("GET", "/tuple/status"),
    Case("GET", "/tuple/status-str"),
    Case("GET", "/tuple/headers-dict"),
    Case("GET", "/tuple/headers-list"),
    Case("GET", "/tuple/all"),
    Case("GET", "/tuple/dict-status"),
    Case("GET", "/tuple/response-status"),
    Case("GET", "/tuple/headers-object"),
    Case("GET", "/tuple/status-none"),
    Case("GET", "/tuple/list-status"),
    Case("GET", "/tuple/dict-headers"),
    Case("GET", "/tuple/stream-status"),
    Case("GET", "/tuple/unknown-status"),
    Case("GET", "/tuple/bad-length"),
    Case("GET", "/bytearray"),
    Case("GET", "/markup"),
    Case("GET", "/werkzeug-response"),
    Case("GET", "/not-serialisable"),
    Case("GET", "/none"),
    Case("GET", "/unsupported"),
    Case("GET", "/wsgi"),
    Case("GET", "/make-response"),
    Case("GET", "/redirect"),
    Case("GET", "/cookie"),
    Case("GET", "/this-request"),
    # Routing: converters, 404, 405, strict slashes, HEAD, OPTIONS.
    Case("GET", "/items/7"),
    Case("PUT", "/items/7"),
    Case("GET", "/items/seven"),
    Case("DELETE", "/items/7"),
    Case("POST", "/items"),
    Case("GET", "/items"),
    Case("GET", "/slash"),
    Case("GET", "/slash?keep=1"),
    Case("POST", "/slash"),
    Case("POST", "/slash", {"data": {"a": "1"}}),
    Case("GET", "/items/7/"),
    Case("GET", "//items//7"),
    Case("GET", "/defaults/"),
    Case("GET", "/defaults/1"),
    Case("GET", "/defaults/2"),
    Case("GET", "/old"),
    Case("GET", "/build-error"),
    Case("OPTIONS", "/no-auto-options"),
    Case("POST", "/no-auto-options"),
    Case("HEAD", "/no-auto-options"),
    Case("HEAD", "/stream"),
    Case("GET", "/path/a/b/c.txt"),
    Case("GET", "/nowhere"),
    Case("HEAD", "/"),
    Case("HEAD", "/items/7"),
    Case("OPTIONS", "/"),
    Case("OPTIONS", "/items/7"),
    Case("OPTIONS", "/manual-options"),
    Case("OPTIONS", "/nowhere"),
    Case("GET", "/urls"),
    Case("GET", "/urls", {"base_url": "https://example.org:8443/"}),
    # Hooks: short-circuit, abort in before_request, after_request replacing.
    Case("GET", "/?short=1"),
    Case("GET", "/?abort_before=1"),
    Case("GET", "/?replace=1"),
    Case("GET", "/nowhere?short=1"),
    Case("GET", "/?raise_before=1"),
    Case("GET", "/?raise_after=1"),
    Case("GET", "/nowhere?raise_after=1"),
    Case("POST", "/items", {"data": BIG}),
    # URL processors.
    Case("GET", "/en/about"),
    # JSON in and out.
    Case("POST", "/echo", {"json": {"a": [1, 2, {"b": None}]}}),
    Case("POST", "/echo", {"data": "{not json", "content_type": "application/json"}),
    Case("POST", "/echo", {"data": '{"a": 1}', "content_type": "text/plain"}),
    Case("POST", "/echo", {"data": "", "content_type": "application/json"}),
    Case("POST", "/echo", {"data": '{"a": 1}', "content_type": "application/vnd.api+json"}),
    Case("POST", "/echo-silent", {"data": "{not json", "content_type": "application/json"}),
    Case("POST", "/echo-silent", {"data": "[1]", "content_type": "text/plain"}),
    Case("POST", "/echo", {"json": {"big": BIG}}),
    Case("POST", "/echo", {"data": '"x"', "content_type": "application/json; charset=utf-8"}),
    Case("POST", "/echo", {"data": b"\xff\xfe", "content_type": "application/json"}),
    Case("POST", "/form", {"data": {"name": "ada"}}),
    Case("POST", "/form", {"data": {"big": BIG}}),
    Case("GET", "/missing-key"),
    Case("POST", "/missing-key", {"data": {"other": "1"}}),
    Case("GET", "/jsonify/one"),
    Case("GET", "/jsonify/args"),
    Case("GET", "/jsonify/kwargs"),
    Case("GET", "/jsonify/empty"),
    Case("GET", "/jsonify/string"),
    Case("GET", "/jsonify/types"),
    # Errors: abort, handlers by code and by class, 500s.
    Case("GET", "/abort/400"),
    Case("GET", "/abort/401"),
    Case("GET", "/abort/404"),
    Case("GET", "/abort/418"),
    Case("GET", "/abort/500"),
    Case("GET", "/abort/503"),
    Case("GET", "/abort-response"),
    Case("GET", "/abort-description"),
    Case("GET", "/raise/custom"),
    Case("GET", "/raise/subcustom"),
    Case("GET", "/raise/keyerror"),
    Case("GET", "/raise/runtime"),
    Case("GET", "/raise/handler-fails"),
    Case("GET", "/raise/handler-returns-none"),
    Case("GET", "/abort/410"),
    # Blueprints: nesting, scoped hooks and handlers, url_for(".x").
    Case("GET", "/parent/"),
    Case("GET", "/parent"),
    Case("GET", "/parent/child/leaf"),
    Case("GET", "/parent/raise-value"),
    Case("GET", "/parent/child/raise-value"),
    Case("GET", "/parent/abort-404"),
    Case("GET", "/parent/child/abort-404"),
    Case("GET", "/parent/no-such-page"),
    Case("POST", "/parent/child/leaf"),
    Case("GET", "/parent/child/leaf?short=1"),
]


# 3. One request on one framework, reduced to what must be equal.


class Outcome(NamedTuple):
    status: str | None
    headers: list[tuple[str, str]]
    cookie_names: list[str]
    body: bytes
    events: list[str]
    #: The exception that came out of the test client (debug and testing
    #: modes let unhandled errors propagate), by class name.
    raised: str | None = None


#: The configurations each case runs in: production-like, debug, testing.
CONFIGS: dict[str, dict[str, Any]] = {
    "production": {},
    "debug": {"DEBUG": True},
    "testing": {"TESTING": True},
}


#: The signals recorded, with what each receiver writes to the log.
SIGNALS: dict[str, Callable[[dict[str, Any]], str]] = {
    "appcontext_pushed": lambda kwargs: "",
    "request_started": lambda kwargs: "",
    "got_request_exception": lambda kwargs: _exc_name(kwargs["exception"]),
    "request_finished": lambda kwargs: str(kwargs["response"].status_code),
    "request_tearing_down": lambda kwargs: _exc_name(kwargs["exc"]),
    "appcontext_tearing_down": lambda kwargs: _exc_name(kwargs["exc"]),
    "appcontext_popped": lambda kwargs: "",
}

#: Headers compared; Set-Cookie is compared by cookie name (values hold timestamps).
COMPARED_HEADERS = {
    "content-type",
    "content-length",
    "location",
    "allow",
    "vary",
    "x-after",
    "x-extra",
    "x-made",
    "x-this-request",
}


@functools.cache
def built_app(fw: ModuleType, config_name: str) -> tuple[Any, list[str]]:
    """One app per framework and configuration for the whole table (building
    hundreds of apps would be slow)."""
    return build_app(fw, CONFIGS[config_name])


def run_case(fw: ModuleType, case: Case, config_name: str = "production") -> Outcome:
    """Send ``case`` to the app built on ``fw``, and record what happened."""
    app, log = built_app(fw, config_name)
    log.clear()
    with ExitStack() as stack:
        for name, describe in SIGNALS.items():
            stack.enter_context(getattr(fw, name).connected_to(_recorder(log, name, describe), app))
        try:
            response = app.test_client().open(case.path, method=case.method, **case.kwargs)
        except Exception as e:
            return Outcome(None, [], [], b"", log, raised=type(e).__name__)
        body = response.get_data()
    headers = [
        (key, _normalise(key, value))
        for key, value in response.headers.items()
        if key.lower() in COMPARED_HEADERS
    ]
    cookie_names = sorted(v.split("=", 1)[0] for v in response.headers.getlist("Set-Cookie"))
    return Outcome(response.status, sorted(headers), cookie_names, body, log)


def _normalise(key: str, value: str) -> str:
    # Allow lists the methods of a rule, which both frameworks keep in a set:
    # the order is arbitrary, the set is what must match.
    if key.lower() == "allow":
        return ", ".join(sorted(value.split(", ")))
    return value


def _recorder(log: list[str], name: str, describe: Callable[[dict[str, Any]], str]) -> Any:
    def receiver(sender: Any, **kwargs: Any) -> None:
        detail = describe(kwargs)
        log.append(f"signal:{name}" + (f":{detail}" if detail else ""))

    return receiver


# 4. The comparison.


@pytest.fixture(autouse=True)
def _quiet_error_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    # The 500 cases log tracebacks on purpose; keep them out of the report.
    with caplog.at_level(logging.CRITICAL):
        yield


@pytest.mark.parametrize("config_name", CONFIGS)
@pytest.mark.parametrize("case", CASES, ids=str)
def test_same_answer(case: Case, config_name: str) -> None:
    assert run_case(miniflask, case, config_name) == run_case(flask, case, config_name)


@pytest.mark.parametrize("fw", [flask, miniflask], ids=["flask", "miniflask"])
def test_event_order_of_a_nested_blueprint_request_is_spelled_out(fw: ModuleType) -> None:
    """The table compares logs; this states one log in full, so a reader sees the order."""
    assert run_case(fw, Case("GET", "/parent/child/leaf")).events == [
        "signal:appcontext_pushed",
        "signal:request_started",
        "before_request:1",
        "before_request:2",
        "parent.before_request",
        "child.before_request",
        "child.after_request",
        "parent.after_request",
        "after_request:2",
        "after_request:1",
        "signal:request_finished:200",
        "child.teardown_request:None",
        "parent.teardown_request:None",
        "teardown_request:None",
        "signal:request_tearing_down:None",
        "teardown_appcontext:None",
        "signal:appcontext_tearing_down:None",
        "signal:appcontext_popped",
    ]


@pytest.mark.parametrize("fw", [flask, miniflask], ids=["flask", "miniflask"])
def test_event_order_of_an_unhandled_error_is_spelled_out(fw: ModuleType) -> None:
    assert run_case(fw, Case("GET", "/raise/runtime")).events == [
        "signal:appcontext_pushed",
        "signal:request_started",
        "before_request:1",
        "before_request:2",
        "signal:got_request_exception:RuntimeError",
        "after_request:2",
        "after_request:1",
        "signal:request_finished:500",
        "teardown_request:RuntimeError",
        "signal:request_tearing_down:RuntimeError",
        "teardown_appcontext:RuntimeError",
        "signal:appcontext_tearing_down:RuntimeError",
        "signal:appcontext_popped",
    ]


# 5. Raw WSGI environs: what a server may send but the test client never does.
#    These pin down how the URL map is bound to a request (host, script root,
#    path, query string), which ``Flask.create_url_adapter`` does.

ENVIRON_CASES: dict[str, tuple[str, dict[str, str]]] = {
    "empty PATH_INFO": ("/", {"PATH_INFO": ""}),
    "empty PATH_INFO under a mount": ("/", {"PATH_INFO": "", "SCRIPT_NAME": "/app"}),
    "mounted redirect": ("/slash", {"SCRIPT_NAME": "/app"}),
    "mounted url_for": ("/urls", {"SCRIPT_NAME": "/app/"}),
    "non-ASCII SCRIPT_NAME": ("/urls", {"SCRIPT_NAME": "/r\xc3\xbcck"}),
    "non-ASCII path": ("/path/\xc3\xbc", {}),
    "encoded slash in path": ("/path/a%2Fb", {}),
    "doubled slashes": ("/", {"PATH_INFO": "//path//a"}),
    "latin-1 query on redirect": ("/slash", {"QUERY_STRING": "q=\xc3\xbc&x"}),
    "invalid UTF-8 query on redirect": ("/slash", {"QUERY_STRING": "q=\xff"}),
    "mixed-case host with default port": ("/urls", {"HTTP_HOST": "ExAmPle.TEST:80"}),
    "host with a port": ("/urls", {"HTTP_HOST": "example.test:8080"}),
    "https on 443": ("/urls", {"HTTP_HOST": "example.test:443", "wsgi.url_scheme": "https"}),
    "no Host header": ("/urls", {"HTTP_HOST": ""}),
    "lower-case method": ("/items/1", {"REQUEST_METHOD": "get"}),
}


def run_environ(fw: ModuleType, path: str, overrides: dict[str, str]) -> tuple[Any, ...]:
    app, _ = built_app(fw, "production")
    environ = create_environ(path)
    environ.update(overrides)
    if overrides.get("HTTP_HOST") == "":
        del environ["HTTP_HOST"]
    body, status, headers = run_wsgi_app(app, environ, buffered=True)
    return status, headers.get("Location"), b"".join(body)


@pytest.mark.parametrize(("path", "overrides"), ENVIRON_CASES.values(), ids=ENVIRON_CASES)
def test_same_answer_to_raw_environ(path: str, overrides: dict[str, str]) -> None:
    assert run_environ(miniflask, path, overrides) == run_environ(flask, path, overrides)


# 6. URL-map settings the table's app does not use: each scenario builds its
#    own small app on ``fw`` and returns what must be equal.


def host_matching(fw: ModuleType) -> list[Any]:
    app = fw.Flask("hosts", host_matching=True, static_host="static.test")
    app.add_url_rule(
        "/", "a", lambda: f"a {fw.url_for('b', user='x', _external=False)}", host="a.test"
    )
    app.add_url_rule("/", "b", lambda user: f"b {user}", host="<user>.b.test")
    client = app.test_client()
    urls = [
        "http://a.test/",
        "http://ada.b.test/",
        "http://other.test/",
        "http://static.test/static/x",
    ]
    return [_status_and_body(client.get(url)) for url in urls]


def subdomain_matching(fw: ModuleType) -> list[Any]:
    app = fw.Flask("subdomains", subdomain_matching=True, static_folder=None)
    app.config["SERVER_NAME"] = "example.test"
    app.add_url_rule("/", "root", lambda: fw.url_for("user", user="bob"))
    app.add_url_rule("/", "user", lambda user: f"user {user}", subdomain="<user>")
    client = app.test_client()
    urls = ["http://example.test/", "http://ada.example.test/", "http://other.test/"]
    with warnings.catch_warnings():
        # Werkzeug warns that other.test does not match SERVER_NAME.
        warnings.simplefilter("ignore")
        return [_status_and_body(client.get(url)) for url in urls]


def server_name_without_subdomain_matching(fw: ModuleType) -> list[Any]:
    app = fw.Flask("server_name", static_folder=None)
    app.config["SERVER_NAME"] = "example.test"
    app.add_url_rule("/", "root", lambda: fw.url_for("root", _external=True))
    client = app.test_client()
    urls = ["http://example.test/", "http://other.test/", "http://sub.example.test/"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [_status_and_body(client.get(url)) for url in urls]


def trusted_hosts(fw: ModuleType) -> list[Any]:
    app = fw.Flask("trusted", static_folder=None)
    app.config["TRUSTED_HOSTS"] = ["good.test", ".good.test"]
    app.add_url_rule("/", "root", lambda: fw.request.host)
    client = app.test_client()
    urls = ["http://good.test/", "http://api.good.test/", "http://evil.test/"]
    return [_status_and_body(client.get(url)) for url in urls]


def route_added_after_a_test_request_context(fw: ModuleType) -> list[Any]:
    app = fw.Flask("late_route", static_folder=None)
    with app.test_request_context("/late"):
        pass  # matched "/late" before the route existed
    app.add_url_rule("/late", "late", lambda: "late")
    app.url_map.add(fw.Flask.url_rule_class("/later", endpoint="late"))
    client = app.test_client()
    return [_status_and_body(client.get(url)) for url in ("/late", "/later", "/missing")]


def teardowns_inside_with_client(fw: ModuleType) -> list[str]:
    app = fw.Flask("teardowns", static_folder=None)
    events: list[str] = []
    app.teardown_request(lambda exc: events.append("request"))
    app.teardown_appcontext(lambda exc: events.append("app"))
    app.add_url_rule("/", "index", lambda: "ok")
    with app.test_client() as client:
        client.get("/")
        client.get("/")
        events.append("last request kept")
    return events


def _status_and_body(response: Any) -> tuple[int, bytes]:
    return response.status_code, response.get_data()


@pytest.mark.parametrize(
    "scenario",
    [
        host_matching,
        subdomain_matching,
        server_name_without_subdomain_matching,
        trusted_hosts,
        route_added_after_a_test_request_context,
        teardowns_inside_with_client,
    ],
)
def test_same_answer_in_scenario(scenario: Callable[[ModuleType], Any]) -> None:
    assert scenario(miniflask) == scenario(flask)
