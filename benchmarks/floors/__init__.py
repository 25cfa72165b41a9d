"""Hand-written floors for the blog API's data path (issue 14).

A floor is what one blog endpoint costs when written by hand, as tightly as
a careful programmer would, with nothing but the database driver (``sqlite3``,
or psycopg 3 for PostgreSQL, the blog's own), ``json``,
``hashlib``/``hmac``/``base64``/``uuid`` and PyJWT for the Bearer token. Each
floor is a plain WSGI callable that gives the **same body and headers** as the
blog API (``Date`` and ``X-Request-ID`` vary per request, but are sent), so
the blog's time ÷ the floor's time says what the blog's layers (framework,
SQLAlchemy, pydantic, hooks) cost on top of the work itself.

The floors do the blog's checks, not fewer: the ``Host`` against the trusted
hosts, the request id, the Bearer token (signature, lifetime, issuer, claims,
then the revocation list and the user's ``token_version`` in **one** SELECT),
visibility of drafts, query parameters, the JSON body's validation, ``If-Match``
and the optimistic ``version`` column on PATCH, ``If-None-Match`` on GETs.
They do it with the fewest statements (a post's tags come with its row, as a
comma-joined aggregate sorted in Python; a new post's tags are linked by one
``INSERT ... SELECT``). What they leave out, because the benchmark's requests
never use it: the list filters (``author``, ``tag``, ``q``...) and other sort
orders (refused with a 400), chunked request bodies, and the blog's exact
error wording (errors have the blog's shape and status, with shorter messages).

The package, in the order a request meets it:

* ``common``: settings, errors, the request and reply shapes all modules share;
* ``responses``: ``endpoint`` (host, route, token, errors) and the JSON response;
* ``tokens``: the Bearer token check;
* ``reads`` and ``writes``: the views, with ``validation`` for a post's body;
* ``databases``: SQLite and PostgreSQL, and what their SQL spells differently.

Example::

    floor = build_floors(FloorSettings(Path("blog.db"), secret_key))
    floor["get_post"](environ, start_response)
"""

from __future__ import annotations

import re

from benchmarks.floors.common import COMMENTS, ONE_POST, POSTS, Floor, FloorSettings, WSGIApp
from benchmarks.floors.databases import connect
from benchmarks.floors.reads import get_post, list_comments, list_posts
from benchmarks.floors.responses import endpoint
from benchmarks.floors.writes import create_post, patch_post

__all__ = ["FloorSettings", "WSGIApp", "build_floors"]


def build_floors(settings: FloorSettings) -> dict[str, WSGIApp]:
    """One WSGI callable per endpoint, sharing one database connection.

    Keys: ``list_posts`` (page and cursor modes), ``get_post``,
    ``list_comments``, ``create_post``, ``patch_post``.
    """
    floor = Floor(settings, connect(settings.database))
    posts = re.compile(re.escape(POSTS))
    return {
        "list_posts": endpoint(floor, "GET", posts, list_posts),
        "get_post": endpoint(floor, "GET", ONE_POST, get_post),
        "list_comments": endpoint(floor, "GET", COMMENTS, list_comments),
        "create_post": endpoint(floor, "POST", posts, create_post),
        "patch_post": endpoint(floor, "PATCH", ONE_POST, patch_post),
    }
