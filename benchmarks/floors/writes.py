"""The write floors: POST /api/v1/posts and PATCH /api/v1/posts/<id>, with a Bearer token.

A write is one transaction with the fewest statements: the post's INSERT (or
an UPDATE guarded by the ``version`` read before it, the blog's optimistic
lock) and the tags' links in one ``INSERT ... SELECT``; only when a name has
no tag yet, the names in one ``executemany`` and the links again. The body is
validated by ``validation.post_fields``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from benchmarks.floors.common import POSTS, Floor, FloorError, Reply, Request
from benchmarks.floors.databases import Database, Row
from benchmarks.floors.reads import post_columns, post_json, visible
from benchmarks.floors.responses import etag, etag_matches, json_body
from benchmarks.floors.tokens import require
from benchmarks.floors.validation import post_fields

_INSERT_POST = (
    "INSERT INTO posts (author_id, title, body, status, created_at, updated_at, version)"
    " VALUES (:author, :title, :body, :status, :now, :now, 1)"
)
_UPDATE_POST = (
    "UPDATE posts SET title = :title, body = :body, status = :status, updated_at = :now,"
    " version = version + 1 WHERE id = :id AND version = :version"
)


def create_post(floor: Floor, request: Request) -> Reply:
    """POST /api/v1/posts: validate, insert post, tags and links, commit; 201."""
    author = require(request.viewer)
    fields = post_fields(json_body(floor, request.environ), partial=False)
    database = floor.database
    now = database.stored_time(datetime.now(UTC))
    tags = sorted(set(fields["tags"]))
    with database.transaction():
        values = {name: fields[name] for name in ("title", "body", "status")}
        post_id = database.insert(_INSERT_POST, {**values, "author": author.id, "now": now})
        _link_tags(database, post_id, tags)
    row = (post_id, fields["title"], fields["body"], fields["status"], author.id)
    data = post_json((*row, author.username, now, now, ",".join(tags)), database.json_time)
    environ = request.environ
    location = (
        f"{environ['wsgi.url_scheme']}://{environ.get('HTTP_HOST') or environ['SERVER_NAME']}"
        f"{environ.get('SCRIPT_NAME', '')}{POSTS}/{post_id}"
    )
    return 201, data, [("Location", location)], "private, no-cache"


def patch_post(floor: Floor, request: Request) -> Reply:
    """PATCH /api/v1/posts/<id>: author or admin, If-Match, optimistic version."""
    actor = require(request.viewer)
    where, params = visible(actor)
    post_id = int(request.match[1])
    database = floor.database
    columns = post_columns(database).replace("SELECT ", "SELECT p.version, ", 1)
    found = database.one(f"{columns} WHERE p.id = :id AND {where}", {**params, "id": post_id})
    if found is None:
        raise FloorError(404, f"Post {post_id} not found")
    version, row = found[0], found[1:]
    if actor.id != row[4] and not actor.is_admin:
        raise FloorError(403, "Only the author or an admin may change this")
    current = post_json(row, database.json_time)
    if_match = request.environ.get("HTTP_IF_MATCH")
    if if_match is not None and not etag_matches(if_match, etag(current), weak=False):
        raise FloorError(412, "The resource changed since you read it (If-Match)")
    changes = post_fields(json_body(floor, request.environ), partial=True)
    data = _update(database, row, version, changes, conditional=if_match is not None)
    return 200, data, [], "private, no-cache"


def _update(
    database: Database, row: Row, version: int, changes: dict[str, Any], conditional: bool
) -> dict[str, Any]:
    """One UPDATE guarded by the version read; tags relinked only when they change."""
    post_id, title, body, status = row[:4]
    values = {
        "id": post_id,
        "version": version,
        "title": changes.get("title", title),
        "body": changes.get("body", body),
        "status": changes.get("status", status),
        "now": database.stored_time(datetime.now(UTC)),
    }
    old_tags = sorted(row[-1].split(",")) if row[-1] else []
    tags = sorted(set(changes["tags"])) if "tags" in changes else old_tags
    with database.transaction():
        if database.run(_UPDATE_POST, values) != 1:
            # Someone else's write came between our SELECT and UPDATE.
            raise FloorError(412 if conditional else 409, "Changed by someone else meanwhile")
        if tags != old_tags:
            database.run("DELETE FROM post_tags WHERE post_id = :id", {"id": post_id})
            _link_tags(database, post_id, tags)
    changed = (post_id, values["title"], values["body"], values["status"], *row[4:7])
    return post_json((*changed, values["now"], ",".join(tags)), database.json_time)


def _link_tags(database: Database, post_id: int, tags: list[str]) -> None:
    """Link the tags with one INSERT ... SELECT; if some have no row yet, insert
    the missing names and link again, leaving the links made alone."""
    if not tags:
        return
    names = {f"tag{n}": name for n, name in enumerate(tags)}
    marks = ", ".join(f":{name}" for name in names)
    link = (
        "INSERT INTO post_tags (post_id, tag_id)"
        f" SELECT :post, id FROM tags WHERE name IN ({marks})"
    )
    if database.run(link, {"post": post_id, **names}) == len(tags):
        return
    database.run_many(
        "INSERT INTO tags (name) VALUES (:name) ON CONFLICT (name) DO NOTHING",
        [{"name": name} for name in tags],
    )
    database.run(f"{link} ON CONFLICT DO NOTHING", {"post": post_id, **names})
