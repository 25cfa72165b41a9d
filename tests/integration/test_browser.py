"""The reader site (``blog_api/site/``) in a real headless Chromium, over real HTTP.

The app is served on ``127.0.0.1`` by Werkzeug's threaded ``make_server`` and
driven through Selenium with Debian's ``chromium`` and ``chromium-driver``
(installed with apt-get on first use when missing; the tests skip with the
reason when that is impossible). Selenium is pointed at ``/usr/bin/chromedriver``
explicitly and ``SE_OFFLINE`` is set, so Selenium Manager never downloads a
driver.

What the browser proves that the test client cannot: the browser really
renders a comment's ``<script>`` and ``<b>`` as text, and a page on another
origin really can make the logged-in browser post to the blog, which the
blog then refuses. And the mailed flows work end to end: with the outbox's
dispatcher thread and a real SMTP server (aiosmtpd), the browser asks for a
reset link, follows the one the mail carries, sets a new password and logs in
with it, confirms an address from its mail, and a comment mails the post's
author.
"""

from __future__ import annotations

import html
import os
import threading
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import BaseWSGIServer, make_server

from blog_api.models import Comment, User
from blog_api.schemas import PostIn, RegisterIn
from blog_api.services import posts, users
from tests.blog_api.conftest import FAST_HASH, PASSWORD, build_app, make_config
from tests.blog_api.mailbox import SMTPServer
from tests.blog_api.test_site_accounts import LINK
from tests.support.apt import apt_install

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
APT_TIMEOUT = 600  # seconds for apt-get, once per session
WAIT = 10  # seconds for any page or element

BODY_TEXT = "return document.body ? document.body.innerText : '';"

PAYLOAD = "<script>window.__pwned=1</script><b>bold</b>"


@pytest.fixture(scope="session")
def chromium() -> str:
    """The chromedriver path, installing Debian's chromium packages if needed."""
    pytest.importorskip("selenium", reason="selenium is not installed (pip install selenium)")
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        problem = _install_chromium()
        if problem:
            pytest.skip(f"Chromium unavailable: {problem}")
    return CHROMEDRIVER


def _install_chromium() -> str | None:
    """``apt-get install chromium chromium-driver``; a reason when it fails, else None."""
    problem = apt_install("chromium", "chromium-driver", timeout=APT_TIMEOUT, recommends=True)
    if problem:
        return problem
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        return f"apt-get ran but {CHROMIUM} or {CHROMEDRIVER} is missing"
    return None


@pytest.fixture(scope="module")
def browser(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium with a fresh profile for this module (starting one costs ~2 s)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # we run as root in a container
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1200,900",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(argument)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SE_OFFLINE", "true")  # never let Selenium Manager download anything
        browser = webdriver.Chrome(service=Service(executable_path=chromium), options=options)
    browser.set_page_load_timeout(WAIT)
    browser.set_script_timeout(WAIT)
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture
def driver(browser: Any) -> Iterator[Any]:
    """The module's browser, with no cookies left over from the previous test."""
    yield browser
    browser.delete_all_cookies()  # only the current origin's; each blog has a new port anyway


class LiveServer:
    """A WSGI app served on ``127.0.0.1:<free port>`` in a background thread."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop serving and free the port."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=WAIT)


class PostRecorder:
    """WSGI middleware noting, for each POST, its path, status and what the browser sent."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.posts: list[dict[str, str]] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ["REQUEST_METHOD"] != "POST":
            return self.app(environ, start_response)
        record = {
            "path": environ["PATH_INFO"],
            "origin": environ.get("HTTP_ORIGIN", ""),
            "cookie": environ.get("HTTP_COOKIE", ""),
        }
        self.posts.append(record)

        def recording_start_response(status: str, headers: Any, *args: Any) -> Any:
            record["status"] = status.split()[0]
            return start_response(status, headers, *args)

        return self.app(environ, recording_start_response)


