"""The Bearer token check every floor makes, as ``blog_api/tokens.py`` and ``auth.py`` do.

PyJWT checks the signature, the lifetime, the issuer and that every claim is
there; then the claims' shapes are checked, and one SELECT reads the
revocation list, the user and the user's ``token_version`` together, where
the blog may need several.
"""

from __future__ import annotations

import re
from typing import Any

import jwt

from benchmarks.floors.common import Floor, FloorError, Viewer

REQUIRED_CLAIMS = ["sub", "exp", "iat", "jti", "iss", "ver"]
_SUBJECT = re.compile(r"[1-9][0-9]{0,8}")
_TOKEN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: ``(SELECT 1) AS one`` gives the row when no user matches: PostgreSQL needs the alias.
_TOKEN_USER = (
    "SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = :jti),"
    " u.id, u.username, u.is_admin, u.token_version"
    " FROM (SELECT 1) AS one LEFT JOIN users u ON u.id = :user"
)


def authenticate(floor: Floor, environ: dict[str, Any]) -> Viewer | None:
    """A Bearer token's user: PyJWT's checks, claim shapes, then one SELECT."""
    scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    try:
        claims = jwt.decode(
            token.strip(),
            floor.settings.secret_key,
            algorithms=["HS256"],
            issuer=floor.settings.issuer,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError:
        raise invalid_token("The access token expired") from None
    except (jwt.InvalidTokenError, RecursionError):
        raise invalid_token("The access token is not valid") from None
    if claims.get("typ") != "access" or not _claims_well_formed(claims):
        raise invalid_token("The access token is malformed")
    return _token_user(floor, claims)


def _claims_well_formed(claims: dict[str, Any]) -> bool:
    """``sub``, ``jti`` and ``ver`` of shapes the database can take (``blog_api/tokens.py``)."""
    sub, jti, version = claims["sub"], claims["jti"], claims["ver"]
    return (
        isinstance(sub, str)
        and _SUBJECT.fullmatch(sub) is not None
        and isinstance(jti, str)
        and _TOKEN_ID.fullmatch(jti) is not None
        and type(version) is int
        and 0 <= version <= 2**31 - 1
    )


def _token_user(floor: Floor, claims: dict[str, Any]) -> Viewer:
    """Revocation list, the user and its token version: one statement for all three."""
    row = floor.database.one(_TOKEN_USER, {"jti": claims["jti"], "user": int(claims["sub"])})
    assert row is not None, "the LEFT JOIN from (SELECT 1) gives one row"
    revoked, user_id, username, is_admin, version = row
    if revoked:
        raise invalid_token("The access token was revoked")
    if user_id is None:
        raise invalid_token("The token's user no longer exists")
    if version != claims["ver"]:
        raise invalid_token("The access token was revoked by a password change")
    return Viewer(user_id, username, bool(is_admin))


def require(viewer: Viewer | None) -> Viewer:
    """The viewer of an endpoint that needs one; a 401 with the Bearer challenge otherwise."""
    if viewer is None:
        raise FloorError(
            401,
            "This endpoint needs a Bearer access token",
            [("WWW-Authenticate", 'Bearer realm="blog_api"')],
        )
    return viewer


def invalid_token(message: str) -> FloorError:
    """RFC 6750 §3.1: a 401 whose challenge says ``invalid_token`` and why."""
    challenge = f'Bearer realm="blog_api", error="invalid_token", error_description="{message}"'
    return FloorError(401, message, [("WWW-Authenticate", challenge)])
