"""Alembic's script directory for the blog's schema (``blog_api/migrate.py`` drives it)."""
