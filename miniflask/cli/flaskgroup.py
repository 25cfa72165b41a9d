"""The command line itself: :class:`FlaskGroup`, the ``cli`` group, and :func:`main`.

Flask counterpart: ``FlaskGroup``, ``cli`` and ``main`` in ``flask/cli.py``.

``miniflask --app hello routes`` runs :data:`cli`, a :class:`FlaskGroup`.
What a FlaskGroup adds to a click group is where commands come from. Asked
for a command by name, it looks in three places, in this order:

1. its own commands: the built-in ``run``, ``shell``, ``routes`` (and
   miniflask's ``trace``), and plugin commands from installed packages;
2. the app's commands, ``app.cli``: it loads the app (through the
   :class:`ScriptInfo` it made for this command line) and pushes an app
   context for the command;
3. nothing: click answers "No such command", after the reason the app
   could not be loaded.

Built-in commands come first so that ``miniflask run --help`` works even
when the app is broken.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from ..globals import current_app
from .appgroup import AppGroup
from .commands import routes_command, run_command, shell_command
from .discovery import NoAppException, ScriptInfo
from .options import app_option, debug_option, env_file_option, version_option
from .trace import trace_command

if TYPE_CHECKING:
    from ..app import Flask


class FlaskGroup(AppGroup):
    """A command group that finds the app and offers the app's own commands.

    Use it directly for a project's own management script instead of
    ``miniflask --app``::

        @click.group(cls=FlaskGroup, create_app=create_app)
        def cli():
            \"\"\"Management script for the wiki.\"\"\"

    Args:
        add_default_commands: add ``run``, ``shell``, ``routes`` and ``trace``.
        create_app: a function returning the app, used instead of ``--app``.
        add_version_option: add ``--version``.
        load_dotenv: load ``.flaskenv`` and ``.env`` (when python-dotenv is
            installed and ``FLASK_SKIP_DOTENV`` is not set).
        set_debug_flag: set ``app.debug`` from ``--debug``/``FLASK_DEBUG``.
        **extra: :class:`click.Group`'s arguments (``name``, ``help`` ...).
    """

    def __init__(
        self,
        add_default_commands: bool = True,
        create_app: Callable[..., Flask] | None = None,
        add_version_option: bool = True,
        load_dotenv: bool = True,
        set_debug_flag: bool = True,
        **extra: Any,
    ) -> None:
        params: list[click.Parameter] = list(extra.pop("params", None) or ())
        # --env-file first: an eager option given nowhere is processed in this
        # order, and a .flaskenv may set the FLASK_APP that --app then reads.
        params.extend((env_file_option, app_option, debug_option))
        if add_version_option:
            params.append(version_option)
        extra.setdefault("context_settings", {}).setdefault("auto_envvar_prefix", "FLASK")
        super().__init__(params=params, **extra)
        self.create_app = create_app
        self.load_dotenv = load_dotenv
        self.set_debug_flag = set_debug_flag
        if add_default_commands:
            for command in (run_command, shell_command, routes_command):
                self.add_command(command)
            # Flask: miniflask's own command, see trace.py.
            self.add_command(trace_command)
        self._loaded_plugin_commands = False

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """Start a command line: make its :class:`ScriptInfo` and set ``FLASK_RUN_FROM_CLI``.

        ``FLASK_RUN_FROM_CLI`` makes ``app.run()`` return at once: a module
        that ends with a bare ``app.run()`` (no ``if __name__ ==
        "__main__"`` guard) would otherwise start a server while being
        imported, and block the command.
        """
        os.environ["FLASK_RUN_FROM_CLI"] = "true"
        if "obj" not in extra and "obj" not in self.context_settings:
            extra["obj"] = ScriptInfo(
                create_app=self.create_app,
                set_debug_flag=self.set_debug_flag,
                load_dotenv_defaults=self.load_dotenv,
            )
        return super().make_context(info_name, args, parent=parent, **extra)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Read ``--env-file`` and ``--app`` early when only help will be shown.

        ``miniflask`` alone and ``miniflask --help`` print the help before
        the options are processed (``--help`` is eager, and an empty command
        line never gets that far), yet the help lists the app's commands.
        So the two options are processed first, from the environment
        (``FLASK_ENV_FILE``, ``FLASK_APP``) and the default ``.env`` files.
        """
        only_help = (not args and self.no_args_is_help) or (
            len(args) == 1 and args[0] in self.get_help_option_names(ctx)
        )
        if only_help:
            env_file_option.handle_parse_result(ctx, {}, [])
            app_option.handle_parse_result(ctx, {}, [])
        return super().parse_args(ctx, args)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """A built-in or plugin command, else the app's command ``name``, in an app context."""
        self._load_plugin_commands()
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        try:
            app = ctx.ensure_object(ScriptInfo).load_app()
        except NoAppException as e:
            click.secho(f"Error: {e.format_message()}\n", err=True, fg="red")
            return None
        if self._load_plugin_commands() and name in self.commands:
            return self.commands[name]
        # The app context lives as long as click's context: the command, its
        # parameter callbacks and its subcommands all see current_app.
        if not current_app or current_app._get_current_object() is not app:  # type: ignore[attr-defined]  # a proxy, typed as Flask
            ctx.with_resource(app.app_context())
        return app.cli.get_command(ctx, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The names for ``--help``: built-in, plugin and the app's commands, sorted.

        An app that cannot be loaded does not hide the built-in commands:
        the reason is printed to stderr (with the traceback for an error
        other than :class:`NoAppException`) and the rest is listed.
        """
        self._load_plugin_commands()
        names = set(super().list_commands(ctx))
        try:
            app = ctx.ensure_object(ScriptInfo).load_app()
        except NoAppException as e:
            click.secho(f"Error: {e.format_message()}\n", err=True, fg="red")
        except Exception:
            click.secho(f"{traceback.format_exc()}\n", err=True, fg="red")
        else:
            self._load_plugin_commands()
            names.update(super().list_commands(ctx), app.cli.list_commands(ctx))
        return sorted(names)

    def _load_plugin_commands(self) -> bool:
        """Add the commands of the ``flask.commands`` entry points, once; ``True`` if added now.

        Flask loads these for extensions that bring commands (Flask-Migrate's
        ``db``). They are written against ``flask``, so miniflask loads them
        only once ``flask`` *is* miniflask in this process, after
        :func:`miniflask.install_as_flask`: importing them next to a
        miniflask app would import the real Flask and mix two frameworks.
        An app module that calls ``install_as_flask()`` at its top gets
        them as soon as the app is loaded, which is why this is tried again
        then.
        """
        # Flask: Flask loads the entry points unconditionally.
        if self._loaded_plugin_commands or sys.modules.get("flask") is not _this_package():
            return False
        from importlib.metadata import entry_points

        for entry_point in entry_points(group="flask.commands"):
            self.add_command(entry_point.load(), entry_point.name)
        self._loaded_plugin_commands = True
        return True


def _this_package() -> Any:
    """The ``miniflask`` module object (``flask`` is an alias of it after install_as_flask)."""
    return sys.modules[__name__.partition(".")[0]]


#: The ``miniflask`` command (``python -m miniflask``), as ``flask.cli.cli`` is ``flask``.
cli = FlaskGroup(
    name="miniflask",
    help="""\
A general utility script for miniflask applications.

An application to load must be given with the '--app' option,
'FLASK_APP' environment variable, or with a 'wsgi.py' or 'app.py' file
in the current directory.
""",
)


def main() -> None:
    """Run :data:`cli` on ``sys.argv`` and exit: the ``miniflask`` console script."""
    cli.main()
