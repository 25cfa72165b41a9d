"""OAuth 2.0 scopes: what an access token may do, and what each API endpoint needs.

Framework-neutral. The blog is a *resource server* here: every access token
carries the scopes it was granted (its ``scope`` claim, see ``tokens.py``), and
``hooks.RequestHooks.authenticate`` compares them with :func:`required` for the
endpoint the request reached. A token without the needed scope gets 403
``insufficient_scope`` (RFC 6750 §3.1), whatever the user behind it could do.

Two kinds of token exist:

* **First party**: the blog's own log in (``/auth/login``, ``/auth/refresh``,
  the reader site). It carries every scope, :data:`FIRST_PARTY`, so such
  callers see no change.
* **Third party**: an app the user allowed on the consent page. It carries
  only what was granted, a subset of :data:`THIRD_PARTY`. :data:`ACCOUNT`
  (password, e-mail address, deleting the account) is never among them:
  an app that could change the password could lock the user out.

The rule, the same for every endpoint: **a presented token is always checked**.
A public read (``GET /posts``) needs no token at all, but a token sent with it
must carry the read's scope, because the token changes the answer (drafts,
e-mail addresses), and an app should not read more through a token than its
grant says. An app that wants the public view sends no token.

The table, :data:`ENDPOINT_SCOPES`, lists every API endpoint explicitly, with
``None`` where any token will do (log out) or where no Bearer token is ever
used (log in, the OAuth endpoints, which authenticate *clients*). An API
endpoint missing from it is open to first-party tokens only (fail closed),
and a test fails until it is listed.
"""

from __future__ import annotations

#: What a third-party app may be granted (and the consent page offers).
THIRD_PARTY: tuple[str, ...] = ("posts:read", "posts:write", "comments:write", "profile")
#: First party only: password, e-mail address, settings, deleting the account.
ACCOUNT = "account"
#: Every scope: what the blog's own log in carries.
FIRST_PARTY: tuple[str, ...] = (*THIRD_PARTY, ACCOUNT)

#: One sentence per scope, for the consent page and the OpenAPI document.
DESCRIPTIONS: dict[str, str] = {
    "posts:read": "Read posts and comments as you see them, including your drafts",
    "posts:write": "Create, change and delete your posts",
    "comments:write": "Comment in your name, and delete your comments",
    "profile": "See your profile, including your e-mail address, and other users' profiles",
    ACCOUNT: "Change your password, e-mail address and settings, or delete your account",
}

#: The scope each API endpoint needs from a Bearer token; ``None``: any token,
#: or none at all. Every endpoint of the API blueprints is listed, even with
#: ``None``, so that adding one is a decision (``tests/blog_api/test_scopes.py``).
ENDPOINT_SCOPES: dict[str, str | None] = {
    # No Bearer token: credentials, a mailed token or a client in the body.
    "auth.register": None,
    "auth.login": None,
    "auth.token": None,
    "auth.refresh": None,
    "auth.password_reset": None,
    "auth.password_reset_confirm": None,
    "auth.confirm_email": None,
    # The OAuth endpoints authenticate the client (RFC 7009, RFC 7662, RFC 8414).
    "auth.revoke": None,
    "auth.introspect": None,
    "meta.oauth_authorization_server": None,
    # Any token may end itself.
    "auth.logout": None,
    "auth.resend_confirmation": ACCOUNT,
    "users.list_users": "profile",
    "users.get_me": "profile",
    "users.get_user": "profile",
    "users.patch_user": ACCOUNT,
    "users.delete_user": ACCOUNT,
    "posts.list_posts": "posts:read",
    "posts.get_post": "posts:read",
    "posts.create_post": "posts:write",
    "posts.replace_post": "posts:write",
    "posts.patch_post": "posts:write",
    "posts.delete_post": "posts:write",
    "comments.list_comments": "posts:read",
    "comments.get_comment": "posts:read",
    "comments.create_comment": "comments:write",
    "comments.delete_comment": "comments:write",
    "tags.list_tags": "posts:read",
    "meta.openapi": None,
}

#: The blueprints of the API (not the reader site, whose pages use the cookie
#: session and never a Bearer token).
API_BLUEPRINTS = frozenset({"auth", "users", "posts", "comments", "tags", "meta"})


def parse(scope: str | None) -> frozenset[str]:
    """The scopes of a ``scope`` string (space-separated, RFC 6749 §3.3).

    ``None`` is a first-party token or refresh token (no ``scope`` stored):
    every scope. Names are not checked here; see :func:`all_known`.

    Example::

        >>> sorted(parse("posts:read profile"))
        ['posts:read', 'profile']
    """
    if scope is None:
        return frozenset(FIRST_PARTY)
    # RFC 6749 §3.3 separates with single spaces; extra ones are harmless.
    return frozenset(name for name in scope.split(" ") if name)


def all_known(scope: str) -> bool:
    """Whether every name in ``scope`` is one of ours (an unknown one is a forgery or a bug)."""
    return parse(scope) <= frozenset(FIRST_PARTY)


def required(endpoint: str) -> str | None:
    """The scope a Bearer token needs for ``endpoint`` (``"posts.create_post"``).

    ``None``: any token will do, or the endpoint takes no Bearer token. An
    API endpoint nobody listed in :data:`ENDPOINT_SCOPES` needs
    :data:`ACCOUNT`, which only first-party tokens have: forgetting an entry
    must not open an endpoint to every app. Endpoints outside the API (the
    reader site, static files) need nothing.
    """
    if endpoint in ENDPOINT_SCOPES:
        return ENDPOINT_SCOPES[endpoint]
    blueprint, dot, _ = endpoint.partition(".")
    if dot and blueprint in API_BLUEPRINTS:
        return ACCOUNT
    return None
