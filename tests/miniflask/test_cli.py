"""Tests for ``miniflask/cli/``: finding the app, the options, ``routes``, ``run``, ``app.cli``.

App modules are written to ``tmp_path`` with unique names (an imported module
stays in ``sys.modules``, so reusing a name would load the old one). The
command line runs in-process through click's ``CliRunner``; a few tests start
``python -m miniflask`` and the ``miniflask`` console script for real. The
``routes`` output is compared with real ``flask routes`` on the same routes.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Callable, Iterator
from importlib import metadata
from itertools import count
from pathlib import Path
from typing import Any

import click
import pytest
import werkzeug.serving
from click.testing import CliRunner, Result

import miniflask
from miniflask import Blueprint, Flask, current_app
from miniflask.cli import (
    AppGroup,
    FlaskGroup,
    NoAppException,
    ScriptInfo,
    cli,
    find_best_app,
    load_dotenv,
    locate_app,
    prepare_import,
    with_appcontext,
)

ROOT = Path(__file__).resolve().parents[2]
_names = count()

APP_MODULE = textwrap.dedent(
    """
    from miniflask import Flask
    app = Flask(__name__)

    @app.get("/hello")
    def hello():
        return "hello"
    """
)

ROUTES_SOURCE = """
    def add_routes(app, bp_class):
        @app.route("/", methods=["GET", "POST"])
        def index():
            return "index"

        @app.get("/users/<int:user_id>")
        def user(user_id):
            return "user"

        @app.delete("/a-first")
        def zz_delete():
            return ""

        bp = bp_class("admin", __name__, url_prefix="/admin")

        @bp.put("/settings")
        def settings():
            return ""

        app.register_blueprint(bp)
"""


@pytest.fixture(autouse=True)
def isolated_process_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Keep sys.path, the cwd and the environment as they were.

    The command line changes the environment on purpose (``FLASK_RUN_FROM_CLI``,
    ``FLASK_DEBUG``, variables from ``.env`` files), so it is restored whole.
    """
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(tmp_path)
    saved = dict(os.environ)
    for name in list(os.environ):
        if name.startswith("FLASK_"):
            del os.environ[name]
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def write_module(tmp_path: Path) -> Callable[[str], str]:
    """Write a module with a unique name into tmp_path; return that name."""

    def write(source: str) -> str:
        name = f"cli_app_{os.getpid()}_{next(_names)}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        return name

    return write


def invoke(*args: str, group: click.Command = cli) -> Result:
    """Run the ``miniflask`` command line in-process."""
    return CliRunner().invoke(group, list(args))


# Finding the app: --app, ScriptInfo, locate_app.


@pytest.mark.parametrize(
    ("source", "app_suffix", "expected_name"),
    [
        ("app = Flask('by_app')", "", "by_app"),
        ("application = Flask('by_application')", "", "by_application"),
        ("web = Flask('only_one')", "", "only_one"),
        ("def create_app():\n    return Flask('factory')", "", "factory"),
        ("def make_app():\n    return Flask('make')", "", "make"),
        ("a = Flask('a')\nb = Flask('b')", ":b", "b"),
        (
            "def build(name, debug=False):\n    return Flask(name + str(debug))",
            ":build('x')",
            "xFalse",
        ),
        (
            "def build(name, debug=False):\n    return Flask(name + str(debug))",
            ":build( 'y', debug=True )",
            "yTrue",
        ),
        ("def create_app(config=None):\n    return Flask(str(config))", ":create_app", "None"),
    ],
)
def test_app_discovery_follows_flask_rules(
    write_module: Callable[[str], str], source: str, app_suffix: str, expected_name: str
) -> None:
    module = write_module(f"from miniflask import Flask\n{source}\n")
    assert ScriptInfo(app_import_path=module + app_suffix).load_app().name == expected_name


def test_app_attribute_is_preferred_over_factory(write_module: Callable[[str], str]) -> None:
    module = write_module(
        "from miniflask import Flask\napp = Flask('attr')\n"
        "def create_app():\n    raise AssertionError('not called')\n"
    )
    assert locate_app(prepare_import(module), None).name == "attr"


