"""The grants the blog offers third-party apps, and our rows as Authlib's models.

Authlib's grant classes run the protocol: the authorization code grant
(RFC 6749 §4.1) with PKCE (RFC 7636), and the refresh token grant (§6).
They reach the client, the code and the refresh token through model
methods; :class:`ClientModel`, :class:`CodeModel` and :class:`RefreshModel`
show our rows (``OAuthClient``, ``AuthorizationCode``, ``RefreshToken``)
through them. The server (``server.py``) registers both grants.

What the blog decides on top of Authlib's defaults (RFC 9700, the OAuth 2.0
Security Best Current Practice):

* **PKCE for every client, S256 only** (:class:`S256CodeChallenge`):
  Authlib's ``CodeChallenge`` lets a confidential client skip PKCE and
  accepts ``plain``; both are refused here (RFC 9700 §2.1.1, §4.8).
* **A code is used once** (:class:`AuthorizationCodeGrant`): the first use
  marks it, atomically; a second use is refused and revokes the refresh
  family the first use created (RFC 6749 §4.1.2).
* **``redirect_uri`` is always sent and matched exactly**, so a code cannot
  be sent elsewhere (RFC 9700 §4.1.3); errors about the client or the
  redirect URI are shown on our page and never redirected (§4.11.2,
  ``BlogAuthorizationServer.authorization_error`` in ``server.py``).
* **Tokens are the blog's own** (``tokens.issue_token_pair``, through the
  server's token generator), JWT access tokens with ``client_id`` and
  ``scope`` and rotated refresh tokens, so the API checks them as it
  checks every token.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from authlib.oauth2.rfc6749 import (
    ClientMixin,
    InvalidGrantError,
    InvalidRequestError,
    OAuth2Request,
    grants,
)
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7636.challenge import compare_s256_code_challenge
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from blog_api import errors, scopes, tokens
from blog_api.models import AuthorizationCode, OAuthClient, RefreshToken, User, utcnow
from blog_api.services import oauth_clients

#: Methods a confidential client authenticates with; a public one uses ``none``.
SECRET_METHODS = ("client_secret_basic", "client_secret_post")
ALL_METHODS = [*SECRET_METHODS, "none"]


class ClientModel(ClientMixin):
    """An ``OAuthClient`` row as Authlib's ``ClientMixin``.

    A confidential client (with a secret) must authenticate with it at every
    endpoint; a public client uses the ``none`` method, and may not
    introspect tokens (RFC 7662 §2.1: the endpoint is for authenticated
    callers).
    """

    def __init__(self, client: OAuthClient) -> None:
        self.client = client

    @property
    def client_id(self) -> str:
        """The public client identifier."""
        return self.client.client_id

    def get_client_id(self) -> str:
        """The public client identifier (Authlib's accessor)."""
        return self.client.client_id

    def get_default_redirect_uri(self) -> str | None:
        """None: a request without ``redirect_uri`` is refused (see the module docstring)."""
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """The scope to grant: the requested one, or the client's registered one.

        ``None`` (Authlib's ``invalid_scope``) when a requested name is not
        registered for the client: the app is told, rather than quietly
        granted less (which RFC 6749 §3.3 would allow).
        """
        registered = scopes.parse(self.client.scope)
        if not scope:
            return self.client.scope
        requested = scopes.parse(scope)
        if not requested or not requested <= registered:
            return None
        return " ".join(name for name in scopes.THIRD_PARTY if name in requested)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Exact match against the registered URIs (RFC 9700 §4.1.3)."""
        return oauth_clients.has_redirect_uri(self.client, redirect_uri)

    def check_client_secret(self, client_secret: str) -> bool:
        """The secret, compared in constant time."""
        return oauth_clients.verify_secret(self.client, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """Secrets for confidential clients; ``none`` for public ones, except introspection."""
        if oauth_clients.is_confidential(self.client):
            return method in SECRET_METHODS
        return method == "none" and endpoint != "introspection"

    def check_response_type(self, response_type: str) -> bool:
        """Only ``code``: the implicit flow is not offered (RFC 9700 §2.1.2)."""
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        """The two grants every client may use."""
        return grant_type in ("authorization_code", "refresh_token")


@dataclass
class CodeModel:
    """An ``AuthorizationCode`` row as Authlib's ``AuthorizationCodeMixin``."""

    row: AuthorizationCode

    def get_redirect_uri(self) -> str:
        """The ``redirect_uri`` of the authorisation request."""
        return self.row.redirect_uri

    def get_scope(self) -> str:
        """The granted scope."""
        return self.row.scope

    @property
    def code_challenge(self) -> str:
        """The PKCE challenge of the authorisation request."""
        return self.row.code_challenge

    @property
    def code_challenge_method(self) -> str:
        """Always ``S256``."""
        return self.row.code_challenge_method


def hash_code(code: str) -> str:
    """SHA-256 hex digest of an authorisation code: only the hash is stored."""
    return hashlib.sha256(code.encode()).hexdigest()


class S256CodeChallenge(CodeChallenge):
    """PKCE as RFC 9700 wants it: required of every client, S256 only.

    Authlib's ``CodeChallenge(required=True)`` requires a verifier only of
    public clients and accepts ``plain``; a confidential client leaving PKCE
    out, or an attacker downgrading to ``plain`` (where the challenge *is*
    the verifier), would pass. Both are refused here.
    """

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    CODE_CHALLENGE_METHODS = {"S256": compare_s256_code_challenge}

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        """At the authorisation endpoint: a challenge, made with S256."""
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge (S256)")
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256")
        super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant: Any, result: Any) -> None:
        """At the token endpoint: the verifier, always (every code has a challenge)."""
        if not grant.request.form.get("code_verifier"):
            raise InvalidRequestError("Missing code_verifier")
        super().validate_code_verifier(grant, result)


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    """RFC 6749 §4.1 with our storage: codes hashed, short-lived, used once."""

    TOKEN_ENDPOINT_AUTH_METHODS = ALL_METHODS

    @property
    def db(self) -> Session:
        """This request's database session."""
        session: Session = self.server.web.db
        return session

    @staticmethod
    def validate_authorization_redirect_uri(request: OAuth2Request, client: ClientModel) -> str:
        """The request's ``redirect_uri``, required and registered exactly.

        Authlib's message quotes the URI, and a quote in it made Authlib
        raise ``ValueError``; ours is a fixed sentence.
        """
        uri = request.payload.redirect_uri
        if not uri:
            raise InvalidRequestError("redirect_uri is required")
        if not client.check_redirect_uri(uri):
            raise InvalidRequestError("redirect_uri is not registered for this client")
        return str(uri)

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        """Store the code's hash with what it is bound to; the view commits."""
        data = request.payload.data
        ttl = int(self.server.web.config["OAUTH_CODE_TTL"])
        self.db.add(
            AuthorizationCode(
                code_hash=hash_code(code),
                client_id=request.client.client_id,
                user_id=request.user.id,
                redirect_uri=request.payload.redirect_uri,
                scope=request.scope,
                code_challenge=data["code_challenge"],
                code_challenge_method=data["code_challenge_method"],
                expires_at=utcnow() + timedelta(seconds=ttl),
            )
        )

    def query_authorization_code(self, code: str, client: ClientModel) -> CodeModel | None:
        """The unused, unexpired code issued to ``client``; else ``None`` (``invalid_grant``).

        A code shown a second time revokes the tokens of its first use, and
        that is committed at once, since the request then fails.
        """
        query = select(AuthorizationCode).where(AuthorizationCode.code_hash == hash_code(code))
        row = self.db.scalars(query.with_for_update()).first()
        if row is None or row.client_id != client.client_id:
            return None
        if row.used_at is not None:
            self._revoke_first_use(row)
            return None
        if row.expires_at <= utcnow():
            return None
        return CodeModel(row)

    def _revoke_first_use(self, row: AuthorizationCode) -> None:
        """Revoke the refresh family issued for this code's first use, and commit."""
        if row.family_id is not None:
            tokens.revoke_family(self.db, row.family_id)
            self.db.commit()

    def authenticate_user(self, authorization_code: CodeModel) -> User | None:
        """The user who allowed the request."""
        return self.db.get(User, authorization_code.row.user_id)

    def save_token(self, token: dict[str, Any]) -> None:
        """Mark the code used, with the refresh family it created; refuse a lost race.

        The UPDATE only matches a code nobody used yet, so of two requests
        racing with one code exactly one wins (PostgreSQL also row-locked
        it in :meth:`query_authorization_code`). The loser's tokens were
        not committed, and the winner's are revoked: a code used twice
        means one of the two users is not the client.
        """
        row = self.request.authorization_code.row
        record = tokens.refresh_token_record(self.db, token["refresh_token"])
        assert record is not None, "issue_token_pair added it to this session"
        claimed = self.db.execute(
            update(AuthorizationCode)
            .where(AuthorizationCode.id == row.id, AuthorizationCode.used_at.is_(None))
            .values(used_at=utcnow(), family_id=record.family_id)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]  # CursorResult
            self.db.rollback()
            winner = self.db.get(AuthorizationCode, row.id)
            if winner is not None:
                self._revoke_first_use(winner)
            raise InvalidGrantError("The code was already used")

    def delete_authorization_code(self, authorization_code: CodeModel) -> None:
        """Nothing: the row stays, marked used (``save_token``), to detect reuse."""


