"""'Sign in with ...' in a real headless Chromium, against a real OpenID Connect provider.

The blog runs over HTTP on one port and ``oidc-provider-mock`` on another
(``tests/support/oidc_provider.py``); Chromium, driven by Selenium, does what
a reader does: opens the log-in page on the way to a post, presses "Sign in
with ...", types a subject into the provider's form, presses "Authorize", and
lands back on the post, logged in. Everything between (the redirects, the
session cookie across them, the code exchanged from the blog's server to the
provider's token endpoint) is the real thing.

The browser, its driver and the live server are the ones of
``test_browser.py``, imported rather than copied.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import select

from blog_api.models import User, UserIdentity
from blog_api.schemas import PostIn, RegisterIn
from blog_api.services import posts, users
from tests.blog_api.conftest import FAST_HASH, PASSWORD, build_app, make_config
from tests.integration.test_browser import (  # noqa: F401 (fixtures, found by name)
    LiveServer,
    browser,
    chromium,
    driver,
    wait_for_text,
)
from tests.support.oidc_provider import MockProvider

# The provider is built on Authlib's older server API, which warns on every token.
pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")


@pytest.fixture(scope="module")
def provider() -> Iterator[MockProvider]:
    """The OpenID provider, on its own port of 127.0.0.1."""
    with MockProvider() as server:
        yield server


@pytest.fixture(params=["miniflask", "flask"])
def blog(
    request: pytest.FixtureRequest, tmp_path: Path, provider: MockProvider
) -> Iterator[dict[str, Any]]:
    """The blog on one framework, configured for the provider, with one post, over HTTP."""
    config = make_config(tmp_path, **provider.settings(name="Mock ID"))
    app = build_app(str(request.param), config)
    with app.extensions["blog_db"].session_factory() as session:
        data = RegisterIn(username="alice", email="alice@example.com", password=PASSWORD)
        alice = users.register(session, data, FAST_HASH)
        post = PostIn(title="Hello, provider", body="A post.", tags=[], status="published")
        post_id = posts.create_post(session.connection(), alice, post)["id"]
        session.commit()
    server = LiveServer(app)
    try:
        yield {"app": app, "url": server.url, "post_id": post_id}
    finally:
        server.stop()
        app.extensions["blog_db"].engine.dispose()


def test_sign_in_with_the_provider_from_the_login_page(
    driver: Any,  # noqa: F811 (the imported fixture)
    blog: dict[str, Any],
    provider: MockProvider,
) -> None:
    from selenium.webdriver.common.by import By

    provider.set_user(
        "reader-42", email="reader@example.com", email_verified=True, preferred_username="Reader"
    )
    # The post page's address carries a query string, which must survive the round trip.
    target = f"/posts/{blog['post_id']}?page=1"
    driver.get(f"{blog['url']}/login?next={quote(target)}")

    driver.find_element(By.LINK_TEXT, "Sign in with Mock ID").click()
    wait_for_text(driver, "Authorize Client")
    assert driver.current_url.startswith(provider.url + "/oauth2/authorize?")
    driver.find_element(By.NAME, "sub").send_keys("reader-42")
    driver.find_element(By.XPATH, "//button[text()='Authorize']").click()

    wait_for_text(driver, "Logged in as reader")
    assert driver.current_url == blog["url"] + target
    assert "Welcome, reader!" in driver.page_source
    assert "Hello, provider" in driver.page_source
    with blog["app"].extensions["blog_db"].session_factory() as session:
        user = session.scalars(select(User).where(User.username == "reader")).one()
        identity = session.scalars(select(UserIdentity)).one()
        assert (identity.user_id, identity.issuer, identity.subject) == (
            user.id,
            provider.url,
            "reader-42",
        )


def test_deny_at_the_provider_returns_to_the_login_page(
    driver: Any,  # noqa: F811 (the imported fixture)
    blog: dict[str, Any],
    provider: MockProvider,
) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{blog['url']}/login")
    driver.find_element(By.LINK_TEXT, "Sign in with Mock ID").click()
    wait_for_text(driver, "Authorize Client")
    driver.find_element(By.XPATH, "//button[text()='Deny']").click()

    wait_for_text(driver, "The sign-in was cancelled.")
    assert driver.current_url.startswith(f"{blog['url']}/login")
    assert "Logged in as" not in driver.page_source
