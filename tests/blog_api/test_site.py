"""Tests for ``blog_api/site/``: the server-rendered reader site, on Flask and miniflask.

The pages are driven through the framework's test client like a browser
would: read the CSRF token out of the form, post it back with the session
cookie. ``tests/integration/test_browser.py`` does the same in a real Chromium.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

from blog_api.models import Comment, User
from blog_api.schemas import PostIn, RegisterIn
from blog_api.services import posts, users
from blog_api.site import security
from blog_api.site.signin import safe_next
from tests.blog_api.conftest import FAST_HASH, PASSWORD, build_app

TOKEN_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
SCRIPT = "<script>alert(1)</script>"


def add_user(app: Any, username: str = "alice") -> int:
    """Register a user straight through the service; return the id."""
    with app.extensions["blog_db"].session_factory() as session:
        data = RegisterIn(username=username, email=f"{username}@example.com", password=PASSWORD)
        return users.register(session, data, FAST_HASH).id


def add_post(app: Any, author_id: int, **fields: Any) -> int:
    """Create a post (published unless said otherwise); return its id."""
    values = {"title": "Hello", "body": "World", "tags": [], "status": "published"}
    values.update(fields)
    with app.extensions["blog_db"].session_factory() as session:
        author = session.get(User, author_id)
        assert author is not None
        post = posts.create_post(session.connection(), author, PostIn(**values))
        session.commit()
        return int(post["id"])


def comment_count(app: Any) -> int:
    """How many comments the database holds."""
    with app.extensions["blog_db"].session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(Comment)) or 0)


def token_from(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = TOKEN_FIELD.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def log_in(client: Any, username: str = "alice", password: str = PASSWORD) -> Any:
    """Open the log-in form and submit it, as a browser would."""
    token = token_from(client.get("/login").get_data(as_text=True))
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )


@pytest.fixture
def alice_id(app: Any) -> int:
    """A registered user "alice" (not logged in)."""
    return add_user(app, "alice")


@pytest.fixture
def post_id(app: Any, alice_id: int) -> int:
    """A published post by alice."""
    return add_post(app, alice_id, title="First post", body="Some text")


@pytest.fixture
def logged_in(client: Any, alice_id: int) -> Any:
    """The test client with alice logged in through the form."""
    response = log_in(client)
    assert response.status_code == 303
    return client


def test_front_page_lists_published_posts_newest_first(client: Any, alice_id: int) -> None:
    add_post(app=client.application, author_id=alice_id, title="Older")
    add_post(app=client.application, author_id=alice_id, title="Newer", tags=["python"])
    response = client.get("/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert html.index("Newer") < html.index("Older")
    assert 'class="tag">python<' in html


def test_front_page_does_not_list_drafts_even_to_their_author(
    logged_in: Any, alice_id: int
) -> None:
    add_post(logged_in.application, alice_id, title="Visible")
    add_post(logged_in.application, alice_id, title="Secret draft", status="draft")
    html = logged_in.get("/").get_data(as_text=True)
    assert "Visible" in html
    assert "Secret draft" not in html


def test_front_page_paginates_with_prev_next_links(client: Any, alice_id: int) -> None:
    for number in range(12):
        add_post(client.application, alice_id, title=f"Post {number}")
    first = client.get("/").get_data(as_text=True)
    second = client.get("/?page=2").get_data(as_text=True)
    assert "Page 1 of 2" in first and 'rel="next" href="/?page=2"' in first
    assert "Post 0" in second and "Post 11" not in second
    assert client.get("/?page=nonsense").status_code == 200


def test_post_page_shows_the_post_and_its_comments(logged_in: Any, post_id: int) -> None:
    token = token_from(logged_in.get(f"/posts/{post_id}").get_data(as_text=True))
    logged_in.post(f"/posts/{post_id}/comments", data={"body": "Great", "csrf_token": token})
    html = logged_in.get(f"/posts/{post_id}").get_data(as_text=True)
    assert "<h1>First post</h1>" in html
    assert "Some text" in html
    assert "Comments (1)" in html and "Great" in html


def test_someone_elses_draft_and_unknown_posts_are_html_404s(client: Any, alice_id: int) -> None:
    draft = add_post(client.application, alice_id, title="Draft", status="draft")
    for path in (f"/posts/{draft}", "/posts/999"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.mimetype == "text/html"
        assert "<h1>Not Found</h1>" in response.get_data(as_text=True)


def test_post_ids_past_the_integer_range_are_html_404s(client: Any) -> None:
    response = client.get("/posts/99999999999999999999")
    assert response.status_code == 404
    assert response.mimetype == "text/html"


def test_api_errors_stay_json_beside_the_site(client: Any) -> None:
    for path in ("/api/v1/posts/999", "/api/v1/no-such-thing"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.get_json()["type"] == "not_found"
    response = client.post("/api/v1/tags")
    assert response.status_code == 405
    assert response.get_json()["type"] == "method_not_allowed"


@pytest.mark.parametrize("path", ["/", "/posts/1", "/login", "/no/such/page"])
def test_an_untrusted_host_gets_an_html_400_that_links_nowhere(client: Any, path: str) -> None:
    """The framework binds no URL adapter for such a host, so url_for cannot work."""
    response = client.get(path, headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "not trusted" in html and "href=" not in html
    assert response.headers["Content-Security-Policy"] == security.CONTENT_SECURITY_POLICY


def test_unmatched_urls_outside_the_api_get_html_pages(client: Any) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert response.headers["Content-Security-Policy"] == security.CONTENT_SECURITY_POLICY
    response = client.put("/login")
    assert response.status_code == 405
    assert response.mimetype == "text/html"
    assert "POST" in response.headers["Allow"]


def test_titles_bodies_and_comments_are_autoescaped(logged_in: Any, alice_id: int) -> None:
    post = add_post(logged_in.application, alice_id, title=SCRIPT, body=f"{SCRIPT}<b>x</b>")
    token = token_from(logged_in.get(f"/posts/{post}").get_data(as_text=True))
    logged_in.post(f"/posts/{post}/comments", data={"body": SCRIPT, "csrf_token": token})
    for path in ("/", f"/posts/{post}"):
        html = logged_in.get(path).get_data(as_text=True)
        assert "<script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_login_page_starts_an_httponly_samesite_lax_session(client: Any) -> None:
    response = client.get("/login")
    cookie = response.headers["Set-Cookie"]
    assert response.status_code == 200
    assert cookie.startswith("session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_secure_session_cookie_is_configurable(framework: str, config: dict[str, Any]) -> None:
    config["SESSION_COOKIE_SECURE"] = True
    config["SESSION_COOKIE_SAMESITE"] = "Strict"
    app = build_app(framework, config)
    cookie = app.test_client().get("/login").headers["Set-Cookie"]
    assert "Secure" in cookie and "SameSite=Strict" in cookie
    app.extensions["blog_db"].engine.dispose()


def test_secure_session_cookie_comes_from_the_environment(
    framework: str, config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLOG_SESSION_COOKIE_SECURE", "true")
    app = build_app(framework, config)
    assert "Secure" in app.test_client().get("/login").headers["Set-Cookie"]
    app.extensions["blog_db"].engine.dispose()


def test_login_with_the_right_password_redirects_and_greets(client: Any, alice_id: int) -> None:
    response = log_in(client)
    assert response.status_code == 303
    assert response.headers["Location"] in ("/", "http://localhost/")
    html = client.get("/").get_data(as_text=True)
    assert "Welcome, alice!" in html
    assert "Logged in as <strong>alice</strong>" in html


def test_login_returns_to_a_local_next_page(client: Any, post_id: int) -> None:
    html = client.get(f"/login?next=/posts/{post_id}").get_data(as_text=True)
    data = {"username": "alice", "password": PASSWORD, "csrf_token": token_from(html)}
    response = client.post("/login", data={**data, "next": f"/posts/{post_id}"})
    assert response.headers["Location"].endswith(f"/posts/{post_id}")
    token = token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={**data, "csrf_token": token, "next": "//evil.example"})
    assert "evil" not in response.headers["Location"]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/posts/1", "/posts/1"),
        ("/?page=2", "/?page=2"),
        ("//evil.example/", None),
        ("/\\evil.example", None),
        ("https://evil.example/", None),
        ("javascript:alert(1)", None),
        ("", None),
        (None, None),
        ("/\r\nX: y", None),  # would be a header of the redirect
        ("/posts/1\n", None),
        ("/a b", None),
        ("/x\\y", None),
        ("/caf\u00e9", None),  # a browser sends it percent-encoded
        ("/caf%C3%A9?q=%0D%0A#top", "/caf%C3%A9?q=%0D%0A#top"),
        ("/" + "a" * 3000, None),
    ],
)
def test_next_must_be_a_path_on_this_site(target: str | None, expected: str | None) -> None:
    assert safe_next(target) == expected


def test_a_next_with_a_newline_sends_the_user_home_after_logging_in(
    client: Any, alice_id: int
) -> None:
    """It was a 500: Werkzeug refuses to send a Location header holding a newline."""
    html = client.get("/login?next=%2F%0D%0AX:%20y").get_data(as_text=True)
    data = {"username": "alice", "password": PASSWORD, "csrf_token": token_from(html)}
    response = client.post("/login", data={**data, "next": "/\r\nX: y"})
    assert response.status_code == 303
    assert response.headers["Location"] in ("/", "http://localhost/")
    assert "X" not in response.headers


def test_login_with_a_wrong_password_is_refused(client: Any, alice_id: int) -> None:
    response = log_in(client, password="wrong password")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Invalid username or password." in html
    assert "Logged in as" not in client.get("/").get_data(as_text=True)


def test_failed_logins_share_the_api_rate_limit(
    framework: str, config: dict[str, Any], tmp_path: Any
) -> None:

    config["LOGIN_MAX_FAILURES"] = 2
    app = build_app(framework, config)
    add_user(app, "alice")
    client = app.test_client()
    assert log_in(client, password="wrong 1").status_code == 400
    api = client.post("/api/v1/auth/login", json={"username": "alice", "password": "wrong 2"})
    assert api.status_code == 401
    response = log_in(client)  # the right password, but locked out
    assert response.status_code == 429
    assert response.mimetype == "text/html"
    assert int(response.headers["Retry-After"]) > 0
    assert "Too many failed login attempts" in response.get_data(as_text=True)
    app.extensions["blog_db"].engine.dispose()


def test_a_session_cookie_replayed_after_logout_logs_in_no_one(logged_in: Any) -> None:
    copy = logged_in.get_cookie("session").value
    assert "Logged in as" in logged_in.get("/").get_data(as_text=True)
    token = token_from(logged_in.get("/").get_data(as_text=True))
    assert logged_in.post("/logout", data={"csrf_token": token}).status_code == 303
    logged_in.set_cookie("session", copy)  # the cookie as it was before logging out
    response = logged_in.get("/")
    assert "Logged in as" not in response.get_data(as_text=True)
    # ... and the copy is not worth keeping either: the session is emptied.
    assert logged_in.get_cookie("session") is None


def test_a_logout_holds_in_every_worker(framework: str, config: dict[str, Any]) -> None:
    """Two apps on one database stand for two gunicorn workers (or two hosts)."""
    first, second = build_app(framework, config), build_app(framework, config)
    add_user(first)
    browser = first.test_client()
    assert log_in(browser).status_code == 303
    copy = browser.get_cookie("session").value
    elsewhere = second.test_client()
    elsewhere.set_cookie("session", copy)
    assert "Logged in as" in elsewhere.get("/").get_data(as_text=True)
    token = token_from(browser.get("/").get_data(as_text=True))
    assert browser.post("/logout", data={"csrf_token": token}).status_code == 303
    assert "Logged in as" not in elsewhere.get("/").get_data(as_text=True)
    for app in (first, second):
        app.extensions["blog_db"].engine.dispose()


def test_logging_in_again_ends_the_earlier_login(client: Any, alice_id: int) -> None:
    assert log_in(client).status_code == 303
    earlier = client.get_cookie("session").value
    assert log_in(client).status_code == 303
    client.set_cookie("session", earlier)
    assert "Logged in as" not in client.get("/").get_data(as_text=True)


def test_logout_forgets_the_user(logged_in: Any) -> None:
    token = token_from(logged_in.get("/").get_data(as_text=True))
    response = logged_in.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    html = logged_in.get("/").get_data(as_text=True)
    assert "You are logged out." in html
    assert "Logged in as" not in html


def test_only_a_comment_empties_the_api_cache(
    client: Any, post_id: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Logging in or out changes a session, not the data the API's cache holds."""
    cache = client.application.extensions["blog_cache"]
    emptied: list[bool] = []
    invalidate = cache.invalidate
    monkeypatch.setattr(cache, "invalidate", lambda: emptied.append(True) or invalidate())
    assert log_in(client).status_code == 303
    page = client.get(f"/posts/{post_id}").get_data(as_text=True)
    client.post(f"/posts/{post_id}/comments", data={"body": "Hi", "csrf_token": token_from(page)})
    assert emptied == [True]
    client.post("/logout", data={"csrf_token": token_from(client.get("/").get_data(as_text=True))})
    assert emptied == [True]


