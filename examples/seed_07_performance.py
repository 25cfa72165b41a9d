"""Seed question 7: making an API fast (N+1, indexes, pagination, caching, background work).

Every claim is measured on the blog API (miniflask, throwaway SQLite), by
counting the SQL statements the engine really executes:

1. N+1: rendering 20 posts with lazy relationships costs one query per author
   and per post's tags; ``joinedload`` + ``selectinload`` make it 2, whatever
   the page size; the blog itself reads rows, posts with their authors and
   tags in 1 (``POST_ROWS`` in blog_api/services/posts.py);
2. indexes: SQLite's plan for the post list uses ``ix_posts_status_created_at``
   (blog_api/models.py); without it, a full scan and a sort;
3. pagination: page numbers with an RFC 8288 ``Link`` header, and keyset
   cursors that cost the same on every page (blog_api/pagination.py);
4. caching: ETag + ``If-None-Match`` gives 304, and the server-side cache
   answers a repeated anonymous GET with no SQL at all (blog_api/hooks.py);
5. background work: a slow job runs after the response, in a worker thread
   that pushes its own app context; the client polls a 202's ``Location``.

Run: ``.venv/bin/python examples/seed_07_performance.py``
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from seed_blog import make_blog_app, sign_up
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session, joinedload, selectinload

from blog_api.models import Post
from blog_api.services.posts import POST_ROWS
from miniflask import Flask, current_app, url_for


@contextmanager
def counting(engine: Any) -> Iterator[list[str]]:
    """Collect the SQL statements ``engine`` executes inside the block."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def seed(client: Any) -> None:
    for author in ("annie", "bobby", "cyril", "dolly", "evans"):
        auth = sign_up(client, author)
        for number in range(4):
            post = {
                "title": f"{author} #{number}",
                "body": "...",
                "tags": [author, "perf"],
                "status": "published",
            }
            client.post("/api/v1/posts", json=post, headers=auth)


def n_plus_one(engine: Any) -> None:
    with Session(engine) as session, counting(engine) as lazy:
        for post in session.scalars(select(Post).limit(20)):
            _ = post.author.username, [tag.name for tag in post.tags]
    eager_loads = (joinedload(Post.author), selectinload(Post.tags))
    with Session(engine) as session, counting(engine) as eager:
        for post in session.scalars(select(Post).limit(20).options(*eager_loads)):
            _ = post.author.username, [tag.name for tag in post.tags]
    with Session(engine) as session, counting(engine) as rows:
        for row in session.execute(POST_ROWS.limit(20)):
            _ = row.author_username, row.tag_list
    print(
        f"1. N+1: lazy loading ran {len(lazy)} statements for 20 posts; "
        f"with joinedload/selectinload: {len(eager)}; as rows with their tags: {len(rows)}"
    )


def index_plan(engine: Any) -> None:
    query = (
        "SELECT id FROM posts {hint} WHERE status = 'published' "
        "ORDER BY created_at DESC, id DESC LIMIT 20"
    )
    with engine.connect() as conn:
        for label, hint in (("with the index", ""), ("NOT INDEXED", "NOT INDEXED")):
            plan = conn.execute(text("EXPLAIN QUERY PLAN " + query.format(hint=hint))).all()
            print(f"2. plan {label:<15}: {' | '.join(row[-1] for row in plan)}")


def pagination(client: Any, engine: Any) -> None:
    for per_page in (1, 20):
        with counting(engine) as statements:
            client.get(f"/api/v1/posts?per_page={per_page}&sort=-created_at")
        print(f"3. GET /posts?per_page={per_page:<2} ran {len(statements)} statements")
    page = client.get("/api/v1/posts?per_page=5&page=2")
    print(f"   Link: {page.headers['Link'][:90]}...")
    first = client.get("/api/v1/posts?per_page=5&cursor=").get_json()
    second = client.get(f"/api/v1/posts?per_page=5&cursor={first['next_cursor']}").get_json()
    print(
        f"   cursor pages: {[p['id'] for p in first['items']]} then "
        f"{[p['id'] for p in second['items']]}"
    )


def caching(client: Any, engine: Any) -> None:
    url = "/api/v1/posts/3"
    with counting(engine) as cold:
        first = client.get(url)
    with counting(engine) as warm:
        again = client.get(url)
    revalidated = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    print(
        f"4. first GET: {first.status_code}, {len(cold)} statements; repeated GET: "
        f"{again.status_code}, {len(warm)} statements (server cache)"
    )
    print(
        f"   If-None-Match: {revalidated.status_code}; Cache-Control: "
        f"{first.headers['Cache-Control']}; Vary: {first.headers['Vary']}"
    )


def background_work() -> None:
    app = Flask(__name__)
    executor = ThreadPoolExecutor(max_workers=2)
    reports: dict[int, str] = {}

    def build_report(report_id: int) -> None:
        with app.app_context():  # a worker thread has no context of its own
            time.sleep(0.2)  # the slow part: e-mail, thumbnails, exports...
            reports[report_id] = f"done by {current_app.name}"

    @app.post("/reports")
    def start_report() -> Any:
        report_id = len(reports) + 1
        reports[report_id] = "pending"
        executor.submit(build_report, report_id)
        return {"id": report_id}, 202, {"Location": url_for("report", report_id=report_id)}

    @app.get("/reports/<int:report_id>")
    def report(report_id: int) -> Any:
        return {"id": report_id, "status": reports[report_id]}

    client = app.test_client()
    started = time.perf_counter()
    accepted = client.post("/reports")
    answered_ms = (time.perf_counter() - started) * 1000
    location = accepted.headers["Location"]
    while client.get(location).get_json()["status"] == "pending":
        time.sleep(0.02)
    print(
        f"5. POST /reports -> {accepted.status_code} in {answered_ms:.0f} ms, "
        f"Location {location}; later: {client.get(location).get_json()['status']}"
    )
    executor.shutdown()


def main() -> None:
    app = make_blog_app()
    client = app.test_client()
    seed(client)
    engine = app.extensions["blog_db"].engine
    n_plus_one(engine)
    index_plan(engine)
    pagination(client, engine)
    caching(client, engine)
    background_work()
    print("performance: eager loading makes the statement count independent of page size")


if __name__ == "__main__":
    main()
