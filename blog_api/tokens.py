"""Access tokens (PyJWT) and refresh tokens (opaque, stored hashed).

Framework-neutral. Access tokens are short-lived HS256 JWTs carrying ``sub``,
``exp``, ``iat``, ``jti``, ``iss``, ``typ: "access"`` and ``ver``. They are checked
with an explicit ``algorithms=["HS256"]`` list, which is what refuses ``alg: none``
and algorithm-confusion tokens; a ``jti`` on the revocation list (log out) is
refused too. ``ver`` is the user's ``token_version`` when the token was made:
``revoke_all_tokens`` (a password change) raises the user's version, and every
older token stops working. A counter, not a "valid after" time, because JWT
times have one-second resolution: a token issued in the same second as the
change, just after it, must still work, and one issued just before must not.

Since OAuth (issue 16) an access token also says what it may do: ``scope``,
the granted scopes (``blog_api/scopes.py``), and, for a third-party app,
``client_id``. The blog's own log in gets every scope. A token without a
``scope`` claim was issued before scopes existed (it lives 15 minutes) and
counts as first party. Refresh tokens keep the client and the scope of their
family, and only the client they were issued to may use them.

A refused token gets a fixed message per cause (expired, bad signature,
malformed...), never PyJWT's own text, which can quote the token's bytes.

Refresh tokens are random strings; only their SHA-256 lives in the database,
so a leaked table cannot be replayed. Each refresh rotates the token, and a
rotated token shown again revokes its whole family: either the user or a thief
is replaying it, and we cannot tell which.
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import Connection, bindparam, select, update
from sqlalchemy.orm import Session

from blog_api import scopes
from blog_api.errors import Unauthorized
from blog_api.models import RefreshToken, RevokedToken, User, utcnow
from blog_api.principal import TokenUser
from blog_api.schemas import ID_DIGITS

ALGORITHM = "HS256"
#: ``sub`` is a user id: a positive integer the database can hold (see
#: ``schemas.ID_DIGITS``), written in ASCII digits without a leading zero.
_SUBJECT = re.compile(rf"[1-9][0-9]{{0,{ID_DIGITS - 1}}}")
#: ``jti`` is ours (a UUID's hex); it is stored on log out in a 64-character column.
_TOKEN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: ``client_id`` must fit ``oauth_clients.client_id`` (48 characters).
_CLIENT_ID = re.compile(r"[\x21-\x7e]{1,48}")
#: The ``scope`` claim of a first-party token: every scope.
FIRST_PARTY_SCOPE = " ".join(scopes.FIRST_PARTY)
#: ``ver`` must fit the INTEGER column it is compared with.
_MAX_VERSION = 2**31 - 1
MALFORMED = "The access token is malformed"
EXPIRED = "The access token expired"
USER_GONE = "The token's user no longer exists"
#: PyJWT's exception -> our message, most specific first (an
#: ``InvalidSignatureError`` is also a ``DecodeError``). Any other
#: ``InvalidTokenError`` is a claim of the wrong type: ``MALFORMED``.
_DECODE_ERRORS: tuple[tuple[type[jwt.InvalidTokenError], str], ...] = (
    (jwt.ExpiredSignatureError, EXPIRED),
    (jwt.InvalidSignatureError, "The access token's signature is not valid"),
    (jwt.InvalidAlgorithmError, "The access token is not signed with HS256"),
    (jwt.InvalidIssuerError, "The access token was issued by someone else"),
    (jwt.MissingRequiredClaimError, "The access token lacks a required claim"),
    (jwt.ImmatureSignatureError, "The access token is not valid yet"),
    (jwt.DecodeError, MALFORMED),
)


@dataclass(frozen=True)
class TokenSettings:
    """What token handling needs from the config."""

    secret_key: str
    access_ttl: int = 15 * 60
    refresh_ttl: int = 30 * 24 * 3600
    issuer: str = "blog_api"

    @classmethod
    def from_config(cls, config: Any) -> TokenSettings:
        """Read the settings from an app config (or any mapping)."""
        return cls(
            secret_key=config["SECRET_KEY"],
            access_ttl=int(config["ACCESS_TOKEN_TTL"]),
            refresh_ttl=int(config["REFRESH_TOKEN_TTL"]),
            issuer=config["JWT_ISSUER"],
        )


@dataclass(frozen=True)
class TokenPair:
    """What the token endpoints return (RFC 6749 §5.1)."""

    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"
    #: The granted scopes; ``None`` for the blog's own log in, whose
    #: responses stay as they were.
    scope: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of a successful token response."""
        body: dict[str, Any] = {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
        }
        if self.scope is not None:
            # RFC 6749 §5.1: the client learns what it was granted, which
            # may be less than it asked for.
            body["scope"] = self.scope
        return body


