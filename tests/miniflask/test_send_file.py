"""Tests for static files, ``send_file`` and ``send_from_directory``.

Covers the app's ``static`` route (set up in ``Flask.__init__``), blueprint
static folders, and the two helpers in ``miniflask/helpers.py``. Every test
runs on real Flask and on miniflask (the ``fw`` fixture). Files live in
``tests/miniflask/site``; ``site/secret.txt`` sits *outside* the static folder
and must never be served.
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from werkzeug.exceptions import NotFound

SITE = Path(__file__).parent / "site"
STYLE = (SITE / "static" / "style.css").read_bytes()


def make_app(fw: ModuleType, **kwargs: Any) -> Any:
    app = fw.Flask("static_site", root_path=str(SITE), **kwargs)
    app.testing = True
    return app


def test_static_route_serves_files_from_static_folder(fw: ModuleType) -> None:
    response = make_app(fw).test_client().get("/static/style.css")
    assert response.status_code == 200
    assert response.data == STYLE
    assert response.mimetype == "text/css"
    assert response.headers["Content-Length"] == str(len(STYLE))


def test_static_route_serves_files_in_sub_folders(fw: ModuleType) -> None:
    response = make_app(fw).test_client().get("/static/sub/script.js")
    assert response.status_code == 200
    assert response.data == b'console.log("hi");\n'


def test_static_rule_endpoint_and_url_for(fw: ModuleType) -> None:
    app = make_app(fw)
    rules = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
    assert rules == {"static": "/static/<path:filename>"}
    with app.test_request_context():
        assert fw.url_for("static", filename="sub/script.js") == "/static/sub/script.js"


def test_static_url_path_and_folder_are_configurable(fw: ModuleType) -> None:
    app = make_app(fw, static_url_path="/assets", static_folder="static/sub")
    client = app.test_client()
    assert client.get("/assets/script.js").status_code == 200
    assert client.get("/static/style.css").status_code == 404


def test_no_static_route_without_static_folder(fw: ModuleType) -> None:
    app = make_app(fw, static_folder=None)
    assert list(app.url_map.iter_rules()) == []


def test_missing_static_file_is_404(fw: ModuleType) -> None:
    assert make_app(fw).test_client().get("/static/missing.css").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E%2Fsecret.txt",
        "/static/sub/../../secret.txt",
        "/static/sub/%2e%2e/%2e%2e/secret.txt",
        "/static/..%5Csecret.txt",
        "/static/..\\secret.txt",
        "/static/%2Fwork%2Fsecret.txt",
        "/static/" + str(SITE / "secret.txt"),
        "/static//" + str(SITE / "secret.txt"),
        "/static/%2F" + str(SITE / "secret.txt").lstrip("/"),
    ],
)
def test_path_traversal_never_reaches_files_outside_static(fw: ModuleType, path: str) -> None:
    response = make_app(fw).test_client().get(path, follow_redirects=True)
    assert response.status_code == 404
    assert b"top secret" not in response.data


@pytest.mark.parametrize(
    "filename",
    ["../secret.txt", "sub/../../secret.txt", str(SITE / "secret.txt"), "..\\secret.txt", ""],
)
def test_send_from_directory_refuses_paths_leaving_the_directory(
    fw: ModuleType, filename: str
) -> None:
    app = make_app(fw)
    with app.test_request_context(), pytest.raises(NotFound):
        fw.send_from_directory(SITE / "static", filename)


def test_send_from_directory_serves_a_file_inside(fw: ModuleType) -> None:
    app = make_app(fw)
    with app.test_request_context():
        response = fw.send_from_directory(str(SITE / "static"), "sub/script.js")
        response.direct_passthrough = False
        assert response.get_data() == b'console.log("hi");\n'
        assert response.mimetype in {"text/javascript", "application/javascript"}


def test_static_file_has_etag_and_last_modified_and_no_cache_by_default(fw: ModuleType) -> None:
    response = make_app(fw).test_client().get("/static/style.css")
    assert response.headers["ETag"]
    assert response.headers["Last-Modified"]
    # No max-age: browsers revalidate, and get a cheap 304 while unchanged.
    assert response.headers["Cache-Control"] == "no-cache"


def test_if_none_match_with_current_etag_gives_304(fw: ModuleType) -> None:
    client = make_app(fw).test_client()
    etag = client.get("/static/style.css").headers["ETag"]
    response = client.get("/static/style.css", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.data == b""
    stale = client.get("/static/style.css", headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200


def test_if_modified_since_last_modified_gives_304(fw: ModuleType) -> None:
    client = make_app(fw).test_client()
    last_modified = client.get("/static/style.css").headers["Last-Modified"]
    response = client.get("/static/style.css", headers={"If-Modified-Since": last_modified})
    assert response.status_code == 304
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get("/static/style.css", headers={"If-Modified-Since": old}).status_code == 200


def test_range_request_gives_partial_content(fw: ModuleType) -> None:
    response = make_app(fw).test_client().get("/static/style.css", headers={"Range": "bytes=0-3"})
    assert response.status_code == 206
    assert response.data == STYLE[:4]
    assert response.headers["Content-Range"] == f"bytes 0-3/{len(STYLE)}"


def test_head_of_static_file_has_headers_but_no_body(fw: ModuleType) -> None:
    response = make_app(fw).test_client().head("/static/style.css")
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Length"] == str(len(STYLE))


@pytest.mark.parametrize("max_age", [60, timedelta(minutes=1)])
def test_send_file_max_age_default_sets_cache_control(fw: ModuleType, max_age: Any) -> None:
    app = make_app(fw)
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = max_age
    response = app.test_client().get("/static/style.css")
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert "Expires" in response.headers


def test_get_send_file_max_age_can_be_overridden_per_file(fw: ModuleType) -> None:
    class LongCacheForCss(fw.Flask):  # type: ignore[name-defined, misc]
        def get_send_file_max_age(self, filename: str | None) -> int | None:
            if filename and filename.endswith(".css"):
                return 3600
            return super().get_send_file_max_age(filename)  # type: ignore[no-any-return]

    app = LongCacheForCss("static_site", root_path=str(SITE))
    client = app.test_client()
    assert client.get("/static/style.css").headers["Cache-Control"] == "public, max-age=3600"
    assert client.get("/static/sub/script.js").headers["Cache-Control"] == "no-cache"


def test_blueprint_static_folder_is_served_under_its_prefix(fw: ModuleType) -> None:
    admin = fw.Blueprint(
        "admin",
        __name__,
        url_prefix="/admin",
        static_folder="static",
        static_url_path="/assets",
        root_path=str(SITE / "admin"),
    )
    app = make_app(fw)
    app.register_blueprint(admin)
    client = app.test_client()
    response = client.get("/admin/assets/admin.css")
    assert response.status_code == 200
    assert response.data == b"admin { }\n"
    assert client.get("/admin/assets/../../static/style.css").status_code == 404
    with app.test_request_context():
        assert fw.url_for("admin.static", filename="admin.css") == "/admin/assets/admin.css"
    rules = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
    assert rules["admin.static"] == "/admin/assets/<path:filename>"


def test_blueprint_static_url_path_defaults_to_folder_name(fw: ModuleType) -> None:
    admin = fw.Blueprint(
        "admin",
        __name__,
        url_prefix="/admin",
        static_folder="static",
        root_path=str(SITE / "admin"),
    )
    app = make_app(fw)
    app.register_blueprint(admin)
    assert app.test_client().get("/admin/static/admin.css").status_code == 200


def test_send_file_from_a_path_guesses_the_mimetype(fw: ModuleType) -> None:
    app = make_app(fw)

    @app.get("/style")
    def style() -> Any:
        return fw.send_file(SITE / "static" / "style.css")

    response = app.test_client().get("/style")
    assert response.data == STYLE
    assert response.mimetype == "text/css"
    assert response.headers["ETag"]


def test_send_file_from_a_file_object_as_attachment(fw: ModuleType) -> None:
    app = make_app(fw)

    @app.get("/report")
    def report() -> Any:
        return fw.send_file(
            io.BytesIO(b"a,b\n1,2\n"), download_name="report.csv", as_attachment=True
        )

    response = app.test_client().get("/report")
    assert response.data == b"a,b\n1,2\n"
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == "attachment; filename=report.csv"
    # A file object has no name or mtime on disk: no ETag or Last-Modified.
    assert "ETag" not in response.headers


def test_send_file_of_a_file_object_needs_a_mimetype_or_name(fw: ModuleType) -> None:
    app = make_app(fw)
    with app.test_request_context(), pytest.raises(TypeError, match="MIME type"):
        fw.send_file(io.BytesIO(b"data"))


def test_send_file_non_ascii_download_name_uses_rfc_5987(fw: ModuleType) -> None:
    app = make_app(fw)
    with app.test_request_context():
        response = fw.send_file(io.BytesIO(b"x"), download_name="résumé.txt")
    disposition = response.headers["Content-Disposition"]
    assert disposition == "inline; filename=resume.txt; filename*=UTF-8''r%C3%A9sum%C3%A9.txt"


def test_send_file_relative_path_is_relative_to_app_root(fw: ModuleType) -> None:
    app = make_app(fw)
    with app.test_request_context():
        response = fw.send_file("static/style.css")
        response.direct_passthrough = False
        assert response.get_data() == STYLE


def test_static_responses_are_identical_on_both_frameworks() -> None:
    import flask

    import miniflask

    compared = ("Content-Type", "Content-Length", "Cache-Control", "ETag", "Last-Modified")
    results = []
    for fw in (flask, miniflask):
        response = make_app(fw).test_client().get("/static/style.css")
        results.append((response.status_code, [response.headers.get(h) for h in compared]))
    assert results[0] == results[1]
