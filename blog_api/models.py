"""The SQLAlchemy 2 ORM model: users, posts, tags, comments, tokens and OAuth clients.

Two more tables hold state every gunicorn worker must share: the server
cache's generation and the failed-login counters.

``SiteSession`` holds the reader site's logins, so that logging out on one
gunicorn worker holds on all of them.

Every change to these classes needs a migration next to it
(``blog_api/migrations/versions``; ``db revision`` drafts it, and a test fails
while the two disagree).

Framework-neutral. Every foreign key and every column a list sorts by has an
index (the list endpoints keyset-paginate on ``(sort column, id)``).
Timestamps are stored as naive UTC and come back timezone-aware (``UTCDateTime``)
so SQLite and PostgreSQL behave the same.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A DateTime that is always UTC, on every database.

    SQLite has no time zones, so values are stored naive (in UTC) and given
    ``tzinfo=UTC`` again on the way out.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Convert to naive UTC before it reaches the database."""
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Mark values read back as UTC."""
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """Declarative base of all blog_api tables."""


post_tags = Table(
    "post_tags",
    Base.metadata,
    Column("post_id", ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class User(Base):
    """A registered user; ``is_admin`` users may edit anyone's content.

    ``username`` and ``email`` are stored normalised (``schemas.normalise_username``
    and ``normalise_email``), and the unique indexes on their ``lower()`` below
    make the database itself refuse two that differ only in case, whoever
    writes the row. ``token_version`` is written into every access token
    (claim ``ver``) and refresh token the user gets; raising it (a password
    change) makes every token issued before unusable at once.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # server_default: a migration can add the column to a table that has rows.
    token_version: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    #: Set by each successful login (``services.users.record_login``); shown
    #: only to the user and admins. Added by migration 0002.
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: When the user followed the link mailed to ``email`` (``services/
    #: email_confirmations.py``); NULL until then, and again after a change of
    #: address. Added by migration 0004.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: Whether a comment by someone else on one of the user's posts mails
    #: them (``services/comments.py``); their own setting. Added by 0005.
    notify_on_comments: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=true()
    )

    posts: Mapped[list[Post]] = relationship(
        back_populates="author", cascade="all, delete-orphan", passive_deletes=True
    )


# Expression indexes (SQLite 3.9+ and PostgreSQL): unique on the normalised value.
Index("ux_users_username_lower", func.lower(User.username), unique=True)
Index("ux_users_email_lower", func.lower(User.email), unique=True)


