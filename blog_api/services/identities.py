"""Sign-in providers' accounts and the blog's users: find, link, or create.

Framework-neutral. ``site/oidc.py`` calls :func:`sign_in` with the claims of
a verified ID token (``blog_api/oidc.py``); this module decides which user of
the blog that person is. The rules, in order:

1. **Known identity.** A ``UserIdentity`` with the token's ``(iss, sub)`` names
   the user. The provider's subject never changes and is never given to
   someone else (OIDC Core §2), unlike an e-mail address, so it is the one
   reliable key.
2. **Linking while logged in.** A reader already logged in on the site who
   signs in with a provider account that is linked to nobody links it to
   their own account. This is how the owner of a password account whose
   address the provider did not verify (rule 4) links the two.
3. **Verified e-mail.** When the provider says ``email_verified: true`` and a
   user has that address, the identity is linked to that user: the provider
   checked that the person controls the mailbox, and so could the blog's own
   "forgot password" mail. Since the provider verified the address, the
   user's ``email_confirmed_at`` is set if it was not.
4. **Unverified e-mail taken.** When the address belongs to a user but the
   provider does *not* say it is verified, nothing is linked and nothing is
   created: anybody can type anybody's address into some provider's sign-up
   form, and linking on it would hand them the account (account takeover).
   The reader is told to log in with their password and sign in with the
   provider from there (rule 2).
5. **New user.** Otherwise a user is created with the provider's address
   (confirmed only if verified), a username derived from the claims, and an
   unusable password hash: :data:`UNUSABLE_PASSWORD` never matches, so the
   account has no password until "forgot password" gives it one.

A provider that shares no usable e-mail address cannot create an account
(every user has one); a known identity still signs in without it.

Everything happens in one transaction. Two first sign-ins of the same person
at once (two tabs) both try to insert the identity; the unique constraint on
``(issuer, subject)`` refuses the second, which then finds the first's user.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pydantic
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from blog_api.models import User, UserIdentity, utcnow
from blog_api.schemas import Email, normalise_username

#: Stored as the password hash of users created by sign-in. Werkzeug's
#: ``check_password_hash`` finds no ``method$salt$hash`` in it and returns
#: False for every password, so nobody can log in with a password until one
#: is set (as Django's ``set_unusable_password`` does with "!").
UNUSABLE_PASSWORD = "!"
#: Usernames: a letter, then letters, digits, ``_ . -``; 3 to 32 characters
#: (``schemas.Username``).
USERNAME_LENGTH = (3, 32)
#: When no claim gives a usable name.
FALLBACK_USERNAME = "reader"

_EMAIL = pydantic.TypeAdapter(Email)
_NOT_IN_USERNAME = re.compile(r"[^a-z0-9_.-]+")


class LinkRefused(Exception):
    """The provider's account cannot be used here; ``message`` says why, for the reader."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ProviderAccount:
    """Who the provider says signed in: its verified ID-token claims, digested.

    ``email`` is normalised, or ``None`` when absent or not an address;
    ``email_verified`` is true only for the JSON value ``true`` (some
    providers send the string ``"true"``; a string is not a promise).
    """

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    names: tuple[str, ...]

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> ProviderAccount:
        """Build from ID-token claims (``iss`` and ``sub`` are required there)."""
        names = tuple(
            value
            for value in (claims.get("preferred_username"), _local_part(claims), claims.get("name"))
            if isinstance(value, str)
        )
        return cls(
            issuer=str(claims["iss"]),
            subject=str(claims["sub"]),
            email=_valid_email(claims.get("email")),
            email_verified=claims.get("email_verified") is True,
            names=names,
        )


def sign_in(session: Session, account: ProviderAccount, current_user: User | None = None) -> User:
    """The user ``account`` signs in as, linked or created by the rules above. Commits.

    Args:
        session: the request's database session.
        account: the provider's verified claims.
        current_user: who is logged in on the site already, if anyone (rule 2).

    Raises:
        LinkRefused: the address belongs to an account and is not verified, or
            the provider shared no address for a new account.
    """
    try:
        user = _find_or_create(session, account, current_user)
        session.commit()
    except IntegrityError:
        # Another sign-in of the same person inserted the identity (or took
        # the username) between our lookup and our insert: theirs stands.
        session.rollback()
        user = _find_or_create(session, account, current_user)
        session.commit()
    return user


