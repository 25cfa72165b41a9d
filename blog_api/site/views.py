"""The reader site: server-rendered pages on the same app as the JSON API.

Routes (blueprint ``site``, mounted at ``/``)::

    GET  /                          published posts, newest first (?page=)
    GET  /posts/<id>                a post with its comments (?page=), comment form
    POST /posts/<id>/comments       add a comment (logged in) -> 303 to the post
    GET  /login   POST /login       log-in form; the session remembers the user
    POST /logout                    end the login (server-side too) -> 303 to /
    /forgot-password, /reset-password, /confirm-email   the mailed links' pages
                                    (``accounts.py``)
    GET  /static/site/<file>        the stylesheet

The views call the same services as the API (``blog_api.services``) with the
same per-request database session; log in checks the password through
``auth.check_password``, so the failed-login rate limit is shared with the
API's log-in endpoints.

What makes it a *browser* app, unlike the API, lives in the blueprint's hooks:

1. ``before_request`` -> ``load_user``: the user comes from the server-side
   login that the signed session cookie names (``services/site_sessions.py``),
   not from a Bearer token; logging out ends that login for every copy of
   the cookie.
2. ``before_request`` -> ``protect_form_posts``: every POST must come from our
   own origin and carry the session's CSRF token (``security.py``); otherwise
   it ends here with a 400 page, before the view writes anything.
3. ``after_request`` -> ``add_headers``: Content-Security-Policy and friends,
   ``no-store`` on pages that depend on a session.

Errors raised by the site's views and hooks are rendered as HTML pages by the
blueprint's own error handlers: Flask looks for a handler on the request's
blueprint before the app's, so the API's app-wide JSON handlers still answer
every ``/api/v1`` error. A URL that matches no route belongs to no blueprint;
for those outside ``/api/`` the app's handler calls the page this blueprint
offers in ``app.extensions`` (``errorhandlers.SITE_ERROR_PAGE``).
"""

from __future__ import annotations

from typing import Any

import pydantic
from werkzeug.exceptions import BadHost, HTTPException, SecurityError
from werkzeug.http import HTTP_STATUS_CODES

from blog_api import errors
from blog_api.auth import check_password
from blog_api.errorhandlers import SITE_ERROR_PAGE
from blog_api.framework import Blueprint, Framework, SetupState
from blog_api.pagination import ListRequest, Page, SortSpec
from blog_api.schemas import CommentIn, LoginIn, PostListQuery
from blog_api.services import comments, posts, site_sessions
from blog_api.services.email_confirmations import ensure_may_publish
from blog_api.site import security
from blog_api.site.accounts import register_account_views
from blog_api.site.consent import register_consent_views
from blog_api.site.oidc import register_oidc_views
from blog_api.site.signin import LOGIN_KEY, safe_next, start_session
from blog_api.web import Web

#: Posts per page on the front page; comments per page under a post.
POSTS_PER_PAGE = 10
COMMENTS_PER_PAGE = 50
#: Page numbers beyond this are refused by the query schemas too.
MAX_PAGE = 100_000


