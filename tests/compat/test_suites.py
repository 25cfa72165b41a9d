"""compat/suites.py: every suite is pinned, named once, and findable."""

from __future__ import annotations

import re

from compat.differences import DELIBERATE_DIFFERENCES
from compat.suites import SMOKE_DIR, SUITES, by_slug, requirements

EXPECTED = {
    "flask", "flask-login", "flask-wtf", "flask-cors", "flask-sqlalchemy", "flask-caching",
    "flask-limiter", "flask-jwt-extended", "flask-migrate", "flask-session",
}  # fmt: skip


def test_flask_the_three_extensions_and_the_smoke_check_are_all_there_once() -> None:
    slugs = [suite.slug for suite in SUITES]
    assert set(slugs) == EXPECTED and len(slugs) == len(EXPECTED)
    assert by_slug("flask-login").name == "Flask-Login"


def test_every_suite_is_pinned_to_an_exact_release_and_installed() -> None:
    wanted = requirements()
    assert "pytest>=8,<9" in wanted  # Flask 3.1.3's test_cli needs pytest 8
    for suite in SUITES:
        assert re.fullmatch(r"\d+(\.\d+)+", suite.version), suite
        assert suite.pin in wanted
    assert len(wanted) == len(set(wanted))


def test_a_smoke_suite_names_a_committed_test_file() -> None:
    for suite in SUITES:
        if suite.kind == "smoke":
            paths = [arg for arg in suite.pytest_args if arg.endswith(".py")]
            assert paths and all((SMOKE_DIR / path).is_file() for path in paths)
        else:
            assert suite.kind == "source"


def test_deliberate_differences_name_known_suites_and_explain_themselves() -> None:
    slugs = {suite.slug for suite in SUITES}
    for slug, table in DELIBERATE_DIFFERENCES.items():
        assert slug in slugs
        for test, explanation in table.items():
            assert "::" in test and len(explanation) > 20, test
