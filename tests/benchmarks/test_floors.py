"""The hand-written floors of ``benchmarks/floors/`` answer like the blog API.

The in-process benchmark refuses to time a floor whose answers differ from
the blog's; these tests run that check on a small seeded database and pin the
checks a floor must make (tokens, visibility, preconditions) so that a floor
never gets cheaper by doing less than the blog.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import jwt
import pytest

from benchmarks import blogdb, floors, inprocess, scenarios
from blog_api import create_app


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A seeded database, the blog on both frameworks (cache off), and the floors."""
    directory = tmp_path_factory.mktemp("floors")
    database = blogdb.seed(directory)
    blog = {
        framework: create_app(
            framework, blogdb.app_config(database, directory / "instance", cache=False)
        )
        for framework in ("flask", "miniflask")
    }
    return {
        "database": database,
        "blog": blog,
        "floors": floors.build_floors(floors.FloorSettings(database.path, blogdb.SECRET_KEY)),
        "scenarios": scenarios.floor_scenarios(database, blog),
    }


def _answer(app: Any, method: str, path: str, **options: Any) -> inprocess.Answer:
    environ, body = inprocess.prepare_environ(method, path, **options)
    return inprocess.call(app, environ, body)


def _token(setup: dict[str, Any]) -> str:
    scenario = next(s for s in setup["scenarios"] if s.name == "floor_create")
    return str(scenario.environ["HTTP_AUTHORIZATION"].removeprefix("Bearer "))


def test_every_floor_answers_like_the_blog_on_both_frameworks(setup: dict[str, Any]) -> None:
    scenarios = setup["scenarios"]
    assert {s.name for s in scenarios} == {
        "floor_list",
        "floor_list_cursor",
        "floor_post",
        "floor_comments",
        "floor_create",
        "floor_patch",
    }
    inprocess.verify(scenarios)
    for scenario in scenarios:
        assert set(scenario.targets) == {"floor", "flask", "miniflask"}
        answer = inprocess.call(scenario.targets["floor"], scenario.environ, scenario.body)
        assert answer.status == (201 if scenario.name == "floor_create" else 200)
        names = [name for name, _ in answer.headers]
        assert {"Date", "X-Request-ID"} <= set(names) or scenario.check == "write"
        assert "X-Request-ID" in names


