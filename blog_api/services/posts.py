"""Posts: visibility rules, filters, creation, replacement, patching, deletion."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, joinedload, selectinload

from blog_api.errors import Forbidden, NotFound
from blog_api.models import Post, Tag, User, utcnow
from blog_api.pagination import ListRequest, Page, fetch_page
from blog_api.schemas import PostIn, PostListQuery, PostOut, PostPatch

#: Eager loads for rendering posts: one statement each, whatever the page size.
POST_LOAD_OPTIONS = (joinedload(Post.author), selectinload(Post.tags))


def render(post: Post) -> dict[str, Any]:
    """A post as the API returns it (JSON-ready)."""
    return PostOut.model_validate(post).model_dump(mode="json")


def visible_to(viewer: User | None) -> Any:
    """SQL condition: published posts, plus the viewer's own drafts."""
    if viewer is None:
        return Post.status == "published"
    return or_(Post.status == "published", Post.author_id == viewer.id)


def get_post(session: Session, post_id: int, viewer: User | None) -> Post:
    """A post the viewer may see.

    Raises:
        NotFound: no such post, or someone else's draft (404, not 403, so drafts
            do not even reveal that they exist).
    """
    query = select(Post).where(Post.id == post_id, visible_to(viewer)).options(*POST_LOAD_OPTIONS)
    post = session.scalars(query).first()
    if post is None:
        raise NotFound(f"Post {post_id} not found")
    return post


def list_posts(
    session: Session, viewer: User | None, filters: PostListQuery, request: ListRequest, secret: str
) -> Page:
    """One page of the posts the viewer may see, filtered and sorted."""
    query = _filtered(select(Post).where(visible_to(viewer)), filters)
    return fetch_page(session, query, Post, request, secret, POST_LOAD_OPTIONS)


def _filtered(query: Select[Any], filters: PostListQuery) -> Select[Any]:
    """Apply GET /posts's author, tag, status and text filters."""
    if filters.author is not None:
        query = query.where(Post.author.has(User.username == filters.author))
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
