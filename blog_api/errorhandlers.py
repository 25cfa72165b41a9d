"""One error shape for every layer: the error handlers ``create_app`` registers.

Three kinds of exception reach the framework, and all leave as
``{"error", "code", "type", ["details"], "request_id"}``:

* ``APIError`` from our services and views: status, message and headers as raised.
* Werkzeug's ``HTTPException``: routing 404/405, the framework's 413, ``abort``.
  Its headers (``Allow`` on a 405) are kept. Outside ``/api/``, a URL that matched
  no route gets the reader site's HTML page instead (``SITE_ERROR_PAGE``). A
  request body that stopped arriving (the server's read timed out) is a 408.
* anything else: the framework turns it into a 500 (``InternalServerError``
  carrying the ``original_exception``). Both frameworks log it themselves,
  with the traceback, on ``app.logger`` ("Exception on <path> [<method>]");
  the blog connects nothing to ``got_request_exception``, and the logging
  filter ``register_hooks`` puts on ``app.logger`` (``logs.RequestFields``)
  adds the request's id, method and path to that record. The body says
  nothing internal.

Database exceptions get their own handlers: an ``IntegrityError`` that got
past the services' checks (a race) is a 409, and SQLAlchemy's optimistic-lock
``StaleDataError`` (a concurrent edit) too, or a 412 when the request was
conditional (``If-Match``). The session is closed at teardown
either way, so nothing half-written is committed.

Redis unreachable (``BLOG_REDIS_URL`` set: the login counters and the cache
live there) is a 503 with ``Retry-After``: the request was refused before it
changed anything, and the client may send it again. A write that already
committed never gets it (``hooks.finish_response`` logs a failed cache
invalidation instead of failing the request).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import redis
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import ClientDisconnected, HTTPException, RequestTimeout

from blog_api import errors
from blog_api.framework import App, Framework

#: ``app.extensions`` key of the reader site's HTML error page for non-API URLs.
SITE_ERROR_PAGE = "blog_site_error_page"
#: Paths whose errors are JSON even when no route matched: the API, and the
#: documents programs read from /.well-known/ (the OAuth server's metadata).
MACHINE_PATHS = ("/api/", "/.well-known/")


log = logging.getLogger("blog_api.errors")


def register_error_handlers(app: App, fw: Framework) -> None:
    """Register the handlers on ``app`` (app-wide, so routing errors are covered)."""

    def error_response(body: dict[str, Any], status: int, headers: dict[str, str]) -> Any:
        body["request_id"] = getattr(fw.g, "request_id", None)
        response = fw.jsonify(body)
        response.status_code = status
        for name, value in headers.items():
            response.headers[name] = value
        return response

    def handle_api_error(e: errors.APIError) -> Any:
        return error_response(e.to_dict(), e.status, e.headers)

    def handle_http_exception(e: HTTPException) -> Any:
        # A URL that matched no route belongs to no blueprint, so only this
        # app-wide handler sees it; outside /api/ (and the machine-read
        # /.well-known/ documents, RFC 8615) a person is reading, and the
        # reader site (blog_api/site) registered an HTML page for that.
        html_page = app.extensions.get(SITE_ERROR_PAGE)
        if html_page is not None and not fw.request.path.startswith(MACHINE_PATHS):
            return html_page(e)
        status = e.code or 500
        body: dict[str, Any] = {
            "error": _first_sentence(e.description),
            "code": status,
            "type": _snake(e.name),
        }
        if status in (400, 422):
            body["details"] = [{"field": "body", "message": body["error"], "type": body["type"]}]
        # Keep protocol headers such as Allow (RFC 9110 §15.5.6); drop Werkzeug's HTML type.
        headers = {k: v for k, v in e.get_headers() if k.lower() != "content-type"}
        return error_response(body, status, headers)

    def handle_client_disconnected(e: ClientDisconnected) -> Any:
        # Werkzeug raises ClientDisconnected (a 400) from inside its handler
        # for the failed read, so a read that timed out is its __context__: the
        # server's per-read limit (READ_TIMEOUT in gunicorn.conf.py) ran out
        # while the client, still connected, sent nothing. That is a 408
        # (RFC 9110 §15.5.9), not a malformed request.
        if isinstance(e.__context__, TimeoutError):
            return handle_http_exception(
                RequestTimeout("The request body stopped arriving; send it again.")
            )
        return handle_http_exception(e)

    def handle_server_error(e: Any) -> Any:
        body = {"error": "Internal server error", "code": 500, "type": "internal_error"}
        return error_response(body, 500, {})

    def rollback() -> None:
        # A flush that failed leaves the session unusable until rolled back:
        # the next attribute load (on the reader site, the request log reads
        # ``g.user.id`` of a ``User`` entity) would raise PendingRollbackError
        # and turn this 409/412 into a 500. On PostgreSQL a failed statement
        # on a Core connection likewise refuses every later one until then.
        fw.current_app.extensions["blog_db"].rollback()

    def handle_redis_unreachable(e: redis.RedisError) -> Any:
        rollback()
        log.error("Redis unreachable, request refused with 503: %s", e)
        body = {
            "error": "A service the API depends on is unavailable; try again shortly",
            "code": 503,
            "type": "service_unavailable",
        }
        return error_response(body, 503, {"Retry-After": "5"})

    def handle_integrity_error(e: IntegrityError) -> Any:
        rollback()
        return handle_api_error(errors.Conflict("The change conflicts with existing data"))

    def handle_stale_data(e: StaleDataError) -> Any:
        rollback()
        # The If-Match check and the UPDATE are two statements. An editor whose
        # If-Match held at the check but who lost the race at the UPDATE (the
        # version counter matched no row) had a precondition that was false when
        # the write happened: RFC 9110 §13.1.1 answers that with 412, the same
        # status the slower of two sequential editors gets.
        if "If-Match" in fw.request.headers:
            return handle_api_error(
                errors.PreconditionFailed(
                    "The resource changed since you read it; fetch it again (If-Match)"
                )
            )
        return handle_api_error(
            errors.Conflict("Someone else changed this at the same time; fetch it and retry")
        )

    app.register_error_handler(errors.APIError, handle_api_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ClientDisconnected, handle_client_disconnected)
    app.register_error_handler(500, handle_server_error)
    app.register_error_handler(IntegrityError, handle_integrity_error)
    app.register_error_handler(StaleDataError, handle_stale_data)
    app.register_error_handler(redis.RedisError, handle_redis_unreachable)


def _first_sentence(text: str | None) -> str:
    """Werkzeug's descriptions are long paragraphs; an API message needs one line."""
    text = (text or "").strip()
    match = re.match(r"(.+?\.)(\s|$)", text)
    return match.group(1) if match else text


def _snake(name: str) -> str:
    """``"Method Not Allowed"`` -> ``"method_not_allowed"``."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
