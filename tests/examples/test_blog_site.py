"""Tests for ``examples/blog_site``: the same site, on Flask and on miniflask.

Each test runs twice (``site`` is parametrised over the two frameworks), and
:func:`test_both_frameworks_render_identical_pages` compares a whole visit
page by page.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def blog_site(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The ``examples.blog_site`` package (the repository root is not always on sys.path)."""
    monkeypatch.syspath_prepend(str(ROOT))
    return importlib.import_module("examples.blog_site")


@pytest.fixture(params=["flask", "miniflask"])
def client(request: pytest.FixtureRequest, blog_site: ModuleType) -> Any:
    app = blog_site.create_app(request.param, TESTING=True)
    return app.test_client()


def login(client: Any, name: str = "ada", **extra: str) -> Any:
    return client.post("/auth/login", data={"name": name, **extra}, follow_redirects=True)


def test_create_app_uses_the_requested_framework(blog_site: ModuleType) -> None:
    import flask

    import miniflask

    assert isinstance(blog_site.create_app("flask"), flask.Flask)
    assert isinstance(blog_site.create_app("miniflask"), miniflask.Flask)


def test_framework_defaults_to_environment_then_miniflask(
    blog_site: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flask

    import miniflask

    monkeypatch.delenv("FRAMEWORK", raising=False)
    assert isinstance(blog_site.create_app(), miniflask.Flask)
    monkeypatch.setenv("FRAMEWORK", "flask")
    assert isinstance(blog_site.create_app(), flask.Flask)


def test_home_redirects_to_the_post_list(client: Any) -> None:
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/blog/posts/"


def test_empty_blog_says_so_and_offers_login(client: Any) -> None:
    page = client.get("/blog/posts/").text
    assert "No posts yet." in page
    assert '<a href="/auth/login">Log in</a>' in page
    assert '<form method="post">' not in page


def test_login_page_comes_from_the_blueprint_template_folder(client: Any) -> None:
    page = client.get("/auth/login").text
    assert "<title>Log in · A tiny blog</title>" in page
    assert 'name="remember"' in page


def test_login_greets_once_with_a_flashed_message(client: Any) -> None:
    page = login(client).text
    assert '<p class="flash success">Welcome, ada!</p>' in page
    assert "<span>Hello, ada</span>" in page
    assert "Welcome, ada!" not in client.get("/blog/posts/").text


def test_login_without_name_is_a_400_with_an_error(client: Any) -> None:
    response = client.post("/auth/login", data={"name": "  "})
    assert response.status_code == 400
    assert '<p class="flash error">Please enter a name.</p>' in response.text


def test_remember_me_makes_the_session_cookie_permanent(client: Any) -> None:
    browser_session = client.post("/auth/login", data={"name": "ada"})
    assert "Expires" not in browser_session.headers["Set-Cookie"]
    remembered = client.post("/auth/login", data={"name": "ada", "remember": "on"})
    assert "Expires" in remembered.headers["Set-Cookie"]
    assert "SameSite=Lax" in remembered.headers["Set-Cookie"]


def test_writing_needs_login_and_comes_back_after(client: Any) -> None:
    response = client.post("/blog/posts/", data={"title": "t", "body": "b"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=/blog/posts/"
    assert "Log in to write a post." in client.get("/auth/login").text


def test_publishing_a_post_shows_it_with_nested_blueprint_context(client: Any) -> None:
    login(client)
    response = client.post(
        "/blog/posts/", data={"title": "<Hello>", "body": "First post!"}, follow_redirects=True
    )
    assert response.request.path == "/blog/posts/1"
    page = response.text
    assert "<h1>&lt;Hello&gt;</h1>" in page  # autoescaped
    assert "by ada in blog" in page  # "section" comes from the parent blueprint's processor
    assert "Published “&lt;Hello&gt;”." in page


def test_post_list_uses_the_excerpt_filter_newest_first(client: Any) -> None:
    login(client)
    client.post("/blog/posts/", data={"title": "Old", "body": "short"})
    client.post("/blog/posts/", data={"title": "New", "body": "x" * 100})
    page = client.get("/blog/posts/").text
    assert page.index(">New<") < page.index(">Old<")
    assert "x" * 39 + "…" in page
    assert "short <small>by ada</small>" in page


def test_incomplete_post_is_a_400(client: Any) -> None:
    login(client)
    response = client.post("/blog/posts/", data={"title": "no body"})
    assert response.status_code == 400
    assert "A post needs a title and a body." in response.text


def test_unknown_post_is_a_404(client: Any) -> None:
    assert client.get("/blog/posts/99").status_code == 404


def test_logout_forgets_the_user(client: Any) -> None:
    login(client)
    page = client.post("/auth/logout", follow_redirects=True).text
    assert "You are logged out." in page
    assert '<a href="/auth/login">Log in</a>' in page


def test_static_stylesheet_is_linked_and_served(client: Any) -> None:
    assert 'href="/static/style.css"' in client.get("/auth/login").text
    response = client.get("/static/style.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"


VISIT: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "/", {}),
    ("GET", "/blog/posts/", {}),
    ("POST", "/blog/posts/", {"data": {"title": "x", "body": "y"}}),
    ("GET", "/auth/login", {}),
    ("POST", "/auth/login", {"data": {"name": ""}}),
    ("POST", "/auth/login", {"data": {"name": "ada", "remember": "on"}}),
    ("GET", "/blog/posts/", {}),
    ("POST", "/blog/posts/", {"data": {"title": "Hi <there>", "body": "A" * 60}}),
    ("GET", "/blog/posts/1", {}),
    ("GET", "/blog/posts/", {}),
    ("GET", "/blog/posts/2", {}),
    ("POST", "/auth/logout", {}),
    ("GET", "/blog/posts/", {}),
]


def _visit(blog_site: ModuleType, framework: str) -> list[tuple[int, str | None, str, str]]:
    client = blog_site.create_app(framework).test_client()
    pages = []
    for method, path, kwargs in VISIT:
        response = client.open(path, method=method, **kwargs)
        pages.append(
            (
                response.status_code,
                response.headers.get("Location"),
                response.headers.get("Vary", ""),
                re.sub(r"\s+", " ", response.text),
            )
        )
    return pages


def test_both_frameworks_render_identical_pages(blog_site: ModuleType) -> None:
    on_flask = _visit(blog_site, "flask")
    on_miniflask = _visit(blog_site, "miniflask")
    for step, (expected, actual) in enumerate(zip(on_flask, on_miniflask, strict=True)):
        assert actual == expected, f"step {step}: {VISIT[step][:2]}"


def test_miniflask_cli_finds_the_factory_and_lists_nested_routes(
    blog_site: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from miniflask.cli import cli

    monkeypatch.delenv("FRAMEWORK", raising=False)
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "")  # the command sets it; keep it to this test
    result = CliRunner().invoke(cli, ["--app", "examples.blog_site", "routes", "--sort", "rule"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[2:]] == [
        "index",
        "auth.login",
        "auth.logout",
        "blog.posts.post_list",
        "blog.posts.post_detail",
        "static",
    ]