def create_access_token(
    user_id: int,
    settings: TokenSettings,
    now: datetime | None = None,
    *,
    version: int = 0,
    scope: str | None = None,
    client_id: str | None = None,
) -> str:
    """Sign a new access token for ``user_id`` at the user's ``token_version``.

    Args:
        scope: the granted scopes; ``None`` (the blog's own log in) is every scope.
        client_id: the third-party app the token is for, if any.
    """
    issued = now or utcnow()
    claims: dict[str, Any] = {
        "sub": str(user_id),
        "iat": issued,
        "exp": issued + timedelta(seconds=settings.access_ttl),
        "jti": uuid.uuid4().hex,
        "iss": settings.issuer,
        "typ": "access",
        "ver": version,
        "scope": FIRST_PARTY_SCOPE if scope is None else scope,
    }
    if client_id is not None:
        claims["client_id"] = client_id
    return jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM)


def decode_access_token(token: str, settings: TokenSettings) -> dict[str, Any]:
    """Verify a token's signature, algorithm, lifetime, type and claim shapes.

    No database is touched: a token that fails here never reaches a query.

    A client sends the same token with every request for its 15 minutes, so
    the process remembers the claims of the tokens it verified
    (:func:`_verified_claims`, keyed by the token's text, the secret and the
    issuer) and checks only the expiry again, the one check whose answer
    changes with time. A refused token is never remembered. PERF: the plain
    version, PyJWT's ``decode`` on every request, takes 93 us; a remembered
    token takes 0.6 us. Each gunicorn worker keeps its own memory, which is
    correct for any number of workers: what it holds is only ever the result
    of verifying a signature, and revocation and ``ver`` are still read from
    the database on every request (:func:`authenticate_access_token`).

    Raises:
        Unauthorized: with ``error="invalid_token"`` for any problem; the
            message is a fixed sentence per cause, never the token's content.
    """
    claims = _verified_claims(token, settings.secret_key, settings.issuer)
    # PyJWT's own test (ExpiredSignatureError), with no leeway, as at decoding.
    if claims["exp"] <= time.time():
        raise Unauthorized(EXPIRED, token_error="invalid_token")
    return dict(claims)


@functools.lru_cache(maxsize=4096)
def _verified_claims(token: str, secret_key: str, issuer: str) -> dict[str, Any]:
    """The claims of a token that passes every check: PyJWT's, then ours.

    Cached (see :func:`decode_access_token`): at most 4096 tokens, a few MB.
    The caller copies the dict it returns, so no request can change what the
    cache holds.
    """
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            secret_key,
            algorithms=[ALGORITHM],
            issuer=issuer,
            options={"require": ["sub", "exp", "iat", "jti", "iss", "ver"]},
        )
    except jwt.InvalidTokenError as e:
        raise Unauthorized(_decode_error_message(e), token_error="invalid_token") from None
    except RecursionError:
        # A header or payload of "[[[[..." nested past the recursion limit:
        # the json module raises RecursionError, which is no ValueError, and
        # not every PyJWT release pyproject.toml allows turns it into a DecodeError.
        raise Unauthorized(MALFORMED, token_error="invalid_token") from None
    if claims.get("typ") != "access":
        raise Unauthorized("Not an access token", token_error="invalid_token")
    if not _claims_well_formed(claims) or not _grant_well_formed(claims):
        raise Unauthorized(MALFORMED, token_error="invalid_token")
    return claims


def _decode_error_message(error: jwt.InvalidTokenError) -> str:
    """The fixed sentence for one of PyJWT's refusals."""
    for error_type, message in _DECODE_ERRORS:
        if isinstance(error, error_type):
            return message
    return MALFORMED


def _claims_well_formed(claims: dict[str, Any]) -> bool:
    """Whether ``sub``, ``jti`` and ``ver`` have the shapes the database can take.

    Only a holder of the signing key can make a token, but a bad claim must
    still be a 401, not a 500: a 40-digit ``sub`` overflows SQLite's INTEGER,
    a long ``jti`` overflows its column on log out. ``bool`` is excluded from
    ``ver`` because JSON ``true`` would compare equal to version 1.
    """
    sub, jti, version = claims["sub"], claims["jti"], claims["ver"]
    return (
        isinstance(sub, str)
        and _SUBJECT.fullmatch(sub) is not None
        and isinstance(jti, str)
        and _TOKEN_ID.fullmatch(jti) is not None
        and type(version) is int
        and 0 <= version <= _MAX_VERSION
    )


