"""Tests for miniflask/helpers.py: abort, redirect, make_response, url_for outside requests."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
from werkzeug.exceptions import NotFound

import miniflask
from miniflask import abort, make_response, redirect, url_for


def test_abort_raises_werkzeugs_exception_for_the_code(app: miniflask.Flask) -> None:
    with app.app_context(), pytest.raises(NotFound):
        abort(404)
    with pytest.raises(NotFound):  # works without an app too
        abort(404)


def test_abort_with_a_response_sends_that_response(app: miniflask.Flask) -> None:
    @app.get("/")
    def index() -> str:
        abort(miniflask.Response("custom", status=409))

    response = app.test_client().get("/")
    assert (response.status_code, response.text) == (409, "custom")


def test_abort_uses_the_apps_aborter(app: miniflask.Flask) -> None:
    class Teapot(NotFound):
        code = 418

    app.aborter.mapping[418] = Teapot

    @app.get("/")
    def index() -> str:
        abort(418)

    assert app.test_client().get("/").status_code == 418


def test_redirect_uses_the_apps_response_class(app: miniflask.Flask) -> None:
    class MyResponse(miniflask.Response):
        pass

    app.response_class = MyResponse
    with app.app_context():
        response = redirect("/elsewhere", 301)
    assert isinstance(response, MyResponse)
    assert response.status_code == 301 and response.location == "/elsewhere"
    assert redirect("/x").status_code == 302  # and without an app


def test_make_response_accepts_what_a_view_may_return(app: miniflask.Flask) -> None:
    with app.test_request_context():
        assert make_response().status_code == 200
        response = make_response("body", 201, {"X-A": "1"})
        assert (response.status_code, response.get_data(as_text=True), response.headers["X-A"]) == (
            201,
            "body",
            "1",
        )
        assert make_response({"a": 1}).get_json() == {"a": 1}


def test_url_for_outside_a_request_needs_server_name(app: miniflask.Flask) -> None:
    app.add_url_rule("/posts/<int:id>", "post", lambda id: "")
    with app.app_context(), pytest.raises(RuntimeError, match="SERVER_NAME"):
        url_for("post", id=1)
    app.config.update(SERVER_NAME="blog.test", PREFERRED_URL_SCHEME="https")
    with app.app_context():
        assert url_for("post", id=1) == "https://blog.test/posts/1"
        assert url_for("post", id=1, _external=False) == "/posts/1"


def test_get_debug_flag_reads_flask_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    from miniflask.helpers import get_debug_flag

    for value, expected in [("1", True), ("yes", True), ("0", False), ("False", False)]:
        monkeypatch.setenv("FLASK_DEBUG", value)
        assert get_debug_flag() is expected
    monkeypatch.delenv("FLASK_DEBUG")
    assert get_debug_flag() is False


def test_get_template_attribute_calls_a_macro_from_python(fw: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "_macros.html").write_text(
        "{% macro hello(name) %}Hello {{ name }}!{% endmacro %}{% set answer = 42 %}"
    )
    app = fw.Flask("macros", template_folder=str(tmp_path))
    with app.app_context():
        hello = fw.get_template_attribute("_macros.html", "hello")
        assert hello("World") == "Hello World!"
        assert fw.get_template_attribute("_macros.html", "answer") == 42


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, True), ("", True), ("1", False), ("true", False), ("0", True), ("no", True)],
)
def test_skip_dotenv_reads_as_flask_reads_it(
    fw: ModuleType, monkeypatch: pytest.MonkeyPatch, value: str | None, expected: bool
) -> None:
    if value is None:
        monkeypatch.delenv("FLASK_SKIP_DOTENV", raising=False)
    else:
        monkeypatch.setenv("FLASK_SKIP_DOTENV", value)
    assert fw.helpers.get_load_dotenv() is expected
