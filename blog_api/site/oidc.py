"""The reader site's "Sign in with ..." through an OpenID Connect provider.

Routes (added to the ``site`` blueprint by :func:`register_oidc_views`)::

    GET /login/oidc?next=...   -> 302 to the provider (code flow, PKCE, state, nonce)
    GET /login/oidc/callback   the provider's answer -> 303 to where the reader was going

The protocol is in ``blog_api/oidc.py`` and the choice of user in
``services/identities.py``; this module carries values between them and the
browser. What it keeps between the two requests (state, nonce, PKCE
verifier, where to go next) lives in the site's signed session cookie under
:data:`PENDING_KEY`, and the callback *pops* it: each sign-in's answer is
accepted once. One sign-in at a time per browser: starting a second (another
tab) replaces the first, whose answer is then refused.

Without ``BLOG_OIDC_DISCOVERY_URL`` and ``BLOG_OIDC_CLIENT_ID`` both routes
answer 404 and the log-in page shows no button (the ``oidc_sign_in`` value
this module gives the templates is ``None``).

Registered by ``views.py`` so the blueprint's hooks cover these pages like
every other: the user is loaded from the session first (a logged-in reader
links the provider's account to theirs, ``services/identities.py``), and the
security headers are added to the answers.
"""

from __future__ import annotations

import logging
from typing import Any

from werkzeug.exceptions import NotFound

from blog_api import oidc
from blog_api.framework import Blueprint, Framework
from blog_api.services import identities, users
from blog_api.site.signin import safe_next, start_session
from blog_api.web import Web

log = logging.getLogger(__name__)

#: Session key of the sign-in waiting for the provider's answer.
PENDING_KEY = "oidc_pending"


def register_oidc_views(bp: Blueprint, fw: Framework, web: Web) -> None:
    """Add the sign-in routes to the site blueprint ``bp`` (see the module docstring)."""

    @bp.context_processor
    def oidc_context() -> dict[str, Any]:
        settings = oidc.ClientSettings.from_config(web.config)
        return {"oidc_sign_in": settings.name if settings else None}

    @bp.get("/login/oidc")
    def oidc_login() -> Any:
        settings = _settings_or_404(web)
        next_url = safe_next(fw.request.args.get("next"))
        try:
            request = oidc.start_sign_in(settings, _callback_url(web))
        except oidc.SignInError as e:
            return _refuse(fw, e.message, e.status)
        fw.session[PENDING_KEY] = {**request.pending, "next": next_url}
        return fw.redirect(request.url, 302)

    @bp.get("/login/oidc/callback")
    def oidc_callback() -> Any:
        settings = _settings_or_404(web)
        pending = fw.session.pop(PENDING_KEY, None)
        next_url = safe_next(pending.get("next")) if isinstance(pending, dict) else None
        try:
            claims = oidc.finish_sign_in(settings, pending, fw.request.args, _callback_url(web))
            account = identities.ProviderAccount.from_claims(claims)
            user = identities.sign_in(web.db, account, fw.g.user)
        except oidc.SignInCancelled as e:
            fw.flash(e.message, "info")
            return fw.redirect(fw.url_for("site.login", next=next_url), 303)
        except oidc.SignInError as e:
            return _refuse(fw, e.message, e.status)
        except identities.LinkRefused as e:
            web.db.rollback()
            return _refuse(fw, e.message, 400)
        users.record_login(web.db, user)
        start_session(fw, web, user)  # commits the login and last_login_at together
        fw.flash(f"Welcome, {user.username}!", "success")
        return fw.redirect(next_url or fw.url_for("site.index"), 303)


def _settings_or_404(web: Web) -> oidc.ClientSettings:
    """The provider settings; a 404 page when sign-in is not configured."""
    settings = oidc.ClientSettings.from_config(web.config)
    if settings is None:
        raise NotFound()
    return settings


def _callback_url(web: Web) -> str:
    """The absolute callback URL, from the request's trusted host (``Web.site_url``).

    The same value goes in the authorization request and in the token
    request, as RFC 6749 §4.1.3 requires.
    """
    return web.site_url("site.oidc_callback")


def _refuse(fw: Framework, message: str, status: int) -> Any:
    """The site's error page with ``message``; logged, since the reader may report it."""
    log.warning("OIDC sign-in refused (%s): %s", status, message)
    fw.abort(status, description=message)
