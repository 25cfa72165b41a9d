"""Web layer: a page to read and try the API, Swagger UI served by the app itself.

Routes (blueprint ``api_page``)::

    GET /api/docs                               the page (Swagger UI on /api/v1/openapi.json)
    GET /api/docs/swagger-initializer.js        its start-up script
    GET /api/docs/assets/<version>/<name>       Swagger UI's files, from the installed
                                                ``swagger-ui-py`` package

Why ``/api/docs`` and not ``/api/v1/docs``: the page is for people, not part
of the versioned API. Outside ``/api/v1`` it is not an operation of the
OpenAPI document (``openapi.spec_path`` ignores it) and needs no entry in
``scopes.ENDPOINT_SCOPES``; and one page serves whichever version the
document describes. Being under ``/api/``, a URL that matches nothing here
still gets the API's JSON 404.

Nothing comes from another host, so the page works offline and leaks no
visit to a CDN: the JavaScript and CSS are files of the ``swagger-ui-py``
package (Swagger UI 5, which reads OpenAPI 3.1), sent with
``send_from_directory``. Their URL holds the package's version, so a
browser may keep them for a year (``immutable``): an upgrade changes the URL.

"Try it out" calls the same server. The "Authorize" button takes a token
for ``bearerAuth``: the ``access_token`` that ``POST /api/v1/auth/login``
returns. The ``oauth2`` scheme is listed too, but its flow needs a
registered client whose redirect URI is Swagger UI's ``oauth2-redirect.html``,
a page whose inline script the Content-Security-Policy would refuse, so it
is not served; a third-party app's flow is shown in ``docs/oauth.md``.
"""

from __future__ import annotations

import importlib.util
from importlib import metadata
from pathlib import Path

from werkzeug.wrappers import Response as WerkzeugResponse

from blog_api.framework import Blueprint, Framework
from blog_api.site import security

#: The files the page uses; any other name under ``assets/`` is a 404, so the
#: package's other files (Swagger Editor, source maps) are not published.
ASSETS = frozenset(
    {
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "index.css",
        "favicon-32x32.png",
        "favicon-16x16.png",
    }
)
#: A year, with ``immutable`` (RFC 8246): the URL changes whenever the files do.
ASSET_MAX_AGE = 365 * 24 * 3600

#: The site's policy (``security.py``: scripts and styles from this server only,
#: no inline script) plus the one thing Swagger UI needs: its CSS draws icons as
#: ``data:`` SVG images. "Try it out" calls this server, which ``'self'`` allows.
CONTENT_SECURITY_POLICY = security.CONTENT_SECURITY_POLICY + "; img-src 'self' data:"

#: Starts Swagger UI on the element ``#swagger-ui``, whose ``data-openapi-url``
#: the page fills with ``url_for``. ``validatorUrl: null``: by default Swagger UI
#: asks an online validator about the document, a request to another host.
INITIALIZER = """\
window.addEventListener("load", function () {
  var element = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: element.dataset.openapiUrl,
    domNode: element,
    deepLinking: true,
    displayRequestDuration: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
"""


def swagger_ui_folder() -> Path:
    """The installed ``swagger_ui`` package's ``static`` folder (found without importing it)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("The API page needs swagger-ui-py: pip install -e .")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def build_api_page_blueprint(fw: Framework) -> Blueprint:
    """The ``api_page`` blueprint, built on the framework module ``fw``.

    Example::

        app.register_blueprint(build_api_page_blueprint(fw))   # in create_app
        client.get("/api/docs")                                # the page
    """
    bp = fw.Blueprint(
        "api_page", __name__, url_prefix="/api/docs", template_folder="site/templates"
    )
    folder = swagger_ui_folder()
    assets_version = metadata.version("swagger-ui-py")

    def asset_url(name: str) -> str:
        return str(fw.url_for("api_page.asset", version=assets_version, name=name))

    @bp.get("")
    def page() -> WerkzeugResponse:
        html = fw.render_template(
            "api/docs.html", asset=asset_url, openapi_url=fw.url_for("meta.openapi")
        )
        return _revalidated(fw, fw.make_response(html))

    @bp.get("/swagger-initializer.js")
    def initializer() -> WerkzeugResponse:
        response = fw.make_response(INITIALIZER)
        response.mimetype = "text/javascript"
        return _revalidated(fw, response)

    @bp.get("/assets/<version>/<name>")
    def asset(version: str, name: str) -> WerkzeugResponse:
        if version != assets_version or name not in ASSETS:
            fw.abort(404)
        response = fw.send_from_directory(folder, name, max_age=ASSET_MAX_AGE)
        response.cache_control.public = True
        response.cache_control.immutable = True
        return response

    bp.after_request(_add_security_headers)
    return bp


def _revalidated(fw: Framework, response: WerkzeugResponse) -> WerkzeugResponse:
    """``response``, to be checked with the server on each use (a 304 when unchanged).

    The page and its script have unversioned URLs, and the page names the
    assets' version: a cached copy must not outlive an upgrade. With the ETag,
    checking costs a 304 without a body.
    """
    response.headers["Cache-Control"] = "no-cache"
    response.add_etag()
    return response.make_conditional(fw.request.environ)


def _add_security_headers(response: WerkzeugResponse) -> WerkzeugResponse:
    """The site's headers (``security.py``), with the policy Swagger UI needs.

    ``personal=False``: nothing here depends on who asks, so caches may keep it.
    """
    security.add_security_headers(response.headers, personal=False)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response
