"""The app-wide request hooks (blog_api/hooks.py): headers every response carries."""

from __future__ import annotations

from typing import Any


def test_every_api_response_forbids_content_type_sniffing(app: Any, client: Any) -> None:
    """Success, 304, cache hit, 4xx from views and from routing, and a 500 alike."""

    def boom() -> Any:
        raise RuntimeError("a bug")

    app.add_url_rule("/api/v1/boom", "boom", boom)
    first = client.get("/api/v1/tags")
    responses = [
        first,
        client.get("/api/v1/tags"),  # served from the server cache
        client.get("/api/v1/tags", headers={"If-None-Match": first.headers["ETag"]}),
        client.get("/api/v1/posts?per_page=0"),
        client.get("/api/v1/no-such-thing"),
        client.delete("/api/v1/tags"),
        client.get("/api/v1/users/me"),
        client.post("/api/v1/posts", data="x", content_type="text/plain"),
        client.get("/api/v1/tags", headers={"Host": "evil.example"}),
        client.get("/api/v1/boom"),
    ]
    assert [r.status_code for r in responses] == [200, 200, 304, 400, 404, 405, 401, 401, 400, 500]
    for response in responses:
        assert response.headers["X-Content-Type-Options"] == "nosniff", response.status_code
        assert response.headers["X-Request-ID"]
