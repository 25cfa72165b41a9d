"""Tests for miniflask/logging.py: the app logger and where 500s are logged."""

from __future__ import annotations

import io
import logging

import pytest

import miniflask
from miniflask.logging import default_handler


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
