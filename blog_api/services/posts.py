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

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, joinedload, selectinload

from blog_api.errors import Forbidden, NotFound
from blog_api.models import Post, Tag, User, post_tags, utcnow
from blog_api.pagination import AnyRow, AnySelect, ListRequest, Page, fetch_page
from blog_api.schemas import PostIn, PostListQuery, PostPatch, json_datetime

#: Eager loads for a post entity that a write will change and render.
POST_LOAD_OPTIONS = (joinedload(Post.author), selectinload(Post.tags))

#: What a rendered post needs, in one SELECT: the post's columns and its author's name.
POST_ROWS = select(
    Post.id,
    Post.title,
    Post.body,
    Post.status,
    Post.author_id,
    User.username.label("author_username"),
    Post.created_at,
    Post.updated_at,
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


def render_rows(session: Session, rows: Sequence[AnyRow]) -> list[dict[str, Any]]:
    """Rows of :data:`POST_ROWS` as the API returns them, with one query for all their tags."""
    tags = tag_names(session, [row.id for row in rows])
    return [
        post_json(
            row.id,
            row.title,
            row.body,
            tags.get(row.id, []),
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


#: Tag names of a set of posts, sorted: built once, run with the ids bound.
#: PERF: the plain version builds the SELECT per call; SQLAlchemy then
#: rebuilds and re-keys it each time (see benchmarks/where_time_goes.md).
_TAG_NAMES = (
    select(post_tags.c.post_id, Tag.name)
    .join_from(post_tags, Tag, post_tags.c.tag_id == Tag.id)
    .where(post_tags.c.post_id.in_(bindparam("post_ids", expanding=True)))
    .order_by(Tag.name)
)


def tag_names(session: Session, post_ids: list[int]) -> dict[int, list[str]]:
    """Each post's tag names, sorted, for all of ``post_ids`` in one SELECT."""
    if not post_ids:
        return {}
    names: defaultdict[int, list[str]] = defaultdict(list)
    for post_id, name in session.execute(_TAG_NAMES, {"post_ids": post_ids}):
        names[post_id].append(name)
    return names


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
#: built once, as ``_TAG_NAMES``.
_PUBLISHED_POST = POST_ROWS.where(Post.id == bindparam("post_id"), Post.status == "published")
_VISIBLE_POST = POST_ROWS.where(
    Post.id == bindparam("post_id"),
    or_(Post.status == "published", Post.author_id == bindparam("viewer_id")),
)


def read_post(session: Session, post_id: int, viewer: User | None) -> dict[str, Any]:
    """A post the viewer may see, rendered (two SELECTs: the post, its tags).

    Raises:
        NotFound: as :func:`get_post`.
    """
    if viewer is None:
        row = session.execute(_PUBLISHED_POST, {"post_id": post_id}).first()
    else:
        row = session.execute(_VISIBLE_POST, {"post_id": post_id, "viewer_id": viewer.id}).first()
    if row is None:
        raise NotFound(f"Post {post_id} not found")
    return render_rows(session, [row])[0]


def list_posts(
    session: Session, viewer: User | None, filters: PostListQuery, request: ListRequest, secret: str
) -> Page:
    """One page of the posts the viewer may see, filtered and sorted, rendered.

    Three statements in page mode (COUNT, the page, its tags), two with a cursor.
    """
    query = _filtered(POST_ROWS.where(visible_to(viewer)), filters)
    page = fetch_page(session, query, Post, request, secret, rows=True)
    page.items = render_rows(session, page.items)
    return page


def _filtered(query: AnySelect, filters: PostListQuery) -> AnySelect:
    """Apply GET /posts's author, tag, status and text filters."""
    if filters.author is not None:
        query = query.where(User.username == filters.author)  # POST_ROWS joins the author
    if filters.author_id is not None:
        query = query.where(Post.author_id == filters.author_id)
    if filters.tag is not None:
        # EXISTS rather than JOIN: a join would need DISTINCT to not repeat posts.
        query = query.where(Post.tags.any(Tag.name == filters.tag))
    if filters.status is not None:
        query = query.where(Post.status == filters.status)
    if filters.q is not None:
        query = query.where(
            or_(
                Post.title.icontains(filters.q, autoescape=True),
                Post.body.icontains(filters.q, autoescape=True),
            )
        )
    return query


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
