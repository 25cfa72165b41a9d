"""The built-in commands: ``run``, ``shell`` and ``routes``.

Flask counterpart: ``run_command``, ``shell_command`` and ``routes_command``
in ``flask/cli.py``.

``run`` serves the app with Werkzeug's development server (the same
:func:`werkzeug.serving.run_simple` that ``app.run()`` calls), ``shell``
opens Python's interactive console in an app context, and ``routes`` prints
the URL map. Each loads the app through the :class:`ScriptInfo` in click's
context only once it runs, so ``miniflask run --help`` needs no app.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

import click
from werkzeug import serving
from werkzeug.routing import Rule
from werkzeug.utils import import_string

from ..globals import current_app
from ..helpers import get_debug_flag
from .appgroup import pass_script_info, with_appcontext
from .discovery import ScriptInfo
from .options import debug_option

if TYPE_CHECKING:
    import ssl

    #: What ``--cert`` gives ``run``: an ``SSLContext``, a ``(cert, key)`` pair or ``"adhoc"``.
    CertValue = ssl.SSLContext | tuple[str, str | None] | Literal["adhoc"] | None


class CertParamType(click.ParamType):
    """``run --cert``: a certificate file, ``adhoc``, or the import path of an ``SSLContext``.

    ``adhoc`` makes Werkzeug generate a throw-away self-signed certificate,
    which needs the ``cryptography`` package. A file needs ``--key`` too
    (checked by the ``--key`` option's callback, which pairs them).
    """

    name = "path"

    def __init__(self) -> None:
        self.path_type = click.Path(exists=True, dir_okay=False, resolve_path=True)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Return the resolved file path, ``"adhoc"`` or the ``SSLContext`` object."""
        # Imported here, not at the top: Python may be built without ssl,
        # and only --cert needs it.
        try:
            import ssl
        except ImportError:
            raise click.BadParameter(
                'Using "--cert" requires Python to be compiled with SSL support.', ctx, param
            ) from None
        try:
            return self.path_type(value, param, ctx)
        except click.BadParameter:
            text = click.STRING(value, param, ctx).lower()
            if text == "adhoc":
                try:
                    import cryptography  # noqa: F401
                except ImportError:
                    raise click.BadParameter(
                        "Using ad-hoc certificates requires the cryptography library.",
                        ctx,
                        param,
                    ) from None
                return text
            context = import_string(text, silent=True)
            if isinstance(context, ssl.SSLContext):
                return context
            raise


def _pair_cert_with_key(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """``--key``: required with a certificate file, refused with ``adhoc`` or an ``SSLContext``.

    With a file, ``ctx.params["cert"]`` becomes the ``(cert, key)`` pair that
    ``run_simple``'s ``ssl_context`` takes.
    """
    cert = ctx.params.get("cert")
    is_adhoc = cert == "adhoc"
    try:
        import ssl
    except ImportError:
        is_context = False
    else:
        is_context = isinstance(cert, ssl.SSLContext)

    if value is None:
        if cert and not (is_adhoc or is_context):
            raise click.BadParameter('Required when using "--cert".', ctx, param)
        return
    if is_adhoc:
        raise click.BadParameter('When "--cert" is "adhoc", "--key" is not used.', ctx, param)
    if is_context:
        raise click.BadParameter(
            'When "--cert" is an SSLContext object, "--key" is not used.', ctx, param
        )
    if not cert:
        raise click.BadParameter('"--cert" must also be specified.', ctx, param)
    ctx.params["cert"] = (cert, value)


class SeparatedPathType(click.Path):
    """A list of paths in one value, separated by :data:`os.pathsep` (``:``, ``;`` on Windows).

    Each item is checked as a :class:`click.Path`; used by ``run
    --extra-files`` and ``--exclude-patterns``.
    """

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        """Split the value and convert each path."""
        convert_one = super().convert
        return [convert_one(item, param, ctx) for item in self.split_envvar_value(value)]


def show_server_banner(debug: bool | None, app_import_path: str | None) -> None:
    """Print which app is served and whether debug mode is on (not again after a reload)."""
    if serving.is_running_from_reloader():
        return
    if app_import_path is not None:
        click.echo(f" * Serving Flask app '{app_import_path}'")
    if debug is not None:
        click.echo(f" * Debug mode: {'on' if debug else 'off'}")


@click.command("run", short_help="Run a development server.")
@click.option("--host", "-h", default="127.0.0.1", help="The interface to bind to.")
@click.option("--port", "-p", default=5000, help="The port to bind to.")
@click.option(
    "--cert",
    type=CertParamType(),
    help="Specify a certificate file to use HTTPS.",
    # Eager, so --key's callback finds it in ctx.params whatever the order.
    is_eager=True,
)
@click.option(
    "--key",
    type=click.Path(exists=True, dir_okay=False, resolve_path=True),
    callback=_pair_cert_with_key,
    expose_value=False,
    help="The key file to use when specifying a certificate.",
)
@click.option(
    "--reload/--no-reload",
    default=None,
    help="Enable or disable the reloader. By default the reloader is active if debug is enabled.",
)
@click.option(
    "--debugger/--no-debugger",
    default=None,
    help="Enable or disable the debugger. By default the debugger is active if debug is enabled.",
)
@click.option(
    "--with-threads/--without-threads",
    default=True,
    help="Enable or disable multithreading.",
)
@click.option(
    "--extra-files",
    default=None,
    type=SeparatedPathType(),
    help="Extra files that trigger a reload on change. Multiple paths"
    f" are separated by {os.path.pathsep!r}.",
)
@click.option(
    "--exclude-patterns",
    default=None,
    type=SeparatedPathType(),
    help="Files matching these fnmatch patterns will not trigger a reload on change."
    f" Multiple patterns are separated by {os.path.pathsep!r}.",
)
@pass_script_info
def run_command(
    info: ScriptInfo,
    host: str,
    port: int,
    reload: bool | None,
    debugger: bool | None,
    with_threads: bool,
    cert: CertValue,
    extra_files: list[str] | None,
    exclude_patterns: list[str] | None,
) -> None:
    """Run a local development server.

    This server is for development purposes only. It does not provide
    the stability, security, or performance of production WSGI servers.

    The reloader and debugger are enabled by default with the '--debug'
    option.
    """
    app = _load_app_for_server(info)
    debug = get_debug_flag()
    show_server_banner(debug, info.app_import_path)
    serving.run_simple(
        host,
        port,
        app,
        use_reloader=debug if reload is None else reload,
        use_debugger=debug if debugger is None else debugger,
        threaded=with_threads,
        ssl_context=cert,
        extra_files=extra_files,
        exclude_patterns=exclude_patterns,
    )


# `miniflask run --debug` as well as `miniflask --debug run`: the same option object.
run_command.params.insert(0, debug_option)


def _load_app_for_server(info: ScriptInfo) -> Any:
    """The app to serve; in the reloader's child, an app that raises the loading error.

    With the reloader on, the server runs in a child process that restarts
    on every code change. If a change broke the app, exiting would end the
    reloader too: instead the child prints the traceback and serves the
    error, so the debugger shows it, and the next fix reloads again.
    """
    try:
        return info.load_app()
    except Exception as e:
        if not serving.is_running_from_reloader():
            raise
        traceback.print_exc()
        error = e

        def raise_loading_error(environ: Any, start_response: Any) -> Iterable[bytes]:
            raise error from None

        return raise_loading_error


@click.command("shell", short_help="Run a shell in the app context.")
@with_appcontext
def shell_command() -> None:
    """Run an interactive Python shell in the context of a given
    Flask application.  The application will populate the default
    namespace of this shell according to its configuration.

    This is useful for executing small snippets of management code
    without having to manually configure the application.
    """
    import code

    app = current_app
    banner = (
        f"Python {sys.version} on {sys.platform}\n"
        f"App: {app.import_name}\nInstance: {app.instance_path}"
    )
    names: dict[str, Any] = {}
    # Honour PYTHONSTARTUP as the plain interpreter does.
    startup = os.environ.get("PYTHONSTARTUP")
    if startup and os.path.isfile(startup):
        with open(startup) as file:
            exec(compile(file.read(), startup, "exec"), names)
    names.update(app.make_shell_context())
    _enable_completion(names)
    code.interact(banner=banner, local=names)


def _enable_completion(names: dict[str, Any]) -> None:
    """Set up readline's tab completion and history on the shell's names, as ``python`` does.

    ``sys.__interactivehook__`` (installed by :mod:`site`) is what turns them
    on in the plain interpreter; it completes names from ``__main__``, so
    the completer is pointed at the shell's names first.
    """
    hook = getattr(sys, "__interactivehook__", None)
    if hook is None:
        return
    try:
        import readline
        from rlcompleter import Completer
    except ImportError:
        pass
    else:
        readline.set_completer(Completer(names).complete)
    hook()


@click.command("routes", short_help="Show the routes for the app.")
@click.option(
    "--sort",
    "-s",
    type=click.Choice(("endpoint", "methods", "domain", "rule", "match")),
    default="endpoint",
    help="Method to sort routes by. 'match' is the order that Flask will match routes"
    " when dispatching a request.",
)
@click.option("--all-methods", is_flag=True, help="Show HEAD and OPTIONS methods.")
@with_appcontext
def routes_command(sort: str, all_methods: bool) -> None:
    """Show all registered routes with endpoints and methods.

    \f
    (click shows the help up to the form feed above, as ``flask routes --help``
    shows one line; the rest is for readers of the code.)
    ``HEAD`` and ``OPTIONS`` are hidden unless ``--all-methods`` is given,
    because every ``GET`` rule has the first and nearly every rule the
    second. The table is ``flask routes``'s, column for column.
    """
    rules = list(current_app.url_map.iter_rules())
    if not rules:
        click.echo("No routes were registered.")
        return
    hidden = set() if all_methods else {"HEAD", "OPTIONS"}
    host_matching = current_app.url_map.host_matching
    has_domain = any(_domain(rule, host_matching) for rule in rules)

    headers = ["Endpoint", "Methods"]
    if has_domain:
        headers.append("Host" if host_matching else "Subdomain")
    headers.append("Rule")
    rows = [_route_row(rule, hidden, host_matching, has_domain) for rule in rules]
    _sort_rows(rows, sort, has_domain)
    _echo_table(headers, rows)


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


def _echo_table(headers: list[str], rows: list[list[str]]) -> None:
    """Print left-aligned columns two spaces apart, with a dashed line under the header."""
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, ["-" * width for width in widths], *rows]:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