def test_a_type_error_inside_the_factory_is_not_taken_for_wrong_arguments() -> None:
    class Module:
        @staticmethod
        def create_app() -> Flask:
            raise TypeError("bug in the factory")

    with pytest.raises(TypeError, match="bug in the factory"):
        find_best_app(Module)  # type: ignore[arg-type]


def test_script_info_loads_the_app_once() -> None:
    calls = []
    info = ScriptInfo(create_app=lambda: calls.append(1) or Flask("once"))
    assert info.load_app() is info.load_app()
    assert calls == [1]


def test_script_info_sets_debug_from_flask_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    def debug_app() -> Flask:
        app = Flask("debugging")
        app.debug = True
        return app

    assert ScriptInfo(create_app=debug_app).load_app().debug is False
    assert ScriptInfo(create_app=debug_app, set_debug_flag=False).load_app().debug is True
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert ScriptInfo(create_app=lambda: Flask("d")).load_app().debug is True


def test_app_found_from_a_file_path_in_a_package(tmp_path: Path) -> None:
    package = tmp_path / "src" / "cli_pkg_site"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "web.py").write_text("from miniflask import Flask\napp = Flask('from_path')\n")
    app = ScriptInfo(app_import_path=str(package / "web.py")).load_app()
    assert app.name == "from_path"
    assert "cli_pkg_site.web" in sys.modules
    assert sys.path[0] == str(tmp_path / "src")


@pytest.mark.parametrize(
    ("path", "expected"),
    [("hello.py", "hello"), ("hello", "hello"), ("pkg/__init__.py", "pkg"), ("a.b", "a.b")],
)
def test_prepare_import_names_the_module_and_puts_its_folder_first(
    tmp_path: Path, path: str, expected: str
) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    assert prepare_import(path) == expected
    assert sys.path[0] == str(tmp_path)


def test_a_windows_drive_colon_is_not_the_name_separator(
    write_module: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, str | None]] = []
    monkeypatch.setattr(
        "miniflask.cli.discovery.locate_app", lambda module, name: seen.append((module, name))
    )
    monkeypatch.setattr("miniflask.cli.discovery.prepare_import", lambda path: path)
    with pytest.raises(NoAppException):
        ScriptInfo(app_import_path=r"C:\proj\hello.py:create_app").load_app()
    assert seen == [(r"C:\proj\hello.py", "create_app")]


def test_locate_app_can_return_none_for_a_missing_module_only(
    write_module: Callable[[str], str],
) -> None:
    assert locate_app("no_such_module_xyz", None, raise_if_not_found=False) is None
    broken = prepare_import(write_module("import not_installed_dependency_xyz\n"))
    with pytest.raises(NoAppException, match="While importing"):
        locate_app(broken, None, raise_if_not_found=False)


@pytest.mark.parametrize(
    ("source", "app_arg", "message"),
    [
        ("x = 1", "", "Failed to find Flask application or factory in module"),
        ("a = Flask('a')\nb = Flask('b')", "", "Detected multiple Flask applications"),
        ("def create_app(name):\n    return Flask(name)", "", "could not call it without"),
        ("def create_app(name):\n    return Flask(name)", ":create_app(1, 2)", "could not be"),
        ("app = Flask('a')", ":missing", "Failed to find attribute 'missing'"),
        ("app = Flask('a')", ":app(", "Failed to parse"),
        ("app = Flask('a')", ":1 + 1", "Failed to parse"),
        ("app = Flask('a')", ":os.path", "Failed to parse"),
        ("app = Flask('a')", ":os.getcwd()", "Function reference must be a simple name"),
        ("import os\ndef f(x):\n    return Flask(x)", ":f(os.getcwd())", "literal values"),
        ("x = 1", ":x", "A valid Flask application was not obtained"),
        ("def create_app():\n    return 42", "", "Failed to find Flask application"),
        ("import flask\napp = flask.Flask('real_flask')", "", "Failed to find Flask application"),
    ],
)
def test_discovery_errors_are_usage_errors_with_exit_status_2(
    write_module: Callable[[str], str], source: str, app_arg: str, message: str
) -> None:
    module = write_module(f"from miniflask import Flask\n{source}\n")
    result = invoke("--app", module + app_arg, "routes")
    assert result.exit_code == 2
    assert "Usage:" in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_factory_arguments_are_never_evaluated(
    write_module: Callable[[str], str], tmp_path: Path
) -> None:
    module = write_module("from miniflask import Flask\ndef f(x):\n    return Flask(str(x))\n")
    marker = tmp_path / "pwned"
    assert invoke("--app", f"{module}:f(open({str(marker)!r}, 'w'))", "routes").exit_code == 2
    assert not marker.exists()


