"""The blog as an OpenID Connect *client*: "Sign in with <provider>".

Framework-neutral: these functions take plain values (settings, the query
string of the callback, what the site kept in its session) and return plain
values, so they import neither Flask nor miniflask. ``site/oidc.py`` calls
them from the reader site's two routes; ``services/identities.py`` turns the
verified claims into a user of the blog.

The flow is OpenID Connect's *authorization code flow* (OIDC Core §3.1) with
the defences RFC 9700 (OAuth 2.0 Security Best Current Practice) asks for:

1. :func:`start_sign_in` builds the URL of the provider's authorization
   endpoint with ``response_type=code``, a ``state`` (CSRF: the answer must
   come back to the browser that asked), a ``nonce`` (the ID token must have
   been made for this sign-in, not replayed from another) and a PKCE
   ``code_challenge`` (S256, RFC 7636: a stolen code is useless without the
   verifier, which never leaves the server and the signed session). All three
   are fresh random values from :mod:`secrets`.
2. :func:`finish_sign_in` checks the provider's answer: the ``state`` (the
   site compares it with the one it kept), an ``error`` the provider sent,
   the ``iss`` parameter of RFC 9207 (mix-up defence: the answer comes from
   the provider we asked); then it exchanges the code at the token endpoint
   (with the client secret and the PKCE verifier, through Authlib's requests
   client) and verifies the ID token with joserfc: signature against the
   provider's published keys, ``iss``, ``aud``/``azp``, ``exp``/``iat`` and
   ``nonce``.

The provider's discovery document and its key set (JWKS) are cached per
process for :data:`CACHE_SECONDS`; an ID token signed with a key id we do not
know makes us fetch the key set again once, which is how a provider's key
rotation reaches us before the cache expires.

Every problem raises :class:`SignInError`, whose message is a sentence for
the reader (never the token's bytes); the details go to the log.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from authlib.common.security import is_secure_transport
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

log = logging.getLogger(__name__)

#: The claims we ask for: who (``openid``), the address and the name.
SCOPE = "openid email profile"
#: Seconds for each request to the provider (discovery, keys, token, userinfo).
TIMEOUT = 5.0
#: Seconds a discovery document or key set is reused before it is fetched again.
CACHE_SECONDS = 3600.0
#: Seconds of clock difference tolerated for ``exp`` and ``iat``.
LEEWAY = 60
#: Seconds a started sign-in may take (the reader types a password at the provider).
MAX_SIGN_IN_SECONDS = 600
#: Signature algorithms we accept for ID tokens: public-key ones only. ``none``
#: would accept any token, and the HS* family would make the client secret the
#: key (OIDC Core §10.1), which the provider's JWKS cannot vouch for.
ASYMMETRIC_ALGORITHMS = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
#: OIDC Discovery §4: the document lives at the issuer plus this path.
WELL_KNOWN = "/.well-known/openid-configuration"


class SignInError(Exception):
    """The sign-in failed; ``message`` is a sentence for the reader's error page.

    Args:
        message: what the reader sees (no token, no provider internals).
        status: the HTTP status of the page: 400 for a bad answer, 502 when
            the provider could not be reached or answered nonsense.
    """

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class SignInCancelled(SignInError):
    """The provider answered with an error such as ``access_denied`` (the reader said no)."""


@dataclass(frozen=True)
class ClientSettings:
    """The blog's registration at the provider (``BLOG_OIDC_*``)."""

    discovery_url: str
    client_id: str
    client_secret: str | None
    name: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ClientSettings | None:
        """The settings, or ``None`` when sign-in is not configured.

        Both the discovery URL and the client id are needed; without either
        the site shows no button and the routes answer 404.
        """
        url, client_id = config.get("OIDC_DISCOVERY_URL"), config.get("OIDC_CLIENT_ID")
        if not url or not client_id:
            return None
        secret = config.get("OIDC_CLIENT_SECRET") or None
        return cls(url, client_id, secret, config.get("OIDC_NAME") or "OpenID Connect")


