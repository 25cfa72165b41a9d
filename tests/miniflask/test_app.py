"""Tests for ``miniflask/app.py``: the app object and the life of a request.

Sections follow the file: the WSGI app and ``run``; routing; URL building;
what a view may return; hooks and signals; errors; request bodies; what a
view sees of the request. The ``app`` fixture is in testing mode, so an
unhandled exception propagates into the test; tests of the 500 path turn
``TESTING`` off.

Where a test takes ``fw``, it runs on real Flask as well: it states Flask's
behaviour, and miniflask must match it.
"""

from __future__ import annotations

import gc
import logging
import weakref
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest
import werkzeug.serving
from werkzeug.datastructures import Headers
from werkzeug.exceptions import (
    BadRequest,
    Forbidden,
    HTTPException,
    InternalServerError,
    NotFound,
)
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import BaseConverter, BuildError
from werkzeug.test import create_environ

from miniflask import (
    Blueprint,
    Flask,
    Response,
    abort,
    after_this_request,
    g,
    got_request_exception,
    make_response,
    render_template_string,
    request,
    url_for,
)

# The WSGI application object.


def test_app_is_a_wsgi_callable(app: Flask) -> None:
    app.add_url_rule("/", view_func=lambda: "hello", endpoint="index")
    seen: list[Any] = []

    body = app(create_environ("/"), lambda status, headers: seen.extend([status, headers]))

    assert b"".join(body) == b"hello"
    assert seen[0] == "200 OK"
    assert ("Content-Type", "text/html; charset=utf-8") in seen[1]


def test_a_discarded_app_is_freed_without_the_garbage_collector(fw: ModuleType) -> None:
    app = fw.Flask("discarded")
    assert app.view_functions["static"] and app.json
    app_ref = weakref.ref(app)
    gc.disable()  # only reference counting may free it: no cycle through the app
    try:
        del app
        assert app_ref() is None
    finally:
        gc.enable()


def test_wsgi_app_wrapped_in_middleware_keeps_working(app: Flask, client: Any) -> None:
    @app.get("/")
    def index() -> dict[str, str]:
        return {
            "remote_addr": request.remote_addr or "",
            "scheme": request.scheme,
            "url": url_for("index", _external=True),
        }

    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]

    response = client.get(
        "/", headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    )

    assert response.json == {
        "remote_addr": "203.0.113.7",
        "scheme": "https",
        "url": "https://localhost/",
    }
    # The app object itself is untouched: only its WSGI entry point is wrapped.
    assert app.view_functions["index"] is index


@pytest.fixture
def run_simple_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Replace Werkzeug's server with a recorder: ``app.run`` starts nothing."""
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        werkzeug.serving, "run_simple", lambda *args, **kwargs: calls.append((args, kwargs))
    )
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    monkeypatch.setenv("FLASK_SKIP_DOTENV", "1")  # no .env of the developer's
    return calls


def test_run_calls_run_simple_with_defaults(app: Flask, run_simple_calls: list[Any]) -> None:
    app.run()

    assert run_simple_calls == [
        (
            ("127.0.0.1", 5000, app),
            {"use_reloader": False, "use_debugger": False, "threaded": True},
        )
    ]


def test_run_passes_host_port_and_options(app: Flask, run_simple_calls: list[Any]) -> None:
    app.run(host="0.0.0.0", port=8080, threaded=False, ssl_context="adhoc")

    args, kwargs = run_simple_calls[0]
    assert args == ("0.0.0.0", 8080, app)
    assert kwargs == {
        "use_reloader": False,
        "use_debugger": False,
        "threaded": False,
        "ssl_context": "adhoc",
    }


def test_run_with_debug_turns_on_reloader_and_debugger(
    app: Flask, run_simple_calls: list[Any]
) -> None:
    app.run(debug=True)

    assert app.debug is True
    assert run_simple_calls[0][1]["use_reloader"] is True
    assert run_simple_calls[0][1]["use_debugger"] is True


def test_run_takes_host_and_port_from_server_name(app: Flask, run_simple_calls: list[Any]) -> None:
    app.config["SERVER_NAME"] = "example.test:8443"

    app.run()

    assert run_simple_calls[0][0][:2] == ("example.test", 8443)


def test_run_passes_port_zero_through_to_pick_a_free_port(
    app: Flask, run_simple_calls: list[Any]
) -> None:
    app.config["SERVER_NAME"] = "example.test:8443"

    app.run(port=0)

    assert run_simple_calls[0][0][:2] == ("example.test", 0)


