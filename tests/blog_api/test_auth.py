"""Registration, JSON log in, refresh rotation and log out (blog_api/auth.py)."""

from __future__ import annotations

from typing import Any


def test_register_returns_201_location_and_never_the_password(client: Any, api: Any) -> None:
    response = client.post(
        "/api/v1/auth/register",
        json={"username": "alice", "email": "alice@example.com", "password": api.password},
    )
    body = response.get_json()
    assert response.status_code == 201
    assert response.headers["Location"].endswith(f"/api/v1/users/{body['id']}")
    assert body["username"] == "alice" and body["email"] == "alice@example.com"
    assert "password" not in str(body) and "hash" not in str(body)
    assert response.headers["Cache-Control"] == "no-store"


def test_register_duplicate_username_is_409_and_writes_nothing(api: Any, client: Any) -> None:
    api.register("alice")
    response = client.post(
        "/api/v1/auth/register",
        json={"username": "alice", "email": "other@example.com", "password": api.password},
    )
    assert response.status_code == 409
    assert response.get_json()["code"] == 409
    assert client.get("/api/v1/users").get_json()["total"] == 1


def test_register_duplicate_email_is_409(api: Any, client: Any) -> None:
    api.register("alice")
    response = client.post(
        "/api/v1/auth/register",
        json={"username": "alice2", "email": "alice@example.com", "password": api.password},
    )
    assert response.status_code == 409


def test_register_validates_fields(client: Any) -> None:
    response = client.post(
        "/api/v1/auth/register",
        json={"username": "a", "email": "not-an-email", "password": "short"},
    )
    body = response.get_json()
    assert response.status_code == 422
    assert {detail["field"] for detail in body["details"]} == {"username", "email", "password"}


def test_login_returns_bearer_token_pair(api: Any, client: Any) -> None:
    api.register("alice")
    response = client.post(
        "/api/v1/auth/login", json={"username": "alice", "password": api.password}
    )
    body = response.get_json()
    assert response.status_code == 200
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["access_token"] and body["refresh_token"]
    assert response.headers["Cache-Control"] == "no-store"
    me = client.get("/api/v1/users/me", headers=api.bearer(body["access_token"]))
    assert me.status_code == 200 and me.get_json()["username"] == "alice"


def test_login_with_wrong_password_is_401_with_bearer_challenge(api: Any, client: Any) -> None:
    api.register("alice")
    response = client.post("/api/v1/auth/login", json={"username": "alice", "password": "nope"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["error"] == "Invalid username or password"


def test_login_with_unknown_user_is_the_same_401(client: Any) -> None:
    response = client.post("/api/v1/auth/login", json={"username": "ghost", "password": "nope"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "Invalid username or password"


def test_refresh_rotates_and_old_token_stops_working(api: Any, client: Any) -> None:
    api.register("alice")
    first = api.login("alice")
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    second = response.get_json()
    assert response.status_code == 200
    assert second["refresh_token"] != first["refresh_token"]
    assert (
        client.get("/api/v1/users/me", headers=api.bearer(second["access_token"])).status_code
        == 200
    )


def test_reusing_a_rotated_refresh_token_revokes_the_family(api: Any, client: Any) -> None:
    api.register("alice")
    first = api.login("alice")
    second = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    ).get_json()
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    # The legitimate holder's newer token was revoked with the family.
    after = client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert after.status_code == 401
    assert "revoked" in after.get_json()["error"]


def test_other_logins_survive_a_family_revocation(api: Any, client: Any) -> None:
    api.register("alice")
    laptop, phone = api.login("alice"), api.login("alice")
    client.post("/api/v1/auth/refresh", json={"refresh_token": laptop["refresh_token"]})
    client.post("/api/v1/auth/refresh", json={"refresh_token": laptop["refresh_token"]})
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert response.status_code == 200


def test_unknown_refresh_token_is_401(client: Any) -> None:
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": "made-up"})
    assert response.status_code == 401


def test_logout_revokes_access_and_refresh_tokens(api: Any, client: Any) -> None:
    api.register("alice")
    tokens = api.login("alice")
    headers = api.bearer(tokens["access_token"])
    response = client.post(
        "/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}, headers=headers
    )
    assert response.status_code == 204
    assert response.data == b""
    me = client.get("/api/v1/users/me", headers=headers)
    assert me.status_code == 401
    assert 'error="invalid_token"' in me.headers["WWW-Authenticate"]
    refresh = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 401


def test_logout_without_body_revokes_only_the_access_token(api: Any, client: Any) -> None:
    api.register("alice")
    tokens = api.login("alice")
    assert (
        client.post("/api/v1/auth/logout", headers=api.bearer(tokens["access_token"])).status_code
        == 204
    )
    refresh = client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refresh.status_code == 200


def test_logout_needs_a_token(client: Any) -> None:
    response = client.post("/api/v1/auth/logout")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="blog_api"'


def test_deleted_users_tokens_are_refused(api: Any, client: Any, alice: dict[str, str]) -> None:
    me = client.get("/api/v1/users/me", headers=alice).get_json()
    assert client.delete(f"/api/v1/users/{me['id']}", headers=alice).status_code == 204
    assert client.get("/api/v1/users/me", headers=alice).status_code == 401