@dataclass(frozen=True)
class Provider:
    """What the provider's discovery document says that we use (OIDC Discovery §3)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    #: The asymmetric algorithms both sides accept, in the provider's order.
    algorithms: tuple[str, ...]
    token_endpoint_auth_methods: tuple[str, ...]
    #: RFC 9207 §3: the provider promises an ``iss`` in every authorization response.
    iss_parameter_supported: bool


@dataclass(frozen=True)
class AuthorizationRequest:
    """A started sign-in: where to send the browser, and what to keep until it returns.

    ``pending`` is what the site stores in its signed session cookie and
    hands back to :func:`finish_sign_in`; the browser can read it (the cookie
    is signed, not encrypted), which is fine: the values only protect this
    browser's own sign-in, and nobody else sees its cookie.
    """

    url: str
    pending: dict[str, Any]


def start_sign_in(settings: ClientSettings, redirect_uri: str) -> AuthorizationRequest:
    """Begin the code flow: the provider's URL with ``state``, ``nonce`` and PKCE.

    Args:
        settings: the blog's registration at the provider.
        redirect_uri: the absolute URL of the site's callback route.

    Raises:
        SignInError: the discovery document could not be fetched or is unusable.
    """
    provider = discover(settings.discovery_url)
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    # RFC 7636 §4.1: 43 to 128 characters; 64 random bytes make 86.
    code_verifier = secrets.token_urlsafe(64)
    with _client(settings, provider) as client:
        url, _ = client.create_authorization_url(
            provider.authorization_endpoint,
            state=state,
            code_verifier=code_verifier,
            redirect_uri=redirect_uri,
            scope=SCOPE,
            nonce=nonce,
        )
    pending = {
        "state": state,
        "nonce": nonce,
        "code_verifier": code_verifier,
        "issuer": provider.issuer,
        "started": int(time.time()),
    }
    return AuthorizationRequest(url, pending)


def finish_sign_in(
    settings: ClientSettings,
    pending: Mapping[str, Any] | None,
    params: Mapping[str, str],
    redirect_uri: str,
) -> dict[str, Any]:
    """Check the provider's answer, exchange the code, verify the ID token.

    Args:
        settings: the blog's registration at the provider.
        pending: :attr:`AuthorizationRequest.pending` as the session kept it
            (already removed from the session: each one is used once), or
            ``None`` when the session had none.
        params: the callback's query string (``code``, ``state``, maybe ``iss``
            or ``error``).
        redirect_uri: the same callback URL the sign-in started with.

    Returns:
        The ID token's verified claims (``iss``, ``sub``, ``email``...), with
        the e-mail claims from the userinfo endpoint when the token had none.

    Raises:
        SignInCancelled: the provider answered with an error (the reader declined).
        SignInError: anything else wrong with the answer, the code or the token.
    """
    # RFC 6749 §4.1.2.1 wants the state in an error answer too, but some
    # providers leave it out (oidc-provider-mock's "Deny" button does). An
    # error answer signs no one in, so taking it unbound costs at most a
    # cancelled sign-in; every other answer must match the state.
    unbound_error = "error" in params and "state" not in params
    checked = None if unbound_error else check_state(pending, params.get("state"))
    provider = discover(settings.discovery_url)
    code = check_authorization_response(provider, params)
    pending = checked
    assert pending is not None  # an answer without an error went through check_state
    if provider.issuer != pending.get("issuer"):
        # The configured provider changed its issuer between the two steps.
        raise SignInError("The sign-in provider changed during the sign-in. Please try again.")
    with _client(settings, provider) as client:
        token = _exchange_code(client, provider, code, pending["code_verifier"], redirect_uri)
        claims = verify_id_token(token["id_token"], provider, settings.client_id, pending["nonce"])
        if not claims.get("email") and provider.userinfo_endpoint:
            claims = {**claims, **_userinfo(client, provider.userinfo_endpoint, claims["sub"])}
    return claims


def check_state(pending: Mapping[str, Any] | None, state: str | None) -> Mapping[str, Any]:
    """The pending sign-in whose ``state`` the answer carries; else a refusal.

    The state binds the answer to this browser (RFC 9700 §4.7, CSRF): an
    attacker who makes a victim's browser open the callback with the
    attacker's own code cannot know the state in the victim's session. The
    comparison takes constant time.

    Raises:
        SignInError: no sign-in was started here, it is too old, or the state differs.
    """
    if not isinstance(pending, Mapping) or not isinstance(pending.get("state"), str):
        raise SignInError("No sign-in was started in this browser, or it was already used.")
    if not state or not hmac.compare_digest(pending["state"].encode(), state.encode()):
        raise SignInError("The sign-in answer does not belong to this browser's sign-in.")
    if time.time() - float(pending.get("started", 0)) > MAX_SIGN_IN_SECONDS:
        raise SignInError("The sign-in took too long. Please try again.")
    return pending


def check_authorization_response(provider: Provider, params: Mapping[str, str]) -> str:
    """The authorization code from the answer, after RFC 9207's issuer check.

    RFC 9207 (mix-up defence): when the answer names its issuer, it must be
    the provider we sent the reader to; when the provider promised to always
    name it (``authorization_response_iss_parameter_supported``), it must be there.

    Raises:
        SignInCancelled: the provider sent ``error`` (checked after the issuer,
            so another provider cannot fake a cancellation either).
        SignInError: the issuer is wrong or missing, or there is no code.
    """
    iss = params.get("iss")
    if iss is not None and iss != provider.issuer:
        log.warning("OIDC answer from issuer %r, expected %r", iss, provider.issuer)
        raise SignInError("The sign-in answer came from another provider than the one asked.")
    if iss is None and provider.iss_parameter_supported:
        raise SignInError("The sign-in answer does not name its provider.")
    error = params.get("error")
    if error:
        log.info("OIDC provider answered %r: %s", error, params.get("error_description", ""))
        if error == "access_denied":
            raise SignInCancelled("The sign-in was cancelled.")
        raise SignInCancelled("The provider could not sign you in.")
    code = params.get("code")
    if not code:
        raise SignInError("The sign-in answer carries no authorization code.")
    return code


def verify_id_token(
    id_token: str,
    provider: Provider,
    client_id: str,
    nonce: str,
    keys: Callable[[bool], KeySet] | None = None,
) -> dict[str, Any]:
    """The claims of an ID token after every check OIDC Core §3.1.3.7 asks for.

    Args:
        id_token: the compact JWS from the token endpoint.
        provider: whose token it must be (issuer, algorithms, JWKS).
        client_id: our client id: the token's audience.
        nonce: the nonce this sign-in sent; the token must carry it.
        keys: ``keys(refresh)`` gives the provider's key set, fetched again
            when ``refresh`` is true; by default the cached JWKS of
            ``provider.jwks_uri`` (tests pass their own keys).

    Raises:
        SignInError: a bad signature, algorithm, issuer, audience, time or nonce.
    """
    load_keys = keys or (lambda refresh: provider_keys(provider.jwks_uri, refresh))
    try:
        header = jws.extract_compact(id_token.encode()).protected
        algorithm = header.get("alg")
        if algorithm not in provider.algorithms:
            raise SignInError("The provider signed its answer with an algorithm we do not accept.")
        key = _signing_key(load_keys, header.get("kid"), algorithm)
        claims = jwt.decode(id_token, key, algorithms=[algorithm]).claims
        _claims_registry(provider.issuer, client_id).validate(claims)
    except JoseError as e:
        log.warning("OIDC ID token refused: %s", type(e).__name__)
        raise SignInError("The provider's answer could not be verified.") from None
    _check_audience(claims, client_id)
    _check_nonce(claims, nonce)
    return claims


def _signing_key(load_keys: Callable[[bool], KeySet], kid: str | None, algorithm: str) -> Any:
    """The key named by ``kid`` (or the only key), refreshing the set once if it is unknown.

    A provider rotates its keys by publishing the new one and signing with
    it; until our cached set expires we would not know it, so an unknown
    ``kid`` is worth exactly one new fetch. Not more: an ID token only
    reaches us from the token endpoint, so nobody can make us fetch in a loop.
    """
    for refresh in (False, True):
        key_set = load_keys(refresh)
        candidates = [key for key in key_set.keys if _fits(key, kid, algorithm)]
        if len(candidates) == 1 or (candidates and kid is not None):
            return candidates[0]
    raise SignInError("The provider signed its answer with a key it does not publish.")


#: The JWK key type (``kty``) each family of algorithms signs with (RFC 7518 §3.1).
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}


def _fits(key: Any, kid: str | None, algorithm: str) -> bool:
    """Whether ``key`` may verify a signature by ``algorithm`` with key id ``kid``.

    A key set may hold encryption keys (``use: enc``), keys pinned to another
    algorithm (``alg``) and keys of other types; none of those may verify.
    """
    return (
        (kid is None or key.kid == kid)
        and key.get("use") in (None, "sig")
        and key.get("alg") in (None, algorithm)
        and key.key_type == _KEY_TYPES.get(algorithm[:2])
    )


def _claims_registry(issuer: str, client_id: str) -> jwt.JWTClaimsRegistry:
    """``iss`` equal to the issuer, ``aud`` naming us, ``exp``/``iat`` with leeway."""
    return jwt.JWTClaimsRegistry(
        leeway=LEEWAY,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
    )


def _check_audience(claims: Mapping[str, Any], client_id: str) -> None:
    """OIDC Core §3.1.3.7 (4, 5): with several audiences, ``azp`` must be us.

    The registry already checked that ``aud`` contains our client id; a token
    for several parties that was handed to another party first (``azp``)
    must not sign anyone in here.
    """
    audience = claims["aud"]
    several = isinstance(audience, list) and len(audience) > 1
    if (several or "azp" in claims) and claims.get("azp") != client_id:
        raise SignInError("The provider's answer was made for another application.")


def _check_nonce(claims: Mapping[str, Any], nonce: str) -> None:
    """The token must carry this sign-in's nonce (a replayed token carries another)."""
    value = claims.get("nonce")
    if not isinstance(value, str) or not hmac.compare_digest(value.encode(), nonce.encode()):
        log.warning("OIDC ID token refused: nonce mismatch")
        raise SignInError("The provider's answer was made for another sign-in.")


