"""Web layer: the users resource.

Routes (under ``/api/v1``)::

    GET    /users            list (page/per_page or cursor)
    GET    /users/me         the caller (private, never cached)
    GET    /users/<id>       a profile; ``email`` only for the user and admins
    PATCH  /users/<id>       change username/email/password (self or admin; If-Match)
    DELETE /users/<id>       delete with everything they wrote (self or admin; If-Match)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from blog_api.models import User
from blog_api.pagination import fetch_page
from blog_api.schemas import QueryModel, UserOut, UserPatch
from blog_api.services import users
from blog_api.web import NO_STORE, PUBLIC, Web


def render_user(user: User, viewer: User | None) -> dict[str, Any]:
    """A user as the API shows it to ``viewer``: email only for self and admins."""
    data = UserOut.model_validate(user).model_dump(mode="json")
    if viewer is None or (viewer.id != user.id and not viewer.is_admin):
        data.pop("email")
    return data


def build_users_blueprint(fw: Any) -> Any:
    """The ``users`` blueprint, built on the framework module ``fw``."""
    bp = fw.Blueprint("users", __name__, url_prefix="/api/v1")
    web = Web(fw)

    @bp.route("/users", methods=["GET"])
    def list_users() -> Any:
        params = web.query(QueryModel)
        page = fetch_page(
            web.db,
            select(User),
            User,
            web.list_request(params, "created_at"),
            web.config["SECRET_KEY"],
        )
        viewer = web.current_user()
        return web.page(page, lambda user: render_user(user, viewer), cache=PUBLIC)

    @bp.route("/users/me", methods=["GET"])
    def get_me() -> Any:
        user = web.require_user()
        return web.respond(render_user(user, user), cache=NO_STORE)

    @bp.route("/users/<id:user_id>", methods=["GET"])
    def get_user(user_id: int) -> Any:
        user = users.get_user(web.db, user_id)
        viewer = web.current_user()
        data = render_user(user, viewer)
        return web.respond(data, cache=NO_STORE if "email" in data else PUBLIC)

    @bp.route("/users/<id:user_id>", methods=["PATCH"])
    def patch_user(user_id: int) -> Any:
        actor = web.require_user()
        user = users.get_user(web.db, user_id)
        users.ensure_self_or_admin(user, actor)
        web.check_if_match(render_user(user, actor))
        data = web.json_body(UserPatch)
        users.update_user(web.db, user, actor, data, web.config["PASSWORD_HASH_METHOD"])
        return web.respond(render_user(user, actor), cache=NO_STORE)

    @bp.route("/users/<id:user_id>", methods=["DELETE"])
    def delete_user(user_id: int) -> Any:
        actor = web.require_user()
        user = users.get_user(web.db, user_id)
        users.ensure_self_or_admin(user, actor)
        web.check_if_match(render_user(user, actor))
        users.delete_user(web.db, user, actor)
        return web.no_content()

    return bp
