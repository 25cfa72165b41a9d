"""HTTP caching (ETag, 304, 412, Cache-Control) and the server-side response cache.

Covers ``blog_api/caching.py``, ``blog_api/etags.py`` and their use in the web
layer. The web tests run with the cache's generation in SQLite (the default),
in PostgreSQL, and with the whole cache in Redis; PostgreSQL and Redis skip
with the reason when unreachable. Two apps on one database (or one Redis)
stand for two gunicorn workers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from werkzeug.http import http_date
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Response

from blog_api import create_app, load_framework
from blog_api.caching import CachedResponse, DatabaseGeneration, MemoryCache, RedisCache
from blog_api.db import create_schema, make_engine
from blog_api.services import posts as post_service
from blog_api.web import Web, current_date
from tests.blog_api.conftest import PASSWORD, Api, bearer, build_app, make_config


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def config(request: pytest.FixtureRequest, config: dict[str, Any]) -> dict[str, Any]:
    """The default config, with the generation in SQLite or PostgreSQL, or all in Redis."""
    if request.param == "postgresql":
        config["DATABASE_URL"] = request.getfixturevalue("postgres_url_migrated")
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


def test_a_cache_hit_is_answered_as_the_view_answered(
    api: Any, client: Any, alice: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    for title in ("one", "two"):
        api.create_post(alice, title=title)
    url = "/api/v1/posts?per_page=1"  # a list: a body, an ETag and a Link header
    first = client.get(url)
    caplog.clear()
    second = client.get(url)
    assert [r.fields.get("cache") for r in caplog.records if r.name == "blog_api.request"] == [
        "hit"
    ]
    assert second.data == first.data
    # Each answer carries its own request id and the second it was sent
    # (Date); every other header of the hit is the view's.
    per_response = {"X-Request-ID", "Date"}
    assert {name: value for name, value in second.headers if name not in per_response} == {
        name: value for name, value in first.headers if name not in per_response
    }
    assert "Date" in second.headers
    assert "Link" in first.headers


def test_cache_ttl_zero_turns_the_server_cache_off(
    framework: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = build_app(framework, make_config(tmp_path, CACHE_TTL=0))
    api, client = Api(app, app.test_client()), app.test_client()
    post = api.create_post(api.user("alice"), title="Not cached")
    caplog.clear()
    for _ in range(2):
        assert client.get(f"/api/v1/posts/{post['id']}").status_code == 200
    records = [r for r in caplog.records if r.name == "blog_api.request"]
    assert [r.fields.get("cache") for r in records] == [None, None]  # no hit
    with app.extensions["blog_db"].engine.connect() as connection:  # nothing ever bumped it
        assert connection.exec_driver_sql("SELECT count(*) FROM cache_generation").scalar() == 0
    app.extensions["blog_db"].engine.dispose()


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


@pytest.fixture
def two_workers(framework: str, config: dict[str, Any]) -> Iterator[tuple[Any, Any]]:
    """Two apps on one database (and Redis, if configured): two gunicorn workers."""
    apps = (create_app(framework, config), create_app(framework, config))
    apps[0].extensions["blog_db"].create_all()
    yield apps
    for app in apps:
        app.extensions["blog_db"].engine.dispose()


def author(client: Any) -> dict[str, str]:
    """Register and log in "alice" through ``client``; her Authorization header."""
    client.post(
        "/api/v1/auth/register",
        json={"username": "alice", "email": "a@example.org", "password": PASSWORD},
    )
    token = client.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
    return bearer(token.get_json()["access_token"])


def test_a_write_in_one_worker_is_seen_by_every_worker(two_workers: tuple[Any, Any]) -> None:
    """Worker B's cached list and post are retired by a write that worker A handled."""
    a, b = (worker.test_client() for worker in two_workers)
    headers = author(a)
    post = a.post(
        "/api/v1/posts", json={"title": "t", "body": "b", "status": "published"}, headers=headers
    ).get_json()
    url = f"/api/v1/posts/{post['id']}"
    for _ in range(2):  # the second read of each is a hit in B's cache
        assert b.get("/api/v1/posts").get_json()["total"] == 1
        assert b.get(url).status_code == 200
    a.post(
        "/api/v1/posts", json={"title": "u", "body": "c", "status": "published"}, headers=headers
    )
    assert b.get("/api/v1/posts").get_json()["total"] == 2
    a.patch(url, json={"status": "draft"}, headers=headers)
    assert b.get(url).status_code == 404
    assert b.get("/api/v1/posts").get_json()["total"] == 1


