"""Tests for miniflask/testing.py: the test client and test_request_context."""

from __future__ import annotations

import importlib.metadata
from types import ModuleType
from typing import Any

import pytest
from werkzeug.test import EnvironBuilder as WerkzeugEnvironBuilder

import miniflask
from miniflask import g, request, session


@pytest.fixture
def app() -> miniflask.Flask:
    app = miniflask.Flask("testing_app")
    app.testing = True
    app.secret_key = "test"

    @app.post("/echo")
    def echo() -> Any:
        return {"json": request.get_json(), "agent": request.user_agent.string}

    @app.get("/login")
    def login() -> str:
        session["user"] = request.args["user"]
        g.logged_in = True
        return "ok"

    @app.get("/me")
    def me() -> str:
        return session.get("user", "anonymous")

    return app


def test_json_argument_sends_a_json_body(app: miniflask.Flask) -> None:
    response = app.test_client().post("/echo", json={"a": [1, 2]})
    assert response.get_json()["json"] == {"a": [1, 2]}


def test_cookies_are_kept_between_requests(app: miniflask.Flask) -> None:
    client = app.test_client()
    client.get("/login?user=ada")
    assert client.get("/me").text == "ada"


def test_clients_do_not_share_cookies(app: miniflask.Flask) -> None:
    app.test_client().get("/login?user=ada")
    assert app.test_client().get("/me").text == "anonymous"


def test_use_cookies_false_keeps_nothing(app: miniflask.Flask) -> None:
    client = app.test_client(use_cookies=False)
    client.get("/login?user=ada")
    assert client.get("/me").text == "anonymous"


def test_with_client_keeps_the_last_requests_context(app: miniflask.Flask) -> None:
    with app.test_client() as client:
        client.get("/login?user=ada")
        assert request.path == "/login"
        assert session["user"] == "ada"
        assert g.logged_in is True
    # Leaving the block pops the contexts (the autouse fixture checks none leak).
    assert not miniflask.has_request_context()


def test_with_client_tears_down_like_flask(fw: ModuleType) -> None:
    """Flask runs teardown when the response is made *and* again when the kept
    context is released (by the next request or the end of the block)."""
    app = fw.Flask("teardown")
    torn_down: list[str] = []
    app.teardown_request(lambda exc: torn_down.append(fw.request.full_path))
    app.add_url_rule("/<name>", "page", lambda name: name)
    with app.test_client() as client:
        client.get("/a")
        assert fw.request.path == "/a"
        client.get("/b")
        assert fw.request.path == "/b"
    assert torn_down == ["/a?", "/a?", "/b?", "/b?"]


def test_nesting_with_client_is_an_error(app: miniflask.Flask) -> None:
    client = app.test_client()
    with client, pytest.raises(RuntimeError, match="Cannot nest"), client:
        pass


def test_session_transaction_changes_the_next_requests_session(app: miniflask.Flask) -> None:
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["user"] = "grace"
    assert client.get("/me").text == "grace"
    with client.session_transaction() as sess:
        assert sess["user"] == "grace"


def test_test_request_context_uses_server_name_and_application_root(
    app: miniflask.Flask,
) -> None:
    app.config.update(SERVER_NAME="blog.test", APPLICATION_ROOT="/app")
    with app.test_request_context("/x?a=1"):
        assert request.url == "http://blog.test/app/x?a=1"
        assert request.args["a"] == "1"
    with app.test_request_context("/x", subdomain="api", url_scheme="https"):
        assert request.url == "https://api.blog.test/app/x"


def test_client_accepts_a_prepared_environ_builder(app: miniflask.Flask) -> None:
    builder = WerkzeugEnvironBuilder(path="/echo", method="POST", json={"b": 2})
    response = app.test_client().open(builder)
    assert response.get_json()["json"] == {"b": 2}


def test_client_sends_a_user_agent_and_remote_addr(app: miniflask.Flask) -> None:
    @app.get("/who")
    def who() -> str:
        return f"{request.remote_addr} {request.user_agent.string}"

    werkzeug_version = importlib.metadata.version("werkzeug")
    assert app.test_client().get("/who").text == f"127.0.0.1 Werkzeug/{werkzeug_version}"


def test_custom_test_client_class_is_used(app: miniflask.Flask) -> None:
    from miniflask.testing import FlaskClient

    class MyClient(FlaskClient):
        pass

    app.test_client_class = MyClient
    assert isinstance(app.test_client(), MyClient)


# The CLI runner.


def test_cli_runner_runs_app_cli_commands_in_the_app_context(app: miniflask.Flask) -> None:
    import click

    @app.cli.command("hello")
    @click.argument("name")
    def hello(name: str) -> None:
        click.echo(f"hello {name} from {miniflask.current_app.name}")

    runner = app.test_cli_runner()
    by_name = runner.invoke(args=["hello", "ada"])
    by_object = runner.invoke(hello, ["ada"])
    assert (by_name.exit_code, by_name.output) == (0, "hello ada from testing_app\n")
    assert by_object.output == by_name.output


def test_cli_runner_takes_another_script_info(app: miniflask.Flask) -> None:
    import click

    from miniflask.cli import ScriptInfo

    @app.cli.command("name")
    def name() -> None:
        click.echo(miniflask.current_app.name)

    other = ScriptInfo(create_app=lambda: miniflask.Flask("other_app"))
    assert app.test_cli_runner().invoke(name, obj=other).output == "other_app\n"


def test_custom_cli_runner_class_gets_the_app_and_options(app: miniflask.Flask) -> None:
    from miniflask.testing import FlaskCliRunner

    class MyRunner(FlaskCliRunner):
        pass

    app.test_cli_runner_class = MyRunner
    runner = app.test_cli_runner(env={"GREETING": "hi"})
    assert isinstance(runner, MyRunner)
    assert runner.app is app
    assert runner.env == {"GREETING": "hi"}
