"""Tests for async views, hooks and handlers: Flask.ensure_sync, async_to_sync and their users.

Most tests build the same app on Flask and on miniflask (the ``fw`` fixture)
and check both answer the same way.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import sys
import threading
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

import miniflask
from miniflask.tracing import EXTENSION_KEY
from miniflask.views import MethodView, View


class AppError(Exception):
    pass


class BlueprintError(Exception):
    pass


def _build(fw: ModuleType, events: list[str]) -> Any:
    """An app whose views, hooks and handlers are ``async def``, in the app and a blueprint."""
    app = fw.Flask("async_app")
    app.secret_key = "async"

    @app.before_request
    async def before() -> None:
        await asyncio.sleep(0)
        fw.g.seen = ["before"]

    @app.after_request
    async def after(response: Any) -> Any:
        response.headers["X-After"] = "async"
        return response

    @app.teardown_request
    async def teardown(exc: BaseException | None) -> None:
        events.append(f"teardown_request {fw.request.path}")

    @app.teardown_appcontext
    async def teardown_app(exc: BaseException | None) -> None:
        events.append("teardown_appcontext")

    @app.context_processor
    async def inject() -> dict[str, str]:
        return {"who": "async processor"}

    @app.errorhandler(AppError)
    async def handle(e: AppError) -> tuple[str, int]:
        return "app handler", 412

    @app.route("/", methods=["GET", "POST"])
    async def index() -> str:
        await asyncio.sleep(0)
        fw.session["visits"] = fw.session.get("visits", 0) + 1
        return f"{fw.request.method} {fw.g.seen} {fw.session['visits']}"

    @app.get("/error")
    async def error() -> str:
        raise AppError()

    @app.get("/render")
    def render() -> str:
        # A plain view: inside an async one the processor's coroutine would
        # need a second event loop in the thread that runs the first, which
        # asgiref refuses (on Flask as well).
        return str(fw.render_template_string("{{ who }}"))

    blueprint = fw.Blueprint("bp", __name__)

    @blueprint.before_request
    async def bp_before() -> None:
        fw.g.seen.append("bp_before")

    @blueprint.errorhandler(BlueprintError)
    async def bp_handle(e: BlueprintError) -> tuple[str, int]:
        return "bp handler", 418

    @blueprint.get("/")
    async def bp_index() -> str:
        return str(fw.g.seen)

    @blueprint.get("/error")
    async def bp_error() -> str:
        raise BlueprintError()

    app.register_blueprint(blueprint, url_prefix="/bp")
    return app


def test_async_views_and_hooks_run_with_the_request_g_and_session(fw: ModuleType) -> None:
    events: list[str] = []
    client = _build(fw, events).test_client()
    response = client.post("/")
    assert response.data == b"POST ['before'] 1"
    assert response.headers["X-After"] == "async"
    # The session changed inside the coroutine was saved: the cookie counts on.
    assert client.get("/").data == b"GET ['before'] 2"
    assert events == ["teardown_request /", "teardown_appcontext"] * 2


def test_async_blueprint_hooks_and_views(fw: ModuleType) -> None:
    client = _build(fw, []).test_client()
    assert client.get("/bp/").data == b"['before', 'bp_before']"


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [("/error", 412, b"app handler"), ("/bp/error", 418, b"bp handler")],
)
def test_async_error_handlers(fw: ModuleType, path: str, status: int, body: bytes) -> None:
    response = _build(fw, []).test_client().get(path)
    assert (response.status_code, response.data) == (status, body)


def test_async_context_processor(fw: ModuleType) -> None:
    assert _build(fw, []).test_client().get("/render").data == b"async processor"


class AsyncView(View):
    methods = ["GET", "POST"]

    async def dispatch_request(self) -> str:
        await asyncio.sleep(0)
        return f"view {miniflask.request.method}"


class AsyncMethodView(MethodView):
    async def get(self) -> str:
        return "async get"

    def post(self) -> str:
        return "plain post"


@pytest.mark.parametrize("init_every_request", [True, False])
def test_class_based_views_may_be_async(init_every_request: bool) -> None:
    app = miniflask.Flask("views")
    view = type("View", (AsyncView,), {"init_every_request": init_every_request})
    app.add_url_rule("/view", view_func=view.as_view("view"))
    app.add_url_rule("/method", view_func=AsyncMethodView.as_view("method"))
    client = app.test_client()
    assert client.get("/view").data == b"view GET"
    assert client.post("/view").data == b"view POST"
    assert client.get("/method").data == b"async get"
    assert client.head("/method").status_code == 200  # HEAD falls back to the async get
    assert client.post("/method").data == b"plain post"


def test_class_based_async_views_answer_like_flasks(fw: ModuleType) -> None:
    views = importlib.import_module(f"{fw.__name__}.views")

    class Hello(views.MethodView):
        async def get(self, name: str) -> str:
            await asyncio.sleep(0)
            return f"hello {name} from {fw.request.path}"

    app = fw.Flask("views")
    app.add_url_rule("/hello/<name>", view_func=Hello.as_view("hello"))
    assert app.test_client().get("/hello/ada").data == b"hello ada from /hello/ada"


def test_each_call_runs_on_a_new_event_loop_in_another_thread(fw: ModuleType) -> None:
    loops: list[asyncio.AbstractEventLoop] = []
    threads: list[int] = []
    app = fw.Flask("loops")

    @app.get("/")
    async def index() -> str:
        loops.append(asyncio.get_running_loop())
        threads.append(threading.get_ident())
        return ""

    client = app.test_client()
    client.get("/")
    client.get("/")
    assert loops[0] is not loops[1]
    assert all(loop.is_closed() for loop in loops)
    assert threading.get_ident() not in threads


def test_an_overridden_ensure_sync_is_asked_about_every_function(fw: ModuleType) -> None:
    class RecordingFlask(fw.Flask):  # type: ignore[name-defined,misc]
        def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
            asked.append(getattr(func, "__name__", repr(func)))
            return super().ensure_sync(func)

    asked: list[str] = []
    app = RecordingFlask("recording")
    app.before_request(lambda: None)
    app.after_request(lambda response: response)
    app.teardown_request(lambda exc: None)
    app.teardown_appcontext(lambda exc: None)

    @app.errorhandler(404)
    def not_found(e: Exception) -> tuple[str, int]:
        return fw.render_template_string("missing"), 404

    @app.get("/")
    def index() -> str:
        return "plain"

    client = app.test_client()
    client.get("/")
    on_view = list(asked)
    asked.clear()
    client.get("/missing")
    assert on_view == ["<lambda>", "index", "<lambda>", "<lambda>", "<lambda>"]
    assert asked == [
        "<lambda>",
        "not_found",
        "_default_template_ctx_processor",
        "<lambda>",
        "<lambda>",
        "<lambda>",
    ]


def test_an_overridden_async_to_sync_runs_the_coroutines(fw: ModuleType) -> None:
    """Flask's docs show this for gevent: coroutines run on a loop the program owns."""
    loop = asyncio.new_event_loop()

    class OwnLoopFlask(fw.Flask):  # type: ignore[name-defined,misc]
        def async_to_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
            def run(*args: Any, **kwargs: Any) -> Any:
                return loop.run_until_complete(func(*args, **kwargs))

            return run

    app = OwnLoopFlask("own_loop")

    @app.get("/")
    async def index() -> str:
        return str(asyncio.get_running_loop() is loop)

    try:
        assert app.test_client().get("/").data == b"True"
    finally:
        loop.close()


