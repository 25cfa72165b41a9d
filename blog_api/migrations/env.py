"""Alembic's environment: how a migration run connects and what it compares with.

``blog_api/migrate.py`` always hands over an open connection, inside a
transaction it began (and, on PostgreSQL, holding the migration lock), in
``config.attributes["connection"]``; this file only configures Alembic's
context on it. There is no ``alembic.ini`` and no offline (SQL script) mode:
the database URL comes from the app's settings, like every other part of the
blog.
"""

from __future__ import annotations

import warnings

from alembic import context

from blog_api.migrate import include_object
from blog_api.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through blog_api.migrate (the `db` commands), not alembic")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things in place; batch mode copies the table.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    compare_server_default=True,
    include_object=include_object,
    # Our caller owns the transaction: one per run, all revisions or none.
    transactional_ddl=True,
)
with context.begin_transaction(), warnings.catch_warnings():
    # SQLite's reflection (batch mode, autogenerate) cannot see the lower()
    # indexes; revisions that rebuild `users` re-create them (see 0002).
    warnings.filterwarnings("ignore", ".*expression-based index")
    context.run_migrations()
