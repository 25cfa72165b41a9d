"""The app's logger.

Flask counterpart: ``flask/logging.py``.

``app.logger`` is the standard library logger named after the app. Flask
adds one handler — to the WSGI server's error stream, so messages land where
the server's own do — but only when the program configured no handler of
its own for that level; a program that calls ``logging.basicConfig`` or
``dictConfig`` keeps full control.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any, TextIO

from .globals import _cv_request

if TYPE_CHECKING:
    from .app import Flask


class _WSGIErrorsStream:
    """A file-like object that writes to the current request's ``wsgi.errors``."""

    def _stream(self) -> TextIO:
        ctx = _cv_request.get(None)
        if ctx is not None:
            return ctx.request.environ["wsgi.errors"]
        return sys.stderr

    def write(self, text: str) -> Any:
        return self._stream().write(text)

    def flush(self) -> None:
        self._stream().flush()


#: The handler added to ``app.logger`` when the program set up none itself.
default_handler = logging.StreamHandler(_WSGIErrorsStream())
default_handler.setFormatter(
    logging.Formatter("[%(asctime)s] %(levelname)s in %(module)s: %(message)s")
)


def has_level_handler(logger: logging.Logger) -> bool:
    """``True`` if a handler on the logger or its ancestors takes its effective level."""
    level = logger.getEffectiveLevel()
    current: logging.Logger | None = logger
    while current is not None:
        if any(handler.level <= level for handler in current.handlers):
            return True
        if not current.propagate:
            break
        current = current.parent
    return False


def create_logger(app: Flask) -> logging.Logger:
    """The logger for ``app``: named after it, DEBUG level in debug mode."""
    logger = logging.getLogger(app.name)
    if app.debug and not logger.level:
        logger.setLevel(logging.DEBUG)
    if not has_level_handler(logger):
        logger.addHandler(default_handler)
    return logger
