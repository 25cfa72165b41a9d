"""Posts: visibility rules, filters, creation, replacement, patching, deletion.

Reads and writes take different roads. Writes load ``Post`` entities: the
ORM's unit of work, optimistic locking (``Post.version``) and relationship
handling earn their cost there. Reads (``GET /posts``, ``GET /posts/<id>``)
ask for rows: one SELECT of the post's and its author's columns, one SELECT
of the tag names of every post on the page, and each row becomes the API's
JSON-ready dict directly. Loading entities for a page of 20 posts cost about
five times the SQL itself (identity map, loader strategies, a pydantic model
per post); ``benchmarks/where_time_goes.md`` has the figures.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, joinedload, selectinload

from blog_api.errors import Forbidden, NotFound
from blog_api.models import Post, Tag, User, post_tags, utcnow
from blog_api.pagination import AnyRow, ListRequest, ListStatements, Page, SortSpec, fetch_page
from blog_api.schemas import PostIn, PostListQuery, PostPatch, json_datetime

#: Eager loads for a post entity that a write will change and render.
POST_LOAD_OPTIONS = (joinedload(Post.author), selectinload(Post.tags))

#: A post's tag names in one string, ``"flask,python"``, from a subquery
#: correlated with the outer ``posts`` row: ``group_concat`` on SQLite,
#: ``string_agg`` on PostgreSQL. A tag name cannot hold a comma
#: (``schemas.TAG_PATTERN``), and the order is not guaranteed: split and sort.
TAG_LIST = (
    select(func.aggregate_strings(Tag.name, ","))
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
    Post.created_at,
    Post.updated_at,
    TAG_LIST,
).join_from(Post, User, Post.author_id == User.id)


def render(post: Post) -> dict[str, Any]:
    """A post entity as the API returns it (JSON-ready): after a write."""
    return post_json(
        post.id,
        post.title,
        post.body,
        [tag.name for tag in post.tags],
        post.status,
        post.author_id,
        post.author.username,
        post.created_at,
        post.updated_at,
    )


def render_rows(rows: Sequence[AnyRow]) -> list[dict[str, Any]]:
    """Rows of :data:`POST_ROWS` as the API returns them."""
    return [
        post_json(
            row.id,
            row.title,
            row.body,
            sorted(row.tag_list.split(",")) if row.tag_list else [],
            row.status,
            row.author_id,
            row.author_username,
            row.created_at,
            row.updated_at,
        )
        for row in rows
    ]


def post_json(
    post_id: int,
    title: str,
    body: str,
    tags: list[str],
    status: str,
    author_id: int,
    author_username: str,
    created_at: Any,
    updated_at: Any,
) -> dict[str, Any]:
    """The API's post object (``schemas.PostOut``, whose OpenAPI schema documents it).

    Built by hand, in ``PostOut``'s field order, where the plain version was
    ``PostOut.model_validate(post).model_dump(mode="json")``: validating a
    model per post re-checks data the database already typed, and it was a
    tenth of a list request. A test checks that both give the same JSON.
    """
    return {
        "id": post_id,
        "title": title,
        "body": body,
        "tags": tags,
        "status": status,
        "author": {"id": author_id, "username": author_username},
        "created_at": json_datetime(created_at),
        "updated_at": json_datetime(updated_at),
    }


def visible_to(viewer: User | None) -> Any:
    """SQL condition: published posts, plus the viewer's own drafts."""
    if viewer is None:
        return Post.status == "published"
    return or_(Post.status == "published", Post.author_id == viewer.id)


def get_post(session: Session, post_id: int, viewer: User | None) -> Post:
    """A post the viewer may see, as an entity to change (its tags loaded).

    Raises:
        NotFound: no such post, or someone else's draft (404, not 403, so drafts
            do not even reveal that they exist).
    """
    query = select(Post).where(Post.id == post_id, visible_to(viewer))
    post = session.scalars(query.options(*POST_LOAD_OPTIONS)).first()
    if post is None:
        raise NotFound(f"Post {post_id} not found")
    return post


def ensure_visible(session: Session, post_id: int, viewer: User | None) -> None:
    """Raise ``NotFound`` unless the post exists and the viewer may see it (one small SELECT)."""
    if session.scalar(select(Post.id).where(Post.id == post_id, visible_to(viewer))) is None:
        raise NotFound(f"Post {post_id} not found")


#: One post by id, for anyone and for a signed-in viewer (their drafts too);
#: built once, with the ids bound (SQLAlchemy need not build and key them again).
_PUBLISHED_POST = POST_ROWS.where(Post.id == bindparam("post_id"), Post.status == "published")
_VISIBLE_POST = POST_ROWS.where(
    Post.id == bindparam("post_id"),
    or_(Post.status == "published", Post.author_id == bindparam("viewer_id")),
)