@dataclass
class RefreshModel:
    """A ``RefreshToken`` row as Authlib's refresh-token model."""

    row: RefreshToken
    raw: str

    def check_client(self, client: ClientModel) -> bool:
        """Whether the token was issued to ``client`` (RFC 6749 §6)."""
        return self.row.client_id == client.client_id

    def get_scope(self) -> str | None:
        """The scope its family was granted."""
        return self.row.scope


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """RFC 6749 §6 for third-party clients, rotating with ``tokens.rotate_refresh_token``.

    Authlib authenticates the client and checks that the token is the
    client's; the rotation (and the reuse detection that revokes a family)
    is the same code the blog's own ``/auth/refresh`` runs. The new pair
    keeps the family's scope: a narrower ``scope`` is accepted, as RFC 6749
    §6 allows, but not applied (the response's ``scope`` says what was
    granted).
    """

    TOKEN_ENDPOINT_AUTH_METHODS = ALL_METHODS

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshModel | None:
        """The stored token, in any state: the rotation decides what to do with it."""
        row = tokens.refresh_token_record(self.server.web.db, refresh_token)
        return None if row is None else RefreshModel(row, refresh_token)

    def authenticate_user(self, refresh_token: RefreshModel) -> User | None:
        """The token's user."""
        user: User | None = self.server.web.db.get(User, refresh_token.row.user_id)
        return user

    def issue_token(self, user: User, refresh_token: RefreshModel) -> dict[str, Any]:
        """Rotate the token: a new pair, or ``invalid_grant`` (reuse revokes the family)."""
        web = self.server.web
        try:
            pair = tokens.rotate_refresh_token(
                web.db, refresh_token.raw, web.token_settings(), client_id=self.client.client_id
            )
        except errors.Unauthorized as e:
            raise InvalidGrantError(e.message) from None
        return pair.to_dict()

    def revoke_old_credential(self, refresh_token: RefreshModel) -> None:
        """Nothing: the rotation marked the old token replaced."""
