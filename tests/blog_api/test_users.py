"""The users resource: profiles, /users/me, changes, deletion (blog_api/users.py)."""

from __future__ import annotations

from typing import Any


def me(client: Any, headers: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = client.get("/api/v1/users/me", headers=headers).get_json()
    return body


def test_me_is_private_and_includes_email(client: Any, alice: dict[str, str]) -> None:
    response = client.get("/api/v1/users/me", headers=alice)
    assert response.status_code == 200
    assert response.get_json()["email"] == "alice@example.com"
    assert response.headers["Cache-Control"] == "no-store"


def test_me_without_token_is_401(client: Any) -> None:
    assert client.get("/api/v1/users/me").status_code == 401


def test_profile_hides_email_from_others(
    client: Any, alice: dict[str, str], bob: dict[str, str]
) -> None:
    alice_id = me(client, alice)["id"]
    public = client.get(f"/api/v1/users/{alice_id}").get_json()
    assert public["username"] == "alice" and "email" not in public
    assert "email" not in client.get(f"/api/v1/users/{alice_id}", headers=bob).get_json()
    own = client.get(f"/api/v1/users/{alice_id}", headers=alice)
    assert own.get_json()["email"] == "alice@example.com"
    assert own.headers["Cache-Control"] == "no-store"


def test_list_users(client: Any, alice: dict[str, str], bob: dict[str, str]) -> None:
    body = client.get("/api/v1/users").get_json()
    assert [user["username"] for user in body["items"]] == ["alice", "bob"]
    assert body["total"] == 2
    assert all("email" not in user for user in body["items"])


def test_patch_own_profile(api: Any, client: Any, alice: dict[str, str]) -> None:
    user_id = me(client, alice)["id"]
    response = client.patch(
        f"/api/v1/users/{user_id}",
        json={"email": "new@example.com", "password": "another long password"},
        headers=alice,
    )
    assert response.status_code == 200
    assert response.get_json()["email"] == "new@example.com"
    login = client.post(
        "/api/v1/auth/login", json={"username": "alice", "password": "another long password"}
    )
    assert login.status_code == 200


def test_patch_someone_else_is_403(client: Any, alice: dict[str, str], bob: dict[str, str]) -> None:
    alice_id = me(client, alice)["id"]
    response = client.patch(f"/api/v1/users/{alice_id}", json={"username": "mallory"}, headers=bob)
    assert response.status_code == 403
    assert me(client, alice)["username"] == "alice"


def test_admin_may_patch_anyone(api: Any, client: Any, alice: dict[str, str]) -> None:
    admin = api.user("root", admin=True)
    alice_id = me(client, alice)["id"]
    response = client.patch(f"/api/v1/users/{alice_id}", json={"username": "alice2"}, headers=admin)
    assert response.status_code == 200
    assert response.get_json()["username"] == "alice2"


def test_patch_to_taken_username_is_409(
    client: Any, alice: dict[str, str], bob: dict[str, str]
) -> None:
    alice_id = me(client, alice)["id"]
    response = client.patch(f"/api/v1/users/{alice_id}", json={"username": "bob"}, headers=alice)
    assert response.status_code == 409
    assert me(client, alice)["username"] == "alice"


def test_patch_unknown_field_is_422(client: Any, alice: dict[str, str]) -> None:
    alice_id = me(client, alice)["id"]
    response = client.patch(f"/api/v1/users/{alice_id}", json={"is_admin": True}, headers=alice)
    assert response.status_code == 422
    assert response.get_json()["details"][0]["field"] == "is_admin"
    assert me(client, alice)["is_admin"] is False


def test_delete_user_removes_their_posts(
    api: Any, client: Any, alice: dict[str, str], bob: dict[str, str]
) -> None:
    post = api.create_post(alice)
    api.comment(alice, api.create_post(bob)["id"])
    alice_id = me(client, alice)["id"]
    assert client.delete(f"/api/v1/users/{alice_id}", headers=bob).status_code == 403
    assert client.delete(f"/api/v1/users/{alice_id}", headers=alice).status_code == 204
    assert client.get(f"/api/v1/users/{alice_id}").status_code == 404
    assert client.get(f"/api/v1/posts/{post['id']}").status_code == 404
    assert client.get("/api/v1/posts").get_json()["total"] == 1
    bob_post = client.get("/api/v1/posts").get_json()["items"][0]
    assert client.get(f"/api/v1/posts/{bob_post['id']}/comments").get_json()["total"] == 0


def test_missing_user_is_404(client: Any) -> None:
    assert client.get("/api/v1/users/77").status_code == 404
    assert client.get("/api/v1/users/abc").status_code == 404
