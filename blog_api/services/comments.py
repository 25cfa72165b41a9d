"""Comments on posts: listing, creating (and mailing the post's author), deleting.

As for posts (``services/posts.py``), the list reads rows and renders them
directly; single comments, which a write may follow, are entities. A page of
comments is one statement, which reads only from a post the viewer may see
and counts the post's comments (page mode; :func:`list_comments` says when it
takes two), or two with a cursor: whether the viewer may see the post, then
the page.

A new comment by someone else mails the post's author, unless they turned it
off (``users.notify_on_comments``). The mail is a job of the outbox
(``blog_api/jobs.py``) written in the comment's own transaction: it is sent
if and only if the comment was stored, and never slows the request down.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.orm import Session, joinedload

from blog_api.errors import NotFound
from blog_api.mail import enqueue_mail
from blog_api.models import Comment, Post, User, utcnow
from blog_api.pagination import ListRequest, ListStatements, Page, SortSpec, fetch_page
from blog_api.principal import Principal
from blog_api.rows import api_time
from blog_api.schemas import CommentIn, json_datetime
from blog_api.services.posts import (
    PUBLISHED,
    PUBLISHED_OR_OWN,
    ensure_author_or_admin,
    ensure_visible,
)

#: What a rendered comment needs, in one SELECT: its columns and its author's name.
COMMENT_ROWS = select(
    Comment.id,
    Comment.post_id,
    Comment.body,
    Comment.author_id,
    User.username.label("author_username"),
    api_time(Comment.created_at),
    api_time(Comment.updated_at),
).join_from(Comment, User, Comment.author_id == User.id)


def render(comment: Comment) -> dict[str, Any]:
    """A ``Comment`` entity as the API returns it (``schemas.CommentOut``, JSON-ready)."""
    return comment_json(
        comment.id,
        comment.post_id,
        comment.body,
        comment.author_id,
        comment.author.username,
        json_datetime(comment.created_at),
        json_datetime(comment.updated_at),
    )


def render_rows(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Rows of :data:`COMMENT_ROWS` as the API returns them (times are text already).

    Unpacked as tuples, in column order, for the reason
    ``services.posts.render_rows`` gives.
    """
    return [comment_json(*row) for row in rows]


def comment_json(
    comment_id: int,
    post_id: int,
    body: str,
    author_id: int,
    author_username: str,
    created_at: str,
    updated_at: str,
) -> dict[str, Any]:
    """The API's comment object, built by hand for the reason ``services.posts.post_json`` gives."""
    return {
        "id": comment_id,
        "post_id": post_id,
        "body": body,
        "author": {"id": author_id, "username": author_username},
        "created_at": created_at,
        "updated_at": updated_at,
    }


def list_comments(
    connection: Connection,
    post_id: int,
    viewer: Principal | None,
    request: ListRequest,
    secret: str,
) -> Page:
    """Comments of a post the viewer may see, oldest first by default.

    A page by number is one statement: the page's rows, read only from a post
    the viewer may see (the SELECT joins it), each with the post's number of
    comments. A page with no row (no comments, past the last page, or a post
    not to be seen) asks both questions in a second statement
    (:func:`_count_or_404`). A cursor asks whether the post may be seen, then
    reads the page. PERF: the plain version asks whether the post may be seen
    and counts its comments first, then reads the page: two statements for a
    page by number, about 40 us more (``benchmarks/where_time_goes.md``).

    Raises:
        NotFound: the post does not exist or is someone else's draft.
    """
    statements = _list_statements(viewer is not None, request.sort)
    parameters = {"post_id": post_id}
    if viewer is not None:
        parameters["viewer_id"] = viewer.id
    if request.cursor is not None:
        ensure_visible(connection, post_id, viewer)
    page = fetch_page(connection, statements, request, secret, parameters, count=_count_or_404)
    page.items = render_rows(page.items)
    return page


def _count_or_404(connection: Connection, values: dict[str, Any]) -> int:
    """The post's number of comments, in one SELECT with whether the viewer may see it.

    ``values`` holds ``post_id``, and ``viewer_id`` for a signed-in viewer.

    Raises:
        NotFound: the post does not exist or is someone else's draft.
    """
    found = connection.execute(_VISIBLE_AND_COUNT["viewer_id" in values], values).one()
    if found.visible is None:
        raise NotFound(f"Post {values['post_id']} not found")
    total: int = found.total
    return total


