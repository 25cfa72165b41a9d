"""The command line: find the app, then ``run`` it or list its ``routes``.

Flask counterpart: ``flask/cli.py``.

``flask --app hello run`` does two separate jobs, and so does this module:

1. **Find the application** named by ``--app`` (or the ``FLASK_APP`` /
   ``MINIFLASK_APP`` environment variable): import a module and take its
   ``app`` object, or call its ``create_app()`` factory. See
   :func:`locate_app` for the exact rules, which are Flask's.
2. **Run a command** on it: ``run`` serves it with Werkzeug's development
   server; ``routes`` prints its URL map.

Usage::

    python -m miniflask --app hello run --debug
    python -m miniflask --app "blog:create_app('dev')" routes --sort rule

Flask builds its CLI on click, which adds plugin commands and ``.env``
loading. miniflask uses the standard library's :mod:`argparse` so that the
whole path from the shell to ``app.run`` fits in this one file.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import json
import os
import platform
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from types import ModuleType
from typing import TYPE_CHECKING, Any

from werkzeug.routing import Rule

if TYPE_CHECKING:
    from .app import Flask

#: Exit status for "the command line was wrong" (argparse's own choice too).
USAGE_ERROR = 2

#: The variable ``Flask.run`` checks; see :func:`_app_run_disabled`.
_RUN_FROM_CLI = "MINIFLASK_RUN_FROM_CLI"


class NoAppException(Exception):
    """The application could not be found or created; the message says why."""


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit status.

    Args:
        argv: the arguments after the program name; ``sys.argv[1:]`` when
            ``None``. Passing a list keeps the CLI testable in-process.

    Returns:
        ``0`` on success, ``2`` when the arguments are wrong or no app is
        found (an error message was printed to stderr).
    """
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:
        # argparse exits on --help (0) and on bad usage (2); return instead.
        return exit_request.code if isinstance(exit_request.code, int) else USAGE_ERROR
    if args.version:
        print(_version_text())
        return 0
    if args.command is None:
        parser.print_help(sys.stderr)
        return USAGE_ERROR
    try:
        with _app_run_disabled():
            app = locate_app(args.app)
    except NoAppException as e:
        print(f"Error: {e}", file=sys.stderr)
        return USAGE_ERROR
    command: Callable[[Flask, argparse.Namespace], int] = args.handler
    return command(app, args)


@contextmanager
def _app_run_disabled() -> Iterator[None]:
    """Make ``app.run()`` a no-op while the app's module is imported.

    A module may end with a bare ``app.run()`` (no ``if __name__ ==
    "__main__"`` guard). Importing it here must not start a server and
    block the command; ``Flask.run`` returns at once while this variable
    is set, as Flask's does with ``FLASK_RUN_FROM_CLI``.
    """
    previous = os.environ.get(_RUN_FROM_CLI)
    os.environ[_RUN_FROM_CLI] = "true"
    try:
        yield
    finally:
        if previous is None:
            del os.environ[_RUN_FROM_CLI]
        else:
            os.environ[_RUN_FROM_CLI] = previous


