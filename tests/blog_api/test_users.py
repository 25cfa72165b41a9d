"""The users resource: profiles, /users/me, changes, deletion (blog_api/users.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.blog_api.test_site import log_in


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
        json={
            "email": "New@Example.com",
            "password": "another long password",
            "current_password": api.password,
        },
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


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_patch_and_delete_check_who_may_before_if_match(
    client: Any, alice: dict[str, str], bob: dict[str, str], method: str
) -> None:
    alice_id = me(client, alice)["id"]
    url = f"/api/v1/users/{alice_id}"
    stale = {**bob, "If-Match": '"stale"'}
    response = client.open(url, method=method, json={"username": "mallory"}, headers=stale)
    assert response.status_code == 403  # who may comes first: nothing is revealed
    response = client.open(url, method=method, json={"username": "alice"}, headers=alice)
    assert response.status_code in {200, 204}  # no If-Match: the change goes through
    missing = client.open("/api/v1/users/77", method=method, json={}, headers=stale)
    assert missing.status_code == 404


def test_missing_user_is_404(client: Any) -> None:
    assert client.get("/api/v1/users/77").status_code == 404
    assert client.get("/api/v1/users/abc").status_code == 404


NEW_PASSWORD = "a brand new passphrase"


def patch(client: Any, user_id: int, headers: dict[str, str], **fields: Any) -> Any:
    return client.patch(f"/api/v1/users/{user_id}", json=fields, headers=headers)


def refresh(client: Any, refresh_token: str) -> Any:
    return client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})


def can_log_in(client: Any, password: str, username: str = "alice") -> bool:
    response = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    return bool(response.status_code == 200)


def test_a_stolen_access_token_cannot_take_over_the_account(api: Any, client: Any) -> None:
    """The whole sequence: the thief is refused, the owner's change locks the thief out."""
    alice_id = api.register("alice")["id"]
    stolen = api.login("alice")  # what the thief copied: an access and a refresh token
    thief = api.bearer(stolen["access_token"])

    # 1. The stolen access token alone changes neither the password nor the email.
    for fields in ({"password": "thief's own password"}, {"email": "thief@example.net"}):
        refused = patch(client, alice_id, thief, **fields)
        assert refused.status_code == 422
        assert refused.get_json()["details"][0]["field"] == "current_password"
    guess = patch(client, alice_id, thief, password="thief's own password", current_password="x1")
    assert guess.status_code == 403
    assert guess.get_json()["error"] == "current_password is not your password"
    assert me(client, thief)["email"] == "alice@example.com"
    assert can_log_in(client, api.password)

    # 2. The real owner changes the password, and carries on with the tokens she gets back.
    owner = api.bearer(api.login("alice")["access_token"])
    changed = patch(client, alice_id, owner, password=NEW_PASSWORD, current_password=api.password)
    assert changed.status_code == 200
    fresh = changed.get_json()["tokens"]
    assert fresh["token_type"] == "Bearer" and fresh["access_token"] and fresh["refresh_token"]
    assert changed.headers["Cache-Control"] == "no-store"

    # 3. Everything the thief holds is dead: the refresh token and the access token.
    assert refresh(client, stolen["refresh_token"]).status_code == 401
    old_access = client.get("/api/v1/users/me", headers=thief)
    assert old_access.status_code == 401
    assert 'error="invalid_token"' in old_access.headers["WWW-Authenticate"]
    assert client.get("/api/v1/users/me", headers=owner).status_code == 401

    # 4. The owner's new tokens work at once (same second), and so does the new password.
    assert (
        client.get("/api/v1/users/me", headers=api.bearer(fresh["access_token"])).status_code == 200
    )
    assert refresh(client, fresh["refresh_token"]).status_code == 200
    assert can_log_in(client, NEW_PASSWORD) and not can_log_in(client, api.password)


def test_a_password_change_logs_out_every_other_session(api: Any, client: Any) -> None:
    alice_id = api.register("alice")["id"]
    laptop, phone = api.login("alice"), api.login("alice")
    rotated = refresh(client, phone["refresh_token"]).get_json()  # a second family member
    headers = api.bearer(laptop["access_token"])
    assert patch(client, alice_id, headers, password=NEW_PASSWORD, current_password=api.password)
    for token in (phone["access_token"], rotated["access_token"]):
        assert client.get("/api/v1/users/me", headers=api.bearer(token)).status_code == 401
    assert refresh(client, rotated["refresh_token"]).status_code == 401
    # A login right after the change, in the same second, is not caught by it.
    again = api.login("alice", NEW_PASSWORD)
    assert (
        client.get("/api/v1/users/me", headers=api.bearer(again["access_token"])).status_code == 200
    )


def test_the_etag_of_a_password_change_response_is_the_users(
    api: Any, client: Any, alice: dict[str, str]
) -> None:
    alice_id = me(client, alice)["id"]
    changed = patch(client, alice_id, alice, password=NEW_PASSWORD, current_password=api.password)
    new_headers = api.bearer(changed.get_json()["tokens"]["access_token"])
    current = client.get(f"/api/v1/users/{alice_id}", headers=new_headers)
    assert changed.headers["ETag"] == current.headers["ETag"]
    # So it works as the next If-Match.
    renamed = client.patch(
        f"/api/v1/users/{alice_id}",
        json={"username": "alice2"},
        headers={**new_headers, "If-Match": changed.headers["ETag"]},
    )
    assert renamed.status_code == 200