def read_post(session: Session, post_id: int, viewer: User | None) -> dict[str, Any]:
    """A post the viewer may see, rendered, in one SELECT.

    Raises:
        NotFound: as :func:`get_post`.
    """
    if viewer is None:
        row = session.connection().execute(_PUBLISHED_POST, {"post_id": post_id}).first()
    else:
        parameters = {"post_id": post_id, "viewer_id": viewer.id}
        row = session.connection().execute(_VISIBLE_POST, parameters).first()
    if row is None:
        raise NotFound(f"Post {post_id} not found")
    return render_rows([row])[0]


def list_posts(
    session: Session, viewer: User | None, filters: PostListQuery, request: ListRequest, secret: str
) -> Page:
    """One page of the posts the viewer may see, filtered and sorted, rendered.

    Two statements in page mode (COUNT, the page), one with a cursor.
    """
    used = {name: value for name, value in filters.model_dump(exclude={"sort"}).items()}
    parameters = {name: value for name, value in used.items() if value is not None}
    if "q" in parameters:
        parameters["q"] = "%" + _escape_like(parameters["q"]) + "%"
    if viewer is not None:
        parameters["viewer_id"] = viewer.id
    statements = _list_statements(viewer is not None, tuple(sorted(parameters)), request.sort)
    page = fetch_page(session, statements, request, secret, parameters)
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
    visible = or_(Post.status == "published", Post.author_id == bindparam("viewer_id"))
    query = POST_ROWS.where(visible if signed_in else Post.status == "published")
    for name in names:
        if name in _FILTERS:
            query = query.where(_FILTERS[name])
    return ListStatements.build(query, Post, sort)


def _escape_like(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern whose escape character is ``/``."""
    return text.replace("/", "//").replace("%", "/%").replace("_", "/_")


def create_post(session: Session, author: User, data: PostIn) -> Post:
    """Create a post by ``author``."""
    now = utcnow()
    post = Post(
        author=author,
        title=data.title,
        body=data.body,
        status=data.status,
        tags=resolve_tags(session, data.tags),
        created_at=now,
        updated_at=now,
    )
    session.add(post)
    session.commit()
    return post


def replace_post(session: Session, post: Post, actor: User, data: PostIn) -> Post:
    """PUT: replace every field of a post (omitted tags become none, status draft)."""
    return patch_post(session, post, actor, PostPatch(**data.model_dump()))


def patch_post(session: Session, post: Post, actor: User, data: PostPatch) -> Post:
    """PATCH: change the fields present in ``data``.

    Raises:
        Forbidden: ``actor`` is neither the author nor an admin.
    """
    ensure_author_or_admin(post.author_id, actor)
    changes = data.model_dump(exclude_unset=True)
    if "tags" in changes:
        post.tags = resolve_tags(session, changes.pop("tags"))
    for field, value in changes.items():
        setattr(post, field, value)
    post.updated_at = utcnow()
    session.commit()
    return post


def delete_post(session: Session, post: Post, actor: User) -> None:
    """Delete a post and its comments.

    Raises:
        Forbidden: ``actor`` is neither the author nor an admin.
    """
    ensure_author_or_admin(post.author_id, actor)
    session.delete(post)
    session.commit()


def ensure_author_or_admin(author_id: int, actor: User) -> None:
    """Raise ``Forbidden`` unless ``actor`` wrote the content or is an admin."""
    if actor.id != author_id and not actor.is_admin:
        raise Forbidden("Only the author or an admin may change this")


def resolve_tags(session: Session, names: list[str]) -> list[Tag]:
    """The ``Tag`` rows for ``names``, creating the missing ones (not committed).

    Two requests that both introduce the tag "python" at the same moment
    would both see it missing; inserting it the plain way, the second one's
    commit would break the unique constraint and a valid post would be
    refused with a 409. ``INSERT ... ON CONFLICT DO NOTHING`` lets the second
    insert wait for the first and then use its row.
    """
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return []
    existing = {tag.name: tag for tag in session.scalars(select(Tag).where(Tag.name.in_(wanted)))}
    missing = [name for name in wanted if name not in existing]
    if missing:
        insert = _INSERT_IGNORING_CONFLICTS[session.get_bind().dialect.name]
        statement = insert(Tag).on_conflict_do_nothing(index_elements=[Tag.name])
        session.execute(statement, [{"name": name} for name in missing])
        existing = {
            tag.name: tag for tag in session.scalars(select(Tag).where(Tag.name.in_(wanted)))
        }
    return [existing[name] for name in sorted(wanted)]


#: The dialect-specific INSERT that has ``on_conflict_do_nothing`` (both
#: databases blog_api supports spell it the same way).
_INSERT_IGNORING_CONFLICTS: dict[str, Any] = {
    "postgresql": postgresql_insert,
    "sqlite": sqlite_insert,
}