def _exchange_code(
    client: OAuth2Session, provider: Provider, code: str, code_verifier: str, redirect_uri: str
) -> dict[str, Any]:
    """POST the code and the PKCE verifier to the token endpoint (RFC 6749 §4.1.3)."""
    try:
        token = client.fetch_token(
            provider.token_endpoint,
            grant_type="authorization_code",
            code=code,
            code_verifier=code_verifier,
            redirect_uri=redirect_uri,
            timeout=TIMEOUT,
        )
    except OAuthError as e:
        log.warning("OIDC token endpoint refused the code: %s", e.error)
        raise SignInError("The provider did not accept the sign-in. Please try again.") from None
    except (requests.RequestException, ValueError) as e:
        log.warning("OIDC token endpoint failed: %s", type(e).__name__)
        raise SignInError("The sign-in provider could not be reached.", 502) from None
    if not isinstance(token.get("id_token"), str):
        raise SignInError("The provider's answer carries no ID token.", 502)
    return dict(token)


def _userinfo(client: OAuth2Session, url: str, subject: str) -> dict[str, Any]:
    """The e-mail claims from the userinfo endpoint, for providers that leave them
    out of the ID token. Only claims about the same ``sub`` count (OIDC Core §5.3.2)."""
    try:
        response = client.get(url, timeout=TIMEOUT)
        response.raise_for_status()
        info = response.json()
    except (requests.RequestException, ValueError) as e:
        log.warning("OIDC userinfo failed: %s", type(e).__name__)
        return {}
    if not isinstance(info, dict) or info.get("sub") != subject:
        log.warning("OIDC userinfo is about another subject; ignored")
        return {}
    wanted = ("email", "email_verified", "preferred_username", "name")
    return {name: info[name] for name in wanted if name in info}


