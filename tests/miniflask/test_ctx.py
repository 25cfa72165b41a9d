"""Tests for miniflask/ctx.py: pushing, popping and isolating the two contexts.

The last tests are about what lives in a request's contexts: ``g``, fresh for
every request, and ``after_this_request``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

import miniflask
from miniflask import (
    Flask,
    Response,
    after_this_request,
    copy_current_request_context,
    current_app,
    g,
    has_app_context,
    has_request_context,
    request,
    session,
    stream_with_context,
)
from miniflask.globals import _cv_app


def test_app_context_makes_current_app_and_g_available(app: miniflask.Flask) -> None:
    assert not has_app_context()
    with app.app_context():
        assert has_app_context()
        assert current_app._get_current_object() is app  # type: ignore[attr-defined]
        g.value = 42
        assert g.value == 42
    assert not has_app_context()


def test_outside_app_context_raises_flasks_explanation() -> None:
    with pytest.raises(RuntimeError, match="Working outside of application context"):
        current_app.name  # noqa: B018
    with pytest.raises(RuntimeError, match="app_context"):
        g.x  # noqa: B018


def test_outside_request_context_raises_flasks_explanation(app: miniflask.Flask) -> None:
    with app.app_context():
        with pytest.raises(RuntimeError, match="Working outside of request context"):
            request.path  # noqa: B018
        with pytest.raises(RuntimeError, match="Working outside of request context"):
            session.get("x")


def test_g_is_new_for_each_app_context(app: miniflask.Flask) -> None:
    with app.app_context():
        g.user = "ada"
    with app.app_context():
        assert "user" not in g
        assert g.get("user", "nobody") == "nobody"


def test_g_offers_dict_like_helpers(app: miniflask.Flask) -> None:
    with app.app_context():
        assert g.setdefault("a", 1) == 1
        assert g.setdefault("a", 2) == 1
        assert "a" in g
        assert list(g) == ["a"]
        assert g.pop("a") == 1
        assert g.pop("a", None) is None
        with pytest.raises(KeyError):
            g.pop("a")
        assert repr(g) == "<miniflask.g of 'test_app'>"


def test_request_context_pushes_an_app_context_and_pops_it(app: miniflask.Flask) -> None:
    ctx = app.test_request_context("/")
    ctx.push()
    assert has_request_context() and has_app_context()
    assert current_app._get_current_object() is app  # type: ignore[attr-defined]
    ctx.pop()
    assert not has_request_context()
    assert not has_app_context()


def test_request_context_reuses_an_active_app_context_of_the_same_app(
    app: miniflask.Flask,
) -> None:
    with app.app_context() as app_ctx:
        g.marker = "outer"
        with app.test_request_context("/"):
            assert _cv_app.get() is app_ctx
            assert g.marker == "outer"
        # Popping the request did not pop the app context it did not push.
        assert _cv_app.get() is app_ctx


def test_request_context_of_another_app_pushes_its_own_app_context(
    app: miniflask.Flask,
) -> None:
    other = miniflask.Flask("other")
    with app.app_context(), other.test_request_context("/"):
        assert current_app.name == "other"
    assert not has_app_context()


def test_popping_the_wrong_app_context_is_detected(app: miniflask.Flask) -> None:
    first = app.app_context()
    second = app.app_context()
    first.push()
    second.push()
    with pytest.raises(AssertionError, match="Popped wrong app context"):
        first.pop()
    # The ContextVar was still reset to what it was before `first` was pushed.
    assert not has_app_context()


def test_popping_the_wrong_request_context_is_detected(app: miniflask.Flask) -> None:
    first = app.test_request_context("/a")
    second = app.test_request_context("/b")
    first.push()
    second.push()
    with pytest.raises(AssertionError, match="Popped wrong request context"):
        first.pop()
    assert not has_request_context()
    assert not has_app_context()


def test_nested_pushes_of_one_context_tear_down_once(app: miniflask.Flask) -> None:
    calls: list[object] = []
    app.teardown_appcontext(calls.append)
    ctx = app.app_context()
    with ctx:
        with ctx:
            pass
        assert calls == []
    assert calls == [None]


def test_teardown_receives_the_exception_that_ended_the_context(
    app: miniflask.Flask,
) -> None:
    seen: list[BaseException | None] = []
    app.teardown_appcontext(seen.append)
    with pytest.raises(ValueError), app.app_context():
        raise ValueError("boom")
    assert isinstance(seen[0], ValueError)


def test_request_context_matches_the_url_when_pushed(app: miniflask.Flask) -> None:
    @app.get("/posts/<int:post_id>")
    def show(post_id: int) -> str:
        return ""

    with app.test_request_context("/posts/7"):
        assert request.endpoint == "show"
        assert request.view_args == {"post_id": 7}
    with app.test_request_context("/nope"):
        assert request.url_rule is None
        assert request.routing_exception is not None
        assert request.routing_exception.code == 404


def _request_path_in_thread(app: miniflask.Flask, path: str, barrier: threading.Barrier) -> str:
    with app.test_request_context(path):
        g.path = path
        barrier.wait()  # every thread has pushed before any reads
        return f"{request.path}|{g.path}"


def test_concurrent_requests_in_threads_see_only_their_own_request(
    app: miniflask.Flask,
) -> None:
    paths = [f"/item/{i}" for i in range(8)]
    barrier = threading.Barrier(len(paths))
    results: dict[str, str] = {}

    def work(path: str) -> None:
        results[path] = _request_path_in_thread(app, path, barrier)

    threads = [threading.Thread(target=work, args=(path,)) for path in paths]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert results == {path: f"{path}|{path}" for path in paths}


def test_a_context_pushed_in_one_thread_is_invisible_in_another(
    app: miniflask.Flask,
) -> None:
    seen: list[bool] = []
    with app.test_request_context("/"):
        thread = threading.Thread(
            target=lambda: seen.append(has_request_context() or has_app_context())
        )
        thread.start()
        thread.join(timeout=10)
    assert seen == [False]


def test_concurrent_asyncio_tasks_see_only_their_own_request_and_g(
    app: miniflask.Flask,
) -> None:
    async def handle(path: str) -> str:
        with app.test_request_context(path):
            g.path = path
            await asyncio.sleep(0)  # let the other tasks push their contexts
            await asyncio.sleep(0.001)
            return f"{request.path}|{g.path}"

    async def main() -> list[str]:
        return await asyncio.gather(*(handle(f"/task/{i}") for i in range(20)))

    results = asyncio.run(main())
    assert results == [f"/task/{i}|/task/{i}" for i in range(20)]


def test_copy_current_request_context_carries_the_request_into_a_thread(
    app: miniflask.Flask, client: object
) -> None:
    seen: list[str] = []

    @app.get("/work")
    def work() -> str:
        @copy_current_request_context
        def in_thread() -> None:
            seen.append(request.args["q"])

        thread = threading.Thread(target=in_thread)
        thread.start()
        thread.join(timeout=10)
        return "ok"

    app.test_client().get("/work?q=hello")
    assert seen == ["hello"]


def test_copy_current_request_context_outside_a_request_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="request context is active"):
        copy_current_request_context(lambda: None)


def test_after_this_request_runs_only_for_this_request(app: miniflask.Flask) -> None:
    @app.get("/tagged")
    def tagged() -> str:
        @after_this_request
        def add_header(response: miniflask.Response) -> miniflask.Response:
            response.headers["X-Tagged"] = "yes"
            return response

        return "tagged"

    @app.get("/plain")
    def plain() -> str:
        return "plain"

    client = app.test_client()
    assert client.get("/tagged").headers["X-Tagged"] == "yes"
    assert "X-Tagged" not in client.get("/plain").headers


def test_after_this_request_runs_before_after_request_functions(app: miniflask.Flask) -> None:
    order: list[str] = []

    @app.after_request
    def app_hook(response: miniflask.Response) -> miniflask.Response:
        order.append("after_request")
        return response

    @app.get("/")
    def index() -> str:
        after_this_request(lambda response: order.append("after_this_request") or response)
        return ""

    app.test_client().get("/")
    assert order == ["after_this_request", "after_request"]


def test_after_this_request_outside_a_request_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="request context is active"):
        after_this_request(lambda response: response)


def test_stream_with_context_pushes_the_request_again_while_streaming(fw: ModuleType) -> None:
    app = fw.Flask("streaming")
    events: list[str] = []
    app.teardown_request(lambda exc: events.append("teardown_request"))
    app.teardown_appcontext(lambda exc: events.append("teardown_appcontext"))

    @app.get("/stream")
    def stream() -> Iterator[str]:
        fw.g.user = "ada"

        @fw.stream_with_context
        def generate() -> Iterator[str]:
            events.append("streaming")
            yield f"{fw.request.args['greeting']} "
            yield fw.g.user  # the view's g: its app context is pushed again

        return generate()

    response = app.test_client().get("/stream?greeting=hello")
    assert response.data == b"hello ada"
    # As in Flask (3.1.2 on), the request ends when the view returns; the
    # contexts are pushed again for the body and torn down again after it.
    assert events == [
        "teardown_request",
        "teardown_appcontext",
        "streaming",
        "teardown_request",
        "teardown_appcontext",
    ]


def test_stream_with_context_outside_a_request_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="request context is active"):
        stream_with_context(iter(["x"]))


def test_g_is_fresh_for_every_request(app: Flask, client: Any) -> None:
    @app.get("/")
    def index() -> str:
        before = g.get("count", 0)
        g.count = before + 1
        return str(g.count)

    assert [client.get("/").data for _ in range(3)] == [b"1", b"1", b"1"]


def test_after_this_request_runs_for_the_current_request_only(app: Flask, client: Any) -> None:
    @app.get("/")
    def index() -> str:
        if request.args.get("tag"):

            @after_this_request
            def tag(response: Response) -> Response:
                response.headers["X-Tag"] = "yes"
                return response

        return "ok"

    assert client.get("/?tag=1").headers.get("X-Tag") == "yes"
    assert client.get("/").headers.get("X-Tag") is None