def test_missing_module_is_reported_without_traceback() -> None:
    result = invoke("--app", "no_such_module_here.sub", "routes")
    assert result.exit_code == 2
    assert result.stderr.endswith("Error: Could not import 'no_such_module_here.sub'.\n")


def test_import_error_inside_the_module_is_reported_with_its_traceback(
    write_module: Callable[[str], str],
) -> None:
    module = write_module("import os\nimport not_installed_dependency_xyz\n")
    result = invoke("--app", module, "routes")
    assert result.exit_code == 2
    assert f"While importing '{module}', an ImportError was raised" in result.stderr
    # The traceback points at the failing line of the user's module.
    assert f'{module}.py", line 2' in result.stderr
    assert "not_installed_dependency_xyz" in result.stderr


def test_app_defaults_to_flask_app_variable(
    write_module: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLASK_APP", write_module(APP_MODULE))
    result = invoke("routes")
    assert result.exit_code == 0, result.output
    assert "/hello" in result.stdout


def test_app_option_wins_over_flask_app(
    write_module: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLASK_APP", "no_such_module_at_all")
    assert invoke("--app", write_module(APP_MODULE), "routes").exit_code == 0


@pytest.mark.parametrize("file_name", ["wsgi.py", "app.py"])
def test_without_app_option_wsgi_py_or_app_py_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, file_name: str
) -> None:
    # A fresh folder per test: "wsgi"/"app" must not come from sys.modules.
    monkeypatch.delitem(sys.modules, file_name[:-3], raising=False)
    (tmp_path / file_name).write_text(APP_MODULE)
    result = invoke("routes")
    assert result.exit_code == 0, result.output
    assert "/hello" in result.stdout
    sys.modules.pop(file_name[:-3], None)  # monkeypatch puts back any earlier one


def test_without_any_app_a_helpful_error() -> None:
    result = invoke("routes")
    assert result.exit_code == 2
    assert "Use the '--app' option, the 'FLASK_APP' environment variable" in result.stderr


# The command line: help, version, errors.


def test_help_lists_builtin_commands_even_without_an_app() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("routes", "run", "shell", "trace"):
        assert f"  {command} " in result.stdout
    assert "Error: Could not locate a Flask application" in result.stderr


def test_help_lists_the_apps_commands_from_flask_app(
    write_module: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "FLASK_APP",
        write_module(APP_MODULE + "\n@app.cli.command('seed-data')\ndef seed():\n    pass\n"),
    )
    result = invoke("--help")
    assert result.exit_code == 0
    assert "  seed-data" in result.stdout
    assert result.stderr == ""


def test_help_shows_an_exception_raised_while_loading_the_app() -> None:
    def create_app() -> Flask:
        raise RuntimeError("oh no")

    result = invoke("--help", group=FlaskGroup(create_app=create_app))
    assert result.exit_code == 0
    assert "Usage:" in result.stdout
    assert "RuntimeError: oh no" in result.stderr


def test_unknown_command_names_the_loading_error_and_exits_2() -> None:
    result = invoke("no-such-command")
    assert result.exit_code == 2
    assert "FLASK_APP" in result.stderr
    assert "No such command 'no-such-command'" in result.stderr


def test_no_command_prints_the_usage() -> None:
    result = invoke()
    assert "Usage:" in result.output
    assert "Commands:" in result.output


def test_bad_option_value_exits_2() -> None:
    assert invoke("routes", "--sort", "nonsense").exit_code == 2


def test_version_prints_python_miniflask_and_werkzeug() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        f"Python {sys.version.split()[0]}",
        f"miniflask {metadata.version('miniflask')}",
        f"Werkzeug {metadata.version('werkzeug')}",
    ]


