"""Tests for ``miniflask/app.py``: the app object itself.

The app is a WSGI callable (and stays one inside middleware), ``run`` hands it
to Werkzeug's server, setup methods fail once it has handled a request, and
its instance folder sits beside its package. The life of a request through
the app is tested by concept: ``test_routing.py``, ``test_url_for.py``,
``test_make_response.py``, ``test_hooks_and_signals.py``, ``test_errors.py``,
``test_wrappers.py`` (request bodies, what a view sees of the request) and
``test_ctx.py``.

Where a test takes ``fw``, it runs on real Flask as well: it states Flask's
behaviour, and miniflask must match it.
"""

from __future__ import annotations

import gc
import weakref
from types import ModuleType
from typing import Any

import pytest
import werkzeug.serving
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.test import create_environ

from miniflask import Blueprint, Flask, request, url_for


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
