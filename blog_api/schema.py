"""Is the database ready for this code? The check ``create_app`` runs before serving.

A new SQLite database (the embedded default) gets its tables here, so
``gunicorn blog_api.wsgi:app`` on a fresh checkout just works. Any other
database that is empty, made before migrations, or behind the code stops the
app with :class:`SchemaNotReady`, whose one line says what to run: a server
that would answer 500 to every request ("no such table") should not start.
A database *ahead* of the code (a newer release migrated it) is served with a
warning: revisions expand before they contract, so old code keeps working on
the new schema while hosts are upgraded one by one.

Migrations themselves are ``blog_api/migrate.py`` (Alembic).
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine, inspect, text

log = logging.getLogger("blog_api.migrate")

#: The newest revision in ``blog_api/migrations/versions``, which this code
#: needs. A test checks that it equals Alembic's head: bump it with every
#: new revision.
SCHEMA_REVISION = "0006"


class SchemaNotReady(RuntimeError):
    """The database cannot serve this code; the message says what to run."""


def upgrade_command(framework: str) -> str:
    """How a user of ``framework`` runs ``db upgrade`` (both load ``blog_api.wsgi``)."""
    if framework == "flask":
        return "BLOG_FRAMEWORK=flask flask --app blog_api.wsgi db upgrade"
    return "miniflask --app blog_api.wsgi db upgrade"


def ensure_schema(engine: Engine, framework: str = "miniflask") -> None:
    """Make sure the database can serve this code, before the first request.

    Raises:
        SchemaNotReady: with one line that says what to run (spelled for
            ``framework``'s command line).
    """
    # PERF: the plain version asks Alembic (migrate.schema_state) every time.
    # Importing Alembic, and the Mako and Pygments it brings, cost each
    # gunicorn worker about 10 MiB of memory and 100 ms of start-up (measured:
    # 70.9 -> 80.8 MiB peak RSS); a database at SCHEMA_REVISION needs one query.
    if _recorded_revisions(engine) == (SCHEMA_REVISION,):
        return
    from blog_api import migrate

    state = migrate.schema_state(engine)
    where = engine.url.render_as_string(hide_password=True)
    if state.at_head:
        return
    if state.ahead:
        log.warning(
            "database %s is at revision %s, newer than this code's %s: serving it "
            "(migrations expand before they contract, so old code keeps working)",
            where,
            ", ".join(state.current),
            ", ".join(state.heads),
        )
        return
    if not state.has_tables and engine.dialect.name == "sqlite":
        migrate.upgrade(engine.url)
        log.info("created the tables of a new database %s", where)
        return
    if not state.has_tables:
        problem = "has no tables"
    elif not state.current:
        problem = "was made before migrations"
    else:
        problem = f"is at revision {', '.join(state.current)}, this code needs {state.heads[0]}"
    raise SchemaNotReady(f"database {where} {problem}: run `{upgrade_command(framework)}` first")


def _recorded_revisions(engine: Engine) -> tuple[str, ...]:
    """The revisions in Alembic's ``alembic_version`` table (none if it is missing)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return ()
        rows = connection.execute(text("SELECT version_num FROM alembic_version"))
        return tuple(rows.scalars())
