"""``python -m blog_api db upgrade`` (or ``seed``...): the blog's commands without ``--app``.

The commands themselves are ``app.cli`` commands (see ``blog_api/commands.py``),
run by the framework's own command line, ``miniflask --app blog_api.wsgi
db upgrade`` or ``flask --app blog_api.wsgi db upgrade``. This module is the same
thing as a custom script, the way Flask's documentation describes one: a
``FlaskGroup`` that builds the app with ``create_app()``, so ``BLOG_FRAMEWORK``
and the ``BLOG_*`` settings apply as they do for the server. Its other
commands (``routes``, ``run``, ``shell``) come with ``FlaskGroup``.
"""

from __future__ import annotations

from blog_api import create_app, load_framework


def main() -> None:
    """Run the blog's command line on ``sys.argv`` and exit."""
    # The framework's own cli module: flask.cli or miniflask.cli.
    framework_cli = load_framework().cli
    group = framework_cli.FlaskGroup(
        name="blog_api",
        create_app=create_app,
        help="The blog API's commands: db, init-db and seed, and the framework's own.",
    )
    group.main(prog_name="python -m blog_api")


if __name__ == "__main__":
    main()
