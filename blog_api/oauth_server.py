"""The blog as an OAuth 2.0 authorisation server for third-party apps, on Authlib.

Authlib's framework-neutral server (``authlib.oauth2``) does the protocol:
the authorization code grant (RFC 6749 §4.1) with PKCE (RFC 7636), the
refresh token grant (§6), client authentication (§2.3), revocation (RFC
7009), introspection (RFC 7662) and the ``iss`` parameter (RFC 9207). Its
Flask integration imports Flask, and the blog also runs on miniflask, so
this module is the small adapter Authlib asks a framework for:

* :class:`FrameworkRequest` turns ``fw.request`` into Authlib's
  ``OAuth2Request`` (method, URL, headers, query and form parameters);
* :meth:`BlogAuthorizationServer.handle_response` turns Authlib's
  ``(status, body, headers)`` into a framework response, and an error body
  into the blog's own ``errors.OAuthError`` (RFC 6749 §5.2 plus ``code``);
* the ``*Model`` classes show our rows (``OAuthClient``,
  ``AuthorizationCode``, ``RefreshToken``) through Authlib's model methods.

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
  redirect URI are shown on our page and never redirected (§4.11.2).
* **Tokens are the blog's own** (``tokens.issue_token_pair``), JWT access
  tokens with ``client_id`` and ``scope`` and rotated refresh tokens, so the
  API checks them as it checks every token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    JsonRequest,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
    grants,
)
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7636.challenge import compare_s256_code_challenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9207 import IssuerParameter
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from blog_api import errors, scopes, tokens
from blog_api.models import AuthorizationCode, OAuthClient, RefreshToken, User, utcnow
from blog_api.services import oauth_clients
from blog_api.web import NO_STORE, Web

#: Headers of every token-endpoint answer (RFC 6749 §5.1): never cached.
TOKEN_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}
#: Methods a confidential client authenticates with; a public one uses ``none``.
SECRET_METHODS = ("client_secret_basic", "client_secret_post")
ALL_METHODS = [*SECRET_METHODS, "none"]
#: The parameters of RFC 6749 (Appendix A), RFC 7636 and RFC 7009/7662, whose
#: values are printable ASCII (VSCHAR, %x20-7E). Checked before Authlib sees
#: them: Authlib quotes some in error descriptions, and a character RFC 6749
#: forbids there (a quote, a backslash, a non-ASCII letter) made it raise
#: ``ValueError``, a 500.
PARAMETERS = (
    "response_type",
    "client_id",
    "client_secret",
    "redirect_uri",
    "scope",
    "state",
    "code",
    "code_challenge",
    "code_challenge_method",
    "code_verifier",
    "grant_type",
    "refresh_token",
    "token",
    "token_type_hint",
)
_VSCHAR = re.compile(r"[\x20-\x7e]{0,4096}")
#: A description for the Authlib errors that come without one: ``OAuthError``
#: needs a sentence for ``error_description``.
_DESCRIPTIONS = {
    "invalid_grant": "The code or refresh token is invalid, expired, used or not yours",
    "invalid_client": "Client authentication failed",
    "invalid_request": "The request is missing a parameter or has a malformed one",
    "invalid_scope": "The scope is unknown or not allowed for this client",
    "unauthorized_client": "The client may not use this grant",
    "unsupported_token_type": "token_type_hint must be access_token or refresh_token",
}


class BlogAuthorizationServer(AuthorizationServer):
    """Authlib's ``AuthorizationServer`` on the blog's framework, database and tokens.

    One instance per blueprint builder; it keeps no per-request state (the
    request, database session and config are reached through ``fw`` and
    ``web`` on each call), so one serves every request of every app.

    Example::

        server = BlogAuthorizationServer(fw, web)
        return server.create_token_response()      # in a view of POST /auth/token
    """

    def __init__(self, fw: Any, web: Web) -> None:
        super().__init__(scopes_supported=list(scopes.THIRD_PARTY))
        self.fw = fw
        self.web = web
        self.register_token_generator("default", self._generate_token)
        self.register_grant(AuthorizationCodeGrant, [S256CodeChallenge()])
        self.register_grant(RefreshTokenGrant)
        self.register_endpoint(Revocation)
        self.register_endpoint(Introspection)
        # Authlib's register_extension keeps the return value of the
        # extension's __call__ (None); we need the object for error redirects.
        self.issuer_parameter = Issuer(self)
        self.issuer_parameter(self)

    # -- what Authlib asks of a framework integration --------------------------

    def query_client(self, client_id: str) -> ClientModel | None:
        """The registered client ``client_id``, as Authlib's client model."""
        client = oauth_clients.find(self.web.db, client_id)
        return None if client is None else ClientModel(client)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Nothing to do: ``tokens.issue_token_pair`` stored the refresh token."""

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        """Authlib's view of the current request (``request`` is ignored: ``fw.request``)."""
        if isinstance(request, OAuth2Request):
            return request
        return FrameworkRequest(self.fw.request)

    def create_json_request(self, request: Any) -> JsonRequest:
        """Not used: no endpoint of ours takes JSON."""
        raise NotImplementedError("the OAuth endpoints take forms only")

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Authlib's hook for framework signals; the blog listens to none."""

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Any:
        """Turn Authlib's answer into a response: a redirect, JSON, or a raised error.

        Errors are raised as ``errors.OAuthError`` so that the app's error
        handlers write them like every other API error.
        """
        header_map = dict(headers)
        if status >= 400:
            raise _api_error(status, body, header_map)
        if "Location" in header_map:
            response = self.fw.Response(status=status)
            response.headers["Location"] = header_map["Location"]
            response.headers["Cache-Control"] = "no-store"
            return response
        return self.web.respond(body, status, cache=NO_STORE, headers=TOKEN_HEADERS)

    # -- the blog's tokens -----------------------------------------------------

    def _generate_token(
        self,
        grant_type: str,
        client: ClientModel,
        user: User | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        """A new token pair for ``user``, bound to ``client`` and the granted ``scope``."""
        assert user is not None, "every grant we offer has a user"
        pair = tokens.issue_token_pair(
            self.web.db,
            user,
            self.web.token_settings(),
            client_id=client.client.client_id,
            scope=scope,
        )
        return pair.to_dict()

    def issuer(self) -> str:
        """Our issuer identifier: see :func:`issuer`."""
        return issuer(self.web)

    # -- the authorisation endpoint (used by ``site/consent.py``) -------------

    def consent_grant(self, user: User | None) -> AuthorizationCodeGrant:
        """Validate the authorisation request of the current request.

        Raises:
            OAuth2Error: the request is refused; :meth:`authorization_error`
                makes the response.
        """
        check_parameters(self.fw.request.values)
        grant: AuthorizationCodeGrant = self.get_consent_grant(end_user=user)
        return grant

    def authorization_error(self, error: OAuth2Error) -> Any:
        """The response for a refused authorisation request.

        With a validated ``redirect_uri`` (Authlib sets it only when the
        client exists and the URI is registered) the error goes back to the
        client with ``state`` and ``iss``. Without one (unknown client,
        unregistered redirect URI, malformed request) we must not redirect,
        or the endpoint would be an open redirector (RFC 6749 §4.1.2.1): the
        user sees our 400 page instead.
        """
        if not error.redirect_uri:
            self.fw.abort(400, description=_safe_description(error))
        status, _, headers = error()
        response = self.handle_response(status, "", headers)
        self.issuer_parameter.add_issuer_parameter(self, response)
        return response

    def has_client_credentials(self) -> bool:
        """Whether the token request names a client (Basic header or ``client_id``)."""
        request = self.fw.request
        scheme, _, _ = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "basic" or "client_id" in request.form


def issuer(web: Web) -> str:
    """Our issuer identifier (RFC 8414 §2): the site's root URL, without ``/``.

    Built like every absolute URL of the app, from a trusted host and
    scheme (``Web.site_url``), so it is the URL the metadata document shows
    and the one a client saw when it was configured.
    """
    return web.site_url("site.index").rstrip("/")


def server_metadata(web: Web) -> dict[str, Any]:
    """The RFC 8414 metadata document: where our endpoints are and what they support.

    A client configured with the issuer finds everything else here, and
    compares ``iss`` in each authorisation response with ``issuer`` (RFC
    9207).
    """
    root = issuer(web)
    return {
        "issuer": root,
        "authorization_endpoint": f"{root}/oauth/authorize",
        "token_endpoint": f"{root}/api/v1/auth/token",
        "revocation_endpoint": f"{root}/api/v1/auth/revoke",
        "introspection_endpoint": f"{root}/api/v1/auth/introspect",
        "scopes_supported": list(scopes.THIRD_PARTY),
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ALL_METHODS,
        "authorization_response_iss_parameter_supported": True,
    }


class FrameworkRequest(OAuth2Request):
    """Authlib's ``OAuth2Request`` over a Flask or miniflask request.

    Authlib reads query and form parameters together (``payload``), the
    form alone (``form``: client credentials, the code verifier) and the
    headers (``Authorization: Basic``).
    """

    def __init__(self, request: Any) -> None:
        super().__init__(request.method, request.url, headers=request.headers)
        self._request = request
        self.payload = FrameworkPayload(request.values)

    @property
    def args(self) -> Any:
        """The query parameters."""
        return self._request.args

    @property
    def form(self) -> Any:
        """The form parameters of a POST."""
        return self._request.form


class FrameworkPayload(OAuth2Payload):
    """The request's parameters: ``data`` (first values) and ``datalist`` (all values).

    Authlib refuses a parameter given twice by looking at ``datalist``
    (RFC 6749 §3.1: "MUST NOT be included more than once").
    """

    def __init__(self, values: Any) -> None:
        self._values = values

    @property
    def data(self) -> Any:
        """Each parameter's first value."""
        return self._values

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        """Each parameter's values."""
        values: defaultdict[str, list[str]] = defaultdict(list)
        for key in self._values:
            values[key].extend(self._values.getlist(key))
        return values


def check_parameters(values: Any) -> None:
    """Refuse repeated or malformed OAuth parameters before Authlib reads them.

    RFC 6749 §3.1 and §3.2: no parameter may be sent twice (Authlib checks
    this only for some parameters at the authorisation endpoint); Appendix
    A: values are printable ASCII. Long values are refused too, so no code,
    token or state of megabytes is hashed or echoed.

    Raises:
        InvalidRequestError: Authlib's ``invalid_request``.
    """
    for name in PARAMETERS:
        given = values.getlist(name)
        if len(given) > 1:
            raise InvalidRequestError(f"The parameter {name} was sent more than once")
        if given and _VSCHAR.fullmatch(given[0]) is None:
            raise InvalidRequestError(f"The parameter {name} is too long or not printable ASCII")


def check_basic_header(headers: Any) -> None:
    """Refuse an ``Authorization: Basic`` header Authlib could not decode.

    Authlib decodes the credentials as UTF-8 without catching the error, so
    undecodable bytes were a 500. RFC 6749 §2.3.1 form-encodes the id and
    secret first, so valid credentials are always ASCII.

    Raises:
        InvalidClientError: 401 with a ``Basic`` challenge.
    """
    scheme, _, credentials = headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return
    try:
        base64.b64decode(credentials.strip(), validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClientError(
            status_code=401, description="Malformed Basic credentials"
        ) from None


def _api_error(status: int, body: dict[str, Any], headers: dict[str, str]) -> errors.OAuthError:
    """Authlib's error body as the blog's ``OAuthError`` (RFC 6749 §5.2 plus ``code``)."""
    code = str(body.get("error", "invalid_request"))
    description = body.get("error_description") or _DESCRIPTIONS.get(code, code)
    error = errors.OAuthError(code, str(description), status=status)
    if "WWW-Authenticate" in headers:
        # RFC 6749 §5.2: a 401 for a client that tried Basic names the scheme.
        error.headers["WWW-Authenticate"] = headers["WWW-Authenticate"]
    return error


def _safe_description(error: OAuth2Error) -> str:
    """An error's description, or a sentence for its code, for our error page."""
    return str(error.description or _DESCRIPTIONS.get(error.error, error.error))


def token_error(error: OAuth2Error) -> errors.OAuthError:
    """An Authlib error raised outside Authlib's own handling, as ``OAuthError``."""
    status, body, headers = error()
    return _api_error(status, body, dict(headers))


# -- models: our rows through Authlib's eyes -----------------------------------


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


# -- grants ---------------------------------------------------------------------


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


# -- revocation and introspection ----------------------------------------------


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
    user: User | None = None

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
                user, claims = tokens.authenticate_access_token(web.db, value, web.token_settings())
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


class Issuer(IssuerParameter):
    """RFC 9207: every authorisation response names us in ``iss``.

    A client talking to several authorisation servers checks it against the
    issuer it sent the user to, so a response from another server (a
    mix-up attack, RFC 9700 §4.4) is noticed.
    """

    def __init__(self, server: BlogAuthorizationServer) -> None:
        self.server = server

    def get_issuer(self) -> str:
        """The site's root URL, as in the metadata document."""
        return self.server.issuer()
