"""blog_site: a small blog with pages, not JSON, that runs on Flask and on miniflask.

It shows the parts of Flask that a server-rendered site leans on: templates
(a layout extended by every page, some pages kept in a blueprint's own
folder), the session (who is logged in), flashed messages (what just
happened), nested blueprints and class-based views.

The framework is chosen in **one** place, :func:`create_app`; every other
module receives it as ``fw`` and uses only Flask's public names
(``fw.render_template``, ``fw.session``, ``fw.flash`` ...). So this is Flask
code: with ``fw = flask`` it is exactly what you would write for Flask.

Run it::

    miniflask --app examples.blog_site run --debug
    FRAMEWORK=flask flask --app examples.blog_site run --debug

Then open http://127.0.0.1:5000/, log in with any name, and write a post.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from .auth import build_auth_blueprint
from .posts import build_blog_blueprint
from .store import PostStore


def create_app(framework: str | None = None, **config: Any) -> Any:
    """Build the site on ``framework`` ("miniflask" or "flask").

    Args:
        framework: the framework module to import; defaults to the
            ``FRAMEWORK`` environment variable, else ``"miniflask"``.
        **config: settings that override the defaults (``SECRET_KEY`` ...).

    Returns:
        The app object of the chosen framework.
    """
    # The one place the framework is chosen. Replace this line with
    # ``import flask as fw`` (or ``import miniflask as fw``) to hard-wire it.
    fw = importlib.import_module(framework or os.environ.get("FRAMEWORK", "miniflask"))

    app = fw.Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ.get("SECRET_KEY", "dev-only-secret-change-me"),
        SITE_NAME="A tiny blog",
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.config.update(config)
    store = PostStore()
    app.extensions["blog_site.store"] = store

    @app.context_processor
    def current_user() -> dict[str, Any]:
        # Every template can show who is logged in.
        return {"current_user": fw.session.get("user")}

    @app.template_filter("excerpt")
    def excerpt(text: str, length: int = 40) -> str:
        return text if len(text) <= length else text[: length - 1].rstrip() + "…"

    @app.get("/")
    def index() -> Any:
        return fw.redirect(fw.url_for("blog.posts.post_list"))

    app.register_blueprint(build_auth_blueprint(fw))
    app.register_blueprint(build_blog_blueprint(fw, store))
    return app
