"""The password policy and its list of common passwords (blog_api/passwords.py)."""

from __future__ import annotations

from importlib import resources

import pytest

from blog_api import passwords
from blog_api.errors import ValidationError


def types(password: str, username: str = "alice", email: str = "alice@example.com") -> list[str]:
    return [v.type for v in passwords.policy_violations(password, username, email)]


def test_the_list_ships_in_the_package_with_its_source_and_licence() -> None:
    text = resources.files("blog_api").joinpath("data", "common-passwords.txt").read_text()
    header = text.partition("\n\n")[0]
    assert all(line.startswith("#") for line in header.splitlines())
    assert "Django" in header and "Royce Williams" in header
    assert "Redistribution and use in source and binary forms" in header


def test_the_list_holds_thousands_of_lower_case_passwords_long_enough_to_matter() -> None:
    common = passwords.common_passwords()
    assert 8000 <= len(common) <= 10_000
    assert {"password", "12345678", "iloveyou", "qwerty123", "password1"} <= common
    # Shorter ones are refused by length already; the list is compared lower-cased.
    assert all(len(entry) >= passwords.MIN_LENGTH for entry in common)
    assert all(entry == entry.lower() for entry in common)
    # A line after the header that starts with "#" is a password, not a comment.
    assert "#1stunna" in common


@pytest.mark.parametrize(
    "password", ["password", "12345678", "Password1", "QWERTY123", " iloveyou ", "trustno1"]
)
def test_common_passwords_are_refused_in_any_case(password: str) -> None:
    assert types(password) == ["password_too_common"]


@pytest.mark.parametrize(
    "password",
    [
        "correct horse battery",  # the README's passphrase
        "Tr0ub4dor&3x",
        "x" * 128,  # the longest allowed
        "pässwörter mit umlauten",
        "        ",  # eight spaces: no composition rules, length is what counts
    ],
)
def test_long_uncommon_passwords_pass_without_composition_rules(password: str) -> None:
    assert types(password) == []


def test_length_bounds() -> None:
    assert types("a1b2c3d") == ["password_too_short"]
    assert types("x" * 129) == ["password_too_long"]
    assert passwords.MAX_LENGTH >= 64  # NIST: passphrases of at least 64 must fit


def test_a_password_containing_the_username_is_refused_in_any_case() -> None:
    assert types("alice") == ["password_too_short"]
    assert types("alicealice") == ["password_contains_username", "password_contains_email"]
    assert types("i am ALICE 2024", username="alice", email="a@example.org") == [
        "password_contains_username"
    ]


def test_a_password_containing_the_email_local_part_is_refused() -> None:
    assert types("bob.smith rules", username="bob7", email="bob.smith@example.com") == [
        "password_contains_email"
    ]
    # Sub-addressing: the part before "+" is the mailbox.
    assert types("mailbox carol!", username="c4rol", email="carol+blog@example.com") == [
        "password_contains_email"
    ]


def test_identifiers_too_short_to_look_for_are_not_looked_for() -> None:
    """``a@example.org`` must not refuse every password with an "a" in it."""
    assert types("a long passphrase", username="zed", email="a@example.org") == []


def test_check_new_password_raises_a_422_naming_every_broken_rule() -> None:
    with pytest.raises(ValidationError) as refused:
        passwords.check_new_password("alice rules 2024", "alice", "alice@example.com")
    error = refused.value
    assert error.status == 422
    assert error.message == "The password may not contain the username"
    assert [d["type"] for d in error.details or []] == [
        "password_contains_username",
        "password_contains_email",
    ]
    assert {d["field"] for d in error.details or []} == {"password"}


def test_check_new_password_accepts_a_good_password() -> None:
    passwords.check_new_password("correct horse battery", "alice", "alice@example.com")
