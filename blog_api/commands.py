"""The blog's commands: ``db`` (migrations), ``jobs`` (the outbox), ``init-db``, ``seed``.

``create_app`` calls :func:`register_commands`, so the framework's own command
runs them, app loading and all::

    miniflask --app blog_api.wsgi db upgrade
    miniflask --app blog_api.wsgi db revision -m "posts slug"
    BLOG_FRAMEWORK=flask flask --app blog_api.wsgi seed --users 20 --posts 500
    python -m blog_api seed             # the same commands, without --app

``db`` is Flask-Migrate's command set (``upgrade``, ``downgrade``, ``current``,
``history``, ``stamp``, ``revision``, ``check``) over Alembic's API, through
``blog_api/migrate.py``. ``jobs`` runs and inspects the outbox of
``blog_api/jobs.py``: ``jobs run`` (drain once, or ``--loop``), ``jobs failed``
(the parked jobs), ``jobs retry ID...`` or ``jobs retry --all``, ``jobs sweep``
(delete old done jobs, as the dispatcher thread does hourly).

PERF: each command imports ``blog_api.migrate`` when it runs, where the plain
version imports it at the top. Every gunicorn worker imports this module
(``create_app`` registers the commands) and never runs one, and Alembic, with
the Mako and Pygments it brings, costs about 10 MiB and 100 ms per worker.

They are plain click commands, which import neither framework: ``app.cli`` is
a click group on both, and each command reaches the database through the
app's ``Database`` extension (``app.extensions["blog_db"]``), so it uses the
same settings (``BLOG_DATABASE_URL`` ...) as the web app. Neither starts a
server.
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from typing import Any

import click
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from blog_api import jobs
from blog_api.db import make_session_factory
from blog_api.models import Comment, Post, Tag, User, utcnow
from blog_api.oauth.cli import clients_group

SEED_PASSWORD = "password"
ADMIN_PASSWORD = "admin-password"
#: Printed (on stderr) after every seed: anyone who has read the README can log
#: in as these accounts, the administrator included.
SEED_WARNING = (
    f"Warning: the seeded accounts have well-known passwords: admin / {ADMIN_PASSWORD} "
    f"(an administrator) and user1 ... userN / {SEED_PASSWORD}. Use this database for "
    "demos and benchmarks only; change or delete them before anyone else can reach it."
)
TAG_NAMES = ("python", "flask", "werkzeug", "sql", "http", "caching", "testing", "devops")
WORDS = (
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
    "tempor",
)


def register_commands(app: Any) -> None:
    """Add ``db``, ``init-db`` and ``seed`` to ``app.cli``, working on ``app``'s database.

    Call it after the ``Database`` extension is installed: the commands use
    its engine.
    """
    database = app.extensions["blog_db"]
    app.cli.add_command(_db_group(database))
    app.cli.add_command(_jobs_group(database, app.config))
    app.cli.add_command(clients_group(database))

    @app.cli.command("init-db")
    def init_db() -> None:
        """Create the tables, or bring them up to date: the same as 'db upgrade'."""
        _upgrade(database.engine, "head")

    @app.cli.command("seed")
    @click.option("--users", default=10, show_default=True, help="Demo users to add.")
    @click.option("--posts", default=100, show_default=True, help="Posts to add.")
    @click.option("--comments", default=2, show_default=True, help="Comments per post.")
    @click.option("--seed", default=1, show_default=True, help="Random seed, for repeatable data.")
    def seed(users: int, posts: int, comments: int, seed: int) -> None:
        """Create the tables, then demo users, posts and comments.

        Seeded accounts (for demos and benchmarks; change them before any real use):

        \b
        * admin / admin-password (an administrator)
        * user1 ... userN / password
        """
        from blog_api import migrate  # PERF: see the module docstring

        _run(migrate.upgrade, database.engine, "head")
        try:
            counts = seed_database(database.engine, users, posts, comments, random.Random(seed))
        except SQLAlchemyError as e:
            # Only the driver's own message: SQLAlchemy's would list the
            # statement's parameters, password hashes included.
            raise click.ClickException(f"seeding failed, nothing was added: {_reason(e)}") from e
        click.echo("seeded " + ", ".join(f"{count} {name}" for name, count in counts.items()))
        click.echo(click.style(SEED_WARNING, fg="yellow"), err=True)


def _db_group(database: Any) -> click.Group:
    """The ``db`` commands, bound to the app's database."""

    @click.group("db")
    def db() -> None:
        """Schema migrations (Alembic): upgrade, downgrade, current, revision..."""

    @db.command("upgrade")
    @click.argument("revision", default="head")
    def upgrade(revision: str) -> None:
        """Apply revisions up to REVISION (default: head, the newest)."""
        _upgrade(database.engine, revision)

    @db.command("downgrade")
    @click.argument("revision", default="-1")
    def downgrade(revision: str) -> None:
        """Undo revisions down to REVISION (default: -1, the last one; base: all)."""
        from blog_api import migrate  # PERF: see the module docstring

        _run(migrate.downgrade, database.engine, revision)
        click.echo(f"at revision {_current(database.engine)}")

    @db.command("current")
    def current() -> None:
        """Print the database's revision, and whether it is the newest."""
        from blog_api import migrate  # PERF: see the module docstring

        state = migrate.schema_state(database.engine)
        mark = " (head)" if state.at_head else f" (head is {', '.join(state.heads)})"
        click.echo(_current(database.engine) + mark)

    @db.command("history")
    def history() -> None:
        """List the revisions, newest first."""
        from blog_api import migrate  # PERF: see the module docstring

        for revision, revises, doc in migrate.history():
            click.echo(f"{revises or '<base>'} -> {revision}: {doc}")

    @db.command("stamp")
    @click.argument("revision")
    def stamp(revision: str) -> None:
        """Record REVISION as applied, without running anything."""
        from blog_api import migrate  # PERF: see the module docstring

        _run(migrate.stamp, database.engine, revision)
        click.echo(f"at revision {_current(database.engine)}")

    @db.command("revision")
    @click.option("-m", "--message", required=True, help="What the revision does.")
    @click.option(
        "--autogenerate/--empty",
        default=True,
        show_default=True,
        help="Draft operations by comparing models.py with the database (at head).",
    )
    def revision(message: str, autogenerate: bool) -> None:
        """Write the next revision file into blog_api/migrations/versions."""
        from blog_api import migrate  # PERF: see the module docstring

        path = _run(migrate.new_revision, database.engine, message, autogenerate)
        click.echo(f"wrote {path}: read it and edit it before you commit it")

    @db.command("check")
    def check() -> None:
        """Fail unless the database is at head and matches models.py."""
        from blog_api import migrate  # PERF: see the module docstring

        state = migrate.schema_state(database.engine)
        if not state.at_head:
            raise click.ClickException(f"database at {_current(database.engine)}, not at head")
        changes = migrate.differences(database.engine.url)
        if changes:
            raise click.ClickException(
                "models.py and the migrations disagree, run `db revision`: " + repr(changes)
            )
        click.echo("the database is at head and matches models.py")

    return db


