"""Schema migrations (blog_api/migrate.py, blog_api/migrations/) and the start-up check.

On SQLite and on PostgreSQL: the migrations build exactly the schema of
``models.py``; upgrading keeps every row and fills the new column from the
old data; downgrade and upgrade round-trip; a database from before migrations
is adopted; concurrent upgrades queue; a failing run changes nothing; and an
app refuses to start on a database it cannot serve, with one line saying
what to run.
"""

from __future__ import annotations

import multiprocessing
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from blog_api import create_app, migrate, schema
from blog_api.db import make_engine
from blog_api.models import Base
from tests.blog_api.conftest import bearer, make_config

HEAD = migrate.script_directory().get_current_head()
#: One row for every table of revision 0001, in an order the foreign keys accept.
ROWS_0001 = [
    "INSERT INTO users (id, username, email, password_hash, is_admin, created_at, updated_at)"
    " VALUES (1, 'ann', 'ann@example.com', 'h', false, '2026-01-01 10:00:00',"
    " '2026-01-01 10:00:00')",
    "INSERT INTO users (id, username, email, password_hash, is_admin, created_at, updated_at)"
    " VALUES (2, 'bob', 'bob@example.com', 'h', false, '2026-01-02 10:00:00',"
    " '2026-01-02 10:00:00')",
    "INSERT INTO tags (id, name) VALUES (1, 'python')",
    "INSERT INTO posts (id, author_id, title, body, status, created_at, updated_at, version)"
    " VALUES (1, 1, 'Hello', 'Body', 'published', '2026-01-03 10:00:00',"
    " '2026-01-03 10:00:00', 1)",
    "INSERT INTO post_tags (post_id, tag_id) VALUES (1, 1)",
    "INSERT INTO comments (id, post_id, author_id, body, created_at, updated_at)"
    " VALUES (1, 1, 2, 'Nice', '2026-01-04 10:00:00', '2026-01-04 10:00:00')",
    # ann logged in twice through the API and once on the site, the site last.
    "INSERT INTO refresh_tokens (id, token_hash, family_id, user_id, created_at, expires_at)"
    " VALUES (1, 'a', 'f1', 1, '2026-02-01 09:00:00', '2026-03-01 09:00:00')",
    "INSERT INTO refresh_tokens (id, token_hash, family_id, user_id, created_at, expires_at)"
    " VALUES (2, 'b', 'f2', 1, '2026-02-03 09:00:00', '2026-03-03 09:00:00')",
    "INSERT INTO site_sessions (id, token_hash, user_id, created_at, expires_at)"
    " VALUES (1, 's', 1, '2026-02-05 09:00:00', '2026-03-05 09:00:00')",
    "INSERT INTO revoked_tokens (jti, expires_at) VALUES ('j', '2026-03-01 00:00:00')",
    "INSERT INTO cache_generation (id, generation) VALUES (1, 7)",
    "INSERT INTO login_failures (key, failures, window_ends) VALUES ('k', 2, 1.5)",
]
TABLES_0001 = {
    "users": 2,
    "tags": 1,
    "posts": 1,
    "post_tags": 1,
    "comments": 1,
    "refresh_tokens": 2,
    "site_sessions": 1,
    "revoked_tokens": 1,
    "cache_generation": 1,
    "login_failures": 1,
}


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind (PostgreSQL: a private schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blog.db'}"
    else:
        yield str(request.getfixturevalue("postgres_url"))


def run(url: str, statements: list[str]) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def query(url: str, sql: str) -> list[Any]:
    engine = make_engine(url)
    with engine.connect() as connection:
        rows = list(connection.execute(text(sql)))
    engine.dispose()
    return rows


def counts(url: str) -> dict[str, int]:
    return {table: query(url, f"SELECT count(*) FROM {table}")[0][0] for table in TABLES_0001}


def indexes(url: str) -> set[str]:
    if url.startswith("sqlite"):  # its reflection skips expression indexes
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'"
        return {row[0] for row in query(url, sql)}
    engine = make_engine(url)
    inspector = inspect(engine)
    names = {
        str(index["name"])
        for table in inspector.get_table_names()
        for index in inspector.get_indexes(table)
    }
    engine.dispose()
    return names


# -- the migrations build the models' schema ----------------------------------


def test_the_migrations_build_exactly_the_models_schema(url: str) -> None:
    migrate.upgrade(url)
    assert migrate.current(url) == (HEAD,)
    assert migrate.differences(url) == []


def test_the_case_insensitive_unique_indexes_exist_and_refuse_a_second_carol(url: str) -> None:
    # Autogenerate cannot compare expression indexes (migrate.include_object).
    migrate.upgrade(url)
    assert {"ux_users_username_lower", "ux_users_email_lower"} <= indexes(url)
    run(url, ROWS_0001[:1])
    with pytest.raises(Exception, match=r"(?i)unique"):
        run(
            url,
            [
                "INSERT INTO users (username, email, password_hash, is_admin, created_at,"
                " updated_at) VALUES ('ANN', 'other@example.com', 'h', false,"
                " '2026-01-01', '2026-01-01')"
            ],
        )


def test_the_migrations_and_create_all_make_the_same_tables_and_indexes(tmp_path: Path) -> None:
    migrated, created = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    migrate.upgrade(migrated)
    engine = make_engine(created)
    Base.metadata.create_all(engine)
    engine.dispose()
    assert indexes(migrated) == indexes(created)
    for table in Base.metadata.tables:
        sql = f"SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
        assert query(migrated, sql) == query(created, sql), table


# -- upgrades keep data --------------------------------------------------------


def test_upgrading_from_the_first_revision_keeps_every_row_and_fills_last_login(url: str) -> None:
    migrate.upgrade(url, "0001")
    run(url, ROWS_0001)
    migrate.upgrade(url)
    assert migrate.current(url) == (HEAD,)
    assert counts(url) == TABLES_0001
    logins = dict(query(url, "SELECT username, last_login_at FROM users"))
    assert _as_datetime(logins["ann"]) == datetime(2026, 2, 5, 9, 0)  # the site login, latest
    assert logins["bob"] is None  # no token, no session: never, as far as anyone knows
    assert query(url, "SELECT generation FROM cache_generation") == [(7,)]


def _as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def test_downgrade_then_upgrade_round_trips_with_the_rows(url: str) -> None:
    migrate.upgrade(url, "0001")
    run(url, ROWS_0001)
    migrate.upgrade(url, "0002")
    every_index = indexes(url)  # those of 0001 and 0002, which 0002's downgrade must keep
    migrate.upgrade(url)
    migrate.downgrade(url, "0001")  # the column goes (and 0003's tables)
    assert migrate.current(url) == ("0001",)
    assert counts(url) == TABLES_0001
    assert indexes(url) == every_index
    columns = {column["name"] for column in inspect(make_engine(url)).get_columns("users")}
    assert "last_login_at" not in columns
    # SQLite rebuilt `users` to drop the column: the children's rows survived it.
    assert query(url, "SELECT count(*) FROM posts WHERE author_id = 1") == [(1,)]
    migrate.upgrade(url)
    assert counts(url) == TABLES_0001
    assert migrate.differences(url) == []
    migrate.downgrade(url, "base")
    assert migrate.current(url) == ()
    assert set(inspect(make_engine(url)).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(url)
    assert migrate.differences(url) == []


def test_0003_adds_the_outbox_and_reset_tables_and_its_downgrade_drops_them(url: str) -> None:
    migrate.upgrade(url, "0001")
    run(url, ROWS_0001)
    migrate.upgrade(url, "0002")
    migrate.upgrade(url, "0003")
    tables = set(inspect(make_engine(url)).get_table_names())
    assert {"outbox_jobs", "password_resets"} <= tables
    assert counts(url) == TABLES_0001
    run(
        url,
        [
            "INSERT INTO outbox_jobs (id, kind, payload, status, attempts, next_attempt_at,"
            " created_at) VALUES (1, 'mail', '{}', 'pending', 0, '2026-03-01 00:00:00',"
            " '2026-03-01 00:00:00')",
            "INSERT INTO password_resets (id, token_hash, user_id, created_at, expires_at)"
            " VALUES (1, 'h', 1, '2026-03-01 00:00:00', '2026-03-01 01:00:00')",
        ],
    )
    migrate.downgrade(url, "0002")
    tables = set(inspect(make_engine(url)).get_table_names())
    assert not {"outbox_jobs", "password_resets"} & tables
    assert counts(url) == TABLES_0001
    migrate.upgrade(url)
    assert migrate.differences(url) == []


def test_0004_adds_email_confirmation_and_its_downgrade_keeps_users_whole(url: str) -> None:
    migrate.upgrade(url, "0001")
    run(url, ROWS_0001)
    migrate.upgrade(url, "0003")
    every_index = indexes(url)
    migrate.upgrade(url, "0004")
    # Nobody confirmed an address before 0004: every existing user starts unconfirmed.
    assert query(url, "SELECT count(*) FROM users WHERE email_confirmed_at IS NULL") == [(2,)]
    run(
        url,
        [
            "UPDATE users SET email_confirmed_at = '2026-03-01 00:00:00' WHERE id = 1",
            "INSERT INTO email_confirmations (id, token_hash, user_id, email, created_at,"
            " expires_at) VALUES (1, 'h', 2, 'bob@example.com', '2026-03-01 00:00:00',"
            " '2026-03-04 00:00:00')",
        ],
    )
    migrate.downgrade(url, "0003")
    columns = {column["name"] for column in inspect(make_engine(url)).get_columns("users")}
    assert "email_confirmed_at" not in columns
    assert "email_confirmations" not in inspect(make_engine(url)).get_table_names()
    assert counts(url) == TABLES_0001
    assert indexes(url) == every_index  # SQLite's rebuilt users table has its indexes back
    migrate.upgrade(url)
    assert migrate.differences(url) == []


def test_0005_turns_comment_mails_on_for_existing_users_and_its_downgrade_drops_it(
    url: str,
) -> None:
    migrate.upgrade(url, "0001")
    run(url, ROWS_0001)
    migrate.upgrade(url, "0004")
    every_index = indexes(url)
    migrate.upgrade(url, "0005")
    assert query(url, "SELECT count(*) FROM users WHERE notify_on_comments") == [(2,)]
    migrate.downgrade(url, "0004")
    columns = {column["name"] for column in inspect(make_engine(url)).get_columns("users")}
    assert "notify_on_comments" not in columns
    assert counts(url) == TABLES_0001
    assert indexes(url) == every_index
    migrate.upgrade(url)
    assert migrate.differences(url) == []


def test_0006_keeps_refresh_tokens_as_first_party_and_its_downgrade_drops_the_oauth_tables(
    url: str,
) -> None:
    migrate.upgrade(url, "0001")
    run(url, ROWS_0001)
    migrate.upgrade(url, "0005")
    every_index = indexes(url)
    migrate.upgrade(url, "0006")
    # Existing refresh tokens are the blog's own log in: no client, every scope.
    assert query(url, "SELECT count(*) FROM refresh_tokens WHERE client_id IS NULL") == [(2,)]
    assert query(url, "SELECT count(*) FROM refresh_tokens WHERE scope IS NULL") == [(2,)]
    run(
        url,
        [
            "INSERT INTO oauth_clients (id, client_id, name, redirect_uris, scope, created_at)"
            " VALUES (1, 'app', 'App', 'https://app.example/cb', 'profile',"
            " '2026-03-01 00:00:00')",
            "INSERT INTO user_identities (user_id, issuer, subject, created_at)"
            " VALUES (1, 'https://id.example', 's1', '2026-03-01 00:00:00')",
        ],
    )
    with pytest.raises(IntegrityError):  # one provider account links to one user
        run(
            url,
            [
                "INSERT INTO user_identities (user_id, issuer, subject, created_at)"
                " VALUES (2, 'https://id.example', 's1', '2026-03-01 00:00:00')"
            ],
        )
    migrate.downgrade(url, "0005")
    tables = inspect(make_engine(url)).get_table_names()
    assert not {"oauth_clients", "oauth_authorization_codes", "user_identities"} & set(tables)
    columns = {c["name"] for c in inspect(make_engine(url)).get_columns("refresh_tokens")}
    assert not {"client_id", "scope"} & columns
    assert counts(url) == TABLES_0001
    assert indexes(url) == every_index
    migrate.upgrade(url)
    assert migrate.differences(url) == []


def test_a_database_made_before_migrations_is_adopted_then_upgraded(url: str) -> None:
    migrate.upgrade(url, "0001")
    run(url, [*ROWS_0001, "DROP TABLE alembic_version"])  # what the old init-db left
    migrate.upgrade(url)
    assert migrate.current(url) == (HEAD,)
    assert counts(url) == TABLES_0001


def test_a_pre_migration_database_missing_a_column_is_refused_by_name(url: str) -> None:
    migrate.upgrade(url, "0001")
    run(url, ["DROP TABLE alembic_version", "DROP TABLE login_failures"])
    with pytest.raises(schema.SchemaNotReady, match="lacks table login_failures of revision 0001"):
        migrate.upgrade(url)
    assert migrate.current(url) == ()


def test_a_failing_migration_run_changes_nothing(url: str) -> None:
    migrate.upgrade(url)
    with (
        pytest.raises(RuntimeError, match="half-way"),
        migrate._migration_connection(url) as connection,
    ):
        connection.execute(text("CREATE TABLE half_done (id integer)"))
        connection.execute(text("DELETE FROM alembic_version"))
        raise RuntimeError("half-way")
    assert "half_done" not in inspect(make_engine(url)).get_table_names()
    assert migrate.current(url) == (HEAD,)


def _upgrade_in_a_process(url: str) -> str:
    migrate.upgrade(url)
    return ",".join(migrate.current(url))


def test_concurrent_upgrades_queue_and_all_succeed(url: str) -> None:
    # Four gunicorn workers, or two hosts, finding the same empty database.
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        results = pool.map(_upgrade_in_a_process, [url] * 4)
    assert results == [HEAD] * 4
    assert migrate.differences(url) == []


# -- the commands --------------------------------------------------------------


def test_db_current_history_downgrade_upgrade(app: Any) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "current"]).output == f"{HEAD} (head)\n"
    history = runner.invoke(args=["db", "history"]).output.splitlines()
    assert history[0].startswith(f"0005 -> {HEAD}: OAuth 2.0 tables")
    assert history[1].startswith("0004 -> 0005: users.notify_on_comments")
    assert history[2].startswith("0003 -> 0004: users.email_confirmed_at")
    assert history[3].startswith("0002 -> 0003: The transactional outbox")
    assert history[4].startswith("0001 -> 0002: users.last_login_at")
    assert history[-1] == "<base> -> 0001: The schema of models.py when migrations began."
    result = runner.invoke(args=["db", "downgrade"])
    assert result.exit_code == 0 and result.output == "at revision 0005\n"
    assert runner.invoke(args=["db", "current"]).output == f"0005 (head is {HEAD})\n"
    assert runner.invoke(args=["db", "check"]).exit_code == 1
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0 and result.output.endswith(f" at revision {HEAD}\n")
    result = runner.invoke(args=["db", "check"])
    assert result.output == "the database is at head and matches models.py\n"


