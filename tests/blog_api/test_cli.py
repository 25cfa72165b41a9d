"""The blog's ``init-db`` and ``seed`` commands (blog_api/commands.py, blog_api/__main__.py).

The ``db`` (migration) commands have their own file, test_migrations.py.

In-process through each framework's ``app.test_cli_runner()``, and for real
through ``miniflask --app blog_api.wsgi``, ``flask --app blog_api.wsgi`` and
``python -m blog_api``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, inspect, select

from blog_api import create_app, migrate
from blog_api.db import make_engine, make_session_factory
from blog_api.models import Post, User
from tests.blog_api.conftest import SECRET, make_config

ROOT = Path(__file__).resolve().parents[2]
TABLES = {"users", "posts", "tags", "post_tags", "comments", "refresh_tokens"}
HEAD = migrate.script_directory().get_current_head()


def database_url(app: Any) -> str:
    return str(app.config["DATABASE_URL"])


def tables(url: str) -> set[str]:
    return set(inspect(make_engine(url)).get_table_names())


def test_init_db_creates_the_tables_on_an_empty_postgresql_schema(
    framework: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    # As under `miniflask --app blog_api.wsgi init-db`: the app loads, warning.
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")
    app = create_app(framework, make_config(tmp_path, DATABASE_URL=postgres_url))
    assert tables(postgres_url).isdisjoint(TABLES)
    result = app.test_cli_runner().invoke(args=["init-db"])
    app.extensions["blog_db"].engine.dispose()
    assert result.exit_code == 0, result.output
    assert result.output.endswith(f" at revision {HEAD}\n")
    assert tables(postgres_url) >= TABLES


def test_init_db_on_an_up_to_date_database_changes_nothing(app: Any) -> None:
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert result.output == f"{database_url(app)} at revision {HEAD}\n"


def test_seed_adds_users_posts_and_an_admin(app: Any) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed", "--users", "3", "--posts", "12"])
    assert first.exit_code == 0, first.output
    assert first.stdout == "seeded 3 users, 12 posts, 24 comments\n"
    assert runner.invoke(args=["seed", "--users", "2", "--posts", "1"]).exit_code == 0
    with make_session_factory(make_engine(database_url(app)))() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 6
        assert session.scalar(select(func.count()).select_from(Post)) == 13
        admin = session.scalars(select(User).where(User.username == "admin")).one()
        assert admin.is_admin


def test_seed_warns_that_the_seeded_passwords_are_well_known(app: Any) -> None:
    """On stderr, so ``seed > log`` keeps the counts apart, and every seed says it."""
    result = app.test_cli_runner().invoke(args=["seed", "--users", "1", "--posts", "1"])
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith("Warning: the seeded accounts have well-known passwords")
    assert "admin / admin-password" in result.stderr
    assert "userN / password" in result.stderr
    assert "Warning" not in result.stdout


def test_seed_works_again_after_seeded_users_were_deleted(app: Any) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed", "--users", "3", "--posts", "2"]).exit_code == 0
    engine = make_engine(database_url(app))
    with engine.begin() as connection:  # user1 and admin leave; user2, user3 stay
        connection.execute(delete(User).where(User.username.in_(["user1", "admin"])))
    result = runner.invoke(args=["seed", "--users", "2", "--posts", "2"])
    assert result.exit_code == 0, result.output
    with make_session_factory(engine)() as session:
        names = set(session.scalars(select(User.username)))
    assert names == {"user2", "user3", "user4", "user5", "admin"}


def test_a_failing_seed_says_why_in_one_line_and_shows_no_hash(app: Any) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed", "--users", "1", "--posts", "1"]).exit_code == 0
    engine = make_engine(database_url(app))
    with engine.begin() as connection:  # a name seed will want next, taken by hand
        connection.exec_driver_sql(
            "INSERT INTO users (username, email, password_hash, is_admin, created_at, "
            "updated_at) VALUES ('zed', 'user2@example.com', 'x', 0, '2026-01-01', '2026-01-01')"
        )
    with make_session_factory(engine)() as session:
        before = session.scalar(select(func.count()).select_from(Post))
    result = runner.invoke(args=["seed", "--users", "1", "--posts", "3"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: seeding failed, nothing was added: UNIQUE constraint")
    assert "scrypt:" not in result.output and "pbkdf2:" not in result.output
    assert "INSERT" not in result.output
    with make_session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Post)) == before


def test_seeded_users_can_log_in(app: Any) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed", "--users", "1", "--posts", "2"]).exit_code == 0
    client = app.test_client()
    for username, password in (("user1", "password"), ("admin", "admin-password")):
        response = client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code == 200, username


def test_seed_help_names_the_seeded_accounts(app: Any) -> None:
    result = app.test_cli_runner().invoke(args=["seed", "--help"])
    assert result.exit_code == 0
    assert "* admin / admin-password (an administrator)\n" in result.output
    assert "* user1 ... userN / password\n" in result.output


def _command_env(tmp_path: Path, framework: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "BLOG_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        BLOG_FRAMEWORK=framework,
        BLOG_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}",
        BLOG_SECRET_KEY=SECRET,
    )
    return env


@pytest.mark.parametrize(
    ("framework", "command"),
    [
        ("miniflask", ["miniflask", "--app", "blog_api.wsgi", "db", "upgrade"]),
        ("flask", ["flask", "--app", "blog_api.wsgi", "db", "upgrade"]),
        ("miniflask", ["-m", "blog_api", "init-db"]),
        ("flask", ["-m", "blog_api", "init-db"]),
    ],
    ids=["miniflask-command", "flask-command", "python-m-on-miniflask", "python-m-on-flask"],
)
def test_init_db_runs_from_the_shell(tmp_path: Path, framework: str, command: list[str]) -> None:
    if command[0] == "-m":
        argv = [sys.executable, *command]
    else:
        script = shutil.which(command[0], path=str(Path(sys.executable).parent))
        assert script is not None, f"the {command[0]!r} script is installed with the package"
        argv = [script, *command[1:]]
    result = subprocess.run(
        argv,
        cwd=tmp_path,
        env=_command_env(tmp_path, framework),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"sqlite:///{tmp_path / 'cli.db'} at revision {HEAD}\n"
    assert tables(f"sqlite:///{tmp_path / 'cli.db'}") >= TABLES
