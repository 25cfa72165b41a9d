"""Smoke tests for the benchmark harness: correctness only, never timing.

Each in-process scenario is run once per app and every app must answer it
with the same status and body; the wrk and importtime parsers are checked on
captured output; the report renders from a tiny synthetic run. No gunicorn is
started here (that is ``make bench``'s job and takes minutes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import apps, footprint, http_load, inprocess, instructions, report

SAMPLE = Path(__file__).parent / "wrk_output_sample.txt"

#: What a results file says of its run, for the report tests' made-up runs.
RUN_META = {
    "date": "d",
    "mode": "quick",
    "commit": "c",
    "dirty": False,
    "python": "3.11",
    "versions": {"flask": "3.1", "werkzeug": "3.1"},
    "cpus": 2,
    "loadavg_at_start": [0.1, 0.1, 0.1],
}


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> list[inprocess.Scenario]:
    """Every scenario, blog API included, on a freshly seeded database."""
    return inprocess.build_scenarios(tmp_path_factory.mktemp("bench"))


def test_every_app_answers_every_scenario_with_the_same_status_and_body(
    scenarios: list[inprocess.Scenario],
) -> None:
    inprocess.verify(scenarios)


def test_scenarios_cover_the_issue_list_and_floors_only_the_simple_four(
    scenarios: list[inprocess.Scenario],
) -> None:
    names = {scenario.name for scenario in scenarios}
    assert {"text", "json_param", "post_echo", "not_found", "hooks", "blueprint"} <= names
    assert {"template", "session", "blog_list", "blog_post_304"} <= names
    for scenario in scenarios:
        assert {"flask", "miniflask"} <= set(scenario.targets)
        with_floors = scenario.name in {"text", "json_param", "post_echo", "not_found"}
        assert ("wsgi" in scenario.targets) is with_floors


def test_status_codes_are_the_intended_ones(scenarios: list[inprocess.Scenario]) -> None:
    expected = {"post_echo": 201, "not_found": 404, "blog_post_304": 304, "floor_create": 201}
    for scenario in scenarios:
        answer = inprocess.call(scenario.targets["flask"], scenario.environ, scenario.body)
        assert answer.status == expected.get(scenario.name.removesuffix("_nocache"), 200)


def test_timed_loop_runs_each_scenario_once_per_app(scenarios: list[inprocess.Scenario]) -> None:
    for scenario in scenarios:
        for app in scenario.targets.values():
            timing = inprocess.time_calls(app, scenario.environ, scenario.body, 1)
            assert timing.wall_us > 0
            assert timing.cpu_us >= 0


def test_verify_fails_loudly_when_bodies_differ() -> None:
    environ, body = inprocess.prepare_environ("GET", "/text")

    def other(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b"something else"]

    scenario = inprocess.Scenario(
        "text", "t", "framework", environ, body, {"wsgi": apps.bare_wsgi_app, "other": other}
    )
    with pytest.raises(inprocess.HarnessError, match="disagree on scenario 'text'"):
        inprocess.verify([scenario])


def test_ratios_are_per_round_and_hook_cost_is_difference_over_six() -> None:
    environ, body = inprocess.prepare_environ()
    scenarios = [
        inprocess.Scenario(name, name, "framework", environ, body, {"flask": apps.bare_wsgi_app})
        for name in ("json_param", "hooks")
    ]
    for scenario in scenarios:
        scenario.targets["miniflask"] = apps.bare_wsgi_app
    samples = inprocess.Samples(
        means={
            "json_param": {"flask": [50.0, 60.0, 40.0], "miniflask": [25.0, 24.0, 20.0]},
            "hooks": {"flask": [56.0, 66.0, 46.0], "miniflask": [28.0, 27.0, 23.0]},
        },
        calls={name: {"flask": 10, "miniflask": 20} for name in ("json_param", "hooks")},
    )
    result = inprocess.summarize_run(scenarios, samples)
    json_param = result["scenarios"][0]["apps"]["miniflask"]
    assert json_param["ratio_to_flask"]["median"] == pytest.approx(0.5)
    assert json_param["us"]["median"] == 24.0
    assert result["hooks"]["flask"]["median"] == pytest.approx(1.0)
    assert result["hooks"]["miniflask"]["median"] == pytest.approx(0.5)


def test_parse_wrk_reads_the_report_line_of_captured_output() -> None:
    parsed = http_load.parse_wrk(SAMPLE.read_text())
    assert parsed["requests"] == 451
    assert parsed["rps"] == pytest.approx(451 / 2.017056)
    assert parsed["p50_ms"] == pytest.approx(28.715)
    assert parsed["p99_ms"] == pytest.approx(321.414)
    assert parsed["non_2xx"] == 0
    assert parsed["socket_errors"] == 0


def test_parse_wrk_without_report_line_raises() -> None:
    text = SAMPLE.read_text()
    truncated = text[: text.index("WRK_JSON")]
    with pytest.raises(ValueError, match="no WRK_JSON line"):
        http_load.parse_wrk(truncated)


def test_write_script_posts_json_with_a_bearer_token() -> None:
    endpoint = http_load.endpoints(7)[-1]
    script = http_load.wrk_script(endpoint, "abc.def-ghi_jkl")
    assert 'wrk.method = "POST"' in script
    assert 'wrk.headers["Authorization"] = "Bearer abc.def-ghi_jkl"' in script
    assert "application/json" in script
    assert "done = function" in script


def test_signed_in_read_sends_a_bearer_token_and_no_body() -> None:
    endpoint = next(e for e in http_load.endpoints(7) if e.name == "posts_list_signed_in")
    script = http_load.wrk_script(endpoint, "abc.def")
    assert 'wrk.method = "GET"' in script
    assert 'wrk.headers["Authorization"] = "Bearer abc.def"' in script
    assert "wrk.body" not in script and "Content-Type" not in script


def test_parse_importtime_takes_the_top_level_cumulative_figure() -> None:
    report_text = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       500 |        900 |   flask.json\n"
        "import time:       685 |      28017 | flask\n"
    )
    assert footprint.parse_importtime(report_text, "flask") == 28017
    with pytest.raises(ValueError):
        footprint.parse_importtime(report_text, "miniflask")


def test_instruction_counter_names_only_framework_scenarios_and_runs_them(
    scenarios: list[inprocess.Scenario],
) -> None:
    framework_scenarios = [s.name for s in scenarios if s.kind == "framework"]
    assert sorted(instructions.SCENARIOS) == sorted(framework_scenarios)
    for scenario in instructions.SCENARIOS[:2]:
        for framework in instructions.FRAMEWORKS:
            instructions.run_requests(framework, scenario, 1)  # the child's work, no valgrind


def test_instruction_counter_reads_callgrinds_total_and_tabulates() -> None:
    output = "==4242== Events    : Ir\n==4242== Collected : 987654321\n==4242== \n"
    assert instructions.parse_callgrind_total(output) == 987_654_321
    with pytest.raises(RuntimeError, match="no instruction total"):
        instructions.parse_callgrind_total("valgrind: command not found")
    rendered = instructions.table({"text": {"flask": 400_000, "miniflask": 150_000}})
    assert rendered.splitlines()[-1] == "| text | 400,000 | 150,000 | 0.38 |"


def test_instruction_counter_refuses_unknown_scenarios() -> None:
    with pytest.raises(SystemExit):
        instructions.main(["no_such_scenario"])


def test_project_bytecode_is_compiled_before_import_timings() -> None:
    """Flask comes with .pyc files from pip; miniflask must too, or imports compare compiling."""
    import importlib.util

    from benchmarks.environment import ROOT, compile_project_bytecode

    compiled = [
        Path(importlib.util.cache_from_source(str(ROOT / package / "__init__.py")))
        for package in ("miniflask", "blog_api")
    ]
    for path in compiled:
        path.unlink(missing_ok=True)  # both packages are imported already: nothing rewrites it
    compile_project_bytecode()
    assert all(path.is_file() for path in compiled)


def test_run_metadata_is_taken_before_the_measurements(monkeypatch: pytest.MonkeyPatch) -> None:
    """The load average "at start" must not include the benchmark's own load."""
    calls: list[str] = []
    monkeypatch.setattr(inprocess, "describe", lambda mode: calls.append("describe") or {})
    monkeypatch.setattr(inprocess, "measure", lambda *args: calls.append("measure") or {})
    monkeypatch.setattr(inprocess, "summarize_run", lambda *args: {})
    inprocess.run(full=False, blog=False)
    assert calls == ["describe", "measure"]