def build_site_blueprint(fw: Framework) -> Blueprint:
    """The ``site`` blueprint (HTML pages), built on the framework module ``fw``.

    Example::

        app.register_blueprint(build_site_blueprint(fw))   # in create_app
    """
    bp = fw.Blueprint(
        "site",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/static/site",
    )
    web = Web(fw)
    bp.record_once(_configure_session_cookie)
    _register_hooks(bp, fw, web)
    _register_error_handlers(bp, fw)
    register_account_views(bp, fw, web)
    register_consent_views(bp, fw, web)
    register_oidc_views(bp, fw, web)

    @bp.get("/")
    def index() -> Any:
        number = _page_number(fw)
        request = ListRequest(number, POSTS_PER_PAGE, SortSpec.parse("-created_at"))
        # viewer=None: the reader site lists published posts only, even to
        # their authors (drafts are edited through the API).
        filters = PostListQuery.model_validate({})
        page = posts.list_posts(web.connection, None, filters, request, web.config["SECRET_KEY"])
        return fw.render_template("site/index.html", page=page, last_page=_last_page(page))

    @bp.get("/posts/<id:post_id>")
    def post(post_id: int) -> Any:
        return _render_post(fw, web, post_id)

    @bp.post("/posts/<id:post_id>/comments")
    def add_comment(post_id: int) -> Any:
        author = fw.g.user
        if author is None:
            fw.flash("Log in to comment.", "error")
            target = fw.url_for("site.post", post_id=post_id)
            return fw.redirect(fw.url_for("site.login", next=target), 303)
        post = posts.get_post(web.db, post_id, author)
        ensure_may_publish(author, web.config["REQUIRE_CONFIRMED_EMAIL"])
        text = fw.request.form.get("body", "")
        try:
            data = CommentIn.model_validate({"body": text})
        except pydantic.ValidationError:
            fw.flash("A comment needs between 1 and 10,000 characters.", "error")
            return _render_post(fw, web, post_id, draft=text, status=400)
        post_url = web.site_url("site.post", post_id=post_id)
        comment = comments.create_comment(web.db, post, author, data, post_url)
        fw.flash("Your comment is posted.", "success")
        url = fw.url_for("site.post", post_id=post_id, _anchor=f"comment-{comment.id}")
        return fw.redirect(url, 303)

    @bp.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        next_url = safe_next(fw.request.values.get("next"))
        if fw.request.method == "GET":
            return fw.render_template("site/login.html", next=next_url)
        try:
            form = fw.request.form
            data = LoginIn.model_validate(
                {"username": form.get("username", ""), "password": form.get("password", "")}
            )
        except pydantic.ValidationError:
            fw.flash("Enter your username and password.", "error")
            return fw.render_template("site/login.html", next=next_url), 400
        # Raises TooManyRequests (a 429 page) when this client failed too often.
        user = check_password(web, data.username, data.password)
        if user is None:
            fw.flash("Invalid username or password.", "error")
            return fw.render_template("site/login.html", next=next_url), 400
        start_session(fw, web, user)
        fw.flash(f"Welcome, {user.username}!", "success")
        return fw.redirect(next_url or fw.url_for("site.index"), 303)

    @bp.post("/logout")
    def logout() -> Any:
        # End the login on the server first: clearing the cookie only
        # replaces the browser's copy, and an older copy must log in no one.
        site_sessions.end_login(web.db, fw.session.get(LOGIN_KEY))
        fw.session.clear()
        fw.flash("You are logged out.", "info")
        return fw.redirect(fw.url_for("site.index"), 303)

    return bp


def _configure_session_cookie(state: SetupState) -> None:
    """On registration: make the session cookie ``SameSite=Lax`` unless configured.

    Flask's default is no ``SameSite`` attribute. ``HttpOnly`` is already on
    by default; ``SESSION_COOKIE_SECURE`` is left to the deployment (it must
    be on behind HTTPS and off for plain-HTTP development).
    """
    config = state.app.config
    if config.get("SESSION_COOKIE_SAMESITE") is None:
        config["SESSION_COOKIE_SAMESITE"] = "Lax"


def _register_hooks(bp: Blueprint, fw: Framework, web: Web) -> None:
    """The site's request hooks and template context (see the module docstring)."""

    @bp.before_request
    def load_user() -> None:
        # The site trusts the session cookie only; a Bearer header sent to a
        # page does not log anyone in here.
        fw.g.user = None
        if fw.request.endpoint == "site.static":
            return  # the stylesheet is the same for everyone: no database query
        token = fw.session.get(LOGIN_KEY)
        if token is None:
            return
        fw.g.user = site_sessions.login_user(web.db, token)
        if fw.g.user is None:
            # Logged out (this cookie is an old copy), expired, or the account
            # was deleted since: forget it.
            fw.session.clear()

    @bp.before_request
    def protect_form_posts() -> None:
        request = fw.request
        if request.method != "POST":
            return
        problem = security.origin_problem(request.headers, request.host)
        if problem is None:
            problem = security.csrf_problem(fw.session, request.form.get(security.CSRF_FIELD))
        if problem is not None:
            fw.abort(400, description=problem)

    @bp.after_request
    def add_headers(response: Any) -> Any:
        personal = fw.request.endpoint != "site.static" and (
            getattr(fw.g, "user", None) is not None or bool(fw.session)
        )
        security.add_security_headers(response.headers, personal)
        return response

    @bp.context_processor
    def site_context() -> dict[str, Any]:
        return {
            "current_user": getattr(fw.g, "user", None),
            "csrf_token": lambda: security.csrf_token(fw.session),
            "csrf_field": security.CSRF_FIELD,
        }