def _jobs_group(database: Any, config: Any) -> click.Group:
    """The ``jobs`` commands, bound to the app's database and settings."""

    @click.group("jobs")
    def jobs_group() -> None:
        """The outbox of background jobs (mail): run, list parked jobs, retry, sweep."""

    @jobs_group.command("run")
    @click.option("--loop", is_flag=True, help="Keep polling (like the dispatcher thread).")
    @click.option(
        "--interval",
        type=float,
        default=None,
        help="Seconds between polls with --loop (default: BLOG_JOBS_POLL_INTERVAL).",
    )
    def run(loop: bool, interval: float | None) -> None:
        """Run the due jobs until none is left (or, with --loop, until interrupted)."""
        pause = interval if interval is not None else float(config["JOBS_POLL_INTERVAL"])
        while True:
            total = _drain(database.engine, config)
            click.echo(f"done {total.done}, retrying later {total.retrying}, parked {total.failed}")
            if not loop:
                return
            time.sleep(pause)

    @jobs_group.command("failed")
    def failed() -> None:
        """List the parked jobs: id, kind, attempts, last error."""
        parked = jobs.failed_jobs(database.engine)
        for job in parked:
            click.echo(f"{job.id}\t{job.kind}\t{job.attempts} attempts\t{job.last_error}")
        click.echo(f"{len(parked)} failed job(s)")

    @jobs_group.command("retry")
    @click.argument("ids", nargs=-1, type=int)
    @click.option("--all", "retry_all", is_flag=True, help="Retry every parked job.")
    def retry(ids: tuple[int, ...], retry_all: bool) -> None:
        """Make parked jobs due again (IDs from `jobs failed`, or --all)."""
        if bool(ids) == retry_all:
            raise click.UsageError("give job IDs or --all (not both)")
        count = jobs.retry(database.engine, None if retry_all else ids)
        click.echo(f"{count} job(s) pending again")

    @jobs_group.command("sweep")
    @click.option(
        "--older-than",
        type=click.IntRange(min=0),
        default=None,
        metavar="SECONDS",
        help="Delete done jobs finished longer ago than this (default: BLOG_JOBS_KEEP_DONE).",
    )
    def sweep(older_than: int | None) -> None:
        """Delete old done jobs (pending and failed ones are kept)."""
        seconds = older_than if older_than is not None else int(config["JOBS_KEEP_DONE"])
        count = jobs.sweep_done(database.engine, timedelta(seconds=seconds))
        click.echo(f"{count} done job(s) deleted")

    return jobs_group