def _grant_well_formed(claims: dict[str, Any]) -> bool:
    """Whether ``scope`` and ``client_id``, when present, are ours.

    A token without ``scope`` predates scopes and is first party; one with a
    ``client_id`` must say its scope. A scope name we do not know, or
    :data:`scopes.ACCOUNT` in a third-party token, is no token we issued.
    """
    scope, client_id = claims.get("scope"), claims.get("client_id")
    if scope is None:
        return client_id is None
    if not isinstance(scope, str) or not scopes.all_known(scope):
        return False
    if client_id is None:
        return True
    return (
        isinstance(client_id, str)
        and _CLIENT_ID.fullmatch(client_id) is not None
        and scopes.ACCOUNT not in scopes.parse(scope)
    )


def token_scopes(claims: dict[str, Any]) -> frozenset[str]:
    """The scopes of a decoded access token (every scope when it has no ``scope`` claim)."""
    return scopes.parse(claims.get("scope"))


def authenticate_access_token(
    connection: Connection, token: str, settings: TokenSettings
) -> tuple[TokenUser, dict[str, Any]]:
    """The user a Bearer token speaks for, and its claims; every check in one place.

    The checks, in order: the token itself (``decode_access_token``, no
    database), its ``jti`` against the revocation list (log out), that the
    user still exists, and that the token is of the user's current
    ``token_version`` (not issued before a password change).

    The user and the revocation list are read by one Core statement
    (:data:`_TOKEN_USER`) on the request's connection, and the user comes
    back as plain data (``principal.TokenUser``), not an ORM entity. PERF:
    the plain version is two (``session.get`` for each), one round trip
    more on every authenticated request.

    Raises:
        Unauthorized: with ``error="invalid_token"``; the message says which check failed.
    """
    claims = decode_access_token(token, settings)
    found = connection.execute(
        _TOKEN_USER, {"user_id": int(claims["sub"]), "jti": claims["jti"]}
    ).first()
    if found is None:
        if is_revoked(connection, claims["jti"]):  # the same answer as before the user went
            raise Unauthorized("The access token was revoked", token_error="invalid_token")
        raise Unauthorized(USER_GONE, token_error="invalid_token")
    user_id, username, is_admin, email_confirmed_at, token_version, revoked = found
    if revoked is not None:
        raise Unauthorized("The access token was revoked", token_error="invalid_token")
    if claims["ver"] != token_version:
        raise Unauthorized(
            "The access token was revoked by a password change", token_error="invalid_token"
        )
    return TokenUser(user_id, username, is_admin, email_confirmed_at), claims


#: A token's user (what ``TokenUser`` holds, and their ``token_version``), and
#: its ``jti`` if that is on the revocation list (else NULL).
_TOKEN_USER = (
    select(
        User.id,
        User.username,
        User.is_admin,
        User.email_confirmed_at,
        User.token_version,
        RevokedToken.jti.label("revoked"),
    )
    .outerjoin(RevokedToken, RevokedToken.jti == bindparam("jti"))
    .where(User.id == bindparam("user_id"))
)
_REVOKED = select(RevokedToken.jti).where(RevokedToken.jti == bindparam("jti"))


def is_revoked(connection: Connection, jti: str) -> bool:
    """Whether an access token was revoked (by logging out)."""
    return connection.execute(_REVOKED, {"jti": jti}).first() is not None


def revoke_access_token(session: Session, claims: dict[str, Any]) -> None:
    """Put a token's ``jti`` on the revocation list until it would have expired."""
    if session.get(RevokedToken, claims["jti"]) is None:
        expires = datetime.fromtimestamp(claims["exp"], tz=utcnow().tzinfo)
        session.add(RevokedToken(jti=claims["jti"], expires_at=expires))


def hash_refresh_token(raw: str) -> str:
    """SHA-256 hex digest: refresh tokens are long and random, so no salt is needed."""
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token_pair(
    session: Session,
    user: User,
    settings: TokenSettings,
    family_id: str | None = None,
    *,
    client_id: str | None = None,
    scope: str | None = None,
) -> TokenPair:
    """Create an access token and a new refresh token (in ``family_id``, or a new family).

    The caller commits.

    Args:
        client_id: the third-party app the pair is for; ``None`` for the
            blog's own log in.
        scope: the scopes granted to that app (space-separated); ``None``
            for the blog's own log in, which may do everything.

    Raises:
        ValueError: a third-party pair without a scope, or with an unknown
            scope or :data:`scopes.ACCOUNT` (a bug in the caller, not a
            client's mistake: the authorisation server checks requests first).

    Example::

        pair = issue_token_pair(session, user, settings, client_id="app", scope="posts:read")
        session.commit()
    """
    _check_grant(client_id, scope)
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        RefreshToken(
            token_hash=hash_refresh_token(raw),
            family_id=family_id or uuid.uuid4().hex,
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.refresh_ttl),
            token_version=user.token_version,
            client_id=client_id,
            scope=scope,
        )
    )
    access = create_access_token(
        user.id, settings, now, version=user.token_version, scope=scope, client_id=client_id
    )
    return TokenPair(access, raw, settings.access_ttl, scope=scope)


