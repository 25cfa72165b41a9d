"""Seed question 5: RESTful routes, HTTP methods and status codes.

Drives the blog API (``blog_api/``, here on miniflask with a throwaway SQLite
database) through one resource's whole life, and through the usual mistakes,
printing method, path and status for each call:

* 201 Created with a ``Location`` header, 200 OK, 204 No Content;
* 400/415/422 for bad input, 401 without a token, 404, 405 with ``Allow``,
  412 for a stale ``If-Match``; every error in one JSON shape.

Read with docs/errors.md and docs/blog_api.md. Run: ``.venv/bin/python examples/seed_05_rest.py``
"""

from __future__ import annotations

from typing import Any

from seed_blog import make_blog_app, sign_up


def show(method: str, path: str, response: Any, note: str = "") -> None:
    print(f"{method:<6} {path:<26} -> {response.status_code} {note}".rstrip())


def main() -> None:
    app = make_blog_app()
    client = app.test_client()
    auth = sign_up(client)

    new = {"title": "REST", "body": "Resources and verbs", "tags": ["http"], "status": "published"}
    created = client.post("/api/v1/posts", json=new, headers=auth)
    post_id = created.get_json()["id"]
    url = f"/api/v1/posts/{post_id}"
    show("POST", "/api/v1/posts", created, f"Location: {created.headers['Location']}")

    fetched = client.get(url)
    show("GET", url, fetched, f"ETag: {fetched.headers['ETag']}")
    show("GET", "/api/v1/posts?per_page=2", client.get("/api/v1/posts?per_page=2"))

    changed = dict(new, title="REST, revised")
    if_match = {**auth, "If-Match": fetched.headers["ETag"]}
    show("PUT", url, client.put(url, json=changed, headers=if_match), "(If-Match: current ETag)")
    show("PUT", url, client.put(url, json=changed, headers=if_match), "(same ETag again: stale)")
    patch_headers = {**auth, "If-Match": client.get(url).headers["ETag"]}
    show("PATCH", url, client.patch(url, json={"tags": ["rest"]}, headers=patch_headers))

    print("-- mistakes --")
    show("POST", "/api/v1/posts", client.post("/api/v1/posts", json=new), "(no token)")
    bad = client.post("/api/v1/posts", json={"title": 5}, headers=auth)
    show("POST", "/api/v1/posts", bad, f"(wrong field types) {bad.get_json()['type']}")
    show(
        "POST", "/api/v1/posts", client.post("/api/v1/posts", data="x", headers=auth), "(not JSON)"
    )
    wrong_method = client.post(url, json=new, headers=auth)
    show("POST", url, wrong_method, f"Allow: {wrong_method.headers['Allow']}")

    etag = client.get(url).headers["ETag"]
    show("DELETE", url, client.delete(url, headers={**auth, "If-Match": etag}))
    gone = client.get(url)
    show("GET", url, gone, f"{gone.get_json()}")
    print(f"DELETE {url} -> 204")


if __name__ == "__main__":
    main()
