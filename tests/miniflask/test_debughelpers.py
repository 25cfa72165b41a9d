"""Tests for miniflask/debughelpers.py: the debug-mode explanations, on both frameworks."""

from __future__ import annotations

import contextlib
import importlib
import logging
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from jinja2 import TemplateNotFound
from werkzeug.exceptions import BadRequestKeyError
from werkzeug.routing import RequestRedirect


def _helpers(fw: ModuleType) -> ModuleType:
    return importlib.import_module(f"{fw.__name__}.debughelpers")


def _upload_app(fw: ModuleType, debug: bool) -> Any:
    app = fw.Flask("upload")
    app.debug = debug
    app.testing = True

    @app.post("/upload")
    def upload() -> str:
        return str(fw.request.files["photo"].filename)

    return app


def test_a_file_sent_as_a_form_field_is_explained_in_debug_mode(fw: ModuleType) -> None:
    client = _upload_app(fw, debug=True).test_client()
    with pytest.raises(_helpers(fw).DebugFilesKeyError) as info:
        client.post("/upload", data={"photo": "cat.jpg"})
    message = str(info.value)
    assert "'application/x-www-form-urlencoded'" in message
    assert "no file contents were transmitted" in message
    assert "multipart/form-data" in message
    assert "This was submitted: 'cat.jpg'" in message
    assert isinstance(info.value, KeyError)


def test_a_key_missing_from_the_form_too_is_a_plain_bad_request(fw: ModuleType) -> None:
    app = _upload_app(fw, debug=True)
    app.config["TRAP_BAD_REQUEST_ERRORS"] = False
    response = app.test_client().post("/upload", data={"other": "x"})
    assert response.status_code == 400


def test_outside_debug_mode_the_missing_file_is_a_400(fw: ModuleType) -> None:
    app = _upload_app(fw, debug=False)
    response = app.test_client().post("/upload", data={"photo": "cat.jpg"})
    assert response.status_code == 400


def test_a_multipart_upload_is_left_alone(fw: ModuleType) -> None:
    import io

    client = _upload_app(fw, debug=True).test_client()
    response = client.post("/upload", data={"photo": (io.BytesIO(b"x"), "cat.jpg")})
    assert response.data == b"cat.jpg"


def test_debug_files_key_error_is_still_a_key_error_for_the_caller(fw: ModuleType) -> None:
    app = _upload_app(fw, debug=True)

    @app.post("/optional")
    def optional() -> str:
        try:
            return str(fw.request.files["photo"].filename)
        except KeyError:
            return "no photo"

    assert app.test_client().post("/optional", data={"photo": "x"}).data == b"no photo"


def _form_app(fw: ModuleType, debug: bool) -> Any:
    app = fw.Flask("redirects")
    app.debug = debug
    app.testing = True

    @app.route("/user/", methods=["GET", "POST"])
    def user() -> str:
        return str(fw.request.form.get("status", "none"))

    return app


def test_the_default_308_slash_redirect_keeps_the_form(fw: ModuleType) -> None:
    client = _form_app(fw, debug=True).test_client()
    response = client.post("/user", data={"status": "kept"}, follow_redirects=True)
    assert response.data == b"kept"