class Tag(Base):
    """A lower-case tag name shared by posts."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)


class Post(Base):
    """A blog post. Drafts are visible only to their author.

    ``version`` is SQLAlchemy's optimistic-locking counter: an UPDATE whose row
    changed since it was read fails instead of silently overwriting (the
    database-level half of "no lost updates"; ``If-Match`` is the HTTP half).
    """

    __tablename__ = "posts"
    __table_args__ = (
        Index("ix_posts_status_created_at", "status", "created_at", "id"),
        Index("ix_posts_status_updated_at", "status", "updated_at", "id"),
        Index("ix_posts_status_title", "status", "title", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    author: Mapped[User] = relationship(back_populates="posts")
    tags: Mapped[list[Tag]] = relationship(secondary=post_tags, order_by=Tag.name)
    comments: Mapped[list[Comment]] = relationship(
        back_populates="post", cascade="all, delete-orphan", passive_deletes=True
    )

    __mapper_args__: dict[str, Any] = {"version_id_col": version}


class Comment(Base):
    """A comment on a post."""

    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_post_created", "post_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    post: Mapped[Post] = relationship(back_populates="comments")
    author: Mapped[User] = relationship()


class RefreshToken(Base):
    """One refresh token, stored only as its SHA-256 hash.

    Tokens issued by rotating one another share a ``family_id``; presenting a
    token that was already rotated (``replaced_at`` set) means it leaked, so the
    whole family is revoked (OAuth 2.0 Security BCP, refresh token rotation).
    """

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[str] = mapped_column(String(32), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    replaced_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: The user's ``token_version`` when this token was issued; a token from an
    #: older version is refused even if a revocation raced with its rotation.
    token_version: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    #: The third-party app the token was issued to (``oauth_clients.client_id``),
    #: or NULL for the blog's own log in; a client may refresh only its own
    #: tokens. Added by 0006.
    client_id: Mapped[str | None] = mapped_column(
        ForeignKey(
            "oauth_clients.client_id", ondelete="CASCADE", name="fk_refresh_tokens_client_id"
        ),
        nullable=True,
        index=True,
    )
    #: The scopes granted (space-separated, RFC 6749 §3.3), which every token
    #: of the family carries; NULL for the blog's own log in (every scope).
    scope: Mapped[str | None] = mapped_column(String(200), nullable=True)


class OAuthClient(Base):
    """A third-party app registered to use the blog as its authorisation server.

    ``client_id`` is public; the secret is random and long, so, as for refresh
    tokens, only its SHA-256 is kept (``secret_hash``), and a client without
    one is *public* (a browser or mobile app that cannot keep a secret; PKCE
    protects its codes). ``redirect_uris`` holds one URI per line, compared
    exactly (RFC 9700 §4.1.3: no patterns, no prefixes). ``scope`` lists what
    the app may ever ask for. Added by 0006.
    """

    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(48), unique=True)
    secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    name: Mapped[str] = mapped_column(String(100))
    redirect_uris: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuthorizationCode(Base):
    """An authorisation code (RFC 6749 §4.1.2): single use, short-lived, stored hashed.

    The code is bound to its client, its ``redirect_uri`` and its PKCE
    challenge (RFC 7636, S256 only). ``used_at`` and ``family_id`` make a
    second use detectable: the refresh-token family the first use created is
    revoked with it (RFC 6749 §4.1.2: "SHOULD revoke ... all tokens
    previously issued based on that authorization code"). Added by 0006.
    """

    __tablename__ = "oauth_authorization_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(
        ForeignKey("oauth_clients.client_id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(String(200))
    code_challenge: Mapped[str] = mapped_column(String(128))
    code_challenge_method: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    family_id: Mapped[str | None] = mapped_column(String(32), nullable=True)


class UserIdentity(Base):
    """A sign-in provider's account linked to a user ("Sign in with ...", OpenID Connect).

    The provider names its user by ``issuer`` and ``subject`` (the ID token's
    ``iss`` and ``sub``), which never change and are never reused, unlike an
    e-mail address; the pair is unique. ``email`` is what the provider said
    when the link was made, for the user's own information. Added by 0006.
    """

    __tablename__ = "user_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_user_identities_issuer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RevokedToken(Base):
    """The ``jti`` of an access token revoked before it expired (log out)."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SiteSession(Base):
    """A reader-site login, so that logging out ends it on the server too.

    The signed session cookie alone cannot be taken back: a copy kept from
    before logging out would stay valid until its signature expires. The
    cookie therefore names one of these rows (by a random token whose SHA-256
    is stored here, as for refresh tokens), and every request checks that the
    row still exists; logging out deletes it.
    """

    __tablename__ = "site_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    user: Mapped[User] = relationship()


class CacheGeneration(Base):
    """The server cache's generation number, in one row every worker can see.

    ``blog_api/caching.py`` puts the generation into every cache key and a
    write increments it. Kept in the database (not in a worker's memory) so a
    write handled by one gunicorn worker, or on another host, makes every
    worker's cached copies unreachable at once; ``BLOG_REDIS_URL`` moves it to
    Redis instead.
    """

    __tablename__ = "cache_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1: one row
    generation: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class LoginFailure(Base):
    """One failed-login counter of ``blog_api/ratelimit.py``, shared by every worker.

    ``key`` is the SHA-256 of the counter's scope (a client and a username, a
    client, or a username), so the table holds neither addresses nor
    usernames. ``window_ends`` is a Unix time (every host's clock, NTP-synced);
    an expired row is reused by the next failure or swept away.
    """

    __tablename__ = "login_failures"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False)
    window_ends: Mapped[float] = mapped_column(Float, nullable=False, index=True)


class OutboxJob(Base):
    """One job of the transactional outbox (``blog_api/jobs.py``): work to do after a commit.

    The row is written in the same transaction as the change that causes it
    (a password reset request writes its ``password_resets`` row and the job
    that mails the link), so the job exists if and only if the change was
    committed. Dispatchers claim due rows by setting ``claimed_until`` (a
    lease) and ``claim_token``; a claim whose lease ran out (its worker died)
    may be taken again, which is why delivery is at least once.

    ``status`` is ``pending`` (due at ``next_attempt_at``), ``done`` or
    ``failed`` (parked after ``JOBS_MAX_ATTEMPTS`` tries; ``jobs retry``
    makes it pending again). ``attempts`` counts claims, so a job that kills
    its worker every time is parked too instead of looping forever.
    """

    __tablename__ = "outbox_jobs"
    __table_args__ = (Index("ix_outbox_jobs_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    #: The job's arguments as JSON text (emptied to ``{}`` once done: a mail's
    #: payload holds a reset link, which need not outlive its delivery).
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class PasswordReset(Base):
    """A "forgot password" link: single use, expiring, stored only as a SHA-256 hash.

    As for refresh tokens, the random token itself is only in the mail; a
    leaked table cannot be used to reset anyone's password.
    """

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class EmailConfirmation(Base):
    """A link that confirms a user's e-mail address: single use, expiring, stored hashed.

    ``email`` is the address the link was mailed to: a link for an address
    the user has since changed confirms nothing.
    """

    __tablename__ = "email_confirmations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    user: Mapped[User] = relationship()
