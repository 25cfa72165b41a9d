"""Tests for miniflask/json/tag.py: the tagged JSON of the session cookie."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
from markupsafe import Markup

import miniflask
from miniflask.json.tag import JSONTag, TaggedJSONSerializer
from miniflask.sessions import SecureCookieSessionInterface

VALUES: list[Any] = [
    {"cart": (1, 2), "token": b"\xff", "id": UUID(int=7)},
    {" t": (1, 2, 3)},  # a real dict whose key is a tag
    {" t__": b"a"},
    {" di": " di"},
    {" t": {" di": {" b": 1}}},
    [(1, 2), [3, (4,)]],
    Markup("<b>safe</b>"),
    datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC),
    {"nested": {"deeper": [{"x": (None, True, 1.5)}]}},
    "plain",
    42,
]


@pytest.mark.parametrize("value", VALUES)
def test_values_come_back_with_their_types(value: Any) -> None:
    serializer = TaggedJSONSerializer()
    loaded = serializer.loads(serializer.dumps(value))
    assert loaded == value
    assert type(loaded) is type(value)


@pytest.mark.parametrize("value", VALUES)
def test_writes_exactly_what_flask_writes_and_reads_what_flask_wrote(value: Any) -> None:
    flask_tag = importlib.import_module("flask.json.tag")
    ours, theirs = TaggedJSONSerializer(), flask_tag.TaggedJSONSerializer()
    assert ours.dumps(value) == theirs.dumps(value)
    assert ours.loads(theirs.dumps(value)) == value
    assert theirs.loads(ours.dumps(value)) == value


def test_the_tags_are_flasks() -> None:
    serializer = TaggedJSONSerializer()
    assert serializer.dumps((1,)) == '{" t":[1]}'
    assert serializer.dumps(b"a") == '{" b":"YQ=="}'
    assert serializer.dumps(Markup("<i>")) == '{" m":"<i>"}'
    assert serializer.dumps(UUID(int=1)) == '{" u":"00000000000000000000000000000001"}'
    assert serializer.dumps(datetime(2026, 1, 2, tzinfo=UTC)) == (
        '{" d":"Fri, 02 Jan 2026 00:00:00 GMT"}'
    )
    assert serializer.dumps({" t": 1}) == '{" di":{" t__":1}}'


def test_a_session_written_by_one_framework_is_read_by_the_other(fw: Any) -> None:
    value = {" m": "not markup", "when": datetime(2026, 1, 2, tzinfo=UTC), "pair": (1, "a")}
    app = fw.Flask("tags")
    app.secret_key = "shared"
    other = miniflask.Flask("tags")
    other.secret_key = "shared"
    with app.app_context():
        cookie = app.session_interface.get_signing_serializer(app).dumps(value)
    with other.app_context():
        reader = SecureCookieSessionInterface().get_signing_serializer(other)
        assert reader is not None
        assert reader.loads(cookie) == value


def test_register_refuses_a_taken_key_unless_forced() -> None:
    class TagDictAgain(JSONTag):
        key = " d"

    serializer = TaggedJSONSerializer()
    with pytest.raises(KeyError, match=r"Tag ' d' is already registered\."):
        serializer.register(TagDictAgain)
    serializer.register(TagDictAgain, force=True, index=0)
    assert isinstance(serializer.tags[" d"], TagDictAgain)
    assert isinstance(serializer.order[0], TagDictAgain)


def test_register_appends_or_inserts_at_index() -> None:
    class First(JSONTag):
        key = " 1"

    class Last(JSONTag):
        key = " 2"

    serializer = TaggedJSONSerializer()
    serializer.register(First, index=-1)
    assert isinstance(serializer.order[-2], First)
    serializer.register(Last)
    assert isinstance(serializer.order[-1], Last)


def test_a_custom_tag_round_trips_its_type() -> None:
    class TagSet(JSONTag):
        key = " s"

        def check(self, value: Any) -> bool:
            return isinstance(value, set)

        def to_json(self, value: Any) -> Any:
            return sorted(self.serializer.tag(item) for item in value)

        def to_python(self, value: Any) -> Any:
            return set(value)

    serializer = TaggedJSONSerializer()
    serializer.register(TagSet)
    assert serializer.dumps({"tags": {"b", "a"}}) == '{"tags":{" s":["a","b"]}}'
    assert serializer.loads(serializer.dumps({"tags": {"b", "a"}})) == {"tags": {"a", "b"}}


def test_a_custom_tag_may_claim_plain_strings() -> None:
    """The short cut for strings and numbers steps aside once a program registers a tag."""

    class TagUpper(JSONTag):
        key = " U"

        def check(self, value: Any) -> bool:
            return isinstance(value, str) and value.isupper()

        def to_json(self, value: Any) -> Any:
            return value.lower()

        def to_python(self, value: Any) -> Any:
            return value.upper()

    serializer = TaggedJSONSerializer()
    serializer.register(TagUpper, index=0)
    assert serializer.dumps(["ABC", "abc"]) == '[{" U":"abc"},"abc"]'
    assert serializer.loads('[{" U":"abc"},"abc"]') == ["ABC", "abc"]


def test_a_subclass_with_its_own_default_tags_is_honoured() -> None:
    class TagInt(JSONTag):
        key = " i"

        def check(self, value: Any) -> bool:
            return type(value) is int

        def to_json(self, value: Any) -> Any:
            return str(value)

        def to_python(self, value: Any) -> Any:
            return int(value)

    class Serializer(TaggedJSONSerializer):
        default_tags = [TagInt, *TaggedJSONSerializer.default_tags]

    assert Serializer().dumps({"n": 1}) == '{"n":{" i":"1"}}'


def test_the_tag_interface_must_be_implemented() -> None:
    tag = JSONTag(TaggedJSONSerializer())
    for method in (tag.check, tag.to_json, tag.to_python):
        with pytest.raises(NotImplementedError):
            method(None)


def test_inside_an_app_the_apps_json_settings_apply(app: miniflask.Flask) -> None:
    serializer = TaggedJSONSerializer()
    with app.app_context():
        # app.json sorts keys; outside an app the standard library keeps the order.
        assert serializer.dumps({"b": 1, "a": (2,)}) == '{"a":{" t":[2]},"b":1}'
    assert serializer.dumps({"b": 1, "a": (2,)}) == '{"b":1,"a":{" t":[2]}}'
