"""Tests for the request hooks and the signals around them, and their order.

The decorators (``before_request``, ``after_request``, ``teardown_request``,
``context_processor`` ...) are in ``miniflask/registry.py``; ``app.py`` runs
the functions at their steps of the request, and ``signals.py`` holds the
signals sent between them (see ``docs/hooks-and-signals.md``).

Where a test takes ``fw``, it runs on real Flask as well: it states Flask's
behaviour, and miniflask must match it.
"""

from __future__ import annotations

import logging
from types import ModuleType
from typing import Any

import pytest

from miniflask import Flask, Response, abort, render_template_string

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
