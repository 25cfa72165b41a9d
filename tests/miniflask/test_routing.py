"""Tests for routing: the memo of URL matches, then the routes an app registers.

The first tests are about ``miniflask/routing.py``'s memo (``MatchCache``).
Then come the routes themselves (``route``, the method shortcuts,
``add_url_rule``, ``endpoint``) and how a request meets them: converters,
automatic ``HEAD`` and ``OPTIONS``, a 405 listing the allowed methods, the 308
to a trailing slash, and 404.
"""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import BaseConverter, IntegerConverter, Map, Rule
from werkzeug.routing.exceptions import RequestRedirect

import miniflask
from miniflask import Flask, request, url_for
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


def test_route_default_endpoint_is_the_function_name(app: Flask, client: Any) -> None:
    @app.route("/hello")
    def say_hello() -> str:
        return "hi"

    assert app.view_functions["say_hello"] is say_hello
    assert app.url_map.bind("localhost").build("say_hello") == "/hello"
    assert client.get("/hello").data == b"hi"


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
def test_method_shortcut_registers_only_that_method(app: Flask, client: Any, method: str) -> None:
    getattr(app, method)("/thing")(lambda: f"{request.method} thing")
    rule = next(app.url_map.iter_rules("<lambda>"))

    assert rule.methods is not None
    assert rule.methods - {"HEAD", "OPTIONS"} == {method.upper()}
    assert client.open("/thing", method=method.upper()).data == f"{method.upper()} thing".encode()


def test_method_shortcut_with_methods_argument_raises_type_error(app: Flask) -> None:
    with pytest.raises(TypeError, match="'route' decorator"):
        app.post("/thing", methods=["PUT"])


def test_add_url_rule_with_explicit_endpoint(app: Flask, client: Any) -> None:
    app.add_url_rule("/about", "about_page", lambda: "about")

    assert "about_page" in app.view_functions
    assert client.get("/about").data == b"about"


def test_add_url_rule_without_view_then_endpoint_decorator(app: Flask, client: Any) -> None:
    app.add_url_rule("/late", endpoint="late")

    @app.endpoint("late")
    def late_view() -> str:
        return "bound later"

    assert client.get("/late").data == b"bound later"


def test_endpoint_taken_by_another_function_raises_assertion_error(app: Flask) -> None:
    @app.route("/a")
    def view() -> str:
        return "a"

    def other() -> str:
        return "b"

    with pytest.raises(AssertionError, match="overwriting an existing endpoint function: view"):
        app.add_url_rule("/b", "view", other)


def test_same_function_may_be_routed_twice(app: Flask, client: Any) -> None:
    def page(name: str = "index") -> str:
        return name

    app.add_url_rule("/", view_func=page)
    app.add_url_rule("/<name>", view_func=page)

    assert client.get("/").data == b"index"
    assert client.get("/about").data == b"about"


def test_methods_given_as_a_string_raises_type_error(app: Flask) -> None:
    with pytest.raises(TypeError, match="list of strings"):
        app.add_url_rule("/", "index", lambda: "", methods="POST")


def test_methods_are_upper_cased(app: Flask, client: Any) -> None:
    app.add_url_rule("/", "index", lambda: "posted", methods=["post"])

    assert client.post("/").data == b"posted"


def test_view_methods_attribute_gives_default_methods(app: Flask, client: Any) -> None:
    def view() -> str:
        return request.method

    view.methods = ["PUT"]  # type: ignore[attr-defined]
    app.add_url_rule("/", view_func=view)

    assert client.put("/").data == b"PUT"
    assert client.get("/").status_code == 405


def test_builtin_converters_convert_url_values(app: Flask, client: Any) -> None:
    @app.get("/<int:number>/<float:ratio>/<uuid:ident>/<any(a, b):letter>/<path:rest>")
    def convert(**values: Any) -> dict[str, str]:
        return {name: f"{type(value).__name__}:{value}" for name, value in values.items()}

    url = "/42/0.5/12345678-1234-5678-1234-567812345678/b/x/y.txt"
    assert client.get(url).json == {
        "number": "int:42",
        "ratio": "float:0.5",
        "ident": "UUID:12345678-1234-5678-1234-567812345678",
        "letter": "str:b",
        "rest": "str:x/y.txt",
    }
    assert client.get("/forty/0.5/x/b/y").status_code == 404


class ListConverter(BaseConverter):
    """``<list:names>`` matches ``a,b,c`` and gives ``["a", "b", "c"]``."""

    def to_python(self, value: str) -> list[str]:
        return value.split(",")

    def to_url(self, value: list[str]) -> str:
        return ",".join(BaseConverter.to_url(self, item) for item in value)


def test_custom_converter_parses_and_builds_urls(app: Flask, client: Any) -> None:
    app.url_map.converters["list"] = ListConverter

    @app.get("/tags/<list:names>")
    def tags(names: list[str]) -> dict[str, Any]:
        return {"names": names, "url": url_for("tags", names=["x y", "z"])}

    assert client.get("/tags/a,b,c").json == {"names": ["a", "b", "c"], "url": "/tags/x%20y,z"}


def test_head_is_answered_for_get_routes_without_a_body(app: Flask, client: Any) -> None:
    app.add_url_rule("/", "index", lambda: "hello")

    response = client.head("/")

    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Length"] == "5"


def test_options_is_answered_automatically_with_allow_header(app: Flask, client: Any) -> None:
    called: list[str] = []
    app.add_url_rule("/", "index", lambda: called.append("view") or "x", methods=["GET", "POST"])

    response = client.options("/")

    assert response.status_code == 200
    assert response.data == b""
    assert set(response.allow) == {"GET", "HEAD", "OPTIONS", "POST"}
    assert called == []


def test_provide_automatic_options_false_makes_options_a_405(app: Flask, client: Any) -> None:
    app.add_url_rule("/", "index", lambda: "x", provide_automatic_options=False)

    assert client.options("/").status_code == 405


def test_view_attribute_provide_automatic_options_false_is_honoured(
    app: Flask, client: Any
) -> None:
    def view() -> str:
        return f"view saw {request.method}"

    view.provide_automatic_options = False  # type: ignore[attr-defined]
    app.add_url_rule("/", view_func=view, methods=["GET", "OPTIONS"])

    assert client.options("/").data == b"view saw OPTIONS"


def test_provide_automatic_options_config_off_disables_options(app: Flask, client: Any) -> None:
    app.config["PROVIDE_AUTOMATIC_OPTIONS"] = False
    app.add_url_rule("/", "index", lambda: "x")

    assert client.options("/").status_code == 405


def test_wrong_method_gives_405_listing_allowed_methods(app: Flask, client: Any) -> None:
    app.add_url_rule("/", "index", lambda: "x", methods=["POST"])

    response = client.get("/")

    assert response.status_code == 405
    assert set(response.allow) == {"POST", "OPTIONS"}


def test_missing_trailing_slash_redirects_with_308(app: Flask, client: Any) -> None:
    app.add_url_rule("/docs/", "docs", lambda: "docs")

    response = client.get("/docs?page=2")

    assert response.status_code == 308
    assert response.location == "http://localhost/docs/?page=2"


def test_unknown_url_gives_404(app: Flask, client: Any) -> None:
    assert client.get("/nowhere").status_code == 404
