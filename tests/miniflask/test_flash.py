"""Tests for ``flash`` and ``get_flashed_messages`` (``miniflask/helpers.py``).

Flashing keeps messages in the session until the next page reads them. Every
test runs on real Flask and on miniflask (the ``fw`` fixture).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from markupsafe import Markup


def make_app(fw: ModuleType) -> Any:
    """``/flash?m=..&c=..`` flashes; ``/read`` returns what get_flashed_messages gives."""
    app = fw.Flask("flash_app")
    app.testing = True
    app.secret_key = "flash-secret"

    @app.get("/flash")
    def flash_messages() -> str:
        categories = fw.request.args.getlist("c")
        for index, message in enumerate(fw.request.args.getlist("m")):
            if index < len(categories):
                fw.flash(message, categories[index])
            else:
                fw.flash(message)
        return "flashed"

    @app.get("/read")
    def read() -> Any:
        with_categories = "with_categories" in fw.request.args
        category_filter = fw.request.args.getlist("only")
        return {
            "messages": fw.get_flashed_messages(
                with_categories=with_categories, category_filter=category_filter
            )
        }

    return app


def test_flashed_messages_are_read_on_the_next_request_in_order(fw: ModuleType) -> None:
    client = make_app(fw).test_client()
    client.get("/flash?m=one&m=two")
    assert client.get("/read").json == {"messages": ["one", "two"]}


def test_flashed_messages_are_gone_after_being_read(fw: ModuleType) -> None:
    client = make_app(fw).test_client()
    client.get("/flash?m=one")
    client.get("/read")
    assert client.get("/read").json == {"messages": []}


def test_messages_stay_until_a_request_reads_them(fw: ModuleType) -> None:
    client = make_app(fw).test_client()
    client.get("/flash?m=one")
    client.get("/flash?m=two")
    assert client.get("/read").json == {"messages": ["one", "two"]}


def test_with_categories_returns_category_message_pairs(fw: ModuleType) -> None:
    client = make_app(fw).test_client()
    client.get("/flash?m=saved&c=info&m=plain")
    # The default category is "message".
    assert client.get("/read?with_categories=1").json == {
        "messages": [["info", "saved"], ["message", "plain"]]
    }


def test_category_filter_keeps_only_those_categories(fw: ModuleType) -> None:
    client = make_app(fw).test_client()
    client.get("/flash?m=a&c=error&m=b&c=info&m=c&c=warning")
    assert client.get("/read?only=error&only=warning").json == {"messages": ["a", "c"]}


def test_category_filter_still_consumes_the_other_messages(fw: ModuleType) -> None:
    client = make_app(fw).test_client()
    client.get("/flash?m=a&c=error&m=b&c=info")
    client.get("/read?only=error")
    assert client.get("/read").json == {"messages": []}


def test_repeated_reads_in_one_request_see_the_same_messages(fw: ModuleType) -> None:
    app = make_app(fw)

    @app.get("/twice")
    def twice() -> Any:
        first = fw.get_flashed_messages()
        second = fw.get_flashed_messages(with_categories=True)
        return {"first": first, "second": second}

    client = app.test_client()
    client.get("/flash?m=one&c=info")
    assert client.get("/twice").json == {"first": ["one"], "second": [["info", "one"]]}


def test_message_flashed_before_a_redirect_shows_on_the_next_page(fw: ModuleType) -> None:
    app = make_app(fw)

    @app.post("/save")
    def save() -> Any:
        fw.flash("Saved!", "success")
        return fw.redirect(fw.url_for("read"))

    client = app.test_client()
    response = client.post("/save", follow_redirects=True)
    assert response.json == {"messages": ["Saved!"]}


def test_flash_in_same_request_is_readable_in_that_request(fw: ModuleType) -> None:
    app = make_app(fw)

    @app.get("/now")
    def now() -> Any:
        fw.flash("instant")
        return {"messages": fw.get_flashed_messages()}

    assert app.test_client().get("/now").json == {"messages": ["instant"]}


def test_markup_messages_keep_their_markup_type(fw: ModuleType) -> None:
    app = make_app(fw)

    @app.get("/markup")
    def markup() -> str:
        fw.flash(Markup("<b>bold</b>"))
        return "ok"

    @app.get("/render")
    def render() -> str:
        return fw.render_template_string(
            "{% for m in get_flashed_messages() %}{{ m }}|{{ '<i>' }}{% endfor %}"
        )

    client = app.test_client()
    client.get("/markup")
    assert client.get("/render").text == "<b>bold</b>|&lt;i&gt;"


def test_message_flashed_signal_carries_message_and_category(fw: ModuleType) -> None:
    app = make_app(fw)
    received: list[tuple[Any, str, str]] = []

    def record(sender: Any, message: str, category: str) -> None:
        received.append((sender, message, category))

    with fw.message_flashed.connected_to(record, app):
        app.test_client().get("/flash?m=hello&c=info&m=bye")
    assert received == [(app, "hello", "info"), (app, "bye", "message")]


def test_flash_without_secret_key_raises(fw: ModuleType) -> None:
    app = make_app(fw)
    app.secret_key = None
    with pytest.raises(RuntimeError, match="secret key"):
        app.test_client().get("/flash?m=x")


def test_get_flashed_messages_needs_a_request(fw: ModuleType) -> None:
    app = make_app(fw)
    with app.app_context(), pytest.raises(RuntimeError, match="request context"):
        fw.get_flashed_messages()


def test_flashes_are_stored_in_the_session_under_flashes_key(fw: ModuleType) -> None:
    app = make_app(fw)
    with app.test_request_context():
        fw.flash("stored", "info")
        assert fw.session["_flashes"] == [("info", "stored")]
