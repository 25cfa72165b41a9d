"""Tests for building URLs: ``url_for`` in and outside a request.

``url_for`` (``miniflask/helpers.py``) calls ``Flask.url_for`` in
``miniflask/app.py``, which builds with the URL map: ``_external``,
``_scheme``, ``_anchor``, ``_method``, extra values as a query string,
``SERVER_NAME`` outside a request, and ``url_build_error_handlers`` for an
endpoint it cannot build. ``url_defaults`` and ``url_value_preprocessor``
carry a value from the matched URL to the built ones.
"""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.routing import BuildError

from miniflask import Flask, g, url_for


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