# routes


def test_routes_lists_endpoint_methods_and_rule(write_module: Callable[[str], str]) -> None:
    result = invoke("--app", write_module(APP_MODULE), "routes")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "Endpoint  Methods  Rule                   ",
        "--------  -------  -----------------------",
        "hello     GET      /hello                 ",
        "static    GET      /static/<path:filename>",
    ]


def _flask_routes_output(module_name: str, args: list[str]) -> str:
    """What real ``flask routes`` prints for the same routes."""
    import flask
    from flask.cli import routes_command

    module = __import__(module_name)
    app = flask.Flask("flask_routes")
    module.add_routes(app, flask.Blueprint)
    result = app.test_cli_runner().invoke(routes_command, args)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--sort", "endpoint"],
        ["--sort", "methods"],
        ["--sort", "rule"],
        ["--sort", "match"],
        ["-s", "rule", "--all-methods"],
    ],
)
def test_routes_output_matches_flask_routes(
    write_module: Callable[[str], str], args: list[str]
) -> None:
    module = write_module(
        ROUTES_SOURCE
        + """
    from miniflask import Blueprint, Flask
    app = Flask("miniflask_routes")
    add_routes(app, Blueprint)
    """
    )
    result = invoke("--app", module, "routes", *args)
    assert result.exit_code == 0, result.output
    assert result.stdout == _flask_routes_output(module, args)


def test_routes_with_subdomains_adds_a_column_like_flask(
    write_module: Callable[[str], str],
) -> None:
    module = write_module(
        """
        from miniflask import Flask
        app = Flask(__name__, static_folder=None, subdomain_matching=True)
        app.config["SERVER_NAME"] = "example.com"

        @app.get("/", subdomain="api")
        def api_index():
            return ""
        """
    )
    lines = invoke("--app", module, "routes").stdout.splitlines()
    assert lines[0].split() == ["Endpoint", "Methods", "Subdomain", "Rule"]
    assert lines[2].split() == ["api_index", "GET", "api", "/"]


def test_routes_without_rules_says_so() -> None:
    group = FlaskGroup(create_app=lambda: Flask("empty", static_folder=None))
    assert invoke("routes", group=group).stdout == "No routes were registered.\n"


def test_routes_help_reads_like_flask_routes_help() -> None:
    import flask.cli

    ours = invoke("routes", "--help").stdout
    theirs = CliRunner().invoke(flask.cli.routes_command, ["--help"]).stdout
    description = "  Show all registered routes with endpoints and methods.\n\nOptions:"
    assert description in ours and description in theirs
    assert "``" not in ours


# run


@pytest.fixture
def run_simple_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Replace Werkzeug's server with a recorder."""
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(
        werkzeug.serving, "run_simple", lambda *args, **kwargs: calls.append((args, kwargs))
    )
    return calls


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["run"],
            {
                "use_reloader": False,
                "use_debugger": False,
                "threaded": True,
                "ssl_context": None,
                "extra_files": None,
                "exclude_patterns": None,
            },
        ),
        (["run", "--debug"], {"use_reloader": True, "use_debugger": True}),
        (["--debug", "run"], {"use_reloader": True, "use_debugger": True}),
        (["run", "--debug", "--no-reload"], {"use_reloader": False, "use_debugger": True}),
        (["run", "--debug", "--no-debugger"], {"use_reloader": True, "use_debugger": False}),
        (["run", "--reload"], {"use_reloader": True, "use_debugger": False}),
        (["run", "--without-threads"], {"threaded": False}),
        (["run", "--extra-files", f"a.txt{os.pathsep}b.txt"], {"extra_files": ["a.txt", "b.txt"]}),
    ],
)
def test_run_passes_its_options_to_werkzeug(
    write_module: Callable[[str], str],
    run_simple_calls: list[Any],
    argv: list[str],
    expected: dict[str, Any],
) -> None:
    result = invoke("--app", write_module(APP_MODULE), *argv)
    assert result.exit_code == 0, result.output
    [(args, kwargs)] = run_simple_calls
    assert args[:2] == ("127.0.0.1", 5000)
    assert args[2].name.startswith("cli_app_")
    assert expected.items() <= kwargs.items()