def test_report_renders_goals_and_tables_from_results(tmp_path: Path) -> None:
    environ, body = inprocess.prepare_environ()
    scenario = inprocess.Scenario(
        "text",
        "plain-text GET",
        "framework",
        environ,
        body,
        {"flask": apps.bare_wsgi_app, "miniflask": apps.bare_wsgi_app},
    )
    samples = inprocess.Samples(
        means={"text": {"flask": [50.0, 52.0], "miniflask": [20.0, 21.0]}},
        calls={"text": {"flask": 1, "miniflask": 1}},
    )
    data = {
        "meta": RUN_META,
        "settings": {"rounds": 2, "slot_ms": 1.0, "blog_cache": "on"},
        **inprocess.summarize_run([scenario], samples),
    }
    page = report.render(data, None, None)
    assert "1 of 1 goals met" in page
    assert "0.40x" in page
    assert "n/a" in page
    report.chart_inprocess(data, "framework", tmp_path / "chart.png")
    assert (tmp_path / "chart.png").stat().st_size > 0


def test_report_shows_the_floors_table_goal_and_chart(tmp_path: Path) -> None:
    environ, body = inprocess.prepare_environ()
    targets = {label: apps.bare_wsgi_app for label in ("floor", "flask", "miniflask")}
    scenarios = [
        inprocess.Scenario(name, title, "floor", environ, body, targets, "exact")
        for name, title in (("floor_post", "GET /posts/<id>"), ("floor_list", "GET /posts"))
    ]
    samples = inprocess.Samples(
        means={
            "floor_post": {"floor": [10.0, 10.0], "flask": [40.0, 44.0], "miniflask": [35.0, 39.0]},
            "floor_list": {"floor": [10.0, 10.0], "flask": [50.0, 52.0], "miniflask": [20.0, 22.0]},
        },
        calls={name: dict.fromkeys(targets, 1) for name in ("floor_post", "floor_list")},
    )
    data = {
        "meta": RUN_META,
        "settings": {"rounds": 2, "slot_ms": 1.0, "blog_cache": "off"},
        **inprocess.summarize_run(scenarios, samples),
    }
    page = report.render(data, None, None)
    assert "## The blog's data path against hand-written floors" in page
    assert "img/benchmarks/floors.png" in page
    assert "every endpoint ≤ 3x its floor (miniflask)" in page
    assert "worst: GET /posts/<id> 3.70x" in page
    assert "❌ fail" in page
    report.chart_inprocess(data, "floor", tmp_path / "floors.png")
    assert (tmp_path / "floors.png").stat().st_size > 0