def test_without_asgiref_an_async_view_fails_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "asgiref.sync", None)  # makes the import fail
    app = miniflask.Flask("no_asgiref")
    app.testing = True

    @app.get("/")
    async def index() -> str:
        return ""

    with pytest.raises(
        RuntimeError,
        match=r"^Install miniflask with the 'async' extra in order to use async views\.$",
    ):
        app.test_client().get("/")


def test_a_sync_app_calls_its_functions_without_asking_ensure_sync() -> None:
    """The PERF short cut of Flask._sync; so, unlike Flask, an ensure_sync set on the object
    (not the class) is not asked about plain functions."""
    app = miniflask.Flask("plain")
    app.before_request(lambda: None)

    @app.get("/")
    def index() -> str:
        return "plain"

    asked: list[Any] = []
    real = app.ensure_sync
    app.ensure_sync = lambda func: asked.append(func) or real(func)  # type: ignore[method-assign]
    assert app.test_client().get("/").data == b"plain"
    assert asked == []


def test_an_async_hook_registered_after_the_app_looked_is_still_found() -> None:
    app = miniflask.Flask("late")

    @app.get("/")
    def index() -> str:
        return miniflask.g.get("hook", "no hook")

    with app.test_request_context("/"):
        assert app.preprocess_request() is None  # the app looks at its functions here

    @app.before_request
    async def hook() -> None:
        miniflask.g.hook = "async hook ran"

    assert app.test_client().get("/").data == b"async hook ran"


@dataclasses.dataclass
class Greeter:
    """A callable dataclass: unhashable (eq=True), and still a valid view."""

    greeting: str

    def __call__(self) -> str:
        return self.greeting


def test_unhashable_callables_work_beside_async_functions(fw: ModuleType) -> None:
    app = fw.Flask("unhashable")
    app.add_url_rule("/", "greet", Greeter("hi"))

    @app.get("/async")
    async def coro() -> str:
        return "async"

    client = app.test_client()
    assert client.get("/").data == b"hi"
    assert client.get("/async").data == b"async"


def test_copy_current_request_context_runs_an_async_function(fw: ModuleType) -> None:
    app = fw.Flask("copy")
    results: list[str] = []

    @app.get("/")
    def index() -> str:
        @fw.copy_current_request_context
        async def work() -> None:
            await asyncio.sleep(0)
            results.append(fw.request.path)

        thread = threading.Thread(target=work)
        thread.start()
        thread.join()
        return ""

    app.test_client().get("/")
    assert results == ["/"]


def test_async_signal_receivers_are_run(fw: ModuleType) -> None:
    app = fw.Flask("signals")
    received: list[str] = []

    async def on_started(sender: Any, **extra: Any) -> None:
        received.append(f"started {fw.request.path}")

    app.get("/")(lambda: "")
    with fw.request_started.connected_to(on_started, app):
        app.test_client().get("/")
    assert received == ["started /"]


def test_stream_with_context_inside_an_async_view(fw: ModuleType) -> None:
    app = fw.Flask("stream")
    app.secret_key = "stream"

    @app.get("/")
    async def index() -> Any:
        fw.session["test"] = "flask"

        @fw.stream_with_context
        def gen() -> Iterator[str]:
            yield fw.session["test"]

        return fw.Response(gen())

    client = app.test_client()
    client.get().close()  # closed without reading the stream
    assert client.get().text == "flask"
    with client:
        assert client.get().text == "flask"


def test_a_traced_async_view_runs_and_is_recorded() -> None:
    app = miniflask.Flask("traced")
    app.config["TRACE"] = True

    @app.get("/")
    async def index() -> str:
        await asyncio.sleep(0)
        return "traced"

    @app.before_request
    async def hook() -> None:
        pass

    assert app.test_client().get("/").data == b"traced"
    trace = app.extensions[EXTENSION_KEY].last
    assert "view index" in trace.names()
    assert any("before_request" in name and "hook" in name for name in trace.names())
    assert "async: run by ensure_sync on an event loop" in trace.format()
