"""The posts, kept in memory: no framework here, so both apps share the code."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from threading import Lock


@dataclass
class Post:
    id: int
    author: str
    title: str
    body: str
    created: datetime = field(default_factory=lambda: datetime.now(UTC))


class PostStore:
    """A thread-safe list of posts; a real site would use a database."""

    def __init__(self) -> None:
        self._posts: dict[int, Post] = {}
        self._lock = Lock()

    def add(self, author: str, title: str, body: str) -> Post:
        with self._lock:
            post = Post(len(self._posts) + 1, author, title, body)
            self._posts[post.id] = post
            return post

    def get(self, post_id: int) -> Post | None:
        return self._posts.get(post_id)

    def newest_first(self) -> list[Post]:
        return sorted(self._posts.values(), key=lambda post: post.id, reverse=True)
