"""The floors on PostgreSQL answer like the blog API on PostgreSQL.

``benchmarks/floors/databases.py`` runs the floors' SQL on psycopg 3 against a
private schema seeded as the SQLite file is; these tests run the in-process
benchmark's check on it, and the paths its scenarios do not take (the next
page by cursor, a revoked token). They are skipped, with the reason, when no
PostgreSQL server answers at 127.0.0.1:5432 (database ``test``), as
``tests/support/postgres.py`` skips; the tests at the end need no server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import jwt
import psycopg
import pytest

from benchmarks import blogdb, inprocess, scenarios
from benchmarks.floors import databases

FLOOR_PG_NAMES = {
    "floor_pg_list",
    "floor_pg_list_cursor",
    "floor_pg_post",
    "floor_pg_comments",
    "floor_pg_create",
    "floor_pg_patch",
}


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A seeded schema, its floor scenarios, the floors and the blog (cache off) on it."""
    try:
        with blogdb.seed_postgres("bench_test") as database:
            instance = tmp_path_factory.mktemp("floors_pg") / "instance"
            found = scenarios.postgres_floor_scenarios(database, instance)
            targets = {s.name: s.targets for s in found}
            yield {
                "database": database,
                "scenarios": found,
                "list_posts": targets["floor_pg_list"]["floor"],
                "list_comments": targets["floor_pg_comments"]["floor"],
                "get_post": targets["floor_pg_post"]["floor"],
                "create_post": targets["floor_pg_create"]["floor"],
                "blog": {fw: targets["floor_pg_post"][fw] for fw in ("flask", "miniflask")},
            }
    except blogdb.PostgresUnavailable as e:
        pytest.skip(str(e))


def _answer(app: Any, method: str, path: str, **options: Any) -> inprocess.Answer:
    environ, body = inprocess.prepare_environ(method, path, **options)
    return inprocess.call(app, environ, body)


def _bearer(postgres: dict[str, Any]) -> dict[str, str]:
    scenario = next(s for s in postgres["scenarios"] if s.name == "floor_pg_create")
    return {"Authorization": scenario.environ["HTTP_AUTHORIZATION"]}


def test_every_floor_answers_like_the_blog_on_postgres(postgres: dict[str, Any]) -> None:
    found = postgres["scenarios"]
    assert {s.name for s in found} == FLOOR_PG_NAMES
    inprocess.verify(found)
    for scenario in found:
        assert scenario.kind == "floor_pg"
        assert scenario.title.endswith("on PostgreSQL")
        assert set(scenario.targets) == {"floor", "flask", "miniflask"}
        answer = inprocess.call(scenario.targets["floor"], scenario.environ, scenario.body)
        assert answer.status == (201 if scenario.name == "floor_pg_create" else 200)


@pytest.mark.parametrize("listing", ["posts", "comments"])
def test_the_next_page_by_cursor_is_the_blogs_on_postgres(
    postgres: dict[str, Any], listing: str
) -> None:
    post = postgres["database"].published_post_id
    path = "/api/v1/posts" if listing == "posts" else f"/api/v1/posts/{post}/comments"
    first = _answer(postgres["blog"]["flask"], "GET", f"{path}?cursor=&per_page=1")
    cursor = inprocess.json_module.loads(first.body)["next_cursor"]
    assert cursor is not None
    following = f"{path}?per_page=1&cursor={cursor}"
    blog = _answer(postgres["blog"]["miniflask"], "GET", following)
    floor = _answer(postgres[f"list_{listing}"], "GET", following)
    assert blog.status == 200
    assert inprocess.comparable(floor, "exact") == inprocess.comparable(blog, "exact")


def test_a_post_written_by_the_floor_reads_back_as_the_blogs(postgres: dict[str, Any]) -> None:
    new = {"title": "Tagged", "body": "b", "tags": ["zeta", "alpha"], "status": "published"}
    created = _answer(
        postgres["create_post"], "POST", "/api/v1/posts", json=new, headers=_bearer(postgres)
    )
    assert created.status == 201
    path = f"/api/v1/posts/{inprocess.json_module.loads(created.body)['id']}"
    blog = _answer(postgres["blog"]["flask"], "GET", path)
    floor = _answer(postgres["get_post"], "GET", path)
    assert inprocess.json_module.loads(blog.body)["tags"] == ["alpha", "zeta"]
    assert inprocess.comparable(floor, "exact") == inprocess.comparable(blog, "exact")


def test_anonymous_readers_do_not_see_drafts_on_postgres(postgres: dict[str, Any]) -> None:
    draft = f"/api/v1/posts/{blogdb.draft_of(postgres['database'], blogdb.LOGIN['username'])}"
    assert _answer(postgres["get_post"], "GET", draft).status == 404
    own = _answer(postgres["get_post"], "GET", draft, headers=_bearer(postgres))
    blog = _answer(postgres["blog"]["flask"], "GET", draft, headers=_bearer(postgres))
    assert own.status == 200
    assert inprocess.comparable(own, "exact") == inprocess.comparable(blog, "exact")


def test_a_revoked_token_is_refused_on_postgres(postgres: dict[str, Any]) -> None:
    bearer = _bearer(postgres)
    claims = jwt.decode(bearer["Authorization"][7:], options={"verify_signature": False})
    url = postgres["database"].url.replace("postgresql+psycopg://", "postgresql://")
    post = {"title": "t", "body": "b"}
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "INSERT INTO revoked_tokens (jti, expires_at) VALUES (%s, '2999-01-01')",
            (claims["jti"],),
        )
        try:
            answer = _answer(
                postgres["create_post"], "POST", "/api/v1/posts", json=post, headers=bearer
            )
        finally:
            connection.execute("DELETE FROM revoked_tokens WHERE jti = %s", (claims["jti"],))
    assert answer.status == 401
    assert "revoked" in dict(answer.headers)["WWW-Authenticate"]


# -- no server needed ------------------------------------------------------------------------


def test_an_unreachable_server_skips_the_postgres_scenarios_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(blogdb, "POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:1/test")
    with ExitStack() as stack:
        seeded, reason = inprocess._postgres(stack, wanted=True)
    assert seeded is None
    assert reason.startswith("not run: PostgreSQL not reachable at")


def test_the_floors_take_a_sqlite_url_or_path_and_refuse_other_databases(tmp_path: Path) -> None:
    path = tmp_path / "blog.db"
    for database in (path, f"sqlite:///{path}"):
        connected = databases.connect(database)
        assert isinstance(connected, databases.SQLiteDatabase)
        row = connected.one("PRAGMA database_list", {})
        assert row is not None
        assert row[2] == str(path)
    with pytest.raises(ValueError, match="mysql"):
        databases.connect("mysql://localhost/blog")


def test_named_parameters_become_psycopgs_and_casts_stay() -> None:
    sql = "SELECT :id::text WHERE a = :after_id"
    assert databases._NAMED_PARAMETER.sub(r"%(\1)s", sql) == (
        "SELECT %(id)s::text WHERE a = %(after_id)s"
    )
