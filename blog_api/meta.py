"""Web layer: the API's description of itself.

Routes (under ``/api/v1``)::

    GET /openapi.json     the OpenAPI 3.1 document (built once per app, with its limits)
"""

from __future__ import annotations

from typing import Any

from blog_api.openapi import build_spec
from blog_api.web import PUBLIC, Web

#: ``app.extensions`` key of the app's OpenAPI document.
SPEC_KEY = "blog_openapi"


def build_meta_blueprint(fw: Any) -> Any:
    """The ``meta`` blueprint, built on the framework module ``fw``."""
    bp = fw.Blueprint("meta", __name__, url_prefix="/api/v1")
    web = Web(fw)

    def build_for_app(state: Any) -> None:
        # Built once, when the blueprint is registered: the app's config is
        # loaded by then, and limits such as PER_PAGE_MAX are documented as
        # this app enforces them.
        state.app.extensions[SPEC_KEY] = build_spec(state.app.config["PER_PAGE_MAX"])

    bp.record_once(build_for_app)

    @bp.route("/openapi.json", methods=["GET"])
    def openapi() -> Any:
        return web.respond(fw.current_app.extensions[SPEC_KEY], cache=PUBLIC)

    return bp