def attacker_site(blog_url: str) -> Callable[..., Any]:
    """A WSGI app for the "other site": pages whose form posts a comment to the blog.

    ``/forge?post=<id>`` auto-submits a comment without a token;
    ``&token=<t>`` adds a (leaked) valid token, to show the origin check alone.
    """
    from werkzeug.wrappers import Request, Response

    @Request.application
    def app(request: Request) -> Response:
        action = f"{blog_url}/posts/{int(request.args['post'])}/comments"
        token = request.args.get("token")
        token_field = (
            f'<input type="hidden" name="csrf_token" value="{html.escape(token)}">' if token else ""
        )
        page = (
            "<!doctype html><title>Win a prize</title>"
            f'<form method="post" action="{html.escape(action)}">'
            f'<input type="hidden" name="body" value="forged comment">{token_field}</form>'
            "<script>document.forms[0].submit()</script>"
        )
        return Response(page, mimetype="text/html")

    return app


@pytest.fixture(params=["miniflask", "flask"])
def blog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The blog on one framework, seeded with alice and one post, served over HTTP."""
    app = build_app(str(request.param), make_config(tmp_path))
    with app.extensions["blog_db"].session_factory() as session:
        data = RegisterIn(username="alice", email="alice@example.com", password=PASSWORD)
        alice = users.register(session, data, FAST_HASH)
        post = PostIn(title="Hello, browser", body="A post.", tags=[], status="published")
        post_id = posts.create_post(session.connection(), alice, post)["id"]
        session.commit()
    recorder = PostRecorder(app.wsgi_app)
    app.wsgi_app = recorder
    server = LiveServer(app)
    try:
        yield {"app": app, "url": server.url, "post_id": post_id, "recorder": recorder}
    finally:
        server.stop()
        app.extensions["blog_db"].engine.dispose()


@pytest.fixture
def attacker(blog: dict[str, Any]) -> Iterator[str]:
    """The attacker's site: same host, another port, so another *origin*."""
    server = LiveServer(attacker_site(blog["url"]))
    try:
        yield server.url
    finally:
        server.stop()


def comment_bodies(app: Any) -> list[str]:
    """Every comment body in the database."""
    with app.extensions["blog_db"].session_factory() as session:
        return list(session.scalars(select(Comment.body).order_by(Comment.id)))


def wait_for_text(driver: Any, text: str) -> None:
    """Wait until ``text`` is visible on the page (or fail after ``WAIT`` s)."""
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    # A form submission replaces the page while we poll it. Reading the text
    # through an element handle takes two round trips, and the node can leave
    # the document between them: chromedriver then reports a stale element or,
    # depending on timing, an "unknown error ... does not belong to the
    # document". One script reads the live body in a single step, and any
    # driver error during the swap only means "not yet": the wait still fails
    # with its message after WAIT seconds.
    WebDriverWait(
        driver, WAIT, poll_frequency=0.05, ignored_exceptions=(WebDriverException,)
    ).until(
        lambda d: text in (d.execute_script(BODY_TEXT) or ""),
        message=f"{text!r} never appeared",
    )


def log_in(driver: Any, blog_url: str) -> None:
    """Fill in and submit the log-in form."""
    from selenium.webdriver.common.by import By

    driver.get(f"{blog_url}/login")
    driver.find_element(By.ID, "username").send_keys("alice")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.login-form button").click()
    wait_for_text(driver, "Logged in as alice")


