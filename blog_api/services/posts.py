"""Posts: visibility rules, filters, creation, replacement, patching, deletion.

Posts are read and written as rows with SQLAlchemy Core, on the request's
connection (``db.Database.connection``): a post with its author's name and its
tags is one SELECT (:data:`POST_ROWS`), and each row becomes the API's
JSON-ready dict directly; a new post is one INSERT, plus one for its tags when
they all exist (three when a name is new, :func:`_link_tags`); a change is
one UPDATE that checks the version read (optimistic locking, as the ORM's
``version_id_col`` does). Loading ``Post`` entities for a page of 20 posts
cost about five times the SQL itself (identity map, loader strategies, a
pydantic model per post); ``benchmarks/where_time_goes.md`` has the figures.
:func:`get_post` loads an entity, for the comment a request adds to it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from blog_api.errors import Forbidden, NotFound
from blog_api.models import Post, Tag, User, post_tags, utcnow
from blog_api.pagination import (
    AnyRow,
    ListRequest,
    ListStatements,
    Page,
    SortSpec,
    fetch_page,
    keyset_order,
)
from blog_api.principal import Principal
from blog_api.rows import api_time, joined_names, split_names
from blog_api.schemas import PostIn, PostListQuery, PostPatch, json_datetime

#: A post's tag names in one string, ``"flask,python"``, from a subquery
#: correlated with the outer ``posts`` row (``rows.joined_names``).
TAG_LIST = (
    select(joined_names(Tag.name))
    .join_from(post_tags, Tag, post_tags.c.tag_id == Tag.id)
    .where(post_tags.c.post_id == Post.id)
    .scalar_subquery()
    .label("tag_list")
)

#: What a rendered post needs, in one SELECT: the post's columns, its author's
#: name and its tags. PERF: the plain version loads ``Post`` entities with
#: their author (joined) and tags (a second SELECT); see the module docstring.
POST_ROWS = select(
    Post.id,
    Post.title,
    Post.body,
    Post.status,
    Post.author_id,
    User.username.label("author_username"),
    api_time(Post.created_at),
    api_time(Post.updated_at),
    TAG_LIST,
    Post.version,  # not shown: what a change's UPDATE checks (patch_post)
).join_from(Post, User, Post.author_id == User.id)


def render_rows(rows: Sequence[AnyRow]) -> list[dict[str, Any]]:
    """Rows of :data:`POST_ROWS` as the API returns them.

    Rows are unpacked as tuples, in :data:`POST_ROWS`' column order (PERF:
    12 against 85 us for 20 rows; the plain version reads ``row.title`` and
    so on, a lookup by name per column).
    """
    return [
        post_json(
            post_id,
            title,
            body,
            split_names(tag_list),
            status,
            author_id,
            author_username,
            created_at,
            updated_at,
        )
        for (
            post_id,
            title,
            body,
            status,
            author_id,
            author_username,
            created_at,
            updated_at,
            tag_list,
            _version,
        ) in rows
    ]


def post_json(
    post_id: int,
    title: str,
    body: str,
    tags: list[str],
    status: str,
    author_id: int,
    author_username: str,
    created_at: str,
    updated_at: str,
) -> dict[str, Any]:
    """The API's post object (``schemas.PostOut``, whose OpenAPI schema documents it).

    Built by hand, in ``PostOut``'s field order, where the plain version was
    ``PostOut.model_validate(post).model_dump(mode="json")``: validating a
    model per post re-checks data the database already typed, and it was a
    tenth of a list request. A test checks that both give the same JSON.
    The times are the API's text already (``rows.api_time``, ``json_datetime``).
    """
    return {
        "id": post_id,
        "title": title,
        "body": body,
        "tags": tags,
        "status": status,
        "author": {"id": author_id, "username": author_username},
        "created_at": created_at,
        "updated_at": updated_at,
    }


#: Who sees a post: anyone a published one, a signed-in viewer (``:viewer_id``)
#: their own drafts too. Statements built once use these with the id bound.
PUBLISHED = Post.status == "published"
PUBLISHED_OR_OWN = or_(PUBLISHED, Post.author_id == bindparam("viewer_id"))


def visible_to(viewer: Principal | None) -> Any:
    """SQL condition: published posts, plus the viewer's own drafts."""
    if viewer is None:
        return PUBLISHED
    return or_(PUBLISHED, Post.author_id == viewer.id)


def get_post(session: Session, post_id: int, viewer: Principal | None) -> Post:
    """A post the viewer may see, as an entity (to add a comment to).

    Raises:
        NotFound: no such post, or someone else's draft (404, not 403, so drafts
            do not even reveal that they exist).
    """
    query = select(Post).where(Post.id == post_id, visible_to(viewer))
    post = session.scalars(query).first()
    if post is None:
        raise NotFound(f"Post {post_id} not found")
    return post


