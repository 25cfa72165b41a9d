"""Page numbers, keyset cursors, Link headers, and no N+1 (blog_api/pagination.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from blog_api.errors import BadRequest
from blog_api.models import Comment, Post, Tag, User
from blog_api.pagination import Cursor, SortSpec, decode_cursor, encode_cursor, link_header
from tests.blog_api.conftest import build_app, make_config

SECRET = "s" * 40


def links(response: Any) -> dict[str, str]:
    """Parse an RFC 8288 Link header into {rel: url}."""
    return {
        rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.headers["Link"])
    }


def make_posts(api: Any, headers: dict[str, str], count: int) -> None:
    for n in range(count):
        api.create_post(headers, title=f"post {n:02d}", tags=["t1", "t2"])


def test_page_numbers_with_total_and_link_header(
    api: Any, client: Any, alice: dict[str, str]
) -> None:
    make_posts(api, alice, 5)
    response = client.get("/api/v1/posts?per_page=2&page=2&sort=title")
    body = response.get_json()
    assert [p["title"] for p in body["items"]] == ["post 02", "post 03"]
    assert (body["page"], body["per_page"], body["total"]) == (2, 2, 5)
    rels = links(response)
    assert set(rels) == {"first", "prev", "next", "last"}
    assert "page=3" in rels["next"] and "sort=title" in rels["next"]
    assert "page=3" in rels["last"] and "page=1" in rels["prev"]
    following = client.get(rels["next"]).get_json()
    assert [p["title"] for p in following["items"]] == ["post 04"]


def test_links_are_written_as_url_for_writes_them(
    api: Any, client: Any, app: Any, alice: dict[str, str]
) -> None:
    # The Link header adds its query strings to one url_for'ed path; they must
    # read exactly as url_for with the parameters would write them, escapes
    # included, with the request's own parameters kept in their order.
    for n in range(3):
        api.create_post(alice, title=f"post é/x,y:z&w {n}")
    query = "q=post+%C3%A9/x,y:z%26w&per_page=1&sort=-title&page=2"
    rels = links(client.get(f"/api/v1/posts?{query}"))
    asked = {"q": "post é/x,y:z&w", "per_page": 1, "sort": "-title", "page": 2}
    with app.test_request_context(f"/api/v1/posts?{query}"):
        url_for = app.jinja_env.globals["url_for"]
        expected = {
            rel: url_for("posts.list_posts", **{**asked, "page": number, "per_page": 1})
            for rel, number in {"first": 1, "prev": 1, "next": 3, "last": 3}.items()
        }
    assert rels == expected
    # Parameters the request did not send are appended, page before per_page.
    default = app.config["PER_PAGE_DEFAULT"]
    for query, asked in (
        ("q=post", {"q": "post"}),
        ("per_page=1&q=post", {"per_page": 1, "q": "post"}),
    ):
        rels = links(client.get(f"/api/v1/posts?{query}"))
        with app.test_request_context(f"/api/v1/posts?{query}"):
            url_for = app.jinja_env.globals["url_for"]
            per_page = asked.get("per_page", default)
            assert rels["first"] == url_for(
                "posts.list_posts", **{**asked, "page": 1, "per_page": per_page}
            )
    cursor = links(client.get("/api/v1/posts?per_page=1&cursor=&q=post"))["next"]
    assert cursor.startswith("/api/v1/posts?per_page=1&cursor=") and cursor.endswith("&q=post")
    # The links' path is the request's own (Web._link): with the view's values,
    # and under a mount point (SCRIPT_NAME) too, as url_for writes it. The
    # server cache (on here) keys the mount point too: the first answer, cached,
    # must not be served at the second.
    post_id = api.create_post(alice)["id"]
    for _ in range(2):
        api.comment(alice, post_id)
    for base_url in ("http://localhost", "http://localhost/blog"):
        url = f"/api/v1/posts/{post_id}/comments?per_page=1"
        rels = links(client.get(url, base_url=base_url))
        with app.test_request_context(url, base_url=base_url):
            url_for = app.jinja_env.globals["url_for"]
            expected = url_for("comments.list_comments", post_id=post_id, per_page=1, page=2)
        assert rels["next"] == expected
        assert rels["next"].startswith(base_url.removeprefix("http://localhost") + "/api/v1/")


def test_per_page_is_bounded(client: Any, app: Any) -> None:
    too_many = app.config["PER_PAGE_MAX"] + 1
    response = client.get(f"/api/v1/posts?per_page={too_many}")
    assert response.status_code == 400
    assert response.get_json()["details"][0]["field"] == "per_page"
    assert client.get("/api/v1/posts?per_page=0").status_code == 400
    assert client.get("/api/v1/posts?page=0").status_code == 400
    assert client.get("/api/v1/posts?page=abc").status_code == 400


def test_page_beyond_the_end_is_empty(client: Any) -> None:
    body = client.get("/api/v1/posts?page=9").get_json()
    assert body["items"] == [] and body["total"] == 0


def test_the_total_counts_what_the_filters_and_the_viewer_may_see(
    api: Any, client: Any, alice: dict[str, str], bob: dict[str, str]
) -> None:
    # The page and its total are one statement (pagination.fetch_page): the
    # total must count every matching post, not the page's rows, and only
    # those the viewer may see; past the last page it is counted alone.
    make_posts(api, alice, 5)
    api.create_post(alice, title="alice's draft", status="draft", tags=["t1"])
    api.create_post(bob, title="bob's", tags=["t3"])
    totals = [
        ("/api/v1/posts?per_page=2", None, 2, 6),
        ("/api/v1/posts?per_page=2&tag=t1", None, 2, 5),
        ("/api/v1/posts?per_page=2&tag=t1", alice, 2, 6),
        ("/api/v1/posts?per_page=2&tag=t1&page=3", alice, 2, 6),
        ("/api/v1/posts?per_page=4&page=3", None, 0, 6),
        ("/api/v1/posts?per_page=2&page=4&author=bob", bob, 0, 1),
    ]
    for url, viewer, shown, total in totals:
        body = client.get(url, headers=viewer or {}).get_json()
        assert (len(body["items"]), body["total"]) == (shown, total), (url, viewer)
    past = client.get("/api/v1/posts?per_page=4&page=3")
    assert set(links(past)) == {"first", "prev", "last"}
    assert "page=2" in links(past)["last"]


def test_cursor_walks_every_post_once(api: Any, client: Any, alice: dict[str, str]) -> None:
    make_posts(api, alice, 7)
    seen, url = [], "/api/v1/posts?per_page=3&cursor="
    while url:
        response = client.get(url)
        body = response.get_json()
        assert set(body) == {"items", "next_cursor"}
        seen += [p["title"] for p in body["items"]]
        url = links(response).get("next") if body["next_cursor"] else None
    assert seen == [f"post {n:02d}" for n in reversed(range(7))]


def test_cursor_is_stable_while_new_posts_arrive(
    api: Any, client: Any, alice: dict[str, str]
) -> None:
    make_posts(api, alice, 4)
    first = client.get("/api/v1/posts?per_page=2&cursor=").get_json()
    api.create_post(alice, title="brand new")
    second = client.get(f"/api/v1/posts?per_page=2&cursor={first['next_cursor']}").get_json()
    assert [p["title"] for p in first["items"] + second["items"]] == [
        "post 03",
        "post 02",
        "post 01",
        "post 00",
    ]
    assert second["next_cursor"] is None


def test_cursor_with_ascending_title_sort(api: Any, client: Any, alice: dict[str, str]) -> None:
    for title in ("b", "a", "c", "a"):
        api.create_post(alice, title=title)
    first = client.get("/api/v1/posts?per_page=2&cursor=&sort=title").get_json()
    rest = client.get(f"/api/v1/posts?per_page=2&sort=title&cursor={first['next_cursor']}")
    titles = [p["title"] for p in first["items"] + rest.get_json()["items"]]
    assert titles == ["a", "a", "b", "c"]


def test_tampered_or_mismatched_cursor_is_400(api: Any, client: Any, alice: dict[str, str]) -> None:
    make_posts(api, alice, 3)
    cursor = client.get("/api/v1/posts?per_page=1&cursor=").get_json()["next_cursor"]
    assert client.get(f"/api/v1/posts?cursor={cursor}x").status_code == 400
    response = client.get(f"/api/v1/posts?cursor={cursor}&sort=title")
    assert response.status_code == 400
    assert response.get_json()["details"][0]["field"] == "cursor"
    assert client.get("/api/v1/posts?cursor=garbage").status_code == 400


@pytest.mark.parametrize("path", ["/api/v1/posts", "/api/v1/users", "/api/v1/posts/1/comments"])
@pytest.mark.parametrize(
    "cursor",
    [
        "x.%C3%A9",  # "x.é": hmac.compare_digest refused the non-ASCII str with a TypeError
        "%C3%A9.x",
        "%C3%A9",
        "eyJzIjoxfQ.%F0%9F%98%80",
        "x.y%0A",
        "x.y.z",
        "x.y%3D",
        "%00.x",
        ".",
    ],
)
def test_a_cursor_outside_the_base64url_alphabet_is_a_400_on_every_list(
    api: Any, client: Any, alice: dict[str, str], path: str, cursor: str
) -> None:
    api.create_post(alice)  # post 1, so its comment list exists
    response = client.get(f"{path}?cursor={cursor}")
    assert response.status_code == 400
    body = response.get_json()
    assert body["type"] == "bad_request" and body["details"][0]["field"] == "cursor"


def test_decode_cursor_refuses_non_ascii_with_bad_request_not_type_error() -> None:
    sort = SortSpec.parse("-created_at")
    good = encode_cursor(Cursor(str(sort), datetime(2024, 5, 1, tzinfo=UTC), 1), SECRET)
    body, _, signature = good.partition(".")
    for token in ("x.é", f"{body}.{signature[:-1]}é", f"{body}é.{signature}", f" {good}"):
        with pytest.raises(BadRequest):
            decode_cursor(token, SECRET, sort)


def test_comments_and_users_paginate_too(api: Any, client: Any, alice: dict[str, str]) -> None:
    post = api.create_post(alice)
    for n in range(3):
        api.comment(alice, post["id"], f"c{n}")
    page = client.get(f"/api/v1/posts/{post['id']}/comments?per_page=2&cursor=").get_json()
    rest = client.get(
        f"/api/v1/posts/{post['id']}/comments?per_page=2&cursor={page['next_cursor']}"
    ).get_json()
    assert [c["body"] for c in page["items"] + rest["items"]] == ["c0", "c1", "c2"]
    users = client.get("/api/v1/users?per_page=1")
    assert users.get_json()["total"] == 1 and "Link" in users.headers


def bulk_data(app: Any, count: int) -> int:
    """Many users, published posts with tags, and comments on one post; its id."""
    with app.extensions["blog_db"].session_factory() as session:
        users = [
            User(username=f"u{n}", email=f"u{n}@x.org", password_hash="x") for n in range(count)
        ]
        tags = [Tag(name=f"t{n}") for n in range(count)]
        posts = [
            Post(
                author=user,
                title=f"post {n}",
                body="flask",
                status="published",
                tags=[tags[0]] if n == 0 else [tags[0], tags[n]],
            )
            for n, user in enumerate(users)
        ]
        posts[0].comments = [Comment(author=user, body="hi") for user in users]
        session.add_all(posts)
        session.commit()
        return posts[0].id


def count_statements(app: Any, client: Any, url: str, headers: dict[str, str]) -> int:
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = app.extensions["blog_db"].engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(url, headers=headers)
        assert response.status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/posts?per_page={n}",
        "/api/v1/posts?per_page={n}&cursor=",
        "/api/v1/posts?per_page={n}&tag=t0&q=post",
        "/api/v1/posts/{post}/comments?per_page={n}",
        "/api/v1/users?per_page={n}",
        "/api/v1/tags?per_page={n}",
    ],
)
def test_list_endpoints_run_a_constant_number_of_statements(
    api: Any, client: Any, app: Any, alice: dict[str, str], path: str
) -> None:
    post_id = bulk_data(app, count=55)
    # Authenticated requests bypass the server cache, so every call hits the database.
    small = count_statements(app, client, path.format(n=1, post=post_id), alice)
    large = count_statements(app, client, path.format(n=50, post=post_id), alice)
    assert small == large


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/v1/posts", 1),  # the page with authors, tags and the COUNT
        ("/api/v1/posts?cursor=", 1),  # the page (one row more than asked for)
        ("/api/v1/posts?tag=t1&q=post&author_id=2&sort=title", 1),
        ("/api/v1/posts?page=99", 2),  # past the last page: no row holds the COUNT
        ("/api/v1/posts/{post}", 1),  # the post with its author and tags
        # the page, from the post if visible, with the COUNT
        ("/api/v1/posts/{post}/comments", 1),
        # past the last page: is the post visible and its COUNT, in one more
        ("/api/v1/posts/{post}/comments?page=99", 2),
        ("/api/v1/posts/{post}/comments?cursor=", 2),  # is the post visible, the page
    ],
)
def test_anonymous_reads_run_the_fewest_statements(
    framework: str, tmp_path: Path, path: str, expected: int
) -> None:
    app = build_app(framework, make_config(tmp_path, CACHE_TTL=0))  # no generation lookup
    post_id = bulk_data(app, count=30)
    assert count_statements(app, app.test_client(), path.format(post=post_id), {}) == expected
    app.extensions["blog_db"].engine.dispose()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        # The token's user (with the revocation check) comes first, then as anonymous.
        ("/api/v1/posts", 2),
        ("/api/v1/posts/{post}", 2),
        ("/api/v1/posts/{post}/comments", 2),
    ],
)
def test_signed_in_reads_read_the_user_once_and_build_no_orm_session(
    api: Any,
    client: Any,
    app: Any,
    alice: dict[str, str],
    orm_sessions: list[Any],
    path: str,
    expected: int,
) -> None:
    post_id = bulk_data(app, count=30)
    orm_sessions.clear()  # bulk_data's own
    assert count_statements(app, client, path.format(post=post_id), alice) == expected
    assert orm_sessions == []


def test_cursor_round_trip_and_signature() -> None:
    sort = SortSpec.parse("-created_at")
    when = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
    token = encode_cursor(Cursor(str(sort), when, 42), SECRET)
    assert decode_cursor(token, SECRET, sort) == Cursor("-created_at", when, 42)
    with pytest.raises(BadRequest):
        decode_cursor(token, "another secret" * 3, sort)
    with pytest.raises(BadRequest):
        decode_cursor(token, SECRET, SortSpec.parse("created_at"))


def test_link_header_on_first_and_last_page() -> None:
    def url(n: int) -> str:
        return f"/x?page={n}"

    assert link_header(url, 1, 10, 25) == (
        '</x?page=1>; rel="first", </x?page=3>; rel="last", </x?page=2>; rel="next"'
    )
    assert "prev" in link_header(url, 3, 10, 25) and "next" not in link_header(url, 3, 10, 25)
    assert link_header(url, 1, 10, 0) == '</x?page=1>; rel="first", </x?page=1>; rel="last"'