def _build_parser() -> argparse.ArgumentParser:
    """The parser: global ``--app``/``--debug``, then one sub-parser per command."""
    parser = argparse.ArgumentParser(
        prog="python -m miniflask",
        description="Run a miniflask application, or inspect it.",
    )
    parser.add_argument(
        "--app",
        default=os.environ.get("FLASK_APP") or os.environ.get("MINIFLASK_APP"),
        help="the app to load: MODULE, MODULE:name or MODULE:factory(args)"
        " (default: $FLASK_APP, $MINIFLASK_APP, else wsgi.py or app.py)",
    )
    parser.add_argument(
        "--debug",
        action=argparse.BooleanOptionalAction,
        default=_env_flag("FLASK_DEBUG"),
        help="debug mode: the interactive debugger and the reloader (default: $FLASK_DEBUG)",
    )
    parser.add_argument("--version", action="store_true", help="show the versions and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_run_parser(commands)
    _add_routes_parser(commands)
    _add_trace_parser(commands)
    return parser


def _env_flag(name: str) -> bool:
    """Read a boolean environment variable the way Flask reads ``FLASK_DEBUG``."""
    return os.environ.get(name, "").lower() not in {"", "0", "false", "no"}


def _version_text() -> str:
    """The versions ``--version`` prints, like ``flask --version``."""
    lines = [f"Python {platform.python_version()}"]
    for package in ("miniflask", "werkzeug"):
        try:
            lines.append(f"{package.capitalize()} {version(package)}")
        except PackageNotFoundError:
            lines.append(f"{package.capitalize()} (not installed)")
    return "\n".join(lines)


def locate_app(app_import_path: str | None) -> Flask:
    """Import the module ``app_import_path`` names and get the app from it.

    The forms Flask accepts for ``--app``:

    * ``hello`` or ``hello.py`` or ``src/hello.py``: the module; the app is
      found by :func:`find_best_app`.
    * ``hello:web``: the attribute ``web`` of the module.
    * ``hello:create_app("dev", testing=True)``: call the factory with those
      arguments, which must be Python literals.
    * nothing: try ``wsgi.py``, then ``app.py``, in the current folder.

    Raises:
        NoAppException: the module cannot be imported or has no app.
    """
    if not app_import_path:
        return _locate_default_app()
    module_part, _, app_name = app_import_path.partition(":")
    module = _import_module(_prepare_import(module_part))
    if app_name:
        return find_app_by_string(module, app_name)
    return find_best_app(module)


def _locate_default_app() -> Flask:
    """Flask's fallback without ``--app``: a ``wsgi.py`` or an ``app.py`` in the cwd."""
    for file_name in ("wsgi.py", "app.py"):
        if os.path.exists(file_name):
            return find_best_app(_import_module(_prepare_import(file_name)))
    raise NoAppException(
        "Could not locate a miniflask application. Use the '--app' option,"
        " the 'FLASK_APP' environment variable, or a 'wsgi.py' or 'app.py'"
        " file in the current directory."
    )


def _prepare_import(path: str) -> str:
    """Turn a file path or module name into an importable module name.

    A file path (``src/blog/app.py``) becomes its dotted module name
    (``blog.app`` when ``src/blog`` is a package), and the folder above the
    outermost package is put on ``sys.path`` so the import succeeds. A plain
    module name is imported relative to the current folder, as Flask does.
    """
    path = os.path.realpath(path)
    base, extension = os.path.splitext(path)
    if extension == ".py":
        path = base
    if os.path.basename(path) == "__init__":
        path = os.path.dirname(path)
    names: list[str] = []
    # Climb while the folder is a package, collecting the dotted name.
    while True:
        path, name = os.path.split(path)
        names.append(name)
        if not os.path.exists(os.path.join(path, "__init__.py")):
            break
    if not sys.path or sys.path[0] != path:
        sys.path.insert(0, path)
    return ".".join(reversed(names))


def _import_module(module_name: str) -> ModuleType:
    """Import a module, turning "not found" into a readable :class:`NoAppException`.

    An ``ImportError`` raised *inside* the module (a missing dependency) is
    reported with its own message, so the user is not told their module is
    missing when it was found and is broken.
    """
    try:
        return importlib.import_module(module_name)
    except ImportError as e:
        if isinstance(e, ModuleNotFoundError) and _is_module_itself(e, module_name):
            raise NoAppException(f"Could not import {module_name!r}.") from None
        raise NoAppException(
            f"While importing {module_name!r}, an ImportError was raised: {e}"
        ) from None


def _is_module_itself(error: ModuleNotFoundError, module_name: str) -> bool:
    """``True`` when the missing module is ``module_name`` or one of its parent packages."""
    missing = error.name or ""
    return module_name == missing or module_name.startswith(f"{missing}.")


def find_best_app(module: ModuleType) -> Flask:
    """Find the app in a module when ``--app`` names no attribute.

    In order: an attribute called ``app`` or ``application``; the only app
    object in the module; a factory called ``create_app`` or ``make_app``,
    called without arguments.

    Raises:
        NoAppException: none found, several found, or the factory needs arguments.
    """
    from .app import Flask

    for name in ("app", "application"):
        candidate = getattr(module, name, None)
        if isinstance(candidate, Flask):
            return candidate

    apps = [value for value in vars(module).values() if isinstance(value, Flask)]
    if len(apps) == 1:
        return apps[0]
    if len(apps) > 1:
        raise NoAppException(
            f"Detected multiple miniflask applications in module {module.__name__!r}."
            f" Use '{module.__name__}:name' to specify the correct one."
        )

    for name in ("create_app", "make_app"):
        factory = getattr(module, name, None)
        if inspect.isfunction(factory):
            return _call_factory(factory, (), {}, f"{module.__name__}:{name}")

    raise NoAppException(
        f"Failed to find a miniflask application or factory in module"
        f" {module.__name__!r}. Use '{module.__name__}:name' to specify one."
    )


def find_app_by_string(module: ModuleType, app_name: str) -> Flask:
    """Get the app named after the colon: ``name`` or ``factory(literal args)``.

    The text is parsed with :mod:`ast` and the arguments are read with
    :func:`ast.literal_eval`, so ``--app`` can never run arbitrary code.

    Raises:
        NoAppException: the text is not a name or a call with literal
            arguments, the attribute is missing, or it is not an app.
    """
    from .app import Flask

    name, args, kwargs = _parse_app_name(app_name)
    try:
        attribute = getattr(module, name)
    except AttributeError:
        raise NoAppException(f"Failed to find attribute {name!r} in {module.__name__!r}.") from None

    if inspect.isfunction(attribute):
        return _call_factory(attribute, args, kwargs, f"{module.__name__}:{app_name}")
    if args or kwargs:
        raise NoAppException(f"{module.__name__}:{name} is not a function; it cannot be called.")
    if isinstance(attribute, Flask):
        return attribute
    raise NoAppException(
        f"A valid miniflask application was not obtained from '{module.__name__}:{app_name}'."
    )


def _parse_app_name(app_name: str) -> tuple[str, list[Any], dict[str, Any]]:
    """Split ``create_app('dev', debug=True)`` into the name and literal arguments."""
    try:
        expression = ast.parse(app_name.strip(), mode="eval").body
    except SyntaxError:
        raise NoAppException(
            f"Failed to parse {app_name!r} as an attribute name or function call."
        ) from None

    if isinstance(expression, ast.Name):
        return expression.id, [], {}
    if not isinstance(expression, ast.Call):
        raise NoAppException(f"Failed to parse {app_name!r} as an attribute name or function call.")
    if not isinstance(expression.func, ast.Name):
        raise NoAppException(f"Function reference must be a simple name: {app_name!r}.")
    try:
        args = [ast.literal_eval(arg) for arg in expression.args]
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in expression.keywords if kw.arg}
    except ValueError:
        raise NoAppException(
            f"Failed to parse arguments as literal values: {app_name!r}."
        ) from None
    return expression.func.id, args, kwargs


