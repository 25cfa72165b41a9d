"""Seed question 8: SQL injection, XSS and CSRF, and how each is stopped.

1. SQL injection: the same lookup written by string formatting (injectable)
   and with bound parameters (not), on sqlite3; then the blog API's search
   given the classic payload, which SQLAlchemy binds as plain text;
2. XSS: a ``<script>`` comment on the blog's reader site comes back escaped
   (Jinja2 autoescaping), and every page carries a Content-Security-Policy;
3. CSRF: a form post to the reader site without the session's token is
   refused with 400 and stores nothing; with the token it works. Passwords
   are stored as Werkzeug hashes, never as text.

Code: blog_api/site/security.py, blog_api/site/views.py, blog_api/services/posts.py.
Run: ``.venv/bin/python examples/seed_08_security.py``
"""

from __future__ import annotations

import re
import sqlite3

from seed_blog import PASSWORD, make_blog_app, sign_up
from sqlalchemy import text

PAYLOAD = "' OR '1'='1"
TOKEN_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def sql_injection() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE users (name TEXT, secret TEXT)")
    db.executemany("INSERT INTO users VALUES (?, ?)", [("alice", "a-secret"), ("bob", "b-secret")])
    formatted = f"SELECT name, secret FROM users WHERE name = '{PAYLOAD}'"
    leaked = db.execute(formatted).fetchall()
    bound = db.execute("SELECT name, secret FROM users WHERE name = ?", (PAYLOAD,)).fetchall()
    print(
        f"1. name = {PAYLOAD!r}: formatted SQL returns {len(leaked)} rows {leaked}; "
        f"bound parameter returns {len(bound)}"
    )


def token_of(html: str) -> str:
    match = TOKEN_FIELD.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def main() -> None:
    sql_injection()
    app = make_blog_app()
    api = app.test_client()
    auth = sign_up(api, "alice")
    post = {"title": "Hello", "body": "World", "tags": [], "status": "published"}
    post_id = api.post("/api/v1/posts", json=post, headers=auth).get_json()["id"]
    found = api.get("/api/v1/posts", query_string={"q": PAYLOAD}).get_json()
    print(f"   blog search q={PAYLOAD!r} -> {found['total']} posts (the payload is just text)")
    with app.extensions["blog_db"].engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users")).scalar_one()
    print(f"   password stored as {stored.split('$')[0]}$... (never the password itself)")

    browser = app.test_client()
    login_page = browser.get("/login").get_data(as_text=True)
    form = {"username": "alice", "password": PASSWORD, "csrf_token": token_of(login_page)}
    browser.post("/login", data=form)
    page = browser.get(f"/posts/{post_id}")
    token = token_of(page.get_data(as_text=True))
    print(f"2. CSP: {page.headers['Content-Security-Policy'][:60]}...")
    browser.post(
        f"/posts/{post_id}/comments",
        data={"body": "<script>alert(1)</script>", "csrf_token": token},
    )
    html = browser.get(f"/posts/{post_id}").get_data(as_text=True)
    print(
        f"   comment shown as {('&lt;script&gt;' in html and 'escaped text') or 'HTML!'}: "
        f"{'<script>alert(1)' not in html}"
    )

    forged = browser.post(f"/posts/{post_id}/comments", data={"body": "forged"})
    foreign = browser.post(
        f"/posts/{post_id}/comments", data={"body": "forged", "csrf_token": "made-up"}
    )
    comments = api.get(f"/api/v1/posts/{post_id}/comments").get_json()["items"]
    print(
        f"3. CSRF: no token -> {forged.status_code}, wrong token -> {foreign.status_code}; "
        f"comments stored: {[c['body'] for c in comments]}"
    )
    print(f"csrf: a form post without the token -> {forged.status_code}")


if __name__ == "__main__":
    main()
