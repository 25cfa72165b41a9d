"""The blog's commands: ``init-db`` and ``seed``, on ``app.cli``.

``create_app`` calls :func:`register_commands`, so the framework's own command
runs them, app loading and all::

    miniflask --app blog_api.wsgi init-db
    BLOG_FRAMEWORK=flask flask --app blog_api.wsgi seed --users 20 --posts 500
    python -m blog_api seed             # the same commands, without --app

They are plain click commands, which import neither framework: ``app.cli`` is
a click group on both, and each command reaches the database through the
app's ``Database`` extension (``app.extensions["blog_db"]``), so it uses the
same settings (``BLOG_DATABASE_URL`` ...) as the web app. Neither starts a
server.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import click
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from blog_api.db import make_session_factory
from blog_api.models import Comment, Post, Tag, User, utcnow

SEED_PASSWORD = "password"
ADMIN_PASSWORD = "admin-password"
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
    """Add ``init-db`` and ``seed`` to ``app.cli``, working on ``app``'s database.

    Call it after the ``Database`` extension is installed: the commands use
    its engine.
    """
    database = app.extensions["blog_db"]

    @app.cli.command("init-db")
    def init_db() -> None:
        """Create the tables and indexes that do not exist yet."""
        database.create_all()
        click.echo(f"initialised {database.engine.url.render_as_string(hide_password=True)}")

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
        database.create_all()
        counts = seed_database(database.engine, users, posts, comments, random.Random(seed))
        click.echo("seeded " + ", ".join(f"{count} {name}" for name, count in counts.items()))


def seed_database(
    engine: Engine, users: int, posts: int, comments_per_post: int, rng: random.Random
) -> dict[str, int]:
    """Add ``users`` users (plus ``admin``), ``posts`` posts and their comments.

    Usernames continue after existing ``userN`` accounts, so seeding twice adds
    more data instead of failing on duplicates. One password hash is computed
    and shared by all seeded users: hashing N times would dominate the run time.
    Every ``userN`` gets :data:`SEED_PASSWORD`; ``admin`` gets :data:`ADMIN_PASSWORD`.
    """
    session = make_session_factory(engine)()
    with session:
        password_hash = generate_password_hash(SEED_PASSWORD)
        start = session.scalar(select(func.count()).select_from(User)) or 0
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


def _user(name: str, password_hash: str, admin: bool = False) -> User:
    return User(
        username=name, email=f"{name}@example.com", password_hash=password_hash, is_admin=admin
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