def _call_factory(
    factory: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any], label: str
) -> Flask:
    """Call an app factory, checking first that the arguments fit its signature."""
    from .app import Flask

    # Flask: Flask calls the factory and inspects the traceback of a
    # TypeError to tell "wrong arguments" from "a bug inside the factory".
    # Binding the arguments to the signature first answers the same
    # question without calling anything.
    try:
        inspect.signature(factory).bind(*args, **kwargs)
    except TypeError:
        raise NoAppException(
            f"The factory {label!r} could not be called with the specified arguments."
            f" Use '{label.partition('(')[0]}(args)' to pass the arguments it needs."
        ) from None
    app = factory(*args, **kwargs)
    if not isinstance(app, Flask):
        raise NoAppException(f"The factory {label!r} did not return a miniflask application.")
    return app


def _add_run_parser(commands: Any) -> None:
    """``run``: serve the app with Werkzeug's development server."""
    run = commands.add_parser("run", help="run a development server")
    run.add_argument(
        "--host",
        "-H",
        default=os.environ.get("FLASK_RUN_HOST", "127.0.0.1"),
        help="the interface to bind to (default: 127.0.0.1)",
    )
    run.add_argument(
        "--port",
        "-p",
        type=int,
        default=int(os.environ.get("FLASK_RUN_PORT", "5000")),
        help="the port to bind to (default: 5000)",
    )
    # SUPPRESS keeps the sub-parser from overwriting a global --debug
    # with its own default: both spellings, before or after "run", work.
    run.add_argument(
        "--debug",
        action=argparse.BooleanOptionalAction,
        default=argparse.SUPPRESS,
        help="debug mode: the interactive debugger and the reloader",
    )
    run.add_argument(
        "--reload",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="restart when a source file changes (default: on in debug mode)",
    )
    run.set_defaults(handler=run_command)


def run_command(app: Flask, args: argparse.Namespace) -> int:
    """Serve ``app`` until interrupted; ``--debug`` turns on the debugger and reloader.

    ``app.run`` hands ``use_debugger`` and ``use_reloader`` to
    :func:`werkzeug.serving.run_simple`. The reloader runs the server in a
    child process and restarts it when a source file changes; that child
    re-runs this same command line, so it finds the app the same way.
    """
    use_reloader = args.debug if args.reload is None else args.reload
    app.run(
        host=args.host,
        port=args.port,
        debug=args.debug,
        use_reloader=use_reloader,
        use_debugger=args.debug,
    )
    return 0


