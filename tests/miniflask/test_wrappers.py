"""Tests for miniflask/wrappers.py: what routing and the app add to Werkzeug's objects.

The last tests send requests through an app: request bodies
(``MAX_CONTENT_LENGTH``, the errors of ``get_json``) and what a view sees of
the request (``endpoint``, ``blueprint``, ``view_args``, ``url_rule``).
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import (
    BadRequest,
    BadRequestKeyError,
    ClientDisconnected,
    Forbidden,
    Gone,
    HTTPException,
    MethodNotAllowed,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from werkzeug.test import create_environ
from werkzeug.wrappers import Request as WerkzeugRequest
from werkzeug.wrappers import Response as WerkzeugResponse
from werkzeug.wsgi import LimitedStream

import miniflask
from miniflask import Blueprint, Flask, request
from miniflask.wrappers import http_error_response


def test_request_knows_its_rule_endpoint_and_blueprints(app: miniflask.Flask) -> None:
    outer = Blueprint("outer", __name__)
    inner = Blueprint("inner", __name__)

    @inner.get("/deep/<int:n>")
    def deep(n: int) -> str:
        return ""

    outer.register_blueprint(inner)
    app.register_blueprint(outer)
    with app.test_request_context("/deep/3"):
        assert request.url_rule is not None and request.url_rule.rule == "/deep/<int:n>"
        assert request.endpoint == "outer.inner.deep"
        assert request.blueprint == "outer.inner"
        assert request.blueprints == ["outer.inner", "outer"]
        assert request.view_args == {"n": 3}


def test_request_outside_a_blueprint_has_none(app: miniflask.Flask) -> None:
    app.add_url_rule("/", "index", lambda: "")
    with app.test_request_context("/"):
        assert request.blueprint is None
        assert request.blueprints == []


def test_max_content_length_comes_from_config_and_can_be_overridden(
    app: miniflask.Flask,
) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10
    with app.test_request_context("/", data="x" * 5):
        assert request.max_content_length == 10
        request.max_content_length = 3
        assert request.max_content_length == 3


def test_body_over_max_content_length_is_413(app: miniflask.Flask) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 10

    @app.post("/upload")
    def upload() -> str:
        return str(len(request.get_data()))

    client = app.test_client()
    assert client.post("/upload", data="x" * 10).text == "10"
    assert client.post("/upload", data="x" * 11).status_code == 413


class _TrickleInput:
    """A server's input stream with only ``read``, at most three bytes at a time, like a socket."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def read(self, size: int = -1) -> bytes:
        return self._data.read(3 if size < 0 else min(size, 3))


def _read_body(
    request_class: type[WerkzeugRequest], make_input: Any, data: bytes, content_length: int
) -> Any:
    """What ``get_data`` then a second ``stream.read`` give, or the error raised."""
    environ = create_environ("/", method="POST")
    environ["wsgi.input"] = make_input(data)
    environ["CONTENT_LENGTH"] = str(content_length)
    req = request_class(environ)
    try:
        return req.get_data(), req.stream.read(), req.stream.tell()
    except ClientDisconnected as e:
        return type(e)


@pytest.mark.parametrize(
    ("data", "content_length"),
    [(b"", 0), (b"hello", 5), (b"x" * 100_000, 100_000), (b"hello, and more", 5), (b"hel", 5)],
    ids=["empty", "exact", "large", "more-than-declared", "client-gone"],
)
@pytest.mark.parametrize("make_input", [io.BytesIO, _TrickleInput], ids=["whole", "trickle"])
def test_request_body_reads_as_werkzeugs_does(
    make_input: Any, data: bytes, content_length: int
) -> None:
    expected = _read_body(WerkzeugRequest, make_input, data, content_length)
    assert _read_body(miniflask.Request, make_input, data, content_length) == expected
    assert expected == ClientDisconnected or expected[0] == data[:content_length]


def test_request_stream_is_werkzeugs_limited_stream(app: miniflask.Flask) -> None:
    with app.test_request_context("/", method="POST", data=b"body"):
        assert isinstance(request.stream, LimitedStream)
        assert request.stream.limit == 4
    chunked = {"HTTP_TRANSFER_ENCODING": "chunked"}
    with app.test_request_context("/", method="POST", data=b"body", environ_overrides=chunked):
        assert request.get_data() == b""  # no length, no server ending the stream: nothing


def test_form_limits_come_from_config(app: miniflask.Flask) -> None:
    app.config["MAX_FORM_MEMORY_SIZE"] = 5
    app.config["MAX_FORM_PARTS"] = 2

    @app.post("/form")
    def form() -> str:
        return ",".join(request.form)

    client = app.test_client()
    assert client.post("/form", data={"a": "1"}).text == "a"
    multipart = {"a": "1", "b": "2", "c": "3", "f": (io.BytesIO(b"x"), "f.txt")}
    assert client.post("/form", data=multipart).status_code == 413


def test_limits_outside_an_app_context_are_werkzeugs_defaults() -> None:
    # A Request built by hand, with no app to ask: Werkzeug's limits, as in Flask.
    req = miniflask.Request.from_values("/")

    assert (req.max_content_length, req.max_form_memory_size, req.max_form_parts) == (
        None,
        500_000,
        1_000,
    )


