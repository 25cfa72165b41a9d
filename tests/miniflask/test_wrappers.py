"""Tests for miniflask/wrappers.py: what routing and the app add to Werkzeug's objects."""

from __future__ import annotations

import miniflask
from miniflask import Blueprint, request


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


def test_form_limits_come_from_config(app: miniflask.Flask) -> None:
    app.config["MAX_FORM_MEMORY_SIZE"] = 5
    app.config["MAX_FORM_PARTS"] = 2

    @app.post("/form")
    def form() -> str:
        return ",".join(request.form)

    client = app.test_client()
    assert client.post("/form", data={"a": "1"}).text == "a"
    multipart = {"a": "1", "b": "2", "c": "3", "f": (__import__("io").BytesIO(b"x"), "f.txt")}
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
