"""Logging a reader in on the site: the session's login token, and where to go next.

Shared by the password form (``views.py``) and "Sign in with ..."
(``oidc.py``), which must end the same way: a fresh session holding a
server-side login, and a redirect that cannot leave the site.
"""

from __future__ import annotations

import re
from typing import Any

from blog_api.framework import Framework
from blog_api.services import site_sessions
from blog_api.site import security
from blog_api.web import Web

#: Session key of the server-side login's token (``services/site_sessions.py``).
LOGIN_KEY = "login"


#: A same-site relative URL: one ``/``, then only characters RFC 3986 allows
#: unencoded in a path, query and fragment (anything else must arrive
#: percent-encoded). No backslash, space or control character can pass.
_LOCAL_PATH = re.compile(r"/(?!/)[A-Za-z0-9\-._~!$&'()*+,;=:@/?#%]{0,2047}")


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a safe path on this site, else ``None`` (no open redirect).

    Only a relative reference made of URL characters is accepted, and it must
    start with a single ``/``: ``//evil.example`` and ``/\\evil.example`` are
    refused because browsers read both as another host, and a CR or LF would
    end up in the ``Location`` header (Werkzeug refuses to send a header with
    a newline, which was a 500). Refused targets send the user to ``/``.
    """
    if target and _LOCAL_PATH.fullmatch(target):
        return target
    return None


def start_session(fw: Framework, web: Web, user: Any) -> None:
    """Log ``user`` in: a fresh session (no fixation) with a fresh CSRF token.

    The session holds the token of a new server-side login
    (``services/site_sessions.py``), not the user id, so that logging out can
    end it for every copy of the cookie. A login this browser already had is
    ended first.
    """
    site_sessions.end_login(web.db, fw.session.get(LOGIN_KEY))
    fw.session.clear()
    lifetime = fw.current_app.permanent_session_lifetime
    fw.session[LOGIN_KEY] = site_sessions.start_login(web.db, user, lifetime)
    security.rotate_csrf_token(fw.session)
