"""The read floors: GET /api/v1/posts, /posts/<id> and /posts/<id>/comments.

Each is the fewest statements that answer: a post's tags come with its row, as
the database's comma-joining aggregate sorted in Python; a page of posts is
one SELECT with the count as its last column (the count alone past the last
page); a page of comments is one SELECT too, from the post if the viewer may
see it (whether they may, with the count, past the last page); a keyset page is
one SELECT of one row more than a page (the extra row says there is a next
page). Cursors are signed and read as ``blog_api/pagination.py`` signs and
reads them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from benchmarks.floors.common import POSTS, Floor, FloorError, Reply, Request, Viewer
from benchmarks.floors.databases import Database, Params, Row

_CURSOR = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
JSONTime = Callable[[Any], str]


def list_posts(floor: Floor, request: Request) -> Reply:
    """GET /api/v1/posts: newest first, page numbers or a cursor."""
    where, params = visible(request.viewer)
    count = f"SELECT count(*) FROM posts p WHERE {where}"
    listing = Listing(
        path=POSTS,
        sort="-created_at",
        count_sql=f"SELECT 1, ({count})",
        select_sql=f"{post_columns(floor.database)} WHERE {where}",
        counted_select_sql=f"{post_columns(floor.database, f'({count})')} WHERE {where}",
        alias="p",
        time_column=6,
        render=post_json,
    )
    return _list(floor, request, listing, params, cache=_public(floor, request.viewer))


def get_post(floor: Floor, request: Request) -> Reply:
    """GET /api/v1/posts/<id>: one SELECT, tags included."""
    where, params = visible(request.viewer)
    row = floor.database.one(
        f"{post_columns(floor.database)} WHERE p.id = :id AND {where}",
        {**params, "id": int(request.match[1])},
    )
    if row is None:
        raise FloorError(404, f"Post {request.match[1]} not found")
    cache = _public(floor, request.viewer) if row[3] == "published" else "private, no-cache"
    return 200, post_json(row, floor.database.json_time), [], cache


def list_comments(floor: Floor, request: Request) -> Reply:
    """GET /api/v1/posts/<id>/comments: oldest first; a page and the comment count in
    one statement, which reads from the post only if the viewer may see it (when the
    page has no row, whether they may and the count in a second)."""
    where, params = visible(request.viewer)
    params = {**params, "post": int(request.match[1])}
    exists = f"SELECT 1 FROM posts p WHERE p.id = :post AND {where}"
    count = "SELECT count(*) FROM comments WHERE post_id = :post"
    listing = Listing(
        path=request.environ["PATH_INFO"],
        sort="created_at",
        count_sql=f"SELECT ({exists}), ({count})",
        select_sql=f"{comment_columns()} WHERE c.post_id = :post",
        counted_select_sql=(
            f"{comment_columns(f'({count})')} JOIN posts p ON p.id = c.post_id"
            f" WHERE c.post_id = :post AND {where}"
        ),
        alias="c",
        time_column=5,
        render=_comment_json,
        exists_sql=exists,
    )
    return _list(floor, request, listing, params, cache=_public(floor, request.viewer))


def _public(floor: Floor, viewer: Viewer | None) -> str:
    """The blog's Cache-Control: anonymous answers may be shared, a viewer's may not."""
    if viewer is None:
        return f"public, max-age={floor.settings.public_max_age}"
    return "private, no-cache"


@dataclass(frozen=True)
class Listing:
    """What differs between the two lists: path, sort, SQL, how a row becomes JSON."""

    path: str
    sort: str
    count_sql: str
    select_sql: str
    alias: str
    #: Where the sort column (``created_at``) is in a row of ``select_sql``.
    time_column: int
    render: Callable[[Row, JSONTime], dict[str, Any]]
    #: For comments: the SELECT that finds the post if the viewer may see it.
    exists_sql: str = ""
    #: ``select_sql`` with the total as one more column, so a page is one
    #: statement (the COUNT runs alone only when the page has no row).
    counted_select_sql: str = ""

    @property
    def direction(self) -> str:
        """``DESC`` for a sort such as ``-created_at``, else ``ASC``."""
        return "DESC" if self.sort.startswith("-") else "ASC"

    def seek(self, after: tuple[Any, int] | None, params: Params) -> tuple[str, Params]:
        """The keyset SELECT: rows after ``after`` (stored time, id) in the sort order."""
        a, direction = self.alias, self.direction
        sql = self.select_sql
        if after is not None:
            than = "<" if direction == "DESC" else ">"
            sql += (
                f" AND ({a}.created_at {than} :after OR"
                f" ({a}.created_at = :after AND {a}.id {than} :after_id))"
            )
            params = {**params, "after": after[0], "after_id": after[1]}
        return f"{sql}{self.order} LIMIT :limit", params

    @property
    def order(self) -> str:
        """By the sort column, then id: a total order, so no row is skipped or repeated."""
        return (
            f" ORDER BY {self.alias}.created_at {self.direction}, {self.alias}.id {self.direction}"
        )


def _list(floor: Floor, request: Request, listing: Listing, params: Params, cache: str) -> Reply:
    """Page mode (a count, the page) or keyset mode (one extra row tells of a next page)."""
    args = _list_args(floor, request.environ)
    per_page = args.get("per_page", floor.settings.per_page_default)
    if "cursor" in args:
        return _keyset(floor, listing, params, args, per_page, cache)
    page = args.get("page", 1)
    database = floor.database
    paged = {**params, "limit": per_page, "offset": (page - 1) * per_page}
    if listing.counted_select_sql:
        rows = database.all(f"{listing.counted_select_sql}{listing.order} {_PAGE}", paged)
        total = rows[0][-1] if rows else _count(database, listing, params)
    else:
        total = _count(database, listing, params)
        rows = database.all(f"{listing.select_sql}{listing.order} {_PAGE}", paged)
    data = {
        "items": [listing.render(row, database.json_time) for row in rows],
        "page": page,
        "per_page": per_page,
        "total": total,
    }
    link = _page_links(listing.path, args, page, per_page, total)
    return 200, data, [("Link", link)], cache


def _count(database: Database, listing: Listing, params: Params) -> int:
    """The list's total by its count statement; 404 for comments of a post not to be seen."""
    # Posts: (1, total). Comments: (1 if the post is visible, total).
    counted = database.one(listing.count_sql, params)
    assert counted is not None, "a SELECT without FROM gives one row"
    if counted[0] is None:
        raise FloorError(404, f"Post {params['post']} not found")
    total: int = counted[1]
    return total


