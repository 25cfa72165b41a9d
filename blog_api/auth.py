"""Web layer: registration, log in, the OAuth 2.0 endpoints, refresh, log out.

Routes (under ``/api/v1``)::

    POST /auth/register   JSON {username, email, password}   -> 201 + Location
    POST /auth/login      JSON {username, password}          -> 200 token pair
    POST /auth/token      form, RFC 6749 §4.1.3 / §6 grants    -> 200 token pair
    POST /auth/revoke     form {token, token_type_hint}      -> 200 {} (RFC 7009)
    POST /auth/introspect form {token, token_type_hint}      -> 200 (RFC 7662)
    POST /auth/refresh    JSON {refresh_token}               -> 200 token pair
    POST /auth/logout     Bearer (+ optional refresh_token)   -> 204
    POST /auth/password-reset          JSON {email}           -> 202, always the same
    POST /auth/password-reset/confirm  JSON {token, new_password} -> 204
    POST /auth/confirm-email           JSON {token}           -> 204
    POST /auth/confirm-email/resend    Bearer                 -> 202 (409 if confirmed)

Token responses say ``Cache-Control: no-store`` (RFC 6749 §5.1): tokens must
never sit in a cache.

The blog's own apps log in with ``/auth/login`` and refresh with
``/auth/refresh`` (or the token endpoint's ``refresh_token`` grant without
client credentials). Third-party apps get their tokens from the
authorization code flow (the consent page is ``site/consent.py``) and use
the token, revocation and introspection endpoints as registered clients;
``blog_api/oauth/`` adapts Authlib's server for these. The password grant
is retired (RFC 9700 §2.4: it MUST NOT be used): it asks an app for the
user's password, which is what OAuth exists to avoid.

Failed password checks are counted by the rate limiter (per client and
username, per client, per username); the lock-out answers 429 before the
password is even checked.

"Forgot password" answers 202 with one body whether or not the address has an
account, so it cannot be used to find out who has one; the mail with the link
is sent later by the outbox (``blog_api/jobs.py``), so the request takes about
as long either way (one lookup, plus two INSERTs when the account exists),
never the time of an SMTP conversation.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Error

from blog_api import errors, tokens
from blog_api.framework import Blueprint, Framework
from blog_api.oauth.server import (
    TOKEN_HEADERS,
    BlogAuthorizationServer,
    check_basic_header,
    check_parameters,
    token_error,
)
from blog_api.ratelimit import RateLimiter
from blog_api.schemas import (
    ConfirmEmailIn,
    LoginIn,
    PasswordResetConfirmIn,
    PasswordResetIn,
    RefreshIn,
    RegisterIn,
    normalise_username,
)
from blog_api.services import email_confirmations, password_resets, users
from blog_api.web import NO_STORE, Web

RESET_ACCEPTED = "If an account has this address, a reset link is on its way to it"
CONFIRMATION_SENT = "A new confirmation link is on its way to your address"
#: The answer to ``grant_type=password`` (RFC 6749 error descriptions are ASCII).
PASSWORD_GRANT_RETIRED = (
    "The password grant is retired (RFC 9700 section 2.4). The blog's own apps log in "
    "with POST /api/v1/auth/login; third-party apps use the authorization code flow "
    "with PKCE (GET /oauth/authorize, see /.well-known/oauth-authorization-server)"
)


def build_auth_blueprint(fw: Framework) -> Blueprint:
    """The ``auth`` blueprint, built on the framework module ``fw``."""
    bp = fw.Blueprint("auth", __name__, url_prefix="/api/v1")
    web = Web(fw)
    server = BlogAuthorizationServer(fw, web)

    @bp.route("/auth/register", methods=["POST"])
    def register() -> Any:
        data = web.json_body(RegisterIn)
        link = web.mailed_link("site.confirm_email", "EMAIL_CONFIRMATION_TTL")
        user = users.register(web.db, data, web.config["PASSWORD_HASH_METHOD"], link)
        rendered = users.render(user, viewer=user)
        return web.created(rendered, "users.get_user", cache=NO_STORE, user_id=user.id)

    @bp.route("/auth/login", methods=["POST"])
    def login() -> Any:
        data = web.json_body(LoginIn)
        user = check_password(web, data.username, data.password)
        if user is None:
            raise errors.Unauthorized("Invalid username or password")
        return token_response(web, tokens.issue_token_pair(web.db, user, web.token_settings()))

    @bp.route("/auth/token", methods=["POST"])
    def token() -> Any:
        return oauth2_token(web, server)

    @bp.route("/auth/revoke", methods=["POST"])
    def revoke() -> Any:
        return oauth2_endpoint(web, server, "revocation")

    @bp.route("/auth/introspect", methods=["POST"])
    def introspect() -> Any:
        return oauth2_endpoint(web, server, "introspection")

    @bp.route("/auth/refresh", methods=["POST"])
    def refresh() -> Any:
        data = web.json_body(RefreshIn)
        pair = tokens.rotate_refresh_token(web.db, data.refresh_token, web.token_settings())
        return token_response(web, pair)

    @bp.route("/auth/logout", methods=["POST"])
    def logout() -> Any:
        user = web.require_user()
        tokens.revoke_access_token(web.db, fw.g.token_claims)
        if fw.request.content_length:
            data = web.json_body(RefreshIn)
            tokens.revoke_refresh_token(web.db, data.refresh_token, user.id)
        web.db.commit()
        return web.no_content()

    @bp.route("/auth/password-reset", methods=["POST"])
    def password_reset() -> Any:
        data = web.json_body(PasswordResetIn)
        limit_mail_requests(web, "password-reset", str(data.email))
        link = web.mailed_link("site.reset_password", "PASSWORD_RESET_TTL")
        password_resets.request_reset(web.db, str(data.email), link)
        web.db.commit()  # the link and the job that mails it, together
        return web.respond({"message": RESET_ACCEPTED}, 202, cache=NO_STORE)

    @bp.route("/auth/password-reset/confirm", methods=["POST"])
    def password_reset_confirm() -> Any:
        data = web.json_body(PasswordResetConfirmIn)
        hash_method = web.config["PASSWORD_HASH_METHOD"]
        password_resets.confirm_reset(web.db, data.token, data.new_password, hash_method)
        web.db.commit()
        return web.no_content()

    @bp.route("/auth/confirm-email", methods=["POST"])
    def confirm_email() -> Any:
        data = web.json_body(ConfirmEmailIn)
        email_confirmations.confirm(web.db, data.token)
        web.db.commit()
        return web.no_content()

    @bp.route("/auth/confirm-email/resend", methods=["POST"])
    def resend_confirmation() -> Any:
        user = web.require_account()  # email_confirmations.start writes a row for it
        if user.email_confirmed_at is not None:
            raise errors.Conflict("Your e-mail address is already confirmed")
        limit_mail_requests(web, "confirm-email", f"#confirm-email-{user.id}")
        link = web.mailed_link("site.confirm_email", "EMAIL_CONFIRMATION_TTL")
        email_confirmations.start(web.db, user, link)
        web.db.commit()
        return web.respond({"message": CONFIRMATION_SENT}, 202, cache=NO_STORE)

    return bp


def limit_mail_requests(web: Web, purpose: str, recipient: str) -> None:
    """Count a request that mails a link in the login limiter's counters, under keys of its own.

    Every request counts (none is given back): per client and recipient
    (``LOGIN_MAX_FAILURES``), per client (``LOGIN_CLIENT_MAX_FAILURES``) and per
    recipient (``LOGIN_ACCOUNT_MAX_FAILURES``) in each window. That keeps one
    client from mailing an inbox full of links or sweeping through addresses.
    The ``purpose`` prefix keeps these counters apart from the login ones, so
    asking for a link never locks anyone out of logging in; a recipient (an
    address, or ``#confirm-email-<id>``) cannot collide with a username,
    which has neither ``@`` nor ``#``.

    Raises:
        TooManyRequests: a counter is full (429 with ``Retry-After``).
    """
    limiter: RateLimiter = web.fw.current_app.extensions["blog_ratelimit"]
    client = web.fw.request.remote_addr or "unknown"
    try:
        limiter.attempt(f"{purpose}:{client}", recipient)
    except errors.TooManyRequests as e:
        message = f"Too many {purpose.replace('-', ' ')} requests; try again later"
        raise errors.TooManyRequests(message, retry_after=int(e.headers["Retry-After"])) from None


def check_password(web: Web, username: str, password: str) -> Any:
    """Authenticate under the failed-login rate limit; ``None`` when refused.

    The attempt counts as a failure from the start (``ratelimit.py`` says
    why); a right password gives that back, and sets the user's
    ``last_login_at`` (written by the caller's commit).

    Raises:
        TooManyRequests: a failed-login limit (this client and username, this
            client, or this username) is reached.
    """
    limiter: RateLimiter = web.fw.current_app.extensions["blog_ratelimit"]
    client = web.fw.request.remote_addr or "unknown"
    # Logins are case-insensitive: "Alice" and "ALICE" share alice's counters.
    username = normalise_username(username)
    attempt = limiter.attempt(client, username)
    user = users.authenticate(web.db, username, password, web.config["PASSWORD_HASH_METHOD"])
    if user is not None:
        limiter.succeeded(attempt)
        users.record_login(web.db, user)
    return user


def token_response(web: Web, pair: tokens.TokenPair) -> Any:
    """Commit the new refresh token and return the pair, uncacheable."""
    web.db.commit()
    return web.respond(pair.to_dict(), cache=NO_STORE, headers=TOKEN_HEADERS)


def oauth2_token(web: Web, server: BlogAuthorizationServer) -> Any:
    """RFC 6749 token endpoint: ``authorization_code`` (§4.1.3) and ``refresh_token`` (§6).

    Authlib serves both grants for registered clients (``oauth/grants.py``).
    A ``refresh_token`` request without client credentials is the blog's
    own refresh, as ``/auth/refresh`` (a first-party token; a third-party
    token needs its client). ``password`` is refused with a pointer to what
    replaces it. Errors use the §5.2 shape via ``OAuthError``.
    """
    form = read_form(web)
    grant_type = form.get("grant_type")
    if not grant_type:
        raise errors.OAuthError("invalid_request", "grant_type is required")
    if grant_type == "password":
        raise errors.OAuthError("unsupported_grant_type", PASSWORD_GRANT_RETIRED)
    if grant_type == "refresh_token" and not server.has_client_credentials():
        return token_response(web, _first_party_refresh(web, form))
    try:
        response = server.create_token_response()
    except OAuth2Error as e:  # raised before Authlib's own handling (an http URL)
        raise token_error(e) from None
    web.db.commit()
    return response


def oauth2_endpoint(web: Web, server: BlogAuthorizationServer, name: str) -> Any:
    """Revocation (RFC 7009) or introspection (RFC 7662), served by Authlib."""
    read_form(web)
    try:
        return server.create_endpoint_response(name)
    except OAuth2Error as e:
        raise token_error(e) from None


def read_form(web: Web) -> Any:
    """The form of an OAuth request, after the checks that keep malformed input a 400.

    Raises:
        OAuthError: not a form, a repeated or malformed parameter, or a Basic
            header that is no base64 of ASCII.
    """
    request = web.fw.request
    if request.mimetype != "application/x-www-form-urlencoded":
        raise errors.OAuthError(
            "invalid_request", "The OAuth endpoints take application/x-www-form-urlencoded"
        )
    web.check_size()
    try:
        check_parameters(request.values)
        check_basic_header(request.headers)
    except OAuth2Error as e:
        raise token_error(e) from None
    return request.form


def _first_party_refresh(web: Web, form: Any) -> tokens.TokenPair:
    """Refreshing a first-party token (RFC 6749 §6), with rotation."""
    raw = form.get("refresh_token")
    if not raw:
        raise errors.OAuthError("invalid_request", "refresh_token is required")
    try:
        return tokens.rotate_refresh_token(web.db, raw, web.token_settings())
    except errors.Unauthorized as e:
        raise errors.OAuthError("invalid_grant", e.message) from None