def test_logging_in_rotates_the_csrf_token(client: Any, post_id: int) -> None:
    before = token_from(client.get("/login").get_data(as_text=True))
    log_in(client)
    after = token_from(client.get(f"/posts/{post_id}").get_data(as_text=True))
    assert after != before
    response = client.post(f"/posts/{post_id}/comments", data={"body": "x", "csrf_token": before})
    assert response.status_code == 400


def test_commenting_needs_a_logged_in_user(client: Any, post_id: int) -> None:
    token = token_from(client.get("/login").get_data(as_text=True))
    html = client.get(f"/posts/{post_id}").get_data(as_text=True)
    assert "to comment." in html and "<textarea" not in html
    response = client.post(f"/posts/{post_id}/comments", data={"body": "Hi", "csrf_token": token})
    assert response.status_code == 303
    assert "/login?next=" in response.headers["Location"]
    assert comment_count(client.application) == 0


def test_a_comment_is_stored_and_the_browser_sent_back_to_it(logged_in: Any, post_id: int) -> None:
    token = token_from(logged_in.get(f"/posts/{post_id}").get_data(as_text=True))
    response = logged_in.post(
        f"/posts/{post_id}/comments", data={"body": "  Nice post  ", "csrf_token": token}
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/posts/{post_id}#comment-1")
    html = logged_in.get(f"/posts/{post_id}").get_data(as_text=True)
    assert "Your comment is posted." in html
    assert '<div class="body">Nice post</div>' in html
    assert comment_count(logged_in.application) == 1


def test_an_empty_comment_is_refused_and_the_form_shown_again(logged_in: Any, post_id: int) -> None:
    token = token_from(logged_in.get(f"/posts/{post_id}").get_data(as_text=True))
    response = logged_in.post(
        f"/posts/{post_id}/comments", data={"body": "   ", "csrf_token": token}
    )
    assert response.status_code == 400
    assert "between 1 and 10,000 characters" in response.get_data(as_text=True)
    assert comment_count(logged_in.application) == 0


def test_commenting_on_an_unknown_post_is_a_404(logged_in: Any) -> None:
    token = token_from(logged_in.get("/").get_data(as_text=True))
    response = logged_in.post("/posts/999/comments", data={"body": "x", "csrf_token": token})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (None, "The form token is missing."),
        ("", "The form token is missing."),
        ("forged-token", "The form token is wrong."),
    ],
)
def test_a_post_without_the_right_csrf_token_is_refused_and_stores_nothing(
    logged_in: Any, post_id: int, token: str | None, reason: str
) -> None:
    data = {"body": "forged"}
    if token is not None:
        data["csrf_token"] = token
    response = logged_in.post(f"/posts/{post_id}/comments", data=data)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert reason in response.get_data(as_text=True)
    assert comment_count(logged_in.application) == 0


