"""One structured line per request; a 500's traceback with the request id (logs.py, hooks.py)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import pytest

from blog_api import create_app
from blog_api.logs import JSONFormatter, RequestFields
from tests.blog_api.conftest import make_config


def request_records(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [r.fields for r in caplog.records if r.name == "blog_api.request" and not r.exc_info]


def test_one_line_per_request_with_all_fields(
    client: Any, alice: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.clear()
    response = client.get(
        "/api/v1/users/me",
        headers={**alice, "X-Request-ID": "trace-1"},
        environ_base={"REMOTE_ADDR": "192.0.2.7"},
    )
    (line,) = request_records(caplog)
    assert line["request_id"] == "trace-1" == response.headers["X-Request-ID"]
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/v1/users/me", 200)
    assert line["user_id"] == response.get_json()["id"]
    assert line["remote_addr"] == "192.0.2.7"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0


def test_errors_are_logged_too(client: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.clear()
    client.get("/api/v1/missing")
    (line,) = request_records(caplog)
    assert line["status"] == 404 and line["user_id"] is None


def test_formatter_writes_one_json_line_with_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord(
            "blog_api.request", logging.ERROR, __file__, 1, "failed %s", ("x",), sys.exc_info()
        )
    record.fields = {"request_id": "r1", "status": 500}
    line = JSONFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["message"] == "failed x" and data["request_id"] == "r1"
    assert data["level"] == "ERROR" and "ValueError: boom" in data["exception"]


def test_request_fields_are_added_during_a_request_only() -> None:
    fields: dict[str, str] | None = None
    request_fields = RequestFields(lambda: fields)
    record = logging.LogRecord("blog_api", logging.INFO, __file__, 1, "outside", (), None)
    assert request_fields.filter(record) and not hasattr(record, "fields")
    fields = {"request_id": "r1", "path": "/x"}
    record.fields = {"path": "/own"}
    assert request_fields.filter(record)
    assert record.fields == {"request_id": "r1", "path": "/own"}  # the record's own win


def test_a_second_app_adds_no_second_filter(app: Any, framework: str, tmp_path: Path) -> None:
    """Every app shares the ``blog_api`` logger: filters must not pile up per app."""
    before = list(app.logger.filters)
    assert any(isinstance(f, RequestFields) for f in before)
    create_app(framework, make_config(tmp_path / "second"))
    assert app.logger.filters == before