def test_a_body_computed_before_a_write_is_never_served_after_it(
    two_workers: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race: worker B reads the list, A's write commits, then B stores its body.

    B's body predates the write, so it must not be filed under the generation
    the write started (it is stored under the one B read before its view ran).
    """
    a, b = (worker.test_client() for worker in two_workers)
    headers = author(a)
    list_posts = post_service.list_posts
    written: list[int] = []

    def list_then_write_elsewhere(*args: Any, **kwargs: Any) -> Any:
        page = list_posts(*args, **kwargs)
        if not written:  # once: worker A handles a write meanwhile, in its own thread
            body = {"title": "new", "body": "x", "status": "published"}
            writer = threading.Thread(
                target=lambda: written.append(
                    a.post("/api/v1/posts", json=body, headers=headers).status_code
                )
            )
            writer.start()
            writer.join(timeout=30)
        return page

    monkeypatch.setattr(post_service, "list_posts", list_then_write_elsewhere)
    assert b.get("/api/v1/posts").get_json()["total"] == 0  # computed before the write
    assert written == [201]
    assert b.get("/api/v1/posts").get_json()["total"] == 1
    assert a.get("/api/v1/posts").get_json()["total"] == 1


def test_authenticated_reads_bypass_the_server_cache(
    api: Any, client: Any, alice: dict[str, str]
) -> None:
    api.create_post(alice, status="draft")
    assert client.get("/api/v1/posts").get_json()["total"] == 0
    assert client.get("/api/v1/posts", headers=alice).get_json()["total"] == 1


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine with the schema (and so the generation's table)."""
    if request.param == "postgresql":
        url = str(request.getfixturevalue("postgres_url_migrated"))
    else:
        url = f"sqlite:///{tmp_path / 'cache.db'}"
    engine = make_engine(url)
    create_schema(engine)
    yield engine
    engine.dispose()


ENTRY = CachedResponse(b"{}", "e", "public")


def test_memory_cache_expires_and_evicts(engine: Engine) -> None:
    cache = MemoryCache(DatabaseGeneration(engine), ttl=0.05, max_entries=2)
    generation = cache.lookup("a").generation
    cache.store(generation, "a", ENTRY)
    assert cache.lookup("a").entry == ENTRY
    time.sleep(0.06)
    assert cache.lookup("a").entry is None
    for key in ("x", "y", "z"):
        cache.store(generation, key, ENTRY)
    assert cache.lookup("x").entry is None and cache.lookup("z").entry == ENTRY
    cache.invalidate()
    assert cache.lookup("z").entry is None


def test_memory_caches_share_the_generation_in_the_database(engine: Engine) -> None:
    worker_a = MemoryCache(DatabaseGeneration(engine))
    worker_b = MemoryCache(DatabaseGeneration(engine))
    before = worker_b.lookup("k").generation
    worker_b.store(before, "k", ENTRY)
    assert worker_b.lookup("k").entry == ENTRY
    worker_a.invalidate()
    after = worker_b.lookup("k")
    assert after.entry is None and after.generation == before + 1
    worker_b.store(before, "k", ENTRY)  # a body computed before the write: ignored
    assert worker_b.lookup("k").entry is None


def test_redis_cache_stores_under_the_generation_it_was_given(
    redis_settings: dict[str, str],
) -> None:
    import redis

    client = redis.Redis.from_url(redis_settings["REDIS_URL"])
    cache = RedisCache(client, redis_settings["REDIS_PREFIX"])
    before = cache.lookup("k").generation
    cache.invalidate()
    cache.store(before, "k", ENTRY)
    assert cache.lookup("k").entry is None
    cache.store(cache.lookup("k").generation, "k", ENTRY)
    assert cache.lookup("k").entry == ENTRY
    client.close()


def test_cached_response_serialises_for_redis() -> None:
    entry = CachedResponse(b'{"a":\n1}', "etag", "public, max-age=0", '</x>; rel="next"')
    assert CachedResponse.loads(entry.dumps()) == entry


def _plain_response(entry: CachedResponse, environ: dict[str, Any] | None) -> Response:
    """What ``Web.response_for`` answers, built the plain way: the response, then
    each header set on it, then (for a GET) Werkzeug's ``make_conditional``."""
    response = Response(entry.body, 201 if environ is None else 200, mimetype="application/json")
    if environ is None:
        response.headers["Location"] = "http://localhost/api/v1/posts/7"
    if entry.link:
        response.headers["Link"] = entry.link
    response.set_etag(entry.etag)
    response.headers["Cache-Control"] = entry.cache_control
    if environ is None:
        return response
    response.headers["Vary"] = "Authorization"
    return response.make_conditional(environ)


def _answer(response: Response) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers in order (a ``Date`` checked, then its value left out), body."""
    headers = list(response.headers.items())
    dates = [value for name, value in headers if name == "Date"]
    assert len(dates) == (1 if response.headers.get("Vary") else 0)
    shown = [(name, "<date>" if name == "Date" else value) for name, value in headers]
    return response.status_code, shown, response.get_data()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"If-None-Match": '"abc"'},
        {"If-None-Match": '"other"'},
        {"If-None-Match": "*"},
        {"If-Modified-Since": "Wed, 21 Oct 2015 07:28:00 GMT"},
        {"If-Match": '"other"'},
        {"If-Match": '"abc"'},
        {"Range": "bytes=0-1"},
        {"Range": "bytes=0-1", "If-Range": '"abc"'},
        {"If-Range": '"other"'},
        {"If-Unmodified-Since": "Wed, 21 Oct 2015 07:28:00 GMT"},
    ],
)
@pytest.mark.parametrize("link", [None, '</api/v1/posts?page=2>; rel="next"'])
def test_response_for_answers_as_make_conditional(
    tmp_path: Path, headers: dict[str, str], link: str | None
) -> None:
    # Web.response_for lists a GET's headers at once and adds the Date itself
    # when no header asks for a conditional answer; the answer must be the
    # plain version's, headers in the same order.
    app = build_app("miniflask", make_config(tmp_path))
    web = Web(load_framework("miniflask"))
    entry = CachedResponse(b'{"a": 1}\n', "abc", "public, max-age=60", link)
    with app.test_request_context("/api/v1/posts", headers=headers):
        fast = web.response_for(entry)
    plain = _plain_response(entry, EnvironBuilder(headers=headers).get_environ())
    assert _answer(fast) == _answer(plain)


def test_response_for_a_write_answers_as_the_plain_version(tmp_path: Path) -> None:
    app = build_app("miniflask", make_config(tmp_path))
    web = Web(load_framework("miniflask"))
    entry = CachedResponse(b'{"id": 7}\n', "abc", "private, no-cache", None)
    location = {"Location": "http://localhost/api/v1/posts/7"}
    with app.test_request_context("/api/v1/posts", method="POST"):
        fast = web.response_for(entry, 201, location)
    assert _answer(fast) == _answer(_plain_response(entry, None))


def test_current_date_is_http_date_of_this_second(monkeypatch: pytest.MonkeyPatch) -> None:
    # web.current_date formats a second once; the next second gets its own text.
    now = [1_790_000_000.25]
    monkeypatch.setattr(time, "time", lambda: now[0])
    assert current_date() == "Mon, 21 Sep 2026 14:13:20 GMT" == http_date(1_790_000_000)
    now[0] += 0.5
    assert current_date() == "Mon, 21 Sep 2026 14:13:20 GMT"
    now[0] += 0.5
    assert current_date() == "Mon, 21 Sep 2026 14:13:21 GMT"
