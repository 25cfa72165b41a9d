"""Tests for ``Flask.make_response`` (``miniflask/app.py``): what a view may return.

A string or bytes, a dict or list (JSON), a ``Response`` or any WSGI callable,
a generator or iterator (streamed), or a tuple adding a status and headers;
anything else is a ``TypeError`` that names the endpoint. The
``make_response`` helper turns the same values into a response in a view.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.datastructures import Headers

from miniflask import Flask, Response, make_response


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
