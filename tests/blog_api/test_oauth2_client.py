"""A real OAuth2 client (authlib) against the API served over real HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from authlib.integrations.requests_client import OAuth2Session
from werkzeug.serving import make_server


@pytest.fixture
def base_url(app: Any) -> Iterator[str]:
    """Serve the app with Werkzeug's server on 127.0.0.1, an OS-chosen port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/api/v1"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_authlib_password_grant_refresh_and_use(api: Any, base_url: str) -> None:
    api.register("alice")
    with OAuth2Session(client_id="blog-cli", token_endpoint_auth_method="none") as session:
        token = session.fetch_token(
            f"{base_url}/auth/token", username="alice", password=api.password
        )
        assert token["token_type"] == "Bearer" and token["expires_in"] > 0
        me = session.get(f"{base_url}/users/me", timeout=5)
        assert me.status_code == 200 and me.json()["username"] == "alice"
        created = session.post(
            f"{base_url}/posts", json={"title": "via OAuth2", "body": "b"}, timeout=5
        )
        assert created.status_code == 201
        refreshed = session.refresh_token(f"{base_url}/auth/token")
        assert refreshed["refresh_token"] != token["refresh_token"]
        assert session.get(f"{base_url}/users/me", timeout=5).status_code == 200


def test_authlib_with_basic_client_auth_and_bad_password(api: Any, base_url: str) -> None:
    from authlib.integrations.base_client.errors import OAuthError

    api.register("alice")
    with OAuth2Session(client_id="blog-cli", client_secret="unused") as session:
        with pytest.raises(OAuthError) as refused:
            session.fetch_token(f"{base_url}/auth/token", username="alice", password="wrong")
        assert refused.value.error == "invalid_grant"
        token = session.fetch_token(
            f"{base_url}/auth/token", username="alice", password=api.password
        )
        assert session.get(f"{base_url}/users/me", timeout=5).status_code == 200
        assert token["access_token"]