def test_changing_only_the_username_needs_no_password_and_returns_no_tokens(
    api: Any, client: Any, alice: dict[str, str]
) -> None:
    alice_id = me(client, alice)["id"]
    response = patch(client, alice_id, alice, username="Alice2")
    assert response.status_code == 200
    assert response.get_json()["username"] == "alice2" and "tokens" not in response.get_json()
    assert client.get("/api/v1/users/me", headers=alice).status_code == 200


def test_a_wrong_current_password_is_refused_even_for_a_username_change(
    api: Any, client: Any, alice: dict[str, str]
) -> None:
    alice_id = me(client, alice)["id"]
    response = patch(client, alice_id, alice, username="alice2", current_password="not it at all")
    assert response.status_code == 403
    assert me(client, alice)["username"] == "alice"


def test_an_email_change_needs_the_password_but_logs_nobody_out(
    api: Any, client: Any, alice: dict[str, str]
) -> None:
    alice_id = me(client, alice)["id"]
    missing = patch(client, alice_id, alice, email="new@example.com")
    assert missing.status_code == 422
    body = missing.get_json()
    assert body["error"] == "current_password is required to change the email"
    assert body["details"] == [
        {"field": "current_password", "message": body["error"], "type": "missing"}
    ]
    response = patch(
        client, alice_id, alice, email="new@example.com", current_password=api.password
    )
    assert response.status_code == 200 and "tokens" not in response.get_json()
    assert me(client, alice)["email"] == "new@example.com"


@pytest.mark.parametrize(
    ("fields", "rule"),
    [
        ({"password": "password1"}, "password_too_common"),
        ({"password": "alice forever"}, "password_contains_username"),
        # The rule looks at the username the account will have.
        ({"password": "queenbee rules", "username": "queenbee"}, "password_contains_username"),
        ({"password": "wonderland alice"}, "password_contains_username"),
    ],
)
def test_a_new_password_must_meet_the_policy(
    api: Any, client: Any, alice: dict[str, str], fields: dict[str, str], rule: str
) -> None:
    alice_id = me(client, alice)["id"]
    response = patch(client, alice_id, alice, current_password=api.password, **fields)
    assert response.status_code == 422
    assert rule in [detail["type"] for detail in response.get_json()["details"]]
    # Nothing was written, and nobody was logged out.
    assert me(client, alice)["username"] == "alice"
    assert can_log_in(client, api.password)


def test_an_admin_changes_someone_elses_password_with_their_own_password(
    api: Any, client: Any
) -> None:
    alice_id = api.register("alice")["id"]
    alice_tokens = api.login("alice")
    admin = api.user("root", admin=True)
    assert patch(client, alice_id, admin, password=NEW_PASSWORD).status_code == 422
    wrong = patch(client, alice_id, admin, password=NEW_PASSWORD, current_password="alice's pw")
    assert wrong.status_code == 403
    response = patch(client, alice_id, admin, password=NEW_PASSWORD, current_password=api.password)
    assert response.status_code == 200
    # The admin gets no tokens for alice, and keeps their own session.
    assert "tokens" not in response.get_json()
    assert client.get("/api/v1/users/me", headers=admin).status_code == 200
    # Alice is logged out everywhere, as after any password change.
    assert (
        client.get("/api/v1/users/me", headers=api.bearer(alice_tokens["access_token"])).status_code
        == 401
    )
    assert refresh(client, alice_tokens["refresh_token"]).status_code == 401
    assert can_log_in(client, NEW_PASSWORD)


def test_wrong_current_passwords_are_rate_limited_with_logins(
    app: Any, api: Any, client: Any, alice: dict[str, str]
) -> None:
    """A stolen token is no password oracle: guesses share the failed-login limit."""
    alice_id = me(client, alice)["id"]
    for n in range(app.config["LOGIN_MAX_FAILURES"]):
        guess = patch(client, alice_id, alice, email="x@example.net", current_password=f"guess {n}")
        assert guess.status_code == 403
    locked = patch(client, alice_id, alice, email="x@example.net", current_password=api.password)
    assert locked.status_code == 429 and "Retry-After" in locked.headers
    assert me(client, alice)["email"] == "alice@example.com"
    login = client.post("/api/v1/auth/login", json={"username": "alice", "password": api.password})
    assert login.status_code == 429


def test_a_right_current_password_does_not_count_as_a_failure(
    app: Any, api: Any, client: Any, alice: dict[str, str]
) -> None:
    alice_id = me(client, alice)["id"]
    for n in range(app.config["LOGIN_MAX_FAILURES"] + 1):
        response = patch(
            client, alice_id, alice, email=f"a{n}@example.com", current_password=api.password
        )
        assert response.status_code == 200


def test_a_password_change_ends_the_users_reader_site_logins(app: Any, api: Any) -> None:
    api.register("alice")
    browser = app.test_client()  # the reader site, logged in with a session cookie
    assert log_in(browser).status_code == 303
    assert "Logged in as" in browser.get("/").get_data(as_text=True)
    alice = api.login("alice")
    headers = api.bearer(alice["access_token"])
    user_id = me(api.client, headers)["id"]
    changed = patch(
        api.client, user_id, headers, password=NEW_PASSWORD, current_password=api.password
    )
    assert changed.status_code == 200
    assert "Logged in as" not in browser.get("/").get_data(as_text=True)
