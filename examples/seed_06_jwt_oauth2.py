"""Seed question 6: JWT authentication and OAuth2 authorization for a REST API.

On the blog API (miniflask, throwaway SQLite):

1. log in, get a JWT access token and a refresh token; look inside the JWT
   (its claims are readable by anyone: it is signed, not encrypted);
2. call a protected endpoint with ``Authorization: Bearer <token>``;
3. a token with a forged payload, or signed with ``alg: none``, is a 401 with
   ``WWW-Authenticate: Bearer error="invalid_token"``;
4. the OAuth2 token endpoint (RFC 6749): the ``password`` grant, then the
   ``refresh_token`` grant, which rotates; replaying a used refresh token is
   refused (400 ``invalid_grant``, RFC 6749 §5.2) and revokes the whole family,
   so a stolen refresh token is useless to thief and victim alike.

Code: blog_api/tokens.py, blog_api/auth.py, blog_api/hooks.py (authenticate).
Run: ``.venv/bin/python examples/seed_06_jwt_oauth2.py``
"""

from __future__ import annotations

import base64
import json

from seed_blog import PASSWORD, make_blog_app, sign_up


def b64json(part: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


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
    granted = client.post("/api/v1/auth/token", data=form).get_json()
    print(
        f"4. OAuth2 password grant -> token_type={granted['token_type']}, "
        f"expires_in={granted['expires_in']}"
    )
    first_refresh = granted["refresh_token"]
    refresh = {"grant_type": "refresh_token", "refresh_token": first_refresh}
    rotated = client.post("/api/v1/auth/token", data=refresh)
    print(
        f"   refresh_token grant   -> {rotated.status_code} (a new refresh token: "
        f"{rotated.get_json()['refresh_token'] != first_refresh})"
    )
    replay = client.post("/api/v1/auth/token", data=refresh)
    print(f"   replay the used one   -> {replay.status_code} {replay.get_json()['error']}")
    newest = {"grant_type": "refresh_token", "refresh_token": rotated.get_json()["refresh_token"]}
    after = client.post("/api/v1/auth/token", data=newest)
    print(f"   newest one after that -> {after.status_code} (the family was revoked)")
    print(f"reused refresh token -> {replay.status_code} {replay.get_json()['error']}")


if __name__ == "__main__":
    main()
