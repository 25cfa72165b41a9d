"""A real OAuth 2.0 client (Authlib's ``OAuth2Session``) against the blog over real HTTP.

The app under test is served by Werkzeug's server on 127.0.0.1; the *app*
is Authlib's client, the *user* a ``requests.Session`` that logs in on the
reader site and answers the consent page, as a browser would (a browser
drives the same pages in ``tests/integration``). Everything the app knows
about the blog comes from the RFC 8414 metadata document.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc6749 import MismatchingStateException
from werkzeug.serving import make_server

from tests.blog_api.conftest import PASSWORD, Api
from tests.blog_api.test_oauth_server import REDIRECT, register_client

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def base_url(app: Any) -> Iterator[str]:
    """Serve the app with Werkzeug's server on 127.0.0.1, an OS-chosen port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def browser(api: Api, base_url: str) -> Iterator[requests.Session]:
    """alice, logged in on the reader site through its form."""
    api.register("alice")
    with requests.Session() as session:
        page = session.get(f"{base_url}/login", timeout=5)
        form = {"username": "alice", "password": PASSWORD, "csrf_token": csrf(page.text)}
        assert session.post(f"{base_url}/login", data=form, timeout=5).ok
        yield session


def csrf(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF.search(html)
    assert match, "no form on the page"
    return match.group(1)


def consent(browser: requests.Session, url: str, decision: str = "allow") -> str:
    """Open the consent page at ``url``, press a button; the redirect's Location."""
    page = browser.get(url, timeout=5)
    assert page.status_code == 200, page.text
    answer = browser.post(
        page.url,
        data={"csrf_token": csrf(page.text), "decision": decision},
        allow_redirects=False,
        timeout=5,
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def metadata(base_url: str) -> dict[str, Any]:
    """The blog's RFC 8414 document."""
    document: dict[str, Any] = requests.get(
        f"{base_url}/.well-known/oauth-authorization-server", timeout=5
    ).json()
    return document


@pytest.mark.parametrize("auth_method", ["client_secret_basic", "client_secret_post", "none"])
def test_authlib_code_flow_use_refresh_introspect_revoke(
    app: Any, base_url: str, browser: requests.Session, auth_method: str
) -> None:
    meta = metadata(base_url)
    client_id, secret = register_client(app, public=auth_method == "none")
    with OAuth2Session(
        client_id,
        secret,
        scope="posts:read posts:write profile",
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        token_endpoint_auth_method=auth_method,
    ) as client:
        verifier = generate_token(48)
        url, state = client.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier
        )
        response = consent(browser, url)
        # RFC 9207: the response names the server the client sent the user to.
        assert parse_qs(urlsplit(response).query)["iss"] == [meta["issuer"]]
        token = client.fetch_token(
            meta["token_endpoint"],
            authorization_response=response,
            state=state,
            code_verifier=verifier,
        )
        assert (
            token["token_type"] == "Bearer" and token["scope"] == "posts:read posts:write profile"
        )

        me = client.get(f"{base_url}/api/v1/users/me", timeout=5)
        assert me.status_code == 200 and me.json()["username"] == "alice"
        created = client.post(
            f"{base_url}/api/v1/posts", json={"title": "via OAuth", "body": "b"}, timeout=5
        )
        assert created.status_code == 201

        refreshed = client.refresh_token(meta["token_endpoint"])
        assert refreshed["refresh_token"] != token["refresh_token"]
        assert client.get(f"{base_url}/api/v1/users/me", timeout=5).status_code == 200

        if auth_method != "none":  # RFC 7662 is for confidential clients
            info = client.introspect_token(
                meta["introspection_endpoint"], token=refreshed["access_token"]
            ).json()
            assert info["active"] is True and info["client_id"] == client_id
            assert info["username"] == "alice"

        revoked = client.revoke_token(
            meta["revocation_endpoint"],
            token=refreshed["refresh_token"],
            token_type_hint="refresh_token",
        )
        assert revoked.status_code == 200
        with pytest.raises(OAuthError) as refused:
            client.refresh_token(meta["token_endpoint"])
        assert refused.value.error == "invalid_grant"


def test_authlib_client_sees_a_denial(app: Any, base_url: str, browser: requests.Session) -> None:
    meta = metadata(base_url)
    client_id, secret = register_client(app)
    with OAuth2Session(
        client_id, secret, redirect_uri=REDIRECT, code_challenge_method="S256"
    ) as client:
        verifier = generate_token(48)
        url, state = client.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier
        )
        response = consent(browser, url, decision="deny")
        params = parse_qs(urlsplit(response).query)
        assert params["error"] == ["access_denied"] and params["state"] == [state]
        assert "code" not in params


def test_authlib_client_refuses_a_response_with_another_state(
    app: Any, base_url: str, browser: requests.Session
) -> None:
    """The ``state`` comes back unchanged, so a client can tell its own responses."""
    meta = metadata(base_url)
    client_id, secret = register_client(app)
    with OAuth2Session(
        client_id, secret, redirect_uri=REDIRECT, code_challenge_method="S256"
    ) as client:
        verifier = generate_token(48)
        url, state = client.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier
        )
        response = consent(browser, url)
        assert parse_qs(urlsplit(response).query)["state"] == [state]
        forged = response.replace(f"state={state}", "state=someone-elses")
        with pytest.raises(MismatchingStateException):
            client.fetch_token(
                meta["token_endpoint"],
                authorization_response=forged,
                state=state,
                code_verifier=verifier,
            )
