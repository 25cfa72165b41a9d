"""The app's logger.

Flask counterpart: ``flask/logging.py``.

``app.logger`` is the standard library logger named after the app. Flask
adds one handler — to the WSGI server's error stream, so messages land where
the server's own do — but only when the program configured no handler of
its own for that level; a program that calls ``logging.basicConfig`` or
``dictConfig`` keeps full control.

Where a request meets it: ``Flask.log_exception`` logs an unhandled error
(step 19 of the lifecycle) on ``app.logger``, and views may log there too.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, TextIO, cast

from werkzeug.local import LocalProxy

from .globals import _cv_request

if TYPE_CHECKING:
    from .app import Flask


def _wsgi_errors_stream() -> TextIO:
    """The current request's ``wsgi.errors``, or ``sys.stderr`` outside a request."""
    ctx = _cv_request.get(None)
    if ctx is not None:
        return cast(TextIO, ctx.request.environ["wsgi.errors"])
    return sys.stderr


#: A stream that writes where the server writes its errors: the current
#: request's ``environ["wsgi.errors"]`` (gunicorn sends it to its error log),
#: or ``sys.stderr`` outside a request. It is a proxy, looked up on each
#: write, because the handler below is created once for all requests.
wsgi_errors_stream: TextIO = cast(TextIO, LocalProxy(_wsgi_errors_stream))

#: The handler added to ``app.logger`` when the program set up none itself.
default_handler = logging.StreamHandler(wsgi_errors_stream)
default_handler.setFormatter(
    logging.Formatter("[%(asctime)s] %(levelname)s in %(module)s: %(message)s")
)


def has_level_handler(logger: logging.Logger) -> bool:
    """Whether a record at the logger's effective level would reach some handler.

    Looks at the logger's own handlers and then its ancestors', as far as
    records propagate; a handler counts only if its level lets such a record
    through. ``logging.basicConfig()`` puts a handler on the root logger, so
    after it this is ``True`` for every logger.
    """
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
    """The logger for ``app``: named after it, DEBUG level in debug mode.

    ``app.logger`` calls this once, on first use. In debug mode a logger
    whose level was not set gets ``DEBUG``, so ``app.logger.debug`` shows up
    while developing. :data:`default_handler` is added only when no handler
    would otherwise receive the app's records (see :func:`has_level_handler`).

    Example::

        app.logger.info("user %s logged in", user.id)
    """
    logger = logging.getLogger(app.name)
    if app.debug and not logger.level:
        logger.setLevel(logging.DEBUG)
    if not has_level_handler(logger):
        logger.addHandler(default_handler)
    return logger
