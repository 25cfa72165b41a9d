"""The RFC 6749 token endpoint: the retired password grant, first-party refresh, §5.2 errors.

The authorization code grant and third-party refresh are in
``test_oauth_server.py``; their attacks in ``test_oauth_attacks.py``.
"""

from __future__ import annotations

from typing import Any

from tests.blog_api.conftest import Api
from tests.blog_api.test_oauth_server import code_flow, register_client


def token(client: Any, headers: dict[str, str] | None = None, **form: str) -> Any:
    return client.post("/api/v1/auth/token", data=form, headers=headers or {})


def test_the_password_grant_is_refused_and_says_what_replaces_it(api: Api, client: Any) -> None:
    api.register("alice")
    response = token(client, grant_type="password", username="alice", password=api.password)
    body = response.get_json()
    assert response.status_code == 400
    assert body["error"] == "unsupported_grant_type" and body["code"] == 400
    assert "/api/v1/auth/login" in body["error_description"]
    assert "authorization code" in body["error_description"]
    assert response.headers["Cache-Control"] == "no-store"
    assert "access_token" not in body


def test_the_password_grant_checks_no_password(api: Api, client: Any, app: Any) -> None:
    """Refused before any password check: wrong guesses neither count nor lock anyone out."""
    api.register("alice")
    for _ in range(app.config["LOGIN_MAX_FAILURES"] + 1):
        refused = token(client, grant_type="password", username="alice", password="wrong")
        assert refused.status_code == 400
    assert api.login("alice")["access_token"]


def test_a_first_party_refresh_without_client_rotates(api: Api, client: Any) -> None:
    api.register("alice")
    first = api.login("alice")
    second = token(client, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert second.status_code == 200
    body = second.get_json()
    assert body["refresh_token"] != first["refresh_token"]
    assert "scope" not in body  # the blog's own tokens, as before
    assert second.headers["Cache-Control"] == "no-store"
    assert second.headers["Pragma"] == "no-cache"
    me = client.get("/api/v1/users/me", headers=api.bearer(body["access_token"]))
    assert me.status_code == 200


def test_a_replayed_first_party_refresh_token_is_invalid_grant(api: Api, client: Any) -> None:
    api.register("alice")
    first = api.login("alice")
    second = token(client, grant_type="refresh_token", refresh_token=first["refresh_token"])
    replay = token(client, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert replay.status_code == 400
    assert replay.get_json()["error"] == "invalid_grant"
    newest = second.get_json()["refresh_token"]
    assert token(client, grant_type="refresh_token", refresh_token=newest).status_code == 400


def test_a_third_party_refresh_token_needs_its_client(api: Api, client: Any) -> None:
    _, _, tokens = code_flow(api, client)
    anonymous = token(client, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert anonymous.status_code == 400
    assert anonymous.get_json()["error"] == "invalid_grant"


def test_a_first_party_refresh_token_is_no_apps(api: Api, client: Any) -> None:
    client_id, _ = register_client(api.app, public=True)
    api.register("alice")
    own = api.login("alice")
    response = token(
        client, grant_type="refresh_token", refresh_token=own["refresh_token"], client_id=client_id
    )
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_an_unknown_client_is_invalid_client(api: Api, client: Any) -> None:
    api.register("alice")
    own = api.login("alice")
    response = token(
        client, grant_type="refresh_token", refresh_token=own["refresh_token"], client_id="nobody"
    )
    assert response.status_code in (400, 401)
    assert response.get_json()["error"] == "invalid_client"


def test_unsupported_grant_type(client: Any) -> None:
    for grant in ("client_credentials", "implicit", "urn:ietf:params:oauth:grant-type:jwt-bearer"):
        response = token(client, grant_type=grant)
        assert response.status_code == 400
        assert response.get_json()["error"] == "unsupported_grant_type"


def test_missing_grant_type_is_invalid_request(client: Any) -> None:
    response = token(client, username="alice")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_missing_refresh_token_is_invalid_request(client: Any) -> None:
    response = token(client, grant_type="refresh_token")
    assert response.get_json()["error"] == "invalid_request"


def test_json_body_is_refused_with_invalid_request(client: Any) -> None:
    response = client.post("/api/v1/auth/token", json={"grant_type": "refresh_token"})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_errors_have_the_rfc_shape_and_are_not_cached(client: Any) -> None:
    response = token(client, grant_type="refresh_token", refresh_token="nope")
    body = response.get_json()
    assert response.status_code == 400
    assert body["error"] == "invalid_grant"
    assert body["error_description"] and body["code"] == 400
    assert response.headers["Cache-Control"] == "no-store"
