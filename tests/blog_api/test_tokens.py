"""Access and refresh tokens (blog_api/tokens.py), unit-level and through the API."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import jwt
import pytest
from sqlalchemy import event, select

from blog_api import scopes
from blog_api.errors import Unauthorized
from blog_api.models import OAuthClient, RefreshToken, User, utcnow
from blog_api.tokens import (
    TokenSettings,
    create_access_token,
    decode_access_token,
    hash_refresh_token,
    issue_token_pair,
    refresh_token_record,
    rotate_refresh_token,
    token_scopes,
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
        "ver": 0,
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


def test_a_remembered_token_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    # The first decode remembers the claims; the expiry must still be checked
    # on every later one, against the clock of that moment.
    token = create_access_token(7, SETTINGS)
    expires = decode_access_token(token, SETTINGS)["exp"]
    assert decode_access_token(token, SETTINGS)["sub"] == "7"
    monkeypatch.setattr("blog_api.tokens.time.time", lambda: float(expires))
    with pytest.raises(Unauthorized, match="expired"):
        decode_access_token(token, SETTINGS)


def test_a_remembered_token_is_refused_under_another_secret_or_issuer() -> None:
    token = create_access_token(7, SETTINGS)
    decode_access_token(token, SETTINGS)
    with pytest.raises(Unauthorized, match="signature"):
        decode_access_token(token, TokenSettings(secret_key="o" * 64))
    with pytest.raises(Unauthorized, match="someone else"):
        decode_access_token(token, TokenSettings(secret_key=SETTINGS.secret_key, issuer="other"))


def test_changing_the_returned_claims_does_not_change_the_next_answer() -> None:
    token = create_access_token(7, SETTINGS)
    decode_access_token(token, SETTINGS)["sub"] = "1"
    assert decode_access_token(token, SETTINGS)["sub"] == "7"


def test_missing_claims_and_wrong_type_are_refused() -> None:
    no_jti = {k: v for k, v in claims().items() if k != "jti"}
    no_version = {k: v for k, v in claims().items() if k != "ver"}
    for bad in (
        no_jti,
        no_version,
        claims(typ="refresh"),
        claims(iss="someone-else"),
        claims(sub="abc"),
    ):
        with pytest.raises(Unauthorized):
            decode_access_token(jwt.encode(bad, SETTINGS.secret_key), SETTINGS)


#: Subjects that are not a user id the database can hold; each must be a 401.
BAD_SUBJECTS = [
    "1" * 40,  # overflowed SQLite's INTEGER: a 500
    "1000000000",  # one digit more than an id may have
    "0",
    "-1",
    "007",
    "1e3",
    " 1",
    "\u00b2",  # a Unicode digit: str.isdigit() said yes, int() said no
    "\u0661",  # ARABIC-INDIC DIGIT ONE: int() would even accept it
    5,  # not a string (RFC 7519 §4.1.2)
    "",
]


@pytest.mark.parametrize("sub", BAD_SUBJECTS, ids=repr)
def test_a_subject_that_is_not_a_user_id_is_malformed(sub: Any) -> None:
    with pytest.raises(Unauthorized) as refused:
        decode_access_token(jwt.encode(claims(sub=sub), SETTINGS.secret_key), SETTINGS)
    assert refused.value.message == "The access token is malformed"


@pytest.mark.parametrize(
    "bad",
    [{"jti": "x" * 65}, {"jti": "a b"}, {"ver": -1}, {"ver": 2**31}, {"ver": "0"}, {"ver": True}],
    ids=repr,
)
def test_claims_the_database_cannot_take_are_malformed(bad: dict[str, Any]) -> None:
    with pytest.raises(Unauthorized, match=r"^The access token is malformed$"):
        decode_access_token(jwt.encode(claims(**bad), SETTINGS.secret_key), SETTINGS)


def test_the_largest_user_id_is_a_well_formed_subject() -> None:
    decoded = decode_access_token(jwt.encode(claims(sub="999999999"), "k" * 64), SETTINGS)
    assert decoded["sub"] == "999999999"


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


@pytest.fixture
def user_queries(app: Any) -> Iterator[list[str]]:
    """Every SQL statement the app runs that reads users or revoked tokens."""
    engine = app.extensions["blog_db"].engine
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "users" in statement or "revoked_tokens" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("sub", BAD_SUBJECTS, ids=repr)
def test_a_validly_signed_token_with_a_bad_subject_is_a_401_before_any_query(
    api: Any, client: Any, app: Any, user_queries: list[str], sub: Any
) -> None:
    api.register("alice")
    user_queries.clear()
    token = jwt.encode(claims(sub=sub), app.config["SECRET_KEY"])
    response = client.get("/api/v1/users/me", headers=api.bearer(token))
    assert response.status_code == 401
    body = response.get_json()
    assert body["type"] == "unauthorized"
    assert body["error"] == "The access token is malformed"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert user_queries == []


def _forged(app: Any, kind: str) -> str:
    """One bad token of each kind, signed with the app's key unless the kind says not."""
    key = app.config["SECRET_KEY"]
    header, payload, signature = jwt.encode(claims(), key).split(".")
    return {
        "expired": jwt.encode(claims(exp=utcnow() - timedelta(seconds=5)), key),
        "signature": jwt.encode(claims(), "x" * 64),
        "tampered": f"{header}.{b64(claims(sub='2', iat=1, exp=4_000_000_000))}.{signature}",
        "algorithm": jwt.encode(claims(), key, algorithm="HS512"),
        "none": f"{b64({'alg': 'none'})}.{b64(claims(iat=1, exp=4_000_000_000))}.",
        "issuer": jwt.encode(claims(iss="elsewhere"), key),
        "missing": jwt.encode({k: v for k, v in claims().items() if k != "ver"}, key),
        "future": jwt.encode(claims(nbf=utcnow() + timedelta(hours=1)), key),
        "garbage": "not.a.jwt",
        "segments": "onlyonepart",
        "bad-header-bytes": "t7eyJ.eyJ.x",
        # The bytes of a Latin-1 header that are not UTF-8 (PyJWT said "'utf-8'
        # codec can't decode byte 0xb7...").
        "latin-1": f"{b64({'alg': 'HS256'})}\xb7.{payload}.{signature}",
        "bad-json": f"{base64.urlsafe_b64encode(b'{nope').decode().rstrip('=')}.{payload}.x",
        "deep-json": f"{base64.urlsafe_b64encode(b'[' * 5000).decode()}.{payload}.x",
        "refresh-type": jwt.encode(claims(typ="refresh"), key),
    }[kind]


