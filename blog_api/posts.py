"""Web layer: the posts resource.

Routes (under ``/api/v1``)::

    GET    /posts            list: filters author, author_id, tag, status, q; sort;
                             page/per_page or cursor
    POST   /posts            create (auth) -> 201 + Location
    GET    /posts/<id>       one post (drafts: author only)
    PUT    /posts/<id>       replace (author or admin; If-Match)
    PATCH  /posts/<id>       change some fields (author or admin; If-Match)
    DELETE /posts/<id>       delete (author or admin; If-Match) -> 204

Anonymous reads of published posts are ``Cache-Control: public`` and served
from the server-side cache when hot; anything that depends on who asks is
``private``.
"""

from __future__ import annotations

from werkzeug.wrappers import Response

from blog_api.framework import Blueprint, Framework
from blog_api.pagination import AnyRow
from blog_api.principal import Principal
from blog_api.schemas import PostIn, PostListQuery, PostPatch
from blog_api.services import posts
from blog_api.services.email_confirmations import ensure_may_publish
from blog_api.web import PRIVATE, PUBLIC, Web


def build_posts_blueprint(fw: Framework) -> Blueprint:
    """The ``posts`` blueprint, built on the framework module ``fw``."""
    bp = fw.Blueprint("posts", __name__, url_prefix="/api/v1")
    web = Web(fw)

    @bp.route("/posts", methods=["GET"])
    def list_posts() -> Response:
        params = web.query(PostListQuery)
        viewer = web.current_user()
        page = posts.list_posts(
            web.connection,
            viewer,
            params,
            web.list_request(params, params.sort),
            web.config["SECRET_KEY"],
        )
        return web.page(page, cache=PUBLIC)

    @bp.route("/posts", methods=["POST"])
    def create_post() -> Response:
        author = web.require_user()
        data = web.json_body(PostIn)
        _check_publishing(author, data.status)
        post = posts.create_post(web.connection, author, data)
        web.commit()
        return web.created(post, "posts.get_post", post_id=post["id"])

    @bp.route("/posts/<id:post_id>", methods=["GET"])
    def get_post(post_id: int) -> Response:
        post = posts.read_post(web.connection, post_id, web.current_user())
        return web.respond(post, cache=PUBLIC if post["status"] == "published" else PRIVATE)

    @bp.route("/posts/<id:post_id>", methods=["PUT"])
    def replace_post(post_id: int) -> Response:
        row = _editable(post_id)
        data = web.json_body(PostIn)
        _check_publishing(web.require_user(), data.status)
        post = posts.replace_post(web.connection, row, data)
        web.commit()
        return web.respond(post)

    @bp.route("/posts/<id:post_id>", methods=["PATCH"])
    def patch_post(post_id: int) -> Response:
        row = _editable(post_id)
        data = web.json_body(PostPatch)
        _check_publishing(web.require_user(), data.status or row.status)
        post = posts.patch_post(web.connection, row, data)
        web.commit()
        return web.respond(post)

    @bp.route("/posts/<id:post_id>", methods=["DELETE"])
    def delete_post(post_id: int) -> Response:
        posts.delete_post(web.connection, _editable(post_id))
        web.commit()
        return web.no_content()

    def _check_publishing(user: Principal, status: str) -> None:
        """A post that is (or stays) published needs a confirmed address, if so configured.

        Editing a published post changes what readers see, so it counts as
        publishing; drafts are always allowed.
        """
        if status == "published":
            ensure_may_publish(user, web.config["REQUIRE_CONFIRMED_EMAIL"])

    def _editable(post_id: int) -> AnyRow:
        """The post's row, once the caller may change it and If-Match holds."""
        row = posts.read_for_change(web.connection, post_id, web.require_user())
        web.check_if_match(posts.render_rows([row])[0])
        return row

    return bp