def test_run_does_nothing_when_started_by_the_cli(
    app: Flask,
    run_simple_calls: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")

    app.run()

    assert run_simple_calls == []
    assert "Ignoring a call to 'app.run()'" in capsys.readouterr().out


# Routing.


def test_route_default_endpoint_is_the_function_name(app: Flask, client: Any) -> None:
    @app.route("/hello")
    def say_hello() -> str:
        return "hi"

    assert app.view_functions["say_hello"] is say_hello
    assert app.url_map.bind("localhost").build("say_hello") == "/hello"
    assert client.get("/hello").data == b"hi"


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_method_shortcut_registers_only_that_method(app: Flask, client: Any, method: str) -> None:
    getattr(app, method)("/thing")(lambda: f"{request.method} thing")
    rule = next(app.url_map.iter_rules("<lambda>"))

    assert rule.methods is not None
    assert rule.methods - {"HEAD", "OPTIONS"} == {method.upper()}
    assert client.open("/thing", method=method.upper()).data == f"{method.upper()} thing".encode()


def test_method_shortcut_with_methods_argument_raises_type_error(app: Flask) -> None:
    with pytest.raises(TypeError, match="'route' decorator"):
        app.post("/thing", methods=["PUT"])


def test_add_url_rule_with_explicit_endpoint(app: Flask, client: Any) -> None:
    app.add_url_rule("/about", "about_page", lambda: "about")

    assert "about_page" in app.view_functions
    assert client.get("/about").data == b"about"


def test_add_url_rule_without_view_then_endpoint_decorator(app: Flask, client: Any) -> None:
    app.add_url_rule("/late", endpoint="late")

    @app.endpoint("late")
    def late_view() -> str:
        return "bound later"

    assert client.get("/late").data == b"bound later"


def test_endpoint_taken_by_another_function_raises_assertion_error(app: Flask) -> None:
    @app.route("/a")
    def view() -> str:
        return "a"

    def other() -> str:
        return "b"

    with pytest.raises(AssertionError, match="overwriting an existing endpoint function: view"):
        app.add_url_rule("/b", "view", other)


def test_same_function_may_be_routed_twice(app: Flask, client: Any) -> None:
    def page(name: str = "index") -> str:
        return name

    app.add_url_rule("/", view_func=page)
    app.add_url_rule("/<name>", view_func=page)

    assert client.get("/").data == b"index"
    assert client.get("/about").data == b"about"


def test_methods_given_as_a_string_raises_type_error(app: Flask) -> None:
    with pytest.raises(TypeError, match="list of strings"):
        app.add_url_rule("/", "index", lambda: "", methods="POST")


def test_methods_are_upper_cased(app: Flask, client: Any) -> None:
    app.add_url_rule("/", "index", lambda: "posted", methods=["post"])

    assert client.post("/").data == b"posted"


def test_view_methods_attribute_gives_default_methods(app: Flask, client: Any) -> None:
    def view() -> str:
        return request.method

    view.methods = ["PUT"]  # type: ignore[attr-defined]
    app.add_url_rule("/", view_func=view)

    assert client.put("/").data == b"PUT"
    assert client.get("/").status_code == 405


def test_builtin_converters_convert_url_values(app: Flask, client: Any) -> None:
    @app.get("/<int:number>/<float:ratio>/<uuid:ident>/<any(a, b):letter>/<path:rest>")
    def convert(**values: Any) -> dict[str, str]:
        return {name: f"{type(value).__name__}:{value}" for name, value in values.items()}

    url = "/42/0.5/12345678-1234-5678-1234-567812345678/b/x/y.txt"
    assert client.get(url).json == {
        "number": "int:42",
        "ratio": "float:0.5",
        "ident": "UUID:12345678-1234-5678-1234-567812345678",
        "letter": "str:b",
        "rest": "str:x/y.txt",
    }
    assert client.get("/forty/0.5/x/b/y").status_code == 404


class ListConverter(BaseConverter):
    """``<list:names>`` matches ``a,b,c`` and gives ``["a", "b", "c"]``."""

    def to_python(self, value: str) -> list[str]:
        return value.split(",")

    def to_url(self, value: list[str]) -> str:
        return ",".join(BaseConverter.to_url(self, item) for item in value)


def test_custom_converter_parses_and_builds_urls(app: Flask, client: Any) -> None:
    app.url_map.converters["list"] = ListConverter

    @app.get("/tags/<list:names>")
    def tags(names: list[str]) -> dict[str, Any]:
        return {"names": names, "url": url_for("tags", names=["x y", "z"])}

    assert client.get("/tags/a,b,c").json == {"names": ["a", "b", "c"], "url": "/tags/x%20y,z"}


def test_head_is_answered_for_get_routes_without_a_body(app: Flask, client: Any) -> None:
    app.add_url_rule("/", "index", lambda: "hello")

    response = client.head("/")

    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Length"] == "5"


def test_options_is_answered_automatically_with_allow_header(app: Flask, client: Any) -> None:
    called: list[str] = []
    app.add_url_rule("/", "index", lambda: called.append("view") or "x", methods=["GET", "POST"])

    response = client.options("/")

    assert response.status_code == 200
    assert response.data == b""
    assert set(response.allow) == {"GET", "HEAD", "OPTIONS", "POST"}
    assert called == []


def test_provide_automatic_options_false_makes_options_a_405(app: Flask, client: Any) -> None:
    app.add_url_rule("/", "index", lambda: "x", provide_automatic_options=False)

    assert client.options("/").status_code == 405


def test_view_attribute_provide_automatic_options_false_is_honoured(
    app: Flask, client: Any
) -> None:
    def view() -> str:
        return f"view saw {request.method}"

    view.provide_automatic_options = False  # type: ignore[attr-defined]
    app.add_url_rule("/", view_func=view, methods=["GET", "OPTIONS"])

    assert client.options("/").data == b"view saw OPTIONS"


def test_provide_automatic_options_config_off_disables_options(app: Flask, client: Any) -> None:
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.add_url_rule("/", "index", lambda: "x")

    assert client.options("/").status_code == 405


def test_wrong_method_gives_405_listing_allowed_methods(app: Flask, client: Any) -> None:
    app.add_url_rule("/", "index", lambda: "x", methods=["POST"])

    response = client.get("/")

    assert response.status_code == 405
    assert set(response.allow) == {"POST", "OPTIONS"}


def test_missing_trailing_slash_redirects_with_308(app: Flask, client: Any) -> None:
    app.add_url_rule("/docs/", "docs", lambda: "docs")

    response = client.get("/docs?page=2")

    assert response.status_code == 308
    assert response.location == "http://localhost/docs/?page=2"


def test_unknown_url_gives_404(app: Flask, client: Any) -> None:
    assert client.get("/nowhere").status_code == 404


# URL building.


@pytest.fixture
def url_app(app: Flask) -> Flask:
    app.add_url_rule("/", "index", lambda: "")
    app.add_url_rule("/posts/<int:post_id>", "post", lambda post_id: "")
    app.add_url_rule("/posts", "create_post", lambda: "", methods=["POST"])
    app.add_url_rule("/items", "list_items", lambda: "", methods=["GET"])
    return app


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"endpoint": "post", "post_id": 3}, "/posts/3"),
        ({"endpoint": "post", "post_id": 3, "_external": True}, "http://localhost/posts/3"),
        ({"endpoint": "post", "post_id": 3, "_anchor": "a b"}, "/posts/3#a%20b"),
        ({"endpoint": "create_post", "_method": "POST"}, "/posts"),
        (
            {"endpoint": "post", "post_id": 3, "_scheme": "https", "_external": True},
            "https://localhost/posts/3",
        ),
        ({"endpoint": "post", "post_id": 3, "_scheme": "https"}, "https://localhost/posts/3"),
        ({"endpoint": "post", "post_id": 3, "page": 2, "q": "x y"}, "/posts/3?page=2&q=x+y"),
        ({"endpoint": "list_items", "tag": ["a", "b"]}, "/items?tag=a&tag=b"),
    ],
)
def test_url_for_in_a_request(url_app: Flask, kwargs: dict[str, Any], expected: str) -> None:
    with url_app.test_request_context():
        assert url_for(**kwargs) == expected


