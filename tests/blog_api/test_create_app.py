"""``create_app`` (blog_api/__init__.py): trusting a reverse proxy's headers.

``PROXY_HOPS`` says how many proxies stand in front of the app. With 0 (the
default) a client that forges ``X-Forwarded-*`` changes nothing; with 1 the
last entry, the one nginx appended, is believed. ``Location`` and the
rate limiter's client address show what the app saw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.blog_api.conftest import build_app, make_config

FORWARDED = {
    "X-Forwarded-For": "203.0.113.9, 198.51.100.7",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "blog.example.org",
    "X-Forwarded-Port": "443",
}
REGISTER = {"username": "alice", "email": "alice@example.com", "password": "long enough pw"}


def _register(app: Any, **environ: Any) -> Any:
    return app.test_client().post(
        "/api/v1/auth/register", json=REGISTER, headers=FORWARDED, environ_base=environ
    )


@pytest.mark.parametrize("framework", ["flask", "miniflask"])
def test_forwarded_headers_are_ignored_by_default(framework: str, tmp_path: Path) -> None:
    response = _register(build_app(framework, make_config(tmp_path)))
    assert response.headers["Location"] == "http://localhost/api/v1/users/1"


@pytest.mark.parametrize("framework", ["flask", "miniflask"])
def test_one_trusted_hop_believes_only_the_last_proxy(framework: str, tmp_path: Path) -> None:
    app = build_app(framework, make_config(tmp_path, PROXY_HOPS=1))
    seen: list[str] = []
    app.before_request(lambda: seen.append(app_request(framework).remote_addr))
    response = _register(app)
    assert response.headers["Location"] == "https://blog.example.org/api/v1/users/1"
    # The client's own "203.0.113.9" entry is not believed; the proxy's is.
    assert seen == ["198.51.100.7"]


def app_request(framework: str) -> Any:
    """The framework's ``request`` proxy (imported late, as ``create_app`` does)."""
    import importlib

    return importlib.import_module(framework).request