#: The fixed message of each refusal: never PyJWT's own text.
TOKEN_MESSAGES = {
    "expired": "The access token expired",
    "signature": "The access token's signature is not valid",
    "tampered": "The access token's signature is not valid",
    "algorithm": "The access token is not signed with HS256",
    "none": "The access token is not signed with HS256",
    "issuer": "The access token was issued by someone else",
    "missing": "The access token lacks a required claim",
    "future": "The access token is not valid yet",
    "garbage": "The access token is malformed",
    "segments": "The access token is malformed",
    "bad-header-bytes": "The access token is malformed",
    "latin-1": "The access token is malformed",
    "bad-json": "The access token is malformed",
    "deep-json": "The access token is malformed",
    "refresh-type": "Not an access token",
}


@pytest.mark.parametrize("kind", sorted(TOKEN_MESSAGES))
def test_a_refused_token_gets_a_fixed_message_for_its_cause(
    api: Any, client: Any, app: Any, kind: str
) -> None:
    response = client.get("/api/v1/users/me", headers=api.bearer(_forged(app, kind)))
    assert response.status_code == 401
    body = response.get_json()
    assert body["error"] == TOKEN_MESSAGES[kind]
    assert body["type"] == "unauthorized"
    challenge = response.headers["WWW-Authenticate"]
    assert f'error_description="{TOKEN_MESSAGES[kind]}"' in challenge


def test_an_access_token_of_an_older_token_version_is_refused(
    api: Any, client: Any, app: Any
) -> None:
    user = api.register("alice")
    settings = TokenSettings.from_config(app.config)
    old = create_access_token(user["id"], settings, version=0)
    with app.extensions["blog_db"].session_factory() as session:
        session.get(User, user["id"]).token_version = 1
        session.commit()
    response = client.get("/api/v1/users/me", headers=api.bearer(old))
    assert response.status_code == 401
    assert response.get_json()["error"] == "The access token was revoked by a password change"
    current = create_access_token(user["id"], settings, version=1)
    assert client.get("/api/v1/users/me", headers=api.bearer(current)).status_code == 200


