"""Web layer: the API's description of itself.

Routes (under ``/api/v1``)::

    GET /openapi.json     the OpenAPI 3.1 document (built once per app)
"""

from __future__ import annotations

from typing import Any

from blog_api.openapi import build_spec
from blog_api.web import PUBLIC, Web


def build_meta_blueprint(fw: Any) -> Any:
    """The ``meta`` blueprint, built on the framework module ``fw``."""
    bp = fw.Blueprint("meta", __name__, url_prefix="/api/v1")
    web = Web(fw)
    spec = build_spec()

    @bp.route("/openapi.json", methods=["GET"])
    def openapi() -> Any:
        return web.respond(spec, cache=PUBLIC)

    return bp
