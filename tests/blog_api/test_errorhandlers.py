"""One JSON error shape from every layer (blog_api/errorhandlers.py, errors.py, web.py)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from blog_api import errors
from tests.blog_api.conftest import Api, build_app, make_config

SHAPE = {"error", "code", "type", "request_id"}


def assert_error(response: Any, status: int) -> dict[str, Any]:
    body: dict[str, Any] = response.get_json()
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert set(body) >= SHAPE and body["code"] == status
    assert isinstance(body["error"], str) and body["error"]
    return body


def test_routing_404_is_json(client: Any) -> None:
    assert_error(client.get("/api/v1/nothing-here"), 404)
    # Outside /api/ people read HTML pages (the reader site, tests/blog_api/test_site.py).
    assert_error(client.get("/api/nothing-here"), 404)


def test_routing_405_is_json_and_keeps_allow(client: Any) -> None:
    response = client.delete("/api/v1/tags")
    assert_error(response, 405)
    assert "GET" in response.headers["Allow"]


def test_malformed_json_is_400(client: Any, alice: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/posts", data="{not json", content_type="application/json", headers=alice
    )
    body = assert_error(response, 400)
    assert body["details"][0]["field"] == "body"


def test_json_array_body_is_400(client: Any, alice: dict[str, str]) -> None:
    response = client.post("/api/v1/posts", json=["title"], headers=alice)
    assert_error(response, 400)


def test_wrong_content_type_is_415(client: Any, alice: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/posts",
        data="title=x",
        headers=alice,
        content_type="application/x-www-form-urlencoded",
    )
    assert_error(response, 415)
    assert_error(client.post("/api/v1/auth/login", data="x"), 415)


def test_unknown_and_wrongly_typed_fields_are_422_with_details(
    client: Any, alice: dict[str, str]
) -> None:
    response = client.post(
        "/api/v1/posts",
        json={"title": 5, "body": "b", "tags": "python", "status": "live", "extra": 1},
        headers=alice,
    )
    body = assert_error(response, 422)
    fields = {detail["field"] for detail in body["details"]}
    assert fields == {"title", "tags", "status", "extra"}
    assert all(detail["message"] for detail in body["details"])
    assert client.get("/api/v1/posts", headers=alice).get_json()["total"] == 0


def test_oversized_body_is_413_and_nothing_is_written(
    client: Any, app: Any, alice: dict[str, str]
) -> None:
    huge = "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/api/v1/posts", json={"title": "t", "body": huge}, headers=alice)
    assert_error(response, 413)
    assert client.get("/api/v1/posts", headers=alice).get_json()["total"] == 0


def test_duplicate_is_409(api: Any, client: Any) -> None:
    api.register("alice")
    response = client.post(
        "/api/v1/auth/register",
        json={"username": "alice", "email": "x@example.com", "password": "long enough"},
    )
    assert_error(response, 409)


def test_unhandled_exception_is_json_500_and_logged_with_traceback(
    app: Any, client: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from blog_api.services import tags

    def explode(*args: Any) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(tags, "list_tags", explode)
    response = client.get("/api/v1/tags", headers={"X-Request-ID": "req-500"})
    body = assert_error(response, 500)
    assert "secret" not in response.get_data(as_text=True)
    assert body["request_id"] == "req-500"
    # One record carries the traceback (the framework's, on app.logger), and it
    # has the request's fields, so it can be matched with the request line.
    (logged,) = [r for r in caplog.records if r.exc_info]
    assert logged.name == app.logger.name == "blog_api"
    assert logged.exc_info[0] is RuntimeError
    assert logged.fields == {"request_id": "req-500", "method": "GET", "path": "/api/v1/tags"}
    (line,) = [r for r in caplog.records if r.name == "blog_api.request"]
    assert line.fields["request_id"] == "req-500" and line.fields["status"] == 500


def test_failed_write_leaves_nothing_half_written(
    api: Any, client: Any, alice: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash after the post and its new tag were added, before commit: both vanish."""
    from blog_api.services import posts

    real_link = posts._link_tags

    def link_then_crash(connection: Any, post_id: int, names: list[str]) -> Any:
        real_link(connection, post_id, names)  # the post, the tag and the link are written
        raise RuntimeError("crash mid-write")

    monkeypatch.setattr(posts, "_link_tags", link_then_crash)
    response = client.post(
        "/api/v1/posts",
        json={"title": "t", "body": "b", "tags": ["new"], "status": "published"},
        headers=alice,
    )
    assert_error(response, 500)
    monkeypatch.undo()
    assert client.get("/api/v1/posts", headers=alice).get_json()["total"] == 0
    api.create_post(alice, tags=["other"])
    assert [t["name"] for t in client.get("/api/v1/tags").get_json()["items"]] == ["other"]