def test_a_refresh_token_of_an_older_token_version_cannot_be_rotated(api: Any, app: Any) -> None:
    """The race ``revoke_all_tokens`` leaves open: a row written beside the revocation."""
    api.register("alice")
    settings = TokenSettings.from_config(app.config)
    with app.extensions["blog_db"].session_factory() as session:
        alice = session.scalars(select(User)).one()
        raw = issue_token_pair(session, alice, settings).refresh_token
        alice.token_version = 1  # a password change whose revocation missed the row
        session.commit()
        with pytest.raises(Unauthorized, match="revoked"):
            rotate_refresh_token(session, raw, settings)
        session.rollback()
        row = session.scalars(select(RefreshToken)).one()
        assert row.replaced_at is None and row.token_version == 0


def _alice_and_app(session: Any) -> User:
    """Alice (registered through the API) and a registered app "app" in ``session``."""
    session.add(
        OAuthClient(client_id="app", name="App", redirect_uris="https://a.example/", scope="")
    )
    return session.scalars(select(User)).one()


def test_a_third_party_pair_says_its_scope_and_client(api: Any, app: Any) -> None:
    api.register("alice")
    settings = TokenSettings.from_config(app.config)
    with app.extensions["blog_db"].session_factory() as session:
        alice = _alice_and_app(session)
        pair = issue_token_pair(session, alice, settings, client_id="app", scope="posts:read")
        session.commit()
        row = refresh_token_record(session, pair.refresh_token)
    assert pair.to_dict()["scope"] == "posts:read"  # RFC 6749 §5.1
    assert row is not None and (row.client_id, row.scope) == ("app", "posts:read")
    claims = decode_access_token(pair.access_token, settings)
    assert (claims["scope"], claims["client_id"]) == ("posts:read", "app")


@pytest.mark.parametrize(
    "client_id, scope",
    [("app", None), ("app", "posts:read account"), ("app", "posts:read admin"), (None, "nope")],
)
def test_a_grant_the_blog_never_makes_is_a_bug_in_the_caller(
    api: Any, app: Any, client_id: str | None, scope: str | None
) -> None:
    api.register("alice")
    with app.extensions["blog_db"].session_factory() as session:
        alice = _alice_and_app(session)
        with pytest.raises(ValueError):
            issue_token_pair(session, alice, SETTINGS, client_id=client_id, scope=scope)


def test_refreshing_keeps_the_client_and_the_scope(api: Any, app: Any) -> None:
    api.register("alice")
    settings = TokenSettings.from_config(app.config)
    with app.extensions["blog_db"].session_factory() as session:
        alice = _alice_and_app(session)
        first = issue_token_pair(session, alice, settings, client_id="app", scope="profile")
        session.commit()
        second = rotate_refresh_token(session, first.refresh_token, settings, client_id="app")
        session.commit()
        row = refresh_token_record(session, second.refresh_token)
    assert second.scope == "profile"
    assert row is not None and (row.client_id, row.scope) == ("app", "profile")
    claims = decode_access_token(second.access_token, settings)
    assert (claims["scope"], claims["client_id"]) == ("profile", "app")


def test_a_refresh_token_works_only_for_the_client_it_was_issued_to(
    api: Any, app: Any, client: Any
) -> None:
    api.register("alice")
    own = api.login("alice")["refresh_token"]
    settings = TokenSettings.from_config(app.config)
    with app.extensions["blog_db"].session_factory() as session:
        alice = _alice_and_app(session)
        apps = issue_token_pair(session, alice, settings, client_id="app", scope="profile")
        session.commit()
        with pytest.raises(Unauthorized, match=r"^The refresh token was issued to another client$"):
            rotate_refresh_token(session, own, settings, client_id="app")
    # The blog's own refresh endpoint cannot refresh the app's token.
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": apps.refresh_token})
    assert response.status_code == 401
    assert response.get_json()["error"] == "The refresh token was issued to another client"
    # Neither refusal revoked anything: each client still refreshes its own.
    with app.extensions["blog_db"].session_factory() as session:
        assert rotate_refresh_token(session, apps.refresh_token, settings, client_id="app")
        session.commit()
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": own}).status_code == 200


def test_a_token_without_a_scope_claim_is_first_party() -> None:
    old = claims()  # sub, exp, iat, jti, iss, typ, ver: what tokens carried before scopes
    decoded = decode_access_token(jwt.encode(old, SETTINGS.secret_key), SETTINGS)
    assert token_scopes(decoded) == set(scopes.FIRST_PARTY)