def test_url_for_scheme_without_external_raises_value_error(url_app: Flask) -> None:
    with (
        url_app.test_request_context(),
        pytest.raises(ValueError, match="'_external' must be True"),
    ):
        url_for("index", _scheme="https", _external=False)


def test_url_for_outside_a_request_uses_server_name_and_is_external(url_app: Flask) -> None:
    url_app.config.update(
        SERVER_NAME="example.test", APPLICATION_ROOT="/blog", PREFERRED_URL_SCHEME="https"
    )

    with url_app.app_context():
        assert url_for("post", post_id=3) == "https://example.test/blog/posts/3"
        assert url_for("post", post_id=3, _external=False) == "/blog/posts/3"
    assert url_app.url_for("index") == "https://example.test/blog/"


def test_url_for_outside_a_request_without_server_name_raises_runtime_error(
    url_app: Flask,
) -> None:
    with url_app.app_context(), pytest.raises(RuntimeError, match="'SERVER_NAME'"):
        url_for("index")


def test_url_for_unknown_endpoint_raises_build_error(url_app: Flask) -> None:
    with url_app.test_request_context(), pytest.raises(BuildError):
        url_for("missing")


def test_url_build_error_handler_may_supply_the_url(url_app: Flask) -> None:
    seen: list[Any] = []

    def declines(error: Exception, endpoint: str, values: dict[str, Any]) -> None:
        seen.append(("declines", endpoint))

    def external(error: Exception, endpoint: str, values: dict[str, Any]) -> str | None:
        seen.append(("external", endpoint, values))
        return f"https://elsewhere.test/{endpoint}"

    url_app.url_build_error_handlers.extend([declines, external])

    with url_app.test_request_context():
        assert url_for("docs", _anchor="top") == "https://elsewhere.test/docs"
    assert seen == [
        ("declines", "docs"),
        (
            "external",
            "docs",
            {"_anchor": "top", "_method": None, "_scheme": None, "_external": False},
        ),
    ]


def test_url_build_error_reraised_when_every_handler_declines(url_app: Flask) -> None:
    url_app.url_build_error_handlers.append(lambda error, endpoint, values: None)

    with url_app.test_request_context(), pytest.raises(BuildError):
        url_for("docs")


