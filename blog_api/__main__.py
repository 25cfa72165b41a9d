"""``python -m blog_api db upgrade`` (or ``seed``...): the blog's commands without ``--app``.

The commands themselves are ``app.cli`` commands (see ``blog_api/commands.py``),
run by the framework's own command line, ``miniflask --app blog_api.wsgi
db upgrade`` or ``flask --app blog_api.wsgi db upgrade``. This module is the same
thing as a custom script, the way Flask's documentation describes one: a
``FlaskGroup`` that builds the app with ``create_app()``, so ``BLOG_FRAMEWORK``
and the ``BLOG_*`` settings apply as they do for the server. Its other
commands (``routes``, ``run``, ``shell``) come with ``FlaskGroup``.

Click shows a command's docstring as its ``--help``, and ours are written in
reST for the docs (````db upgrade````, ``Example::``). ``readable_help`` turns
that markup into plain terminal text for every command this group shows.
"""

from __future__ import annotations

import re
from typing import Any

import click

from blog_api import create_app, load_framework

#: reST roles (``:func:`x```) and inline literals (````x````) become ``'x'``,
#: the quoting click and Flask use for names in help text; before ``'s`` the
#: quotes go (``'flask routes''s`` reads badly).
_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")
_POSSESSIVE = re.compile(r"``([^`]+)``(?='s)")
_LITERAL = re.compile(r"``([^`]+)``")
#: "Example::" ending a paragraph: a literal block follows.
_LITERAL_BLOCK = re.compile(r"::\n\n(?=[ \t])")


def readable_help(text: str) -> str:
    """reST help text as a terminal shows it well.

    ````db upgrade```` becomes ``'db upgrade'``; a literal block introduced by
    ``::`` gets click's ``\\b`` marker, so click prints its lines as they are
    instead of re-wrapping them into one paragraph.

    Example::

        >>> readable_help("The same as ``db upgrade``.")
        "The same as 'db upgrade'."
    """
    text = _ROLE.sub(r"'\1'", text)
    text = _POSSESSIVE.sub(r"\1", text)
    text = _LITERAL.sub(r"'\1'", text)
    return _LITERAL_BLOCK.sub(":\n\n\b\n", text)


def make_readable(command: click.Command) -> click.Command:
    """Rewrite ``command``'s help, and its sub-commands', with :func:`readable_help`."""
    if command.help:
        command.help = readable_help(command.help)
    if command.short_help:
        command.short_help = readable_help(command.short_help)
    if isinstance(command, click.Group):
        for sub_command in command.commands.values():
            make_readable(sub_command)
    return command


def build_group() -> click.Group:
    """The blog's command group, on the framework that ``BLOG_FRAMEWORK`` names."""
    # The framework's own cli module: flask.cli or miniflask.cli.
    flask_group: type[click.Group] = load_framework().cli.FlaskGroup

    class BlogGroup(flask_group):  # type: ignore[valid-type,misc]  # a class chosen at run time
        """``FlaskGroup`` whose commands' help reads as plain text."""

        def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
            command: click.Command | None = super().get_command(ctx, name)
            return make_readable(command) if command is not None else None

    group: Any = BlogGroup(
        name="blog_api",
        create_app=create_app,
        help="The blog API's commands: db, init-db and seed, and the framework's own.",
    )
    return group


def main() -> None:
    """Run the blog's command line on ``sys.argv`` and exit."""
    build_group().main(prog_name="python -m blog_api")


if __name__ == "__main__":
    main()
