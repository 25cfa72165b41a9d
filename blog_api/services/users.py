"""Users: registration, authentication, reading, profile changes, passwords, deletion.

Usernames and e-mail addresses arrive normalised by the request schemas
(``schemas.normalise_username``/``normalise_email``); lookups compare the
column's ``lower()``, the expression the database's unique indexes are on.
New passwords pass ``passwords.check_new_password``. Changing the password or
the e-mail needs the caller's current password, and a new password logs the
user out everywhere (``set_password``).

As posts and comments do, this module also renders what it reads
(``render``: a user as a given viewer may see them), so the web layer
(``blog_api/users.py``) only parses, calls and responds.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

from blog_api import passwords, tokens
from blog_api.errors import Conflict, Forbidden, NotFound, ValidationError
from blog_api.mail import MailedLink
from blog_api.models import User, utcnow
from blog_api.pagination import AnyRow, ListRequest, ListStatements, Page, fetch_page
from blog_api.principal import Principal
from blog_api.schemas import RegisterIn, UserOut, UserPatch, normalise_username
from blog_api.services import email_confirmations, site_sessions

#: Fields only the user themself and admins see: the address, its
#: confirmation, the mail setting and the last login (``render``).
PRIVATE_FIELDS = ("email", "email_confirmed_at", "notify_on_comments", "last_login_at")

#: Fields whose change needs ``current_password``: whoever controls the
#: password or the e-mail address (where a reset link would go) owns the account.
NEEDS_CURRENT_PASSWORD = ("password", "email")

# A hash to compare against when the username does not exist, so a failed
# login takes as long whether or not the user exists (no username probing).
_DUMMY_HASHES: dict[str, str] = {}


class WrongPassword(Forbidden):
    """403: ``current_password`` is not the caller's password."""


def register(
    session: Session, data: RegisterIn, hash_method: str, confirmation: MailedLink | None = None
) -> User:
    """Create a user; with ``confirmation``, also mail them a confirmation link.

    The link and its mail job are committed with the user (the outbox,
    ``blog_api/jobs.py``): there is no account whose link was lost.

    Raises:
        ValidationError: the password breaks the password policy (422).
        Conflict: the username or email is taken, in any case.
    """
    passwords.check_new_password(data.password, data.username, str(data.email))
    _ensure_available(session, data.username, str(data.email))
    user = User(
        username=data.username,
        email=str(data.email),
        password_hash=generate_password_hash(data.password, method=hash_method),
    )
    session.add(user)
    if confirmation is not None:
        email_confirmations.start(session, user, confirmation)
    commit_or_conflict(session)
    return user


def create_admin(
    session: Session, username: str, email: str, password: str, hash_method: str
) -> User:
    """Create an administrator (used by the CLI's seed command and tests)."""
    user = register(
        session, RegisterIn(username=username, email=email, password=password), hash_method
    )
    user.is_admin = True
    session.commit()
    return user


def authenticate(session: Session, username: str, password: str, hash_method: str) -> User | None:
    """The user with these credentials, or ``None``; the username in any case."""
    query = select(User).where(func.lower(User.username) == normalise_username(username))
    user = session.scalars(query).first()
    if user is None:
        check_password_hash(_dummy_hash(hash_method), password)
        return None
    return user if verify_password(user, password) else None


