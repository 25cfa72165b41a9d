"""Access and refresh tokens (blog_api/tokens.py), unit-level and through the API."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest

from blog_api.errors import Unauthorized
from blog_api.models import utcnow
from blog_api.tokens import (
    TokenSettings,
    create_access_token,
    decode_access_token,
    hash_refresh_token,
)

SETTINGS = TokenSettings(secret_key="k" * 64)


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = utcnow()
    base = {
        "sub": "1",
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "jti": "j",
        "iss": "blog_api",
        "typ": "access",
    }
    base.update(overrides)
    return base


def test_access_token_round_trip_has_required_claims() -> None:
    decoded = decode_access_token(create_access_token(7, SETTINGS), SETTINGS)
    assert decoded["sub"] == "7" and decoded["typ"] == "access"
    assert {"exp", "iat", "jti", "iss"} <= set(decoded)
    assert decoded["exp"] - decoded["iat"] == SETTINGS.access_ttl


def test_alg_none_is_refused() -> None:
    payload = claims(iat=1, exp=4_000_000_000)
    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(payload)}."
    with pytest.raises(Unauthorized):
        decode_access_token(token, SETTINGS)


def test_wrong_algorithm_is_refused() -> None:
    token = jwt.encode(claims(), SETTINGS.secret_key, algorithm="HS512")
    with pytest.raises(Unauthorized):
        decode_access_token(token, SETTINGS)


def test_bad_signature_is_refused() -> None:
    token = jwt.encode(claims(), "another-secret-key-" * 3, algorithm="HS256")
    with pytest.raises(Unauthorized):
        decode_access_token(token, SETTINGS)


def test_expired_token_is_refused() -> None:
    token = jwt.encode(claims(exp=utcnow() - timedelta(seconds=1)), SETTINGS.secret_key)
    with pytest.raises(Unauthorized, match="expired"):
        decode_access_token(token, SETTINGS)


def test_missing_claims_and_wrong_type_are_refused() -> None:
    no_jti = {k: v for k, v in claims().items() if k != "jti"}
    for bad in (no_jti, claims(typ="refresh"), claims(iss="someone-else"), claims(sub="abc")):
        with pytest.raises(Unauthorized):
            decode_access_token(jwt.encode(bad, SETTINGS.secret_key), SETTINGS)


def test_refresh_tokens_are_stored_hashed(api: Any, app: Any) -> None:
    from sqlalchemy import select

    from blog_api.models import RefreshToken

    api.register("alice")
    raw = api.login("alice")["refresh_token"]
    with app.extensions["blog_db"].session_factory() as session:
        stored = session.scalars(select(RefreshToken.token_hash)).all()
    assert stored == [hash_refresh_token(raw)]
    assert raw not in stored


@pytest.mark.parametrize("kind", ["none", "hs512", "signature", "expired", "garbage"])
def test_api_refuses_bad_tokens_with_401_invalid_token(
    api: Any, client: Any, app: Any, kind: str
) -> None:
    api.register("alice")
    key = app.config["SECRET_KEY"]
    tokens = {
        "none": f"{b64({'alg': 'none'})}.{b64(claims(iat=1, exp=4_000_000_000))}.",
        "hs512": jwt.encode(claims(), key, algorithm="HS512"),
        "signature": jwt.encode(claims(), "x" * 64),
        "expired": jwt.encode(claims(exp=utcnow() - timedelta(seconds=5)), key),
        "garbage": "not.a.jwt",
    }
    response = client.get("/api/v1/users/me", headers=api.bearer(tokens[kind]))
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer") and 'error="invalid_token"' in challenge
    # A bad token is refused even on a public endpoint, rather than silently ignored.
    assert client.get("/api/v1/posts", headers=api.bearer(tokens[kind])).status_code == 401


def test_api_accepts_a_token_it_signed(api: Any, client: Any, app: Any) -> None:
    user = api.register("alice")
    token = create_access_token(user["id"], TokenSettings.from_config(app.config))
    assert client.get("/api/v1/users/me", headers=api.bearer(token)).status_code == 200
