"""Registration, JSON log in, refresh rotation and log out (blog_api/auth.py)."""

from __future__ import annotations

from typing import Any

import pytest


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


def register(client: Any, username: str, email: str, password: str) -> Any:
    return client.post(
        "/api/v1/auth/register",
        json={"username": username, "email": email, "password": password},
    )


def test_usernames_and_emails_are_stored_normalised(client: Any, api: Any) -> None:
    response = register(client, "Carol", "Carol.Smith@Example.COM", api.password)
    assert response.status_code == 201
    body = response.get_json()
    assert body["username"] == "carol" and body["email"] == "carol.smith@example.com"


def test_a_username_in_another_case_is_taken(client: Any, api: Any) -> None:
    assert register(client, "carol", "carol@example.com", api.password).status_code == 201
    response = register(client, "CAROL", "other@example.com", api.password)
    assert response.status_code == 409
    assert response.get_json()["error"] == "That username is already taken"
    assert client.get("/api/v1/users").get_json()["total"] == 1


def test_an_email_in_another_case_is_taken(client: Any, api: Any) -> None:
    assert register(client, "carol", "carol@example.com", api.password).status_code == 201
    response = register(client, "carol2", "CAROL@example.com", api.password)
    assert response.status_code == 409
    assert response.get_json()["error"] == "That email is already taken"
    assert client.get("/api/v1/users").get_json()["total"] == 1


def test_login_by_username_is_case_insensitive(client: Any, api: Any) -> None:
    api.register("carol")
    for spelling in ("carol", "CAROL", "Carol"):
        response = client.post(
            "/api/v1/auth/login", json={"username": spelling, "password": api.password}
        )
        assert response.status_code == 200, spelling
    # The password is not: only the username's case is forgiven.
    wrong = client.post(
        "/api/v1/auth/login", json={"username": "carol", "password": api.password.upper()}
    )
    assert wrong.status_code == 401


def test_failed_logins_in_any_case_count_against_one_account(
    app: Any, client: Any, api: Any
) -> None:
    """Case-insensitive login must not give each spelling its own five guesses."""
    api.register("carol")
    spellings = ["carol", "Carol", "CAROL", "cArol", "caRol", "carOl", "caroL"]
    for spelling in spellings[: app.config["LOGIN_MAX_FAILURES"]]:
        response = client.post(
            "/api/v1/auth/login", json={"username": spelling, "password": "wrong password"}
        )
        assert response.status_code == 401
    right = client.post("/api/v1/auth/login", json={"username": "carol", "password": api.password})
    assert right.status_code == 429


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("password", "password_too_common"),
        ("12345678", "password_too_common"),
        ("Iloveyou", "password_too_common"),
        ("carol-is-me", "password_contains_username"),
        ("I am CAROL!", "password_contains_username"),
        ("c.smith forever", "password_contains_email"),
    ],
)
def test_register_refuses_a_weak_password_saying_which_rule(
    client: Any, password: str, rule: str
) -> None:
    response = register(client, "carol", "c.smith@example.com", password)
    assert response.status_code == 422
    body = response.get_json()
    assert body["type"] == "validation_error"
    assert [(d["field"], d["type"]) for d in body["details"]] == [("password", rule)]
    assert body["error"] == body["details"][0]["message"]
    assert client.get("/api/v1/users").get_json()["total"] == 0


def test_register_refuses_a_short_password_and_allows_a_long_passphrase(client: Any) -> None:
    short = register(client, "carol", "carol@example.com", "a1b2c3d")
    assert short.status_code == 422
    assert short.get_json()["details"][0]["type"] == "string_too_short"
    passphrase = "the quick brown fox jumps over the lazy dog " * 2  # 88 characters
    assert register(client, "carol", "carol@example.com", passphrase).status_code == 201


def test_the_readme_passphrase_still_registers(client: Any) -> None:
    response = register(client, "reader", "reader@example.com", "correct horse battery")
    assert response.status_code == 201
