"""The built docs site loads nothing from another host, so it reads the same offline.

Links to other sites (``<a href="https://...">``) are fine: a reader chooses to
follow them. What must be local is everything a page *loads* by itself:
scripts, stylesheets, fonts, images, frames. Code is highlighted at build time
by Pygments (``codehilite`` in ``mkdocs.yml``), not by highlight.js from a CDN.
The browser half (the page opened from ``file://`` shows coloured code and
makes no request) is in ``tests/integration/test_offline.py``.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.docs.test_mkdocs import build

#: A URL with a host: ``http://``, ``https://`` or protocol-relative ``//``.
REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
#: ``url(...)`` and ``@import`` in stylesheets (fonts, images, other sheets).
CSS_REFERENCE = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""")


class LoadedUrls(HTMLParser):
    """Collects the URLs a page loads by itself (not the links a reader may follow)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in {"script", "img", "iframe", "source", "audio", "video", "embed"}:
            self._add(values.get("src"))
        elif tag == "link" and values.get("rel") != "canonical":
            self._add(values.get("href"))
        elif tag == "object":
            self._add(values.get("data"))

    def _add(self, url: str | None) -> None:
        if url:
            self.urls.append(url)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once for this module the way ``make docs`` builds it."""
    site_dir = tmp_path_factory.mktemp("offline") / "site"
    result = build(site_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    return site_dir


def loaded_urls(page: Path) -> list[str]:
    parser = LoadedUrls()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.urls


def test_no_page_loads_a_script_stylesheet_font_or_image_from_another_host(site: Path) -> None:
    remote = {
        f"{page.relative_to(site)}: {url}"
        for page in site.rglob("*.html")
        for url in loaded_urls(page)
        if REMOTE.match(url)
    }
    assert remote == set()


def test_no_stylesheet_imports_a_font_or_sheet_from_another_host(site: Path) -> None:
    remote = {
        f"{sheet.relative_to(site)}: {''.join(match)}"
        for sheet in site.rglob("*.css")
        for match in CSS_REFERENCE.findall(sheet.read_text(encoding="utf-8", errors="replace"))
        if REMOTE.match("".join(match))
    }
    assert remote == set()


def test_every_file_a_page_loads_is_in_the_site(site: Path) -> None:
    missing = {
        f"{page.relative_to(site)}: {url}"
        for page in site.rglob("*.html")
        for url in loaded_urls(page)
        if not REMOTE.match(url)
        and not url.startswith("data:")
        and not local_file(site, page, url).exists()
    }
    assert missing == set()


def local_file(site: Path, page: Path, url: str) -> Path:
    """The file a local URL names: from the page's folder, or from the root (404.html's)."""
    path = url.split("#")[0].split("?")[0]
    return site / path.lstrip("/") if path.startswith("/") else page.parent / path


def test_code_is_highlighted_at_build_time(site: Path) -> None:
    page = (site / "index.html").read_text(encoding="utf-8")
    assert '<div class="highlight">' in page
    assert '<span class="kn">from</span>' in page  # a Python keyword, coloured by Pygments
    assert "css/pygments.css" in page
    assert ".highlight .kn" in (site / "css" / "pygments.css").read_text(encoding="utf-8")
