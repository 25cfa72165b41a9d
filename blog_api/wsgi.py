"""The WSGI entry point for gunicorn: ``gunicorn 'blog_api.wsgi:app'``.

The framework comes from ``BLOG_FRAMEWORK`` (``flask`` or ``miniflask``), the
settings from the other ``BLOG_*`` variables (see ``blog_api/config.py``).
``create_app`` checks the database's schema before anything is served
(``blog_api/migrate.py``): a new SQLite file gets its tables; a database that
is empty or behind the code stops the server with one line naming the command
to run, ``miniflask --app blog_api.wsgi db upgrade`` (``flask --app ...`` with
``BLOG_FRAMEWORK=flask``, or ``python -m blog_api db upgrade``).
"""

from __future__ import annotations

from blog_api import create_app

app = create_app()
