"""GET /tags: tags of published posts with counts (blog_api/tags.py)."""

from __future__ import annotations

from typing import Any


def test_tags_count_only_published_posts(api: Any, client: Any, alice: dict[str, str]) -> None:
    api.create_post(alice, tags=["python", "flask"])
    api.create_post(alice, tags=["python"])
    api.create_post(alice, tags=["secret"], status="draft")
    response = client.get("/api/v1/tags")
    body = response.get_json()
    assert response.status_code == 200
    assert body["items"] == [
        {"name": "flask", "post_count": 1},
        {"name": "python", "post_count": 2},
    ]
    assert body["total"] == 2 and body["page"] == 1
    assert "ETag" in response.headers


def test_tags_paginate(api: Any, client: Any, alice: dict[str, str]) -> None:
    api.create_post(alice, tags=["a", "b", "c"])
    body = client.get("/api/v1/tags?per_page=2&page=2").get_json()
    assert body["items"] == [{"name": "c", "post_count": 1}]
    assert body["total"] == 3


def test_tags_refuse_cursor(client: Any) -> None:
    assert client.get("/api/v1/tags?cursor=").status_code == 400