def test_reads_are_compared_header_for_header(setup: dict[str, Any]) -> None:
    scenario = next(s for s in setup["scenarios"] if s.name == "floor_list")
    floor = scenario.targets["floor"]

    def other_cache_control(environ: dict[str, Any], start_response: Any) -> Any:
        def replace(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            changed = [(n, "no-store" if n == "Cache-Control" else v) for n, v in headers]
            return start_response(status, changed)

        return floor(environ, replace)

    scenario = inprocess.Scenario(
        scenario.name,
        scenario.title,
        scenario.kind,
        scenario.environ,
        scenario.body,
        {**scenario.targets, "floor": other_cache_control},
        scenario.check,
    )
    with pytest.raises(inprocess.HarnessError, match="floor_list"):
        inprocess.verify([scenario])


def test_write_check_ignores_ids_and_times_only() -> None:
    first = inprocess.Answer(201, b'{"id":1,"title":"a","created_at":"x"}\n', "application/json")
    second = inprocess.Answer(201, b'{"id":2,"title":"a","created_at":"y"}\n', "application/json")
    third = inprocess.Answer(201, b'{"id":3,"title":"b","created_at":"y"}\n', "application/json")
    assert inprocess.comparable(first, "write") == inprocess.comparable(second, "write")
    assert inprocess.comparable(second, "write") != inprocess.comparable(third, "write")


def test_the_next_page_by_cursor_is_the_blogs(setup: dict[str, Any]) -> None:
    first = _answer(setup["blog"]["flask"], "GET", "/api/v1/posts?cursor=&per_page=7")
    cursor = inprocess.json_module.loads(first.body)["next_cursor"]
    path = f"/api/v1/posts?per_page=7&cursor={cursor}"
    blog = _answer(setup["blog"]["miniflask"], "GET", path)
    floor = _answer(setup["floors"]["list_posts"], "GET", path)
    assert blog.status == 200
    assert inprocess.comparable(floor, "exact") == inprocess.comparable(blog, "exact")


@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize("query", ["page=3&per_page=7", "page=999", "per_page=1"])
def test_every_page_and_its_total_are_the_blogs(
    setup: dict[str, Any], query: str, signed_in: bool
) -> None:
    # The floor's page of posts is one SELECT with the count in it, as the
    # blog's; past the last page both count alone. A signed-in reader's total
    # counts their drafts.
    headers = {"Authorization": f"Bearer {_token(setup)}"} if signed_in else {}
    path = f"/api/v1/posts?{query}"
    blog = _answer(setup["blog"]["miniflask"], "GET", path, headers=headers)
    floor = _answer(setup["floors"]["list_posts"], "GET", path, headers=headers)
    assert blog.status == 200
    assert inprocess.comparable(floor, "exact") == inprocess.comparable(blog, "exact")


@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize("post", ["published", "draft"])
@pytest.mark.parametrize("query", ["per_page=1", "page=2&per_page=1", "page=99", "cursor="])
def test_every_page_of_comments_and_its_total_are_the_blogs(
    setup: dict[str, Any], query: str, post: str, signed_in: bool
) -> None:
    # A page of comments is one SELECT, from the post only if the reader may
    # see it, in the floor as in the blog; with no row (past the last page, a
    # draft the reader may not see) both ask whether the post may be seen and
    # count alone: 404 for another's draft, whichever page is asked for.
    database = setup["database"]
    post_id = (
        database.published_post_id
        if post == "published"
        else blogdb.draft_of(database, blogdb.LOGIN["username"])
    )
    headers = {"Authorization": f"Bearer {_token(setup)}"} if signed_in else {}
    path = f"/api/v1/posts/{post_id}/comments?{query}"
    blog = _answer(setup["blog"]["miniflask"], "GET", path, headers=headers)
    floor = _answer(setup["floors"]["list_comments"], "GET", path, headers=headers)
    if post == "draft" and not signed_in:
        bodies = [inprocess.json_module.loads(answer.body) for answer in (blog, floor)]
        assert blog.status == floor.status == 404
        assert bodies[0]["error"] == bodies[1]["error"] == f"Post {post_id} not found"
        return
    assert blog.status == 200
    assert inprocess.comparable(floor, "exact") == inprocess.comparable(blog, "exact")
    if query != "cursor=":
        body = inprocess.json_module.loads(blog.body)
        total, shown = body["total"], len(body["items"])
        assert shown == {"per_page=1": min(total, 1), "page=2&per_page=1": int(total >= 2)}.get(
            query, 0
        )
        assert total > 0 or post == "draft"  # the seeded published post has comments


def test_a_tampered_cursor_is_refused(setup: dict[str, Any]) -> None:
    answer = _answer(setup["floors"]["list_posts"], "GET", "/api/v1/posts?cursor=abc.def")
    assert answer.status == 400


def test_anonymous_readers_do_not_see_drafts(setup: dict[str, Any]) -> None:
    draft = blogdb.draft_of(setup["database"], blogdb.LOGIN["username"])
    assert _answer(setup["floors"]["get_post"], "GET", f"/api/v1/posts/{draft}").status == 404
    bearer = {"Authorization": f"Bearer {_token(setup)}"}
    own = _answer(setup["floors"]["get_post"], "GET", f"/api/v1/posts/{draft}", headers=bearer)
    blog = _answer(setup["blog"]["flask"], "GET", f"/api/v1/posts/{draft}", headers=bearer)
    assert own.status == 200
    assert inprocess.comparable(own, "exact") == inprocess.comparable(blog, "exact")


def test_writes_need_a_valid_token(setup: dict[str, Any]) -> None:
    create = setup["floors"]["create_post"]
    post = {"title": "t", "body": "b"}
    assert _answer(create, "POST", "/api/v1/posts", json=post).status == 401
    forged = {"Authorization": f"Bearer {_token(setup)}x"}
    assert _answer(create, "POST", "/api/v1/posts", json=post, headers=forged).status == 401


def test_revoked_tokens_and_older_token_versions_are_refused(setup: dict[str, Any]) -> None:
    token = _token(setup)
    claims = jwt.decode(token, options={"verify_signature": False})
    settings = floors.FloorSettings(setup["database"].path, blogdb.SECRET_KEY)
    create = floors.build_floors(settings)["create_post"]
    bearer = {"Authorization": f"Bearer {token}"}
    post = {"title": "t", "body": "b"}
    path: Path = setup["database"].path
    with sqlite3.connect(path) as connection:
        connection.execute(
            "INSERT INTO revoked_tokens (jti, expires_at) VALUES (?, '2999-01-01 00:00:00.000000')",
            (claims["jti"],),
        )
    try:
        assert _answer(create, "POST", "/api/v1/posts", json=post, headers=bearer).status == 401
    finally:
        with sqlite3.connect(path) as connection:
            connection.execute("DELETE FROM revoked_tokens WHERE jti = ?", (claims["jti"],))
    newer = jwt.encode({**claims, "ver": claims["ver"] + 1}, blogdb.SECRET_KEY, "HS256")
    stale = {"Authorization": f"Bearer {newer}"}
    assert _answer(create, "POST", "/api/v1/posts", json=post, headers=stale).status == 401


@pytest.mark.parametrize(
    "post",
    [
        {"title": "   ", "body": "b"},
        {"title": "t", "body": ""},
        {"title": "t", "body": "b", "tags": ["no spaces"]},
        {"title": "t", "body": "b", "status": "public"},
        {"title": "t", "body": "b", "author": 1},
        {"title": 5, "body": "b"},
        {"title": "t\x00", "body": "b"},
        {"body": "b"},
    ],
)
def test_invalid_posts_are_refused_by_floor_and_blog_alike(
    setup: dict[str, Any], post: dict[str, Any]
) -> None:
    bearer = {"Authorization": f"Bearer {_token(setup)}"}
    floor = _answer(
        setup["floors"]["create_post"], "POST", "/api/v1/posts", json=post, headers=bearer
    )
    blog = _answer(setup["blog"]["miniflask"], "POST", "/api/v1/posts", json=post, headers=bearer)
    assert floor.status == blog.status == 422


def test_patch_checks_if_match_and_the_author(setup: dict[str, Any]) -> None:
    patch = setup["floors"]["patch_post"]
    bearer = {"Authorization": f"Bearer {_token(setup)}"}
    draft = f"/api/v1/posts/{blogdb.draft_of(setup['database'], blogdb.LOGIN['username'])}"
    changes = {"title": "x"}
    stale = {**bearer, "If-Match": '"0123"'}
    assert _answer(patch, "PATCH", draft, json=changes, headers=stale).status == 412
    current = _answer(setup["floors"]["get_post"], "GET", draft, headers=bearer)
    etag = dict(current.headers)["ETag"]
    fresh = {**bearer, "If-Match": etag}
    assert _answer(patch, "PATCH", draft, json=changes, headers=fresh).status == 200
    someone_else = f"/api/v1/posts/{setup['database'].published_post_id}"
    answer = _answer(patch, "PATCH", someone_else, json=changes, headers=bearer)
    blog = _answer(setup["blog"]["flask"], "PATCH", someone_else, json=changes, headers=bearer)
    assert answer.status == blog.status


def test_ratio_to_floor_is_taken_round_by_round() -> None:
    environ, body = inprocess.prepare_environ()
    targets = {label: inprocess.apps.bare_wsgi_app for label in ("floor", "flask", "miniflask")}
    scenario = inprocess.Scenario("floor_post", "t", "floor", environ, body, targets, "exact")
    samples = inprocess.Samples(
        means={
            "floor_post": {"floor": [10.0, 20.0], "flask": [40.0, 60.0], "miniflask": [30.0, 40.0]}
        },
        calls={"floor_post": {"floor": 1, "flask": 1, "miniflask": 1}},
    )
    result = inprocess.summarize_run([scenario], samples)["scenarios"][0]["apps"]
    assert result["miniflask"]["ratio_to_floor"]["median"] == pytest.approx(2.5)
    assert result["flask"]["ratio_to_floor"]["median"] == pytest.approx(3.5)
