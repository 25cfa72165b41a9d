"""Tests for miniflask/json/__init__.py and json/provider.py: the functions, providers, get_json."""

from __future__ import annotations

import dataclasses
import decimal
import io
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from markupsafe import Markup

import miniflask
from miniflask import json as mjson
from miniflask import jsonify, request
from miniflask.json.provider import DefaultJSONProvider


@dataclasses.dataclass
class Point:
    x: int
    y: int


SPECIAL_VALUES: dict[str, Any] = {
    "date": date(2026, 11, 24),
    "datetime": datetime(2026, 11, 24, 12, 30, tzinfo=UTC),
    "decimal": decimal.Decimal("1.10"),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "dataclass": Point(1, 2),
    "markup": Markup("<b>x</b>"),
    "unicode": "żółw",
}


def test_special_types_serialise_exactly_as_flask_does() -> None:
    import flask

    ours = miniflask.Flask("a")
    theirs = flask.Flask("a")
    assert ours.json.dumps(SPECIAL_VALUES) == theirs.json.dumps(SPECIAL_VALUES)
    with ours.app_context():
        assert mjson.dumps(SPECIAL_VALUES) == ours.json.dumps(SPECIAL_VALUES)


def test_dates_are_http_dates() -> None:
    app = miniflask.Flask("a")
    assert app.json.dumps(date(2026, 11, 24)) == '"Tue, 24 Nov 2026 00:00:00 GMT"'


def test_unserialisable_object_raises_type_error() -> None:
    with pytest.raises(TypeError, match="Object of type object is not JSON serializable"):
        miniflask.Flask("a").json.dumps(object())


def test_jsonify_shapes(app: miniflask.Flask) -> None:
    with app.app_context():
        assert jsonify({"a": 1}).get_json() == {"a": 1}
        assert jsonify(1, 2).get_json() == [1, 2]
        assert jsonify(a=1).get_json() == {"a": 1}
        assert jsonify().get_json() is None
        with pytest.raises(TypeError, match="either args or kwargs, not both"):
            jsonify(1, a=1)


def test_jsonify_is_compact_with_trailing_newline_and_sorted_keys(app: miniflask.Flask) -> None:
    with app.app_context():
        response = jsonify(b=1, a=2)
    assert response.mimetype == "application/json"
    assert response.data == b'{"a":2,"b":1}\n'


def test_jsonify_indents_in_debug_mode(app: miniflask.Flask) -> None:
    app.debug = True
    with app.app_context():
        assert jsonify(a=1).data == b'{\n  "a": 1\n}\n'


def test_provider_settings_change_the_whole_app(app: miniflask.Flask) -> None:
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    @app.get("/")
    def index() -> dict[str, str]:
        return {"z": "ż", "a": "a"}

    assert app.test_client().get("/").data.decode() == '{"z":"ż","a":"a"}\n'


def test_jsonify_outside_app_context_raises() -> None:
    with pytest.raises(RuntimeError, match="application context"):
        jsonify(a=1)


def test_module_functions_work_without_an_app() -> None:
    assert mjson.loads(mjson.dumps({"u": uuid.UUID(int=1)})) == {
        "u": "00000000-0000-0000-0000-000000000001"
    }


def test_dump_and_load_round_trip_through_a_file_without_an_app() -> None:
    out = io.StringIO()
    mjson.dump({"when": date(2026, 1, 2), "n": decimal.Decimal("1.5")}, out)
    # No app: the standard library's defaults (no key sorting, spaces) plus the extra types.
    assert out.getvalue() == '{"when": "Fri, 02 Jan 2026 00:00:00 GMT", "n": "1.5"}'
    out.seek(0)
    assert mjson.load(out) == {"when": "Fri, 02 Jan 2026 00:00:00 GMT", "n": "1.5"}


def test_dump_and_load_use_the_apps_provider_inside_an_app_context(
    app: miniflask.Flask,
) -> None:
    class Provider(DefaultJSONProvider):
        def loads(self, s: str | bytes, **kwargs: Any) -> Any:
            return {"loaded_by": "provider", "data": super().loads(s, **kwargs)}

    app.json = Provider(app)
    out = io.StringIO()
    with app.app_context():
        mjson.dump({"b": 1, "a": 2}, out)
        # The app's provider sorts keys; the standard library would not.
        assert out.getvalue() == '{"a": 2, "b": 1}'
        out.seek(0)
        assert mjson.load(out) == {"loaded_by": "provider", "data": {"a": 2, "b": 1}}
        assert mjson.loads("[1]") == {"loaded_by": "provider", "data": [1]}


def test_module_functions_answer_like_flasks(fw: Any) -> None:
    values = {"b": date(2026, 1, 2), "a": uuid.UUID(int=1), "m": Markup("<i>")}
    assert fw.json.dumps(values) == mjson.dumps(values)
    app = fw.Flask("a")
    with app.app_context():
        assert fw.json.dumps(values) == miniflask.Flask("a").json.dumps(values)
        with pytest.raises(TypeError, match="args or kwargs"):
            fw.jsonify(1, a=2)


def test_get_json_uses_the_apps_provider(app: miniflask.Flask) -> None:
    class CountingProvider(DefaultJSONProvider):
        loads_calls = 0

        def loads(self, s: str | bytes, **kwargs: Any) -> Any:
            CountingProvider.loads_calls += 1
            return super().loads(s, **kwargs)

    app.json = CountingProvider(app)

    @app.post("/")
    def echo() -> Any:
        return request.get_json()

    response = app.test_client().post("/", json={"a": 1})
    assert response.data == b'{"a":1}\n'
    assert CountingProvider.loads_calls == 1


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": "{bad", "content_type": "application/json"}, 400),
        ({"data": "{}", "content_type": "text/plain"}, 415),
        ({"json": {"ok": True}}, 200),
    ],
    ids=["malformed", "wrong-content-type", "valid"],
)
def test_get_json_errors_are_flasks(
    app: miniflask.Flask, kwargs: dict[str, Any], status: int
) -> None:
    @app.post("/")
    def echo() -> Any:
        return request.get_json()

    assert app.test_client().post("/", **kwargs).status_code == status


def test_get_json_silent_returns_none_for_bad_input(app: miniflask.Flask) -> None:
    @app.post("/")
    def echo() -> Any:
        return {"body": request.get_json(silent=True)}

    client = app.test_client()
    assert client.post("/", data="{bad", content_type="application/json").get_json() == {
        "body": None
    }


def test_malformed_json_message_is_hidden_outside_debug(app: miniflask.Flask) -> None:
    @app.post("/")
    def echo() -> Any:
        return request.get_json()

    body = app.test_client().post("/", data="{secret", content_type="application/json").data
    assert b"secret" not in body
    assert b"Failed to decode" not in body
    app.debug = True
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    body = app.test_client().post("/", data="{secret", content_type="application/json").data
    assert b"Failed to decode JSON object" in body
