"""The WSGI entry point for gunicorn: ``gunicorn 'blog_api.wsgi:app'``.

The framework comes from ``BLOG_FRAMEWORK`` (``flask`` or ``miniflask``), the
settings from the other ``BLOG_*`` variables (see ``blog_api/config.py``).
Create the tables first with ``miniflask --app blog_api.wsgi init-db`` (``flask
--app ...`` with ``BLOG_FRAMEWORK=flask``), or ``python -m blog_api init-db``.
"""

from __future__ import annotations

from blog_api import create_app

app = create_app()
