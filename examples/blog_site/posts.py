"""The posts: a ``blog`` blueprint with a nested ``posts`` blueprint of class-based views.

``blog`` (prefix ``/blog``) holds the pages; ``posts`` (prefix ``/posts``)
is registered *on* it, so its endpoints are ``blog.posts.<name>`` and its
URLs start with ``/blog/posts``. Its templates are in the app's
``templates/posts/`` folder.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from .store import PostStore


def build_blog_blueprint(fw: ModuleType, store: PostStore) -> Any:
    """The ``blog`` blueprint and, nested in it, ``posts``."""
    blog = fw.Blueprint("blog", __name__, url_prefix="/blog")

    @blog.context_processor
    def section() -> dict[str, Any]:
        return {"section": "blog"}

    blog.register_blueprint(_build_posts_blueprint(fw, store))
    return blog


def _build_posts_blueprint(fw: ModuleType, store: PostStore) -> Any:
    views = importlib.import_module(f"{fw.__name__}.views")
    posts = fw.Blueprint("posts", __name__, url_prefix="/posts")

    class PostList(views.MethodView):  # type: ignore[name-defined]  # fw is chosen at run time
        """GET lists the posts; POST (logged in) adds one."""

        def get(self) -> Any:
            return fw.render_template("posts/list.html", posts=store.newest_first())

        def post(self) -> Any:
            if "user" not in fw.session:
                fw.flash("Log in to write a post.", "error")
                return fw.redirect(fw.url_for("auth.login", next=fw.request.path))
            title = fw.request.form.get("title", "").strip()
            body = fw.request.form.get("body", "").strip()
            if not title or not body:
                fw.flash("A post needs a title and a body.", "error")
                return fw.render_template("posts/list.html", posts=store.newest_first()), 400
            post = store.add(fw.session["user"], title, body)
            fw.flash(f"Published “{post.title}”.", "success")
            return fw.redirect(fw.url_for(".post_detail", post_id=post.id))

    class PostDetail(views.View):  # type: ignore[name-defined]  # fw is chosen at run time
        """One post; 404 for an unknown id."""

        init_every_request = False

        def dispatch_request(self, post_id: int) -> Any:
            post = store.get(post_id)
            if post is None:
                fw.abort(404)
            return fw.render_template("posts/detail.html", post=post)

    posts.add_url_rule("/", view_func=PostList.as_view("post_list"))
    posts.add_url_rule("/<int:post_id>", view_func=PostDetail.as_view("post_detail"))
    return posts