def test_url_value_preprocessor_and_url_defaults_carry_a_url_value(app: Flask, client: Any) -> None:
    @app.url_value_preprocessor
    def pull_lang(endpoint: str | None, values: dict[str, Any] | None) -> None:
        g.lang = values.pop("lang") if values else None

    @app.url_defaults
    def add_lang(endpoint: str, values: dict[str, Any]) -> None:
        if "lang" in g and app.url_map.is_endpoint_expecting(endpoint, "lang"):
            values.setdefault("lang", g.lang)

    @app.get("/<lang>/")
    def home() -> str:  # no `lang` argument: the preprocessor took it
        return f"{g.lang} {url_for('home')} {url_for('home', lang='fr')}"

    assert client.get("/de/").data == b"de /de/ /fr/"


# What a view may return.


def _respond(app: Flask, client: Any, rv: Any) -> Any:
    """Register a view returning ``rv`` and request it."""
    app.add_url_rule("/", "view", lambda: rv)
    return client.get("/")


@pytest.mark.parametrize(
    ("rv", "status", "content_type", "body"),
    [
        ("text", 200, "text/html; charset=utf-8", b"text"),
        (b"bytes", 200, "text/html; charset=utf-8", b"bytes"),
        ({"a": 1}, 200, "application/json", b'{"a":1}\n'),
        ([1, 2], 200, "application/json", b"[1,2]\n"),
        (Response("made", 201, mimetype="text/plain"), 201, "text/plain; charset=utf-8", b"made"),
        (("created", 201), 201, "text/html; charset=utf-8", b"created"),
        (("odd", "299 ODD STATUS"), 299, "text/html; charset=utf-8", b"odd"),
        (({"a": 1}, 202), 202, "application/json", b'{"a":1}\n'),
        ((Response("r"), 404), 404, "text/html; charset=utf-8", b"r"),
    ],
)
def test_view_return_value_becomes_response(
    app: Flask, client: Any, rv: Any, status: int, content_type: str, body: bytes
) -> None:
    response = _respond(app, client, rv)

    assert (response.status_code, response.content_type, response.data) == (
        status,
        content_type,
        body,
    )


def test_status_given_as_a_string_is_kept_verbatim(app: Flask, client: Any) -> None:
    assert _respond(app, client, ("x", "299 ODD STATUS")).status == "299 ODD STATUS"


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Extra": "1"},
        [("X-Extra", "1")],
        Headers({"X-Extra": "1"}),
    ],
    ids=["dict", "list", "Headers"],
)
def test_headers_in_a_tuple_are_added(app: Flask, client: Any, headers: Any) -> None:
    two = _respond(app, client, ("body", headers))
    assert (two.status_code, two.headers["X-Extra"]) == (200, "1")


@pytest.mark.parametrize(
    "headers", [{"X-Extra": "1"}, [("X-Extra", "1")], Headers({"X-Extra": "1"})]
)
def test_status_and_headers_in_a_three_tuple(app: Flask, client: Any, headers: Any) -> None:
    response = _respond(app, client, ("body", 201, headers))
    assert (response.status_code, response.headers["X-Extra"]) == (201, "1")


def test_tuple_headers_are_merged_into_a_json_response(app: Flask, client: Any) -> None:
    # The JSON response exists before the headers are applied, so they go
    # through Headers.update: a repeated name keeps its last value, as in Flask.
    response = _respond(app, client, ({"a": 1}, 201, [("X-Extra", "1"), ("X-Extra", "2")]))

    assert response.json == {"a": 1}
    assert response.headers.getlist("X-Extra") == ["2"]


def test_generator_is_streamed_without_content_length(app: Flask, client: Any) -> None:
    def chunks() -> Iterator[str]:
        yield "one "
        yield "two"

    response = _respond(app, client, chunks())

    assert response.is_streamed
    assert "Content-Length" not in response.headers
    assert response.data == b"one two"


def test_iterator_with_status_is_streamed(app: Flask, client: Any) -> None:
    response = _respond(app, client, (iter([b"a", b"b"]), 206))

    assert (response.status_code, response.data) == (206, b"ab")


def test_wsgi_callable_is_called_as_the_response(app: Flask, client: Any) -> None:
    def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("202 Accepted", [("Content-Type", "text/plain")])
        return [environ["PATH_INFO"].encode()]

    response = _respond(app, client, wsgi)

    assert (response.status_code, response.data) == (202, b"/")


def test_view_returning_none_raises_type_error_naming_the_endpoint(app: Flask, client: Any) -> None:
    @app.get("/")
    def forgot_to_return() -> None:
        pass

    with pytest.raises(TypeError, match="view function for 'forgot_to_return' did not return"):
        client.get("/")


@pytest.mark.parametrize("rv", [("a",), ("a", 200, {}, "extra")], ids=["1-tuple", "4-tuple"])
def test_tuple_of_wrong_length_raises_type_error(app: Flask, client: Any, rv: Any) -> None:
    with pytest.raises(TypeError, match="valid response tuple"):
        _respond(app, client, rv)


