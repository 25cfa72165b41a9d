"""``python -m blog_api`` (blog_api/__main__.py): its help reads as plain text in a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from blog_api.__main__ import readable_help
from tests.blog_api.conftest import FRAMEWORKS, SECRET

ROOT = Path(__file__).resolve().parents[2]


def run_blog_api(tmp_path: Path, framework: str, *args: str) -> str:
    """``python -m blog_api ARGS`` in ``tmp_path`` on a new SQLite file; its stdout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "BLOG_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        BLOG_FRAMEWORK=framework,
        BLOG_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}",
        BLOG_SECRET_KEY=SECRET,
    )
    result = subprocess.run(
        [sys.executable, "-m", "blog_api", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("command", [[], ["init-db"], ["routes"], ["seed"]])
def test_help_shows_no_rest_markup(tmp_path: Path, framework: str, command: list[str]) -> None:
    text = run_blog_api(tmp_path, framework, *command, "--help")
    assert text.startswith("Usage: python -m blog_api")
    assert "``" not in text
    assert "::" not in text


def test_seed_help_lists_the_accounts_one_per_line(tmp_path: Path) -> None:
    text = run_blog_api(tmp_path, "miniflask", "seed", "--help")
    assert "  * admin / admin-password (an administrator)\n" in text
    assert "  * user1 ... userN / password\n" in text


def test_literals_and_roles_become_quoted_names() -> None:
    assert readable_help("the same as ``db upgrade``") == "the same as 'db upgrade'"
    assert readable_help("see :func:`seed_database`") == "see 'seed_database'"
    assert readable_help("``flask routes``'s table") == "flask routes's table"


def test_a_literal_block_keeps_its_lines() -> None:
    text = readable_help("Example::\n\n    python -m blog_api seed\n    python -m blog_api run\n")
    assert text == "Example:\n\n\b\n    python -m blog_api seed\n    python -m blog_api run\n"
