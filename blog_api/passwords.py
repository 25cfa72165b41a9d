"""The password policy, in the spirit of NIST SP 800-63B §3.1.1.2.

Framework-neutral. NIST's advice, which this follows:

* **Length is what counts.** At least ``MIN_LENGTH`` (8) characters, and up to
  ``MAX_LENGTH`` (128), so that passphrases fit (NIST: allow at least 64).
  Characters are Unicode code points; spaces are allowed and kept.
* **No composition rules** ("one digit, one symbol"): they make passwords
  harder to remember, not harder to guess (``Password1!``).
* **Refuse the passwords attackers try first**: the most common passwords
  (``data/common-passwords.txt``, compared lower-cased, as that list is) and
  passwords containing the account's own username or e-mail local part.

Why 8 and not the 15 that SP 800-63B-4 asks for a password used as the only
factor: 8 is the floor every revision of SP 800-63B sets, and the attacks that
a longer minimum slows down are already slowed here: online guessing by the
failed-login limit (``ratelimit.py``), offline cracking of a leaked table by
scrypt, and both by refusing the common choices. A deployment that wants 15
changes ``MIN_LENGTH``; the schemas and the OpenAPI document follow it.

The length rules are also part of the request schemas (``schemas.Password``),
so pydantic reports them, and OpenAPI documents them, like any other
constraint. ``check_new_password`` applies every rule again, because the services
call it with passwords that did not come through a schema (a future "forgot
password" form, the CLI). Seeded demo accounts are written directly and do not
pass through here.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

from blog_api.errors import ValidationError

MIN_LENGTH = 8
MAX_LENGTH = 128
#: An identifier shorter than this is not looked for inside passwords: the
#: local part of ``a@example.org`` would otherwise refuse every password with
#: an "a" in it. Three is the shortest username there is.
MIN_IDENTIFIER_LENGTH = 3
COMMON_PASSWORDS_FILE = "common-passwords.txt"


@dataclass(frozen=True)
class PolicyViolation:
    """One broken rule: a machine-readable ``type`` and a sentence for people."""

    type: str
    message: str


def check_new_password(password: str, username: str, email: str, field: str = "password") -> None:
    """Refuse ``password`` for the account ``username``/``email`` if it breaks a rule.

    Args:
        password: the new password, as the user typed it.
        username: the account's (normalised) username.
        email: the account's (normalised) e-mail address.
        field: the request field to name in the error's ``details``.

    Raises:
        ValidationError: 422; ``error`` is the first broken rule's sentence, and
            ``details`` lists every broken rule with its ``type``
            (``password_too_short``, ``password_too_common``, ...).
    """
    violations = policy_violations(password, username, email)
    if violations:
        details = [{"field": field, "message": v.message, "type": v.type} for v in violations]
        raise ValidationError(violations[0].message, details=details)


def policy_violations(password: str, username: str, email: str) -> list[PolicyViolation]:
    """Every rule ``password`` breaks, in the order they are documented; empty if none."""
    if len(password) < MIN_LENGTH:
        return [PolicyViolation("password_too_short", f"Use at least {MIN_LENGTH} characters")]
    if len(password) > MAX_LENGTH:
        return [PolicyViolation("password_too_long", f"Use at most {MAX_LENGTH} characters")]
    violations = []
    if is_common(password):
        violations.append(
            PolicyViolation(
                "password_too_common",
                "This is one of the most common passwords; choose one that is harder to guess",
            )
        )
    if _contains(password, [username]):
        violations.append(
            PolicyViolation(
                "password_contains_username", "The password may not contain the username"
            )
        )
    if _contains(password, _local_parts(email)):
        violations.append(
            PolicyViolation(
                "password_contains_email",
                "The password may not contain the e-mail address (its part before the @)",
            )
        )
    return violations


def is_common(password: str) -> bool:
    """Whether ``password`` is on the list of the most common passwords.

    The list is lower-case (Django's list was built that way), so the password
    is compared lower-cased too: ``Password1`` is as common as ``password1``.
    """
    return password.strip().lower() in common_passwords()


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list, read once per process (about 8,400 entries, 84 kB).

    The file's header ends at the first empty line; every line after it is one
    password, even one that starts with ``#`` (``#1pimp`` is on the list).
    """
    text = resources.files("blog_api").joinpath("data", COMMON_PASSWORDS_FILE).read_text("utf-8")
    _header, _, body = text.partition("\n\n")
    return frozenset(line for line in body.splitlines() if line)


def _contains(password: str, identifiers: list[str]) -> bool:
    """Whether the password contains any identifier long enough to look for, any case."""
    folded = password.casefold()
    return any(
        len(identifier) >= MIN_IDENTIFIER_LENGTH and identifier.casefold() in folded
        for identifier in identifiers
    )


def _local_parts(email: str) -> list[str]:
    """``alice+blog@example.org`` -> ``["alice+blog", "alice"]`` (sub-addressing too)."""
    local = email.rpartition("@")[0]
    return [local, local.partition("+")[0]]
