"""Tests for miniflask/routing.py: the memo of URL matches."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import BaseConverter, IntegerConverter, Map, Rule
from werkzeug.routing.exceptions import RequestRedirect

import miniflask
from miniflask.routing import CountingMap, MatchCache


def make_map(**converters: type[BaseConverter]) -> Map:
    url_map = CountingMap(
        [
            Rule("/posts/<int:post_id>", endpoint="post", methods=["GET"]),
            Rule("/folder/", endpoint="folder"),
        ]
    )
    url_map.converters.update(converters)
    return url_map


def bind(url_map: Map, path: str, method: str = "GET") -> Any:
    return url_map.bind("example.test", path_info=path, default_method=method)


def test_repeated_match_is_served_from_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    url_map = make_map()
    cache = MatchCache()
    rule, args = cache.match(bind(url_map, "/posts/3"))
    assert (rule.endpoint, args) == ("post", {"post_id": 3})

    def fail(*a: Any, **k: Any) -> None:
        raise AssertionError("Werkzeug was asked again")

    adapter = bind(url_map, "/posts/3")
    monkeypatch.setattr(adapter, "match", fail)
    rule_again, args_again = cache.match(adapter)
    assert rule_again is rule and args_again == {"post_id": 3}


def test_each_match_gets_its_own_view_args_dict() -> None:
    url_map, cache = make_map(), MatchCache()
    _, first = cache.match(bind(url_map, "/posts/3"))
    first.pop("post_id")  # a url_value_preprocessor may do this
    _, second = cache.match(bind(url_map, "/posts/3"))
    assert second == {"post_id": 3}


def test_not_found_is_remembered_but_raised_fresh_each_time() -> None:
    url_map, cache = make_map(), MatchCache()
    errors = []
    for _ in range(2):
        with pytest.raises(NotFound) as info:
            cache.match(bind(url_map, "/nope"))
        errors.append(info.value)
    assert errors[0] is not errors[1]
    assert len(cache._results) == 1


def test_redirects_and_405_are_left_to_werkzeug_every_time() -> None:
    url_map, cache = make_map(), MatchCache()
    with pytest.raises(RequestRedirect):
        cache.match(bind(url_map, "/folder"))
    with pytest.raises(MethodNotAllowed):
        cache.match(bind(url_map, "/posts/3", "POST"))
    assert cache._results == {}


def test_method_and_path_are_both_part_of_the_key() -> None:
    url_map = Map(
        [
            Rule("/item", endpoint="read", methods=["GET"]),
            Rule("/item", endpoint="write", methods=["POST"]),
        ]
    )
    cache = MatchCache()
    assert cache.match(bind(url_map, "/item", "GET"))[0].endpoint == "read"
    assert cache.match(bind(url_map, "/item", "POST"))[0].endpoint == "write"


class LoadingConverter(BaseConverter):
    """A converter with side effects: each match must call it again."""

    calls = 0

    def to_python(self, value: str) -> Any:
        LoadingConverter.calls += 1
        return {"loaded": value}


def test_a_converter_with_its_own_to_python_turns_caching_off() -> None:
    url_map = make_map(thing=LoadingConverter)
    url_map.add(Rule("/things/<thing:obj>", endpoint="thing"))
    cache = MatchCache()
    LoadingConverter.calls = 0
    for _ in range(3):
        cache.match(bind(url_map, "/things/a"))
    assert LoadingConverter.calls == 3
    assert cache._results == {}


class BoundedId(IntegerConverter):
    """Only changes settings: Werkzeug's to_python is kept, so caching stays on."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(map, min=1)


def test_a_converter_that_only_changes_settings_keeps_caching_on() -> None:
    url_map = make_map(id=BoundedId)
    url_map.add(Rule("/rows/<id:row>", endpoint="row"))
    cache = MatchCache()
    assert cache.match(bind(url_map, "/rows/5"))[1] == {"row": 5}
    assert len(cache._results) == 1


def test_a_rule_added_later_is_seen_where_not_found_was_remembered() -> None:
    url_map, cache = make_map(), MatchCache()
    with pytest.raises(NotFound):
        cache.match(bind(url_map, "/late"))
    url_map.add(Rule("/late", endpoint="late"))
    assert cache.match(bind(url_map, "/late"))[0].endpoint == "late"


def test_a_url_map_that_does_not_count_its_rules_is_not_memoised() -> None:
    url_map = Map([Rule("/posts/<int:post_id>", endpoint="post")])
    cache = MatchCache()
    assert cache.match(bind(url_map, "/posts/1"))[1] == {"post_id": 1}
    assert cache._results == {}


def test_the_memo_is_bounded() -> None:
    url_map, cache = make_map(), MatchCache(max_size=4)
    for number in range(10):
        cache.match(bind(url_map, f"/posts/{number}"))
        assert len(cache._results) <= 4


def test_a_new_url_map_starts_a_new_memo() -> None:
    cache = MatchCache()
    cache.match(bind(make_map(), "/posts/1"))
    other = CountingMap([Rule("/posts/<int:post_id>", endpoint="other")])
    assert cache.match(bind(other, "/posts/1"))[0].endpoint == "other"


def test_apps_answer_the_same_with_the_memo_warm(app: miniflask.Flask) -> None:
    @app.get("/posts/<int:post_id>")
    def post(post_id: int) -> dict[str, int]:
        return {"id": post_id}

    client = app.test_client()
    answers = [client.get("/posts/7").get_json() for _ in range(3)]
    assert answers == [{"id": 7}] * 3
    assert [client.get("/missing").status_code for _ in range(2)] == [404, 404]
    assert client.post("/posts/7").status_code == 405


@pytest.mark.parametrize(
    "host",
    [
        "EXAMPLE.test",
        "example.test:8080",
        "example.test:80",
        "bücher.example",
        "a" * 64 + ".test",
        "a..b",
        "",
    ],
    ids=["upper", "port", "default-port", "idna", "label-too-long", "empty-label", "no-host"],
)
def test_hosts_bind_as_werkzeug_binds_them(host: str) -> None:
    """The adapter built from the request's fields equals bind_to_environ's."""
    import flask

    answers = []
    for fw in (flask, miniflask):
        app = fw.Flask("hosts")

        app.add_url_rule(
            "/where", "where", lambda url_for=fw.url_for: url_for("where", _external=True)
        )
        response = app.test_client().get("/where", headers={"Host": host})
        answers.append((response.status_code, response.data))
    assert answers[0] == answers[1]