def test_a_redirect_that_drops_the_form_is_an_error_in_debug_mode(
    fw: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(RequestRedirect, "code", 301)
    client = _form_app(fw, debug=True).test_client()
    with pytest.raises(_helpers(fw).FormDataRoutingRedirect) as info:
        client.post("/user?x=1", data={"status": "lost"})
    message = str(info.value)
    assert "'http://localhost/user?x=1'" in message
    assert "canonical URL 'http://localhost/user/?x=1'" in message
    assert "307 or 308" in message
    assert "only raised in debug mode" in message
    assert isinstance(info.value, AssertionError)


@pytest.mark.parametrize(
    ("debug", "method"), [(False, "POST"), (True, "GET")], ids=["no-debug", "get"]
)
def test_otherwise_the_redirect_is_answered_as_it_is(
    fw: ModuleType, monkeypatch: pytest.MonkeyPatch, debug: bool, method: str
) -> None:
    monkeypatch.setattr(RequestRedirect, "code", 301)
    response = _form_app(fw, debug=debug).test_client().open("/user", method=method)
    assert response.status_code == 301
    assert response.location == "http://localhost/user/"


def _explain(fw: ModuleType, tmp_path: Path, template: str) -> list[str]:
    """Render ``template`` from a blueprint's view with EXPLAIN_TEMPLATE_LOADING; the log lines."""
    for folder in ("app", "shop"):
        (tmp_path / folder / "templates").mkdir(parents=True)
    (tmp_path / "app" / "templates" / "both.html").write_text("app")
    (tmp_path / "shop" / "templates" / "both.html").write_text("shop")
    (tmp_path / "shop" / "templates" / "once.html").write_text("once")
    app = fw.Flask("explained", root_path=str(tmp_path / "app"))
    app.config["EXPLAIN_TEMPLATE_LOADING"] = True
    app.testing = True
    shop = fw.Blueprint(
        "shop", "explained.shop", template_folder="templates", root_path=str(tmp_path / "shop")
    )

    @shop.get("/<name>")
    def show(name: str) -> str:
        return str(fw.render_template(name))

    app.register_blueprint(shop)
    messages: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())  # type: ignore[method-assign]
    app.logger.addHandler(handler)
    app.logger.setLevel(logging.INFO)
    try:
        with contextlib.suppress(TemplateNotFound):
            app.test_client().get(f"/{template}")
    finally:
        app.logger.removeHandler(handler)
        app.logger.setLevel(logging.NOTSET)
    assert len(messages) == 1
    return messages[0].splitlines()


def test_a_missing_template_is_explained_with_the_blueprint_hint(
    fw: ModuleType, tmp_path: Path
) -> None:
    lines = _explain(fw, tmp_path, "missing.html")
    assert lines[0] == "Locating template 'missing.html':"
    assert "    1: trying loader of application 'explained'" in lines
    assert "    2: trying loader of blueprint 'shop' (explained.shop)" in lines
    assert lines.count("       -> no match") == 2
    assert "Error: the template could not be found." in lines
    assert any(
        "looked up from an endpoint that belongs to the blueprint 'shop'" in line for line in lines
    )
    assert "  See https://flask.palletsprojects.com/blueprints/#templates" in lines


def test_a_shadowed_template_is_reported_with_both_matches(fw: ModuleType, tmp_path: Path) -> None:
    lines = _explain(fw, tmp_path, "both.html")
    found = [line for line in lines if line.startswith("       -> found (")]
    assert [line.rsplit("/", 2)[-2:] for line in found] == [
        ["templates", "both.html')"],
        ["templates", "both.html')"],
    ]
    assert "app" in found[0] and "shop" in found[1]
    assert "Warning: multiple loaders returned a match for the template." in lines


def test_a_template_found_once_gets_no_warning_and_no_hint(fw: ModuleType, tmp_path: Path) -> None:
    lines = _explain(fw, tmp_path, "once.html")
    assert lines[-1].startswith("       -> found (")
    assert not any("Warning" in line or "Error" in line or "See " in line for line in lines)


def test_the_log_names_each_loaders_class_and_folders(tmp_path: Path) -> None:
    import miniflask

    lines = _explain(miniflask, tmp_path, "once.html")
    assert "       class: jinja2.loaders.FileSystemLoader" in lines
    assert f"         - {tmp_path / 'shop' / 'templates'}" in lines


def test_bad_request_key_error_is_what_werkzeug_raises_without_the_aid() -> None:
    # The aid replaces exactly this error; a guard against Werkzeug changing it.
    from werkzeug.datastructures import ImmutableMultiDict

    with pytest.raises(BadRequestKeyError):
        ImmutableMultiDict()["missing"]