def test_db_upgrade_to_an_unknown_revision_is_one_line(app: Any) -> None:
    result = app.test_cli_runner().invoke(args=["db", "upgrade", "nope"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ") and "Traceback" not in result.output
    assert "nope" in result.output


def test_db_revision_autogenerates_the_next_numbered_file(
    app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Into a copy of the migrations, so the package's own stay as they are.
    copy = tmp_path / "migrations"
    shutil.copytree(Path(migrate.__file__).parent / "migrations", copy)
    monkeypatch.setattr(migrate, "SCRIPT_LOCATION", str(copy))
    Base.metadata.tables["posts"].append_column(_slug_column())
    try:
        result = app.test_cli_runner().invoke(args=["db", "revision", "-m", "posts slug"])
    finally:
        posts = Base.metadata.tables["posts"]
        posts._columns.remove(posts.c.slug)
    assert result.exit_code == 0, result.output
    written = copy / "versions" / f"{int(HEAD) + 1:04d}_posts_slug.py"
    assert result.output == f"wrote {written}: read it and edit it before you commit it\n"
    source = written.read_text()
    assert f"down_revision = '{HEAD}'" in source
    assert "add_column(sa.Column('slug'" in source


def _slug_column() -> Any:
    from sqlalchemy import Column, String

    return Column("slug", String(200), nullable=True)


# -- start-up ------------------------------------------------------------------


def test_the_revision_the_code_needs_is_the_newest_migration() -> None:
    # Bump schema.SCHEMA_REVISION with every new revision.
    assert schema.SCHEMA_REVISION == HEAD


def test_an_app_on_an_up_to_date_database_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'blog.db'}"
    migrate.upgrade(url)
    code = (
        "import sys; from blog_api import create_app; "
        f"create_app('miniflask', {{'DATABASE_URL': {url!r}, 'SECRET_KEY': 'k' * 64}}); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout == "[]\n"


def test_a_new_sqlite_database_gets_its_tables_when_the_app_starts(
    framework: str, tmp_path: Path
) -> None:
    app = create_app(framework, make_config(tmp_path))
    response = app.test_client().get("/api/v1/posts")
    app.extensions["blog_db"].engine.dispose()
    assert response.status_code == 200
    assert migrate.current(app.config["DATABASE_URL"]) == (HEAD,)


def test_an_empty_postgresql_database_is_refused_with_what_to_run(
    framework: str, tmp_path: Path, postgres_url: str
) -> None:
    command = schema.upgrade_command(framework)
    with pytest.raises(schema.SchemaNotReady) as refused:
        create_app(framework, make_config(tmp_path, DATABASE_URL=postgres_url))
    assert str(refused.value).endswith(f" has no tables: run `{command}` first")
    assert "\n" not in str(refused.value)


def test_a_database_behind_the_code_is_refused(framework: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'blog.db'}"
    migrate.upgrade(url, "0001")
    behind = f"is at revision 0001, this code needs {HEAD}"
    with pytest.raises(schema.SchemaNotReady, match=behind):
        create_app(framework, make_config(tmp_path))


def test_a_database_ahead_of_the_code_is_served_with_a_warning(
    framework: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A newer release migrated it (expand only): this older code keeps serving.
    url = f"sqlite:///{tmp_path / 'blog.db'}"
    migrate.upgrade(url)
    run(url, ["UPDATE alembic_version SET version_num = '0099'"])
    app = create_app(framework, make_config(tmp_path))
    assert app.test_client().get("/api/v1/posts").status_code == 200
    app.extensions["blog_db"].engine.dispose()
    assert "newer than this code's" in caplog.text


def test_the_command_line_only_warns_so_that_db_upgrade_can_run(
    framework: str, tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")  # as `miniflask`/`flask` set it
    app = create_app(framework, make_config(tmp_path, DATABASE_URL=postgres_url))
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    app.extensions["blog_db"].engine.dispose()
    assert result.exit_code == 0, result.output
    assert migrate.current(postgres_url) == (HEAD,)


def test_login_sets_last_login_at_without_touching_updated_at(api: Any, client: Any) -> None:
    carol_id = api.register("carol")["id"]
    first = bearer(api.login("carol")["access_token"])
    before = client.get(f"/api/v1/users/{carol_id}", headers=first).get_json()
    assert before["last_login_at"] is not None
    second = bearer(api.login("carol")["access_token"])
    again = client.get(f"/api/v1/users/{carol_id}", headers=second).get_json()
    assert again["last_login_at"] > before["last_login_at"]
    assert again["updated_at"] == before["updated_at"]
    # Private, like the e-mail address.
    public = client.get(f"/api/v1/users/{carol_id}", headers=api.user("dave")).get_json()
    assert "last_login_at" not in public and "email" not in public