def _check_grant(client_id: str | None, scope: str | None) -> None:
    """Refuse a grant that would make a token :func:`decode_access_token` calls forged."""
    if scope is not None and not scopes.all_known(scope):
        raise ValueError(f"unknown scope in {scope!r}")
    if client_id is None:
        return
    if scope is None:
        raise ValueError("a third-party token needs its granted scope")
    if scopes.ACCOUNT in scopes.parse(scope):
        raise ValueError(f"{scopes.ACCOUNT!r} is never granted to a third-party app")


class RefreshTokenReused(Unauthorized):
    """A rotated refresh token was presented again; its family is now revoked."""


def rotate_refresh_token(
    session: Session, raw: str, settings: TokenSettings, *, client_id: str | None = None
) -> TokenPair:
    """Exchange a refresh token for a new pair, retiring the old token.

    The new pair keeps the family's client and scope.

    Args:
        client_id: the client asking (authenticated by the caller); ``None``
            for the blog's own ``/auth/refresh``.

    Raises:
        Unauthorized: unknown, expired or revoked token, one issued to another
            client, or one issued before the user's last password change.
        RefreshTokenReused: the token was already rotated; the whole family was
            revoked and **committed**, so the revocation survives the error.
    """
    record = _find_refresh_token(session, raw)
    if record.client_id != client_id:
        # RFC 6749 §6: a refresh token is bound to its client. Checked before
        # reuse, so another client showing a rotated token cannot revoke the
        # family of the one it was issued to.
        raise Unauthorized("The refresh token was issued to another client")
    if record.replaced_at is not None:
        revoke_family(session, record.family_id)
        session.commit()
        raise RefreshTokenReused("Refresh token reuse detected; please log in again")
    user = session.get(User, record.user_id)
    if user is None:
        raise Unauthorized("The user no longer exists")
    if record.token_version != user.token_version:
        # ``revoke_all_tokens`` revoked every row it saw; a token this rotation
        # wrote concurrently (PostgreSQL, READ COMMITTED) was not among them,
        # but carries the old version.
        raise Unauthorized("The refresh token was revoked")
    record.replaced_at = utcnow()
    return issue_token_pair(
        session,
        user,
        settings,
        family_id=record.family_id,
        client_id=record.client_id,
        scope=record.scope,
    )


def refresh_token_record(session: Session, raw: str) -> RefreshToken | None:
    """The stored row of a refresh token, if any, whatever its state.

    No checks: revocation (RFC 7009) and introspection (RFC 7662) look at
    expired, revoked and rotated tokens too, and decide themselves.
    """
    query = select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(raw))
    return session.scalars(query).first()


def _find_refresh_token(session: Session, raw: str) -> RefreshToken:
    """Look up a usable refresh token by its hash (row-locked where supported)."""
    query = select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(raw))
    record = session.scalars(query.with_for_update()).first()
    if record is None:
        raise Unauthorized("Unknown refresh token")
    if record.revoked_at is not None:
        raise Unauthorized("The refresh token was revoked")
    if record.expires_at <= utcnow():
        raise Unauthorized("The refresh token expired")
    return record


def revoke_family(session: Session, family_id: str) -> None:
    """Revoke every refresh token of one login (logout, or detected reuse)."""
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_all_tokens(session: Session, user: User) -> None:
    """Log ``user`` out everywhere: every access token and refresh family so far.

    Raising ``token_version`` retires every access token issued before (their
    ``ver`` no longer matches) and, as a second lock, every refresh token;
    marking the refresh tokens revoked says so in the table. The increment is
    done by the database (``token_version + 1``), so two changes at once both
    count. Tokens issued after this, in the same second or not, carry the new
    version and work. The caller commits.
    """
    user.token_version = User.token_version + 1
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def revoke_refresh_token(session: Session, raw: str, user_id: int) -> None:
    """Log out a refresh token's family, if it belongs to ``user_id``."""
    record = refresh_token_record(session, raw)
    if record is not None and record.user_id == user_id:
        revoke_family(session, record.family_id)
