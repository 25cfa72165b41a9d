"""The RFC 6749 token endpoint: password and refresh_token grants, §5.2 errors."""

from __future__ import annotations

from typing import Any


def token(client: Any, **form: str) -> Any:
    return client.post("/api/v1/auth/token", data=form)


def test_password_grant_issues_tokens(api: Any, client: Any) -> None:
    api.register("alice")
    response = token(client, grant_type="password", username="alice", password=api.password)
    body = response.get_json()
    assert response.status_code == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"
    assert (
        client.get("/api/v1/users/me", headers=api.bearer(body["access_token"])).status_code == 200
    )


def test_refresh_token_grant_rotates(api: Any, client: Any) -> None:
    api.register("alice")
    first = token(client, grant_type="password", username="alice", password=api.password).get_json()
    second = token(client, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second.status_code == 200
    assert second.get_json()["refresh_token"] != first["refresh_token"]
    replay = token(client, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert replay.status_code == 400
    assert replay.get_json()["error"] == "invalid_grant"


def test_bad_password_is_invalid_grant(api: Any, client: Any) -> None:
    api.register("alice")
    response = token(client, grant_type="password", username="alice", password="wrong")
    body = response.get_json()
    assert response.status_code == 400
    assert body["error"] == "invalid_grant"
    assert body["error_description"] and body["code"] == 400
    assert response.headers["Cache-Control"] == "no-store"


def test_unsupported_grant_type(client: Any) -> None:
    response = token(client, grant_type="client_credentials")
    assert response.status_code == 400
    assert response.get_json()["error"] == "unsupported_grant_type"


def test_missing_grant_type_is_invalid_request(client: Any) -> None:
    response = token(client, username="alice")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_missing_credentials_is_invalid_request(client: Any) -> None:
    response = token(client, grant_type="password", username="alice")
    assert response.get_json()["error"] == "invalid_request"


def test_json_body_is_refused_with_invalid_request(client: Any) -> None:
    response = client.post("/api/v1/auth/token", json={"grant_type": "password"})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_token_endpoint_is_rate_limited_too(api: Any, client: Any, app: Any) -> None:
    api.register("alice")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        token(client, grant_type="password", username="alice", password="wrong")
    response = token(client, grant_type="password", username="alice", password=api.password)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert response.get_json()["code"] == 429
