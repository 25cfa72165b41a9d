"""Browser-facing protections of the reader site: CSRF tokens, origin checks, headers.

Framework-neutral: these functions take the session (a dict-like object), the
request's headers and the response's headers, so they import neither Flask nor
miniflask. ``views.py`` calls them from the site blueprint's hooks.

Why two defences against cross-site request forgery:

* a **token**: a random value kept in the signed session cookie and repeated
  in a hidden field of every form. A page on another origin can make the
  browser *send* the cookie, but it cannot *read* our pages, so it cannot
  know the value to put in the field (OWASP's "synchronizer token" pattern).
* an **origin check**: browsers name the page a POST comes from in ``Origin``
  (or at least ``Referer``); a request from another origin is refused even if
  the token leaked. Either header may be missing (privacy settings strip
  them), so their absence alone is not a refusal: the token still decides.

The session cookie is also ``SameSite=Lax``, which stops browsers from sending
it on cross-*site* POSTs. It does not cover cross-*origin* same-site pages
(another port or subdomain of the same host), hence the checks above.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from werkzeug.datastructures import Headers

#: Name of the hidden form field and of the session key holding the token.
CSRF_FIELD = "csrf_token"

#: Only our own files: no inline scripts or styles, no plugins, no framing,
#: forms post only to us. The templates are written to fit it.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # Never guess a type from the body (a comment is never sniffed as HTML/JS).
    "X-Content-Type-Options": "nosniff",
    # Our URLs stay on our site; other sites learn nothing of them.
    "Referrer-Policy": "same-origin",
    # Old browsers' form of frame-ancestors 'none' (clickjacking).
    "X-Frame-Options": "DENY",
}


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """This session's CSRF token, created on first use.

    A template calls it (as ``csrf_token()``) for each form, so a session is
    only started for visitors who are shown a form.
    """
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = rotate_csrf_token(session)
    return token


def rotate_csrf_token(session: MutableMapping[str, Any]) -> str:
    """Put a fresh token in the session (on log in: a token seen before is void)."""
    token = secrets.token_urlsafe(32)
    session[CSRF_FIELD] = token
    return token


def csrf_problem(session: Mapping[str, Any], submitted: str | None) -> str | None:
    """Why the submitted token is refused, or ``None`` when it matches.

    ``hmac.compare_digest`` takes the same time wherever the strings differ,
    so response timing does not leak how much of a guess was right.
    """
    expected = session.get(CSRF_FIELD)
    if not isinstance(expected, str):
        return "Your session has no form token (cookies off, or the session expired)."
    if not submitted:
        return "The form token is missing."
    if not hmac.compare_digest(expected.encode(), submitted.encode()):
        return "The form token is wrong."
    return None


def origin_problem(headers: Headers | Mapping[str, str], host: str) -> str | None:
    """Why a POST's ``Origin`` (else ``Referer``) is refused, or ``None``.

    Only the host and port are compared with ``host`` (the request's ``Host``):
    unless a proxy's ``X-Forwarded-Proto`` is trusted, the scheme we see behind
    a TLS-terminating proxy is ``http`` while the browser says ``https``, and
    comparing it would refuse every real form.

    Args:
        headers: the request headers.
        host: ``request.host``, e.g. ``"127.0.0.1:8000"``.
    """
    origin = headers.get("Origin")
    if origin is not None:
        # "null" is what browsers send from sandboxed frames and data: URLs.
        if origin == "null" or _authority(urlsplit(origin).netloc) != _authority(host):
            return f"Cross-site request refused (Origin {origin})."
        return None
    referer = headers.get("Referer")
    if referer and _authority(urlsplit(referer).netloc) != _authority(host):
        return "Cross-site request refused (Referer from another site)."
    return None


def _authority(netloc: str) -> str:
    """``host[:port]`` lower-cased, without a default port.

    Browsers leave the default port out of ``Origin`` (RFC 6454 §6.1).
    Werkzeug drops it from ``request.host`` only when it is the default of the
    scheme *it* sees: behind a proxy whose ``X-Forwarded-Port: 443`` is trusted
    but whose ``X-Forwarded-Proto`` is not, the host is ``blog.example:443``
    on ``http``. So ``blog.example`` and ``blog.example:443`` compare equal.
    """
    netloc = netloc.lower()
    for default in (":80", ":443"):
        if netloc.endswith(default):
            return netloc[: -len(default)]
    return netloc


def add_security_headers(headers: Headers | MutableMapping[str, str], personal: bool) -> None:
    """Set the site's security headers on a response.

    Args:
        headers: the response's headers.
        personal: the page depends on a session (a user, a form token):
            ``Cache-Control: no-store`` keeps it out of every cache, so a
            shared computer's "back" button or a proxy shows it to nobody else.
    """
    for name, value in SECURITY_HEADERS.items():
        headers[name] = value
    if personal:
        headers["Cache-Control"] = "no-store"