def record_login(session: Session, user: User) -> None:
    """Set ``last_login_at`` (committed with the login's token or site session).

    A Core UPDATE, not an attribute change: ``updated_at`` means "the profile
    changed", and the ORM would bump it (its ``onupdate``) on every login; the
    statement sets it to itself to keep it.
    """
    now = utcnow()
    session.execute(
        update(User)
        .where(User.id == user.id)
        .values(last_login_at=now, updated_at=User.updated_at)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(user, "last_login_at", now)  # the object agrees, nothing to flush


def verify_password(user: User, password: str) -> bool:
    """Whether ``password`` is ``user``'s password (a constant-time comparison)."""
    return check_password_hash(user.password_hash, password)


def _dummy_hash(hash_method: str) -> str:
    if hash_method not in _DUMMY_HASHES:
        _DUMMY_HASHES[hash_method] = generate_password_hash("not-a-password", method=hash_method)
    return _DUMMY_HASHES[hash_method]


def render(user: User | AnyRow, viewer: Principal | None) -> dict[str, Any]:
    """A user as the API shows it to ``viewer`` (``schemas.UserOut``, JSON-ready).

    The :data:`PRIVATE_FIELDS` only for the user themself and admins.
    ``user`` is a ``User`` entity or a row of the ``users`` table (a list's).
    """
    data = UserOut.model_validate(user).model_dump(mode="json")
    if viewer is None or (viewer.id != user.id and not viewer.is_admin):
        for name in PRIVATE_FIELDS:
            data.pop(name)
    return data


def list_users(
    session: Session, viewer: Principal | None, request: ListRequest, secret: str
) -> Page:
    """One page of users, oldest first by default, rendered for ``viewer``."""
    statements = ListStatements.build(select(User.__table__), User, request.sort)
    page = fetch_page(session.connection(), statements, request, secret)
    page.items = [render(row, viewer) for row in page.items]
    return page


def get_user(session: Session, user_id: int) -> User:
    """The user with ``user_id``.

    Raises:
        NotFound: no such user.
    """
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} not found")
    return user


def read_user(session: Session, user_id: int, viewer: Principal | None) -> dict[str, Any]:
    """The user with ``user_id``, rendered for ``viewer``.

    Raises:
        NotFound: no such user.
    """
    return render(get_user(session, user_id), viewer)


def read_for_change(session: Session, user_id: int, actor: Principal) -> User:
    """The user ``actor`` may change or delete (for ``If-Match``, then the change).

    As ``services.posts.read_for_change`` for a post: the one place the
    PATCH and DELETE of a user look the user up and check who may.

    Raises:
        NotFound: no such user.
        Forbidden: ``actor`` is neither the user nor an admin.
    """
    user = get_user(session, user_id)
    ensure_self_or_admin(user, actor)
    return user


def update_user(
    session: Session,
    user: User,
    actor: User,
    data: UserPatch,
    hash_method: str,
    confirmation: MailedLink | None = None,
) -> User:
    """Change a user's username, email, password or mail setting; all of it or nothing.

    Everything is checked before anything changes, in this order: who may
    (403), ``current_password`` (422 missing, 403 wrong), the password policy
    (422), free username and email (409). A new password goes through
    ``set_password``, so it logs the user out everywhere.

    A new e-mail address is unconfirmed until its owner follows the link
    mailed to it (with ``confirmation``); a link sent to the old address
    no longer confirms anything.

    ``current_password`` is always the password of ``actor``, the caller: the
    user's own, or an admin's when an admin changes someone else's account.
    The admin does not know the user's password, and must not be able to take
    over every account with nothing but a stolen admin token either.

    Raises:
        Forbidden: ``actor`` is neither the user nor an admin.
        ValidationError: ``current_password`` is missing, or the new password
            breaks the policy.
        WrongPassword: ``current_password`` is not ``actor``'s password.
        Conflict: the new username or email is taken.
    """
    ensure_self_or_admin(user, actor)
    changes = data.model_dump(exclude_unset=True)
    confirm_current_password(actor, changes.pop("current_password", None), changes)
    if "password" in changes:
        username, email = changes.get("username", user.username), changes.get("email", user.email)
        passwords.check_new_password(changes["password"], username, email)
    _ensure_available(session, changes.get("username"), changes.get("email"), exclude=user.id)
    if "username" in changes:
        user.username = changes["username"]
    if "email" in changes and str(changes["email"]) != user.email:
        user.email = str(changes["email"])
        user.email_confirmed_at = None
        if confirmation is not None:
            email_confirmations.start(session, user, confirmation)
    if "notify_on_comments" in changes:
        user.notify_on_comments = changes["notify_on_comments"]
    if "password" in changes:
        set_password(session, user, changes["password"], hash_method)
    commit_or_conflict(session)
    return user


