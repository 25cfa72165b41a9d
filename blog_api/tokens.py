"""Access tokens (PyJWT) and refresh tokens (opaque, stored hashed).

Framework-neutral. Access tokens are short-lived HS256 JWTs carrying ``sub``,
``exp``, ``iat``, ``jti``, ``iss`` and ``typ: "access"``. They are checked with an
explicit ``algorithms=["HS256"]`` list, which is what refuses ``alg: none`` and
algorithm-confusion tokens; a ``jti`` on the revocation list (log out) is
refused too.

Refresh tokens are random strings; only their SHA-256 lives in the database,
so a leaked table cannot be replayed. Each refresh rotates the token, and a
rotated token shown again revokes its whole family: either the user or a thief
is replaying it, and we cannot tell which.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from blog_api.errors import Unauthorized
from blog_api.models import RefreshToken, RevokedToken, User, utcnow

ALGORITHM = "HS256"


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

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of a successful token response."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "token_type": self.token_type,
            "expires_in": self.expires_in,
        }


def create_access_token(user_id: int, settings: TokenSettings, now: datetime | None = None) -> str:
    """Sign a new access token for ``user_id``."""
    issued = now or utcnow()
    claims = {
        "sub": str(user_id),
        "iat": issued,
        "exp": issued + timedelta(seconds=settings.access_ttl),
        "jti": uuid.uuid4().hex,
        "iss": settings.issuer,
        "typ": "access",
    }
    return jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM)


def decode_access_token(token: str, settings: TokenSettings) -> dict[str, Any]:
    """Verify a token's signature, algorithm, lifetime and type.

    Raises:
        Unauthorized: with ``error="invalid_token"`` for any problem; the message
            says which, without echoing the token.
    """
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[ALGORITHM],
            issuer=settings.issuer,
            options={"require": ["sub", "exp", "iat", "jti", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The access token expired", token_error="invalid_token") from None
    except jwt.InvalidTokenError as e:
        raise Unauthorized(f"Invalid access token: {e}", token_error="invalid_token") from None
    if claims.get("typ") != "access" or not str(claims["sub"]).isdigit():
        raise Unauthorized("Not an access token", token_error="invalid_token")
    return claims


def is_revoked(session: Session, jti: str) -> bool:
    """Whether an access token was revoked (by logging out)."""
    return session.get(RevokedToken, jti) is not None


def revoke_access_token(session: Session, claims: dict[str, Any]) -> None:
    """Put a token's ``jti`` on the revocation list until it would have expired."""
    if session.get(RevokedToken, claims["jti"]) is None:
        expires = datetime.fromtimestamp(claims["exp"], tz=utcnow().tzinfo)
        session.add(RevokedToken(jti=claims["jti"], expires_at=expires))


def hash_refresh_token(raw: str) -> str:
    """SHA-256 hex digest: refresh tokens are long and random, so no salt is needed."""
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token_pair(
    session: Session, user: User, settings: TokenSettings, family_id: str | None = None
) -> TokenPair:
    """Create an access token and a new refresh token (in ``family_id``, or a new family).

    The caller commits.
    """
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        RefreshToken(
            token_hash=hash_refresh_token(raw),
            family_id=family_id or uuid.uuid4().hex,
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(seconds=settings.refresh_ttl),
        )
    )
    return TokenPair(create_access_token(user.id, settings, now), raw, settings.access_ttl)


class RefreshTokenReused(Unauthorized):
    """A rotated refresh token was presented again; its family is now revoked."""


def rotate_refresh_token(session: Session, raw: str, settings: TokenSettings) -> TokenPair:
    """Exchange a refresh token for a new pair, retiring the old token.

    Raises:
        Unauthorized: unknown, expired or revoked token.
        RefreshTokenReused: the token was already rotated; the whole family was
            revoked and **committed**, so the revocation survives the error.
    """
    record = _find_refresh_token(session, raw)
    if record.replaced_at is not None:
        revoke_family(session, record.family_id)
        session.commit()
        raise RefreshTokenReused("Refresh token reuse detected; please log in again")
    record.replaced_at = utcnow()
    user = session.get(User, record.user_id)
    if user is None:
        raise Unauthorized("The user no longer exists")
    return issue_token_pair(session, user, settings, family_id=record.family_id)


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


def revoke_refresh_token(session: Session, raw: str, user_id: int) -> None:
    """Log out a refresh token's family, if it belongs to ``user_id``."""
    query = select(RefreshToken).where(RefreshToken.token_hash == hash_refresh_token(raw))
    record = session.scalars(query).first()
    if record is not None and record.user_id == user_id:
        revoke_family(session, record.family_id)
