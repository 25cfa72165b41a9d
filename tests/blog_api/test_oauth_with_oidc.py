"""Both OAuth roles in one flow: an API client gets the blog's own tokens for a reader
who signs in with an OpenID Connect provider (issue 16).

The API client runs the blog's authorization code flow with PKCE
(``blog_api/oauth/``); the blog's log-in page offers "Sign in with ...", and
the reader, who has no password on the blog, signs in at the provider
(``oidc-provider-mock`` on 127.0.0.1, ``blog_api/oidc.py``), comes back to
the consent page, allows, and the client exchanges the code for tokens the
API accepts for that reader. Both frameworks.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.blog_api.conftest import make_config
from tests.blog_api.test_oauth_server import (
    authorize_url,
    exchange,
    pkce,
    redirect_params,
    register_client,
)
from tests.blog_api.test_site import token_from
from tests.support.oidc_provider import MockProvider, path_and_query

pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")


@pytest.fixture(scope="module")
def provider() -> Iterator[MockProvider]:
    """The OpenID provider, on its own port of 127.0.0.1."""
    with MockProvider() as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, provider: MockProvider) -> dict[str, Any]:
    return make_config(tmp_path, **provider.settings(name="Mock ID"))


def test_an_api_client_gets_blog_tokens_for_a_reader_signed_in_with_the_provider(
    app: Any, client: Any, provider: MockProvider
) -> None:
    client_id, secret = register_client(app)
    verifier, challenge = pkce()
    request = authorize_url(client_id, challenge, scope="posts:read profile")

    # Not logged in on the blog: the authorization request sends the reader to log in.
    to_login = client.get(request)
    assert to_login.status_code == 303
    login_page = client.get(path_and_query(to_login.headers["Location"])).get_data(as_text=True)
    assert "Sign in with Mock ID" in login_page
    [button] = re.findall(r'href="(/login/oidc\?[^"]+)"', login_page)
    button = html.unescape(button)
    assert parse_qs(urlsplit(button).query)["next"] == [request]  # it comes back here

    # The button: to the provider, where the reader signs in, and back to the request.
    provider.set_user("sub-dana", email="dana@example.com", email_verified=True)
    to_provider = client.get(button)
    callback = provider.authorize(to_provider.headers["Location"], "sub-dana")
    back = client.get(path_and_query(callback))
    assert back.status_code == 303 and back.headers["Location"] == request

    # The consent page, then the code, then the blog's own tokens.
    consent = client.get(request).get_data(as_text=True)
    allowed = client.post(request, data={"csrf_token": token_from(consent), "decision": "allow"})
    code = redirect_params(allowed)["code"]
    tokens = exchange(client, client_id, secret, code, verifier).get_json()
    assert tokens["scope"] == "posts:read profile"
    me = client.get(
        "/api/v1/users/me", headers={"Authorization": "Bearer " + tokens["access_token"]}
    )
    assert me.status_code == 200
    assert me.get_json()["email"] == "dana@example.com"
