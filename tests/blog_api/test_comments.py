"""Comments: listing, adding, deleting, and who may do what (blog_api/comments.py)."""

from __future__ import annotations

from typing import Any


def test_comment_on_a_post(
    api: Any, client: Any, alice: dict[str, str], bob: dict[str, str]
) -> None:
    post = api.create_post(alice)
    response = client.post(
        f"/api/v1/posts/{post['id']}/comments", json={"body": "Great!"}, headers=bob
    )
    comment = response.get_json()
    assert response.status_code == 201
    assert response.headers["Location"].endswith(f"/api/v1/comments/{comment['id']}")
    assert comment["body"] == "Great!" and comment["post_id"] == post["id"]
    assert comment["author"]["username"] == "bob"
    assert client.get(response.headers["Location"]).get_json() == comment


def test_list_comments_oldest_first(api: Any, client: Any, alice: dict[str, str]) -> None:
    post = api.create_post(alice)
    for text in ("one", "two", "three"):
        api.comment(alice, post["id"], text)
    body = client.get(f"/api/v1/posts/{post['id']}/comments").get_json()
    assert [c["body"] for c in body["items"]] == ["one", "two", "three"]
    assert body["total"] == 3 and body["page"] == 1


def test_comments_need_a_token_and_a_body(api: Any, client: Any, alice: dict[str, str]) -> None:
    post = api.create_post(alice)
    path = f"/api/v1/posts/{post['id']}/comments"
    assert client.post(path, json={"body": "x"}).status_code == 401
    response = client.post(path, json={"body": "   "}, headers=alice)
    assert response.status_code == 422
    assert response.get_json()["details"][0]["field"] == "body"


def test_comments_on_missing_post_are_404(client: Any, alice: dict[str, str]) -> None:
    assert client.get("/api/v1/posts/42/comments").status_code == 404
    assert (
        client.post("/api/v1/posts/42/comments", json={"body": "x"}, headers=alice).status_code
        == 404
    )


def test_comments_on_drafts_are_hidden_from_others(
    api: Any, client: Any, alice: dict[str, str], bob: dict[str, str]
) -> None:
    draft = api.create_post(alice, status="draft")
    path = f"/api/v1/posts/{draft['id']}/comments"
    assert client.post(path, json={"body": "x"}, headers=bob).status_code == 404
    comment = api.comment(alice, draft["id"])
    assert client.get(path, headers=bob).status_code == 404
    assert client.get(f"/api/v1/comments/{comment['id']}").status_code == 404
    assert client.get(path, headers=alice).get_json()["total"] == 1


def test_only_comment_author_or_admin_may_delete(
    api: Any, client: Any, alice: dict[str, str], bob: dict[str, str]
) -> None:
    post = api.create_post(alice)
    first, second = api.comment(bob, post["id"]), api.comment(bob, post["id"])
    assert client.delete(f"/api/v1/comments/{first['id']}", headers=alice).status_code == 403
    assert client.delete(f"/api/v1/comments/{first['id']}", headers=bob).status_code == 204
    admin = api.user("root", admin=True)
    assert client.delete(f"/api/v1/comments/{second['id']}", headers=admin).status_code == 204
    assert client.get(f"/api/v1/posts/{post['id']}/comments").get_json()["total"] == 0


def test_delete_missing_comment_is_404(client: Any, alice: dict[str, str]) -> None:
    assert client.delete("/api/v1/comments/5", headers=alice).status_code == 404