def test_request_id_is_echoed_or_generated(client: Any) -> None:
    assert (
        client.get("/api/v1/tags", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"]
        == "abc-123"
    )
    generated = client.get("/api/v1/tags", headers={"X-Request-ID": "bad id with spaces <script>"})
    assert generated.headers["X-Request-ID"] != "bad id with spaces <script>"
    assert len(generated.headers["X-Request-ID"]) == 32


def test_api_error_dict_shape() -> None:
    error = errors.ValidationError(details=[{"field": "x", "message": "m", "type": "t"}])
    assert error.to_dict() == {
        "error": "Invalid request body",
        "code": 422,
        "type": "validation_error",
        "details": [{"field": "x", "message": "m", "type": "t"}],
    }
    assert errors.TooManyRequests(retry_after=0).headers["Retry-After"] == "1"
    assert (
        'error="invalid_token"'
        in errors.Unauthorized("x", token_error="invalid_token").headers["WWW-Authenticate"]
    )


@pytest.fixture
def lose_the_race(app: Any) -> Iterator[Callable[[int], None]]:
    """Make the next UPDATE of a post find it changed: another writer got there first.

    The If-Match check has already passed when the view updates the post, so
    this is the interleaving two simultaneous editors produce; a second
    connection bumps the version counter just before the UPDATE, which then
    matches no row.
    """
    engine = app.extensions["blog_db"].engine
    racing: list[int] = []

    def other_editor(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        while racing and statement.startswith("UPDATE posts"):
            with engine.begin() as other:
                other.execute(
                    text("UPDATE posts SET version = version + 1 WHERE id = :id"),
                    {"id": racing.pop()},
                )

    event.listen(engine, "before_cursor_execute", other_editor)
    yield racing.append
    event.remove(engine, "before_cursor_execute", other_editor)


def test_losing_an_if_match_race_at_the_update_is_412(
    api: Any, client: Any, alice: dict[str, str], lose_the_race: Callable[[int], None]
) -> None:
    post = api.create_post(alice)
    etag = client.get(f"/api/v1/posts/{post['id']}", headers=alice).headers["ETag"]
    lose_the_race(post["id"])
    response = client.patch(
        f"/api/v1/posts/{post['id']}", json={"title": "mine"}, headers={**alice, "If-Match": etag}
    )
    assert_error(response, 412)


def test_losing_an_unconditional_race_at_the_update_is_409(
    api: Any, client: Any, alice: dict[str, str], lose_the_race: Callable[[int], None]
) -> None:
    post = api.create_post(alice)
    lose_the_race(post["id"])
    response = client.patch(f"/api/v1/posts/{post['id']}", json={"title": "mine"}, headers=alice)
    assert_error(response, 409)


def _chunked(data: bytes) -> Any:
    """A body without Content-Length, as a chunked upload arrives (wsgi.input_terminated)."""
    import io

    return {"wsgi.input": io.BytesIO(data), "wsgi.input_terminated": True}


@pytest.mark.parametrize(
    "body",
    [
        b'{"title": "' + b"x" * (2 * 1024 * 1024) + b'", "body": "x"}',
        # Valid JSON within the limit, padded past it: cut at the limit it would parse.
        b'{"title": "t", "body": "b"}' + b" " * (2 * 1024 * 1024),
    ],
    ids=["long-json", "json-then-padding"],
)
def test_a_chunked_body_over_the_limit_is_413_not_parsed_cut_short(
    client: Any, alice: dict[str, str], body: bytes
) -> None:
    response = client.post(
        "/api/v1/posts",
        headers={**alice, "Content-Type": "application/json"},
        environ_overrides=_chunked(body),
    )
    assert_error(response, 413)
    assert client.get("/api/v1/posts", headers=alice).get_json()["total"] == 0


def test_a_chunked_body_within_the_limit_is_read_whole(client: Any, alice: dict[str, str]) -> None:
    body = b'{"title": "t", "body": "' + b"b" * 90_000 + b'"}'
    response = client.post(
        "/api/v1/posts",
        headers={**alice, "Content-Type": "application/json"},
        environ_overrides=_chunked(body),
    )
    assert response.status_code == 201
    assert len(response.get_json()["body"]) == 90_000


class StalledBody:
    """A request body whose client stopped sending: the server's read times out.

    gunicorn.conf.py gives each body read a timeout (``GUNICORN_READ_TIMEOUT``),
    so a stalled read raises ``TimeoutError`` from ``wsgi.input``, as here.
    """

    def read(self, size: int = -1) -> bytes:
        raise TimeoutError("timed out")

    def readline(self, size: int = -1) -> bytes:
        raise TimeoutError("timed out")


def test_a_body_that_stops_arriving_is_408(client: Any, alice: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/posts",
        headers={**alice, "Content-Type": "application/json"},
        environ_overrides={"wsgi.input": StalledBody(), "CONTENT_LENGTH": "100"},
    )
    assert assert_error(response, 408)["type"] == "request_timeout"


def test_a_body_cut_short_by_a_disconnect_stays_400(client: Any, alice: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/posts",
        headers={**alice, "Content-Type": "application/json"},
        environ_overrides={"wsgi.input": io.BytesIO(b'{"title": '), "CONTENT_LENGTH": "100"},
    )
    assert_error(response, 400)


def test_redis_unreachable_refuses_with_503_and_never_fails_a_committed_write(
    framework: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Port 1 refuses at once: Redis is down. Its users are the login counters
    # (refuse: a login that cannot be counted is not checked), the cache lookup
    # (a miss) and the invalidation after a write (the write stands, logged).
    healthy = build_app(framework, make_config(tmp_path))
    down = build_app(framework, make_config(tmp_path, REDIS_URL="redis://127.0.0.1:1/0"))
    headers = Api(healthy, healthy.test_client()).user("alice")
    client = down.test_client()

    refused = client.post("/api/v1/auth/login", json={"username": "alice", "password": "x" * 9})
    assert_error(refused, 503)
    assert refused.headers["Retry-After"] == "5"
    assert client.get("/api/v1/posts").status_code == 200  # read from the database
    created = client.post(
        "/api/v1/posts", json={"title": "t", "body": "b", "status": "published"}, headers=headers
    )
    assert created.status_code == 201
    assert client.get(f"/api/v1/posts/{created.get_json()['id']}").status_code == 200
    assert "cache could not be invalidated" in caplog.text
    for app in (healthy, down):
        app.extensions["blog_db"].engine.dispose()
