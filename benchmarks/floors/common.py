"""What every floor shares: its settings, its errors, the request it reads and the reply it gives.

These are plain data, kept apart from the code that uses them so that the
modules of the package (``responses``, ``tokens``, ``reads``, ``writes``) can
all import them without importing each other in a circle.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchmarks.floors.databases import Database

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
#: What a view returns: status, JSON data, headers after Content-Length, Cache-Control.
Reply = tuple[int, Any, list[tuple[str, str]], str]

POSTS = "/api/v1/posts"
ONE_POST = re.compile(r"/api/v1/posts/([1-9][0-9]{0,8})")
COMMENTS = re.compile(r"/api/v1/posts/([1-9][0-9]{0,8})/comments")

#: The ``type`` of the blog's error body for each status (``blog_api/errors.py``).
ERROR_TYPES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "request_entity_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
}


@dataclass(frozen=True)
class FloorSettings:
    """The blog settings the floors need (``blog_api/config.py``'s defaults).

    ``database`` is a SQLite file (a ``Path``) or a SQLAlchemy URL, the one the
    blog is given: ``sqlite:///<file>`` or ``postgresql+psycopg://...``.
    """

    database: Path | str
    secret_key: str
    issuer: str = "blog_api"
    trusted_hosts: frozenset[str] = frozenset({"localhost", "127.0.0.1"})
    per_page_default: int = 20
    per_page_max: int = 100
    public_max_age: int = 0
    max_content_length: int = 1024 * 1024


@dataclass(frozen=True)
class Floor:
    """The settings and the one database connection that every view of a floor set uses."""

    settings: FloorSettings
    database: Database


class FloorError(Exception):
    """An error answer: the blog's status and error shape, with a short message."""

    def __init__(
        self,
        status: int,
        message: str,
        headers: list[tuple[str, str]] | None = None,
        details: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or []
        self.details = details

    def to_dict(self, request_id: str) -> dict[str, Any]:
        """``{"error", "code", "type", ["details"], "request_id"}``, as ``blog_api/errors.py``."""
        body: dict[str, Any] = {"code": self.status, "error": self.message}
        body["type"] = ERROR_TYPES[self.status]
        if self.details is not None:
            body["details"] = self.details
        body["request_id"] = request_id
        return body


@dataclass(frozen=True)
class Viewer:
    """The user a valid Bearer token speaks for."""

    id: int
    username: str
    is_admin: bool


@dataclass(frozen=True)
class Request:
    """What every floor reads from the environ before its own work."""

    environ: dict[str, Any]
    request_id: str
    viewer: Viewer | None
    match: re.Match[str]


#: A view of a floor: the shared floor and the request in, a reply out.
View = Callable[[Floor, Request], Reply]
