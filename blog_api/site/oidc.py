"""The reader site's "Sign in with ..." through an OpenID Connect provider.

Routes (added to the ``site`` blueprint by :func:`register_oidc_views`)::

    GET /login/oidc            -> 302 to the provider (code flow, PKCE, state, nonce)
    GET /login/oidc/callback   the provider's answer -> 303 to where the reader was going

Being written (issue 16); registered by ``views.py`` so the blueprint's
hooks cover it like every other page.
"""

from __future__ import annotations

from typing import Any

from blog_api.web import Web


def register_oidc_views(bp: Any, fw: Any, web: Web) -> None:
    """Add the sign-in routes to the site blueprint ``bp`` (see the module docstring)."""
