"""Tests for ``examples/build/``: a framework grown from a WSGI function in steps.

Each step is loaded afresh from its file for every test (hooks and handlers a
test adds stay in that test) and called through Werkzeug's test ``Client``, as
a server would call it. Besides each step's own behaviour, four checks keep the
path a path a learner can follow:

* each step still does what the steps before it did (the shared routes);
* each step's file differs from the previous one by additions and small
  changes: at most :data:`MAX_REMOVED_LINES` lines of the previous code go;
* every step imports only the standard library, Werkzeug, Jinja2, blinker and
  itsdangerous, never Flask or miniflask;
* ``docs/build.md`` shows step 1 and every diff exactly as the files give them.
  After editing a step, ``.venv/bin/python tests/examples/test_build.py``
  rewrites those blocks of the page.
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
import re
import subprocess
import sys
import threading
from itertools import pairwise
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from jinja2 import DictLoader
from werkzeug.test import Client

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "examples" / "build"
PAGE = ROOT / "docs" / "build.md"
STEPS = sorted(path.stem for path in BUILD.glob("step[0-9][0-9]_*.py"))

#: The most non-blank lines a step may delete from the previous one's code (its
#: module docstring aside, which each step rewrites). A step edits the lines where
#: its concept plugs in; the most, step 4, turns step 3's module-level ``app``
#: function (about twenty lines) into the ``App`` class. Beyond this the diff
#: stops reading as "what was added".
MAX_REMOVED_LINES = 25
ALLOWED_IMPORTS = {"werkzeug", "jinja2", "blinker", "itsdangerous"}
#: ``<!-- build: step01_wsgi.py -->`` (the whole file) or ``<!-- build: a.py b.py -->``
#: (the diff from a to b), each followed by the fenced block it names.
BLOCK = re.compile(
    r"^<!-- build: (?P<files>[\w.]+(?: [\w.]+)?) -->\n```(?P<lang>\w+)\n(?P<body>.*?)^```$",
    re.MULTILINE | re.DOTALL,
)
#: ``[`Flask.wsgi_app`](../miniflask/app.py)``: a link naming a class, method or name in a file.
POINTER = re.compile(r"\[`(?P<name>[\w.]+)(?:\(\))?`\]\(\.\./(?P<path>miniflask/[\w/]+\.py)\)")


def load(step: str) -> ModuleType:
    """Import a step's file as a fresh module (its app, hooks and signals are new)."""
    name = f"build_{step}"
    spec = importlib.util.spec_from_file_location(name, BUILD / f"{step}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered like any import, so ``App(__name__)`` can find the file's folder.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def step_named(prefix: str) -> str:
    return next(step for step in STEPS if step.startswith(prefix))


def client_for(step: str) -> tuple[ModuleType, Client]:
    module = load(step)
    return module, Client(module.app)


def steps_from(prefix: str) -> list[str]:
    return STEPS[STEPS.index(step_named(prefix)) :]


# What every step does, and goes on doing as it grows.


def test_there_are_about_ten_steps_numbered_in_order() -> None:
    assert 10 <= len(STEPS) <= 12
    assert [int(step[4:6]) for step in STEPS] == list(range(1, len(STEPS) + 1))


@pytest.mark.parametrize("step", STEPS)
def test_every_step_answers_its_home_page(step: str) -> None:
    _, client = client_for(step)
    response = client.get("/")
    assert response.status_code == 200
    assert response.get_data(as_text=True).startswith("Hello")


@pytest.mark.parametrize("step", steps_from("step02"))
def test_every_routed_step_answers_404_and_405(step: str) -> None:
    _, client = client_for(step)
    assert client.get("/hello/ada").get_data(as_text=True) == "Hello ada"
    assert client.get("/nowhere").status_code == 404
    not_allowed = client.post("/hello/ada")
    assert not_allowed.status_code == 405
    # RFC 9110 §15.5.6: a 405 lists the methods the URL does accept.
    assert "GET" in not_allowed.headers["Allow"]


@pytest.mark.parametrize("step", STEPS)
def test_every_step_runs_as_a_script_and_shows_its_demo(step: str) -> None:
    result = subprocess.run(
        [sys.executable, str(BUILD / f"{step}.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert "GET / -> 200 OK: Hello" in result.stdout


# Step 1: a bare WSGI callable.


def test_step01_is_a_wsgi_callable_called_by_hand() -> None:
    module = load(step_named("step01"))
    sent: list[tuple[str, list[tuple[str, str]]]] = []
    body = module.app({"PATH_INFO": "/x"}, lambda status, headers: sent.append((status, headers)))
    assert b"".join(body) == b"Hello from /x"
    assert sent == [
        ("200 OK", [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "13")])
    ]


# Step 2: routing with Werkzeug's Map and Rule.


def test_step02_maps_urls_to_endpoints_and_views() -> None:
    module = load(step_named("step02"))
    adapter = module.url_map.bind("localhost")
    assert adapter.match("/hello/ada") == ("hello", {"name": "ada"})
    assert set(module.view_functions) == {rule.endpoint for rule in module.url_map.iter_rules()}


# Step 3: the request and response objects.


def test_step03_views_read_the_request_object() -> None:
    _, client = client_for(step_named("step03"))
    response = client.get("/hello/ada?greeting=Hi")
    assert response.get_data(as_text=True) == "Hi ada"
    assert response.mimetype == "text/plain"


# Step 4: the app object, its route decorator and make_response.


@pytest.mark.parametrize("step", steps_from("step04"))
def test_return_values_become_responses(step: str) -> None:
    module, client = client_for(step)
    assert client.get("/").mimetype == "text/html"
    created = client.post("/users", data={"name": "ada"})
    assert created.status_code == 201
    assert created.json == {"name": "ada"}

    @module.app.route("/with-headers")
    def with_headers(*request: Any) -> tuple[str, int, dict[str, str]]:
        # Until step 5 views are called with the request; from then on, without.
        return "teapot", 418, {"X-Kind": "teapot"}

    response = client.get("/with-headers")
    assert (response.status_code, response.headers["X-Kind"]) == (418, "teapot")


def test_step04_a_view_returning_none_is_an_error_that_says_so() -> None:
    module, client = client_for(step_named("step04"))

    @module.app.route("/forgot")
    def forgot(request: Any) -> None:
        pass

    with pytest.raises(TypeError, match="did not return a valid response"):
        client.get("/forgot")


def test_step04_a_second_view_for_an_endpoint_fails_at_once() -> None:
    module = load(step_named("step04"))
    with pytest.raises(AssertionError, match="'index'"):
        module.app.add_url_rule("/other", "index", lambda request: "other")


# Step 5: contexts and proxies.


def test_step05_views_reach_the_app_g_and_url_for_through_proxies() -> None:
    _, client = client_for(step_named("step05"))
    assert client.get("/whoami?name=ada").json == {
        "app": "build_step05_contexts",
        "visitor": "ada",
        "url": "/hello/ada",
    }


@pytest.mark.parametrize("step", steps_from("step05"))
def test_the_proxies_are_unbound_outside_a_context_and_bound_inside(step: str) -> None:
    module = load(step)
    with pytest.raises(RuntimeError, match="outside of request context"):
        module.request.path  # noqa: B018
    with pytest.raises(RuntimeError, match="outside of application context"):
        module.g.get("user")
    with module.app.app_context():
        assert module.current_app.import_name == module.app.import_name
        module.g.user = "ada"
        assert "user" in module.g
    with pytest.raises(RuntimeError):
        module.current_app.import_name  # noqa: B018


@pytest.mark.parametrize("step", steps_from("step05"))
def test_requests_in_two_threads_each_see_their_own_request(step: str) -> None:
    module = load(step)
    both_inside = threading.Barrier(2, timeout=10)

    @module.app.route("/wait/<name>")
    def wait(name: str) -> str:
        both_inside.wait()  # both requests are now in flight at once
        return f"{module.request.path} {module.g.get('visitor', name)}"

    answers: dict[str, str] = {}

    def call(name: str) -> None:
        answers[name] = Client(module.app).get(f"/wait/{name}").get_data(as_text=True)

    threads = [threading.Thread(target=call, args=(name,)) for name in ("ada", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == {"ada": "/wait/ada ada", "bob": "/wait/bob bob"}


# Step 6: before, after and teardown hooks.


@pytest.mark.parametrize("step", steps_from("step06"))
def test_hooks_run_in_flask_order_around_the_view(step: str) -> None:
    module, client = client_for(step)
    calls: list[str] = []
    app = module.app
    app.before_request(lambda: calls.append("before 1"))
    app.before_request(lambda: calls.append("before 2"))

    @app.route("/order")
    def order() -> str:
        calls.append("view")
        return "ok"

    def after(name: str) -> Any:
        return lambda response: calls.append(name) or response

    app.after_request(after("after 1"))
    app.after_request(after("after 2"))
    app.teardown_request(lambda exc: calls.append(f"teardown 1 {exc}"))
    app.teardown_request(lambda exc: calls.append(f"teardown 2 {exc}"))
    assert client.get("/order").status_code == 200
    assert calls == [
        "before 1",
        "before 2",
        "view",
        "after 2",
        "after 1",
        "teardown 2 None",
        "teardown 1 None",
    ]


@pytest.mark.parametrize("step", steps_from("step06"))
def test_a_before_request_value_skips_the_view(step: str) -> None:
    _, client = client_for(step)
    refused = client.get("/admin")
    assert (refused.status_code, refused.get_data(as_text=True)) == (401, "Log in first")
    assert refused.headers["X-Powered-By"] == "build-it-yourself"
    assert client.get("/admin?user=ada").get_data(as_text=True) == "Welcome, ada"


def test_step06_teardown_gets_the_exception_that_ended_the_request() -> None:
    module, client = client_for(step_named("step06"))
    seen: list[BaseException | None] = []
    module.app.teardown_request(seen.append)

    @module.app.route("/fail")
    def fail() -> str:
        raise ValueError("broken")

    with pytest.raises(ValueError, match="broken"):
        client.get("/fail")
    assert [type(exc) for exc in seen] == [ValueError]


@pytest.mark.parametrize("step", steps_from("step06"))
def test_a_failing_teardown_function_still_pops_the_contexts(step: str) -> None:
    module, client = client_for(step)

    def fail(exc: BaseException | None) -> None:
        raise RuntimeError("teardown failed")

    module.app.teardown_request(fail)
    with pytest.raises(RuntimeError, match="teardown failed"):
        client.get("/")
    assert module._cv_request.get(None) is None
    assert module._cv_app.get(None) is None


# Step 7: error handlers.


@pytest.mark.parametrize("step", steps_from("step07"))
def test_error_handlers_are_found_by_code_then_by_class(step: str) -> None:
    module, client = client_for(step)
    # By status code: the 404 of the URL map.
    assert client.get("/nowhere").get_data(as_text=True) == "Nothing at /nowhere"
    # By class: IndexError is a LookupError.
    missing = client.get("/users/7")
    assert (missing.status_code, missing.get_data(as_text=True)) == (
        404,
        "No such thing: list index out of range",
    )
    # A handler for HTTPException takes the 405, but the 404 handler stays more specific.
    module.app.register_error_handler(module.HTTPException, lambda e: (f"HTTP {e.code}", e.code))
    assert client.post("/hello/ada").get_data(as_text=True) == "HTTP 405"
    assert client.get("/nowhere").get_data(as_text=True) == "Nothing at /nowhere"


@pytest.mark.parametrize("step", steps_from("step07"))
def test_an_unhandled_exception_is_logged_and_becomes_a_500(
    step: str, caplog: pytest.LogCaptureFixture
) -> None:
    module, client = client_for(step)
    torn_down: list[BaseException | None] = []
    module.app.teardown_request(torn_down.append)

    @module.app.route("/fail")
    def fail() -> str:
        raise ValueError("broken")

    assert client.get("/fail").status_code == 500
    assert "Exception on /fail [GET]" in caplog.text
    assert [type(exc) for exc in torn_down] == [ValueError]

    @module.app.errorhandler(500)
    def server_error(e: Any) -> tuple[str, int]:
        return f"Sorry: {e.original_exception}", 500

    assert client.get("/fail").get_data(as_text=True) == "Sorry: broken"
    module.app.testing = True
    with pytest.raises(ValueError, match="broken"):
        client.get("/fail")


# Step 8: blueprints.


@pytest.mark.parametrize("step", steps_from("step08"))
def test_a_blueprints_routes_get_its_prefix_and_dotted_endpoints(step: str) -> None:
    module, client = client_for(step)
    answer = client.get("/api/users/1?token=secret")
    assert answer.json == {"name": "bob", "url": "/api/users/1"}
    rule = next(rule for rule in module.app.url_map.iter_rules() if rule.rule.startswith("/api"))
    assert (rule.rule, rule.endpoint) == ("/api/users/<int:user_id>", "api.get_user")


@pytest.mark.parametrize("step", steps_from("step08"))
def test_a_blueprints_hooks_and_handlers_apply_to_its_views_only(step: str) -> None:
    _, client = client_for(step)
    # Its before_request guards its views, not the app's.
    assert client.get("/api/users/1").status_code == 401
    assert client.get("/users/1").status_code == 200
    # Its LookupError handler is nearer than the app's for its views.
    assert client.get("/api/users/7?token=secret").json == {"error": "no such user"}
    assert client.get("/users/7").get_data(as_text=True).startswith("No such thing")


@pytest.mark.parametrize("step", steps_from("step08"))
def test_a_blueprint_is_a_recording_registered_twice_under_two_names(step: str) -> None:
    module, client = client_for(step)
    calls: list[str] = []
    bp = module.Blueprint("shop", url_prefix="/shop")

    @bp.route("/items")
    def items() -> str:
        return module.url_for(f"{module.request.blueprint}.items")

    bp.after_request(lambda response: calls.append("after") or response)
    bp.teardown_request(lambda exc: calls.append("teardown"))
    assert not module.app.url_map._rules_by_endpoint.get("shop.items")  # nothing yet
    module.app.register_blueprint(bp)
    module.app.register_blueprint(bp, name="shop_v2", url_prefix="/v2/shop")
    assert client.get("/shop/items").get_data(as_text=True) == "/shop/items"
    assert client.get("/v2/shop/items").get_data(as_text=True) == "/v2/shop/items"
    assert calls == ["after", "teardown"] * 2
    assert client.get("/").status_code == 200 and calls == ["after", "teardown"] * 2
    with pytest.raises(ValueError, match="'shop'"):
        module.app.register_blueprint(bp)


# Step 9: signals.


@pytest.mark.parametrize("step", steps_from("step09"))
def test_signals_reach_their_receivers_with_the_app_as_sender(step: str) -> None:
    module, client = client_for(step)
    received: list[tuple[str, Any]] = []

    @module.app.route("/fail")
    def fail() -> str:
        raise ValueError("broken")

    def receiver(name: str) -> Any:
        def receive(sender: Any, **extra: Any) -> None:
            assert sender is module.app
            received.append((name, next(iter(extra.values()), None)))

        return receive

    receivers = {
        name: receiver(name)
        for name in (
            "request_started",
            "request_finished",
            "got_request_exception",
            "request_tearing_down",
        )
    }
    for name, receive in receivers.items():
        getattr(module, name).connect(receive, sender=module.app)
    client.get("/")
    assert [name for name, _ in received] == [
        "request_started",
        "request_finished",
        "request_tearing_down",
    ]
    assert received[1][1].status_code == 200
    received.clear()
    client.get("/fail")
    assert [name for name, _ in received][1:3] == ["got_request_exception", "request_finished"]
    assert isinstance(received[1][1], ValueError)
    assert module.statuses[-2:] == [200, 500]


# Step 10: templates.


@pytest.mark.parametrize("step", steps_from("step10"))
def test_a_template_renders_with_the_contexts_globals_and_escapes(step: str) -> None:
    module, client = client_for(step)
    rendered: list[tuple[str, dict[str, Any]]] = []
    module.template_rendered.connect(
        lambda sender, template, context: rendered.append((template.name, context)),
        sender=module.app,
        weak=False,
    )
    page = client.get("/page/%3Cb%3Eada")
    assert page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "<h1>Hello &lt;b&gt;ada!</h1>" in html
    assert "You asked for /page/&lt;b&gt;ada, and <code>g.visitor</code> is &lt;b&gt;ada." in html
    assert 'href="/hello/%3Cb%3Eada"' in html
    assert [name for name, _ in rendered] == ["page.html"]
    assert {"g", "request", "name"} <= set(rendered[0][1])


@pytest.mark.parametrize("step", steps_from("step10"))
def test_templates_render_in_an_app_context_without_a_request(step: str) -> None:
    module = load(step)
    module.app.jinja_env.loader = DictLoader({"note.txt": "{{ g.who }} {{ request }}"})
    with module.app.app_context():
        module.g.who = "cli"
        assert module.render_template("note.txt") == "cli "
    with pytest.raises(RuntimeError, match="outside of application context"):
        module.render_template("note.txt")


@pytest.mark.parametrize("step", steps_from("step10"))
def test_a_template_string_is_autoescaped_too(step: str) -> None:
    module = load(step)
    with module.app.app_context():
        assert module.render_template_string("<p>{{ x }}</p>", x="<b>") == "<p>&lt;b&gt;</p>"


# Step 11: sessions.


def session_cookie(client: Client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_step11_the_session_survives_between_requests_in_a_signed_cookie() -> None:
    module, client = client_for(step_named("step11"))
    assert client.get("/visits").get_data(as_text=True) == "Visits: 1"
    assert client.get("/visits").get_data(as_text=True) == "Visits: 2"
    # Readable by the client (only base64 of JSON), but signed.
    payload = session_cookie(client).split(".")[0]
    assert module.URLSafeTimedSerializer("x").load_payload(payload.encode()) == {"visits": 2}
    response = client.get("/")
    assert "Set-Cookie" not in response.headers  # unchanged: no new cookie


def test_step11_a_tampered_session_cookie_is_refused() -> None:
    module, client = client_for(step_named("step11"))
    client.get("/visits")
    client.get("/visits")
    forged_payload = module.URLSafeTimedSerializer("x").dump_payload({"visits": 1000}).decode()
    _, timestamp, signature = session_cookie(client).split(".")
    client.set_cookie("session", f"{forged_payload}.{timestamp}.{signature}")
    assert client.get("/visits").get_data(as_text=True) == "Visits: 1"
    # Signed with another key: refused too.
    other = module.URLSafeTimedSerializer("another key", salt="cookie-session")
    client.set_cookie("session", other.dumps({"visits": 1000}))
    assert client.get("/visits").get_data(as_text=True) == "Visits: 1"


def test_step11_emptying_the_session_deletes_the_cookie() -> None:
    module, client = client_for(step_named("step11"))

    @module.app.route("/logout")
    def logout() -> str:
        module.session.clear()
        return "bye"

    client.get("/visits")
    response = client.get("/logout")
    assert "session=;" in response.headers["Set-Cookie"]
    assert "Cookie" in response.headers["Vary"]
    assert client.get_cookie("session") is None


def test_step11_without_a_secret_key_writing_the_session_says_why() -> None:
    module, client = client_for(step_named("step11"))
    module.app.secret_key = None
    module.app.testing = True
    with pytest.raises(RuntimeError, match="no secret key was set"):
        client.get("/visits")


# The path stays a path.


def removed_lines(previous: str, current: str) -> list[str]:
    """The non-blank lines of ``previous`` that ``current`` drops, its module docstring aside."""
    diff = list(difflib.unified_diff(code_lines(previous), code_lines(current), n=0))
    body = diff[2:]  # after the "---" and "+++" header lines
    return [line for line in body if line.startswith("-") and line[1:].strip()]


def read_lines(step: str) -> list[str]:
    return (BUILD / f"{step}.py").read_text(encoding="utf-8").splitlines(keepends=True)


def code_lines(step: str) -> list[str]:
    """A step's lines after its module docstring, which each step rewrites to say what it adds."""
    lines = read_lines(step)
    docstring = ast.parse("".join(lines)).body[0]
    assert isinstance(docstring, ast.Expr) and isinstance(docstring.value, ast.Constant)
    return lines[docstring.end_lineno or 0 :]


@pytest.mark.parametrize("previous, current", list(pairwise(STEPS)))
def test_each_step_grows_the_previous_one_by_additions_and_small_changes(
    previous: str, current: str
) -> None:
    removed = removed_lines(previous, current)
    assert len(removed) <= MAX_REMOVED_LINES, "".join(removed)
    assert len(read_lines(current)) > len(read_lines(previous))


@pytest.mark.parametrize("step", STEPS)
def test_each_step_imports_only_the_standard_library_and_flasks_four_libraries(
    step: str,
) -> None:
    tree = ast.parse((BUILD / f"{step}.py").read_text(encoding="utf-8"))
    imported = {
        name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
        )
    }
    assert imported <= sys.stdlib_module_names | ALLOWED_IMPORTS, imported
    assert not imported & {"flask", "miniflask"}


# docs/build.md shows what the files hold.


def expected_block(files: str) -> str:
    """What the page must show under ``<!-- build: files -->``."""
    names = files.split()
    if len(names) == 1:
        return (BUILD / names[0]).read_text(encoding="utf-8")
    before, after = ((BUILD / name).read_text(encoding="utf-8") for name in names)
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"examples/build/{names[0]}",
            tofile=f"examples/build/{names[1]}",
        )
    )


def page_blocks() -> list[re.Match[str]]:
    return list(BLOCK.finditer(PAGE.read_text(encoding="utf-8")))


def test_the_page_shows_step_one_and_then_each_steps_diff_in_order() -> None:
    files = [f"{step}.py" for step in STEPS]
    wanted = [files[0], *(f"{a} {b}" for a, b in pairwise(files))]
    assert [block.group("files") for block in page_blocks()] == wanted


@pytest.mark.parametrize("block", page_blocks(), ids=lambda block: block.group("files"))
def test_each_block_on_the_page_is_what_the_files_give(block: re.Match[str]) -> None:
    assert block.group("lang") == ("python" if " " not in block.group("files") else "diff")
    assert block.group("body") == expected_block(block.group("files")), (
        "docs/build.md is out of date: run .venv/bin/python tests/examples/test_build.py"
    )


@pytest.mark.parametrize("page", ["build.md", "glossary.md"])
def test_the_pages_pointers_into_miniflask_name_what_is_there(page: str) -> None:
    pointers = list(POINTER.finditer((ROOT / "docs" / page).read_text(encoding="utf-8")))
    assert len(pointers) >= 10
    for pointer in pointers:
        source = (ROOT / pointer.group("path")).read_text(encoding="utf-8")
        for part in pointer.group("name").split("."):
            defined = rf"^\s*(?:(?:async )?def|class) {part}\b|^{part}\s*[:=]"
            assert re.search(defined, source, re.MULTILINE), (
                f"{page}: {pointer.group(0)} names {part!r}, not defined in {pointer.group('path')}"
            )


def write_page_blocks() -> None:
    """Rewrite every generated block of docs/build.md from the files."""
    text = PAGE.read_text(encoding="utf-8")

    def refill(block: re.Match[str]) -> str:
        files, lang = block.group("files", "lang")
        return f"<!-- build: {files} -->\n```{lang}\n{expected_block(files)}```"

    PAGE.write_text(BLOCK.sub(refill, text), encoding="utf-8")


if __name__ == "__main__":
    write_page_blocks()
