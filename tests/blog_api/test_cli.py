"""``python -m blog_api init-db`` and ``seed`` (blog_api/__main__.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, inspect, select

from blog_api.__main__ import main
from blog_api.db import make_engine, make_session_factory
from blog_api.models import Post, User


def test_init_db_creates_the_tables(tmp_path: Path, capsys: object) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["--database-url", url, "init-db"]) == 0
    tables = set(inspect(make_engine(url)).get_table_names())
    assert {"users", "posts", "tags", "post_tags", "comments", "refresh_tokens"} <= tables


def test_seed_adds_users_posts_and_an_admin(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["--database-url", url, "seed", "--users", "3", "--posts", "12"]) == 0
    assert main(["--database-url", url, "seed", "--users", "2", "--posts", "1"]) == 0
    with make_session_factory(make_engine(url))() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 6
        assert session.scalar(select(func.count()).select_from(Post)) == 13
        admin = session.scalars(select(User).where(User.username == "admin")).one()
        assert admin.is_admin


def test_seeded_users_can_log_in(tmp_path: Path) -> None:
    from blog_api import create_app

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    main(["--database-url", url, "seed", "--users", "1", "--posts", "2"])
    client = create_app("flask", {"DATABASE_URL": url, "SECRET_KEY": "k" * 64}).test_client()
    for username, password in (("user1", "password"), ("admin", "admin-password")):
        response = client.post(
            "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code == 200, username


def test_module_runs_as_a_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "blog_api",
            "--database-url",
            f"sqlite:///{tmp_path / 'x.db'}",
            "init-db",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "initialised" in result.stdout