def _register_error_handlers(bp: Blueprint, fw: Framework) -> None:
    """HTML error pages for the site's endpoints (the API keeps its JSON ones)."""

    def error_page(status: int, title: str, message: str, headers: dict[str, str]) -> Any:
        body = fw.render_template("site/error.html", title=title, message=message)
        return body, status, headers

    def handle_http_exception(e: HTTPException) -> Any:
        # Keep protocol headers such as Allow; the body is ours, so drop its type.
        headers = {k: v for k, v in e.get_headers() if k.lower() != "content-type"}
        return error_page(e.code or 500, e.name, e.description or "", headers)

    def handle_api_error(e: errors.APIError) -> Any:
        return error_page(e.status, _title(e.status), e.message, e.headers)

    def handle_server_error(e: Any) -> Any:
        return error_page(500, "Internal Server Error", "Something went wrong on our side.", {})

    bp.register_error_handler(HTTPException, handle_http_exception)
    bp.register_error_handler(errors.APIError, handle_api_error)
    # Flask tries handlers registered for the status code before class handlers
    # (at every level), so the app's JSON 500 handler would win without this.
    bp.register_error_handler(500, handle_server_error)

    def routing_error_page(e: HTTPException) -> Any:
        # No blueprint matched, so the hooks above did not run: no user, and
        # the security headers are added here.
        if isinstance(e, (SecurityError, BadHost)):
            # A Host outside TRUSTED_HOSTS (or not a host name at all): the
            # framework bound no URL adapter, so url_for in the usual layout
            # would fail; this page links nowhere.
            body = fw.render_template("site/bare_error.html", title=e.name, message=e.description)
            response = fw.make_response((body, e.code or 400))
        else:
            response = fw.make_response(handle_http_exception(e))
        security.add_security_headers(response.headers, personal=False)
        return response

    def offer_routing_error_page(state: SetupState) -> None:
        # The app's JSON handler asks for this page for unmatched non-API URLs.
        state.app.extensions[SITE_ERROR_PAGE] = routing_error_page

    bp.record_once(offer_routing_error_page)


def _title(status: int) -> str:
    """``404`` -> ``"Not Found"`` (Werkzeug's reason phrases)."""
    return HTTP_STATUS_CODES.get(status, "Error")


def _render_post(fw: Framework, web: Web, post_id: int, draft: str = "", status: int = 200) -> Any:
    """The post page: the post, a page of its comments, the comment form.

    The post and the comments are the API's JSON-ready dicts (``services``),
    so the page shows exactly what ``GET /api/v1/posts/<id>`` says.
    """
    viewer = fw.g.user
    post = posts.read_post(web.connection, post_id, viewer)
    request = ListRequest(_page_number(fw), COMMENTS_PER_PAGE, SortSpec.parse("created_at"))
    page = comments.list_comments(
        web.connection, post_id, viewer, request, web.config["SECRET_KEY"]
    )
    html = fw.render_template(
        "site/post.html", post=post, page=page, last_page=_last_page(page), draft=draft
    )
    return html, status


def _page_number(fw: Framework) -> int:
    """``?page=`` as a number from 1 to ``MAX_PAGE`` (anything else is page 1)."""
    number = fw.request.args.get("page", 1, type=int)
    return min(max(number, 1), MAX_PAGE)


def _last_page(page: Page) -> int:
    """The number of the last page of a page-number ``Page`` (at least 1)."""
    return max(1, -(-(page.total or 0) // page.per_page))
