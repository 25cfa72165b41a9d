"""Tests for ``miniflask/views.py``: ``View`` and ``MethodView``.

Every test runs on real Flask and on miniflask (the ``fw`` fixture of
``conftest.py``), so the two must behave the same.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import flask.views  # noqa: F401  (makes fw.views available for both frameworks)
import pytest

import miniflask.views  # noqa: F401


def make_app(fw: ModuleType) -> Any:
    app = fw.Flask("views_app")
    app.testing = True
    return app


def test_as_view_returns_function_carrying_class_metadata(fw: ModuleType) -> None:
    class Greeting(fw.views.View):
        """Says hello."""

        methods = ["GET", "POST"]
        provide_automatic_options = False

        def dispatch_request(self) -> str:
            return "hi"

    view = Greeting.as_view("greet")
    assert view.view_class is Greeting
    assert view.__name__ == "greet"
    assert view.__doc__ == "Says hello."
    assert view.__module__ == __name__
    assert view.methods == ["GET", "POST"]
    assert view.provide_automatic_options is False


def test_view_receives_url_variables_and_class_arguments(fw: ModuleType) -> None:
    class Hello(fw.views.View):
        def __init__(self, greeting: str, punctuation: str = ".") -> None:
            self.greeting = greeting
            self.punctuation = punctuation

        def dispatch_request(self, name: str) -> str:
            return f"{self.greeting}, {name}{self.punctuation}"

    app = make_app(fw)
    app.add_url_rule("/hello/<name>", view_func=Hello.as_view("hello", "Hi", punctuation="!"))
    response = app.test_client().get("/hello/ada")
    assert response.text == "Hi, ada!"
    assert "hello" in app.view_functions


def test_new_instance_per_request_by_default(fw: ModuleType) -> None:
    class Counter(fw.views.View):
        def __init__(self) -> None:
            self.count = 0

        def dispatch_request(self) -> str:
            self.count += 1
            return str(self.count)

    app = make_app(fw)
    app.add_url_rule("/", view_func=Counter.as_view("counter"))
    client = app.test_client()
    assert [client.get("/").text for _ in range(3)] == ["1", "1", "1"]


def test_init_every_request_false_shares_one_instance(fw: ModuleType) -> None:
    created: list[object] = []

    class Counter(fw.views.View):
        init_every_request = False

        def __init__(self) -> None:
            created.append(self)
            self.count = 0

        def dispatch_request(self) -> str:
            self.count += 1
            return str(self.count)

    app = make_app(fw)
    app.add_url_rule("/", view_func=Counter.as_view("counter"))
    client = app.test_client()
    assert [client.get("/").text for _ in range(3)] == ["1", "2", "3"]
    assert len(created) == 1


def test_replacing_view_class_on_the_function_changes_what_is_instantiated(fw: ModuleType) -> None:
    class Real(fw.views.View):
        def dispatch_request(self) -> str:
            return "real"

    class Fake(Real):
        def dispatch_request(self) -> str:
            return "fake"

    app = make_app(fw)
    view = Real.as_view("thing")
    app.add_url_rule("/", view_func=view)
    view.view_class = Fake
    assert app.test_client().get("/").text == "fake"


def test_decorators_are_applied_in_list_order_and_see_the_final_name(fw: ModuleType) -> None:
    seen_names: list[str] = []

    def tag(label: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def decorator(f: Callable[..., Any]) -> Callable[..., Any]:
            seen_names.append(f.__name__)

            def wrapper(**kwargs: Any) -> str:
                return f"{label}({f(**kwargs)})"

            return wrapper

        return decorator

    class Decorated(fw.views.View):
        decorators = [tag("inner"), tag("outer")]

        def dispatch_request(self) -> str:
            return "view"

    app = make_app(fw)
    view = Decorated.as_view("decorated")
    app.add_url_rule("/", view_func=view)
    assert app.test_client().get("/").text == "outer(inner(view))"
    assert seen_names[0] == "decorated"
    assert view.__name__ == "decorated"
    assert view.view_class is Decorated


def test_view_methods_limit_the_rule_and_options_is_automatic(fw: ModuleType) -> None:
    class PostOnly(fw.views.View):
        methods = ["POST"]

        def dispatch_request(self) -> str:
            return "posted"

    app = make_app(fw)
    app.add_url_rule("/", view_func=PostOnly.as_view("post_only"))
    client = app.test_client()
    assert client.post("/").text == "posted"
    assert client.get("/").status_code == 405
    options = client.options("/")
    assert options.status_code == 200
    assert set(options.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}


def test_provide_automatic_options_false_makes_options_405(fw: ModuleType) -> None:
    class NoOptions(fw.views.View):
        provide_automatic_options = False

        def dispatch_request(self) -> str:
            return "ok"

    app = make_app(fw)
    app.add_url_rule("/", view_func=NoOptions.as_view("no_options"))
    assert app.test_client().options("/").status_code == 405


def test_base_view_dispatch_request_is_abstract(fw: ModuleType) -> None:
    with pytest.raises(NotImplementedError):
        fw.views.View().dispatch_request()


def test_method_view_methods_come_from_its_handlers(fw: ModuleType) -> None:
    class Resource(fw.views.MethodView):
        def get(self) -> str:
            return "got"

        def post(self) -> str:
            return "posted"

    assert set(Resource.methods) == {"GET", "POST"}
    assert fw.views.MethodView.methods is None


def test_method_view_inherits_handlers_and_base_methods(fw: ModuleType) -> None:
    class Base(fw.views.MethodView):
        def get(self) -> str:
            return "base get"

    class Child(Base):
        def delete(self) -> str:
            return "child delete"

    class Mixin:
        def put(self) -> str:
            return "mixin put"

    class Mixed(Mixin, fw.views.MethodView):
        pass

    assert set(Child.methods) == {"GET", "DELETE"}
    assert set(Mixed.methods) == {"PUT"}


def test_method_view_explicit_methods_are_kept(fw: ModuleType) -> None:
    class Explicit(fw.views.MethodView):
        methods = ["GET"]

        def get(self) -> str:
            return "got"

        def post(self) -> str:
            return "posted"

    assert Explicit.methods == ["GET"]


def test_method_view_dispatches_by_request_method_with_url_variables(fw: ModuleType) -> None:
    class Item(fw.views.MethodView):
        def get(self, item_id: int) -> str:
            return f"get {item_id}"

        def put(self, item_id: int) -> str:
            return f"put {item_id} {fw.request.get_data(as_text=True)}"

        def delete(self, item_id: int) -> tuple[str, int]:
            return "", 204

    app = make_app(fw)
    app.add_url_rule("/items/<int:item_id>", view_func=Item.as_view("item"))
    client = app.test_client()
    assert client.get("/items/3").text == "get 3"
    assert client.put("/items/3", data="x").text == "put 3 x"
    assert client.delete("/items/3").status_code == 204
    assert client.post("/items/3").status_code == 405


def test_method_view_head_falls_back_to_get_without_body(fw: ModuleType) -> None:
    calls: list[str] = []

    class Page(fw.views.MethodView):
        def get(self) -> str:
            calls.append(fw.request.method)
            return "page body"

    app = make_app(fw)
    app.add_url_rule("/", view_func=Page.as_view("page"))
    response = app.test_client().head("/")
    assert response.status_code == 200
    assert response.data == b""
    assert response.headers["Content-Length"] == str(len("page body"))
    assert calls == ["HEAD"]


def test_method_view_uses_own_head_handler_when_defined(fw: ModuleType) -> None:
    class Page(fw.views.MethodView):
        def get(self) -> str:
            return "get"

        def head(self) -> tuple[str, int, dict[str, str]]:
            return "", 200, {"X-Head": "own"}

    app = make_app(fw)
    app.add_url_rule("/", view_func=Page.as_view("page"))
    assert app.test_client().head("/").headers["X-Head"] == "own"


def test_method_view_unimplemented_method_raises_assertion_error(fw: ModuleType) -> None:
    class Partial(fw.views.MethodView):
        methods = ["GET", "PATCH"]

        def get(self) -> str:
            return "got"

    app = make_app(fw)
    app.add_url_rule("/", view_func=Partial.as_view("partial"))
    with pytest.raises(AssertionError, match="Unimplemented method 'PATCH'"):
        app.test_client().patch("/")


def test_method_view_on_blueprint_gets_prefixed_endpoint(fw: ModuleType) -> None:
    class Things(fw.views.MethodView):
        def get(self) -> str:
            return fw.url_for("api.things")

    bp = fw.Blueprint("api", __name__, url_prefix="/api")
    bp.add_url_rule("/things", view_func=Things.as_view("things"))
    app = make_app(fw)
    app.register_blueprint(bp)
    assert app.test_client().get("/api/things").text == "/api/things"
    assert "api.things" in app.view_functions
