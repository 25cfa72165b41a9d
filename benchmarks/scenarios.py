"""The scenarios of the in-process benchmark: one request each, and the apps that answer it.

Three families, built by ``build_scenarios``:

* the scenario app on Flask and miniflask (``apps.py``), with the bare WSGI
  and Werkzeug controls and the peers (``peers.py``) where they can answer;
* the blog API on both frameworks, its server cache on and off;
* the blog's data path (cache off) beside its hand-written floors
  (``floors/``), on SQLite and, given a seeded schema, on PostgreSQL.

Environs are prepared once per scenario with Werkzeug's ``EnvironBuilder``;
``inprocess.py`` checks the answers agree and times the calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from werkzeug.test import EnvironBuilder

from benchmarks import apps, blogdb, floors, peers

#: The kinds of the floors' scenarios: on SQLite (the 3x goal), on PostgreSQL (reported).
FLOOR_KINDS = ("floor", "floor_pg")


@dataclass
class Scenario:
    """One request, prepared once, and the apps that answer it.

    Attributes:
        name: short id used in results files.
        title: what a reader sees in tables.
        kind: ``"framework"`` (the scenario app; counts for the 0.5x goal),
            ``"blog"`` (the blog API on both frameworks), ``"floor"`` (the
            blog's data path against its hand-written floor; the 3x goal) or
            ``"floor_pg"`` (the same on PostgreSQL; reported, not judged).
        environ: the WSGI environ without ``wsgi.input``.
        body: the request body, wrapped in a fresh ``BytesIO`` per call.
        targets: app label -> WSGI callable.
        check: how ``verify`` compares the answers: ``"body"`` (status, body
            and Content-Type), ``"exact"`` (and every header, values included,
            but those of ``inprocess.PER_REQUEST_HEADERS``) or ``"write"`` (as exact,
            except what differs between two writes: ``PER_WRITE_FIELDS`` of
            the JSON body, ``PER_WRITE_HEADERS`` and the id ending ``Location``).
    """

    name: str
    title: str
    kind: str
    environ: dict[str, Any]
    body: bytes
    targets: dict[str, apps.WSGIApp] = field(default_factory=dict)
    check: str = "body"


def prepare_environ(
    method: str = "GET",
    path: str = "/",
    *,
    json: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[dict[str, Any], bytes]:
    """Build an environ once with Werkzeug's ``EnvironBuilder``; split off the body."""
    pairs = list((headers or {}).items())
    builder = EnvironBuilder(method=method, path=path, json=json, headers=pairs)
    try:
        environ = builder.get_environ()
    finally:
        builder.close()
    body = environ.pop("wsgi.input").read()
    return environ, body


def build_scenarios(
    blog_directory: Path | None, postgres: blogdb.SeededPostgres | None = None
) -> list[Scenario]:
    """All scenarios with their apps; the blog ones only when a directory is given.

    Args:
        blog_directory: a scratch directory for the seeded SQLite database; ``None``
            skips the blog API scenarios.
        postgres: a seeded PostgreSQL schema for the floors on PostgreSQL; ``None``
            skips them.
    """
    import flask

    import miniflask

    frameworks = {"flask": flask, "miniflask": miniflask}
    plain = {label: apps.build_app(fw) for label, fw in frameworks.items()}
    hooked = {label: apps.build_app(fw, hooks=apps.HOOKS) for label, fw in frameworks.items()}
    controls: dict[str, apps.WSGIApp] = {
        "wsgi": apps.bare_wsgi_app,
        "werkzeug": apps.werkzeug_app,
    }
    others = {"bottle": peers.bottle_app(), "falcon": peers.falcon_app()}
    everyone = {**controls, **plain, **others}
    scenarios = [
        make_scenario("text", "plain-text GET", everyone, "GET", "/text"),
        make_scenario("json_param", "JSON GET with a URL parameter", everyone, "GET", "/users/42"),
        make_scenario(
            "post_echo",
            "POST JSON, echoed with 201",
            everyone,
            "POST",
            "/echo",
            json=apps.ECHO_PAYLOAD,
        ),
        make_scenario("not_found", "404 (no route matches)", everyone, "GET", "/missing"),
        make_scenario(
            "hooks",
            f"JSON GET + {apps.HOOKS} before/{apps.HOOKS} after hooks",
            hooked,
            "GET",
            "/users/42",
        ),
        make_scenario("blueprint", "route in a nested blueprint", plain, "GET", "/api/v1/items/7"),
        make_scenario("template", "template render (Jinja, 10-row loop)", plain, "GET", "/page"),
        make_scenario(
            "session",
            "session read + write (signed cookie)",
            plain,
            "GET",
            "/session",
            headers={"Cookie": f"session={_session_cookie(plain['flask'])}"},
        ),
    ]
    scenarios.append(_tracing_scenario(plain["flask"]))
    if blog_directory is not None:
        scenarios += _blog_scenarios(blog_directory, frameworks)
        if postgres is not None:
            scenarios += postgres_floor_scenarios(postgres, blog_directory / "instance")
    return scenarios


def _tracing_scenario(flask_app: Any) -> Scenario:
    """The JSON GET on a miniflask app with the request tracer on.

    With ``TRACE`` off (every other row) miniflask runs no tracing code, so
    the cost of the tracer shows only here, against the JSON GET row.
    """
    import miniflask

    traced = apps.build_app(miniflask)
    traced.config["TRACE"] = True
    return make_scenario(
        "json_param_traced",
        "JSON GET, miniflask with TRACE on",
        {"flask": flask_app, "miniflask": traced},
        "GET",
        "/users/42",
        kind="tracing",
    )


def make_scenario(
    name: str,
    title: str,
    targets: dict[str, Any],
    method: str,
    path: str,
    *,
    json: Any = None,
    headers: dict[str, str] | None = None,
    kind: str = "framework",
    check: str = "body",
) -> Scenario:
    """A ``Scenario`` whose environ and body are prepared from the request's parts."""
    environ, body = prepare_environ(method, path, json=json, headers=headers)
    return Scenario(name, title, kind, environ, body, dict(targets), check)


def _session_cookie(flask_app: Any) -> str:
    """A session cookie holding ``{"n": 1}``, signed as Flask signs it.

    miniflask must read Flask's cookie (same serializer, salt and key), so
    one cookie serves both; if it could not, ``verify`` would fail on the body.
    """
    serializer = flask_app.session_interface.get_signing_serializer(flask_app)
    cookie: str = serializer.dumps({"n": 1})
    return cookie


def _blog_scenarios(directory: Path, frameworks: dict[str, Any]) -> list[Scenario]:
    """The blog API's list and 304 revalidation, with the server cache on and off."""
    from blog_api import create_app

    database = blogdb.seed(directory)
    instance = directory / "instance"
    cached = {
        label: create_app(label, blogdb.app_config(database, instance)) for label in frameworks
    }
    uncached = {
        label: create_app(label, blogdb.app_config(database, instance, cache=False))
        for label in frameworks
    }
    post_path = f"/api/v1/posts/{database.published_post_id}"
    etag = cached["flask"].test_client().get(post_path).headers["ETag"]
    revalidate = {"If-None-Match": etag}
    scenarios = [
        make_scenario(
            "blog_list",
            "blog: GET /posts (page of 20)",
            cached,
            "GET",
            "/api/v1/posts",
            kind="blog",
        ),
        make_scenario(
            "blog_list_nocache",
            "blog: GET /posts, server cache off",
            uncached,
            "GET",
            "/api/v1/posts",
            kind="blog",
        ),
        make_scenario(
            "blog_post_304",
            "blog: GET /posts/<id>, 304 revalidation",
            cached,
            "GET",
            post_path,
            headers=revalidate,
            kind="blog",
        ),
        make_scenario(
            "blog_post_304_nocache",
            "blog: GET /posts/<id> 304, server cache off",
            uncached,
            "GET",
            post_path,
            headers=revalidate,
            kind="blog",
        ),
    ]
    scenarios.extend(floor_scenarios(database, uncached))
    return scenarios


#: The body of the POST scenario: a draft, so the anonymous lists stay the same
#: while the run adds posts; one tag exists already, one is new the first time.
NEW_POST = {"title": " A new post ", "body": "Text of the post.", "tags": ["Python", "floor"]}
#: The body of the PATCH scenario, sent again and again to the same post.
POST_CHANGES = {"title": "An edited title", "tags": ["python", "edited"]}


def postgres_floor_scenarios(database: blogdb.SeededPostgres, instance: Path) -> list[Scenario]:
    """The floor scenarios on PostgreSQL: the blog on both frameworks (cache off) and the
    floors, all on the seeded schema; named ``floor_pg_*``, of kind ``floor_pg``."""
    from blog_api import create_app

    blog = {
        label: create_app(label, blogdb.app_config(database, instance, cache=False))
        for label in ("flask", "miniflask")
    }
    return floor_scenarios(database, blog, on_postgres=True)


def floor_scenarios(
    database: blogdb.Seeded, blog: dict[str, Any], on_postgres: bool = False
) -> list[Scenario]:
    """The blog's reads and writes (server cache off) beside their hand-written floors.

    Writes carry an access token from the blog's own log-in endpoint; the
    floors check it as the blog does (same secret, same database).
    ``on_postgres`` names the scenarios ``floor_pg_*`` and titles them so.
    """
    floor = floors.build_floors(floors.FloorSettings(database.url, blogdb.SECRET_KEY))
    login = blog["miniflask"].test_client().post("/api/v1/auth/login", json=blogdb.LOGIN)
    bearer = {"Authorization": f"Bearer {login.get_json()['access_token']}"}
    post = f"/api/v1/posts/{database.published_post_id}"
    draft = f"/api/v1/posts/{blogdb.draft_of(database, blogdb.LOGIN['username'])}"
    plan: list[tuple[str, str, str, str, str, dict[str, Any]]] = [
        ("floor_list", "GET /posts (page 1 of 20)", "list_posts", "GET", "/api/v1/posts", {}),
        (
            "floor_list_cursor",
            "GET /posts?cursor= (keyset)",
            "list_posts",
            "GET",
            "/api/v1/posts?cursor=",
            {},
        ),
        ("floor_post", "GET /posts/<id>", "get_post", "GET", post, {}),
        (
            "floor_comments",
            "GET /posts/<id>/comments",
            "list_comments",
            "GET",
            f"{post}/comments",
            {},
        ),
        ("floor_create", "POST /posts (Bearer)", "create_post", "POST", "/api/v1/posts", NEW_POST),
        ("floor_patch", "PATCH /posts/<id> (Bearer)", "patch_post", "PATCH", draft, POST_CHANGES),
    ]
    return [
        make_scenario(
            name.replace("floor_", "floor_pg_") if on_postgres else name,
            f"{title} on PostgreSQL" if on_postgres else title,
            {"floor": floor[endpoint], **blog},
            method,
            path,
            json=payload or None,
            headers=bearer if method != "GET" else None,
            kind="floor_pg" if on_postgres else "floor",
            check="exact" if method == "GET" else "write",
        )
        for name, title, endpoint, method, path, payload in plan
    ]
