"""Extensions: ``app.extensions`` and the ``init_app`` pattern, on Flask and miniflask.

A Flask extension is a plain object that attaches itself to an app: it keeps
its per-app state in ``app.extensions[name]``, registers hooks, and finds the
app at request time through ``current_app`` — so one extension object can
serve several apps made by an app factory. The small ``RequestCounter``
below is written against the framework module it is given, and the tests run
it on both frameworks.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest


class RequestCounter:
    """Counts requests per endpoint, per app; exposes the count on ``g``.

    Usage, the factory way::

        counter = RequestCounter(fw)

        def create_app():
            app = fw.Flask(__name__)
            counter.init_app(app)
            return app
    """

    def __init__(self, fw: ModuleType, app: Any = None) -> None:
        self.fw = fw
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Any) -> None:
        """Attach to ``app``: per-app state in ``app.extensions``, plus two hooks."""
        app.config.setdefault("COUNTER_HEADER", "X-Request-Count")
        app.extensions["request_counter"] = {"counts": {}, "closed": 0}
        app.before_request(self._count)
        app.after_request(self._add_header)
        app.teardown_appcontext(self._close)

    @property
    def state(self) -> dict[str, Any]:
        """This app's state: the extension object itself holds none."""
        return self.fw.current_app.extensions["request_counter"]  # type: ignore[no-any-return]

    def _count(self) -> None:
        counts = self.state["counts"]
        endpoint = self.fw.request.endpoint
        counts[endpoint] = counts.get(endpoint, 0) + 1
        self.fw.g.request_count = counts[endpoint]

    def _add_header(self, response: Any) -> Any:
        header = self.fw.current_app.config["COUNTER_HEADER"]
        response.headers[header] = str(self.fw.g.request_count)
        return response

    def _close(self, exc: BaseException | None) -> None:
        self.state["closed"] += 1


def create_app(fw: ModuleType, counter: RequestCounter, name: str) -> Any:
    app = fw.Flask(name)
    counter.init_app(app)

    @app.get("/hello")
    def hello() -> str:
        return f"hello #{fw.g.request_count}"

    return app


def test_init_app_keeps_state_per_app_in_app_extensions(fw: ModuleType) -> None:
    counter = RequestCounter(fw)
    first, second = create_app(fw, counter, "first"), create_app(fw, counter, "second")
    for _ in range(3):
        first.test_client().get("/hello")
    response = second.test_client().get("/hello")
    assert response.get_data(as_text=True) == "hello #1"
    assert response.headers["X-Request-Count"] == "1"
    assert first.extensions["request_counter"]["counts"] == {"hello": 3}
    assert second.extensions["request_counter"]["counts"] == {"hello": 1}


def test_extension_hooks_and_teardown_run_for_each_request(fw: ModuleType) -> None:
    counter = RequestCounter(fw)
    app = create_app(fw, counter, "hooks")
    client = app.test_client()
    client.get("/hello")
    client.get("/hello")
    assert app.extensions["request_counter"]["closed"] == 2


def test_extension_reads_its_config_at_request_time(fw: ModuleType) -> None:
    counter = RequestCounter(fw)
    app = create_app(fw, counter, "configured")
    app.config["COUNTER_HEADER"] = "X-Count"
    assert app.test_client().get("/hello").headers["X-Count"] == "1"


def test_extension_outside_an_app_context_fails_with_flasks_message(fw: ModuleType) -> None:
    counter = RequestCounter(fw)
    with pytest.raises(RuntimeError, match="Working outside of application context"):
        counter.state  # noqa: B018


def test_extension_given_the_app_directly_initialises_at_once(fw: ModuleType) -> None:
    app = fw.Flask("direct")
    RequestCounter(fw, app)
    assert "request_counter" in app.extensions