def _keyset(
    floor: Floor, listing: Listing, params: Params, args: dict[str, Any], per_page: int, cache: str
) -> Reply:
    """Keyset mode: the rows after the cursor's (time, id), one more than a page."""
    database = floor.database
    if listing.exists_sql and database.one(listing.exists_sql, params) is None:
        raise FloorError(404, f"Post {params['post']} not found")
    after = _decode_cursor(floor, args["cursor"], listing.sort)
    sql, params = listing.seek(after, params)
    rows = database.all(sql, {**params, "limit": per_page + 1})
    next_cursor = None
    if len(rows) > per_page:
        rows = rows[:per_page]
        next_cursor = _encode_cursor(floor, listing.sort, rows[-1], listing.time_column)
    items = [listing.render(row, database.json_time) for row in rows]
    data = {"items": items, "next_cursor": next_cursor}
    headers = []
    if next_cursor is not None:
        query = urlencode({**args, "cursor": next_cursor})
        headers.append(("Link", f'<{listing.path}?{query}>; rel="next"'))
    return 200, data, headers, cache


def _list_args(floor: Floor, environ: dict[str, Any]) -> dict[str, Any]:
    """``page``, ``per_page`` and ``cursor``, in the order sent; anything else is a 400."""
    args: dict[str, Any] = {}
    for name, value in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True):
        if name in args:
            continue  # the first value wins, as request.args.get
        if name == "cursor":
            if len(value) > 512 or "\x00" in value:
                raise FloorError(400, "Invalid query parameters")
            args[name] = value
        elif name in ("page", "per_page"):
            args[name] = _positive_int(value, 100_000 if name == "page" else None)
        else:
            raise FloorError(400, f"The floor does not support the parameter {name!r}")
    if args.get("per_page", 0) > floor.settings.per_page_max:
        raise FloorError(400, "per_page is too large")
    return args


def _positive_int(value: str, maximum: int | None) -> int:
    try:
        number = int(value)
    except ValueError:
        raise FloorError(400, "Invalid query parameters") from None
    if number < 1 or (maximum is not None and number > maximum):
        raise FloorError(400, "Invalid query parameters")
    return number


