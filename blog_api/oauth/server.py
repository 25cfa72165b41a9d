"""The authorisation server: Authlib's ``AuthorizationServer`` on the blog's framework.

Authlib's Flask integration imports Flask, and the blog also runs on
miniflask, so this module is the small adapter Authlib asks a framework for:

* :class:`FrameworkRequest` turns ``fw.request`` into Authlib's
  ``OAuth2Request`` (method, URL, headers, query and form parameters);
* :meth:`BlogAuthorizationServer.handle_response` turns Authlib's
  ``(status, body, headers)`` into a framework response, and an error body
  into the blog's own ``errors.OAuthError`` (RFC 6749 §5.2 plus ``code``);
* :func:`check_parameters` and :func:`check_basic_header` refuse, before
  Authlib reads them, the malformed parameters and credentials that made
  Authlib raise (a 500 instead of a 400).

It also says who the server is: :func:`issuer`, the RFC 8414 metadata
document (:func:`server_metadata`) and the RFC 9207 ``iss`` parameter
(:class:`Issuer`). The server registers the grants of ``grants.py`` and
the endpoints of ``endpoints.py``; the views that call it are in
``blog_api/auth.py`` and ``blog_api/site/consent.py``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import defaultdict
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    InvalidClientError,
    InvalidRequestError,
    JsonRequest,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
)
from authlib.oauth2.rfc9207 import IssuerParameter

from blog_api import errors, scopes, tokens
from blog_api.framework import Framework
from blog_api.models import User
from blog_api.oauth.endpoints import Introspection, Revocation
from blog_api.oauth.grants import (
    ALL_METHODS,
    AuthorizationCodeGrant,
    ClientModel,
    RefreshTokenGrant,
    S256CodeChallenge,
)
from blog_api.services import oauth_clients
from blog_api.web import NO_STORE, Web

#: Headers of every token-endpoint answer (RFC 6749 §5.1): never cached.
TOKEN_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}
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

    def __init__(self, fw: Framework, web: Web) -> None:
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
