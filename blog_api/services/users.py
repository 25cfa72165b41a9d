"""Users: registration, authentication, profile changes, deletion."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from blog_api.errors import Conflict, Forbidden, NotFound
from blog_api.models import User
from blog_api.schemas import RegisterIn, UserPatch

# A hash to compare against when the username does not exist, so a failed
# login takes as long whether or not the user exists (no username probing).
_DUMMY_HASHES: dict[str, str] = {}


def register(session: Session, data: RegisterIn, hash_method: str) -> User:
    """Create a user.

    Raises:
        Conflict: the username or email is taken.
    """
    _ensure_available(session, data.username, str(data.email))
    user = User(
        username=data.username,
        email=str(data.email),
        password_hash=generate_password_hash(data.password, method=hash_method),
    )
    session.add(user)
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
    """The user with these credentials, or ``None``."""
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        check_password_hash(_dummy_hash(hash_method), password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def _dummy_hash(hash_method: str) -> str:
    if hash_method not in _DUMMY_HASHES:
        _DUMMY_HASHES[hash_method] = generate_password_hash("not-a-password", method=hash_method)
    return _DUMMY_HASHES[hash_method]


def get_user(session: Session, user_id: int) -> User:
    """The user with ``user_id``.

    Raises:
        NotFound: no such user.
    """
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"User {user_id} not found")
    return user


def update_user(
    session: Session, user: User, actor: User, data: UserPatch, hash_method: str
) -> User:
    """Change a user's username, email or password.

    Raises:
        Forbidden: ``actor`` is neither the user nor an admin.
        Conflict: the new username or email is taken.
    """
    ensure_self_or_admin(user, actor)
    changes = data.model_dump(exclude_unset=True)
    _ensure_available(session, changes.get("username"), changes.get("email"), exclude=user.id)
    if "username" in changes:
        user.username = changes["username"]
    if "email" in changes:
        user.email = str(changes["email"])
    if "password" in changes:
        user.password_hash = generate_password_hash(changes["password"], method=hash_method)
    commit_or_conflict(session)
    return user


def delete_user(session: Session, user: User, actor: User) -> None:
    """Delete a user with their posts, comments and tokens (cascades).

    Raises:
        Forbidden: ``actor`` is neither the user nor an admin.
    """
    ensure_self_or_admin(user, actor)
    session.delete(user)
    session.commit()


def ensure_self_or_admin(user: User, actor: User) -> None:
    """Raise ``Forbidden`` unless ``actor`` is ``user`` or an admin."""
    if actor.id != user.id and not actor.is_admin:
        raise Forbidden("Only the user themself or an admin may do this")


def _ensure_available(
    session: Session, username: str | None, email: str | None, exclude: int | None = None
) -> None:
    """Refuse taken usernames/emails with a clear 409 before touching the table."""
    for column, value in ((User.username, username), (User.email, email)):
        if value is None:
            continue
        query = select(User.id).where(column == value)
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
