"""The API page (``blog_api/api_page.py``): Swagger UI served by the app, nothing from a CDN.

The browser half (the page renders the operations, offline) is in
``tests/integration/test_offline.py``.
"""

from __future__ import annotations

import re
from typing import Any

from blog_api import api_page

PAGE = "/api/docs"
#: Every URL the page's HTML names in ``src=``, ``href=`` or a ``data-*-url``.
URL_ATTRIBUTE = re.compile(r'(?:src|href|data-[\w-]*url)="([^"]*)"')
EXPECTED_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".png": "image/png",
    ".json": "application/json",
}


def page_urls(client: Any) -> list[str]:
    """The URLs the page's HTML refers to."""
    response = client.get(PAGE)
    assert response.status_code == 200
    return URL_ATTRIBUTE.findall(response.get_data(as_text=True))


def test_the_page_is_html_with_the_sites_security_headers(client: Any) -> None:
    response = client.get(PAGE)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    policy = response.headers["Content-Security-Policy"]
    # Scripts and styles only from this server: no CDN, nothing inline, no eval.
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    assert "unsafe" not in policy


def test_the_page_points_at_the_apps_openapi_document(client: Any) -> None:
    assert "/api/v1/openapi.json" in page_urls(client)


def test_every_file_the_page_names_is_served_with_its_type(client: Any) -> None:
    urls = page_urls(client)
    assert any(url.endswith("swagger-ui-bundle.js") for url in urls)
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        suffix = url[url.rfind(".") :]
        assert response.mimetype == EXPECTED_TYPES[suffix], url


def test_nothing_on_the_page_comes_from_another_host(client: Any) -> None:
    html = client.get(PAGE).get_data(as_text=True)
    assert re.findall(r"https?://|//[\w.-]+\.\w+/", html) == []
    assert all(url.startswith("/") and not url.startswith("//") for url in page_urls(client))
    script = client.get("/api/docs/swagger-initializer.js").get_data(as_text=True)
    assert "http" not in script
    # Swagger UI's default online validator would be a request to another host.
    assert "validatorUrl: null" in script


def test_assets_are_cached_for_a_year_under_a_versioned_url(client: Any) -> None:
    url = next(url for url in page_urls(client) if url.endswith(".css"))
    response = client.get(url)
    assert response.cache_control.max_age == api_page.ASSET_MAX_AGE
    assert response.cache_control.public
    assert "immutable" in response.headers["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_page_is_revalidated_so_it_never_names_stale_assets(client: Any) -> None:
    response = client.get(PAGE)
    assert response.headers["Cache-Control"] == "no-cache"
    again = client.get(PAGE, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_only_the_pages_own_files_are_published(client: Any) -> None:
    url = next(url for url in page_urls(client) if url.endswith("swagger-ui-bundle.js"))
    folder = url.rsplit("/", 1)[0]
    assert client.get(f"{folder}/swagger-editor-bundle.js").status_code == 404
    assert client.get(f"{folder}/..%2F__init__.py").status_code == 404
    assert client.get("/api/docs/assets/0.0.0/swagger-ui.css").status_code == 404


def test_the_page_is_not_an_operation_of_the_api(client: Any) -> None:
    """Outside /api/v1: not in the OpenAPI document, no scope to decide."""
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert not [path for path in paths if "docs" in path]