def test_report_shows_postgres_floors_in_a_table_of_their_own_never_judged(
    tmp_path: Path,
) -> None:
    environ, body = inprocess.prepare_environ()
    targets = {label: apps.bare_wsgi_app for label in ("floor", "flask", "miniflask")}
    scenarios = [
        inprocess.Scenario("floor_post", "GET /posts/<id>", "floor", environ, body, targets),
        inprocess.Scenario(
            "floor_pg_post", "GET /posts/<id> on PostgreSQL", "floor_pg", environ, body, targets
        ),
    ]
    samples = inprocess.Samples(
        means={
            "floor_post": {"floor": [10.0, 10.0], "flask": [40.0, 44.0], "miniflask": [20.0, 22.0]},
            "floor_pg_post": {"floor": [10.0, 10.0], "flask": [90.0, 94.0], "miniflask": [80, 82]},
        },
        calls={name: dict.fromkeys(targets, 1) for name in ("floor_post", "floor_pg_post")},
    )
    settings = {"rounds": 2, "slot_ms": 1.0, "blog_cache": "off", "postgresql": "PostgreSQL 15"}
    data = {"meta": RUN_META, "settings": settings, **inprocess.summarize_run(scenarios, samples)}
    page = report.render(data, None, None)
    assert "## The same on PostgreSQL (informational)" in page
    assert "img/benchmarks/floors_pg.png" in page
    assert "| GET /posts/<id> on PostgreSQL | 10.0 [10.0-10.0] | 81.0 [80.0-82.0]" in page
    # The goal is judged on SQLite alone: 2.10x passes though PostgreSQL's row is 8.10x.
    assert "worst: GET /posts/<id> 2.10x [2.00-2.20]; 1 of 1 endpoints within" in page
    report.chart_inprocess(data, "floor_pg", tmp_path / "floors_pg.png")
    assert (tmp_path / "floors_pg.png").stat().st_size > 0
    skipped = {**data, "settings": {**settings, "postgresql": "not run: no server"}}
    skipped["scenarios"] = [s for s in data["scenarios"] if s["kind"] == "floor"]
    page = report.render(skipped, None, None)
    assert "On PostgreSQL: not run: no server." in page
    assert "## The same on PostgreSQL" not in page


def test_the_writes_add_no_row_to_the_lists_the_reads_load() -> None:
    # A write run grows the posts table: its posts must be drafts of another
    # account than the signed-in reader's, or each round's reads would slow
    # down as the writes of the rounds before pile into their lists.
    points = {point.name: point for point in http_load.endpoints(7)}
    reader, writer = points["posts_list_signed_in"].account, points["post_create"].account
    assert reader is not None and writer is not None
    assert http_load.ACCOUNTS[reader]["username"] != http_load.ACCOUNTS[writer]["username"]
    assert json.loads(http_load.WRITE_BODY)["status"] == "draft"