def test_a_token_from_another_session_is_refused(app: Any, logged_in: Any, post_id: int) -> None:
    other = app.test_client()
    foreign = token_from(other.get("/login").get_data(as_text=True))
    response = logged_in.post(
        f"/posts/{post_id}/comments", data={"body": "x", "csrf_token": foreign}
    )
    assert response.status_code == 400
    assert comment_count(app) == 0


def test_login_and_logout_need_the_token_too(client: Any, alice_id: int) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 400
    assert "Logged in as" not in client.get("/").get_data(as_text=True)
    log_in(client)
    assert client.post("/logout").status_code == 400
    assert "Logged in as" in client.get("/").get_data(as_text=True)


def test_a_post_without_any_session_is_refused(client: Any, post_id: int) -> None:
    response = client.post(f"/posts/{post_id}/comments", data={"body": "x", "csrf_token": "t"})
    assert response.status_code == 400
    assert "no form token" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example"},
        {"Origin": "http://localhost:8001"},
        {"Origin": "null"},
        {"Referer": "http://evil.example/page"},
    ],
    ids=["other-site", "other-port", "null-origin", "referer"],
)
def test_a_cross_origin_post_is_refused_even_with_a_valid_token(
    logged_in: Any, post_id: int, headers: dict[str, str]
) -> None:
    token = token_from(logged_in.get(f"/posts/{post_id}").get_data(as_text=True))
    response = logged_in.post(
        f"/posts/{post_id}/comments", data={"body": "x", "csrf_token": token}, headers=headers
    )
    assert response.status_code == 400
    assert "Cross-site request refused" in response.get_data(as_text=True)
    assert comment_count(logged_in.application) == 0