@pytest.mark.parametrize("rv", [42, 1.5, object()], ids=["int", "float", "object"])
def test_unsupported_return_type_raises_type_error(app: Flask, client: Any, rv: Any) -> None:
    with pytest.raises(TypeError, match=f"but it was a {type(rv).__name__}"):
        _respond(app, client, rv)


def test_make_response_helper_turns_view_values_into_responses(app: Flask) -> None:
    with app.test_request_context():
        empty = make_response()
        one = make_response({"a": 1})
        parts = make_response("body", 201, {"X-Extra": "1"})

    assert (empty.status_code, empty.data) == (200, b"")
    assert one.json == {"a": 1}
    assert (parts.status_code, parts.data, parts.headers["X-Extra"]) == (201, b"body", "1")


# Hooks and signals.


SIGNAL_NAMES = [
    "appcontext_pushed",
    "request_started",
    "before_render_template",
    "template_rendered",
    "got_request_exception",
    "request_finished",
    "request_tearing_down",
    "appcontext_tearing_down",
    "appcontext_popped",
]


def _build_recorded_app(fw: ModuleType, events: list[str]) -> Any:
    """An app whose every hook and signal appends its name to ``events``."""
    app = fw.Flask("recorded")

    @app.url_value_preprocessor
    def url_value_preprocessor(endpoint: str | None, values: dict[str, Any] | None) -> None:
        events.append("url_value_preprocessor")

    @app.url_defaults
    def url_defaults(endpoint: str, values: dict[str, Any]) -> None:
        events.append("url_defaults")

    @app.context_processor
    def context_processor() -> dict[str, Any]:
        events.append("context_processor")
        return {}

    for number in (1, 2):
        app.before_request(lambda number=number: events.append(f"before_request {number}"))

        def after(response: Any, number: int = number) -> Any:
            events.append(f"after_request {number}")
            return response

        app.after_request(after)
        app.teardown_request(
            lambda exc, number=number: events.append(f"teardown_request {number} {exc!r}")
        )
    app.teardown_appcontext(lambda exc: events.append(f"teardown_appcontext {exc!r}"))

    @app.get("/")
    def index() -> str:
        events.append("view")

        @fw.after_this_request
        def this_request(response: Any) -> Any:
            events.append("after_this_request")
            return response

        return fw.render_template_string("{{ url }}", url=fw.url_for("index"))

    return app


def test_hooks_and_signals_run_in_flasks_order(fw: ModuleType) -> None:
    events: list[str] = []
    app = _build_recorded_app(fw, events)
    receivers = {
        name: (lambda sender, name=name, **kwargs: events.append(f"signal {name}"))
        for name in SIGNAL_NAMES
    }
    for name, receiver in receivers.items():
        getattr(fw, name).connect(receiver, app)

    app.test_client().get("/")

    assert events == [
        "signal appcontext_pushed",
        "signal request_started",
        "url_value_preprocessor",
        "before_request 1",
        "before_request 2",
        "view",
        "url_defaults",
        "context_processor",
        "signal before_render_template",
        "signal template_rendered",
        "after_this_request",
        "after_request 2",
        "after_request 1",
        "signal request_finished",
        "teardown_request 2 None",
        "teardown_request 1 None",
        "signal request_tearing_down",
        "teardown_appcontext None",
        "signal appcontext_tearing_down",
        "signal appcontext_popped",
    ]


def test_before_request_return_value_skips_view_but_not_after_request(
    app: Flask, client: Any
) -> None:
    events: list[str] = []
    app.add_url_rule("/", "index", lambda: events.append("view") or "view")
    app.before_request(lambda: "stopped early")
    app.before_request(lambda: events.append("second before_request"))

    @app.after_request
    def after(response: Response) -> Response:
        events.append("after_request")
        return response

    assert client.get("/").data == b"stopped early"
    assert events == ["after_request"]


def test_before_request_runs_for_unknown_urls_too(app: Flask, client: Any) -> None:
    app.before_request(lambda: ("maintenance", 503))

    assert client.get("/nowhere").status_code == 503


def test_after_request_may_replace_the_response(app: Flask, client: Any) -> None:
    app.add_url_rule("/", "index", lambda: "original")
    app.after_request(lambda response: Response("replaced", 202))

    response = client.get("/")

    assert (response.status_code, response.data) == (202, b"replaced")


def test_teardown_functions_receive_none_after_a_good_request(app: Flask, client: Any) -> None:
    received: list[Any] = []
    app.add_url_rule("/", "index", lambda: "ok")
    app.teardown_request(lambda exc: received.append(("request", exc)))
    app.teardown_appcontext(lambda exc: received.append(("appcontext", exc)))

    client.get("/")

    assert received == [("request", None), ("appcontext", None)]


