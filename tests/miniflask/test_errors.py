"""Tests for errors: ``abort``, error handlers, and the three tiers of handling.

Handlers are registered by ``errorhandler`` (``miniflask/registry.py``) and
found by ``app.py``: by status code first, then along the exception's class
hierarchy, the blueprint's before the app's. The ``app`` fixture is in
testing mode, so an unhandled exception propagates into the test; tests of
the 500 path turn ``TESTING`` off.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from werkzeug.exceptions import BadRequest, Forbidden, HTTPException, InternalServerError, NotFound

from miniflask import Blueprint, Flask, Response, abort, got_request_exception, request


def test_abort_with_a_code_gives_that_status(app: Flask, client: Any) -> None:
    app.add_url_rule("/", "index", lambda: abort(403))

    response = client.get("/")

    assert response.status_code == 403
    assert b"Forbidden" in response.data


def test_abort_with_a_response_sends_that_response(app: Flask, client: Any) -> None:
    app.add_url_rule("/", "index", lambda: abort(Response("go away", 409)))

    response = client.get("/")

    assert (response.status_code, response.data) == (409, b"go away")


def test_errorhandler_for_a_code_shapes_the_response(app: Flask, client: Any) -> None:
    @app.errorhandler(404)
    def not_found(e: NotFound) -> Any:
        return {"error": e.name}, 404

    response = client.get("/nowhere")

    assert (response.status_code, response.json) == (404, {"error": "Not Found"})


class AppError(Exception):
    pass


class SpecificAppError(AppError):
    pass


def test_errorhandler_for_an_exception_class(app: Flask, client: Any) -> None:
    app.add_url_rule("/", "index", lambda: (_ for _ in ()).throw(AppError("bad")))
    app.register_error_handler(AppError, lambda e: (f"handled {e}", 418))

    response = client.get("/")

    assert (response.status_code, response.data) == (418, b"handled bad")


def test_most_specific_class_in_the_mro_wins(app: Flask, client: Any) -> None:
    @app.get("/")
    def index() -> str:
        raise SpecificAppError()

    app.register_error_handler(Exception, lambda e: "Exception")
    app.register_error_handler(SpecificAppError, lambda e: "SpecificAppError")
    app.register_error_handler(AppError, lambda e: "AppError")

    assert client.get("/").data == b"SpecificAppError"


def test_code_handler_wins_over_class_handler(app: Flask, client: Any) -> None:
    app.register_error_handler(HTTPException, lambda e: ("HTTPException handler", e.code))
    app.register_error_handler(404, lambda e: ("404 handler", 404))
    app.add_url_rule("/", "index", lambda: abort(403))

    assert client.get("/nowhere").data == b"404 handler"
    assert client.get("/").data == b"HTTPException handler"


def test_http_exception_handler_does_not_handle_redirects(app: Flask, client: Any) -> None:
    app.add_url_rule("/docs/", "docs", lambda: "docs")
    app.register_error_handler(HTTPException, lambda e: ("handled", 500))

    assert client.get("/docs").status_code == 308


def test_blueprint_handler_wins_over_app_handler_for_its_requests(app: Flask, client: Any) -> None:
    bp = Blueprint("api", __name__, url_prefix="/api")
    bp.add_url_rule("/fail", "fail", lambda: abort(403))
    bp.register_error_handler(403, lambda e: "blueprint handler")
    app.add_url_rule("/fail", "fail", lambda: abort(403))
    app.register_error_handler(Forbidden, lambda e: "app handler")
    app.register_blueprint(bp)

    assert client.get("/api/fail").data == b"blueprint handler"
    assert client.get("/fail").data == b"app handler"


def test_unhandled_http_exception_is_its_own_response(app: Flask, client: Any) -> None:
    app.add_url_rule("/", "index", lambda: abort(400, description="Name is required."))

    response = client.get("/")

    assert response.status_code == 400
    assert b"Name is required." in response.data


def test_unhandled_exception_gives_500_with_original_exception(
    app: Flask, client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app.testing = False
    error = RuntimeError("boom")

    @app.get("/")
    def fail() -> str:
        raise error

    @app.errorhandler(500)
    def server_error(e: InternalServerError) -> Any:
        assert e.original_exception is error
        return f"500 handler saw {e.original_exception!r}", 500

    with caplog.at_level(logging.ERROR, logger=app.name):
        response = client.get("/")

    assert (response.status_code, response.data) == (500, b"500 handler saw RuntimeError('boom')")
    assert caplog.records[0].getMessage() == "Exception on / [GET]"
    assert caplog.records[0].exc_info is not None
    assert caplog.records[0].exc_info[1] is error


def test_unhandled_exception_without_handler_gives_generic_500(
    app: Flask, client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    app.testing = False
    app.add_url_rule("/", "index", lambda: 1 / 0)

    with caplog.at_level(logging.CRITICAL):
        response = client.get("/")

    assert response.status_code == 500
    assert b"Internal Server Error" in response.data
    assert b"ZeroDivisionError" not in response.data


def test_testing_mode_lets_the_exception_out_of_the_client(app: Flask, client: Any) -> None:
    app.add_url_rule("/", "index", lambda: 1 / 0)

    with pytest.raises(ZeroDivisionError):
        client.get("/")


@pytest.mark.parametrize(
    ("testing", "propagate", "raises"),
    [(True, False, False), (False, True, True), (False, None, False), (True, None, True)],
)
def test_propagate_exceptions_config_overrides_testing(
    app: Flask,
    client: Any,
    caplog: pytest.LogCaptureFixture,
    testing: bool,
    propagate: bool | None,
    raises: bool,
) -> None:
    app.testing = testing
    app.config["PROPAGATE_EXCEPTIONS"] = propagate
    app.add_url_rule("/", "index", lambda: 1 / 0)

    with caplog.at_level(logging.CRITICAL):
        if raises:
            with pytest.raises(ZeroDivisionError):
                client.get("/")
        else:
            assert client.get("/").status_code == 500


def test_got_request_exception_is_sent_for_unhandled_errors_only(app: Flask, client: Any) -> None:
    sent: list[Any] = []
    app.add_url_rule("/fail", "fail", lambda: 1 / 0)
    app.add_url_rule("/handled", "handled", lambda: abort(404))

    def receiver(sender: Flask, exception: Exception) -> None:
        sent.append((sender, type(exception)))

    with got_request_exception.connected_to(receiver, app):
        client.get("/handled")
        with pytest.raises(ZeroDivisionError):
            client.get("/fail")

    assert sent == [(app, ZeroDivisionError)]


def test_trap_http_exceptions_propagates_http_errors(app: Flask, client: Any) -> None:
    app.config["TRAP_HTTP_EXCEPTIONS"] = True

    with pytest.raises(NotFound):
        client.get("/nowhere")


def test_missing_form_key_is_a_400_and_trapped_in_debug_mode(app: Flask, client: Any) -> None:
    app.add_url_rule("/", "index", lambda: request.form["name"], methods=["POST"])

    assert client.post("/").status_code == 400
    app.debug = True
    with pytest.raises(BadRequest):
        client.post("/")


def test_errorhandler_with_an_instance_raises_type_error(app: Flask) -> None:
    with pytest.raises(TypeError, match="is an instance, not a class"):
        app.register_error_handler(NotFound(), lambda e: "")  # type: ignore[arg-type]


def test_errorhandler_with_an_unknown_code_raises_value_error(app: Flask) -> None:
    with pytest.raises(ValueError, match="'299' is not a recognized HTTP error code"):
        app.register_error_handler(299, lambda e: "")


def test_errorhandler_with_a_non_exception_class_raises_value_error(app: Flask) -> None:
    with pytest.raises(ValueError, match="'dict' is not a subclass of Exception"):
        app.errorhandler(dict)(lambda e: "")  # type: ignore[arg-type]
