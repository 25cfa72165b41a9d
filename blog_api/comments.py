"""Web layer: comments on posts.

Routes (under ``/api/v1``)::

    GET    /posts/<id>/comments   list, oldest first (page/per_page or cursor)
    POST   /posts/<id>/comments   add (auth) -> 201 + Location
    GET    /comments/<id>         one comment
    DELETE /comments/<id>         delete (its author or an admin; If-Match) -> 204
"""

from __future__ import annotations

from werkzeug.wrappers import Response

from blog_api.framework import Blueprint, Framework
from blog_api.schemas import CommentIn, QueryModel
from blog_api.services import comments, posts
from blog_api.services.email_confirmations import ensure_may_publish
from blog_api.web import PUBLIC, Web


def build_comments_blueprint(fw: Framework) -> Blueprint:
    """The ``comments`` blueprint, built on the framework module ``fw``."""
    bp = fw.Blueprint("comments", __name__, url_prefix="/api/v1")
    web = Web(fw)

    @bp.route("/posts/<id:post_id>/comments", methods=["GET"])
    def list_comments(post_id: int) -> Response:
        params = web.query(QueryModel)
        page = comments.list_comments(
            web.connection,
            post_id,
            web.current_user(),
            web.list_request(params, "created_at"),
            web.config["SECRET_KEY"],
        )
        return web.page(page, cache=PUBLIC)

    @bp.route("/posts/<id:post_id>/comments", methods=["POST"])
    def create_comment(post_id: int) -> Response:
        # The entity: the new comment refers to its author through the relationship.
        author = web.require_account()
        post = posts.get_post(web.db, post_id, author)
        data = web.json_body(CommentIn)
        ensure_may_publish(author, web.config["REQUIRE_CONFIRMED_EMAIL"])
        post_url = web.site_url("site.post", post_id=post.id)
        comment = comments.create_comment(web.db, post, author, data, post_url)
        return web.created(comments.render(comment), "comments.get_comment", comment_id=comment.id)

    @bp.route("/comments/<id:comment_id>", methods=["GET"])
    def get_comment(comment_id: int) -> Response:
        comment = comments.get_comment(web.db, comment_id, web.current_user())
        return web.respond(comments.render(comment), cache=PUBLIC)

    @bp.route("/comments/<id:comment_id>", methods=["DELETE"])
    def delete_comment(comment_id: int) -> Response:
        actor = web.require_user()
        comment = comments.get_comment(web.db, comment_id, actor)
        posts.ensure_author_or_admin(comment.author_id, actor)
        web.check_if_match(comments.render(comment))
        comments.delete_comment(web.db, comment, actor)
        return web.no_content()

    return bp
