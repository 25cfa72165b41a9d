"""Comments on posts: listing, creating, deleting."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from blog_api.errors import NotFound
from blog_api.models import Comment, Post, User, utcnow
from blog_api.pagination import ListRequest, Page, fetch_page
from blog_api.schemas import CommentIn, CommentOut
from blog_api.services.posts import ensure_author_or_admin, get_post


def render(comment: Comment) -> dict[str, Any]:
    """A comment as the API returns it (JSON-ready)."""
    return CommentOut.model_validate(comment).model_dump(mode="json")


def list_comments(
    session: Session, post_id: int, viewer: User | None, request: ListRequest, secret: str
) -> Page:
    """Comments of a post the viewer may see, oldest first by default.

    Raises:
        NotFound: the post does not exist or is someone else's draft.
    """
    get_post(session, post_id, viewer)
    query = select(Comment).where(Comment.post_id == post_id)
    return fetch_page(session, query, Comment, request, secret, (joinedload(Comment.author),))


def create_comment(session: Session, post: Post, author: User, data: CommentIn) -> Comment:
    """Add a comment by ``author`` to ``post``."""
    now = utcnow()
    comment = Comment(post=post, author=author, body=data.body, created_at=now, updated_at=now)
    session.add(comment)
    session.commit()
    return comment


def get_comment(session: Session, comment_id: int, viewer: User | None) -> Comment:
    """A comment on a post the viewer may see.

    Raises:
        NotFound: no such comment, or it sits on someone else's draft.
    """
    query = select(Comment).where(Comment.id == comment_id).options(joinedload(Comment.author))
    comment = session.scalars(query).first()
    if comment is None:
        raise NotFound(f"Comment {comment_id} not found")
    get_post(session, comment.post_id, viewer)
    return comment


def delete_comment(session: Session, comment: Comment, actor: User) -> None:
    """Delete a comment.

    Raises:
        Forbidden: ``actor`` is neither the comment's author nor an admin.
    """
    ensure_author_or_admin(comment.author_id, actor)
    session.delete(comment)
    session.commit()
