"""How fast can a blog read be on miniflask and SQLAlchemy Core? Lower bounds beside the floor.

The 3x goal for the blog's data path (``docs/benchmarks.md``) compares each
endpoint with a hand-written floor: a WSGI function on ``sqlite3`` and
``json``. For the small reads, one post and a post's comments, the floor takes
a few tens of microseconds, and part of what the blog spends is not the
blog's own code but the two libraries it is built on. This benchmark
measures that part, in the same interleaved rounds as the floor
(``inprocess.measure``), anonymous and with the server cache off:

* ``floor``: the hand-written floor (``benchmarks/floors/``);
* ``bare``: a miniflask app with no hooks whose view returns a constant
  body: the framework alone;
* ``core``: the same app whose view also runs the blog's service for the
  endpoint (``services.posts.read_post``, ``services.comments.list_comments``)
  on a connection from the blog's engine, checked out and returned as the
  blog does, and still answers the constant body: the framework and the
  blog's SQL through SQLAlchemy Core, nothing else;
* ``web``: the blog API on miniflask whose view for the endpoint answers the
  service's result, read once before the rounds: the blog's hooks, its JSON,
  ETag and headers, and no SQL at all;
* ``blog``: the blog API on miniflask.

``core`` divided by ``floor`` is what the goal leaves for everything the blog
adds to its SQL (hooks, the JSON and its ETag, the headers): at or above 3x,
nothing. ``web`` divided by ``floor`` is the other side: what the goal leaves
for the SQL once the blog's web layer is paid for. Run it:
``python -m benchmarks.bounds [--rounds N]``.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks import blogdb, floors
from benchmarks.inprocess import APP_TITLES, Samples, call, measure
from benchmarks.scenarios import Scenario, make_scenario
from benchmarks.stats import summarize

#: The columns of the table, in order.
LABELS = ("floor", "bare", "core", "web", "blog")
TITLES = {
    "floor": APP_TITLES["floor"],
    "bare": "miniflask, constant answer",
    "core": "miniflask + the blog's SQL (Core)",
    "web": "blog, no SQL",
    "blog": "blog on miniflask",
}
#: What a view of the ``bare`` and ``core`` apps answers.
CONSTANT = b'{"constant": true}\n'


def build(directory: Path) -> list[Scenario]:
    """The two reads, each with its five apps, on a database seeded in ``directory``."""
    import miniflask
    from blog_api import create_app
    from blog_api.db import make_engine
    from blog_api.pagination import ListRequest, SortSpec
    from blog_api.services import comments, posts

    database = blogdb.seed(directory)
    config = blogdb.app_config(database, directory / "instance", cache=False)
    blog = create_app("miniflask", config)
    web_only = create_app("miniflask", config)
    floor = floors.build_floors(floors.FloorSettings(database.url, blogdb.SECRET_KEY))
    engine = make_engine(database.url)
    secret = blogdb.SECRET_KEY
    comment_list = ListRequest(1, 20, SortSpec.parse("created_at"))

    def read_post(post_id: int) -> Any:
        with engine.connect() as connection:
            return posts.read_post(connection, post_id, None)

    def read_comments(post_id: int) -> Any:
        with engine.connect() as connection:
            return comments.list_comments(connection, post_id, None, comment_list, secret)

    _answer_from_memory(web_only, database.published_post_id, read_post, read_comments)

    post = f"/api/v1/posts/{database.published_post_id}"
    one_post = "/api/v1/posts/<int:post_id>"
    reads = [
        ("bound_post", "GET /posts/<id>", "get_post", post, one_post, read_post),
        (
            "bound_comments",
            "GET /posts/<id>/comments",
            "list_comments",
            f"{post}/comments",
            f"{one_post}/comments",
            read_comments,
        ),
    ]
    scenarios = []
    for name, title, floor_name, path, rule, service in reads:
        targets = {
            "floor": floor[floor_name],
            "bare": _app(miniflask, rule, None),
            "core": _app(miniflask, rule, service),
            "web": web_only,
            "blog": blog,
        }
        scenario = make_scenario(name, title, targets, "GET", path, kind="bound")
        for label, app in targets.items():
            status = call(app, scenario.environ, scenario.body).status
            assert status == 200, f"{label} answered {path} with {status}"
        answers = [
            call(targets[label], scenario.environ, scenario.body) for label in ("web", "blog")
        ]
        assert answers[0].body == answers[1].body, f"the web app's {path} is not the blog's"
        scenarios.append(scenario)
    return scenarios


def _app(fw: Any, rule: str, service: Callable[[int], None] | None) -> Any:
    """An app with no hooks and one route, ``rule``, answering :data:`CONSTANT`
    after ``service(post_id)`` if given."""
    app = fw.Flask("bounds")

    @app.route(rule)
    def view(post_id: int) -> Any:
        if service is not None:
            service(post_id)
        return fw.Response(CONSTANT, mimetype="application/json")

    return app


def _answer_from_memory(
    app: Any, post_id: int, read_post: Callable[[int], Any], read_comments: Callable[[int], Any]
) -> None:
    """Make ``app``'s two read views answer what the services returned for ``post_id``,
    once, as the blog's views answer it (``posts.get_post``, ``comments.list_comments``)."""
    import miniflask
    from blog_api.web import PUBLIC, Web

    web = Web(miniflask)
    post, page = read_post(post_id), read_comments(post_id)
    app.view_functions["posts.get_post"] = lambda post_id: web.respond(post, cache=PUBLIC)
    app.view_functions["comments.list_comments"] = lambda post_id: web.page(page, cache=PUBLIC)


def table(scenarios: Sequence[Scenario], samples: Samples) -> str:
    """Median µs per app (CPU time) and each app's median per-round ratio to the floor."""
    lines = [
        "| endpoint | " + " | ".join(TITLES[label] for label in LABELS) + " |",
        "|---|" + "---:|" * len(LABELS),
    ]
    for scenario in scenarios:
        rounds = samples.cpu[scenario.name]
        cells = []
        for label in LABELS:
            median = summarize(rounds[label])["median"]
            ratios = [
                mine / floor for mine, floor in zip(rounds[label], rounds["floor"], strict=True)
            ]
            ratio = summarize(ratios)["median"]
            cells.append(f"{median:.0f} µs" + ("" if label == "floor" else f" ({ratio:.2f}x)"))
        lines.append(f"| {scenario.title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=30, help="interleaved rounds (default 30)")
    parser.add_argument("--slot-ms", type=float, default=40.0, help="ms per app per round")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-bounds-") as directory:
        scenarios = build(Path(directory))
        samples = measure(scenarios, args.rounds, args.slot_ms)
    print(table(scenarios, samples))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