def test_a_script_in_a_comment_is_shown_as_text(
    driver: Any, blog: dict[str, Any], tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    log_in(driver, blog["url"])
    driver.get(f"{blog['url']}/posts/{blog['post_id']}")
    driver.find_element(By.ID, "comment-body").send_keys(PAYLOAD)
    driver.find_element(By.CSS_SELECTOR, "form.comment-form button").click()
    wait_for_text(driver, "Your comment is posted.")

    comment = driver.find_element(By.CSS_SELECTOR, ".comment .body")
    assert comment.text == PAYLOAD
    assert driver.execute_script("return typeof window.__pwned") == "undefined"
    assert comment.find_elements(By.CSS_SELECTOR, "b, script") == []
    assert comment_bodies(blog["app"]) == [PAYLOAD]

    screenshot = tmp_path / "post-with-comment.png"
    assert driver.save_screenshot(str(screenshot))
    assert screenshot.read_bytes().startswith(b"\x89PNG") and screenshot.stat().st_size > 1000


def test_a_form_posted_from_another_origin_is_refused(
    driver: Any, blog: dict[str, Any], attacker: str
) -> None:
    """The logged-in browser visits the attacker's page, whose form posts a comment.

    What happens, and why: the attacker is ``127.0.0.1`` on another port. Ports
    do not count for cookies' *site*, so it is the same site and the browser
    sends the ``SameSite=Lax`` session cookie with the forged POST (asserted
    below: SameSite alone would not have saved us). The blog refuses it anyway
    with a 400, because the browser's ``Origin`` header names the other port.
    A second forged form carries a real, leaked CSRF token and is refused by the
    origin check just the same. No comment is stored either time.
    """
    from selenium.webdriver.common.by import By

    log_in(driver, blog["url"])
    driver.get(f"{blog['url']}/posts/{blog['post_id']}")
    leaked = driver.find_element(By.NAME, "csrf_token").get_attribute("value")
    recorder: PostRecorder = blog["recorder"]

    for query in (f"post={blog['post_id']}", f"post={blog['post_id']}&token={leaked}"):
        recorder.posts.clear()
        driver.get(f"{attacker}/forge?{query}")
        wait_for_text(driver, "Cross-site request refused")
        assert driver.current_url.startswith(f"{blog['url']}/posts/")
        [forged] = recorder.posts
        assert forged["status"] == "400"
        assert forged["origin"] == attacker
        assert "session=" in forged["cookie"]  # same-site: Lax let the cookie through

    assert comment_bodies(blog["app"]) == []
    # The browser is still logged in and can comment from the blog itself.
    driver.get(f"{blog['url']}/posts/{blog['post_id']}")
    driver.find_element(By.ID, "comment-body").send_keys("a real comment")
    driver.find_element(By.CSS_SELECTOR, "form.comment-form button").click()
    wait_for_text(driver, "Your comment is posted.")
    assert comment_bodies(blog["app"]) == ["a real comment"]


@pytest.fixture(params=["miniflask", "flask"])
def mailing_blog(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The blog with alice and her post, its outbox drained by the dispatcher thread into
    a real SMTP server, as ``make run`` would with ``BLOG_SMTP_URL`` set."""
    smtp = SMTPServer()
    smtp.start()
    config = make_config(tmp_path, SMTP_URL=smtp.url, JOBS_DISPATCHER="thread")
    app = build_app(str(request.param), config)
    with app.extensions["blog_db"].session_factory() as session:
        data = RegisterIn(username="alice", email="alice@example.com", password=PASSWORD)
        alice = users.register(session, data, FAST_HASH)
        post = PostIn(title="Hello, mail", body="A post.", tags=[], status="published")
        post_id = posts.create_post(session.connection(), alice, post)["id"]
        session.commit()
    server = LiveServer(app)
    try:
        yield {"app": app, "url": server.url, "post_id": post_id, "smtp": smtp}
    finally:
        server.stop()
        app.extensions["blog_jobs"].stop()
        smtp.stop()
        app.extensions["blog_db"].engine.dispose()


def wait_for_mail(smtp: SMTPServer, to: str, subject: str) -> EmailMessage:
    """The first mail to ``to`` whose subject starts with ``subject`` (waits up to ``WAIT`` s)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        for message in list(smtp.messages):
            if message["To"] == to and str(message["Subject"]).startswith(subject):
                return message
        time.sleep(0.05)
    raise AssertionError(f"no mail {subject!r} to {to}: {[m['Subject'] for m in smtp.messages]}")


def link_in(message: EmailMessage) -> str:
    """The reader-site link a reset or confirmation mail carries."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    match = LINK.search(body.get_content())
    assert match, "no link in the mail"
    return match.group(1)


def test_the_mailed_links_reset_a_password_and_confirm_an_address(
    driver: Any, mailing_blog: dict[str, Any]
) -> None:
    from selenium.webdriver.common.by import By

    blog_url, smtp = mailing_blog["url"], mailing_blog["smtp"]
    account = {"username": "carol", "email": "carol@example.com", "password": PASSWORD}
    registered = requests.post(f"{blog_url}/api/v1/auth/register", json=account, timeout=WAIT)
    assert registered.status_code == 201

    driver.get(f"{blog_url}/login")
    driver.find_element(By.LINK_TEXT, "Forgot your password?").click()
    driver.find_element(By.ID, "email").send_keys("carol@example.com")
    driver.find_element(By.CSS_SELECTOR, "form.account-form button").click()
    wait_for_text(driver, "If an account has this address, a reset link is on its way to it.")

    reset = link_in(wait_for_mail(smtp, "carol@example.com", "Reset your password"))
    assert reset.startswith(f"{blog_url}/reset-password?token=")
    driver.get(reset)
    driver.find_element(By.ID, "new_password").send_keys("a brand new passphrase")
    driver.find_element(By.CSS_SELECTOR, "form.account-form button").click()
    wait_for_text(driver, "Your password is changed. Log in with the new one.")
    driver.find_element(By.ID, "username").send_keys("carol")
    driver.find_element(By.ID, "password").send_keys("a brand new passphrase")
    driver.find_element(By.CSS_SELECTOR, "form.login-form button").click()
    wait_for_text(driver, "Logged in as carol")

    confirm = link_in(wait_for_mail(smtp, "carol@example.com", "Confirm your e-mail address"))
    driver.get(confirm)
    assert email_confirmed(mailing_blog["app"], "carol") is False  # opening it changed nothing
    driver.find_element(By.CSS_SELECTOR, "form.account-form button").click()
    wait_for_text(driver, "Thank you: carol@example.com is confirmed.")
    assert email_confirmed(mailing_blog["app"], "carol") is True


def test_a_comment_from_the_browser_mails_the_posts_author(
    driver: Any, mailing_blog: dict[str, Any]
) -> None:
    from selenium.webdriver.common.by import By

    blog_url, smtp = mailing_blog["url"], mailing_blog["smtp"]
    account = {"username": "dave", "email": "dave@example.com", "password": PASSWORD}
    assert requests.post(f"{blog_url}/api/v1/auth/register", json=account, timeout=WAIT).ok
    driver.get(f"{blog_url}/login")
    driver.find_element(By.ID, "username").send_keys("dave")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form.login-form button").click()
    wait_for_text(driver, "Logged in as dave")
    driver.get(f"{blog_url}/posts/{mailing_blog['post_id']}")
    driver.find_element(By.ID, "comment-body").send_keys("Lovely post")
    driver.find_element(By.CSS_SELECTOR, "form.comment-form button").click()
    wait_for_text(driver, "Your comment is posted.")

    mail = wait_for_mail(smtp, "alice@example.com", 'New comment on "Hello, mail"')
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None and "dave commented" in body.get_content()
    assert "Lovely post" in body.get_content()
    time.sleep(0.5)  # the dispatcher had time for any other mail: there is none to alice
    assert [m["To"] for m in smtp.messages].count("alice@example.com") == 1


def email_confirmed(app: Any, username: str) -> bool:
    """Whether ``username`` has confirmed their address, read from the database."""
    with app.extensions["blog_db"].session_factory() as session:
        query = select(User.email_confirmed_at).where(User.username == username)
        return session.scalar(query) is not None
