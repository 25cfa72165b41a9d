"""Commands that run inside the app: :func:`with_appcontext` and :class:`AppGroup`.

Flask counterpart: ``with_appcontext`` and ``AppGroup`` in ``flask/cli.py``.

A command such as ``init-db`` needs ``current_app`` (for its config, its
database) but has no request. Flask's answer is the application context
alone (see ``docs/contexts.md``): :func:`with_appcontext` loads the app
through the :class:`~miniflask.cli.ScriptInfo` in click's context and pushes
an app context for as long as click's context lives. ``app.cli`` and
``bp.cli`` are :class:`AppGroup` objects, whose ``command`` decorator adds
that wrapper for you::

    @app.cli.command("init-db")
    def init_db():
        create_tables(current_app.config["DATABASE_URL"])
"""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper
from typing import Any, TypeVar, cast

import click

from ..globals import current_app
from .discovery import ScriptInfo

F = TypeVar("F", bound=Callable[..., Any])

#: ``@pass_script_info`` hands a command the :class:`ScriptInfo` of its command
#: line as first argument (a new one if there is none, as in a bare click test).
pass_script_info = click.make_pass_decorator(ScriptInfo, ensure=True)


def with_appcontext(f: F) -> F:
    """Run the command ``f`` with the app's application context pushed.

    The app comes from the :class:`ScriptInfo` in click's context (so
    ``--app`` decides), unless an app context is active already. The context
    is tied to click's context (``ctx.with_resource``), not to the call of
    ``f``: it stays pushed for the subcommands of a decorated group too, and
    is popped when the command line is done.

    Commands made with ``app.cli.command()`` or ``AppGroup.command()`` are
    wrapped already; use this for a plain ``click.command`` added with
    ``app.cli.add_command``.

    Example::

        @click.command()
        @with_appcontext
        def show_config():
            click.echo(current_app.config["DEBUG"])
    """

    def in_app_context(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        if not current_app:
            app = ctx.ensure_object(ScriptInfo).load_app()
            ctx.with_resource(app.app_context())
        return f(*args, **kwargs)

    # update_wrapper also copies the options that click decorators above f
    # recorded on it (``__click_params__``), so their order does not matter.
    return cast(F, update_wrapper(in_app_context, f))


class AppGroup(click.Group):
    """A click group whose commands get an app context: the class of ``app.cli``.

    It is a plain :class:`click.Group` except that :meth:`command` wraps the
    function in :func:`with_appcontext` (pass ``with_appcontext=False`` to
    opt out) and :meth:`group` makes sub-groups of this class. Not to be
    confused with :class:`~miniflask.cli.FlaskGroup`, the group that *finds*
    the app.

    Example::

        user_cli = AppGroup("user")

        @user_cli.command("create")
        @click.argument("name")
        def create_user(name):
            ...

        app.cli.add_command(user_cli)      # miniflask user create ada
    """

    def command(  # type: ignore[override]  # click's overloads, in one signature
        self, *args: Any, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], click.Command]:
        """Like :meth:`click.Group.command`, with the function run in the app context."""
        wrap = kwargs.pop("with_appcontext", True)

        def decorator(f: Callable[..., Any]) -> click.Command:
            command = super(AppGroup, self).command(*args, **kwargs)
            return command(with_appcontext(f) if wrap else f)

        return decorator

    def group(  # type: ignore[override]  # click's overloads, in one signature
        self, *args: Any, **kwargs: Any
    ) -> Callable[[Callable[..., Any]], click.Group]:
        """Like :meth:`click.Group.group`, making an :class:`AppGroup` by default."""
        kwargs.setdefault("cls", AppGroup)
        return super().group(*args, **kwargs)
