"""Tests for miniflask/tracing.py and the ``trace`` command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import miniflask
from miniflask import Blueprint, g, request
from miniflask.cli import cli
from miniflask.tracing import EXTENSION_KEY, Trace


def build_app(trace: bool = True) -> miniflask.Flask:
    app = miniflask.Flask("traced_app")
    app.config["TRACE"] = trace
    shop = Blueprint("shop", __name__, url_prefix="/shop")

    @app.before_request
    def load_user() -> None:
        g.user = request.headers.get("X-User")

    @shop.before_request
    def require_user() -> Any:
        if g.user is None:
            return {"error": "log in"}, 401
        return None

    @shop.get("/items/<int:item_id>")
    def show_item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @shop.get("/broken")
    def broken() -> str:
        raise LookupError("gone")

    @shop.errorhandler(LookupError)
    def lookup_failed(e: Exception) -> tuple[dict[str, str], int]:
        return {"error": str(e)}, 404

    @app.after_request
    def stamp(response: miniflask.Response) -> miniflask.Response:
        response.headers["X-Stamp"] = "1"
        return response

    app.register_blueprint(shop)
    return app


def last_trace(app: miniflask.Flask) -> Trace:
    trace = app.extensions[EXTENSION_KEY].last
    assert trace is not None
    return trace


def names(app: miniflask.Flask) -> list[str]:
    """The trace's steps without the module path of each function, for readable asserts."""
    return [name.replace("tests.miniflask.test_tracing.", "") for name in last_trace(app).names()]


def test_a_request_through_hooks_and_a_blueprint_is_traced_in_order() -> None:
    app = build_app()
    app.test_client().get("/shop/items/3", headers={"X-User": "ada"})
    steps = names(app)
    assert steps[:4] == [
        "wsgi_app WSGI entry",
        "push request context",
        "push app context",
        "open session SecureCookieSessionInterface",
    ]
    order = [
        "match URL /shop/items/3",
        "before_request build_app.<locals>.load_user",
        "before_request (shop) build_app.<locals>.require_user",
        "view shop.show_item",
        "make_response step 14: return value → Response",
        "after_request build_app.<locals>.stamp",
        "pop request context",
        "do_teardown_request steps 21-22: teardown_request",
        "pop app context",
    ]
    positions = [steps.index(step) for step in order]
    assert positions == sorted(positions)


def test_the_before_request_function_that_short_circuits_is_marked() -> None:
    app = build_app()
    response = app.test_client().get("/shop/items/3")
    assert response.status_code == 401
    trace = last_trace(app)
    guard = next(step for step in _walk(trace.root) if step.detail.endswith("require_user"))
    assert any("short-circuit" in note for note in guard.notes)
    assert not any(name.startswith("view ") for name in trace.names())


def test_an_error_handler_is_traced_under_the_exception_handling() -> None:
    app = build_app()
    app.test_client().get("/shop/broken", headers={"X-User": "ada"})
    steps = names(app)
    handled = steps.index("handle_user_exception step 13: error handlers")
    handler = steps.index("error handler for LookupError build_app.<locals>.lookup_failed")
    view = steps.index("view shop.broken")
    assert view < handled < handler
    view_step = next(s for s in _walk(last_trace(app).root) if s.name == "view")
    assert view_step.notes == ["raised LookupError"]


def test_signals_with_receivers_are_traced_with_their_receivers() -> None:
    app = build_app()
    seen: list[str] = []

    def on_finished(sender: Any, **extra: Any) -> None:
        seen.append("finished")

    miniflask.request_finished.connect(on_finished, app)
    try:
        app.test_client().get("/shop/items/1", headers={"X-User": "ada"})
    finally:
        miniflask.request_finished.disconnect(on_finished, app)
    assert seen == ["finished"]
    assert any(
        name.startswith("signal request_finished → ") and "on_finished" in name
        for name in names(app)
    )


