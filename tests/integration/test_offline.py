"""The API page and the docs site in headless Chromium with no way out but 127.0.0.1.

Chromium is started with a proxy on a closed local port for everything
except loopback (``--proxy-server`` plus ``<-loopback>`` left out of the
bypass list, so loopback goes direct), so a request to any other host fails,
as it would offline. Chrome's performance log then lists every request the
page made, and the tests assert each one went to 127.0.0.1 or was a
``file://``/``data:`` URL: a CDN request is caught even if the page looked
fine without it.

The blog is served over real HTTP by the ``blog`` fixture of
``tests/integration/test_browser.py`` (both frameworks); Chromium comes from
its ``chromium`` fixture. The docs site is built as ``make docs`` builds it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from tests.blog_api.conftest import PASSWORD
from tests.docs.test_mkdocs import build
from tests.integration.test_browser import CHROMIUM, WAIT, blog, chromium

__all__ = ["blog", "chromium"]  # fixtures used by name below

#: A local port nothing listens on: as a proxy, it makes every non-loopback request fail.
DEAD_PROXY = "127.0.0.1:9"


@pytest.fixture(scope="module")
def offline_browser(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Chromium that can reach 127.0.0.1 only and logs every request."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",  # we run as root in a container
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1200,900",
        f"--proxy-server=http://{DEAD_PROXY}",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-offline')}",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SE_OFFLINE", "true")  # never let Selenium Manager download anything
        browser = webdriver.Chrome(service=Service(executable_path=chromium), options=options)
    browser.set_page_load_timeout(WAIT)
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture
def driver(offline_browser: Any) -> Any:
    """The module's browser, its request log emptied."""
    offline_browser.get_log("performance")
    offline_browser.get_log("browser")
    return offline_browser


def requested_urls(driver: Any) -> list[str]:
    """Every URL the browser asked for since the log was last read."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def foreign(urls: list[str]) -> list[str]:
    """The network URLs that leave this machine (``file:``, ``data:``, ``chrome:`` stay inside)."""
    return [
        url
        for url in urls
        if urlsplit(url).scheme in {"http", "https", "ws", "wss"}
        and urlsplit(url).hostname != "127.0.0.1"
    ]


def console_errors(driver: Any) -> list[str]:
    """The console's errors since it was last read (a CSP refusal is one)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def wait_for(driver: Any, css: str) -> Any:
    """The first element matching ``css``, once it appears (a TimeoutException otherwise)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT).until(lambda d: d.find_element(By.CSS_SELECTOR, css))


def test_the_api_page_renders_every_operation_offline(driver: Any, blog: dict[str, Any]) -> None:
    driver.get(blog["url"] + "/api/docs")
    wait_for(driver, '.opblock [data-path="/posts"]')
    paths = driver.execute_script(
        "return Array.from(document.querySelectorAll('.opblock-summary-path'),"
        " e => e.dataset.path);"
    )
    assert {"/posts", "/posts/{post_id}", "/auth/login"} <= set(paths)
    urls = requested_urls(driver)
    assert any(url.endswith("/api/v1/openapi.json") for url in urls)
    assert foreign(urls) == []
    assert console_errors(driver) == []  # nothing refused by the Content-Security-Policy


def test_try_it_out_calls_the_same_server(driver: Any, blog: dict[str, Any]) -> None:
    """Try it out on GET /posts: the browser calls the API and shows its answer."""
    driver.get(blog["url"] + "/api/docs")
    wait_for(driver, '.opblock-get [data-path="/posts"]').click()
    wait_for(driver, ".opblock.is-open .try-out__btn").click()
    wait_for(driver, ".opblock.is-open .execute").click()
    answer = wait_for(driver, ".opblock.is-open .live-responses-table tbody .response")
    assert answer.find_element("css selector", ".response-col_status").text.strip() == "200"
    assert "Hello, browser" in answer.text
    urls = requested_urls(driver)
    assert any("/api/v1/posts" in url for url in urls)
    assert foreign(urls) == []
    assert console_errors(driver) == []


def test_a_pasted_bearer_token_authorizes_try_it_out(driver: Any, blog: dict[str, Any]) -> None:
    """Authorize (bearerAuth) with a token from /auth/login; GET /users/me then answers alice."""
    login = {"username": "alice", "password": PASSWORD}
    token = requests.post(blog["url"] + "/api/v1/auth/login", json=login, timeout=WAIT)
    driver.get(blog["url"] + "/api/docs")
    wait_for(driver, ".auth-wrapper .authorize").click()
    field = wait_for(driver, ".modal-ux .auth-container input[type=text]")  # bearerAuth, first
    field.send_keys(token.json()["access_token"])
    wait_for(driver, ".modal-ux .auth-container .modal-btn.authorize").click()
    wait_for(driver, ".modal-ux .btn-done").click()
    wait_for(driver, '.opblock-get [data-path="/users/me"]').click()
    wait_for(driver, ".opblock.is-open .try-out__btn").click()
    wait_for(driver, ".opblock.is-open .execute").click()
    answer = wait_for(driver, ".opblock.is-open .live-responses-table tbody .response")
    assert answer.find_element("css selector", ".response-col_status").text.strip() == "200"
    assert '"username": "alice"' in answer.text
    assert foreign(requested_urls(driver)) == []


@pytest.fixture(scope="module")
def docs_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The docs site, built as ``make docs`` builds it."""
    site_dir = tmp_path_factory.mktemp("docs") / "site"
    result = build(site_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    return site_dir


def test_the_docs_site_opened_from_disk_shows_highlighted_code(
    driver: Any, docs_site: Path
) -> None:
    driver.get((docs_site / "index.html").as_uri())
    keyword = wait_for(driver, ".highlight .kn")
    # Coloured by css/pygments.css (loaded from disk): not the page's default black.
    assert keyword.value_of_css_property("color") not in {"rgba(0, 0, 0, 1)", "rgb(0, 0, 0)"}
    assert foreign(requested_urls(driver)) == []
