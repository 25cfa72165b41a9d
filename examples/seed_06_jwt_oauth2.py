"""Seed question 6: JWT authentication and OAuth2 authorization for a REST API.

On the blog API (miniflask, throwaway SQLite):

1. log in, get a JWT access token and a refresh token; look inside the JWT
   (its claims are readable by anyone: it is signed, not encrypted);
2. call a protected endpoint with ``Authorization: Bearer <token>``;
3. a token with a forged payload, or signed with ``alg: none``, is a 401 with
   ``WWW-Authenticate: Bearer error="invalid_token"``;
4. the OAuth2 ``password`` grant is retired (RFC 9700 §2.4: an app must never
   see the user's password): the blog's own clients log in at
   ``/auth/login``, third-party apps use the authorization code flow;
5. the code flow (RFC 6749 §4.1 with PKCE, RFC 7636): a registered app sends
   alice to the consent page, she allows ``posts:read profile``, the app
   exchanges the code and its PKCE verifier for tokens that carry that scope,
   and the API refuses what the scope does not cover (403 ``insufficient_scope``);
6. the app's refresh token rotates on each use; replaying a used one is
   refused (400 ``invalid_grant``, RFC 6749 §5.2) and revokes the whole family,
   so a stolen refresh token is useless to thief and victim alike.

Code: blog_api/tokens.py, blog_api/scopes.py, blog_api/auth.py, blog_api/oauth/,
blog_api/site/consent.py, blog_api/hooks.py (authenticate); docs/oauth.md.
Run: ``.venv/bin/python examples/seed_06_jwt_oauth2.py``
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from seed_blog import PASSWORD, make_blog_app, sign_up

from blog_api.services import oauth_clients

REDIRECT = "https://app.example/callback"


def b64json(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def register_app(app: Any) -> tuple[str, str]:
    """What ``miniflask --app blog_api.wsgi clients create ...`` does; the id and secret."""
    with app.extensions["blog_db"].session_factory() as session:
        client, secret = oauth_clients.register(
            session, "Reader app", [REDIRECT], "posts:read profile"
        )
        session.commit()
        assert secret is not None  # a confidential client
        return client.client_id, secret


def csrf_token(page: Any) -> str:
    """The site's forms carry a CSRF token; a browser sends it back."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True))
    assert found is not None
    return found[1]


def main() -> None:
    app = make_blog_app()
    client = app.test_client()
    auth = sign_up(client, "alice")
    token = auth["Authorization"].removeprefix("Bearer ")
    header, payload, signature = token.split(".")
    print(f"1. JWT header {b64json(header)}")
    print(f"   claims {sorted(b64json(payload))} (sub={b64json(payload)['sub']})")

    me = client.get("/api/v1/users/me", headers=auth)
    print(f"2. GET /users/me with Bearer -> {me.status_code} {me.get_json()['username']}")
    print(f"   without it                -> {client.get('/api/v1/users/me').status_code}")

    forged = ".".join([header, b64(dict(b64json(payload), sub="999")), signature])
    unsigned = ".".join([b64({"alg": "none", "typ": "JWT"}), payload, ""])
    for name, bad in (("forged sub", forged), ("alg none", unsigned)):
        response = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {bad}"})
        print(
            f"3. {name:<10} -> {response.status_code} "
            f"WWW-Authenticate: {response.headers['WWW-Authenticate']}"
        )

    form = {"grant_type": "password", "username": "alice", "password": PASSWORD}
    refused = client.post("/api/v1/auth/token", data=form).get_json()
    print(f"4. OAuth2 password grant -> {refused['error']}: {refused['error_description']}")

    print("5. a third-party app, authorization code flow with PKCE:")
    tokens = code_flow(app, client)
    print(f"   the app's token       -> scope={tokens['scope']!r}")
    app_auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = client.get("/api/v1/users/me", headers=app_auth)
    print(f"   GET /users/me         -> {me.status_code} (profile)")
    post = client.post("/api/v1/posts", json={"title": "t", "body": "b"}, headers=app_auth)
    print(f"   POST /posts           -> {post.status_code} {post.headers['WWW-Authenticate']}")

    client_id, secret, first_refresh = tokens["client"], tokens["secret"], tokens["refresh_token"]
    basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    refresh = {"grant_type": "refresh_token", "refresh_token": first_refresh}
    app_headers = {"Authorization": basic}
    rotated = client.post("/api/v1/auth/token", data=refresh, headers=app_headers)
    print(
        f"6. refresh_token grant   -> {rotated.status_code} (a new refresh token: "
        f"{rotated.get_json()['refresh_token'] != first_refresh})"
    )
    replay = client.post("/api/v1/auth/token", data=refresh, headers=app_headers)
    print(f"   replay the used one   -> {replay.status_code} {replay.get_json()['error']}")
    newest = {"grant_type": "refresh_token", "refresh_token": rotated.get_json()["refresh_token"]}
    after = client.post("/api/v1/auth/token", data=newest, headers=app_headers)
    print(f"   newest one after that -> {after.status_code} (the family was revoked)")
    print(f"reused refresh token -> {replay.status_code} {replay.get_json()['error']}")


def code_flow(app: Any, client: Any) -> dict[str, Any]:
    """A registered app gets alice's consent and trades the code for tokens."""
    client_id, secret = register_app(app)
    # alice logs in on the reader site (the consent page needs her session).
    login = {
        "username": "alice",
        "password": PASSWORD,
        "csrf_token": csrf_token(client.get("/login")),
    }
    client.post("/login", data=login)
    # The app keeps a random verifier and sends only its SHA-256 (PKCE, S256).
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "posts:read profile",
        "state": "a-random-state",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    url = "/oauth/authorize?" + urlencode(query)
    page = client.get(url)  # the consent page: the app's name, each scope's sentence
    allowed = client.post(url, data={"csrf_token": csrf_token(page), "decision": "allow"})
    answer = {k: v[0] for k, v in parse_qs(urlsplit(allowed.headers["Location"]).query).items()}
    print(f"   consent: Allow        -> {allowed.status_code} to the app with {sorted(answer)}")
    exchange = {
        "grant_type": "authorization_code",
        "code": answer["code"],
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    basic = "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    tokens = client.post("/api/v1/auth/token", data=exchange, headers={"Authorization": basic})
    return {**tokens.get_json(), "client": client_id, "secret": secret}


if __name__ == "__main__":
    main()
