"""Web layer: the API's description of itself.

Routes::

    GET /api/v1/openapi.json                  the OpenAPI 3.1 document (built once per
                                              app, with its limits)
    GET /.well-known/oauth-authorization-server   RFC 8414 metadata of the blog as an
                                              OAuth 2.0 authorisation server

RFC 8414 §3 fixes the metadata's path at the host's root, outside the
blueprint's ``/api/v1`` prefix, so that route is added to the app itself
when the blueprint is registered, under the blueprint's endpoint name
``meta.oauth_authorization_server`` (Flask reads the blueprint of a request
from its endpoint, so the API's hooks and error handlers treat it as one
of ``meta``'s).
"""

from __future__ import annotations

from typing import Any

from blog_api.framework import Blueprint, Framework, SetupState
from blog_api.oauth.server import server_metadata
from blog_api.openapi import build_spec
from blog_api.web import PRIVATE, PUBLIC, Web

#: ``app.extensions`` key of the app's OpenAPI document.
SPEC_KEY = "blog_openapi"
#: RFC 8414 §3: the metadata of an issuer without a path lives here.
METADATA_PATH = "/.well-known/oauth-authorization-server"


def build_meta_blueprint(fw: Framework) -> Blueprint:
    """The ``meta`` blueprint, built on the framework module ``fw``."""
    bp = fw.Blueprint("meta", __name__, url_prefix="/api/v1")
    web = Web(fw)

    def build_for_app(state: SetupState) -> None:
        # Built once, when the blueprint is registered: the app's config is
        # loaded by then, and limits such as PER_PAGE_MAX are documented as
        # this app enforces them.
        state.app.extensions[SPEC_KEY] = build_spec(state.app.config["PER_PAGE_MAX"])

    bp.record_once(build_for_app)

    @bp.route("/openapi.json", methods=["GET"])
    def openapi() -> Any:
        return web.respond(fw.current_app.extensions[SPEC_KEY], cache=PUBLIC)

    def oauth_authorization_server() -> Any:
        # PRIVATE, not PUBLIC: the URLs name the request's host, and the
        # server-side cache keys responses by path alone.
        return web.respond(server_metadata(web), cache=PRIVATE)

    def add_metadata_route(state: SetupState) -> None:
        state.app.add_url_rule(
            METADATA_PATH,
            "meta.oauth_authorization_server",
            oauth_authorization_server,
            methods=["GET"],
        )

    bp.record_once(add_metadata_route)
    return bp