def _client(settings: ClientSettings, provider: Provider) -> OAuth2Session:
    """Authlib's requests client for this provider, authenticating as discovery says.

    ``client_secret_basic`` is OAuth's default (RFC 6749 §2.3.1) and the one
    discovery assumes when it lists none; ``client_secret_post`` when only that
    one is offered; a client without a secret is a public one (``none``) and
    relies on PKCE alone.
    """
    methods = provider.token_endpoint_auth_methods
    if settings.client_secret is None:
        method = "none"
    elif "client_secret_basic" in methods or "client_secret_post" not in methods:
        method = "client_secret_basic"
    else:
        method = "client_secret_post"
    return OAuth2Session(
        settings.client_id,
        settings.client_secret,
        token_endpoint_auth_method=method,
        code_challenge_method="S256",
        default_timeout=TIMEOUT,
    )


_cache: dict[str, tuple[float, Any]] = {}
_cache_lock = threading.Lock()


def discover(discovery_url: str, refresh: bool = False) -> Provider:
    """The provider behind ``discovery_url``, cached for :data:`CACHE_SECONDS`.

    Raises:
        SignInError: the document could not be fetched or fails the checks of
            :func:`parse_discovery` (a 502: the provider's fault, not the reader's).
    """
    return _cached(("discovery", discovery_url), refresh, lambda: _fetch_provider(discovery_url))


