"""Seed question 10: a blog API with CRUD, authentication, logging and unit tests.

The answer is the whole of ``blog_api/``; this script shows its three
cross-cutting parts working on one request each, on miniflask:

1. authentication: register, log in, create a post with the Bearer token,
   be refused without it (blog_api/auth.py, tokens.py, hooks.py);
2. logging: every request leaves one JSON line on the ``blog_api.request``
   logger, with request id, user, status and duration; an unhandled error
   leaves its traceback (blog_api/logs.py, hooks.py);
3. tests: the two test functions at the bottom of this file run under pytest,
   on Flask *and* on miniflask, as the 500-odd tests in tests/blog_api/ do.

Run: ``.venv/bin/python examples/seed_10_blog_api.py``
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

import pytest
from seed_blog import make_blog_app, sign_up

from blog_api.logs import REQUEST_LOGGER, JSONFormatter


class Collect(logging.Handler):
    """Keep formatted log lines in a list (production writes them to stderr)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.setFormatter(JSONFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def demo() -> None:
    app = make_blog_app(LOG_LEVEL="INFO")
    client = app.test_client()
    collect = Collect()
    logging.getLogger(REQUEST_LOGGER).addHandler(collect)
    try:
        auth = sign_up(client, "alice")
        post = {"title": "First", "body": "Hello", "tags": ["intro"], "status": "published"}
        created = client.post("/api/v1/posts", json=post, headers=auth)
        refused = client.post("/api/v1/posts", json=post)
        print(
            f"1. POST /posts with token -> {created.status_code}, without -> "
            f"{refused.status_code} {refused.get_json()['type']}"
        )
    finally:
        logging.getLogger(REQUEST_LOGGER).removeHandler(collect)
    line = json.loads(collect.lines[-2])  # the authenticated POST
    keys = ("event", "method", "path", "status", "user_id", "request_id", "duration_ms")
    print(f"2. log line: {json.dumps({key: line[key] for key in keys})}")


@pytest.fixture(params=["flask", "miniflask"])
def client(request: pytest.FixtureRequest) -> Any:
    return make_blog_app(request.param).test_client()


def test_create_post_needs_a_token_and_answers_201(client: Any) -> None:
    post = {"title": "Test", "body": "Body", "tags": [], "status": "published"}
    assert client.post("/api/v1/posts", json=post).status_code == 401
    response = client.post("/api/v1/posts", json=post, headers=sign_up(client))
    assert response.status_code == 201
    assert client.get(response.headers["Location"]).get_json()["title"] == "Test"


def main() -> None:
    demo()
    print("3. pytest on this file's tests, both frameworks:")
    sys.stdout.flush()
    # Only pytest's own plugins: third-party ones (hypothesis...) cost seconds to load.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    code = pytest.main([__file__, "-q", "-p", "no:cacheprovider", "--no-header"])
    print(f"tests exit code: {int(code)}")
    if code != 0:
        raise SystemExit(int(code))


if __name__ == "__main__":
    main()
