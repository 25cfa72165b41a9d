"""Hand-written floors for the blog API's data path (issue 14).

A floor is what one blog endpoint costs when written by hand, as tightly as
a careful programmer would, with nothing but the standard library's
``sqlite3``, ``json``, ``hashlib``/``hmac``/``base64``/``uuid`` and PyJWT for the
Bearer token. Each floor is a plain WSGI callable that gives the **same body
and headers** as the blog API (``Date`` and ``X-Request-ID`` vary per request,
but are sent), so the blog's time ÷ the floor's time says what the blog's
layers (framework, SQLAlchemy, pydantic, hooks) cost on top of the work itself.

The floors do the blog's checks, not fewer: the ``Host`` against the trusted
hosts, the request id, the Bearer token (signature, lifetime, issuer, claims,
then the revocation list and the user's ``token_version`` in **one** SELECT),
visibility of drafts, query parameters, the JSON body's validation, ``If-Match``
and the optimistic ``version`` column on PATCH, ``If-None-Match`` on GETs.
They do it with the fewest statements (a post's tags come with its row, as a
``group_concat`` sorted in Python; a new post's tags are linked by one
``INSERT ... SELECT``). What they leave out, because the benchmark's requests
never use it: the list filters (``author``, ``tag``, ``q``...) and other sort
orders (refused with a 400), chunked request bodies, and the blog's exact
error wording (errors have the blog's shape and status, with shorter messages).

One ``sqlite3`` connection per ``BlogFloors``, opened with the blog's pragmas,
as SQLAlchemy's pool keeps one per worker: the in-process benchmark calls from
one thread.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode
from wsgiref.handlers import format_date_time

import jwt

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: The blog's SQLite settings (``blog_api/db.py``), set on the floor's connection too.
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    "PRAGMA synchronous=NORMAL",
)
REQUIRED_CLAIMS = ["sub", "exp", "iat", "jti", "iss", "ver"]
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_SUBJECT = re.compile(r"[1-9][0-9]{0,8}")
_TOKEN_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CURSOR = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_TAG = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
_POSTS = "/api/v1/posts"
_ONE_POST = re.compile(r"/api/v1/posts/([1-9][0-9]{0,8})")
_COMMENTS = re.compile(r"/api/v1/posts/([1-9][0-9]{0,8})/comments")
_STATUS_LINES = {
    200: "200 OK",
    201: "201 CREATED",
    304: "304 NOT MODIFIED",
    400: "400 BAD REQUEST",
    401: "401 UNAUTHORIZED",
    403: "403 FORBIDDEN",
    404: "404 NOT FOUND",
    405: "405 METHOD NOT ALLOWED",
    409: "409 CONFLICT",
    412: "412 PRECONDITION FAILED",
    413: "413 REQUEST ENTITY TOO LARGE",
    415: "415 UNSUPPORTED MEDIA TYPE",
    422: "422 UNPROCESSABLE ENTITY",
}
_ERROR_TYPES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    412: "precondition_failed",
    413: "request_entity_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
}


@dataclass(frozen=True)
class FloorSettings:
    """The blog settings the floors need (``blog_api/config.py``'s defaults)."""

    database: Path
    secret_key: str
    issuer: str = "blog_api"
    trusted_hosts: frozenset[str] = frozenset({"localhost", "127.0.0.1"})
    per_page_default: int = 20
    per_page_max: int = 100
    public_max_age: int = 0
    max_content_length: int = 1024 * 1024


class FloorError(Exception):
    """An error answer: the blog's status and error shape, with a short message."""

    def __init__(
        self,
        status: int,
        message: str,
        headers: list[tuple[str, str]] | None = None,
        details: list[dict[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or []
        self.details = details

    def to_dict(self, request_id: str) -> dict[str, Any]:
        """``{"error", "code", "type", ["details"], "request_id"}``, as ``blog_api/errors.py``."""
        body: dict[str, Any] = {"code": self.status, "error": self.message}
        body["type"] = _ERROR_TYPES[self.status]
        if self.details is not None:
            body["details"] = self.details
        body["request_id"] = request_id
        return body


@dataclass(frozen=True)
class Viewer:
    """The user a valid Bearer token speaks for."""

    id: int
    username: str
    is_admin: bool


@dataclass(frozen=True)
class Request:
    """What every floor reads from the environ before its own work."""

    environ: dict[str, Any]
    request_id: str
    viewer: Viewer | None
    match: re.Match[str]


def build_floors(settings: FloorSettings) -> dict[str, WSGIApp]:
    """One WSGI callable per endpoint, sharing one connection.

    Keys: ``list_posts`` (page and cursor modes), ``get_post``,
    ``list_comments``, ``create_post``, ``patch_post``.
    """
    floors = BlogFloors(settings)
    return {
        "list_posts": floors.endpoint("GET", re.compile(re.escape(_POSTS)), floors.list_posts),
        "get_post": floors.endpoint("GET", _ONE_POST, floors.get_post),
        "list_comments": floors.endpoint("GET", _COMMENTS, floors.list_comments),
        "create_post": floors.endpoint("POST", re.compile(re.escape(_POSTS)), floors.create_post),
        "patch_post": floors.endpoint("PATCH", _ONE_POST, floors.patch_post),
    }


#: What a view returns: status, JSON data, headers after Content-Length, Cache-Control.
Reply = tuple[int, Any, list[tuple[str, str]], str]


class BlogFloors:
    """The five floors and what they share: settings, connection, auth, responses."""

    def __init__(self, settings: FloorSettings) -> None:
        self.settings = settings
        # isolation_level=None: no implicit BEGIN; writes open their own
        # transaction, reads run outside one, as under SQLAlchemy's pysqlite.
        self.connection = sqlite3.connect(settings.database, isolation_level=None)
        for pragma in PRAGMAS:
            self.connection.execute(pragma)

    def endpoint(
        self, method: str, path: re.Pattern[str], view: Callable[[Request], Reply]
    ) -> WSGIApp:
        """Wrap ``view`` in what every endpoint does: host, route, token, errors, headers."""

        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            request_id = environ.get("HTTP_X_REQUEST_ID", "")
            if not _REQUEST_ID.fullmatch(request_id):
                request_id = uuid.uuid4().hex
            try:
                match = self._route(environ, method, path)
                viewer = self._authenticate(environ)
                status, data, headers, cache = view(Request(environ, request_id, viewer, match))
            except FloorError as e:
                body = e.to_dict(request_id)
                return _respond(environ, start_response, e.status, body, e.headers, "", request_id)
            return _respond(environ, start_response, status, data, headers, cache, request_id)

        return app

    def _route(self, environ: dict[str, Any], method: str, path: re.Pattern[str]) -> re.Match[str]:
        """The trusted-host check (Flask's ``TRUSTED_HOSTS``), then path and method."""
        host = environ.get("HTTP_HOST") or environ["SERVER_NAME"]
        name, _, port = host.rpartition(":")
        if not (name and port.isdigit()):  # no port (an IPv6 address needs no support here)
            name = host
        if name.lower() not in self.settings.trusted_hosts:
            raise FloorError(400, "The host name is not trusted.")
        match = path.fullmatch(environ["PATH_INFO"])
        if match is None:
            raise FloorError(404, "The requested URL was not found on the server.")
        if environ["REQUEST_METHOD"] != method:
            raise FloorError(405, "The method is not allowed for the requested URL.")
        return match

    # -- authentication -------------------------------------------------------------------

    def _authenticate(self, environ: dict[str, Any]) -> Viewer | None:
        """A Bearer token's user: PyJWT's checks, claim shapes, then one SELECT."""
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        try:
            claims = jwt.decode(
                token.strip(),
                self.settings.secret_key,
                algorithms=["HS256"],
                issuer=self.settings.issuer,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError:
            raise _invalid_token("The access token expired") from None
        except (jwt.InvalidTokenError, RecursionError):
            raise _invalid_token("The access token is not valid") from None
        if claims.get("typ") != "access" or not _claims_well_formed(claims):
            raise _invalid_token("The access token is malformed")
        return self._token_user(claims)

    def _token_user(self, claims: dict[str, Any]) -> Viewer:
        """Revocation list, the user and its token version: one statement for all three."""
        revoked, user_id, username, is_admin, version = self.connection.execute(
            "SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ?),"
            " u.id, u.username, u.is_admin, u.token_version"
            " FROM (SELECT 1) LEFT JOIN users u ON u.id = ?",
            (claims["jti"], int(claims["sub"])),
        ).fetchone()
        if revoked:
            raise _invalid_token("The access token was revoked")
        if user_id is None:
            raise _invalid_token("The token's user no longer exists")
        if version != claims["ver"]:
            raise _invalid_token("The access token was revoked by a password change")
        return Viewer(user_id, username, bool(is_admin))

    # -- reads ----------------------------------------------------------------------------

    def list_posts(self, request: Request) -> Reply:
        """GET /api/v1/posts: newest first, page numbers or a cursor."""
        visible, params = _visible(request.viewer)
        listing = Listing(
            path=_POSTS,
            sort="-created_at",
            count_sql=f"SELECT 1, count(*) FROM posts p WHERE {visible}",
            select_sql=f"{_POST_COLUMNS} WHERE {visible}",
            alias="p",
            time_column=6,
            render=_post_json,
        )
        return self._list(request, listing, params, cache=self._public(request.viewer))

    def get_post(self, request: Request) -> Reply:
        """GET /api/v1/posts/<id>: one SELECT, tags included."""
        visible, params = _visible(request.viewer)
        row = self.connection.execute(
            f"{_POST_COLUMNS} WHERE p.id = :id AND {visible}",
            {**params, "id": int(request.match[1])},
        ).fetchone()
        if row is None:
            raise FloorError(404, f"Post {request.match[1]} not found")
        cache = self._public(request.viewer) if row[3] == "published" else "private, no-cache"
        return 200, _post_json(row), [], cache

    def list_comments(self, request: Request) -> Reply:
        """GET /api/v1/posts/<id>/comments: oldest first; the post's visibility and the
        comment count in one statement, the page in a second."""
        visible, params = _visible(request.viewer)
        params = {**params, "post": int(request.match[1])}
        exists = f"SELECT 1 FROM posts p WHERE p.id = :post AND {visible}"
        listing = Listing(
            path=request.environ["PATH_INFO"],
            sort="created_at",
            count_sql=f"SELECT ({exists}), (SELECT count(*) FROM comments WHERE post_id = :post)",
            select_sql=f"{_COMMENT_COLUMNS} WHERE c.post_id = :post",
            alias="c",
            time_column=5,
            render=_comment_json,
            exists_sql=exists,
        )
        return self._list(request, listing, params, cache=self._public(request.viewer))

    def _public(self, viewer: Viewer | None) -> str:
        if viewer is None:
            return f"public, max-age={self.settings.public_max_age}"
        return "private, no-cache"

    def _list(
        self, request: Request, listing: Listing, params: dict[str, Any], cache: str
    ) -> Reply:
        """Page mode (a count, the page) or keyset mode (one extra row tells of a next page)."""
        args = self._list_args(request.environ)
        per_page = args.get("per_page", self.settings.per_page_default)
        if "cursor" in args:
            return self._keyset(listing, params, args, per_page, cache)
        page = args.get("page", 1)
        # Posts: (1, total). Comments: (1 if the post is visible, total).
        visible, total = self.connection.execute(listing.count_sql, params).fetchone()
        if visible is None:
            raise FloorError(404, f"Post {params['post']} not found")
        rows = self.connection.execute(
            f"{listing.select_sql}{listing.order} LIMIT :limit OFFSET :offset",
            {**params, "limit": per_page, "offset": (page - 1) * per_page},
        ).fetchall()
        data = {
            "items": [listing.render(row) for row in rows],
            "page": page,
            "per_page": per_page,
            "total": total,
        }
        link = _page_links(listing.path, args, page, per_page, total)
        return 200, data, [("Link", link)], cache

    def _keyset(
        self,
        listing: Listing,
        params: dict[str, Any],
        args: dict[str, Any],
        per_page: int,
        cache: str,
    ) -> Reply:
        """Keyset mode: the rows after the cursor's (time, id), one more than a page."""
        if (
            listing.exists_sql
            and self.connection.execute(listing.exists_sql, params).fetchone() is None
        ):
            raise FloorError(404, f"Post {params['post']} not found")
        sql, params = listing.seek(self._decode_cursor(args["cursor"], listing.sort), params)
        rows = self.connection.execute(sql, {**params, "limit": per_page + 1}).fetchall()
        next_cursor = None
        if len(rows) > per_page:
            rows = rows[:per_page]
            next_cursor = self._encode_cursor(listing.sort, rows[-1], listing.time_column)
        data = {"items": [listing.render(row) for row in rows], "next_cursor": next_cursor}
        headers = []
        if next_cursor is not None:
            query = urlencode({**args, "cursor": next_cursor})
            headers.append(("Link", f'<{listing.path}?{query}>; rel="next"'))
        return 200, data, headers, cache

    def _list_args(self, environ: dict[str, Any]) -> dict[str, Any]:
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
        if args.get("per_page", 0) > self.settings.per_page_max:
            raise FloorError(400, "per_page is too large")
        return args

    def _encode_cursor(self, sort: str, row: tuple[Any, ...], time_column: int) -> str:
        """As ``blog_api/pagination.py``: base64url JSON, a dot, a 16-byte HMAC-SHA256."""
        # The sort value as datetime.isoformat() writes an aware time.
        moment = _json_time(row[time_column])[:-1] + "+00:00"
        payload = json.dumps({"s": sort, "v": moment, "i": row[0]}, separators=(",", ":"))
        body = base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode()
        return f"{body}.{self._sign(body)}"

    def _decode_cursor(self, token: str, sort: str) -> tuple[str, int] | None:
        """The (stored time, id) a cursor names; ``None`` for ``?cursor=`` (the start)."""
        if token == "":
            return None
        if not _CURSOR.fullmatch(token):
            raise FloorError(400, "Invalid cursor")
        body, _, signature = token.partition(".")
        if not hmac.compare_digest(signature.encode(), self._sign(body).encode()):
            raise FloorError(400, "Invalid cursor")
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            moment = datetime.fromisoformat(data["v"])
        except (ValueError, KeyError, TypeError):
            raise FloorError(400, "Invalid cursor") from None
        if data.get("s") != sort:
            raise FloorError(400, "Invalid cursor: made for another sort order")
        return _stored_time(moment), int(data["i"])

    def _sign(self, body: str) -> str:
        key = self.settings.secret_key.encode()
        digest = hmac.new(key, body.encode(), hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    # -- writes ---------------------------------------------------------------------------

    def create_post(self, request: Request) -> Reply:
        """POST /api/v1/posts: validate, insert post, tags and links, commit; 201."""
        author = _require(request.viewer)
        fields = _post_fields(self._json_body(request.environ), partial=False)
        now = _stored_time(datetime.now(UTC))
        tags = sorted(set(fields["tags"]))
        with self._transaction():
            post_id = self.connection.execute(
                "INSERT INTO posts (author_id, title, body, status, created_at, updated_at,"
                " version) VALUES (?, ?, ?, ?, ?, ?, 1)",
                (author.id, fields["title"], fields["body"], fields["status"], now, now),
            ).lastrowid
            self._link_tags(post_id, tags)
        row = (post_id, fields["title"], fields["body"], fields["status"], author.id)
        data = _post_json((*row, author.username, now, now, ",".join(tags)))
        environ = request.environ
        location = (
            f"{environ['wsgi.url_scheme']}://{environ.get('HTTP_HOST') or environ['SERVER_NAME']}"
            f"{environ.get('SCRIPT_NAME', '')}{_POSTS}/{post_id}"
        )
        return 201, data, [("Location", location)], "private, no-cache"

    def patch_post(self, request: Request) -> Reply:
        """PATCH /api/v1/posts/<id>: author or admin, If-Match, optimistic version."""
        actor = _require(request.viewer)
        visible, params = _visible(actor)
        post_id = int(request.match[1])
        row = self.connection.execute(
            f"{_POST_COLUMNS.replace('SELECT ', 'SELECT p.version, ', 1)}"
            f" WHERE p.id = :id AND {visible}",
            {**params, "id": post_id},
        ).fetchone()
        if row is None:
            raise FloorError(404, f"Post {post_id} not found")
        version, row = row[0], row[1:]
        if actor.id != row[4] and not actor.is_admin:
            raise FloorError(403, "Only the author or an admin may change this")
        current = _post_json(row)
        if_match = request.environ.get("HTTP_IF_MATCH")
        if if_match is not None and not _etag_matches(if_match, _etag(current), weak=False):
            raise FloorError(412, "The resource changed since you read it (If-Match)")
        changes = _post_fields(self._json_body(request.environ), partial=True)
        data = self._update(row, version, changes, conditional=if_match is not None)
        return 200, data, [], "private, no-cache"

    def _update(
        self, row: tuple[Any, ...], version: int, changes: dict[str, Any], conditional: bool
    ) -> dict[str, Any]:
        """One UPDATE guarded by the version read; tags relinked only when they change."""
        post_id, title, body, status = row[:4]
        title, body = changes.get("title", title), changes.get("body", body)
        status = changes.get("status", status)
        old_tags = sorted(row[-1].split(",")) if row[-1] else []
        tags = sorted(set(changes["tags"])) if "tags" in changes else old_tags
        now = _stored_time(datetime.now(UTC))
        with self._transaction():
            updated = self.connection.execute(
                "UPDATE posts SET title = ?, body = ?, status = ?, updated_at = ?,"
                " version = version + 1 WHERE id = ? AND version = ?",
                (title, body, status, now, post_id, version),
            ).rowcount
            if updated != 1:
                # Someone else's write came between our SELECT and UPDATE.
                raise FloorError(412 if conditional else 409, "Changed by someone else meanwhile")
            if tags != old_tags:
                self.connection.execute("DELETE FROM post_tags WHERE post_id = ?", (post_id,))
                self._link_tags(post_id, tags)
        return _post_json((post_id, title, body, status, *row[4:6], row[6], now, ",".join(tags)))

    def _link_tags(self, post_id: int | None, tags: list[str]) -> None:
        """Insert the missing tag names, then link them all with one INSERT ... SELECT."""
        if not tags:
            return
        self.connection.executemany(
            "INSERT INTO tags (name) VALUES (?) ON CONFLICT (name) DO NOTHING",
            [(name,) for name in tags],
        )
        marks = ", ".join("?" * len(tags))
        self.connection.execute(
            "INSERT INTO post_tags (post_id, tag_id)"
            f" SELECT ?, id FROM tags WHERE name IN ({marks})",
            (post_id, *tags),
        )

    def _transaction(self) -> Transaction:
        return Transaction(self.connection)

    def _json_body(self, environ: dict[str, Any]) -> Any:
        """The request's JSON object: 415, 413 and 400 as the blog answers them."""
        mimetype = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
        if mimetype != "application/json":
            raise FloorError(415, "The request body must be application/json")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > self.settings.max_content_length:
            raise FloorError(413, "The data value transmitted exceeds the capacity limit.")
        try:
            data = json.loads(environ["wsgi.input"].read(length))
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):
            raise FloorError(400, "The request body must be a JSON object")
        return data


class Transaction:
    """``BEGIN`` ... ``COMMIT``, or ``ROLLBACK`` when the block raises."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __enter__(self) -> None:
        self.connection.execute("BEGIN")

    def __exit__(self, kind: Any, error: Any, traceback: Any) -> None:
        self.connection.execute("ROLLBACK" if kind else "COMMIT")


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
    render: Callable[[Any], dict[str, Any]]
    #: For comments: the SELECT that finds the post if the viewer may see it.
    exists_sql: str = ""

    @property
    def direction(self) -> str:
        return "DESC" if self.sort.startswith("-") else "ASC"

    def seek(
        self, after: tuple[str, int] | None, params: dict[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """The keyset SELECT: rows after ``after`` (time, id) in the sort order."""
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


#: A post's columns, its author's name and its tag names (unsorted, comma-joined:
#: tag names cannot hold a comma), in the order ``_post_json`` reads them.
_POST_COLUMNS = (
    "SELECT p.id, p.title, p.body, p.status, p.author_id, u.username, p.created_at,"
    " p.updated_at, (SELECT group_concat(t.name) FROM post_tags pt JOIN tags t"
    " ON t.id = pt.tag_id WHERE pt.post_id = p.id)"
    " FROM posts p JOIN users u ON u.id = p.author_id"
)
_COMMENT_COLUMNS = (
    "SELECT c.id, c.post_id, c.body, c.author_id, u.username, c.created_at, c.updated_at"
    " FROM comments c JOIN users u ON u.id = c.author_id"
)


def _visible(viewer: Viewer | None) -> tuple[str, dict[str, Any]]:
    """Published posts, plus the viewer's own drafts."""
    if viewer is None:
        return "p.status = 'published'", {}
    return "(p.status = 'published' OR p.author_id = :viewer)", {"viewer": viewer.id}


def _post_json(row: tuple[Any, ...]) -> dict[str, Any]:
    """A row of ``_POST_COLUMNS`` as the API's post object."""
    return {
        "id": row[0],
        "title": row[1],
        "body": row[2],
        "tags": sorted(row[8].split(",")) if row[8] else [],
        "status": row[3],
        "author": {"id": row[4], "username": row[5]},
        "created_at": _json_time(row[6]),
        "updated_at": _json_time(row[7]),
    }


def _comment_json(row: tuple[Any, ...]) -> dict[str, Any]:
    """A row of ``_COMMENT_COLUMNS`` as the API's comment object."""
    return {
        "id": row[0],
        "post_id": row[1],
        "body": row[2],
        "author": {"id": row[3], "username": row[4]},
        "created_at": _json_time(row[5]),
        "updated_at": _json_time(row[6]),
    }


def _json_time(stored: str) -> str:
    """``2026-12-02 15:07:05.123456`` (SQLAlchemy's SQLite text) -> ``...T15:07:05.123456Z``.

    ``datetime.isoformat`` leaves out a zero fraction, and so does the blog.
    """
    return stored.removesuffix(".000000").replace(" ", "T") + "Z"


def _stored_time(moment: datetime) -> str:
    """A time as SQLAlchemy stores it in SQLite: naive UTC, always six decimals."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def _positive_int(value: str, maximum: int | None) -> int:
    try:
        number = int(value)
    except ValueError:
        raise FloorError(400, "Invalid query parameters") from None
    if number < 1 or (maximum is not None and number > maximum):
        raise FloorError(400, "Invalid query parameters")
    return number


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


def _require(viewer: Viewer | None) -> Viewer:
    if viewer is None:
        raise FloorError(
            401,
            "This endpoint needs a Bearer access token",
            [("WWW-Authenticate", 'Bearer realm="blog_api"')],
        )
    return viewer


def _invalid_token(message: str) -> FloorError:
    challenge = f'Bearer realm="blog_api", error="invalid_token", error_description="{message}"'
    return FloorError(401, message, [("WWW-Authenticate", challenge)])


def _claims_well_formed(claims: dict[str, Any]) -> bool:
    """``sub``, ``jti`` and ``ver`` of shapes the database can take (``blog_api/tokens.py``)."""
    sub, jti, version = claims["sub"], claims["jti"], claims["ver"]
    return (
        isinstance(sub, str)
        and _SUBJECT.fullmatch(sub) is not None
        and isinstance(jti, str)
        and _TOKEN_ID.fullmatch(jti) is not None
        and type(version) is int
        and 0 <= version <= 2**31 - 1
    )


# -- validation of a post's JSON body -------------------------------------------------------


def _post_fields(data: dict[str, Any], partial: bool) -> dict[str, Any]:
    """PostIn (all of it, with defaults) or PostPatch (a subset, no nulls), validated.

    The rules of ``blog_api/schemas.py``: strict types, no unknown fields, no
    NUL character, title stripped to 1-200 characters, body 1-100,000, at most
    10 tags, each stripped, lower-cased and matching ``_TAG``, status draft or
    published.
    """
    unknown = sorted(set(data) - {"title", "body", "tags", "status"})
    if unknown:
        raise _invalid(unknown[0], "Extra inputs are not permitted")
    fields: dict[str, Any] = {} if partial else {"tags": [], "status": "draft"}
    for name, value in data.items():
        if value is None and partial:
            raise _invalid(name, "may not be null; leave the field out to keep it")
        fields[name] = _FIELD_CHECKS[name](value)
    for name in ("title", "body"):
        if not partial and name not in fields:
            raise _invalid(name, "Field required")
    return fields


def _title(value: Any) -> str:
    title = _text(value, "title").strip()
    if not 1 <= len(title) <= 200:
        raise _invalid("title", "must have 1 to 200 characters")
    return title


def _body(value: Any) -> str:
    body = _text(value, "body")
    if not 1 <= len(body) <= 100_000:
        raise _invalid("body", "must have 1 to 100000 characters")
    return body


def _tags(value: Any) -> list[str]:
    if type(value) is not list or len(value) > 10:
        raise _invalid("tags", "must be a list of at most 10 tags")
    names = [_text(item, "tags").strip().lower() for item in value]
    for name in names:
        if not _TAG.fullmatch(name):
            raise _invalid("tags", f"String should match pattern '^{_TAG.pattern}$'")
    return names


def _status(value: Any) -> str:
    if value not in ("draft", "published") or type(value) is not str:
        raise _invalid("status", "Input should be 'draft' or 'published'")
    return str(value)


def _text(value: Any, field: str) -> str:
    if type(value) is not str:
        raise _invalid(field, "Input should be a valid string")
    if "\x00" in value:
        raise _invalid(field, "may not contain the NUL character (U+0000)")
    return value


_FIELD_CHECKS: dict[str, Callable[[Any], Any]] = {
    "title": _title,
    "body": _body,
    "tags": _tags,
    "status": _status,
}


def _invalid(field: str, message: str) -> FloorError:
    details = [{"field": field, "message": message, "type": "value_error"}]
    return FloorError(422, "Invalid request body", details=details)


# -- responses ------------------------------------------------------------------------------


def _etag(data: Any) -> str:
    """``blog_api/etags.py``: the first 32 hex digits of the SHA-256 of canonical JSON."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _etag_matches(header: str, etag: str, weak: bool) -> bool:
    """Whether ``If-Match`` (strong comparison) or ``If-None-Match`` (weak) names ``etag``."""
    for candidate in header.split(","):
        candidate = candidate.strip()
        if candidate == "*":
            return True
        if candidate.startswith("W/"):
            if not weak:
                continue
            candidate = candidate[2:]
        if candidate.strip('"') == etag:
            return True
    return False


def _respond(
    environ: dict[str, Any],
    start_response: Callable[..., Any],
    status: int,
    data: Any,
    headers: list[tuple[str, str]],
    cache: str,
    request_id: str,
) -> list[bytes]:
    """The blog's JSON response: headers in its order; GETs conditional on ``If-None-Match``.

    ``cache`` empty means an error answer, which has neither ETag nor Cache-Control.
    """
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    body = text.encode() + b"\n"
    head = [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *headers]
    if cache:
        etag = hashlib.sha256(text.encode()).hexdigest()[:32]
        head += [("ETag", f'"{etag}"'), ("Cache-Control", cache)]
        if environ["REQUEST_METHOD"] == "GET":
            head += [("Vary", "Authorization"), ("Date", format_date_time(time.time()))]
            if_none_match = environ.get("HTTP_IF_NONE_MATCH")
            if if_none_match is not None and _etag_matches(if_none_match, etag, weak=True):
                status, body, head = 304, b"", head[2:]  # RFC 9110 §15.4.5: no content headers
    head += [("X-Request-ID", request_id), ("X-Content-Type-Options", "nosniff")]
    start_response(_STATUS_LINES[status], head)
    return [body]
