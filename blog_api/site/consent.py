"""The reader site's consent page: a third-party app asks for access (OAuth 2.0).

Routes (added to the ``site`` blueprint by :func:`register_consent_views`)::

    GET  /oauth/authorize    what the app asks for, with Allow and Deny
    POST /oauth/authorize    the answer -> 302 to the app's redirect_uri

This is the *authorisation endpoint* of RFC 6749 §3.1: an app sends the
user's browser here with ``response_type=code``, its ``client_id``, its
``redirect_uri``, the ``scope`` it wants, a ``state`` and a PKCE
``code_challenge`` (S256). Authlib validates the request
(``oauth/server.py``); this module decides what the *user* sees:

1. A request that names no registered client, or a ``redirect_uri`` that
   is not exactly one the client registered, ends on our 400 page: sending
   the browser to an unverified URI would make us an open redirector (RFC
   6749 §4.1.2.1). Other mistakes (a scope the app may not ask for, no
   PKCE) go back to the app as ``error=...`` with ``state`` and ``iss``.
2. A visitor who is not logged in is sent to the log-in page, which comes
   back here (``next``) with every parameter.
3. The page names the app, the host the answer goes to, and each scope
   with its sentence from ``scopes.DESCRIPTIONS``. With no ``scope``
   parameter the app asks for everything it registered for (RFC 6749 §3.3
   allows a default), and the page lists exactly that.
4. Allow and Deny are buttons of one POST form to this same URL. The site
   blueprint's ``protect_form_posts`` hook checks its CSRF token and
   Origin first, so another site cannot make a logged-in user's browser
   click Allow. Allow stores a code (hashed, ``OAUTH_CODE_TTL`` seconds,
   bound to the client, redirect URI, scope and PKCE challenge) and
   redirects with ``code``, ``state`` and ``iss``; Deny redirects with
   ``error=access_denied``.

Registered by ``views.py`` so the blueprint's hooks (CSRF, origin, security
headers) cover it like every other page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from authlib.oauth2.rfc6749 import OAuth2Error

from blog_api import scopes
from blog_api.framework import Blueprint, Framework
from blog_api.oauth.grants import AuthorizationCodeGrant
from blog_api.oauth.server import BlogAuthorizationServer
from blog_api.web import Web

#: The form field carrying the user's answer, and its two values.
DECISION_FIELD = "decision"
ALLOW, DENY = "allow", "deny"


def register_consent_views(bp: Blueprint, fw: Framework, web: Web) -> None:
    """Add the consent page to the site blueprint ``bp`` (see the module docstring)."""
    server = BlogAuthorizationServer(fw, web)

    @bp.route("/oauth/authorize", methods=["GET", "POST"])
    def authorize() -> Any:
        user = fw.g.user
        try:
            grant = server.consent_grant(user)
        except OAuth2Error as error:
            return server.authorization_error(error)
        if user is None:
            # 303: the browser follows with a GET, also after a POST whose
            # session expired meanwhile.
            return fw.redirect(fw.url_for("site.login", next=this_url(fw)), 303)
        if fw.request.method == "GET":
            return render_consent(fw, grant)
        decision = fw.request.form.get(DECISION_FIELD)
        if decision not in (ALLOW, DENY):
            fw.abort(400, description="Answer with the Allow or the Deny button.")
        response = server.create_authorization_response(
            grant.request, grant_user=user if decision == ALLOW else None, grant=grant
        )
        web.db.commit()  # the code
        return response


def this_url(fw: Framework) -> str:
    """This page's path and query, re-encoded for ``next``.

    The query is encoded again from the parsed parameters, so that it is
    made only of the characters ``signin.safe_next`` accepts whatever the
    app sent (a raw ``[`` or ``"``); the parameters stay the same.
    """
    query = urlencode(list(fw.request.args.items(multi=True)))
    return f"{fw.request.path}?{query}"


def render_consent(fw: Framework, grant: AuthorizationCodeGrant) -> Any:
    """The consent page for a validated request."""
    request = grant.request
    granted = scopes.parse(request.scope)
    listed = [
        {"name": name, "description": scopes.DESCRIPTIONS[name]}
        for name in scopes.THIRD_PARTY
        if name in granted
    ]
    return fw.render_template(
        "site/consent.html",
        app_name=request.client.client.name,
        redirect_host=urlsplit(grant.redirect_uri).netloc,
        scopes=listed,
        action=this_url(fw),
    )
