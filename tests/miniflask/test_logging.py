"""Tests for miniflask/logging.py: the app logger and where 500s are logged."""

from __future__ import annotations

import io
import logging
import sys
from types import ModuleType

import pytest

import miniflask
import miniflask.logging
from miniflask.logging import default_handler, has_level_handler, wsgi_errors_stream


def test_logger_is_named_after_the_app() -> None:
    app = miniflask.Flask("named_app")
    assert app.logger.name == "named_app"


def test_debug_mode_sets_debug_level() -> None:
    app = miniflask.Flask("debug_logger_app")
    app.debug = True
    assert app.logger.level == logging.DEBUG


def test_default_handler_is_added_only_without_a_configured_one() -> None:
    logging.getLogger("configured_app").addHandler(logging.NullHandler())
    assert default_handler not in miniflask.Flask("configured_app").logger.handlers
    # pytest's log capture sits on the root logger; cut this logger off from it.
    logging.getLogger("bare_logger_app").propagate = False
    assert default_handler in miniflask.Flask("bare_logger_app").logger.handlers


def test_unhandled_exception_is_logged_to_wsgi_errors_with_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = miniflask.Flask("logging_500_app")

    @app.get("/fail")
    def fail() -> str:
        raise ZeroDivisionError("nope")

    errors = io.StringIO()
    response = app.test_client().get("/fail", errors_stream=errors)
    assert response.status_code == 500
    logged = errors.getvalue() or caplog.text
    assert "Exception on /fail [GET]" in logged
    assert "ZeroDivisionError: nope" in logged


def test_wsgi_errors_stream_is_the_requests_errors_stream_or_stderr(
    app: miniflask.Flask,
) -> None:
    errors = io.StringIO()
    assert wsgi_errors_stream._get_current_object() is sys.stderr  # type: ignore[attr-defined]
    with app.test_request_context(errors_stream=errors):
        assert wsgi_errors_stream._get_current_object() is errors  # type: ignore[attr-defined]
        wsgi_errors_stream.write("written")
    assert errors.getvalue() == "written"


def test_the_default_handler_writes_level_module_and_message_to_wsgi_errors() -> None:
    app = miniflask.Flask("default_handler_app")
    logging.getLogger("default_handler_app").propagate = False

    @app.get("/")
    def index() -> str:
        app.logger.warning("careful")
        return ""

    errors = io.StringIO()
    app.test_client().get("/", errors_stream=errors)
    assert app.logger.handlers == [default_handler]
    assert "WARNING in test_logging: careful" in errors.getvalue()


def _standalone_logger(propagate: bool = True) -> tuple[logging.Logger, logging.Logger]:
    """A child and its parent, outside logging's tree (so pytest's handlers are not seen)."""
    parent = logging.Logger("parent", logging.INFO)
    child = logging.Logger("parent.child")
    child.parent = parent
    child.propagate = propagate
    return child, parent


def test_has_level_handler_looks_up_the_ancestors_as_far_as_records_propagate() -> None:
    child, parent = _standalone_logger()
    assert not has_level_handler(child)
    parent.addHandler(logging.NullHandler())
    assert has_level_handler(child)
    child.propagate = False
    assert not has_level_handler(child)


def test_has_level_handler_ignores_a_handler_whose_level_is_above_the_loggers() -> None:
    child, parent = _standalone_logger()
    handler = logging.NullHandler()
    handler.setLevel(logging.ERROR)
    parent.addHandler(handler)
    assert not has_level_handler(child)  # records at INFO would not pass it
    child.setLevel(logging.ERROR)
    assert has_level_handler(child)


def test_has_level_handler_answers_like_flasks(fw: ModuleType) -> None:
    ours, theirs = miniflask.logging.has_level_handler, fw.logging.has_level_handler
    child, parent = _standalone_logger()
    assert ours(child) is theirs(child) is False
    parent.addHandler(logging.NullHandler())
    assert ours(child) is theirs(child) is True