def _find_or_create(session: Session, account: ProviderAccount, current_user: User | None) -> User:
    """Rules 1 to 5 of the module docstring; flushes, does not commit."""
    user = find_user(session, account.issuer, account.subject)
    if user is not None:
        return user
    if current_user is not None:
        return _link(session, current_user, account)
    if account.email is None:
        raise LinkRefused(
            "The provider did not share an e-mail address, and every account here needs one."
        )
    owner = _user_with_email(session, account.email)
    if owner is not None and account.email_verified:
        if owner.email_confirmed_at is None:
            owner.email_confirmed_at = utcnow()
        return _link(session, owner, account)
    if owner is not None:
        raise LinkRefused(
            f"An account with the address {account.email} exists already, and the provider "
            "has not verified that the address is yours. Log in with your password, then "
            "sign in with the provider to link the two."
        )
    return _link(session, _new_user(session, account), account)


def find_user(session: Session, issuer: str, subject: str) -> User | None:
    """The user linked to the provider's account ``(issuer, subject)``, if any."""
    query = (
        select(User)
        .join(UserIdentity, UserIdentity.user_id == User.id)
        .where(UserIdentity.issuer == issuer, UserIdentity.subject == subject)
    )
    return session.scalars(query).first()


def _link(session: Session, user: User, account: ProviderAccount) -> User:
    """Record that ``account`` signs in as ``user``; flushed, so a race fails here."""
    identity = UserIdentity(
        user_id=user.id, issuer=account.issuer, subject=account.subject, email=account.email
    )
    session.add(identity)
    session.flush()
    return user


def _user_with_email(session: Session, email: str) -> User | None:
    """The user with this address, in any case (the unique index is on ``lower(email)``)."""
    return session.scalars(select(User).where(func.lower(User.email) == email)).first()


def _new_user(session: Session, account: ProviderAccount) -> User:
    """A user with the provider's address and a free username, and no usable password."""
    assert account.email is not None  # checked by the caller
    user = User(
        username=free_username(session, account.names),
        email=account.email,
        password_hash=UNUSABLE_PASSWORD,
        email_confirmed_at=utcnow() if account.email_verified else None,
    )
    session.add(user)
    session.flush()  # the id, for the identity
    return user


def free_username(session: Session, names: tuple[str, ...]) -> str:
    """A username no one has, from the first of ``names`` that makes a valid one.

    ``"Jörg Müller"`` becomes ``jorg-muller``; if that is taken, ``jorg-muller2``,
    ``jorg-muller3``... The taken ones are read in one query (every username
    starting with the base), not tried one by one.
    """
    base = next((username_base(name) for name in names if username_base(name)), None)
    base = base or FALLBACK_USERNAME
    query = select(func.lower(User.username)).where(
        func.lower(User.username).startswith(base, autoescape=True)
    )
    taken = set(session.scalars(query))
    if base not in taken:
        return base
    for number in range(2, 1000):
        candidate = f"{base[: USERNAME_LENGTH[1] - len(str(number))]}{number}"
        if candidate not in taken:
            return candidate
    return f"{base[: USERNAME_LENGTH[1] - 7]}-{secrets.token_hex(3)}"


def username_base(name: str) -> str | None:
    """``name`` as a valid username (``schemas.Username``), or ``None`` if too little is left.

    Accents are dropped (NFKD, then ASCII), runs of other characters become
    one ``-``, and what comes before the first letter is cut, since a
    username starts with a letter.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    cleaned = _NOT_IN_USERNAME.sub("-", normalise_username(ascii_name))
    cleaned = re.sub(r"^[^a-z]+", "", cleaned)[: USERNAME_LENGTH[1]].rstrip("-_.")
    return cleaned if len(cleaned) >= USERNAME_LENGTH[0] else None


def _local_part(claims: Mapping[str, Any]) -> str | None:
    """The part of the ``email`` claim before the ``@``."""
    email = claims.get("email")
    return email.split("@", 1)[0] if isinstance(email, str) and "@" in email else None


def _valid_email(value: Any) -> str | None:
    """The address normalised as registration does (``schemas.Email``), or ``None``."""
    try:
        return str(_EMAIL.validate_python(value))
    except pydantic.ValidationError:
        return None
