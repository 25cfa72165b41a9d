"""Tests for ``miniflask/cli.py``: finding the app, ``routes`` and ``run``.

App modules are written to ``tmp_path`` with unique names (an imported module
stays in ``sys.modules``, so reusing a name would load the old one). The
``routes`` output is compared with real ``flask routes`` on the same routes.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from miniflask import cli

ROOT = Path(__file__).resolve().parents[2]
_names = count()

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
def isolated_import_state(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Keep sys.path, the cwd and the app environment variables as they were."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.chdir(tmp_path)
    for name in ("FLASK_APP", "MINIFLASK_APP", "FLASK_DEBUG", "FLASK_RUN_PORT", "FLASK_RUN_HOST"):
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture
def write_module(tmp_path: Path) -> Callable[[str], str]:
    """Write a module with a unique name into tmp_path; return that name."""

    def write(source: str) -> str:
        name = f"cli_app_{os.getpid()}_{next(_names)}"
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        return name

    return write


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


APP_MODULE = """
    from miniflask import Flask
    app = Flask(__name__)

    @app.get("/hello")
    def hello():
        return "hello"
"""


def test_routes_lists_endpoint_methods_and_rule(
    write_module: Callable[[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    module = write_module(APP_MODULE)
    status, out, err = run_cli(capsys, "--app", module, "routes")
    assert status == 0, err
    assert out.splitlines() == [
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
    write_module: Callable[[str], str], capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    module = write_module(
        ROUTES_SOURCE
        + """
    from miniflask import Blueprint, Flask
    app = Flask("miniflask_routes")
    add_routes(app, Blueprint)
    """
    )
    status, out, err = run_cli(capsys, "--app", module, "routes", *args)
    assert status == 0, err
    assert out == _flask_routes_output(module, args)


def test_routes_with_subdomains_adds_a_column_like_flask(
    write_module: Callable[[str], str], capsys: pytest.CaptureFixture[str]
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
    status, out, _ = run_cli(capsys, "--app", module, "routes")
    assert status == 0
    assert out.splitlines()[0].split() == ["Endpoint", "Methods", "Subdomain", "Rule"]
    assert out.splitlines()[2].split() == ["api_index", "GET", "api", "/"]


def test_routes_without_rules_says_so(
    write_module: Callable[[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    module = write_module(
        "from miniflask import Flask\napp = Flask(__name__, static_folder=None)\n"
    )
    assert run_cli(capsys, "--app", module, "routes")[1] == "No routes were registered.\n"


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
    assert cli.locate_app(module + app_suffix).name == expected_name


def test_app_attribute_is_preferred_over_factory(write_module: Callable[[str], str]) -> None:
    module = write_module(
        "from miniflask import Flask\napp = Flask('attr')\n"
        "def create_app():\n    raise AssertionError('not called')\n"
    )
    assert cli.locate_app(module).name == "attr"


def test_app_found_from_a_file_path_in_a_package(tmp_path: Path) -> None:
    package = tmp_path / "src" / "cli_pkg_site"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "web.py").write_text("from miniflask import Flask\napp = Flask('from_path')\n")
    app = cli.locate_app(str(package / "web.py"))
    assert app.name == "from_path"
    assert app.import_name == "from_path"
    assert "cli_pkg_site.web" in sys.modules


@pytest.mark.parametrize(
    ("source", "app_arg", "message"),
    [
        ("x = 1", "", "Failed to find a miniflask application or factory in module"),
        ("a = Flask('a')\nb = Flask('b')", "", "Detected multiple miniflask applications"),
        ("def create_app(name):\n    return Flask(name)", "", "could not be called"),
        ("def create_app(name):\n    return Flask(name)", ":create_app(1, 2)", "could not be"),
        ("app = Flask('a')", ":missing", "Failed to find attribute 'missing'"),
        ("app = Flask('a')", ":app(", "Failed to parse"),
        ("app = Flask('a')", ":1 + 1", "Failed to parse"),
        ("app = Flask('a')", ":os.path", "Failed to parse"),
        ("import os\ndef f(x):\n    return Flask(x)", ":f(os.getcwd())", "literal values"),
        ("x = 1", ":x", "A valid miniflask application was not obtained"),
        ("def create_app():\n    return 42", "", "did not return a miniflask application"),
        ("import flask\napp = flask.Flask('real_flask')", "", "Failed to find a miniflask"),
    ],
)
def test_discovery_errors_print_a_message_and_exit_2(
    write_module: Callable[[str], str],
    capsys: pytest.CaptureFixture[str],
    source: str,
    app_arg: str,
    message: str,
) -> None:
    module = write_module(f"from miniflask import Flask\n{source}\n")
    status, out, err = run_cli(capsys, "--app", module + app_arg, "routes")
    assert status == 2
    assert err.startswith("Error: ")
    assert message in err
    assert "Traceback" not in err
    assert out == ""


def test_factory_arguments_are_never_evaluated(
    write_module: Callable[[str], str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    module = write_module("from miniflask import Flask\ndef f(x):\n    return Flask(str(x))\n")
    marker = tmp_path / "pwned"
    evil = f":f(open({str(marker)!r}, 'w'))"
    assert run_cli(capsys, "--app", module + evil, "routes")[0] == 2
    assert not marker.exists()


def test_missing_module_is_reported_without_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(capsys, "--app", "no_such_module_here.sub", "routes")
    assert status == 2
    assert err == "Error: Could not import 'no_such_module_here.sub'.\n"


def test_import_error_inside_the_module_is_reported_as_such(
    write_module: Callable[[str], str], capsys: pytest.CaptureFixture[str]
) -> None:
    module = write_module("import not_installed_dependency_xyz\n")
    status, _, err = run_cli(capsys, "--app", module, "routes")
    assert status == 2
    assert f"While importing '{module}', an ImportError was raised" in err
    assert "not_installed_dependency_xyz" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("variable", ["FLASK_APP", "MINIFLASK_APP"])
def test_app_defaults_to_environment_variable(
    write_module: Callable[[str], str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
) -> None:
    monkeypatch.setenv(variable, write_module(APP_MODULE))
    status, out, _ = run_cli(capsys, "routes")
    assert status == 0
    assert "/hello" in out


def test_flask_app_wins_over_miniflask_app(
    write_module: Callable[[str], str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLASK_APP", write_module(APP_MODULE))
    monkeypatch.setenv("MINIFLASK_APP", "no_such_module_at_all")
    assert run_cli(capsys, "routes")[0] == 0


@pytest.mark.parametrize("file_name", ["wsgi.py", "app.py"])
def test_without_app_option_wsgi_py_or_app_py_is_used(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    file_name: str,
) -> None:
    # A fresh folder per test: "wsgi"/"app" must not come from sys.modules.
    monkeypatch.delitem(sys.modules, file_name[:-3], raising=False)
    (tmp_path / file_name).write_text(textwrap.dedent(APP_MODULE))
    status, out, err = run_cli(capsys, "routes")
    assert status == 0, err
    assert "/hello" in out
    monkeypatch.delitem(sys.modules, file_name[:-3], raising=False)


def test_without_any_app_a_helpful_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(capsys, "routes")
    assert status == 2
    assert "Use the '--app' option" in err


def test_no_command_prints_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run_cli(capsys)
    assert status == 2
    assert "usage:" in err


def test_unknown_option_exits_2_and_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(capsys, "routes", "--sort", "nonsense")[0] == 2
    status, out, _ = run_cli(capsys, "--help")
    assert status == 0
    assert "run" in out
    assert "routes" in out


def test_version_prints_python_and_werkzeug(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run_cli(capsys, "--version")
    assert status == 0
    assert out.startswith("Python ")
    assert "Werkzeug " in out


def test_bare_app_run_in_the_module_does_not_start_a_server_on_import(
    write_module: Callable[[str], str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import werkzeug.serving

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a server was started while importing the app")

    monkeypatch.setattr(werkzeug.serving, "run_simple", refuse)
    module = write_module(textwrap.dedent(APP_MODULE) + "app.run()\n")
    status, out, err = run_cli(capsys, "--app", module, "routes")
    assert status == 0, err
    assert "/hello" in out
    assert "MINIFLASK_RUN_FROM_CLI" not in os.environ


class RecordingRun:
    """Stands in for ``Flask.run`` to see what the CLI passes."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, app: Any, **kwargs: Any) -> None:
        self.calls.append(kwargs)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["run"],
            {
                "host": "127.0.0.1",
                "port": 5000,
                "debug": False,
                "use_reloader": False,
                "use_debugger": False,
            },
        ),
        (["run", "--debug"], {"debug": True, "use_reloader": True, "use_debugger": True}),
        (["--debug", "run"], {"debug": True, "use_reloader": True, "use_debugger": True}),
        (["run", "--debug", "--no-reload"], {"debug": True, "use_reloader": False}),
        (["run", "--reload"], {"debug": False, "use_reloader": True, "use_debugger": False}),
        (["run", "--host", "0.0.0.0", "-p", "8123"], {"host": "0.0.0.0", "port": 8123}),
    ],
)
def test_run_passes_host_port_debug_and_reloader_to_app_run(
    write_module: Callable[[str], str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    expected: dict[str, Any],
) -> None:
    from miniflask import Flask

    recorder = RecordingRun()
    monkeypatch.setattr(Flask, "run", lambda app, **kw: recorder(app, **kw))
    module = write_module(APP_MODULE)
    status, _, err = run_cli(capsys, "--app", module, *argv)
    assert status == 0, err
    assert len(recorder.calls) == 1
    assert expected.items() <= recorder.calls[0].items()


def test_run_reads_flask_debug_and_port_from_environment(
    write_module: Callable[[str], str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from miniflask import Flask

    recorder = RecordingRun()
    monkeypatch.setattr(Flask, "run", lambda app, **kw: recorder(app, **kw))
    monkeypatch.setenv("FLASK_DEBUG", "1")
    monkeypatch.setenv("FLASK_RUN_PORT", "8765")
    module = write_module(APP_MODULE)
    assert run_cli(capsys, "--app", module, "run")[0] == 0
    assert recorder.calls[0]["debug"] is True
    assert recorder.calls[0]["port"] == 8765


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


def test_run_serves_the_app_over_real_http(
    write_module: Callable[[str], str], tmp_path: Path
) -> None:
    module = write_module(APP_MODULE)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)])}
    process = subprocess.Popen(
        [sys.executable, "-m", "miniflask", "--app", module, "run", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        body = _get_when_ready(f"http://127.0.0.1:{port}/hello", process, timeout=15)
        assert body == b"hello"
    finally:
        process.terminate()
        try:
            _, stderr = process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            _, stderr = process.communicate(timeout=10)
    assert b'"GET /hello HTTP/1.1" 200' in stderr


def test_python_m_miniflask_reports_errors_with_exit_status_2(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("FLASK_APP", None)
    env.pop("MINIFLASK_APP", None)
    result = subprocess.run(
        [sys.executable, "-m", "miniflask", "--app", "does_not_exist", "routes"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr == b"Error: Could not import 'does_not_exist'.\n"