def test_teardown_functions_receive_the_unhandled_exception(app: Flask, client: Any) -> None:
    received: list[Any] = []
    error = RuntimeError("boom")

    @app.get("/")
    def fail() -> str:
        raise error

    app.teardown_request(lambda exc: received.append(("request", exc)))
    app.teardown_appcontext(lambda exc: received.append(("appcontext", exc)))

    with pytest.raises(RuntimeError):
        client.get("/")
    app.testing = False
    assert client.get("/").status_code == 500

    assert received == [("request", error), ("appcontext", error)] * 2


def test_teardown_functions_receive_none_when_a_handler_took_the_error(
    app: Flask, client: Any
) -> None:
    received: list[Any] = []
    app.add_url_rule("/", "index", lambda: abort(404))
    app.teardown_request(received.append)

    assert client.get("/").status_code == 404
    assert received == [None]


def test_teardown_error_is_logged_and_other_teardowns_still_run(
    app: Flask, client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # Flask: the exception would propagate and skip the remaining functions;
    # miniflask logs it and keeps going (see Flask._call_teardown).
    ran: list[str] = []
    app.add_url_rule("/", "index", lambda: "kept")
    app.teardown_request(lambda exc: ran.append("request, registered first"))
    app.teardown_request(lambda exc: 1 / 0)  # runs first: reverse order
    app.teardown_appcontext(lambda exc: ran.append("appcontext, registered first"))
    app.teardown_appcontext(lambda exc: {}["missing"])

    with caplog.at_level(logging.ERROR, logger=app.name):
        response = client.get("/")

    assert (response.status_code, response.data) == (200, b"kept")
    assert ran == ["request, registered first", "appcontext, registered first"]
    errors = [record.exc_info[0] for record in caplog.records if record.exc_info]
    assert errors == [ZeroDivisionError, KeyError]
    assert all("Exception in teardown function" in r.getMessage() for r in caplog.records)


def test_context_processor_values_reach_templates(app: Flask) -> None:
    app.context_processor(lambda: {"site": "Example", "user": "processor"})

    with app.test_request_context():
        text = render_template_string("{{ site }} {{ user }}", user="explicit")

    assert text == "Example explicit"


# Errors.


def test_abort_with_a_code_gives_that_status(app: Flask, client: Any) -> None:
    app.add_url_rule("/", "index", lambda: abort(403))

    response = client.get("/")

    assert response.status_code == 403
    assert b"Forbidden" in response.data


def test_abort_with_a_response_sends_that_response(app: Flask, client: Any) -> None:
    app.add_url_rule("/", "index", lambda: abort(Response("go away", 409)))

    response = client.get("/")

    assert (response.status_code, response.data) == (409, b"go away")


def test_errorhandler_for_a_code_shapes_the_response(app: Flask, client: Any) -> None:
    @app.errorhandler(404)
    def not_found(e: NotFound) -> Any:
        return {"error": e.name}, 404

    response = client.get("/nowhere")

    assert (response.status_code, response.json) == (404, {"error": "Not Found"})


class AppError(Exception):
    pass


class SpecificAppError(AppError):
    pass


def test_errorhandler_for_an_exception_class(app: Flask, client: Any) -> None:
    app.add_url_rule("/", "index", lambda: (_ for _ in ()).throw(AppError("bad")))
    app.register_error_handler(AppError, lambda e: (f"handled {e}", 418))

    response = client.get("/")

    assert (response.status_code, response.data) == (418, b"handled bad")


def test_most_specific_class_in_the_mro_wins(app: Flask, client: Any) -> None:
    @app.get("/")
    def index() -> str:
        raise SpecificAppError()

    app.register_error_handler(Exception, lambda e: "Exception")
    app.register_error_handler(SpecificAppError, lambda e: "SpecificAppError")
    app.register_error_handler(AppError, lambda e: "AppError")

    assert client.get("/").data == b"SpecificAppError"


def test_code_handler_wins_over_class_handler(app: Flask, client: Any) -> None:
    app.register_error_handler(HTTPException, lambda e: ("HTTPException handler", e.code))
    app.register_error_handler(404, lambda e: ("404 handler", 404))
    app.add_url_rule("/", "index", lambda: abort(403))

    assert client.get("/nowhere").data == b"404 handler"
    assert client.get("/").data == b"HTTPException handler"


def test_http_exception_handler_does_not_handle_redirects(app: Flask, client: Any) -> None:
    app.add_url_rule("/docs/", "docs", lambda: "docs")
    app.register_error_handler(HTTPException, lambda e: ("handled", 500))

    assert client.get("/docs").status_code == 308


def test_blueprint_handler_wins_over_app_handler_for_its_requests(app: Flask, client: Any) -> None:
    bp = Blueprint("api", __name__, url_prefix="/api")
    bp.add_url_rule("/fail", "fail", lambda: abort(403))
    bp.register_error_handler(403, lambda e: "blueprint handler")
    app.add_url_rule("/fail", "fail", lambda: abort(403))
    app.register_error_handler(Forbidden, lambda e: "app handler")
    app.register_blueprint(bp)

    assert client.get("/api/fail").data == b"blueprint handler"
    assert client.get("/fail").data == b"app handler"


def test_unhandled_http_exception_is_its_own_response(app: Flask, client: Any) -> None:
    app.add_url_rule("/", "index", lambda: abort(400, description="Name is required."))

    response = client.get("/")

    assert response.status_code == 400
    assert b"Name is required." in response.data


def test_unhandled_exception_gives_500_with_original_exception(
    app: Flask, client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app.testing = False
    error = RuntimeError("boom")

    @app.get("/")
    def fail() -> str:
        raise error

    @app.errorhandler(500)
    def server_error(e: InternalServerError) -> Any:
        assert e.original_exception is error
        return f"500 handler saw {e.original_exception!r}", 500

    with caplog.at_level(logging.ERROR, logger=app.name):
        response = client.get("/")

    assert (response.status_code, response.data) == (500, b"500 handler saw RuntimeError('boom')")
    assert caplog.records[0].getMessage() == "Exception on / [GET]"
    assert caplog.records[0].exc_info is not None
    assert caplog.records[0].exc_info[1] is error


def test_unhandled_exception_without_handler_gives_generic_500(
    app: Flask, client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app.testing = False
    app.add_url_rule("/", "index", lambda: 1 / 0)

    with caplog.at_level(logging.CRITICAL):
        response = client.get("/")

    assert response.status_code == 500
    assert b"Internal Server Error" in response.data
    assert b"ZeroDivisionError" not in response.data


def test_testing_mode_lets_the_exception_out_of_the_client(app: Flask, client: Any) -> None:
    app.add_url_rule("/", "index", lambda: 1 / 0)

    with pytest.raises(ZeroDivisionError):
        client.get("/")


@pytest.mark.parametrize(
    ("testing", "propagate", "raises"),
    [(True, False, False), (False, True, True), (False, None, False), (True, None, True)],
)
def test_propagate_exceptions_config_overrides_testing(
    app: Flask,
    client: Any,
    caplog: pytest.LogCaptureFixture,
    testing: bool,
    propagate: bool | None,
    raises: bool,
) -> None:
    app.testing = testing
    app.config["PROPAGATE_EXCEPTIONS"] = propagate
    app.add_url_rule("/", "index", lambda: 1 / 0)

    with caplog.at_level(logging.CRITICAL):
        if raises:
            with pytest.raises(ZeroDivisionError):
                client.get("/")
        else:
            assert client.get("/").status_code == 500


def test_got_request_exception_is_sent_for_unhandled_errors_only(app: Flask, client: Any) -> None:
    sent: list[Any] = []
    app.add_url_rule("/fail", "fail", lambda: 1 / 0)
    app.add_url_rule("/handled", "handled", lambda: abort(404))

    def receiver(sender: Flask, exception: Exception) -> None:
        sent.append((sender, type(exception)))

    with got_request_exception.connected_to(receiver, app):
        client.get("/handled")
        with pytest.raises(ZeroDivisionError):
            client.get("/fail")

    assert sent == [(app, ZeroDivisionError)]


def test_trap_http_exceptions_propagates_http_errors(app: Flask, client: Any) -> None:
    app.config["TRAP_HTTP_EXCEPTIONS"] = True

    with pytest.raises(NotFound):
        client.get("/nowhere")


def test_missing_form_key_is_a_400_and_trapped_in_debug_mode(app: Flask, client: Any) -> None:
    app.add_url_rule("/", "index", lambda: request.form["name"], methods=["POST"])

    assert client.post("/").status_code == 400
    app.debug = True
    with pytest.raises(BadRequest):
        client.post("/")


def test_errorhandler_with_an_instance_raises_type_error(app: Flask) -> None:
    with pytest.raises(TypeError, match="is an instance, not a class"):
        app.register_error_handler(NotFound(), lambda e: "")  # type: ignore[arg-type]


def test_errorhandler_with_an_unknown_code_raises_value_error(app: Flask) -> None:
    with pytest.raises(ValueError, match="'299' is not a recognized HTTP error code"):
        app.register_error_handler(299, lambda e: "")


def test_errorhandler_with_a_non_exception_class_raises_value_error(app: Flask) -> None:
    with pytest.raises(ValueError, match="'dict' is not a subclass of Exception"):
        app.errorhandler(dict)(lambda e: "")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "setup",
    [
        lambda app: app.add_url_rule("/late", "late", lambda: ""),
        lambda app: app.route("/late"),
        lambda app: app.before_request(lambda: None),
        lambda app: app.errorhandler(404),
        lambda app: app.teardown_appcontext(lambda exc: None),
        lambda app: app.register_blueprint(Blueprint("late", __name__)),
    ],
    ids=["add_url_rule", "route", "before_request", "errorhandler", "teardown", "blueprint"],
)
def test_setup_after_the_first_request_raises_assertion_error(
    app: Flask, client: Any, setup: Any
) -> None:
    client.get("/")

    with pytest.raises(AssertionError, match="already handled its first request"):
        setup(app)


# Request bodies.


@pytest.fixture
def echo_app(app: Flask) -> Flask:
    app.config["MAX_CONTENT_LENGTH"] = 16

    @app.post("/")
    def echo() -> Any:
        return {"json": request.get_json(silent=request.args.get("silent") == "1")}

    @app.post("/form")
    def form() -> Any:
        return dict(request.form)

    return app


def test_body_over_max_content_length_gives_413(echo_app: Flask, client: Any) -> None:
    assert client.post("/", json={"a": "x" * 20}).status_code == 413
    assert client.post("/form", data={"a": "x" * 20}).status_code == 413
    assert client.post("/form", data={"a": "x"}).json == {"a": "x"}


def test_get_json_with_a_non_json_content_type_gives_415(echo_app: Flask, client: Any) -> None:
    assert client.post("/", data="[1]", content_type="text/plain").status_code == 415


def test_get_json_with_malformed_json_gives_400_with_a_generic_message(
    echo_app: Flask, client: Any
) -> None:
    response = client.post("/", data="{oops", content_type="application/json")

    assert response.status_code == 400
    assert BadRequest.description.encode() in response.data
    assert b"Expecting" not in response.data


def test_get_json_with_malformed_json_in_debug_mode_tells_why(echo_app: Flask, client: Any) -> None:
    echo_app.debug = True

    response = client.post("/", data="{oops", content_type="application/json")

    assert response.status_code == 400
    assert b"Failed to decode JSON object" in response.data


def test_get_json_silent_returns_none_instead_of_an_error(echo_app: Flask, client: Any) -> None:
    bad = client.post("/?silent=1", data="{oops", content_type="application/json")
    wrong_type = client.post("/?silent=1", data="[1]", content_type="text/plain")

    assert bad.json == wrong_type.json == {"json": None}


def test_get_json_uses_the_apps_json_provider(echo_app: Flask, client: Any) -> None:
    calls: list[Any] = []
    original_loads = echo_app.json.loads

    def loads(s: str | bytes, **kwargs: Any) -> Any:
        calls.append(s)
        return original_loads(s, **kwargs)

    echo_app.json.loads = loads  # type: ignore[method-assign]

    response = client.post("/", json=[1])

    assert calls == [b"[1]"]
    assert response.json == {"json": [1]}


# What a view sees of the request.


def test_view_sees_endpoint_blueprint_view_args_and_url_rule(app: Flask, client: Any) -> None:
    def describe(**view_args: Any) -> dict[str, Any]:
        return {
            "endpoint": request.endpoint,
            "blueprint": request.blueprint,
            "view_args": request.view_args,
            "rule": request.url_rule.rule if request.url_rule else None,
        }

    bp = Blueprint("shop", __name__, url_prefix="/shop")
    bp.add_url_rule("/items/<int:item_id>", "item", describe)
    app.add_url_rule("/<name>", "page", describe)
    app.register_blueprint(bp)

    assert client.get("/shop/items/3").json == {
        "endpoint": "shop.item",
        "blueprint": "shop",
        "view_args": {"item_id": 3},
        "rule": "/shop/items/<int:item_id>",
    }
    assert client.get("/about").json == {
        "endpoint": "page",
        "blueprint": None,
        "view_args": {"name": "about"},
        "rule": "/<name>",
    }


def test_before_request_sees_the_matched_rule_and_no_rule_on_404(app: Flask, client: Any) -> None:
    seen: list[Any] = []
    app.add_url_rule("/<int:n>", "number", lambda n: "")
    app.before_request(lambda: seen.append((request.endpoint, request.view_args)))

    client.get("/5")
    client.get("/nowhere")

    assert seen == [("number", {"n": 5}), (None, None)]


def test_g_is_fresh_for_every_request(app: Flask, client: Any) -> None:
    @app.get("/")
    def index() -> str:
        before = g.get("count", 0)
        g.count = before + 1
        return str(g.count)

    assert [client.get("/").data for _ in range(3)] == [b"1", b"1", b"1"]


def test_after_this_request_runs_for_the_current_request_only(app: Flask, client: Any) -> None:
    @app.get("/")
    def index() -> str:
        if request.args.get("tag"):

            @after_this_request
            def tag(response: Response) -> Response:
                response.headers["X-Tag"] = "yes"
                return response

        return "ok"

    assert client.get("/?tag=1").headers.get("X-Tag") == "yes"
    assert client.get("/").headers.get("X-Tag") is None


# Where the app keeps its data.


@pytest.mark.parametrize("layout", ["package", "module"])
def test_default_instance_path_is_beside_the_package_or_module(
    fw: ModuleType, tmp_path: Any, monkeypatch: pytest.MonkeyPatch, layout: str
) -> None:
    # Flask's "Instance Folders" docs: `instance/` sits next to the package
    # folder (not inside it), or next to a single-module app.
    name = f"instance_{layout}_app"
    if layout == "package":
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
    else:
        (tmp_path / f"{name}.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))

    assert fw.Flask(name).instance_path == str(tmp_path / "instance")
