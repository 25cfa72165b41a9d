"""``create_app`` (blog_api/__init__.py): trusting a reverse proxy's headers, and hosts.

``PROXY_HOPS`` says how many proxies stand in front of the app. With 0 (the
default) a client that forges ``X-Forwarded-*`` changes nothing; with 1 the
last entry, the one nginx appended, is believed. ``Location`` and the
rate limiter's client address show what the app saw. ``TRUSTED_HOSTS``
(Flask's setting, from ``BLOG_TRUSTED_HOSTS``) decides which host names, sent
or forwarded, the app answers to at all.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from blog_api.models import User
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
    config = make_config(tmp_path, PROXY_HOPS=1, TRUSTED_HOSTS=["blog.example.org"])
    app = build_app(framework, config)
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


def _user_count(app: Any) -> int:
    with app.extensions["blog_db"].session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(User)) or 0)


@pytest.mark.parametrize("framework", ["flask", "miniflask"])
@pytest.mark.parametrize(
    "host", ["evil.example", "localhost.evil.example", "local host", "[::1]", "localhost:x", ""]
)
def test_an_untrusted_host_is_a_json_400_and_writes_nothing(
    framework: str, tmp_path: Path, host: str
) -> None:
    app = build_app(framework, make_config(tmp_path))
    response = app.test_client().post(
        "/api/v1/auth/register", json=REGISTER, headers={"Host": host}
    )
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == 400 and body["type"] == "bad_request"
    assert "not trusted" in body["error"]
    assert _user_count(app) == 0


@pytest.mark.parametrize("framework", ["flask", "miniflask"])
def test_location_carries_only_a_trusted_host(framework: str, tmp_path: Path) -> None:
    config = make_config(tmp_path, TRUSTED_HOSTS=["blog.example.org"])
    client = build_app(framework, config).test_client()
    response = client.post(
        "/api/v1/auth/register", json=REGISTER, headers={"Host": "blog.example.org:8443"}
    )
    assert response.headers["Location"] == "http://blog.example.org:8443/api/v1/users/1"
    assert client.get("/api/v1/tags", headers={"Host": "localhost"}).status_code == 400


@pytest.mark.parametrize("framework", ["flask", "miniflask"])
def test_location_keeps_the_mount_point(framework: str, tmp_path: Path) -> None:
    """Mounted under a prefix (``SCRIPT_NAME``) behind a trusted proxy, ``Location``
    is the address a client can follow: the proxy's scheme and host, the prefix,
    then the path; and it answers."""
    config = make_config(tmp_path, PROXY_HOPS=1, TRUSTED_HOSTS=["blog.example.org"])
    client = build_app(framework, config).test_client()
    response = client.post(
        "/api/v1/auth/register",
        json=REGISTER,
        headers=FORWARDED,
        base_url="http://localhost/blog",
    )
    location = response.headers["Location"]
    assert location == "https://blog.example.org/blog/api/v1/users/1"
    token = client.post(
        "/api/v1/auth/login",
        json={"username": "alice", "password": REGISTER["password"]},
        headers=FORWARDED,
        base_url="http://localhost/blog",
    ).get_json()["access_token"]
    followed = client.get(
        location.removeprefix("https://blog.example.org/blog"),
        headers={**FORWARDED, "Authorization": f"Bearer {token}"},
        base_url="http://localhost/blog",
    )
    assert followed.status_code == 200
    assert followed.get_json()["username"] == "alice"


@pytest.mark.parametrize("framework", ["flask", "miniflask"])
def test_a_forwarded_host_must_be_trusted_too(framework: str, tmp_path: Path) -> None:
    app = build_app(framework, make_config(tmp_path, PROXY_HOPS=1))
    assert _register(app).status_code == 400  # X-Forwarded-Host: blog.example.org
    assert _user_count(app) == 0


@pytest.mark.parametrize("framework", ["flask", "miniflask"])
def test_a_cached_answer_is_not_served_to_an_untrusted_host(framework: str, tmp_path: Path) -> None:
    """The server cache answers before the view; the Host check must still win."""
    client = build_app(framework, make_config(tmp_path)).test_client()
    assert client.get("/api/v1/tags").status_code == 200
    assert client.get("/api/v1/tags").status_code == 200  # now from the cache
    response = client.get("/api/v1/tags", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.get_json()["type"] == "bad_request"