def test_a_same_origin_post_is_accepted(logged_in: Any, post_id: int) -> None:
    token = token_from(logged_in.get(f"/posts/{post_id}").get_data(as_text=True))
    response = logged_in.post(
        f"/posts/{post_id}/comments",
        data={"body": "x", "csrf_token": token},
        headers={"Origin": "http://localhost", "Referer": f"http://localhost/posts/{post_id}"},
    )
    assert response.status_code == 303


@pytest.mark.parametrize(
    ("headers", "host", "refused"),
    [
        ({"Origin": "https://blog.example"}, "blog.example", False),
        ({"Origin": "https://BLOG.example"}, "blog.example", False),
        ({"Origin": "https://blog.example.evil"}, "blog.example", True),
        ({"Origin": "https://blog.example:444"}, "blog.example", True),
        ({"Origin": "https://blog.example"}, "blog.example:443", False),
        ({"Origin": "http://blog.example"}, "blog.example:80", False),
        ({"Origin": "https://blog.example:8443"}, "blog.example:8443", False),
        ({"Origin": "https://blog.example:8443"}, "blog.example:443", True),
        ({"Referer": "https://blog.example/x"}, "blog.example", False),
        ({"Referer": "https://blog.example:444/x"}, "blog.example", True),
        ({}, "blog.example", False),
    ],
)
def test_origin_check_compares_host_and_port(
    headers: dict[str, str], host: str, refused: bool
) -> None:
    assert (security.origin_problem(headers, host) is not None) is refused


