"""The reader site's consent page: a third-party app asks for access (OAuth 2.0).

Routes (added to the ``site`` blueprint by :func:`register_consent_views`)::

    GET  /oauth/authorize    what the app asks for, with Allow and Deny
    POST /oauth/authorize    the answer -> 302 to the app's redirect_uri

Being written (issue 16); registered by ``views.py`` so the blueprint's
hooks (CSRF, origin, security headers) cover it like every other page.
"""

from __future__ import annotations

from typing import Any

from blog_api.web import Web


def register_consent_views(bp: Any, fw: Any, web: Web) -> None:
    """Add the consent page to the site blueprint ``bp`` (see the module docstring)."""
