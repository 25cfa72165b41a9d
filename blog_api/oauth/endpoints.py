"""Revocation (RFC 7009) and introspection (RFC 7662): a client asks about one of its tokens.

Authlib authenticates the client and parses the request; this module finds
the token by its value, access or refresh, in the order the
``token_type_hint`` suggests: :func:`find_token` for revocation (live or
not: revoking a dead token is harmless), :func:`find_active_token` for
introspection (only a token the API would accept right now). Both
endpoints act on the client's own tokens alone, so neither tells an app
anything about another app's tokens.

The server (``server.py``) registers both; ``blog_api/auth.py`` serves them
at ``POST /auth/revoke`` and ``POST /auth/introspect``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from sqlalchemy.orm import Session

from blog_api import errors, tokens
from blog_api.models import RefreshToken, User, utcnow
from blog_api.oauth.grants import ALL_METHODS, SECRET_METHODS, ClientModel
from blog_api.principal import Principal
from blog_api.web import Web


@dataclass
class IssuedToken:
    """An access or refresh token found by its value, for RFC 7009 and RFC 7662.

    Attributes:
        kind: ``"access_token"`` or ``"refresh_token"`` (RFC 7009's hint names).
        client_id: the app it was issued to; ``None`` for the blog's own log in.
        claims: an access token's claims.
        row: a refresh token's row.
        user: its user, when the token was checked as the API would.
    """

    kind: str
    client_id: str | None
    claims: dict[str, Any] | None = None
    row: RefreshToken | None = None
    user: Principal | None = None

    def check_client(self, client: ClientModel) -> bool:
        """Whether the token was issued to ``client``."""
        return self.client_id == client.client_id

    def is_expired(self) -> bool:
        """False: :func:`find_active_token` returns live tokens only."""
        return False

    def is_revoked(self) -> bool:
        """False: :func:`find_active_token` returns live tokens only."""
        return False


def _kinds(hint: str | None) -> tuple[str, str]:
    """The order to try (RFC 7009 §2.1: the hint is where to look first)."""
    if hint == "refresh_token":
        return ("refresh_token", "access_token")
    return ("access_token", "refresh_token")


def find_token(web: Web, value: str, hint: str | None) -> IssuedToken | None:
    """A token we issued, live or not (revoking a dead token is harmless)."""
    for kind in _kinds(hint):
        if kind == "access_token":
            try:
                claims = tokens.decode_access_token(value, web.token_settings())
            except errors.Unauthorized:
                continue
            return IssuedToken(kind, claims.get("client_id"), claims=claims)
        row = tokens.refresh_token_record(web.db, value)
        if row is not None:
            return IssuedToken(kind, row.client_id, row=row)
    return None


def find_active_token(web: Web, value: str, hint: str | None) -> IssuedToken | None:
    """A token the API would accept right now, with its user; else ``None``.

    Access tokens go through ``tokens.authenticate_access_token``, the
    resource server's own check (expired, revoked, user gone, password
    changed). A refresh token is live when it is neither revoked, rotated
    nor expired, and was issued at the user's current token version.
    """
    for kind in _kinds(hint):
        if kind == "access_token":
            try:
                user, claims = tokens.authenticate_access_token(
                    web.connection, value, web.token_settings()
                )
            except errors.Unauthorized:
                continue
            return IssuedToken(kind, claims.get("client_id"), claims=claims, user=user)
        row = tokens.refresh_token_record(web.db, value)
        if row is not None and _refresh_token_live(web.db, row):
            owner = web.db.get(User, row.user_id)
            return IssuedToken(kind, row.client_id, row=row, user=owner)
    return None


def _refresh_token_live(session: Session, row: RefreshToken) -> bool:
    """Whether a refresh token could be rotated now."""
    if row.revoked_at is not None or row.replaced_at is not None or row.expires_at <= utcnow():
        return False
    user = session.get(User, row.user_id)
    return user is not None and user.token_version == row.token_version


class Revocation(RevocationEndpoint):
    """RFC 7009: a client revokes one of its own tokens.

    A refresh token takes its whole family with it (every token of that
    grant); an access token's ``jti`` goes on the revocation list the API
    checks. An unknown token, or another client's, is answered 200 and left
    alone (§2.2): the answer tells a client nothing about tokens it does not
    hold. Access tokens issued from a revoked refresh family stay valid
    until they expire (15 minutes), since their ids are not stored.
    """

    CLIENT_AUTH_METHODS = ALL_METHODS

    def authenticate_token(self, request: OAuth2Request, client: ClientModel) -> Any:
        """The client's own token, or ``None``."""
        self.check_params(request, client)
        token = self.query_token(request.form["token"], request.form.get("token_type_hint"))
        if token is None or not token.check_client(client):
            return None
        return token

    def query_token(self, token_string: str, token_type_hint: str | None) -> IssuedToken | None:
        """The token, live or not."""
        return find_token(self.server.web, token_string, token_type_hint)

    def revoke_token(self, token: IssuedToken, request: OAuth2Request) -> None:
        """Revoke it and commit."""
        session = self.server.web.db
        if token.row is not None:
            tokens.revoke_family(session, token.row.family_id)
        elif token.claims is not None:
            tokens.revoke_access_token(session, token.claims)
        session.commit()


class Introspection(IntrospectionEndpoint):
    """RFC 7662: a confidential client asks whether one of its tokens is live.

    Only the client's own tokens are described; any other token, and every
    token that is not live, is ``{"active": false}`` and nothing more
    (§2.2), so the endpoint is no oracle for other apps' tokens.
    """

    CLIENT_AUTH_METHODS = list(SECRET_METHODS)

    def query_token(self, token_string: str, token_type_hint: str | None) -> IssuedToken | None:
        """The token if it is live."""
        return find_active_token(self.server.web, token_string, token_type_hint)

    def check_permission(
        self, token: IssuedToken, client: ClientModel, request: OAuth2Request
    ) -> bool:
        """A client may introspect its own tokens only."""
        return token.check_client(client)

    def introspect_token(self, token: IssuedToken) -> dict[str, Any]:
        """The RFC 7662 §2.2 answer for a live token."""
        assert token.user is not None
        settings = self.server.web.token_settings()
        if token.claims is not None:
            claims = token.claims
            scope, expires, issued = claims.get("scope"), claims["exp"], claims["iat"]
            token_type = "Bearer"
        else:
            assert token.row is not None
            scope = token.row.scope
            expires = int(token.row.expires_at.timestamp())
            issued = int(token.row.created_at.timestamp())
            token_type = "refresh_token"
        return {
            "active": True,
            "scope": scope,
            "client_id": token.client_id,
            "username": token.user.username,
            "sub": str(token.user.id),
            "token_type": token_type,
            "exp": expires,
            "iat": issued,
            "iss": settings.issuer,
        }