def test_run_host_and_port_from_options_and_environment(
    write_module: Callable[[str], str],
    run_simple_calls: list[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = write_module(APP_MODULE)
    invoke("--app", module, "run", "-h", "0.0.0.0", "-p", "8123")
    monkeypatch.setenv("FLASK_RUN_HOST", "127.0.0.2")
    monkeypatch.setenv("FLASK_RUN_PORT", "8765")
    monkeypatch.setenv("FLASK_DEBUG", "1")
    invoke("--app", module, "run")
    assert [call[0][:2] for call in run_simple_calls] == [("0.0.0.0", 8123), ("127.0.0.2", 8765)]
    assert run_simple_calls[1][1]["use_debugger"] is True


def test_run_prints_the_banner(
    write_module: Callable[[str], str], run_simple_calls: list[Any]
) -> None:
    module = write_module(APP_MODULE)
    result = invoke("--app", module, "--debug", "run")
    assert result.stdout == f" * Serving Flask app '{module}'\n * Debug mode: on\n"


def test_debug_option_sets_flask_debug_before_the_factory_runs(
    write_module: Callable[[str], str],
) -> None:
    module = write_module(
        """
        import os
        from miniflask import Flask
        def create_app():
            app = Flask("seen")
            app.config["SEEN_DEBUG"] = os.environ.get("FLASK_DEBUG")
            return app
        """
    )
    group = FlaskGroup()

    @group.command("show")
    def show() -> None:
        click.echo(f"{current_app.config['SEEN_DEBUG']} {current_app.debug}")

    assert invoke("--app", module, "--debug", "show", group=group).stdout == "1 True\n"
    assert invoke("--app", module, "--no-debug", "show", group=group).stdout == "0 False\n"


def test_run_cert_needs_a_key_and_pairs_them(tmp_path: Path) -> None:
    from miniflask.cli import run_command

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("")
    key.write_text("")
    with pytest.raises(click.BadParameter, match="Required when using"):
        run_command.make_context("run", ["--cert", str(cert)])
    with pytest.raises(click.BadParameter, match="must also be specified"):
        run_command.make_context("run", ["--key", str(key)])
    ctx = run_command.make_context("run", ["--key", str(key), "--cert", str(cert)])
    assert ctx.params["cert"] == (str(cert), str(key))


def test_bare_app_run_in_the_module_does_not_start_a_server_on_import(
    write_module: Callable[[str], str], run_simple_calls: list[Any]
) -> None:
    module = write_module(APP_MODULE + "app.run()\n")
    result = invoke("--app", module, "routes")
    assert result.exit_code == 0, result.output
    assert "/hello" in result.stdout
    assert "Ignoring a call to 'app.run()'" in result.stdout
    assert run_simple_calls == []
    assert os.environ["FLASK_RUN_FROM_CLI"] == "true"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get_when_ready(url: str, process: subprocess.Popen[bytes], timeout: float) -> bytes:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return bytes(response.read())
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _subprocess_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLASK_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(tmp_path)])
    return env