def confirm_current_password(actor: User, current: str | None, changes: dict[str, Any]) -> None:
    """Check ``current_password``: required for ``NEEDS_CURRENT_PASSWORD``, right if sent.

    A missing field is a 422 like any other missing field. A wrong one is a
    403, not a 401: the Bearer token did authenticate the request (a 401 would
    tell the client its token is bad, and many clients then log out); the
    server refuses this particular change (RFC 9110 §15.5.4).

    Raises:
        ValidationError: a password or email change without ``current_password``.
        WrongPassword: ``current`` was sent and is not ``actor``'s password.
    """
    if current is not None:
        if not verify_password(actor, current):
            raise WrongPassword("current_password is not your password")
        return
    needed = [name for name in NEEDS_CURRENT_PASSWORD if name in changes]
    if needed:
        message = f"current_password is required to change the {' and '.join(needed)}"
        raise ValidationError(
            message, details=[{"field": "current_password", "message": message, "type": "missing"}]
        )


def set_password(session: Session, user: User, new_password: str, hash_method: str) -> None:
    """Give ``user`` a new password and log them out everywhere.

    The one way a password changes: the profile change above calls it, and so
    should a future "forgot password" reset. It applies the password policy,
    stores the new hash, and revokes every refresh-token family and every
    access token issued so far (``tokens.revoke_all_tokens``) and every
    reader-site login (``site_sessions.end_all_logins``). Tokens issued
    afterwards work, whatever the clock says.

    Commits nothing, so a password changed together with other fields is
    written whole or not at all: the caller commits (``commit_or_conflict``).

    Raises:
        ValidationError: the password breaks the policy; nothing was changed.
    """
    passwords.check_new_password(new_password, user.username, user.email)
    user.password_hash = generate_password_hash(new_password, method=hash_method)
    tokens.revoke_all_tokens(session, user)
    site_sessions.end_all_logins(session, user)


def renew_own_tokens(
    session: Session, user: User, actor: User, data: UserPatch, settings: tokens.TokenSettings
) -> tokens.TokenPair | None:
    """After ``update_user`` changed the caller's own password: a new token pair, committed.

    The change revoked every token the caller had, the one of this request
    included (``set_password``), so the new pair is how the client carries on
    without asking for the password again. Otherwise ``None``: an admin who
    changes someone else's password gets no tokens of that user.
    """
    if data.password is None or actor.id != user.id:
        return None
    pair = tokens.issue_token_pair(session, user, settings)
    session.commit()
    return pair


def delete_user(session: Session, user: User, actor: Principal) -> None:
    """Delete a user with their posts, comments and tokens (cascades).

    Raises:
        Forbidden: ``actor`` is neither the user nor an admin.
    """
    ensure_self_or_admin(user, actor)
    session.delete(user)
    session.commit()


def ensure_self_or_admin(user: User, actor: Principal) -> None:
    """Raise ``Forbidden`` unless ``actor`` is ``user`` or an admin."""
    if actor.id != user.id and not actor.is_admin:
        raise Forbidden("Only the user themself or an admin may do this")


def _ensure_available(
    session: Session, username: str | None, email: str | None, exclude: int | None = None
) -> None:
    """Refuse taken usernames/emails (in any case) with a clear 409 before writing."""
    for column, value in ((User.username, username), (User.email, email)):
        if value is None:
            continue
        query = select(User.id).where(func.lower(column) == value.lower())
        if exclude is not None:
            query = query.where(User.id != exclude)
        if session.scalars(query).first() is not None:
            raise Conflict(f"That {column.key} is already taken")


def commit_or_conflict(session: Session) -> None:
    """Commit; a unique-constraint race (two registrations at once) becomes a 409.

    The pre-checks above catch the common case with a precise message; this
    catches the race between check and insert, and rolls back so nothing is
    half-written.
    """
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict("The change conflicts with existing data") from None