def _visible_and_count(visible: Any) -> Any:
    """``SELECT (the post's id if visible), (its number of comments)``: one round trip."""
    post = select(Post.id).where(Post.id == bindparam("post_id"), visible).scalar_subquery()
    count = select(func.count()).where(Comment.post_id == bindparam("post_id")).scalar_subquery()
    return select(post.label("visible"), count.label("total"))


#: For an anonymous viewer (``False``) and a signed-in one (``True``).
_VISIBLE_AND_COUNT = {
    False: _visible_and_count(PUBLISHED),
    True: _visible_and_count(PUBLISHED_OR_OWN),
}


@functools.lru_cache(maxsize=16)
def _list_statements(signed_in: bool, sort: SortSpec) -> ListStatements:
    """A post's comments for one kind of viewer in one sort order, built once (as
    ``services.posts`` does): only from a post the viewer may see (``:viewer_id``
    for a signed-in one), with the count in a page's statement."""
    query = COMMENT_ROWS.join_from(Comment, Post, Comment.post_id == Post.id).where(
        Comment.post_id == bindparam("post_id"), PUBLISHED_OR_OWN if signed_in else PUBLISHED
    )
    return ListStatements.build(query, Comment, sort, count_in_page=True)


def create_comment(
    session: Session, post: Post, author: User, data: CommentIn, post_url: str | None = None
) -> Comment:
    """Add a comment by ``author`` to ``post``, and queue the mail to the post's author.

    ``post_url`` is the post's absolute address on the reader site, which the
    mail links to; the web layer builds it (``Web.site_url``), as services
    cannot call ``url_for``.
    """
    now = utcnow()
    comment = Comment(post=post, author=author, body=data.body, created_at=now, updated_at=now)
    session.add(comment)
    notify_post_author(session, post, author, data.body, post_url)
    session.commit()
    return comment


NOTIFICATION_BODY = """Hello {username},

{commenter} commented on your post "{title}":

{body}
{link}
You get these mails because comments on your posts are mailed to you. To stop them:

    PATCH /api/v1/users/{user_id}
    {{"notify_on_comments": false}}
"""


def notify_post_author(
    session: Session, post: Post, commenter: Principal, body: str, post_url: str | None = None
) -> None:
    """Queue a mail to ``post``'s author about a comment, unless it is theirs or they opted out.

    One small SELECT for the author's address and setting, in the caller's
    transaction; the mail itself is sent after the commit by the outbox. The
    mail links to ``post_url`` (the post on the reader site) when given.
    """
    if post.author_id == commenter.id:
        return
    query = select(User.username, User.email, User.notify_on_comments).where(
        User.id == post.author_id
    )
    recipient = session.execute(query).first()
    if recipient is None or not recipient.notify_on_comments:
        return
    text = NOTIFICATION_BODY.format(
        username=recipient.username,
        commenter=commenter.username,
        title=post.title,
        body=body,
        link=f"\nRead it and reply: {post_url}\n" if post_url else "",
        user_id=post.author_id,
    )
    subject = f'New comment on "{post.title}"'
    enqueue_mail(session, recipient.email, subject, text)


def get_comment(session: Session, comment_id: int, viewer: Principal | None) -> Comment:
    """A comment on a post the viewer may see.

    Raises:
        NotFound: no such comment, or it sits on someone else's draft.
    """
    query = select(Comment).where(Comment.id == comment_id).options(joinedload(Comment.author))
    comment = session.scalars(query).first()
    if comment is None:
        raise NotFound(f"Comment {comment_id} not found")
    ensure_visible(session.connection(), comment.post_id, viewer)
    return comment


def delete_comment(session: Session, comment: Comment, actor: Principal) -> None:
    """Delete a comment.

    Raises:
        Forbidden: ``actor`` is neither the comment's author nor an admin.
    """
    ensure_author_or_admin(comment.author_id, actor)
    session.delete(comment)
    session.commit()