def provider_keys(jwks_uri: str, refresh: bool = False) -> KeySet:
    """The provider's public keys (its JWKS), cached like the discovery document."""
    return _cached(("jwks", jwks_uri), refresh, lambda: _fetch_keys(jwks_uri))


def clear_cache() -> None:
    """Forget every cached document and key set (tests start each provider afresh)."""
    with _cache_lock:
        _cache.clear()


def _cached(key: tuple[str, str], refresh: bool, fetch: Callable[[], Any]) -> Any:
    """``fetch()``'s value, reused for :data:`CACHE_SECONDS` unless ``refresh``.

    The lock is not held while fetching: two threads may both fetch at
    expiry, which costs one extra request and keeps a slow provider from
    blocking every other thread's sign-in behind the lock.
    """
    name = "\0".join(key)
    now = time.monotonic()
    with _cache_lock:
        entry = _cache.get(name)
    if entry is not None and not refresh and now - entry[0] < CACHE_SECONDS:
        return entry[1]
    value = fetch()
    with _cache_lock:
        _cache[name] = (now, value)
    return value


def _fetch_provider(discovery_url: str) -> Provider:
    """GET and check the discovery document."""
    return parse_discovery(discovery_url, _get_json(discovery_url))


def _fetch_keys(jwks_uri: str) -> KeySet:
    """GET the JWKS; keys of types we do not know are skipped (RFC 7517 §5)."""
    try:
        return KeySet.import_key_set(_get_json(jwks_uri))
    except (JoseError, KeyError, TypeError, ValueError) as e:
        log.warning("OIDC JWKS at %s unusable: %s", jwks_uri, type(e).__name__)
        raise SignInError("The sign-in provider's keys are unusable.", 502) from None


def _get_json(url: str) -> Any:
    """A JSON document from the provider, or a 502 :class:`SignInError`."""
    try:
        response = requests.get(url, timeout=TIMEOUT, headers={"Accept": "application/json"})
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as e:
        log.warning("OIDC fetch of %s failed: %s", url, type(e).__name__)
        raise SignInError("The sign-in provider could not be reached.", 502) from None


def parse_discovery(discovery_url: str, document: Any) -> Provider:
    """Check a discovery document and keep what we use.

    OIDC Discovery §4.3: the ``issuer`` must be the URL the document was
    fetched under, minus the well-known path; otherwise one provider could
    pose as another. Every endpoint must use HTTPS (loopback addresses may
    use HTTP: Authlib's ``is_secure_transport``, as RFC 8252 §7.3 allows).

    Raises:
        SignInError: a field is missing, insecure, or the issuer does not match.
    """
    if not isinstance(document, dict):
        raise SignInError("The sign-in provider's configuration is unusable.", 502)
    issuer = document.get("issuer")
    if not isinstance(issuer, str) or issuer.rstrip("/") + WELL_KNOWN != discovery_url:
        log.warning("OIDC discovery at %s names issuer %r", discovery_url, issuer)
        raise SignInError("The sign-in provider's configuration names another issuer.", 502)
    endpoints = {}
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"):
        url = document.get(name)
        if url is None and name == "userinfo_endpoint":
            continue
        if not isinstance(url, str) or not is_secure_transport(url):
            log.warning("OIDC discovery at %s: bad %s %r", discovery_url, name, url)
            raise SignInError("The sign-in provider's configuration is unusable.", 502)
        endpoints[name] = url
    return Provider(
        issuer=issuer,
        authorization_endpoint=endpoints["authorization_endpoint"],
        token_endpoint=endpoints["token_endpoint"],
        jwks_uri=endpoints["jwks_uri"],
        userinfo_endpoint=endpoints.get("userinfo_endpoint"),
        algorithms=_algorithms(document),
        token_endpoint_auth_methods=tuple(
            document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        ),
        iss_parameter_supported=document.get("authorization_response_iss_parameter_supported")
        is True,
    )


def _algorithms(document: Mapping[str, Any]) -> tuple[str, ...]:
    """The provider's ID-token algorithms that we accept (RS256 when it lists none).

    OIDC Discovery §3 makes the list required and RS256 the algorithm every
    provider must offer; ``none`` and HS* are dropped (see :data:`ASYMMETRIC_ALGORITHMS`).
    """
    offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
    accepted = tuple(name for name in offered if name in ASYMMETRIC_ALGORITHMS)
    if not accepted:
        raise SignInError("The sign-in provider signs with no algorithm we accept.", 502)
    return accepted
