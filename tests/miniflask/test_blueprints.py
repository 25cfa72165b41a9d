"""Tests for miniflask/blueprints.py: registration, nesting, scoped hooks and handlers.

Tests that take the ``fw`` fixture build the same app on Flask and on
miniflask and assert the same outcome on both.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from werkzeug.routing import Rule

import miniflask
from miniflask import Blueprint


def build_nested(fw: ModuleType, order: list[str]) -> Any:
    """app > parent (/parent) > child (/child), each with every kind of hook."""
    app = fw.Flask("nested")
    parent = fw.Blueprint("parent", __name__, url_prefix="/parent")
    child = fw.Blueprint("child", __name__, url_prefix="/child")

    def hooks(owner: Any, name: str) -> None:
        owner.url_value_preprocessor(lambda endpoint, values: order.append(f"{name}.preprocess"))
        owner.before_request(lambda: order.append(f"{name}.before") and None)

        def after(response: Any) -> Any:
            order.append(f"{name}.after")
            return response

        owner.after_request(after)
        owner.teardown_request(lambda exc: order.append(f"{name}.teardown"))

    hooks(app, "app")
    hooks(parent, "parent")
    hooks(child, "child")

    @child.get("/leaf")
    def leaf() -> str:
        order.append("view")
        return fw.url_for(".leaf") + " " + fw.url_for("parent.index") + " " + fw.request.blueprint

    @parent.get("/")
    def index() -> str:
        return fw.url_for(".index")

    @child.errorhandler(LookupError)
    def child_lookup(e: Exception) -> tuple[str, int]:
        return "child handled", 409

    @parent.errorhandler(404)
    def parent_404(e: Exception) -> tuple[str, int]:
        return "parent 404", 404

    @app.errorhandler(LookupError)
    def app_lookup(e: Exception) -> tuple[str, int]:
        return "app handled", 418

    @child.get("/missing")
    def missing() -> str:
        raise KeyError("x")

    @child.get("/abort")
    def child_abort() -> str:
        fw.abort(404)

    @parent.get("/missing")
    def parent_missing() -> str:
        raise KeyError("y")

    parent.register_blueprint(child)
    app.register_blueprint(parent)
    return app


def test_nested_blueprint_endpoints_are_dotted_and_urls_prefixed(fw: ModuleType) -> None:
    app = build_nested(fw, [])
    rules = {rule.endpoint: rule.rule for rule in app.url_map.iter_rules()}
    assert rules["parent.child.leaf"] == "/parent/child/leaf"
    assert rules["parent.index"] == "/parent/"
    response = app.test_client().get("/parent/child/leaf")
    assert response.text == "/parent/child/leaf /parent/ parent.child"


def test_hooks_of_parents_apply_to_nested_blueprints_in_flasks_order(fw: ModuleType) -> None:
    order: list[str] = []
    app = build_nested(fw, order)
    app.test_client().get("/parent/child/leaf")
    assert order == [
        "app.preprocess",
        "parent.preprocess",
        "child.preprocess",
        "app.before",
        "parent.before",
        "child.before",
        "view",
        "child.after",
        "parent.after",
        "app.after",
        "child.teardown",
        "parent.teardown",
        "app.teardown",
    ]


def test_blueprint_hooks_do_not_run_for_other_requests(fw: ModuleType) -> None:
    order: list[str] = []
    app = build_nested(fw, order)
    app.test_client().get("/parent/")
    assert not any(entry.startswith("child.") for entry in order)
    assert "parent.before" in order


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        ("/parent/child/missing", 409, "child handled"),  # nearest scope wins
        ("/parent/missing", 418, "app handled"),  # parent has none: the app's
        ("/parent/child/abort", 404, "parent 404"),  # inherited from the parent
    ],
)
def test_error_handlers_are_looked_up_from_the_innermost_blueprint_out(
    fw: ModuleType, path: str, status: int, body: str
) -> None:
    response = build_nested(fw, []).test_client().get(path)
    assert (response.status_code, response.text) == (status, body)


def test_registering_the_same_name_twice_is_an_error_and_name_allows_it(
    fw: ModuleType,
) -> None:
    app = fw.Flask("twice")
    bp = fw.Blueprint("bp", __name__)

    @bp.get("/hello")
    def hello() -> str:
        return fw.request.blueprint

    app.register_blueprint(bp, url_prefix="/one")
    with pytest.raises(ValueError, match="already registered"):
        app.register_blueprint(bp, url_prefix="/two")
    app.register_blueprint(bp, url_prefix="/two", name="bp2")
    client = app.test_client()
    assert client.get("/one/hello").text == "bp"
    assert client.get("/two/hello").text == "bp2"


def test_register_options_override_the_blueprints_own(fw: ModuleType) -> None:
    app = fw.Flask("options")
    bp = fw.Blueprint("lang", __name__, url_prefix="/ignored", url_defaults={"lang": "en"})

    @bp.get("/home")
    def home(lang: str) -> str:
        return f"home in {lang}"

    app.register_blueprint(bp, url_prefix="/site", url_defaults={"lang": "pl"})
    client = app.test_client()
    assert client.get("/ignored/home").status_code == 404
    assert client.get("/site/home").text == "home in pl"


def test_app_variants_apply_to_every_request(fw: ModuleType) -> None:
    app = fw.Flask("app_wide")
    bp = fw.Blueprint("ext", __name__)
    seen: list[str] = []
    bp.before_app_request(lambda: seen.append("before") and None)

    @bp.app_errorhandler(404)
    def not_found(e: Exception) -> tuple[str, int]:
        return "from blueprint", 404

    @bp.app_template_filter("shout")
    def shout(value: str) -> str:
        return value.upper()

    @app.get("/")
    def index() -> str:
        return fw.render_template_string("{{ 'hi'|shout }}")

    app.register_blueprint(bp)
    client = app.test_client()
    assert client.get("/").text == "HI"
    assert client.get("/nowhere").text == "from blueprint"
    assert seen == ["before", "before"]


def test_setup_after_registration_is_an_error(app: miniflask.Flask) -> None:
    bp = Blueprint("late", __name__)
    app.register_blueprint(bp)
    with pytest.raises(AssertionError, match="already been registered"):
        bp.before_request(lambda: None)


def test_names_with_dots_are_rejected() -> None:
    with pytest.raises(ValueError, match="dot"):
        Blueprint("a.b", __name__)
    with pytest.raises(ValueError, match="empty"):
        Blueprint("", __name__)
    bp = Blueprint("ok", __name__)
    with pytest.raises(ValueError, match="dot"):
        bp.add_url_rule("/", endpoint="a.b", view_func=lambda: "")


def test_a_blueprint_cannot_be_nested_in_itself() -> None:
    bp = Blueprint("self", __name__)
    with pytest.raises(ValueError, match="on itself"):
        bp.register_blueprint(bp)


def test_record_once_runs_only_at_the_first_registration(app: miniflask.Flask) -> None:
    bp = Blueprint("once", __name__)
    calls: list[bool] = []
    bp.record_once(lambda state: calls.append(state.first_registration))
    bp.record(lambda state: calls.append(state.first_registration))
    app.register_blueprint(bp)
    app.register_blueprint(bp, name="again")
    assert calls == [True, True, False]


def test_blueprint_static_folder_is_served_under_its_prefix(tmp_path: Any) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "site.css").write_text("body{}")
    app = miniflask.Flask("static_bp")
    bp = Blueprint(
        "theme", __name__, static_folder="assets", url_prefix="/theme", root_path=str(tmp_path)
    )
    app.register_blueprint(bp)
    with app.test_request_context():
        assert miniflask.url_for("theme.static", filename="site.css") == "/theme/assets/site.css"
    assert app.test_client().get("/theme/assets/site.css").data == b"body{}"


def test_subdomain_blueprints_match_on_the_host(fw: ModuleType) -> None:
    app = fw.Flask("sub", subdomain_matching=True)
    app.config["SERVER_NAME"] = "example.test"
    bp = fw.Blueprint("api", __name__, subdomain="api")

    @bp.get("/")
    def index() -> str:
        return "api"

    app.register_blueprint(bp)
    client = app.test_client()
    assert client.get("/", base_url="http://api.example.test").text == "api"
    assert client.get("/", base_url="http://example.test").status_code == 404


def test_a_blueprint_endpoint_view_serves_an_app_rule_under_its_bare_name(
    fw: ModuleType,
) -> None:
    app = fw.Flask("endpoints", static_folder=None)
    app.url_map.add(Rule("/about", endpoint="about"))
    bp = fw.Blueprint("pages", __name__)

    @bp.endpoint("about")
    def about() -> str:
        return f"about via {fw.request.endpoint}"

    app.register_blueprint(bp, url_prefix="/pages")
    client = app.test_client()
    assert client.get("/about").text == "about via about"
    assert client.get("/pages/about").status_code == 404
