"""Web layer: the tag list.

Routes (under ``/api/v1``)::

    GET /tags     tags on published posts with their post counts (page/per_page)
"""

from __future__ import annotations

from pydantic import Field
from pydantic.json_schema import SkipJsonSchema
from werkzeug.wrappers import Response

from blog_api.framework import Blueprint, Framework
from blog_api.schemas import QueryModel
from blog_api.services import tags
from blog_api.web import PUBLIC, Web


class TagListQuery(QueryModel):
    """GET /tags takes page numbers only (any ``cursor`` value is a 400).

    ``SkipJsonSchema`` leaves the parameter out of the OpenAPI document, which
    lists ``page`` and ``per_page`` for this operation.
    """

    cursor: SkipJsonSchema[None] = Field(None, exclude=True)


def build_tags_blueprint(fw: Framework) -> Blueprint:
    """The ``tags`` blueprint, built on the framework module ``fw``."""
    bp = fw.Blueprint("tags", __name__, url_prefix="/api/v1")
    web = Web(fw)

    @bp.route("/tags", methods=["GET"])
    def list_tags() -> Response:
        params = web.query(TagListQuery)
        request = web.list_request(params, "name")
        page = tags.list_tags(web.db, request.page, request.per_page)
        return web.page(page, cache=PUBLIC)

    return bp