def _encode_cursor(floor: Floor, sort: str, row: Row, time_column: int) -> str:
    """As ``blog_api/pagination.py``: base64url JSON, a dot, a 16-byte HMAC-SHA256."""
    # The sort value as datetime.isoformat() writes an aware time.
    moment = floor.database.json_time(row[time_column])[:-1] + "+00:00"
    payload = json.dumps({"s": sort, "v": moment, "i": row[0]}, separators=(",", ":"))
    body = base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode()
    return f"{body}.{_sign(floor, body)}"


def _decode_cursor(floor: Floor, token: str, sort: str) -> tuple[Any, int] | None:
    """The (stored time, id) a cursor names; ``None`` for ``?cursor=`` (the start)."""
    if token == "":
        return None
    if not _CURSOR.fullmatch(token):
        raise FloorError(400, "Invalid cursor")
    body, _, signature = token.partition(".")
    if not hmac.compare_digest(signature.encode(), _sign(floor, body).encode()):
        raise FloorError(400, "Invalid cursor")
    try:
        data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        moment = datetime.fromisoformat(data["v"])
    except (ValueError, KeyError, TypeError):
        raise FloorError(400, "Invalid cursor") from None
    if data.get("s") != sort:
        raise FloorError(400, "Invalid cursor: made for another sort order")
    return floor.database.stored_time(moment), int(data["i"])


def _sign(floor: Floor, body: str) -> str:
    key = floor.settings.secret_key.encode()
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _page_links(path: str, args: dict[str, Any], page: int, per_page: int, total: int) -> str:
    """RFC 8288 first, last, prev, next, the request's other parameters kept in order."""
    last = max(1, -(-total // per_page))
    numbers = {"first": 1, "last": last}
    if page > 1:
        numbers["prev"] = min(page - 1, last)
    if page < last:
        numbers["next"] = page + 1
    return ", ".join(
        f'<{path}?{urlencode({**args, "page": number, "per_page": per_page})}>; rel="{rel}"'
        for rel, number in numbers.items()
    )


def post_columns(database: Database, last: str = "") -> str:
    """A post's columns, its author's name and its tag names, in ``post_json``'s order.

    The tag names come unsorted and comma-joined (a tag name cannot hold a comma).
    ``last``, if given, is one more column after them (a page's total).
    """
    return (
        "SELECT p.id, p.title, p.body, p.status, p.author_id, u.username, p.created_at,"
        f" p.updated_at, (SELECT {database.join_tag_names} FROM post_tags pt JOIN tags t"
        f" ON t.id = pt.tag_id WHERE pt.post_id = p.id){', ' + last if last else ''}"
        " FROM posts p JOIN users u ON u.id = p.author_id"
    )


_PAGE = "LIMIT :limit OFFSET :offset"


def comment_columns(last: str = "") -> str:
    """SELECT ... FROM of a comment with its author's name; ``last``, if given, is
    one more column (a page's total)."""
    return (
        "SELECT c.id, c.post_id, c.body, c.author_id, u.username, c.created_at, c.updated_at"
        f"{', ' + last if last else ''} FROM comments c JOIN users u ON u.id = c.author_id"
    )


def visible(viewer: Viewer | None) -> tuple[str, Params]:
    """Published posts, plus the viewer's own drafts."""
    if viewer is None:
        return "p.status = 'published'", {}
    return "(p.status = 'published' OR p.author_id = :viewer)", {"viewer": viewer.id}


def post_json(row: Row, json_time: JSONTime) -> dict[str, Any]:
    """A row of ``post_columns`` as the API's post object."""
    return {
        "id": row[0],
        "title": row[1],
        "body": row[2],
        "tags": sorted(row[8].split(",")) if row[8] else [],
        "status": row[3],
        "author": {"id": row[4], "username": row[5]},
        "created_at": json_time(row[6]),
        "updated_at": json_time(row[7]),
    }


def _comment_json(row: Row, json_time: JSONTime) -> dict[str, Any]:
    """A row of ``comment_columns`` as the API's comment object."""
    return {
        "id": row[0],
        "post_id": row[1],
        "body": row[2],
        "author": {"id": row[3], "username": row[4]},
        "created_at": json_time(row[5]),
        "updated_at": json_time(row[6]),
    }
