"""The options of the command itself: ``--env-file``, ``--app``, ``--debug``, ``--version``.

Flask counterpart: ``load_dotenv``, ``get_version`` and the ``_app_option``,
``_debug_option`` and ``_env_file_option`` objects in ``flask/cli.py``.

Each option does its work in a click *callback* instead of in the group's
function, so a custom ``FlaskGroup`` with a function of its own keeps it.
Three of them are *eager* (processed before the others and before the
command runs) because the rest depends on them: ``--env-file`` may set
``FLASK_APP``, and ``--app`` must be known before ``--help`` lists the
app's own commands.

Every option can also come from the environment: ``FlaskGroup`` sets click's
``auto_envvar_prefix`` to ``FLASK``, so ``--app`` reads ``FLASK_APP``,
``--debug`` ``FLASK_DEBUG`` and ``run --port`` ``FLASK_RUN_PORT``.
"""

from __future__ import annotations

import os
import platform
from typing import Any

import click
from click.core import ParameterSource

from .discovery import ScriptInfo


def load_dotenv(path: str | os.PathLike[str] | None = None, load_defaults: bool = True) -> bool:
    """Set environment variables from ``.flaskenv``, ``.env`` and the file at ``path``.

    ``.env`` wins over ``.flaskenv`` and ``path`` wins over both; a variable
    already set in the environment wins over every file. ``.flaskenv`` is
    meant to be committed (``FLASK_APP=hello``), ``.env`` to hold secrets
    and stay out of the repository. The default files are searched from the
    current folder upwards. Nothing is loaded, and a tip is printed if files
    exist, when python-dotenv is not installed (``pip install
    'miniflask[dotenv]'``).

    The ``miniflask`` command and :meth:`Flask.run <miniflask.Flask.run>`
    call this; a production server does not, so call it yourself there if
    you want the files.

    Args:
        path: one more file to load, if it exists.
        load_defaults: also look for ``.flaskenv`` and ``.env``.

    Returns:
        ``True`` if at least one variable was read from a file.
    """
    try:
        import dotenv
    except ImportError:
        if path or os.path.isfile(".env") or os.path.isfile(".flaskenv"):
            click.secho(
                " * Tip: There are .env files present. Install python-dotenv to use them.",
                fg="yellow",
                err=True,
            )
        return False

    values: dict[str, str | None] = {}
    if load_defaults:
        for default_name in (".flaskenv", ".env"):  # the later file wins
            found = dotenv.find_dotenv(default_name, usecwd=True)
            if found:
                values.update(dotenv.dotenv_values(found, encoding="utf-8"))
    if path is not None and os.path.isfile(path):
        values.update(dotenv.dotenv_values(path, encoding="utf-8"))
    for key, value in values.items():
        if value is not None:  # a bare "KEY" line has no value
            os.environ.setdefault(key, value)
    return bool(values)


def _load_env_files(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--env-file``: load it, and ``.flaskenv``/``.env`` unless ``FLASK_SKIP_DOTENV`` is set."""
    try:
        import dotenv  # noqa: F401
    except ImportError:
        # Without a file named, go on: load_dotenv prints the tip.
        if value is not None:
            raise click.BadParameter(
                "python-dotenv must be installed to load an env file.", ctx=ctx, param=param
            ) from None
    load_defaults = ctx.ensure_object(ScriptInfo).load_dotenv_defaults
    if value is not None or load_defaults:
        load_dotenv(value, load_defaults=load_defaults)
    return value


env_file_option = click.Option(
    ["-e", "--env-file"],
    type=click.Path(exists=True, dir_okay=False),
    help="Load environment variables from this file, taking precedence over those set"
    " by '.env' and '.flaskenv'. Variables set directly in the environment take highest"
    " precedence. python-dotenv must be installed.",
    is_eager=True,
    expose_value=False,
    callback=_load_env_files,
)


def _remember_app(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``--app``: store the import path in the :class:`ScriptInfo`; nothing is imported yet."""
    if value is not None:
        ctx.ensure_object(ScriptInfo).app_import_path = value
    return value


app_option = click.Option(
    ["-A", "--app"],
    metavar="IMPORT",
    help="The Flask application or factory function to load, in the form 'module:name'."
    " Module can be a dotted import or file path. Name is not required if it is 'app',"
    " 'application', 'create_app', or 'make_app', and can be 'name(args)' to pass arguments.",
    # Eager, so the app is known when --help (eager too) lists its commands.
    is_eager=True,
    expose_value=False,
    callback=_remember_app,
)


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> bool | None:
    """``--debug/--no-debug``: set ``FLASK_DEBUG``, so even the app factory sees it."""
    if ctx.get_parameter_source(param.name or "") in (
        ParameterSource.DEFAULT,
        ParameterSource.DEFAULT_MAP,
    ):
        # Not given: leave FLASK_DEBUG (and so app.debug) to the environment.
        return None
    os.environ["FLASK_DEBUG"] = "1" if value else "0"
    return value


debug_option = click.Option(
    ["--debug/--no-debug"],
    help="Set debug mode.",
    expose_value=False,
    callback=_set_debug,
)


def get_version(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """``--version``: print the versions of Python, miniflask and Werkzeug, then exit."""
    if not value or ctx.resilient_parsing:
        return
    # Imported here: importlib.metadata costs ~0.3 MiB, and only --version needs it.
    from importlib.metadata import PackageNotFoundError, version

    lines = [f"Python {platform.python_version()}"]
    # Flask: `flask --version` prints Flask's version. This command runs
    # miniflask, so it prints miniflask's, even when Flask is installed too.
    for package, label in (("miniflask", "miniflask"), ("werkzeug", "Werkzeug")):
        try:
            lines.append(f"{label} {version(package)}")
        except PackageNotFoundError:
            lines.append(f"{label} (not installed)")
    click.echo("\n".join(lines), color=ctx.color)
    ctx.exit()


version_option = click.Option(
    ["--version"],
    help="Show the miniflask version.",
    expose_value=False,
    callback=get_version,
    is_flag=True,
    is_eager=True,
)