def test_steps_have_timings_and_the_tree_prints() -> None:
    app = build_app()
    app.test_client().get("/shop/items/1", headers={"X-User": "ada"})
    trace = last_trace(app)
    assert trace.root.duration_ms > 0
    assert all(step.end_ns >= step.start_ns for step in _walk(trace.root))
    text = trace.format()
    assert text.startswith("GET /shop/items/1")
    assert "└─ wsgi_app WSGI entry" in text


def test_tracing_off_leaves_the_app_untouched() -> None:
    app = build_app(trace=False)
    view = app.view_functions["shop.show_item"]
    app.test_client().get("/shop/items/1", headers={"X-User": "ada"})
    assert EXTENSION_KEY not in app.extensions
    assert app.view_functions["shop.show_item"] is view
    assert "wsgi_app" not in vars(app)


def test_the_environment_variable_turns_tracing_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINIFLASK_TRACE", "1")
    app = build_app(trace=False)
    app.test_client().get("/shop/items/1")
    assert EXTENSION_KEY in app.extensions


def test_the_traced_app_answers_exactly_as_the_untraced_one() -> None:
    traced, plain = build_app(True).test_client(), build_app(False).test_client()
    for path, headers in [("/shop/items/2", {"X-User": "a"}), ("/shop/items/2", {}), ("/x", {})]:
        a, b = traced.get(path, headers=headers), plain.get(path, headers=headers)
        assert (a.status_code, a.data, a.headers.get("X-Stamp")) == (
            b.status_code,
            b.data,
            b.headers.get("X-Stamp"),
        )


def _walk(step: Any) -> list[Any]:
    found = []
    for child in step.children:
        found.append(child)
        found.extend(_walk(child))
    return found


@pytest.fixture
def app_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "trace_target.py").write_text(
        "from miniflask import Flask, request\n"
        "app = Flask(__name__)\n"
        "@app.post('/echo')\n"
        "def echo():\n"
        "    return {'body': request.get_json(), 'who': request.headers.get('X-Who')}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    # The command line sets FLASK_RUN_FROM_CLI for the process; keep it to this test.
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "")
    return "trace_target:app"


def run_trace(app_module: str, *args: str) -> Result:
    """``miniflask --app app_module trace ...``, in-process."""
    return CliRunner().invoke(cli, ["--app", app_module, "trace", *args])


def test_trace_command_prints_the_tree(app_module: str) -> None:
    result = run_trace(app_module, "post", "/echo", "-H", "X-Who: me", "--json-body", '{"a":1}')
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("POST /echo")
    assert "view echo" in result.stdout
    assert "→ 200 OK" in result.stdout


def test_trace_command_sends_the_headers_and_body(app_module: str) -> None:
    from trace_target import app  # type: ignore[import-not-found]

    headers = {"X-Who": "me", "Content-Type": "application/json"}
    expected = app.test_client().post("/echo", data='{"a": 1}', headers=headers).get_data()
    args = ["-H", "X-Who: me", "-H", "Content-Type: application/json", "--data", '{"a": 1}']
    result = run_trace(app_module, "POST", "/echo", *args)
    assert result.exit_code == 0, result.output
    assert b'"who":"me"' in expected
    assert result.stdout.endswith(f"→ 200 OK, {len(expected)} bytes\n")


def test_trace_command_emits_json(app_module: str) -> None:
    result = run_trace(app_module, "POST", "/echo", "--json-body", "[]", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["status"] == 200
    assert document["trace"]["children"][0]["name"] == "wsgi_app"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-H", "no colon"], "Name: value"),
        (["--json-body", "{oops"], "not valid JSON"),
        (["--json-body", "[]", "--data", "x"], "not both"),
    ],
)
def test_trace_command_rejects_bad_arguments(
    app_module: str, args: list[str], message: str
) -> None:
    result = run_trace(app_module, "POST", "/echo", *args)
    assert result.exit_code == 2
    assert message in result.stderr