def test_response_default_mimetype_is_html(app: miniflask.Flask) -> None:
    assert miniflask.Response("x").mimetype == "text/html"


def _serve(response: miniflask.Response, method: str = "GET") -> tuple[str, list[Any], bytes]:
    """Call a response as a WSGI server would; return status, headers and body."""
    from werkzeug.test import EnvironBuilder

    seen: list[Any] = []
    environ = EnvironBuilder(method=method).get_environ()
    body_iter = response(environ, lambda status, headers: seen.extend([status, headers]))
    body = b"".join(body_iter)
    close = getattr(body_iter, "close", None)
    if close is not None:
        close()
    return seen[0], seen[1], body


@pytest.mark.parametrize(
    "make",
    [
        lambda: miniflask.Response("hello"),
        lambda: miniflask.Response("moved", status=302, headers={"Location": "/über"}),
        lambda: miniflask.Response(status=204),
        lambda: miniflask.Response("not modified", status=304, headers={"ETag": '"x"'}),
        lambda: miniflask.Response(iter([b"streamed"])),
        lambda: miniflask.Response(["a", "b"]),
        lambda: miniflask.Response("x", headers={"Content-Location": "/ü"}),
    ],
    ids=["plain", "location", "204", "304", "stream", "str-list", "content-location"],
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_responses_reach_the_server_exactly_as_werkzeug_sends_them(make: Any, method: str) -> None:
    from werkzeug.wrappers import Response as WerkzeugResponse

    ours = make()
    theirs = make()
    theirs.__class__ = WerkzeugResponse
    assert _serve(ours, method) == _serve(theirs, method)


def test_call_on_close_still_runs_for_buffered_bodies() -> None:
    closed: list[bool] = []
    response = miniflask.Response("body")
    response.call_on_close(lambda: closed.append(True))
    _serve(response)
    assert closed == [True]


class _NoDefaultType(miniflask.Response):
    default_mimetype = None


class _StatusLine(miniflask.Response):
    default_status = 201


@pytest.mark.parametrize(
    ("cls", "args", "kwargs"),
    [
        (miniflask.Response, ("hello",), {}),
        (miniflask.Response, (b"\x00bytes",), {"status": 201}),
        (miniflask.Response, ("ünïcode",), {"mimetype": "text/plain"}),
        (miniflask.Response, ('{"a":1}\n',), {"mimetype": "application/json"}),
        (miniflask.Response, ("x",), {"mimetype": "image/png", "status": 404}),
        (miniflask.Response, ("",), {"direct_passthrough": True}),
        (miniflask.Response, ("x",), {"status": 299}),
        (miniflask.Response, ("x",), {"status": "418 TEAPOT"}),
        (miniflask.Response, ("x",), {"headers": {"X-A": "1"}}),
        (miniflask.Response, ("x",), {"content_type": "text/csv"}),
        (miniflask.Response, (bytearray(b"x"),), {}),
        (miniflask.Response, (), {}),
        (_NoDefaultType, ("no type",), {}),
        (_StatusLine, ("created",), {}),
    ],
)
def test_response_constructor_gives_what_werkzeugs_gives(
    cls: type[miniflask.Response], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    from werkzeug.wrappers import Response as WerkzeugResponse

    ours = cls(*args, **kwargs)
    theirs = cls.__new__(cls)
    WerkzeugResponse.__init__(theirs, *args, **kwargs)
    assert vars(ours).keys() == vars(theirs).keys()
    assert ours.headers.to_wsgi_list() == theirs.headers.to_wsgi_list()
    assert (ours.status, ours.status_code) == (theirs.status, theirs.status_code)
    assert ours.response == theirs.response
    assert ours.direct_passthrough == theirs.direct_passthrough


class _TeapotPage(HTTPException):
    code = 418
    description = "Short and stout."

    def get_body(self, environ: Any = None, scope: Any = None) -> str:
        return "<p>a page of its own</p>"


@pytest.mark.parametrize(
    "make",
    [
        lambda: NotFound(),
        lambda: NotFound("No post <b>42</b>.\nTry another."),
        lambda: NotFound("Another description."),
        lambda: Forbidden(),
        lambda: BadRequestKeyError("title"),
        lambda: MethodNotAllowed(["GET", "HEAD"]),
        lambda: Unauthorized(www_authenticate=WWWAuthenticate("bearer")),
        lambda: TooManyRequests(retry_after=30),
        lambda: _TeapotPage(),
        lambda: Gone(response=WerkzeugResponse("custom", status=410)),
    ],
)
def test_http_error_response_is_werkzeugs_error_page(make: Any) -> None:
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder().get_environ()
    expected = miniflask.Response.force_type(make().get_response(environ), environ)
    for _ in range(2):  # the second time from the page cache
        ours = http_error_response(miniflask.Response, make(), environ)
        assert type(ours) is miniflask.Response
        assert ours.status == expected.status
        assert ours.headers.to_wsgi_list() == expected.headers.to_wsgi_list()
        assert ours.get_data() == expected.get_data()


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
