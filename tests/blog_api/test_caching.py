"""HTTP caching (ETag, 304, 412, Cache-Control) and the server-side response cache.

Covers ``blog_api/caching.py``, ``blog_api/etags.py`` and their use in the web
layer. The server-cache tests run with the in-process backend and with Redis.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from blog_api import create_app
from blog_api.caching import CachedResponse, MemoryCache


@pytest.fixture(params=["memory", "redis"])
def config(request: pytest.FixtureRequest, config: dict[str, Any]) -> dict[str, Any]:
    """The default config, with the cache in-process or in Redis."""
    if request.param == "redis":
        config.update(request.getfixturevalue("redis_settings"))
    return config


def test_get_has_etag_and_if_none_match_gives_304(
    api: Any, client: Any, alice: dict[str, str]
) -> None:
    post = api.create_post(alice)
    for url in (f"/api/v1/posts/{post['id']}", "/api/v1/posts", "/api/v1/tags", "/api/v1/users"):
        first = client.get(url)
        etag = first.headers["ETag"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304, url
        assert again.data == b""
        assert again.headers["ETag"] == etag
        assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


def test_etag_changes_when_the_post_changes(api: Any, client: Any, alice: dict[str, str]) -> None:
    post = api.create_post(alice)
    url = f"/api/v1/posts/{post['id']}"
    before = client.get(url).headers["ETag"]
    client.patch(url, json={"body": "changed"}, headers=alice)
    after = client.get(url, headers={"If-None-Match": before})
    assert after.status_code == 200
    assert after.get_json()["body"] == "changed"


def test_if_match_prevents_lost_updates(api: Any, client: Any, alice: dict[str, str]) -> None:
    post = api.create_post(alice)
    url = f"/api/v1/posts/{post['id']}"
    etag = client.get(url, headers=alice).headers["ETag"]
    # Two editors read the same version; the first write wins...
    first = client.patch(url, json={"title": "A"}, headers={**alice, "If-Match": etag})
    assert first.status_code == 200
    # ...and the second, based on the stale version, is refused instead of overwriting.
    second = client.patch(url, json={"title": "B"}, headers={**alice, "If-Match": etag})
    assert second.status_code == 412
    assert second.get_json()["code"] == 412
    assert client.get(url).get_json()["title"] == "A"
    fresh = first.headers["ETag"]
    assert (
        client.put(
            url, json={"title": "C", "body": "x"}, headers={**alice, "If-Match": fresh}
        ).status_code
        == 200
    )


def test_if_match_on_delete(api: Any, client: Any, alice: dict[str, str]) -> None:
    post = api.create_post(alice)
    url = f"/api/v1/posts/{post['id']}"
    assert client.delete(url, headers={**alice, "If-Match": '"stale"'}).status_code == 412
    assert client.get(url).status_code == 200
    assert client.delete(url, headers={**alice, "If-Match": "*"}).status_code == 204


def test_if_match_on_users_and_comments(api: Any, client: Any, alice: dict[str, str]) -> None:
    me = client.get("/api/v1/users/me", headers=alice).get_json()
    stale = {**alice, "If-Match": '"stale"'}
    assert (
        client.patch(
            f"/api/v1/users/{me['id']}", json={"username": "x-y"}, headers=stale
        ).status_code
        == 412
    )
    comment = api.comment(alice, api.create_post(alice)["id"])
    assert client.delete(f"/api/v1/comments/{comment['id']}", headers=stale).status_code == 412
    etag = client.get(f"/api/v1/comments/{comment['id']}").headers["ETag"]
    assert (
        client.delete(
            f"/api/v1/comments/{comment['id']}", headers={**alice, "If-Match": etag}
        ).status_code
        == 204
    )


def test_cache_control_public_for_anonymous_private_for_users(
    api: Any, client: Any, alice: dict[str, str]
) -> None:
    post = api.create_post(alice)
    draft = api.create_post(alice, status="draft")
    anonymous = client.get(f"/api/v1/posts/{post['id']}")
    assert anonymous.headers["Cache-Control"].startswith("public")
    assert "Authorization" in anonymous.headers["Vary"]
    assert client.get("/api/v1/posts").headers["Cache-Control"].startswith("public")
    own = client.get(f"/api/v1/posts/{post['id']}", headers=alice)
    assert own.headers["Cache-Control"] == "private, no-cache"
    assert (
        client.get(f"/api/v1/posts/{draft['id']}", headers=alice).headers["Cache-Control"]
        == "private, no-cache"
    )
    assert client.get("/api/v1/users/me", headers=alice).headers["Cache-Control"] == "no-store"


def test_hot_anonymous_reads_come_from_the_server_cache(
    api: Any, client: Any, app: Any, alice: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    post = api.create_post(alice, title="Cached")
    url = f"/api/v1/posts/{post['id']}"
    first = client.get(url)
    caplog.clear()
    second = client.get(url)
    assert second.get_json() == first.get_json()
    assert second.headers["ETag"] == first.headers["ETag"]
    assert [r.fields.get("cache") for r in caplog.records if r.name == "blog_api.request"] == [
        "hit"
    ]
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_writes_invalidate_the_server_cache(api: Any, client: Any, alice: dict[str, str]) -> None:
    post = api.create_post(alice, title="Old")
    url = f"/api/v1/posts/{post['id']}"
    assert client.get(url).get_json()["title"] == "Old"
    assert client.get("/api/v1/posts").get_json()["total"] == 1
    client.patch(url, json={"title": "New"}, headers=alice)
    api.create_post(alice)
    assert client.get(url).get_json()["title"] == "New"
    assert client.get("/api/v1/posts").get_json()["total"] == 2
    client.delete(url, headers=alice)
    assert client.get(url).status_code == 404


def test_only_a_shared_redis_cache_sees_other_workers_writes(
    framework: str, config: dict[str, Any]
) -> None:
    """Two workers (apps) on one database: why several workers need ``BLOG_REDIS_URL``.

    With Redis, a write in worker A invalidates worker B's cached list at once;
    with the in-process cache, B keeps serving its copy until the TTL ends.
    """

    worker_a, worker_b = create_app(framework, config), create_app(framework, config)
    worker_a.extensions["blog_db"].create_all()
    a, b = worker_a.test_client(), worker_b.test_client()
    a.post(
        "/api/v1/auth/register",
        json={"username": "alice", "email": "a@x.org", "password": "long enough pw"},
    )
    token = a.post("/api/v1/auth/login", json={"username": "alice", "password": "long enough pw"})
    headers = {"Authorization": f"Bearer {token.get_json()['access_token']}"}
    assert b.get("/api/v1/posts").get_json()["total"] == 0
    a.post(
        "/api/v1/posts", json={"title": "t", "body": "b", "status": "published"}, headers=headers
    )
    expected = 1 if config.get("REDIS_URL") else 0
    assert b.get("/api/v1/posts").get_json()["total"] == expected


def test_authenticated_reads_bypass_the_server_cache(
    api: Any, client: Any, alice: dict[str, str]
) -> None:
    api.create_post(alice, status="draft")
    assert client.get("/api/v1/posts").get_json()["total"] == 0
    assert client.get("/api/v1/posts", headers=alice).get_json()["total"] == 1


def test_memory_cache_expires_and_evicts() -> None:
    cache = MemoryCache(ttl=0.05, max_entries=2)
    entry = CachedResponse(b"{}", "e", "public")
    cache.set("a", entry)
    assert cache.get("a") == entry
    time.sleep(0.06)
    assert cache.get("a") is None
    for key in ("x", "y", "z"):
        cache.set(key, entry)
    assert cache.get("x") is None and cache.get("z") == entry
    cache.invalidate()
    assert cache.get("z") is None


def test_cached_response_serialises_for_redis() -> None:
    entry = CachedResponse(b'{"a":\n1}', "etag", "public, max-age=0", '</x>; rel="next"')
    assert CachedResponse.loads(entry.dumps()) == entry
