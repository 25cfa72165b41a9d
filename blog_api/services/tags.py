"""Tags: the list of tags in use on published posts."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from blog_api.models import Post, Tag, post_tags
from blog_api.pagination import Page


def list_tags(session: Session, page: int, per_page: int) -> Page:
    """Tags with their number of published posts, by name; two statements.

    Only published posts count, so a tag used only in drafts stays private.
    """
    query = (
        select(Tag.name, func.count(Post.id).label("post_count"))
        .join(post_tags, post_tags.c.tag_id == Tag.id)
        .join(Post, Post.id == post_tags.c.post_id)
        .where(Post.status == "published")
        .group_by(Tag.id, Tag.name)
    )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(Tag.name).limit(per_page).offset((page - 1) * per_page))
    items = [{"name": name, "post_count": count} for name, count in rows]
    return Page(items, per_page, page=page, total=total)