def test_run_serves_the_app_over_real_http(
    write_module: Callable[[str], str], tmp_path: Path
) -> None:
    module = write_module(APP_MODULE)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "miniflask", "--app", module, "run", "--port", str(port)],
        cwd=tmp_path,
        env=_subprocess_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        body = _get_when_ready(f"http://127.0.0.1:{port}/hello", process, timeout=15)
        assert body == b"hello"
    finally:
        process.terminate()
        try:
            stdout, stderr = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            stdout, stderr = process.communicate(timeout=10)
    assert f"Serving Flask app '{module}'".encode() in stdout
    assert b'"GET /hello HTTP/1.1" 200' in stderr


def test_python_m_miniflask_reports_errors_with_exit_status_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "miniflask", "--app", "does_not_exist", "routes"],
        cwd=tmp_path,
        env=_subprocess_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("Usage: python -m miniflask routes [OPTIONS]\n")
    assert result.stderr.endswith("Error: Could not import 'does_not_exist'.\n")


def test_the_miniflask_console_script_is_the_command(
    write_module: Callable[[str], str], tmp_path: Path
) -> None:
    script = shutil.which("miniflask", path=str(Path(sys.executable).parent))
    assert script is not None, "pip install -e . installs the 'miniflask' script"
    result = subprocess.run(
        [script, "--app", write_module(APP_MODULE), "routes"],
        cwd=tmp_path,
        env=_subprocess_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "/hello" in result.stdout


# .env and .flaskenv


def test_flaskenv_names_the_app_and_env_wins_over_it(
    write_module: Callable[[str], str], tmp_path: Path
) -> None:
    module = write_module(APP_MODULE)
    (tmp_path / ".flaskenv").write_text(f"FLASK_APP={module}\nGREETING=flaskenv\nONLY_FLASKENV=1\n")
    (tmp_path / ".env").write_text("GREETING=env\n")
    result = invoke("routes")
    assert result.exit_code == 0, result.output
    assert (os.environ["GREETING"], os.environ["ONLY_FLASKENV"]) == ("env", "1")


def test_env_file_wins_over_default_files_and_the_environment_over_all(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=env\nB=env\nC=env\n")
    (tmp_path / "extra.env").write_text("B=extra\nC=extra\n")
    os.environ["C"] = "environment"
    assert load_dotenv("extra.env") is True
    assert (os.environ["A"], os.environ["B"], os.environ["C"]) == ("env", "extra", "environment")


def test_env_files_are_found_in_parent_folders(tmp_path: Path) -> None:
    (tmp_path / ".flaskenv").write_text("FROM_PARENT=yes\n")
    (tmp_path / "sub").mkdir()
    os.chdir(tmp_path / "sub")
    assert load_dotenv() is True
    assert os.environ["FROM_PARENT"] == "yes"


def test_env_file_option_loads_the_named_file(
    write_module: Callable[[str], str], tmp_path: Path
) -> None:
    (tmp_path / "settings.env").write_text(f"FLASK_APP={write_module(APP_MODULE)}\n")
    result = invoke("--env-file", "settings.env", "routes")
    assert result.exit_code == 0, result.output
    assert "/hello" in result.stdout


def test_flask_skip_dotenv_turns_the_default_files_off(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SKIPPED=no\n")
    os.environ["FLASK_SKIP_DOTENV"] = "1"
    invoke("routes")
    assert "SKIPPED" not in os.environ


def test_without_python_dotenv_a_tip_is_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "dotenv", None)  # makes `import dotenv` fail
    (tmp_path / ".env").write_text("IGNORED=1\n")
    result = invoke("routes")
    assert "Tip: There are .env files present. Install python-dotenv" in result.stderr
    assert "IGNORED" not in os.environ
    assert invoke("--env-file", ".env", "routes").exit_code == 2


def test_app_run_loads_dotenv_and_its_flask_debug(
    tmp_path: Path, run_simple_calls: list[Any]
) -> None:
    (tmp_path / ".flaskenv").write_text("FLASK_DEBUG=1\n")
    app = Flask("dotenv_run")
    app.run()
    assert app.debug is True
    assert run_simple_calls[0][1]["use_debugger"] is True


# app.cli and blueprint commands


def test_app_cli_commands_run_in_an_app_context(write_module: Callable[[str], str]) -> None:
    module = write_module(
        APP_MODULE
        + """
import click
from miniflask import current_app

def check_context(ctx, param, value):
    return f"{value}@{current_app.name}"

@app.cli.command("greet")
@click.argument("name", callback=check_context)
def greet(name):
    click.echo(f"hello {name}")
"""
    )
    result = invoke("--app", module, "greet", "ada")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"hello ada@{module}\n"


def test_app_cli_group_is_named_after_the_app_and_created_lazily() -> None:
    app = Flask("lazy_cli")
    assert "cli" not in vars(app)
    assert isinstance(app.cli, AppGroup)
    assert app.cli.name == "lazy_cli"
    assert app.cli is app.cli


def test_an_extensions_group_added_with_add_command_is_runnable(
    write_module: Callable[[str], str],
) -> None:
    module = write_module(
        APP_MODULE
        + """
import click
from miniflask.cli import AppGroup

db_cli = AppGroup("db", help="An extension's commands.")

@db_cli.command("upgrade")
def upgrade():
    from miniflask import current_app
    click.echo("upgraded " + current_app.name)

app.cli.add_command(db_cli)
"""
    )
    result = invoke("--app", module, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"upgraded {module}\n"


@pytest.fixture
def app_with_blueprint_commands() -> Flask:
    app = Flask("bp_commands")
    named = Blueprint("students", __name__)
    custom = Blueprint("custom", __name__, cli_group="customized")
    merged = Blueprint("merged", __name__, cli_group=None)
    late = Blueprint("late", __name__)
    parent = Blueprint("parent", __name__)
    child = Blueprint("child", __name__)
    for bp in (named, custom, merged, late, child):

        @bp.cli.command("create")
        @click.argument("name")
        def create(name: str, bp: Blueprint = bp) -> None:
            click.echo(f"{bp.name} created {name} in {current_app.name}")

    parent.register_blueprint(child)
    for bp in (named, custom, merged, parent):
        app.register_blueprint(bp)
    app.register_blueprint(late, cli_group="late_registration")
    app.register_blueprint(Blueprint("empty", __name__))
    return app


@pytest.mark.parametrize(
    ("args", "output"),
    [
        (["students", "create", "ada"], "students created ada in bp_commands\n"),
        (["customized", "create", "ada"], "custom created ada in bp_commands\n"),
        (["create", "ada"], "merged created ada in bp_commands\n"),
        (["late_registration", "create", "ada"], "late created ada in bp_commands\n"),
        (["parent.child", "create", "ada"], "child created ada in bp_commands\n"),
    ],
)
def test_blueprint_commands_are_grouped_like_flask(
    app_with_blueprint_commands: Flask, args: list[str], output: str
) -> None:
    group = FlaskGroup(create_app=lambda: app_with_blueprint_commands)
    result = invoke(*args, group=group)
    assert result.exit_code == 0, result.output
    assert result.stdout == output


def test_a_blueprint_without_commands_adds_no_group(app_with_blueprint_commands: Flask) -> None:
    commands = app_with_blueprint_commands.cli.list_commands(click.Context(cli))
    assert commands == ["create", "customized", "late_registration", "parent.child", "students"]
    assert "cli" not in vars(app_with_blueprint_commands.blueprints["empty"])


def test_with_appcontext_pushes_the_app_of_the_script_info() -> None:
    @click.command()
    @with_appcontext
    def show() -> None:
        click.echo(current_app.name)

    result = CliRunner().invoke(show, obj=ScriptInfo(create_app=lambda: Flask("from_info")))
    assert result.output == "from_info\n"


def test_app_group_subgroups_are_app_groups_and_can_opt_out() -> None:
    group = AppGroup("tools")

    @group.group()
    def sub() -> None:
        pass

    @sub.command()
    def inner() -> None:
        click.echo(current_app.name)

    @group.command(with_appcontext=False)
    def outside() -> None:
        click.echo(str(bool(current_app)))

    info = ScriptInfo(create_app=lambda: Flask("grouped"))
    assert isinstance(sub, AppGroup)
    assert CliRunner().invoke(group, ["sub", "inner"], obj=info).output == "grouped\n"
    assert CliRunner().invoke(group, ["outside"], obj=info).output == "False\n"


def test_shell_starts_with_app_g_and_shell_context(monkeypatch: pytest.MonkeyPatch) -> None:
    import code

    app = Flask("shell_app")
    app.shell_context_processor(lambda: {"answer": 42})
    seen: dict[str, Any] = {}
    monkeypatch.setattr(code, "interact", lambda banner, local: seen.update(local, banner=banner))
    monkeypatch.delattr(sys, "__interactivehook__", raising=False)
    result = invoke("shell", group=FlaskGroup(create_app=lambda: app))
    assert result.exit_code == 0, result.output
    assert seen["app"] is app
    assert seen["g"] is miniflask.g
    assert seen["answer"] == 42
    assert "App: shell_app" in seen["banner"]


# Plugin commands (flask.commands entry points)


@pytest.fixture
def plugin_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pretend an installed package registers ``plugin-hello`` under ``flask.commands``."""

    @click.command()
    def hello() -> None:
        click.echo("plugin says hello")

    class EntryPoint:
        name = "plugin-hello"

        def load(self) -> click.Command:
            return hello

    def entry_points(group: str) -> list[EntryPoint]:
        return [EntryPoint()] if group == "flask.commands" else []

    monkeypatch.setattr(metadata, "entry_points", entry_points)


@pytest.mark.usefixtures("plugin_entry_point")
def test_plugin_commands_load_only_once_flask_is_miniflask(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    group = FlaskGroup(create_app=lambda: Flask("plugins"))
    monkeypatch.setitem(sys.modules, "flask", object())  # the real Flask, or anything else
    assert invoke("plugin-hello", group=group).exit_code == 2

    monkeypatch.setitem(sys.modules, "flask", miniflask)  # as after install_as_flask()
    result = invoke("plugin-hello", group=group)
    assert result.exit_code == 0, result.output
    assert result.stdout == "plugin says hello\n"


@pytest.mark.usefixtures("plugin_entry_point")
def test_plugin_commands_load_after_an_app_that_installs_the_alias(
    write_module: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "flask", object())
    module = write_module(
        APP_MODULE + "\nimport sys, miniflask\nsys.modules['flask'] = miniflask\n"
    )
    result = invoke("--app", module, "plugin-hello", group=FlaskGroup())
    assert result.exit_code == 0, result.output
    assert result.stdout == "plugin says hello\n"


# Staying out of the way: no click for apps that do not use it.


def test_importing_miniflask_and_serving_does_not_import_click(tmp_path: Path) -> None:
    program = """
import sys
import miniflask
from werkzeug.test import EnvironBuilder

app = miniflask.Flask("plain")
app.add_url_rule("/", "index", lambda: "ok")
bp = miniflask.Blueprint("bp", __name__)
app.register_blueprint(bp)
body = b"".join(app(EnvironBuilder("/").get_environ(), lambda status, headers: None))
assert body == b"ok", body
print(sorted(name for name in sys.modules if name == "click" or name.startswith("miniflask.cli")))
print(miniflask.cli.FlaskGroup.__module__)
"""
    result = subprocess.run(
        [sys.executable, "-c", program],
        cwd=tmp_path,
        env=_subprocess_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "miniflask.cli.flaskgroup"]


def test_flask_cli_is_an_attribute_after_install_as_flask(tmp_path: Path) -> None:
    program = """
import miniflask
miniflask.install_as_flask()
import flask
from flask.cli import FlaskGroup
print(flask.cli is miniflask.cli, FlaskGroup is miniflask.cli.FlaskGroup)
"""
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", program],
        cwd=tmp_path,
        env=_subprocess_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "True True\n"


def test_unknown_module_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        miniflask.no_such_name  # type: ignore[attr-defined]  # noqa: B018
