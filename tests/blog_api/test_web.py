"""Input edges handled by blog_api/web.py and the schemas it validates with.

Each case here was a 500 found by the attack suite in ``tests/integration``:
a number too large for the database in a URL or a query, JSON nested past the
recursion limit, and a NUL character, which PostgreSQL's ``text`` cannot hold.
They must all be a 4xx JSON error, on both frameworks and both databases.
"""

from __future__ import annotations

from typing import Any

import pytest

from blog_api.schemas import MAX_ID

HUGE = "9" * 25  # past SQLite's 64-bit integers, let alone PostgreSQL's INTEGER


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/posts/{HUGE}",
        f"/api/v1/posts/{MAX_ID + 1}",
        f"/api/v1/posts/{HUGE}/comments",
        f"/api/v1/comments/{HUGE}",
        f"/api/v1/users/{HUGE}",
        "/api/v1/posts/0",
    ],
)
def test_ids_outside_the_database_range_are_a_routing_404(client: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.get_json()["code"] == 404


@pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH"])
def test_out_of_range_ids_are_404_for_every_method(
    client: Any, alice: dict[str, str], method: str
) -> None:
    # Not 405: GET, PUT, PATCH and DELETE share /posts/<id>, and a converter
    # that rejected the value after matching would make Werkzeug report 405.
    for post_id in ("0", str(MAX_ID + 1), "007"):
        response = client.open(f"/api/v1/posts/{post_id}", method=method, headers=alice)
        assert response.status_code == 404, (method, post_id)


def test_largest_id_is_routed_and_simply_not_found(client: Any) -> None:
    response = client.get(f"/api/v1/posts/{MAX_ID}")
    assert response.status_code == 404
    assert response.get_json()["error"] == f"Post {MAX_ID} not found"


def test_author_id_filter_beyond_the_range_is_400(client: Any) -> None:
    response = client.get(f"/api/v1/posts?author_id={HUGE}")
    assert response.status_code == 400
    assert response.get_json()["details"][0]["field"] == "author_id"


def test_json_nested_past_the_recursion_limit_is_400(client: Any, alice: dict[str, str]) -> None:
    response = client.post(
        "/api/v1/posts", data="[" * 100_000, content_type="application/json", headers=alice
    )
    assert response.status_code == 400
    assert response.get_json()["type"] == "bad_request"


@pytest.fixture(params=["sqlite", "postgresql"])
def config(request: pytest.FixtureRequest, config: dict[str, Any]) -> dict[str, Any]:
    """The default settings, on SQLite and (when reachable) on PostgreSQL."""
    if request.param == "postgresql":
        config["DATABASE_URL"] = request.getfixturevalue("postgres_url_migrated")
    return config


def test_nul_characters_are_refused_everywhere(client: Any, alice: dict[str, str]) -> None:
    body = {"title": "a\x00b", "body": "text"}
    assert client.post("/api/v1/posts", json=body, headers=alice).status_code == 422
    assert client.get("/api/v1/posts?q=a%00b").status_code == 400
    login = {"username": "alice\x00", "password": "whatever"}
    assert client.post("/api/v1/auth/login", json=login).status_code == 422
    form = {"grant_type": "refresh_token", "refresh_token": "a\x00"}
    response = client.post("/api/v1/auth/token", data=form)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert client.get("/api/v1/posts").get_json()["total"] == 0
