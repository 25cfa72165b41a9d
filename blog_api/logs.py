"""Structured logging: one JSON object per line.

Framework-neutral. The web layer logs one ``request`` record per request on
the ``blog_api.request`` logger, with its fields in ``record.fields``; the
formatter below renders any record as a JSON line, adding the traceback when
there is one. Log shippers can then parse every line without regexes.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

REQUEST_LOGGER = "blog_api.request"


class JSONFormatter(logging.Formatter):
    """Render a record as ``{"ts", "level", "logger", "message", **fields}``."""

    def format(self, record: logging.LogRecord) -> str:
        """Format one record as a single JSON line (tracebacks included, escaped)."""
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class RequestFields(logging.Filter):
    """Give a record logged during a request the request's fields.

    ``fields`` returns them (request id, method, path), or ``None`` outside a
    request; fields the record already carries win. Attached to the app's
    logger, it turns the framework's own "Exception on <path>" record, which
    carries the 500's traceback, into a structured line a reader can match to
    the ``request`` line by its ``request_id``.
    """

    def __init__(self, fields: Callable[[], Mapping[str, Any] | None]) -> None:
        super().__init__()
        self.fields = fields

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the fields; never drop a record."""
        extra = self.fields()
        if extra is not None:
            record.fields = {**extra, **getattr(record, "fields", {})}
        return True


def configure_logging(level: str = "INFO") -> None:
    """Send ``blog_api`` records to stderr as JSON lines, once per process.

    Records still propagate to the root logger, so pytest's ``caplog`` and any
    handler an embedding application installs see them too.
    """
    logger = logging.getLogger("blog_api")
    logger.setLevel(level.upper())
    if any(getattr(handler, "_blog_api", False) for handler in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter())
    handler._blog_api = True  # type: ignore[attr-defined]  # marks our handler
    logger.addHandler(handler)
