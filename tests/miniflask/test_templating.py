"""Tests for ``miniflask/templating.py`` and the app's Jinja set-up.

The apps use ``tests/miniflask/site`` as their folder: ``templates/`` for the
app and ``admin/templates/`` for an ``admin`` blueprint.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import jinja2
import pytest
from markupsafe import Markup

from miniflask import Blueprint, Flask, g, render_template, render_template_string, session
from miniflask.signals import before_render_template, template_rendered
from miniflask.templating import (
    DispatchingJinjaLoader,
    Environment,
    Template,
    _default_template_ctx_processor,
    stream_template,
    stream_template_string,
)

SITE = Path(__file__).parent / "site"


@pytest.fixture
def app() -> Flask:
    app = Flask("templating_site", root_path=str(SITE))
    app.config.update(SECRET_KEY="test", SITE_NAME="Site")

    @app.get("/")
    def index() -> str:
        return "index"

    return app


@pytest.fixture
def admin() -> Blueprint:
    return Blueprint(
        "admin",
        __name__,
        url_prefix="/admin",
        template_folder="templates",
        root_path=str(SITE / "admin"),
    )


def test_render_template_finds_template_in_app_folder_and_extends_layout(app: Flask) -> None:
    with app.test_request_context():
        text = render_template("hello.html", name="Ada")
    assert "<title>Hello - Site</title>" in text
    assert "<main>Hello Ada!</main>" in text


def test_jinja_env_is_miniflask_environment_bound_to_app(app: Flask) -> None:
    assert isinstance(app.jinja_env, Environment)
    assert app.jinja_env.app is app
    assert isinstance(app.jinja_env.loader, DispatchingJinjaLoader)


def test_environment_keeps_an_explicit_loader(app: Flask) -> None:
    loader = jinja2.DictLoader({"x.html": "dict"})
    env = Environment(app, loader=loader)
    assert env.loader is loader
    assert env.get_template("x.html").render() == "dict"


DOTTED_NAMES_ON_DICTS = [
    ("{{ d.name }}", {"name": "<ada>"}, "&lt;ada&gt;"),
    ("{{ d.missing is undefined }}", {"name": "x"}, "True"),
    ("{{ d.items is callable }}", {"items": 3}, "True"),  # a dict's method wins, as in Jinja
    ("{{ d['items'] }}", {"items": 3}, "3"),
    ("{{ d.keys()|list|length }}", {"a": 1, "b": 2}, "2"),
    ("{% for row in rows %}{{ row.n }},{% endfor %}", None, "1,2,"),
]


@pytest.mark.parametrize(("source", "value", "expected"), DOTTED_NAMES_ON_DICTS)
def test_dotted_names_on_dicts_render_as_jinja_renders_them(
    app: Flask, source: str, value: Any, expected: str
) -> None:
    context = {"d": value, "rows": [{"n": 1}, {"n": 2}]}
    with app.test_request_context():
        assert render_template_string(source, **context) == expected
    assert jinja2.Environment(autoescape=True).from_string(source).render(context) == expected


def test_dotted_name_on_dict_subclass_and_strict_undefined(app: Flask) -> None:
    class Row(dict[str, Any]):
        label = "from the class"

    env = app.jinja_env
    assert env.getattr(Row(label="from the dict"), "label") == "from the class"
    strict = Environment(app, undefined=jinja2.StrictUndefined)
    with pytest.raises(jinja2.UndefinedError, match="'dict object' has no attribute 'nope'"):
        strict.from_string("{{ d.nope }}").render(d={})


def test_templates_start_from_the_context_jinja_gives_them(app: Flask) -> None:
    env = app.jinja_env
    template = env.from_string("{{ site }} {{ own }}", globals={"own": "template", "g": "own g"})
    assert isinstance(template, Template)
    plain = jinja2.Template.new_context(template, {"x": 1}, locals={"l_y": 2})
    ours = template.new_context({"x": 1}, locals={"l_y": 2})
    assert list(ours.parent.items()) == list(plain.parent.items())
    assert ours.globals_keys == plain.globals_keys
    assert ours.parent["g"] == "own g"  # the template's own globals win over the app's


def test_globals_added_after_a_template_loaded_still_reach_it(app: Flask) -> None:
    template = app.jinja_env.from_string("{{ added|default('missing') }}")
    assert template.render() == "missing"
    app.jinja_env.globals["added"] = "present"
    assert template.render() == "present"


def test_blueprint_template_folder_is_searched_after_app_folder(
    app: Flask, admin: Blueprint
) -> None:
    app.register_blueprint(admin)
    with app.test_request_context():
        # Only the blueprint has it: found in the blueprint's folder.
        assert render_template("admin/only.html") == "only in the blueprint"
        # Both have it: the app's folder wins (the app can override blueprints).
        assert render_template("shared.html") == "app version"


def test_blueprint_template_can_extend_app_layout(app: Flask, admin: Blueprint) -> None:
    app.register_blueprint(admin)
    with app.test_request_context():
        text = render_template("admin/dashboard.html", user="ada")
    assert "<title>Dashboard - Site</title>" in text
    assert "Admin ada: app version" in text


def test_blueprint_templates_are_searched_in_registration_order(app: Flask, tmp_path: Path) -> None:
    for name in ("first", "second"):
        (tmp_path / name / "templates").mkdir(parents=True)
        (tmp_path / name / "templates" / "which.txt").write_text(name)
        bp = Blueprint(name, __name__, template_folder="templates", root_path=str(tmp_path / name))
        app.register_blueprint(bp)
    with app.app_context():
        assert render_template("which.txt") == "first"


def test_list_templates_merges_app_and_blueprint_folders(app: Flask, admin: Blueprint) -> None:
    app.register_blueprint(admin)
    names = app.jinja_env.list_templates()
    assert {"hello.html", "shared.html", "admin/only.html", "admin/dashboard.html"} <= set(names)
    assert names.count("shared.html") == 1


def test_missing_template_raises_template_not_found(app: Flask) -> None:
    with app.app_context(), pytest.raises(jinja2.TemplateNotFound):
        render_template("nope.html")


def test_template_list_renders_first_existing(app: Flask) -> None:
    with app.app_context():
        assert render_template(["nope.html", "shared.html"]) == "app version"


def test_render_template_needs_an_app_context(app: Flask) -> None:
    with pytest.raises(RuntimeError, match="application context"):
        render_template("shared.html")


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("value.html", "&lt;b&gt;"),
        ("value.xml", "&lt;b&gt;"),
        ("value.txt", "<b>"),
    ],
)
def test_autoescape_depends_on_template_extension(app: Flask, template: str, expected: str) -> None:
    with app.app_context():
        assert render_template(template, value="<b>") == expected


def test_string_templates_are_autoescaped(app: Flask) -> None:
    with app.app_context():
        assert render_template_string("{{ v }}", v="<i>") == "&lt;i&gt;"
        assert render_template_string("{{ v|safe }}", v="<i>") == "<i>"
        assert render_template_string("{{ v }}", v=Markup("<i>")) == "<i>"


def test_select_jinja_autoescape_by_filename(app: Flask) -> None:
    assert app.select_jinja_autoescape(None) is True
    for name in ("a.html", "a.htm", "a.xml", "a.xhtml", "a.svg"):
        assert app.select_jinja_autoescape(name) is True
    assert app.select_jinja_autoescape("a.txt") is False


def test_default_context_has_request_g_session_config_url_for(app: Flask) -> None:
    with app.test_request_context("/"):
        g.user = "ada"
        session["user"] = "bob"
        text = render_template("context.html")
    assert text == "/|None|ada|bob|Site|/"


def test_request_blueprint_is_visible_in_blueprint_views(app: Flask, admin: Blueprint) -> None:
    @admin.get("/ctx")
    def ctx() -> str:
        return render_template_string("{{ request.blueprint }}|{{ request.path }}")

    app.register_blueprint(admin)
    assert app.test_client().get("/admin/ctx").text == "admin|/admin/ctx"


def test_default_ctx_processor_gives_real_objects_not_proxies(app: Flask) -> None:
    with app.test_request_context("/") as ctx:
        values = _default_template_ctx_processor()
        assert values["request"] is ctx.request
        assert values["g"] is g._get_current_object()  # type: ignore[attr-defined]
        # Flask leaves the session to the Jinja global, so rendering alone
        # does not mark the session accessed.
        assert "session" not in values


def test_default_ctx_processor_outside_contexts_is_empty_and_app_only_has_g(app: Flask) -> None:
    assert _default_template_ctx_processor() == {}
    with app.app_context():
        assert set(_default_template_ctx_processor()) == {"g"}


def test_rendering_without_touching_session_does_not_add_vary_cookie(app: Flask) -> None:
    @app.get("/page")
    def page() -> str:
        return render_template("value.html", value="x")

    response = app.test_client().get("/page")
    assert "Cookie" not in response.headers.get("Vary", "")


def test_app_context_processor_values_reach_every_template(app: Flask) -> None:
    @app.context_processor
    def inject() -> dict[str, Any]:
        return {"who": "processor", "shared": "app"}

    with app.app_context():
        assert render_template("processed.html") == "processor|app"


def test_explicit_context_wins_over_context_processor(app: Flask) -> None:
    @app.context_processor
    def inject() -> dict[str, Any]:
        return {"who": "processor", "shared": "app"}

    with app.app_context():
        assert render_template("processed.html", who="caller") == "caller|app"


def test_blueprint_context_processor_only_runs_for_its_requests(
    app: Flask, admin: Blueprint
) -> None:
    @admin.context_processor
    def admin_only() -> dict[str, Any]:
        return {"who": "admin"}

    @admin.app_context_processor
    def everywhere() -> dict[str, Any]:
        return {"shared": "from admin, app-wide"}

    @admin.get("/p")
    def admin_page() -> str:
        return render_template("processed.html")

    @app.get("/p")
    def app_page() -> str:
        return render_template("processed.html")

    app.register_blueprint(admin)
    client = app.test_client()
    assert client.get("/admin/p").text == "admin|from admin, app-wide"
    assert client.get("/p").text == "|from admin, app-wide"


def test_nested_blueprint_processors_run_outer_first_so_inner_wins(app: Flask) -> None:
    parent = Blueprint("parent", __name__, url_prefix="/parent")
    child = Blueprint("child", __name__, url_prefix="/child")

    @parent.context_processor
    def outer() -> dict[str, Any]:
        return {"who": "parent", "shared": "parent"}

    @child.context_processor
    def inner() -> dict[str, Any]:
        return {"who": "child"}

    @child.get("/")
    def page() -> str:
        return render_template("processed.html")

    parent.register_blueprint(child)
    app.register_blueprint(parent)
    assert app.test_client().get("/parent/child/").text == "child|parent"


def test_app_template_filter_test_and_global(app: Flask) -> None:
    @app.template_filter()
    def reverse(value: str) -> str:
        return value[::-1]

    @app.template_filter("shout")
    def make_loud(value: str) -> str:
        return value.upper()

    @app.template_test("even")
    def is_even(value: int) -> bool:
        return value % 2 == 0

    @app.template_global()
    def answer() -> int:
        return 42

    with app.app_context():
        text = render_template_string(
            "{{ 'abc'|reverse }} {{ 'hi'|shout }} {{ 4 is even }} {{ 3 is even }} {{ answer() }}"
        )
    assert text == "cba HI True False 42"


def test_add_template_functions_without_decorators(app: Flask) -> None:
    app.add_template_filter(str.title, "title_case")
    app.add_template_test(lambda value: value == 0, "zero")
    app.add_template_global(len, "size")
    with app.app_context():
        text = render_template_string("{{ 'ab cd'|title_case }} {{ 0 is zero }} {{ size('abc') }}")
    assert text == "Ab Cd True 3"


def test_blueprint_app_template_functions_are_app_wide(app: Flask, admin: Blueprint) -> None:
    @admin.app_template_filter()
    def double(value: int) -> int:
        return value * 2

    @admin.app_template_test()
    def positive(value: int) -> bool:
        return value > 0

    @admin.app_template_global("site_title")
    def title() -> str:
        return "Admin"

    admin.add_app_template_filter(str.lower, "lower_case")
    app.register_blueprint(admin)
    with app.app_context():
        text = render_template_string(
            "{{ 2|double }} {{ 1 is positive }} {{ site_title() }} {{ 'AB'|lower_case }}"
        )
    assert text == "4 True Admin ab"


def test_signals_are_sent_around_rendering_with_template_and_context(app: Flask) -> None:
    events: list[tuple[str, Any, Any, dict[str, Any]]] = []

    def before(sender: Any, template: Any, context: dict[str, Any]) -> None:
        events.append(("before", sender, template, dict(context)))

    def after(sender: Any, template: Any, context: dict[str, Any]) -> None:
        events.append(("after", sender, template, dict(context)))

    with (
        before_render_template.connected_to(before, app),
        template_rendered.connected_to(after, app),
        app.test_request_context(),
    ):
        render_template("hello.html", name="Ada")

    assert [event[0] for event in events] == ["before", "after"]
    for _, sender, template, context in events:
        assert sender is app
        assert template.name == "hello.html"
        assert context["name"] == "Ada"
        # The processors ran before the signal: the context is complete.
        assert "request" in context
        assert "g" in context


def test_signals_are_not_received_for_another_app(app: Flask) -> None:
    other = Flask("other", root_path=str(SITE))
    received: list[Any] = []
    with template_rendered.connected_to(lambda sender, **kw: received.append(sender), other):
        with app.app_context():
            render_template_string("x")
        with other.app_context():
            render_template_string("x")
    assert received == [other]


def test_stream_template_yields_pieces_and_signals_when_exhausted(app: Flask) -> None:
    rendered: list[str] = []
    with (
        template_rendered.connected_to(lambda s, template, context: rendered.append("done"), app),
        app.app_context(),
    ):
        stream = stream_template("value.html", value="<Ada>")
        assert not isinstance(stream, str)
        assert rendered == []
        text = "".join(stream)
    assert text == "&lt;Ada&gt;"
    assert rendered == ["done"]


def test_stream_template_keeps_request_context_while_the_response_streams(app: Flask) -> None:
    @app.get("/stream")
    def streamed() -> Any:
        return stream_template_string("{{ request.path }} {{ request.args['x'] }}")

    response = app.test_client().get("/stream?x=1")
    assert response.status_code == 200
    assert response.text == "/stream 1"
    assert response.mimetype == "text/html"


def test_stream_template_string_escapes(app: Flask) -> None:
    with app.app_context():
        assert "".join(stream_template_string("{{ v }}", v="<>")) == "&lt;&gt;"


def test_tojson_filter_uses_app_json_and_is_safe_in_script(app: Flask) -> None:
    with app.app_context():
        text = render_template_string(
            "<script>var d = {{ data|tojson }};</script>",
            data={"b": "</script>", "a": 1},
        )
    # Sorted keys come from app.json; "<" and ">" are escaped for <script>.
    assert text == '<script>var d = {"a": 1, "b": "\\u003c/script\\u003e"};</script>'


def test_explain_template_loading_logs_each_folder_tried(
    app: Flask, admin: Blueprint, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["EXPLAIN_TEMPLATE_LOADING"] = True
    app.register_blueprint(admin)
    with caplog.at_level(logging.INFO, logger=app.logger.name), app.app_context():
        assert render_template("shared.html") == "app version"
    log = "\n".join(record.getMessage() for record in caplog.records)
    assert "Locating template 'shared.html'" in log
    assert "trying loader of application 'templating_site'" in log
    assert "trying loader of blueprint 'admin'" in log
    assert "Warning: multiple loaders returned a match" in log


def test_explain_template_loading_reports_missing_template(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    app.config["EXPLAIN_TEMPLATE_LOADING"] = True
    with (
        caplog.at_level(logging.INFO, logger=app.logger.name),
        app.app_context(),
        pytest.raises(jinja2.TemplateNotFound),
    ):
        render_template("nope.html")
    assert "Error: the template could not be found." in caplog.text


def test_auto_reload_follows_debug_and_templates_auto_reload(app: Flask) -> None:
    assert app.jinja_env.auto_reload is False
    app.debug = True
    assert app.jinja_env.auto_reload is True
    other = Flask("other", root_path=str(SITE))
    other.config["TEMPLATES_AUTO_RELOAD"] = True
    assert other.jinja_env.auto_reload is True


def test_jinja_options_are_passed_to_the_environment(app: Flask) -> None:
    class TrimmedFlask(Flask):
        jinja_options = {"trim_blocks": True}

    trimmed = TrimmedFlask("trimmed", root_path=str(SITE))
    assert trimmed.jinja_env.trim_blocks is True
    assert app.jinja_env.trim_blocks is False


def test_session_global_reads_session_in_templates(app: Flask) -> None:
    @app.get("/set")
    def set_user() -> str:
        session["user"] = "ada"
        return "ok"

    @app.get("/show")
    def show() -> str:
        return render_template_string("{{ session['user'] }}")

    client = app.test_client()
    client.get("/set")
    response = client.get("/show")
    assert response.text == "ada"
    assert "Cookie" in response.headers["Vary"]