def ensure_visible(connection: Connection, post_id: int, viewer: Principal | None) -> None:
    """Raise ``NotFound`` unless the post exists and the viewer may see it (one small SELECT)."""
    if viewer is None:
        found = connection.execute(_PUBLISHED_ID, {"post_id": post_id}).first()
    else:
        found = connection.execute(
            _VISIBLE_ID, {"post_id": post_id, "viewer_id": viewer.id}
        ).first()
    if found is None:
        raise NotFound(f"Post {post_id} not found")


_PUBLISHED_ID = select(Post.id).where(Post.id == bindparam("post_id"), PUBLISHED)
_VISIBLE_ID = select(Post.id).where(Post.id == bindparam("post_id"), PUBLISHED_OR_OWN)


#: One post by id, for anyone and for a signed-in viewer (their drafts too);
#: built once, with the ids bound (SQLAlchemy need not build and key them again).
_PUBLISHED_POST = POST_ROWS.where(Post.id == bindparam("post_id"), PUBLISHED)
_VISIBLE_POST = POST_ROWS.where(Post.id == bindparam("post_id"), PUBLISHED_OR_OWN)


def read_post(connection: Connection, post_id: int, viewer: Principal | None) -> dict[str, Any]:
    """A post the viewer may see, rendered, in one SELECT.

    Raises:
        NotFound: as :func:`get_post`.
    """
    if viewer is None:
        row = connection.execute(_PUBLISHED_POST, {"post_id": post_id}).first()
    else:
        parameters = {"post_id": post_id, "viewer_id": viewer.id}
        row = connection.execute(_VISIBLE_POST, parameters).first()
    if row is None:
        raise NotFound(f"Post {post_id} not found")
    return render_rows([row])[0]


def list_posts(
    connection: Connection,
    viewer: Principal | None,
    filters: PostListQuery,
    request: ListRequest,
    secret: str,
) -> Page:
    """One page of the posts the viewer may see, filtered and sorted, rendered.

    One statement in either mode: the page, with the total in page mode
    (``pagination.fetch_page``; a page past the last post counts alone).
    """
    used = {name: value for name, value in filters.model_dump(exclude={"sort"}).items()}
    parameters = {name: value for name, value in used.items() if value is not None}
    if "q" in parameters:
        parameters["q"] = "%" + _escape_like(parameters["q"]) + "%"
    if viewer is not None:
        parameters["viewer_id"] = viewer.id
    statements = _list_statements(viewer is not None, tuple(sorted(parameters)), request.sort)
    page = fetch_page(connection, statements, request, secret, parameters)
    page.items = render_rows(page.items)
    return page


#: GET /posts's filters, each a condition on a bound parameter of its name.
_FILTERS = {
    # POST_ROWS joins the author already.
    "author": User.username == bindparam("author"),
    "author_id": Post.author_id == bindparam("author_id"),
    # EXISTS rather than JOIN: a join would need DISTINCT to not repeat posts.
    "tag": Post.tags.any(Tag.name == bindparam("tag")),
    "status": Post.status == bindparam("status"),
    # Case-insensitive "contains", as SQLAlchemy's icontains(autoescape=True)
    # writes it, with the pattern made by _escape_like.
    "q": or_(
        func.lower(Post.title).like(func.lower(bindparam("q")), escape="/"),
        func.lower(Post.body).like(func.lower(bindparam("q")), escape="/"),
    ),
}


@functools.lru_cache(maxsize=512)
def _list_statements(signed_in: bool, names: tuple[str, ...], sort: SortSpec) -> ListStatements:
    """The list's statements for one shape of request, built the first time it is seen.

    PERF: the plain version builds the SELECTs for every request; SQLAlchemy
    then also computes their cache keys again (together about 200 us of a
    page of 20 posts on SQLite). A shape is who asks (anonymous or signed in),
    which filters are used and the sort order: at most 2 x 32 x 6 of them,
    and every value is a bound parameter. ``viewer_id`` in ``names`` only
    says that the viewer is signed in.
    """
    query = select(Post.id).join_from(Post, User, Post.author_id == User.id)
    query = query.where(PUBLISHED_OR_OWN if signed_in else PUBLISHED)
    for name in names:
        if name in _FILTERS:
            query = query.where(_FILTERS[name])
    finish = functools.partial(_page_rows, sort=sort)
    # render_rows unpacks tuples: the page and its total can be one statement.
    return ListStatements.build(query, Post, sort, finish=finish, count_in_page=True)