def _drain(engine: Engine, config: Any) -> jobs.RunResult:
    """Call ``run_due`` until it claims nothing; the sum of what it did."""
    total = jobs.RunResult()
    while True:
        result = jobs.run_due(engine, config)
        if result.claimed == 0:
            return total
        for name in ("claimed", "done", "retrying", "failed"):
            setattr(total, name, getattr(total, name) + getattr(result, name))


def _upgrade(engine: Engine, revision: str) -> None:
    from blog_api import migrate  # PERF: see the module docstring

    _run(migrate.upgrade, engine, revision)
    where = engine.url.render_as_string(hide_password=True)
    click.echo(f"{where} at revision {_current(engine)}")


def _run(operation: Any, engine: Engine, *args: Any) -> Any:
    """Run a migration operation; its failures become one line, not a traceback."""
    from alembic.util import CommandError

    from blog_api import migrate  # PERF: see the module docstring

    try:
        return operation(engine.url, *args)
    except (migrate.SchemaNotReady, CommandError) as e:
        raise click.ClickException(str(e)) from e
    except SQLAlchemyError as e:
        raise click.ClickException(f"migration failed, nothing was changed: {_reason(e)}") from e


def _reason(error: SQLAlchemyError) -> str:
    """The database's own words, without SQLAlchemy's statement and parameters."""
    return str(getattr(error, "orig", None) or type(error).__name__)


def _current(engine: Engine) -> str:
    from blog_api import migrate  # PERF: see the module docstring

    return ", ".join(migrate.current(engine.url)) or "<base> (no revision)"


def seed_database(
    engine: Engine, users: int, posts: int, comments_per_post: int, rng: random.Random
) -> dict[str, int]:
    """Add ``users`` users (plus ``admin``), ``posts`` posts and their comments.

    Usernames continue after the highest existing ``userN``, so seeding twice
    (or after some seeded users were deleted) adds more data instead of
    failing on duplicates. One password hash is computed
    and shared by all seeded users: hashing N times would dominate the run time.
    Every ``userN`` gets :data:`SEED_PASSWORD`; ``admin`` gets :data:`ADMIN_PASSWORD`.
    """
    session = make_session_factory(engine)()
    with session:
        password_hash = generate_password_hash(SEED_PASSWORD)
        start = _last_seeded_number(session)
        if session.scalars(select(User).where(User.username == "admin")).first() is None:
            session.add(_user("admin", generate_password_hash(ADMIN_PASSWORD), admin=True))
        authors = [_user(f"user{start + n + 1}", password_hash) for n in range(users)]
        session.add_all(authors)
        session.flush()
        authors = authors or list(session.scalars(select(User)))
        tags = _tags(session)
        now = utcnow()
        for n in range(posts):
            _add_post(
                session,
                rng,
                rng.choice(authors),
                tags,
                authors,
                comments_per_post,
                now - timedelta(minutes=posts - n),
            )
        session.commit()
    return {"users": users, "posts": posts, "comments": posts * comments_per_post}


def _last_seeded_number(session: Session) -> int:
    """The highest N of the ``userN`` accounts (0 if none)."""
    names = session.scalars(select(User.username).where(User.username.like("user%")))
    return max((int(name[4:]) for name in names if name[4:].isdigit()), default=0)


def _user(name: str, password_hash: str, admin: bool = False) -> User:
    """A demo account. Its address counts as confirmed: nobody can follow a link mailed to
    ``@example.com``, and demos must work with ``BLOG_REQUIRE_CONFIRMED_EMAIL`` on too."""
    return User(
        username=name,
        email=f"{name}@example.com",
        password_hash=password_hash,
        is_admin=admin,
        email_confirmed_at=utcnow(),
    )


def _tags(session: Session) -> list[Tag]:
    """The demo tag vocabulary, created if missing."""
    existing = {tag.name: tag for tag in session.scalars(select(Tag))}
    for name in TAG_NAMES:
        if name not in existing:
            existing[name] = Tag(name=name)
            session.add(existing[name])
    return [existing[name] for name in TAG_NAMES]


def _add_post(
    session: Session,
    rng: random.Random,
    author: User,
    tags: list[Tag],
    commenters: list[User],
    comments: int,
    when: datetime,
) -> None:
    """One post (90% published) with some tags and comments."""
    post = Post(
        author=author,
        title=" ".join(rng.choices(WORDS, k=5)).capitalize(),
        body=" ".join(rng.choices(WORDS, k=60)),
        status="published" if rng.random() < 0.9 else "draft",
        tags=rng.sample(tags, k=rng.randint(0, 3)),
        created_at=when,
        updated_at=when,
    )
    post.comments = [
        Comment(
            author=rng.choice(commenters),
            body=" ".join(rng.choices(WORDS, k=12)),
            created_at=when,
            updated_at=when,
        )
        for _ in range(comments)
    ]
    session.add(post)
