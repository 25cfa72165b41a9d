"""Registered third-party apps (OAuth 2.0 clients): register, find, check, list, delete.

Framework-neutral, like every service. An app is registered by the site's
operator (``flask clients create``, ``blog_api/oauth/cli.py``) and gets:

* a ``client_id``: public, random, URL-safe;
* a ``client_secret`` for a **confidential** client (a server-side app that
  can keep one), shown once and stored only as its SHA-256, like refresh
  tokens (the secret is 256 random bits, so no salt or slow hash is
  needed); a **public** client (a browser or mobile app, RFC 6749 §2.1) has
  none and relies on PKCE alone;
* its redirect URIs, compared *exactly* when it asks for a code (RFC 9700
  §4.1.3: no prefixes, no patterns, no extra query), and checked here when
  registered: ``https``, or ``http`` only to the loopback interface, where a
  native app listens (RFC 8252 §7.3), never with a fragment (RFC 6749
  §3.1.2);
* the scopes it may ever ask for, a subset of :data:`scopes.THIRD_PARTY`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from urllib.parse import urlsplit

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from blog_api import scopes
from blog_api.models import OAuthClient

#: A client id as :func:`register` makes them (:func:`new_client_id`: 32
#: characters). Anything else is looked up nowhere: a NUL or a 10 kB string
#: must not reach the database (PostgreSQL refuses NUL in a string).
_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,48}")
#: Host names of the loopback interface that may receive ``http`` redirects.
_LOOPBACK_NAMES = {"localhost"}
#: The longest redirect URI accepted (browsers and servers cut URLs near 8 kB).
MAX_REDIRECT_URI = 2000


def new_client_id() -> str:
    """A new random client id: ``token_urlsafe(24)``, 32 characters, not starting with ``-``.

    One id in 64 would otherwise start with a dash, which a command line reads
    as an option: ``clients delete -Xy...`` would be refused as a usage error.
    """
    while True:
        client_id = secrets.token_urlsafe(24)
        if not client_id.startswith("-"):
            return client_id


class ClientRegistrationError(ValueError):
    """A registration was refused; the message says why (for the CLI)."""


def register(
    session: Session,
    name: str,
    redirect_uris: list[str],
    scope: str | None = None,
    *,
    public: bool = False,
) -> tuple[OAuthClient, str | None]:
    """Register an app; return it and its secret (``None`` for a public client).

    The secret exists only in the return value: show it to the operator once.
    The caller commits.

    Args:
        name: what the consent page calls the app.
        redirect_uris: at least one; see :func:`redirect_uri_problem`.
        scope: the scopes it may ask for (space-separated); ``None``: all of
            :data:`scopes.THIRD_PARTY`.
        public: a client that cannot keep a secret (PKCE only).

    Raises:
        ClientRegistrationError: no name, no or a bad redirect URI, or a scope
            that is unknown or not for third parties.

    Example::

        client, secret = register(session, "Reader app", ["https://app.example/cb"], "posts:read")
        session.commit()
    """
    name = name.strip()
    if not name or len(name) > 100:
        raise ClientRegistrationError("the name must have 1 to 100 characters")
    if not redirect_uris:
        raise ClientRegistrationError("at least one redirect URI is required")
    for uri in redirect_uris:
        problem = redirect_uri_problem(uri)
        if problem is not None:
            raise ClientRegistrationError(f"redirect URI {uri!r}: {problem}")
    granted = _registered_scope(scope)
    secret = None if public else secrets.token_urlsafe(32)
    client = OAuthClient(
        client_id=new_client_id(),
        secret_hash=None if secret is None else _hash(secret),
        name=name,
        redirect_uris="\n".join(dict.fromkeys(redirect_uris)),
        scope=granted,
    )
    session.add(client)
    return client, secret


def _registered_scope(scope: str | None) -> str:
    """The scope string to store: known third-party names only, in a fixed order."""
    if scope is None:
        return " ".join(scopes.THIRD_PARTY)
    names = scopes.parse(scope)
    unknown = sorted(names - set(scopes.THIRD_PARTY))
    if unknown:
        allowed = ", ".join(scopes.THIRD_PARTY)
        raise ClientRegistrationError(f"scope {' '.join(unknown)!r} is not one of: {allowed}")
    if not names:
        raise ClientRegistrationError("the scope names no scope")
    return " ".join(name for name in scopes.THIRD_PARTY if name in names)


def redirect_uri_problem(uri: str) -> str | None:
    """Why ``uri`` cannot be registered as a redirect URI, or ``None``.

    Absolute ``https`` URIs are fine. Plain ``http`` is allowed only for the
    loopback interface (``127.0.0.1``, ``[::1]``, ``localhost``): a native
    app receives its code there, and the traffic never leaves the machine
    (RFC 8252 §7.3). A fragment is forbidden (RFC 6749 §3.1.2), and so are
    user names in the authority, which make a URI read as another host.
    """
    if len(uri) > MAX_REDIRECT_URI or not uri.isprintable() or " " in uri:
        return "too long, or has spaces or control characters"
    try:
        parts = urlsplit(uri)
        host = parts.hostname
        parts.port  # noqa: B018 - parsing the port is the check: "host:x" raises
    except ValueError:
        return "not a valid URI"
    if "#" in uri:
        return "a redirect URI may not have a fragment"
    if not host or "@" in parts.netloc:
        return "an absolute URI with a host (and no user name) is required"
    if parts.scheme == "https":
        return None
    if parts.scheme == "http" and _is_loopback(host):
        return None
    return "must be https, or http to 127.0.0.1, [::1] or localhost"


def _is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine's loopback interface."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def find(session: Session, client_id: str | None) -> OAuthClient | None:
    """The client with this ``client_id``; ``None`` for unknown or malformed ids."""
    if not client_id or _CLIENT_ID.fullmatch(client_id) is None:
        return None
    return session.scalars(select(OAuthClient).where(OAuthClient.client_id == client_id)).first()


def is_confidential(client: OAuthClient) -> bool:
    """Whether the client has a secret (and so must authenticate with it)."""
    return client.secret_hash is not None


def verify_secret(client: OAuthClient, secret: str) -> bool:
    """Whether ``secret`` is the client's secret, compared in constant time.

    The hashes are compared, not the secrets: the stored value is a hash,
    and ``hmac.compare_digest`` takes as long wherever the strings differ,
    so the response time tells a guesser nothing. A public client has no
    secret, and none matches.
    """
    if client.secret_hash is None:
        return False
    return hmac.compare_digest(_hash(secret), client.secret_hash)


def _hash(secret: str) -> str:
    """SHA-256 hex digest of a secret (``surrogatepass``: any string can be hashed)."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def redirect_uris(client: OAuthClient) -> list[str]:
    """The client's registered redirect URIs."""
    return [line for line in client.redirect_uris.splitlines() if line]