def _add_routes_parser(commands: Any) -> None:
    """``routes``: print the URL map as a table."""
    routes = commands.add_parser("routes", help="show the routes for the app")
    routes.add_argument(
        "--sort",
        "-s",
        choices=("endpoint", "methods", "domain", "rule", "match"),
        default="endpoint",
        help="sort by column; 'match' keeps the order the rules were added",
    )
    routes.add_argument("--all-methods", action="store_true", help="show HEAD and OPTIONS methods")
    routes.set_defaults(handler=routes_command)


def routes_command(app: Flask, args: argparse.Namespace) -> int:
    """Print every URL rule: endpoint, methods, (subdomain or host,) rule.

    The output matches ``flask routes`` column for column. ``HEAD`` and
    ``OPTIONS`` are hidden unless ``--all-methods`` is given, because every
    ``GET`` rule has the first and nearly every rule the second.
    """
    rules = list(app.url_map.iter_rules())
    if not rules:
        print("No routes were registered.")
        return 0
    hidden = set() if args.all_methods else {"HEAD", "OPTIONS"}
    host_matching = app.url_map.host_matching
    has_domain = any(_domain(rule, host_matching) for rule in rules)

    headers = ["Endpoint", "Methods"]
    if has_domain:
        headers.append("Host" if host_matching else "Subdomain")
    headers.append("Rule")
    rows = [_route_row(rule, hidden, host_matching, has_domain) for rule in rules]
    _sort_rows(rows, args.sort, has_domain)
    _print_table(headers, rows)
    return 0


def _domain(rule: Rule, host_matching: bool) -> str:
    """The rule's host (with host matching) or subdomain, or ``""``."""
    return (rule.host if host_matching else rule.subdomain) or ""


def _route_row(rule: Rule, hidden: set[str], host_matching: bool, has_domain: bool) -> list[str]:
    """One table row for one rule."""
    row = [str(rule.endpoint), ", ".join(sorted((rule.methods or set()) - hidden))]
    if has_domain:
        row.append(_domain(rule, host_matching))
    row.append(rule.rule)
    return row


def _sort_rows(rows: list[list[str]], sort: str, has_domain: bool) -> None:
    """Sort in place by the chosen column; ``match`` (or an absent column) keeps rule order."""
    columns = ["endpoint", "methods"] + (["domain"] if has_domain else []) + ["rule"]
    if sort in columns:
        column = columns.index(sort)
        rows.sort(key=lambda row: row[column])


def _print_table(headers: list[str], rows: list[list[str]]) -> None:
    """Print left-aligned columns two spaces apart, with a dashed line under the header."""
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, ["-" * width for width in widths], *rows]:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def _add_trace_parser(commands: Any) -> None:
    """``trace``: run one request through the test client and print its life."""
    trace = commands.add_parser(
        "trace",
        help="run one request in-process and show each step it went through",
        description="Run one request through the test client with the tracer on, and"
        " print the steps it went through as a tree with timings (see tracing.py).",
    )
    trace.add_argument("method", type=str.upper, help="the HTTP method, e.g. GET")
    trace.add_argument("path", help="the path with its query string, e.g. /api/v1/posts?page=2")
    trace.add_argument(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="a request header (repeatable)",
    )
    body = trace.add_mutually_exclusive_group()
    body.add_argument("--json-body", metavar="JSON", help="a JSON request body")
    body.add_argument("--data", metavar="TEXT", help="a raw request body")
    trace.add_argument("--json", action="store_true", help="print the trace as JSON for tools")
    trace.set_defaults(handler=trace_command)


def trace_command(app: Flask, args: argparse.Namespace) -> int:
    """Trace one request and print the tree (or JSON); exit 2 on a bad argument."""
    from . import tracing

    try:
        headers = [_parse_header(header) for header in args.header]
        json_body = json.loads(args.json_body) if args.json_body is not None else None
    except ValueError as e:
        print(f"Error: {e}", file=sys.stderr)
        return USAGE_ERROR

    tracer = tracing.install(app)
    options: dict[str, Any] = {"method": args.method, "headers": headers}
    if args.json_body is not None:
        options["json"] = json_body
    elif args.data is not None:
        options["data"] = args.data
    response = app.test_client().open(args.path, **options)
    trace = tracer.last
    assert trace is not None, "the tracer recorded no request"

    if args.json:
        document = {"status": response.status_code, "trace": trace.root.to_dict()}
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        print(trace.format())
        print(f"→ {response.status}, {len(response.get_data())} bytes")
    return 0


def _parse_header(text: str) -> tuple[str, str]:
    name, separator, value = text.partition(":")
    if not separator or not name.strip():
        raise ValueError(f"a header must look like 'Name: value', not {text!r}")
    return name.strip(), value.strip()
