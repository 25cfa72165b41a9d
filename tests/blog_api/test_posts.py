"""The posts resource: CRUD, drafts, permissions, filters, sorting (blog_api/posts.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, func, select

from blog_api.models import Post
from tests.blog_api.conftest import Api, build_app

URL = "/api/v1/posts"


def test_create_post_returns_201_location_and_the_post(
    api: Any, client: Any, alice: dict[str, str]
) -> None:
    response = client.post(
        URL,
        json={"title": "First", "body": "Text", "tags": ["Python", "web"], "status": "published"},
        headers=alice,
    )
    post = response.get_json()
    assert response.status_code == 201
    assert response.headers["Location"].endswith(f"{URL}/{post['id']}")
    assert post["title"] == "First" and post["body"] == "Text"
    assert post["tags"] == ["python", "web"]
    assert post["status"] == "published"
    assert post["author"]["username"] == "alice" and isinstance(post["author"]["id"], int)
    assert post["created_at"].endswith("Z") and post["updated_at"].endswith("Z")
    assert client.get(response.headers["Location"]).get_json() == post


def test_new_posts_are_drafts_by_default(client: Any, alice: dict[str, str]) -> None:
    post = client.post(URL, json={"title": "T", "body": "B"}, headers=alice).get_json()
    assert post["status"] == "draft" and post["tags"] == []


def test_create_post_requires_a_token(client: Any) -> None:
    response = client.post(URL, json={"title": "T", "body": "B"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_drafts_are_visible_only_to_their_author(
    api: Any, client: Any, alice: dict[str, str], bob: dict[str, str]
) -> None:
    draft = api.create_post(alice, status="draft")
    assert client.get(f"{URL}/{draft['id']}", headers=alice).status_code == 200
    assert client.get(f"{URL}/{draft['id']}", headers=bob).status_code == 404
    assert client.get(f"{URL}/{draft['id']}").status_code == 404
    assert client.get(URL).get_json()["total"] == 0
    assert client.get(URL, headers=bob).get_json()["total"] == 0
    assert client.get(URL, headers=alice).get_json()["total"] == 1


def test_put_replaces_the_whole_post(api: Any, client: Any, alice: dict[str, str]) -> None:
    post = api.create_post(alice, tags=["a"])
    response = client.put(
        f"{URL}/{post['id']}", json={"title": "New", "body": "Body"}, headers=alice
    )
    body = response.get_json()
    assert response.status_code == 200
    assert (body["title"], body["tags"], body["status"]) == ("New", [], "draft")
    assert body["updated_at"] >= post["updated_at"]


def test_put_needs_every_field(api: Any, client: Any, alice: dict[str, str]) -> None:
    post = api.create_post(alice)
    response = client.put(f"{URL}/{post['id']}", json={"title": "Only"}, headers=alice)
    assert response.status_code == 422
    assert response.get_json()["details"][0]["field"] == "body"


def test_patch_changes_only_given_fields(api: Any, client: Any, alice: dict[str, str]) -> None:
    post = api.create_post(alice, tags=["a", "b"])
    response = client.patch(f"{URL}/{post['id']}", json={"title": "Renamed"}, headers=alice)
    body = response.get_json()
    assert response.status_code == 200
    assert body["title"] == "Renamed" and body["body"] == post["body"]
    assert body["tags"] == ["a", "b"]
    assert client.get(f"{URL}/{post['id']}").get_json()["title"] == "Renamed"


def test_patch_refuses_null(api: Any, client: Any, alice: dict[str, str]) -> None:
    post = api.create_post(alice)
    response = client.patch(f"{URL}/{post['id']}", json={"title": None}, headers=alice)
    assert response.status_code == 422


def test_only_author_may_change_or_delete(
    api: Any, client: Any, alice: dict[str, str], bob: dict[str, str]
) -> None:
    post = api.create_post(alice)
    path = f"{URL}/{post['id']}"
    assert client.patch(path, json={"title": "X"}, headers=bob).status_code == 403
    assert client.put(path, json={"title": "X", "body": "Y"}, headers=bob).status_code == 403
    response = client.delete(path, headers=bob)
    assert response.status_code == 403
    assert response.get_json() == {
        "error": "Only the author or an admin may change this",
        "code": 403,
        "type": "forbidden",
        "request_id": response.headers["X-Request-ID"],
    }
    assert client.get(path).get_json()["title"] == "Hello"


def test_admin_may_change_and_delete_any_post(api: Any, client: Any, alice: dict[str, str]) -> None:
    admin = api.user("root", admin=True)
    post = api.create_post(alice)
    path = f"{URL}/{post['id']}"
    assert client.patch(path, json={"title": "Moderated"}, headers=admin).status_code == 200
    assert client.delete(path, headers=admin).status_code == 204
    assert client.get(path).status_code == 404


def test_delete_returns_204_and_removes_comments(
    api: Any, client: Any, alice: dict[str, str], bob: dict[str, str]
) -> None:
    post = api.create_post(alice)
    comment = api.comment(bob, post["id"])
    response = client.delete(f"{URL}/{post['id']}", headers=alice)
    assert response.status_code == 204 and response.data == b""
    assert client.get(f"{URL}/{post['id']}").status_code == 404
    assert client.get(f"/api/v1/comments/{comment['id']}").status_code == 404


def test_missing_post_is_404(client: Any, alice: dict[str, str]) -> None:
    assert client.get(f"{URL}/999").status_code == 404
    assert client.patch(f"{URL}/999", json={"title": "x"}, headers=alice).status_code == 404


def _titles(client: Any, query: str, headers: dict[str, str] | None = None) -> list[str]:
    response = client.get(f"{URL}?{query}", headers=headers or {})
    assert response.status_code == 200, response.get_json()
    return [post["title"] for post in response.get_json()["items"]]


def test_filters_by_author_tag_status_and_text(
    api: Any, client: Any, alice: dict[str, str], bob: dict[str, str]
) -> None:
    api.create_post(alice, title="Flask tips", tags=["flask"])
    api.create_post(alice, title="Alice draft", status="draft", tags=["flask"])
    api.create_post(bob, title="SQL joins", body="about flask too", tags=["sql"])
    bob_id = client.get("/api/v1/users/me", headers=bob).get_json()["id"]
    assert _titles(client, "author=alice") == ["Flask tips"]
    assert _titles(client, f"author_id={bob_id}") == ["SQL joins"]
    assert _titles(client, "tag=FLASK") == ["Flask tips"]
    assert _titles(client, "tag=flask", alice) == ["Alice draft", "Flask tips"]
    assert _titles(client, "status=draft", alice) == ["Alice draft"]
    assert _titles(client, "status=draft", bob) == []
    assert sorted(_titles(client, "q=flask")) == ["Flask tips", "SQL joins"]
    assert _titles(client, "q=JOIN") == ["SQL joins"]


def test_text_query_treats_wildcards_literally(
    api: Any, client: Any, alice: dict[str, str]
) -> None:
    api.create_post(alice, title="100% sure")
    api.create_post(alice, title="1000 sure")
    assert _titles(client, "q=100%25") == ["100% sure"]


def test_sorting(api: Any, client: Any, alice: dict[str, str]) -> None:
    for title in ("banana", "apple", "cherry"):
        api.create_post(alice, title=title)
    assert _titles(client, "") == ["cherry", "apple", "banana"]
    assert _titles(client, "sort=created_at") == ["banana", "apple", "cherry"]
    assert _titles(client, "sort=title") == ["apple", "banana", "cherry"]
    assert _titles(client, "sort=-title") == ["cherry", "banana", "apple"]


def test_unknown_sort_or_filter_is_400(client: Any) -> None:
    response = client.get(f"{URL}?sort=popularity")
    assert response.status_code == 400
    assert response.get_json()["details"][0]["field"] == "sort"
    response = client.get(f"{URL}?colour=red")
    assert response.status_code == 400
    assert response.get_json()["details"][0]["field"] == "colour"


def test_tags_are_normalised_and_validated(client: Any, alice: dict[str, str]) -> None:
    ok = client.post(
        URL, json={"title": "T", "body": "B", "tags": [" Py ", "py"]}, headers=alice
    ).get_json()
    assert ok["tags"] == ["py"]
    bad = client.post(URL, json={"title": "T", "body": "B", "tags": ["no spaces"]}, headers=alice)
    assert bad.status_code == 422
    assert bad.get_json()["details"][0]["field"] == "tags.0"


def test_a_posts_writes_build_no_orm_session(
    client: Any, alice: dict[str, str], orm_sessions: list[Any]
) -> None:
    # Their Core statements run on the request's connection, which
    # Database.commit commits (see blog_api/db.py).
    created = client.post("/api/v1/posts", json={"title": "t", "body": "b"}, headers=alice)
    assert created.status_code == 201
    path = f"/api/v1/posts/{created.get_json()['id']}"
    patched = client.patch(path, json={"title": "new", "tags": ["x"]}, headers=alice)
    assert patched.status_code == 200 and patched.get_json()["tags"] == ["x"]
    replaced = client.put(path, json={"title": "put", "body": "b"}, headers=alice)
    assert replaced.status_code == 200 and replaced.get_json()["tags"] == []
    assert client.delete(path, headers=alice).status_code == 204
    assert orm_sessions == []
    assert client.get(path, headers=alice).status_code == 404


def test_a_post_write_that_fails_half_way_leaves_nothing(
    api: Any, client: Any, app: Any, alice: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail_after_the_insert(*args: Any) -> list[str]:
        raise RuntimeError("the request dies between the post and its tags")

    monkeypatch.setattr("blog_api.services.posts._link_tags", fail_after_the_insert)
    response = client.post(
        "/api/v1/posts", json={"title": "t", "body": "b", "tags": ["x"]}, headers=alice
    )
    assert response.status_code == 500
    monkeypatch.undo()
    with app.extensions["blog_db"].session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Post)) == 0


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_tags_are_written_only_as_needed(
    framework: str, config: dict[str, Any], request: pytest.FixtureRequest, database: str
) -> None:
    # On both databases: whether the names are inserted follows from the row
    # count of the links' executemany, which each driver reports its own way.
    if database == "postgresql":
        config["DATABASE_URL"] = request.getfixturevalue("postgres_url_migrated")
    app = build_app(framework, config)
    request.addfinalizer(app.extensions["blog_db"].engine.dispose)
    client = app.test_client()
    alice = Api(app, client).user("alice")
    body = {"title": "t", "body": "b", "tags": ["python", "flask"]}
    path = f"{URL}/{client.post(URL, json=body, headers=alice).get_json()['id']}"
    tag_writes: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        words = statement.split()
        if words[0] in {"INSERT", "DELETE"} and words[2] in {"tags", "post_tags"}:
            tag_writes.append(f"{words[0]} {words[2]}")

    engine = app.extensions["blog_db"].engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        same = client.patch(path, json={"title": "new", "tags": ["Flask", "python"]}, headers=alice)
        assert same.status_code == 200 and same.get_json()["tags"] == ["flask", "python"]
        assert tag_writes == []
        # Tags that all exist: linked by one statement (a new post's are the same).
        existing = client.patch(path, json={"tags": ["python"]}, headers=alice)
        assert existing.status_code == 200 and existing.get_json()["tags"] == ["python"]
        assert tag_writes == ["DELETE post_tags", "INSERT post_tags"]
        assert client.get(path, headers=alice).get_json()["tags"] == ["python"]
        # A new name: the link finds no tag for it, so the names are inserted
        # and linked again, the link made already left alone.
        tag_writes.clear()
        changed = client.patch(path, json={"tags": ["python", "web"]}, headers=alice)
        assert changed.status_code == 200 and changed.get_json()["tags"] == ["python", "web"]
        assert tag_writes == [
            "DELETE post_tags",
            "INSERT post_tags",
            "INSERT tags",
            "INSERT post_tags",
        ]
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert client.get(path, headers=alice).get_json()["tags"] == ["python", "web"]