def has_redirect_uri(client: OAuthClient, uri: str | None) -> bool:
    """Whether ``uri`` is, character for character, one the client registered.

    Exact string comparison (RFC 9700 §4.1.3): ``https://app.example/cb/x``,
    ``https://app.example/cb?next=evil`` or ``HTTPS://app.example/cb`` do not
    match ``https://app.example/cb``. The one exception is the port of an
    ``http`` loopback URI: a native app listens on whatever port the system
    gives it, so any port is allowed there (RFC 8252 §7.3, RFC 9700 §4.1.3);
    everything else must still be equal.
    """
    if uri is None:
        return False
    registered = redirect_uris(client)
    return uri in registered or any(_same_loopback_uri(uri, known) for known in registered)


def _same_loopback_uri(uri: str, registered: str) -> bool:
    """Whether two ``http`` loopback URIs differ in their port at most."""
    try:
        asked, known = urlsplit(uri), urlsplit(registered)
        asked.port, known.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        return False
    if known.scheme != "http" or not known.hostname or not _is_loopback(known.hostname):
        return False
    if "@" in asked.netloc:
        return False
    return (known.scheme, known.hostname, known.path, known.query, known.fragment) == (
        asked.scheme,
        asked.hostname,
        asked.path,
        asked.query,
        asked.fragment,
    )


def list_clients(session: Session) -> list[OAuthClient]:
    """Every registered client, oldest first."""
    return list(session.scalars(select(OAuthClient).order_by(OAuthClient.id)))


def delete_client(session: Session, client_id: str) -> bool:
    """Remove a client; whether it existed. The caller commits.

    Its codes and refresh tokens go with it (``ON DELETE CASCADE``); access
    tokens already issued stay valid until they expire (15 minutes).
    """
    client = find(session, client_id)
    if client is None:
        return False
    session.execute(delete(OAuthClient).where(OAuthClient.id == client.id))
    return True
