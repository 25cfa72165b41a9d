"""Web layer: the users resource.

Routes (under ``/api/v1``)::

    GET    /users            list (page/per_page or cursor)
    GET    /users/me         the caller (private, never cached)
    GET    /users/<id>       a profile; ``email`` only for the user and admins
    PATCH  /users/<id>       change username/email/password (self or admin; If-Match;
                             current_password for password and email)
    DELETE /users/<id>       delete with everything they wrote (self or admin; If-Match)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from werkzeug.wrappers import Response

from blog_api import tokens
from blog_api.etags import etag_for
from blog_api.framework import Blueprint, Framework
from blog_api.models import User
from blog_api.ratelimit import RateLimiter
from blog_api.schemas import QueryModel, UserPatch
from blog_api.services import users
from blog_api.web import NO_STORE, PUBLIC, Web


def build_users_blueprint(fw: Framework) -> Blueprint:
    """The ``users`` blueprint, built on the framework module ``fw``."""
    bp = fw.Blueprint("users", __name__, url_prefix="/api/v1")
    web = Web(fw)

    @bp.route("/users", methods=["GET"])
    def list_users() -> Response:
        params = web.query(QueryModel)
        request = web.list_request(params, "created_at")
        page = users.list_users(web.db, web.current_user(), request, web.config["SECRET_KEY"])
        return web.page(page, cache=PUBLIC)

    @bp.route("/users/me", methods=["GET"])
    def get_me() -> Response:
        user = web.require_account()
        return web.respond(users.render(user, user), cache=NO_STORE)

    @bp.route("/users/<id:user_id>", methods=["GET"])
    def get_user(user_id: int) -> Response:
        data = users.read_user(web.db, user_id, web.current_user())
        return web.respond(data, cache=NO_STORE if "email" in data else PUBLIC)

    @bp.route("/users/<id:user_id>", methods=["PATCH"])
    def patch_user(user_id: int) -> Response:
        user, actor = _editable(user_id)
        data = web.json_body(UserPatch)
        hash_method = web.config["PASSWORD_HASH_METHOD"]
        link = web.mailed_link("site.confirm_email", "EMAIL_CONFIRMATION_TTL")
        with password_attempt(web, actor.username, data.current_password):
            users.update_user(web.db, user, actor, data, hash_method, confirmation=link)
        pair = users.renew_own_tokens(web.db, user, actor, data, web.token_settings())
        return updated_user_response(web, users.render(user, actor), pair)

    @bp.route("/users/<id:user_id>", methods=["DELETE"])
    def delete_user(user_id: int) -> Response:
        user, actor = _editable(user_id)
        users.delete_user(web.db, user, actor)
        return web.no_content()

    def _editable(user_id: int) -> tuple[User, User]:
        """The user and the caller, once the caller may change the user and If-Match holds."""
        # The entity: update_user checks current_password against its hash.
        actor = web.require_account()
        user = users.read_for_change(web.db, user_id, actor)
        web.check_if_match(users.render(user, actor))
        return user, actor

    return bp


@contextlib.contextmanager
def password_attempt(web: Web, username: str, password: str | None) -> Iterator[None]:
    """Count a ``current_password`` check as a log-in attempt of ``username``.

    Without this, anyone holding a stolen access token could try passwords
    against PATCH as fast as they liked. The check shares the log-in
    endpoints' counters (``ratelimit.py``), so guesses here and there add up,
    and at a limit PATCH answers 429 before checking anything. As for a log
    in, the attempt counts as a failure until it turns out otherwise: only a
    wrong password (``WrongPassword``) keeps it counted.
    """
    if password is None:
        yield
        return
    limiter: RateLimiter = web.fw.current_app.extensions["blog_ratelimit"]
    attempt = limiter.attempt(web.fw.request.remote_addr or "unknown", username)
    wrong = False
    try:
        yield
    except users.WrongPassword:
        wrong = True
        raise
    finally:
        if not wrong:
            limiter.succeeded(attempt)


def updated_user_response(
    web: Web, profile: dict[str, Any], pair: tokens.TokenPair | None
) -> Response:
    """The PATCH answer: the user, plus ``tokens`` after changing one's own password.

    The new pair (``users.renew_own_tokens``) is how the client carries on
    without asking for the password again. The ``ETag`` is still the user's
    (as a GET would give it), so it works in the next ``If-Match``; the tokens
    are not part of the resource.
    """
    if pair is None:
        return web.respond(profile, cache=NO_STORE)
    # RFC 6749 §5.1: a response carrying tokens also says Pragma: no-cache.
    body = {**profile, "tokens": pair.to_dict()}
    response = web.respond(body, cache=NO_STORE, headers={"Pragma": "no-cache"})
    response.set_etag(etag_for(profile))
    return response
