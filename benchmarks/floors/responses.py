"""The plumbing around every floor: host and route checks, errors, the JSON response.

``endpoint`` wraps a view (``reads``, ``writes``) into a WSGI callable that does
what the blog does around each of its views, in the blog's order: the request
id, the trusted host, the route and method, the Bearer token (``tokens``), then
the view, and the response with the blog's headers in the blog's order, made
conditional on ``If-None-Match`` for GETs.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.handlers import format_date_time

from benchmarks.floors.common import Floor, FloorError, Request, View, WSGIApp
from benchmarks.floors.tokens import authenticate

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_STATUS_LINES = {
    200: "200 OK",
    201: "201 CREATED",
    304: "304 NOT MODIFIED",
    400: "400 BAD REQUEST",
    401: "401 UNAUTHORIZED",
    403: "403 FORBIDDEN",
    404: "404 NOT FOUND",
    405: "405 METHOD NOT ALLOWED",
    409: "409 CONFLICT",
    412: "412 PRECONDITION FAILED",
    413: "413 REQUEST ENTITY TOO LARGE",
    415: "415 UNSUPPORTED MEDIA TYPE",
    422: "422 UNPROCESSABLE ENTITY",
}


def endpoint(floor: Floor, method: str, path: re.Pattern[str], view: View) -> WSGIApp:
    """Wrap ``view`` in what every endpoint does: host, route, token, errors, headers."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request_id = environ.get("HTTP_X_REQUEST_ID", "")
        if not _REQUEST_ID.fullmatch(request_id):
            request_id = uuid.uuid4().hex
        try:
            match = _route(floor, environ, method, path)
            viewer = authenticate(floor, environ)
            status, data, headers, cache = view(floor, Request(environ, request_id, viewer, match))
        except FloorError as e:
            body = e.to_dict(request_id)
            return _respond(environ, start_response, e.status, body, e.headers, "", request_id)
        return _respond(environ, start_response, status, data, headers, cache, request_id)

    return app


def _route(
    floor: Floor, environ: dict[str, Any], method: str, path: re.Pattern[str]
) -> re.Match[str]:
    """The trusted-host check (Flask's ``TRUSTED_HOSTS``), then path and method."""
    host = environ.get("HTTP_HOST") or environ["SERVER_NAME"]
    name, _, port = host.rpartition(":")
    if not (name and port.isdigit()):  # no port (an IPv6 address needs no support here)
        name = host
    if name.lower() not in floor.settings.trusted_hosts:
        raise FloorError(400, "The host name is not trusted.")
    match = path.fullmatch(environ["PATH_INFO"])
    if match is None:
        raise FloorError(404, "The requested URL was not found on the server.")
    if environ["REQUEST_METHOD"] != method:
        raise FloorError(405, "The method is not allowed for the requested URL.")
    return match


def _respond(
    environ: dict[str, Any],
    start_response: Callable[..., Any],
    status: int,
    data: Any,
    headers: list[tuple[str, str]],
    cache: str,
    request_id: str,
) -> list[bytes]:
    """The blog's JSON response: headers in its order; GETs conditional on ``If-None-Match``.

    ``cache`` empty means an error answer, which has neither ETag nor Cache-Control.
    """
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    body = text.encode() + b"\n"
    head = [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *headers]
    if cache:
        etag = hashlib.sha256(text.encode()).hexdigest()[:32]
        head += [("ETag", f'"{etag}"'), ("Cache-Control", cache)]
        if environ["REQUEST_METHOD"] == "GET":
            head += [("Vary", "Authorization"), ("Date", format_date_time(time.time()))]
            if_none_match = environ.get("HTTP_IF_NONE_MATCH")
            if if_none_match is not None and etag_matches(if_none_match, etag, weak=True):
                status, body, head = 304, b"", head[2:]  # RFC 9110 §15.4.5: no content headers
    head += [("X-Request-ID", request_id), ("X-Content-Type-Options", "nosniff")]
    start_response(_STATUS_LINES[status], head)
    return [body]


def etag(data: Any) -> str:
    """``blog_api/etags.py``: the first 32 hex digits of the SHA-256 of canonical JSON."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def etag_matches(header: str, etag: str, weak: bool) -> bool:
    """Whether ``If-Match`` (strong comparison) or ``If-None-Match`` (weak) names ``etag``."""
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*":
            return True
        if candidate.startswith("W/"):
            if not weak:
                continue
            candidate = candidate[2:]
        if candidate.strip('"') == etag:
            return True
    return False


def json_body(floor: Floor, environ: dict[str, Any]) -> Any:
    """The request's JSON object: 415, 413 and 400 as the blog answers them."""
    mimetype = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
    if mimetype != "application/json":
        raise FloorError(415, "The request body must be application/json")
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length > floor.settings.max_content_length:
        raise FloorError(413, "The data value transmitted exceeds the capacity limit.")
    try:
        data = json.loads(environ["wsgi.input"].read(length))
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise FloorError(400, "The request body must be a JSON object")
    return data
