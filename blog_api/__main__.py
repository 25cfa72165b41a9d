"""Command line: ``python -m blog_api init-db`` and ``seed --users N --posts M``.

Framework-neutral: these talk to the storage layer directly, with the same
settings (``BLOG_DATABASE_URL``...) as the web app, so they work before either
framework is installed and never start a server.

Seeded accounts (for demos and benchmarks; change them before any real use):

* ``admin`` / ``admin-password`` (an administrator)
* ``user1`` ... ``userN`` / ``password``
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from blog_api.config import load_config
from blog_api.db import create_schema, make_engine, make_session_factory
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


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and run one command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m blog_api", description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="overrides BLOG_DATABASE_URL")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("init-db", help="create the tables and indexes")
    seed = commands.add_parser("seed", help="create tables, then demo users, posts and comments")
    seed.add_argument("--users", type=int, default=10)
    seed.add_argument("--posts", type=int, default=100)
    seed.add_argument("--comments", type=int, default=2, help="comments per post")
    seed.add_argument("--seed", type=int, default=1, help="random seed, for repeatable data")
    args = parser.parse_args(argv)

    overrides = {"DATABASE_URL": args.database_url} if args.database_url else {}
    config = load_config(overrides)
    engine = make_engine(config["DATABASE_URL"])
    create_schema(engine)
    if args.command == "init-db":
        print(f"initialised {engine.url.render_as_string(hide_password=True)}")
        return 0
    counts = seed_database(engine, args.users, args.posts, args.comments, random.Random(args.seed))
    print("seeded " + ", ".join(f"{count} {name}" for name, count in counts.items()))
    return 0


def seed_database(
    engine: Engine, users: int, posts: int, comments_per_post: int, rng: random.Random
) -> dict[str, int]:
    """Add ``users`` users (plus ``admin``), ``posts`` posts and their comments.

    Usernames continue after existing ``userN`` accounts, so seeding twice adds
    more data instead of failing on duplicates. One password hash is computed
    and shared by all seeded users: hashing N times would dominate the run time.
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


if __name__ == "__main__":
    sys.exit(main())