def test_form_posts_work_behind_the_nginx_proxy(framework: str, config: dict[str, Any]) -> None:
    """The headers deploy/nginx.conf sets, with BLOG_PROXY_HOPS=1: Origin matches."""
    config["PROXY_HOPS"] = 1
    config["TRUSTED_HOSTS"] = ["blog.example.org"]
    app = build_app(framework, config)
    post = add_post(app, add_user(app, "alice"))
    proxy = {
        "X-Forwarded-For": "203.0.113.9",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "blog.example.org",
        "X-Forwarded-Port": "443",
    }
    browser = {**proxy, "Origin": "https://blog.example.org"}
    client = app.test_client()
    token = token_from(client.get("/login", headers=proxy).get_data(as_text=True))
    data = {"username": "alice", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data, headers=browser).status_code == 303
    token = token_from(client.get(f"/posts/{post}", headers=proxy).get_data(as_text=True))
    data = {"body": "Hi from behind the proxy", "csrf_token": token}
    response = client.post(f"/posts/{post}/comments", data=data, headers=browser)
    assert response.status_code == 303
    assert comment_count(app) == 1
    app.extensions["blog_db"].engine.dispose()


def test_pages_carry_the_security_headers(client: Any, post_id: int) -> None:
    for path in ("/", f"/posts/{post_id}", "/login", "/posts/999"):
        headers = client.get(path).headers
        assert headers["Content-Security-Policy"] == security.CONTENT_SECURITY_POLICY
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] == "DENY"
    refused = client.post("/logout")
    assert refused.status_code == 400
    assert refused.headers["Content-Security-Policy"] == security.CONTENT_SECURITY_POLICY


def test_the_policy_is_strict() -> None:
    policy = security.CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy and "form-action 'self'" in policy


def test_templates_need_no_inline_script_or_style(logged_in: Any, post_id: int) -> None:
    for path in ("/", f"/posts/{post_id}", "/login", "/posts/999"):
        html = logged_in.get(path).get_data(as_text=True)
        assert "<script" not in html and "<style" not in html and " style=" not in html


def test_only_pages_with_a_session_are_no_store(client: Any, post_id: int) -> None:
    assert "no-store" not in client.get(f"/posts/{post_id}").headers.get("Cache-Control", "")
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    log_in(client)
    assert client.get(f"/posts/{post_id}").headers["Cache-Control"] == "no-store"
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_the_stylesheet_is_served_from_the_blueprint(client: Any) -> None:
    response = client.get("/static/site/site.css")
    assert response.status_code == 200
    assert response.mimetype == "text/css"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()
    html = client.get("/").get_data(as_text=True)
    assert 'href="/static/site/site.css"' in html


def test_a_bearer_token_does_not_log_anyone_in_on_the_site(client: Any, alice_id: int) -> None:
    login = client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    bearer = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
    html = client.get("/", headers=bearer).get_data(as_text=True)
    assert "Logged in as" not in html


def test_a_deleted_users_session_is_forgotten(logged_in: Any, alice_id: int) -> None:
    with logged_in.application.extensions["blog_db"].session_factory() as session:
        session.delete(session.get(User, alice_id))
        session.commit()
    html = logged_in.get("/").get_data(as_text=True)
    assert "Logged in as" not in html