def _page_rows(ordered: Any, sort: SortSpec) -> Any:
    """The rows of :data:`POST_ROWS` for a page whose ids ``ordered`` selects.

    ``ordered`` is the list's ``SELECT posts.id``, filtered, sorted and
    limited; the posts' columns, authors and tags are then read for those ids
    only. When the database has to sort the rows itself (a signed-in reader's
    list, published posts *or* their own drafts, which no index orders), it
    sorts ids, not whole posts with their bodies and tags (PERF: 127 against
    320 us for the SQL of that page on SQLite; the plain version is
    :data:`POST_ROWS` with the filters, ``ORDER BY`` and ``LIMIT``). A list
    that an index orders gains a little too (54 against 68 us).
    """
    page = ordered.subquery("page")
    rows = POST_ROWS.join(page, page.c.id == Post.id)
    return keyset_order(rows, Post, sort, seek=False)


def _escape_like(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern whose escape character is ``/``."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def create_post(connection: Connection, author: Principal, data: PostIn) -> dict[str, Any]:
    """Create a post by ``author`` and return it rendered; the caller commits.

    The post (one ``INSERT``), then its tags (:func:`_link_tags`: one
    statement when they all exist); the answer is made from what was written,
    with no statement to read it back.

    The new id is ``inserted_primary_key``, which the dialect learns the
    cheapest way it has: the cursor's ``lastrowid`` on SQLite, ``RETURNING``
    on PostgreSQL. PERF: the plain version asks for ``RETURNING id`` on both;
    on SQLite that made the ``INSERT`` itself slower, 195 against 168 us with
    its commit in ``sqlite3`` alone, 73 against 38 us through SQLAlchemy.
    """
    now = utcnow()
    values: dict[str, Any] = {"title": data.title, "body": data.body, "status": data.status}
    values.update(author_id=author.id, created_at=now, updated_at=now)
    inserted = connection.execute(_INSERT_POST, values).inserted_primary_key
    assert inserted is not None, "a one-row INSERT knows its row's key"
    post_id: int = inserted[0]
    tags = _link_tags(connection, post_id, data.tags)
    time = json_datetime(now)
    return post_json(
        post_id, data.title, data.body, tags, data.status, author.id, author.username, time, time
    )


def read_for_change(connection: Connection, post_id: int, actor: Principal) -> AnyRow:
    """The row of a post ``actor`` may change (for ``If-Match``, then the change).

    Raises:
        NotFound: no such post, or someone else's draft.
        Forbidden: ``actor`` is neither the author nor an admin.
    """
    parameters = {"post_id": post_id, "viewer_id": actor.id}
    row = connection.execute(_VISIBLE_POST, parameters).first()
    if row is None:
        raise NotFound(f"Post {post_id} not found")
    ensure_author_or_admin(row.author_id, actor)
    return row


def replace_post(connection: Connection, row: AnyRow, data: PostIn) -> dict[str, Any]:
    """PUT: replace every field of a post (omitted tags become none, status draft)."""
    return patch_post(connection, row, PostPatch(**data.model_dump()))


def patch_post(connection: Connection, row: AnyRow, data: PostPatch) -> dict[str, Any]:
    """PATCH: change the fields present in ``data``; the post, rendered. The caller commits.

    ``row`` comes from :func:`read_for_change`. The ``UPDATE`` names the
    version read there, so an edit that lands in between (and so changed the
    version) makes it match no row: that raises ``StaleDataError``, as the
    ORM's own version check does, and the error handler answers 412 or 409.

    The tags are written only when they differ from the row's: every change
    of a post's tags raises its version, so once the ``UPDATE`` matched, the
    row's tags are the post's.

    Raises:
        StaleDataError: the post changed since ``row`` was read.
    """
    changes = data.model_dump(exclude_unset=True)
    tags = changes.pop("tags", None)
    now = utcnow()
    values = {f"new_{name}": value for name, value in changes.items()}
    values.update(new_updated_at=now, new_version=row.version + 1)
    result = connection.execute(
        _update_statement(tuple(changes)),
        {**values, "post_id": row.id, "read_version": row.version},
    )
    if result.rowcount != 1:
        raise StaleDataError(f"post {row.id} changed since version {row.version} was read")
    names = split_names(row.tag_list)
    if tags is not None and sorted(dict.fromkeys(tags)) != names:
        # PERF: tags sent as the post has them write nothing (a PUT sends
        # them all, a client often resends them unchanged); the plain version
        # unlinks and relinks them every time: three statements, 1,042
        # against 810 us for a PATCH that resends its tags.
        connection.execute(_UNLINK_TAGS, {"post_id": row.id})
        names = _link_tags(connection, row.id, tags)
    return post_json(
        row.id,
        changes.get("title", row.title),
        changes.get("body", row.body),
        names,
        changes.get("status", row.status),
        row.author_id,
        row.author_username,
        row.created_at,
        json_datetime(now),
    )


def delete_post(connection: Connection, row: AnyRow) -> None:
    """Delete a post (``row`` from :func:`read_for_change`); the caller commits.

    The database deletes its comments and tag links (``ON DELETE CASCADE``).
    """
    connection.execute(_DELETE_POST, {"post_id": row.id})


# Core statements (run on the request's connection) on the mapped tables.
_INSERT_POST = insert(Post).values(version=1)


@functools.lru_cache(maxsize=32)
def _update_statement(columns: tuple[str, ...]) -> Any:
    """``UPDATE posts SET <columns>, updated_at, version ... WHERE id AND version``.

    Built once per set of changed columns (any of title, body and status: at
    most 8 sets), each new value a bound parameter ``new_<column>``.
    PERF: the plain version, ``update(Post).values(**changes)`` per request,
    builds the statement and its cache key again each time: 93 against 18 us
    per UPDATE on SQLite.
    """
    assigned = (*columns, "updated_at", "version")
    return (
        update(Post)
        .where(Post.id == bindparam("post_id"), Post.version == bindparam("read_version"))
        .values({name: bindparam(f"new_{name}") for name in assigned})
    )


_DELETE_POST = delete(Post).where(Post.id == bindparam("post_id"))
_UNLINK_TAGS = delete(post_tags).where(post_tags.c.post_id == bindparam("post_id"))


def _link_tags(connection: Connection, post_id: int, names: list[str]) -> list[str]:
    """Give a post that has no tags the tags ``names``, creating missing ones; the names, sorted.

    Each statement runs once per name (``executemany``). The links come
    first, by ``INSERT ... SELECT``: a name with no tag yet links nothing, and
    if every name linked (the usual case: posts reuse tags), that was the
    only statement. Otherwise the names are inserted with ``ON CONFLICT DO
    NOTHING`` (a tag another request is creating at the same moment is
    waited for and then used, where a plain INSERT would break the unique
    constraint and refuse a valid post with a 409), and linked again, the
    links made already being left as they are. Both drivers sum the row
    count of an ``executemany`` (SQLAlchemy keeps it with ``preserve_rowcount``);
    one that did not would report -1, and the names would only be inserted
    when they need not be.

    PERF: the plain version inserts the names first, always: one statement
    more for tags that all exist; linking two took 64 against 43 us. And
    it links them all in one ``... WHERE name IN (:names)``, whose expanding
    parameter makes SQLAlchemy write the SQL text again on every execution:
    26 against 18 us for two tags on SQLite.
    """
    wanted = sorted(dict.fromkeys(names))
    if not wanted:
        return []
    links = [{"post_id": post_id, "name": name} for name in wanted]
    if connection.execute(_LINK_TAGS, links).rowcount == len(wanted):
        return wanted
    dialect = connection.dialect.name
    connection.execute(_INSERT_TAGS[dialect], [{"name": name} for name in wanted])
    connection.execute(_LINK_NEW_TAGS[dialect], links)
    return wanted


def ensure_author_or_admin(author_id: int, actor: Principal) -> None:
    """Raise ``Forbidden`` unless ``actor`` wrote the content or is an admin."""
    if actor.id != author_id and not actor.is_admin:
        raise Forbidden("Only the author or an admin may change this")


#: The dialect-specific INSERT that has ``on_conflict_do_nothing`` (both
#: databases blog_api supports spell it the same way).
_INSERT_IGNORING_CONFLICTS: dict[str, Any] = {
    "postgresql": postgresql_insert,
    "sqlite": sqlite_insert,
}


#: New tag names, ignoring those that exist, in each database's spelling.
_INSERT_TAGS = {
    name: insert_for(Tag).on_conflict_do_nothing()
    for name, insert_for in _INSERT_IGNORING_CONFLICTS.items()
}
#: A post's link to the tag named ``:name``, by INSERT ... SELECT (none if no
#: tag has that name yet); how many it made is read back (``_link_tags``).
_TAG_NAMED = select(bindparam("post_id", type_=Integer()), Tag.id).where(
    Tag.name == bindparam("name")
)
_LINK_TAGS = (
    insert(post_tags)
    .from_select(["post_id", "tag_id"], _TAG_NAMED)
    .execution_options(preserve_rowcount=True)
)
#: The same, leaving a link that exists already alone, in each database's spelling.
_LINK_NEW_TAGS = {
    name: insert_for(post_tags)
    .from_select(["post_id", "tag_id"], _TAG_NAMED)
    .on_conflict_do_nothing()
    for name, insert_for in _INSERT_IGNORING_CONFLICTS.items()
}
