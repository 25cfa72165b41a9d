"""``benchmarks/bounds.py``: the framework-and-Core lower bounds beside the floor."""

from __future__ import annotations

from pathlib import Path

from benchmarks import bounds
from benchmarks.inprocess import Samples, call, prepare_environ


def test_each_read_has_its_five_apps_and_the_core_app_runs_the_blogs_sql(
    tmp_path: Path,
) -> None:
    scenarios = bounds.build(tmp_path)
    assert [s.name for s in scenarios] == ["bound_post", "bound_comments"]
    for scenario in scenarios:
        assert list(scenario.targets) == list(bounds.LABELS)
        # The core app answers the constant body, having read the post: for a
        # post that does not exist the service raises the blog's NotFound
        # (an error this app has no handler for: a 500), where the bare app,
        # which reads nothing, still says 200.
        path = scenario.environ["PATH_INFO"]
        post_id = path.split("/")[4]
        environ, body = prepare_environ("GET", path.replace(f"/{post_id}", "/999999"))
        assert call(scenario.targets["core"], scenario.environ, b"").body == bounds.CONSTANT
        assert call(scenario.targets["core"], environ, body).status == 500
        assert call(scenario.targets["bare"], environ, body).status == 200
        # The web app answers as the blog does, from memory: for the post that
        # does not exist it still gives the remembered answer, where the blog
        # reads the database and says 404.
        blog = call(scenario.targets["blog"], scenario.environ, b"")
        web = call(scenario.targets["web"], scenario.environ, b"")
        assert web.status == blog.status == 200 and web.body == blog.body
        assert call(scenario.targets["blog"], environ, body).status == 404
        assert call(scenario.targets["web"], environ, body).status == 200


def test_the_table_gives_median_microseconds_and_ratios_to_the_floor(tmp_path: Path) -> None:
    scenarios = bounds.build(tmp_path)[:1]
    rounds = {
        "floor": [10.0, 20.0],
        "bare": [5.0, 10.0],
        "core": [30.0, 60.0],
        "web": [20.0, 50.0],
        "blog": [40.0, 80.0],
    }
    samples = Samples({}, {}, {"bound_post": rounds})
    lines = bounds.table(scenarios, samples).splitlines()
    assert lines[2] == (
        "| GET /posts/<id> | 15 µs | 8 µs (0.50x) | 45 µs (3.00x) | 35 µs (2.25x) | 60 µs (4.00x) |"
    )
