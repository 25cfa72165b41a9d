"""Turn benchmarks/results/*.json into docs/benchmarks.md and its PNG charts.

Nothing here measures anything: the page can be regenerated from stored
results at any time (``python -m benchmarks.report``), for example after
editing ``benchmarks/where_time_goes.md``, whose text is included verbatim.

Goals are judged from the stored medians exactly as the issue states them, and
the page shows every verdict, failures included.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.charts import chart_footprint, chart_http, chart_inprocess
from benchmarks.environment import ROOT, log, read_results
from benchmarks.inprocess import APP_LABELS, APP_TITLES
from benchmarks.scenarios import FLOOR_KINDS

DOC = ROOT / "docs" / "benchmarks.md"
IMAGES = ROOT / "docs" / "img" / "benchmarks"
NOTES = ROOT / "benchmarks" / "where_time_goes.md"
TARGET_RATIO = 0.5
TARGET_HOOK_US = 1.0
#: Issue 14: the blog on miniflask within this many times its hand-written floor.
TARGET_FLOOR_RATIO = 3.0
#: Peers shown beside Flask in the framework table (ratio to Flask), not judged.
PEERS = ("bottle", "falcon")


@dataclass(frozen=True)
class Goal:
    """One goal of the issue and whether this run meets it.

    ``clear`` says whether every round agrees with the verdict (the whole
    min-max range lies on one side of the target); ``False`` means the verdict
    rests on the median while some rounds went the other way, and ``None`` that
    there is no per-round spread to judge by.
    """

    goal: str
    measured: str
    passed: bool
    clear: bool | None = None


def ratio_goal(goal: str, ratio: dict[str, Any], limit: float, strict: bool = False) -> Goal:
    """A goal "ratio ≤ limit" (or "< limit" when ``strict``) judged on per-round values."""

    def meets(value: float) -> bool:
        return value < limit if strict else value <= limit

    passed = meets(ratio["median"])
    clear = meets(ratio["max"]) if passed else not meets(ratio["min"])
    return Goal(goal, f"{ratio['median']:.2f}x [{_range(ratio)}]", passed, clear)


def _range(values: dict[str, Any]) -> str:
    separator = " to " if values["min"] < 0 else "-"
    return f"{values['min']:.2f}{separator}{values['max']:.2f}"


# -- goals --------------------------------------------------------------------------------


def inprocess_goals(data: dict[str, Any]) -> list[Goal]:
    """miniflask <= 0.5x Flask per framework scenario, and each hook <= 1 µs."""
    goals = [
        ratio_goal(
            f"in-process {scenario['title']}: miniflask ≤ {TARGET_RATIO}x Flask",
            scenario["apps"]["miniflask"]["ratio_to_flask"],
            TARGET_RATIO,
        )
        for scenario in data["scenarios"]
        if scenario["kind"] == "framework"
    ]
    floor_goal = _floor_goal(data)
    if floor_goal is not None:
        goals.append(floor_goal)
    hook = data.get("hooks", {}).get("miniflask")
    if hook:
        verdict = ratio_goal("", hook, TARGET_HOOK_US)
        flask_hook = data["hooks"]["flask"]
        goals.append(
            Goal(
                f"each before/after hook ≤ {TARGET_HOOK_US:g} µs (miniflask)",
                f"{hook['median']:.2f} µs [{_range(hook)}] (Flask {flask_hook['median']:.2f} µs)",
                verdict.passed,
                verdict.clear,
            )
        )
    return goals


def _floor_goal(data: dict[str, Any]) -> Goal | None:
    """Every floor scenario: blog on miniflask ≤ 3x its floor, judged on the worst one."""
    ratios = {
        scenario["title"]: scenario["apps"]["miniflask"]["ratio_to_floor"]
        for scenario in data["scenarios"]
        if scenario["kind"] == "floor"
    }
    if not ratios:
        return None
    worst_title, worst = max(ratios.items(), key=lambda item: item[1]["median"])
    within = sum(ratio["median"] <= TARGET_FLOOR_RATIO for ratio in ratios.values())
    verdict = ratio_goal("", worst, TARGET_FLOOR_RATIO)
    return Goal(
        f"every endpoint ≤ {TARGET_FLOOR_RATIO:g}x its floor (miniflask)",
        f"worst: {worst_title} {worst['median']:.2f}x [{_range(worst)}]; "
        f"{within} of {len(ratios)} endpoints within",
        verdict.passed,
        verdict.clear,
    )


def http_goals(data: dict[str, Any]) -> list[Goal]:
    """Under gunicorn, per worker class and read endpoint: more requests/s, p99 no worse.

    Judged on the per-round ratios (each round runs A and B back to back, so a
    ratio compares like with like); the medians of each framework are shown too.
    """
    goals = []
    for run in data["worker_classes"]:
        for endpoint in run["endpoints"]:
            if not endpoint["read"]:
                continue
            mini, flask = endpoint["frameworks"]["miniflask"], endpoint["frameworks"]["flask"]
            where = f"gunicorn {run['worker_class']} {endpoint_label(endpoint)}"
            # "rps above Flask's" is "Flask ÷ miniflask < 1"; invert per round.
            rps = endpoint["rps_ratio_miniflask_to_flask"]
            inverse = {"median": 1 / rps["median"], "min": 1 / rps["max"], "max": 1 / rps["min"]}
            verdict = ratio_goal("", inverse, 1.0, strict=True)
            goals.append(
                Goal(
                    f"{where}: requests/s above Flask's",
                    f"{rps['median']:.2f}x per round [{_range(rps)}]; medians "
                    f"{mini['rps']['median']:.0f} vs {flask['rps']['median']:.0f}",
                    verdict.passed,
                    verdict.clear,
                )
            )
            p99 = endpoint["p99_ratio_miniflask_to_flask"]
            verdict = ratio_goal("", p99, 1.0)
            goals.append(
                Goal(
                    f"{where}: p99 no worse than Flask's",
                    f"{p99['median']:.2f}x per round [{_range(p99)}]; medians "
                    f"{mini['p99_ms']['median']:.1f} vs {flask['p99_ms']['median']:.1f} ms",
                    verdict.passed,
                    verdict.clear,
                )
            )
    return goals


def footprint_goals(data: dict[str, Any]) -> list[Goal]:
    """Idle worker RSS and import time below Flask's."""
    goals = [
        _below_goal(f"idle gunicorn worker RSS ({app}) below Flask's", values, "MiB")
        for app, values in data["worker_rss_mib"].items()
    ]
    imports = data["imports"]
    goals.append(
        _below_goal(
            "import time (-X importtime, cumulative) below Flask's",
            imports["importtime_ms"],
            "ms",
        )
    )
    wall = imports["wall_minus_bare_ms"]
    goals.append(
        Goal(
            "import wall clock (minus bare interpreter) below Flask's",
            f"{wall['miniflask']:.1f} vs {wall['flask']:.1f} ms",
            wall["miniflask"] < wall["flask"],
        )
    )
    return goals


def _below_goal(goal: str, values: dict[str, Any], unit: str) -> Goal:
    """miniflask's median below Flask's; clear when the two ranges do not overlap."""
    mini, flask = values["miniflask"], values["flask"]
    passed = mini["median"] < flask["median"]
    clear = mini["max"] < flask["min"] if passed else mini["min"] >= flask["max"]
    return Goal(goal, f"{mini['median']:.1f} vs {flask['median']:.1f} {unit}", passed, clear)


# -- the page -----------------------------------------------------------------------------


def endpoint_label(endpoint: dict[str, Any]) -> str:
    """``GET /api/v1/posts``, and ``(signed in)`` for a load with a Bearer token.

    The signed-in list has the anonymous list's path; results name it
    ``posts_list_signed_in`` (``http_load.endpoints``).
    """
    label = f"{endpoint['method']} {endpoint['path']}"
    return f"{label} (signed in)" if endpoint["name"].endswith("_signed_in") else label


def render(
    inprocess: dict[str, Any] | None, http: dict[str, Any] | None, footprint: dict[str, Any] | None
) -> str:
    """The whole Markdown page (charts must be written separately, by ``write``)."""
    goals = (
        (inprocess_goals(inprocess) if inprocess else [])
        + (http_goals(http) if http else [])
        + (footprint_goals(footprint) if footprint else [])
    )
    parts = [
        "# Benchmarks: miniflask against Flask 3.1\n",
        "<!-- Generated by `python -m benchmarks.report` from benchmarks/results/*.json: "
        "edit benchmarks/report.py or benchmarks/where_time_goes.md, not this file. -->\n",
        "Generated from the last `make bench`; method, controls and how to re-run: "
        "[benchmarks/README.md](../benchmarks/README.md). These machines are noisy (15-50% "
        "between runs), so every figure is a median over interleaved rounds, shown with its "
        "spread, and ratios compare apps measured in the same round.\n",
        _busy_warning({"in-process": inprocess, "gunicorn": http, "footprint": footprint}),
        _goals_section(goals),
    ]
    if inprocess:
        parts.append(_inprocess_section(inprocess))
        for kind in FLOOR_KINDS:
            if _has_kind(inprocess, kind):
                parts.append(_floors_section(inprocess, kind))
    if http:
        parts.append(_http_section(http))
    if footprint:
        parts.append(_footprint_section(footprint))
    parts.append(_notes_section())
    parts.append(_runs_section({"in-process": inprocess, "gunicorn": http, "footprint": footprint}))
    return "\n".join(parts)


def _busy_warning(results: dict[str, dict[str, Any] | None]) -> str:
    """A visible warning when a run started on a machine already busy with other work."""
    busy = [
        f"{name} (load average {data['meta']['loadavg_at_start'][0]} on "
        f"{data['meta']['cpus']} CPUs)"
        for name, data in results.items()
        if data and data["meta"]["loadavg_at_start"][0] > (data["meta"]["cpus"] or 1) / 2
    ]
    if not busy:
        return ""
    return (
        "> **Warning: measured on a busy machine**: "
        + ", ".join(busy)
        + ". Other processes competed for the CPUs, so absolute figures are inflated and "
        "spreads are wide; the same-round ratios are the figures to read. For scale, on a "
        "quiet machine of this kind the issue measured a small JSON GET at about 51 µs in "
        "Flask, 27 µs in a Werkzeug app and 3.4 µs in a bare WSGI function.\n"
    )


def _goals_section(goals: list[Goal]) -> str:
    passed = sum(goal.passed for goal in goals)
    lines = [
        "## Goals\n",
        f"**{passed} of {len(goals)} goals met in this run.**\n",
        "| goal | measured (miniflask vs Flask) | result |",
        "|---|---|---|",
    ]
    lines += [f"| {goal.goal} | {goal.measured} | {_verdict(goal)} |" for goal in goals]
    lines.append(
        "\n*some rounds disagree*: the verdict rests on the median; at least one round fell "
        "on the other side of the target (for footprint: the two ranges overlap).\n"
    )
    return "\n".join(lines) + "\n"


def _verdict(goal: Goal) -> str:
    verdict = "✅ pass" if goal.passed else "❌ fail"
    return verdict + (", *some rounds disagree*" if goal.clear is False else "")


def _inprocess_section(data: dict[str, Any]) -> str:
    settings = data["settings"]
    lines = [
        "## In-process: µs per request, direct WSGI calls\n",
        "![In-process, scenario app](img/benchmarks/inprocess_framework.png)\n",
        "![In-process, blog API](img/benchmarks/inprocess_blog.png)\n",
        f"{settings['rounds']} rounds; in each, every app runs each scenario for about "
        f"{settings['slot_ms']:g} ms, apps in rotating order. Cells: median µs/request "
        "[min-max over rounds]; ratio: miniflask ÷ Flask, median of the per-round ratios "
        "(goals are judged on it). The last column is the same ratio by the thread's CPU "
        "time, which leaves out time the OS gave to other processes: on a busy machine it "
        "is the steadier figure. n/a: the floors implement only four scenarios. Bottle and "
        "Falcon, peers run in the same rounds on those four (`benchmarks/peers.py`), show "
        "their µs and, in parentheses, their own ratio to Flask.\n",
        "| scenario | "
        + " | ".join(APP_TITLES[label] for label in _TABLE_LABELS)
        + " | miniflask ÷ Flask | same, by CPU time | "
        + " | ".join(APP_TITLES[label] for label in PEERS)
        + " |",
        "|---|" + "---:|" * (len(_TABLE_LABELS) + 2 + len(PEERS)),
    ]
    for scenario in data["scenarios"]:
        if scenario["kind"] in FLOOR_KINDS:
            continue
        cells = [_us_cell(scenario["apps"].get(label)) for label in _TABLE_LABELS]
        peers = []
        for label in PEERS:
            app = scenario["apps"].get(label)
            peers.append(
                "n/a"
                if app is None
                else f"{_us_cell(app)} ({app['ratio_to_flask']['median']:.2f}x)"
            )
        mini = scenario["apps"]["miniflask"]
        ratio, cpu = mini["ratio_to_flask"], mini.get("cpu_ratio_to_flask")
        lines.append(
            f"| {scenario['title']} | "
            + " | ".join(cells)
            + f" | **{ratio['median']:.2f}x** [{_range(ratio)}] | "
            + (f"{cpu['median']:.2f}x [{_range(cpu)}]" if cpu else "n/a")
            + " | "
            + " | ".join(peers)
            + " |"
        )
    hooks = data.get("hooks") or {}
    if hooks:
        lines.append(
            "\nCost of one hook = (hooks scenario - plain JSON GET) ÷ 6, round by round: "
            + ", ".join(
                f"{APP_TITLES[fw]} {v['median']:.2f} µs [{v['min']:.2f} to {v['max']:.2f}]"
                for fw, v in hooks.items()
            )
            + "."
            + (
                " By CPU time: "
                + ", ".join(
                    f"{APP_TITLES[fw]} {v['median']:.2f} µs" for fw, v in data["hooks_cpu"].items()
                )
                + "."
                if data.get("hooks_cpu")
                else ""
            )
            + "\n"
        )
    lines.append(
        "Blog API server-side cache: "
        + settings["blog_cache"]
        + ". With the cache on, the anonymous list and the revalidation are answered by the "
        "blog's `serve_from_cache` before_request hook, without running the view (since "
        "2 December 2026 a hit also reads the cache's generation, one SQL `SELECT`; runs "
        "before that had none); the *cache off* rows run the view and its queries on every "
        "request.\n"
    )
    return "\n".join(lines)


#: The columns of the main in-process table (the floors of issue 14 have their own).
_TABLE_LABELS = tuple(label for label in APP_LABELS if label not in ("floor", *PEERS))


def _us_cell(app: dict[str, Any] | None) -> str:
    """``median [min-max]`` µs of one app, or n/a."""
    if app is None:
        return "n/a"
    return f"{_us(app['us']['median'])} [{_us(app['us']['min'])}-{_us(app['us']['max'])}]"


def _has_kind(data: dict[str, Any], kind: str) -> bool:
    return any(scenario["kind"] == kind for scenario in data["scenarios"])


def _floors_section(data: dict[str, Any], kind: str = "floor") -> str:
    """The blog's data path against hand-written floors (issue 14): µs and blog ÷ floor.

    ``kind`` ``floor``: on SQLite, judged; ``floor_pg``: on PostgreSQL, informational.
    """
    lines = [*_floors_intro(data, kind)]
    lines += [
        "| endpoint | floor | blog on miniflask | blog on Flask | miniflask ÷ floor "
        "| Flask ÷ floor | miniflask ÷ floor, by CPU time |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario in data["scenarios"]:
        if scenario["kind"] != kind:
            continue
        apps = scenario["apps"]
        mini, flask = apps["miniflask"]["ratio_to_floor"], apps["flask"]["ratio_to_floor"]
        cpu = apps["miniflask"].get("cpu_ratio_to_floor")
        lines.append(
            f"| {scenario['title']} | {_us_cell(apps['floor'])} | {_us_cell(apps['miniflask'])} "
            f"| {_us_cell(apps['flask'])} | **{mini['median']:.2f}x** [{_range(mini)}] "
            f"| {flask['median']:.2f}x [{_range(flask)}] | "
            + (f"{cpu['median']:.2f}x [{_range(cpu)}]" if cpu else "n/a")
            + " |"
        )
    postgresql = data["settings"].get("postgresql", "")
    if kind == "floor" and not _has_kind(data, "floor_pg") and postgresql:
        lines.append(f"\nOn PostgreSQL: {postgresql}.")
    return "\n".join(lines) + "\n"


def _floors_intro(data: dict[str, Any], kind: str) -> list[str]:
    """The heading, chart and method paragraph of one floors table."""
    if kind == "floor_pg":
        return [
            "## The same on PostgreSQL (informational)\n",
            "![The blog's data path against hand-written floors, on PostgreSQL]"
            "(img/benchmarks/floors_pg.png)\n",
            "The same endpoints, requests and checks, with the blog and the floors on "
            f"{data['settings'].get('postgresql', 'PostgreSQL')} instead of SQLite: a private "
            "schema on this machine's server (127.0.0.1, over TCP), seeded by the same code "
            "and random seed; the floors use psycopg 3, the blog's own driver, in autocommit "
            "mode (a read is its statements alone; a write, one transaction). Same rounds as "
            "above, same cells. Not judged: the goal is set on SQLite.\n",
        ]
    return [
        "## The blog's data path against hand-written floors\n",
        "![The blog's data path against hand-written floors](img/benchmarks/floors.png)\n",
        "Each blog endpoint (server cache off) beside a floor: a plain WSGI function on "
        "`sqlite3`, `json`, `hmac`/`hashlib` and PyJWT (`benchmarks/floors/`) that makes "
        "the same checks and answers with the same body and headers (checked before timing; "
        "writes: the same headers and JSON but for ids and times). Same rounds as above. "
        "Cells: median µs [min-max]; blog ÷ floor: median of the per-round ratios, by the "
        f"wall clock (by CPU time in the last column). Goal: miniflask ≤ "
        f"{TARGET_FLOOR_RATIO:g}x its floor.\n",
    ]


def _us(value: float) -> str:
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def _http_section(data: dict[str, Any]) -> str:
    settings = data["settings"]
    lines = [
        "## Under gunicorn: the blog API loaded by wrk\n",
        "![gunicorn requests/s and p99](img/benchmarks/http.png)\n",
        f"{settings['rounds']} rounds x {settings['seconds']} s per endpoint and framework, "
        f"A/B order alternating; {settings['workers']} workers (gthread: "
        f"{settings['gthread_threads']} threads each), wrk with {settings['wrk_threads']} thread "
        f"and {settings['connections']} connections on 127.0.0.1. Server cache: "
        f"{settings['server_cache']}; log level {settings['log_level']}; "
        f"{settings['database']}. The signed-in list is loaded as one seeded user, and the "
        "writes post drafts as another (`http_load.ACCOUNTS`), so no list a read loads grows "
        "during a run. Cells: median [min-max over rounds].\n",
        "| worker | endpoint | framework | requests/s | p50 ms | p99 ms | non-2xx/3xx "
        "| socket errors | rps ÷ Flask |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in data["worker_classes"]:
        for endpoint in run["endpoints"]:
            ratio = endpoint["rps_ratio_miniflask_to_flask"]
            for fw in ("flask", "miniflask"):
                v = endpoint["frameworks"][fw]
                lines.append(
                    f"| {run['worker_class']} | {endpoint_label(endpoint)} | {fw} | "
                    f"{v['rps']['median']:.0f} [{v['rps']['min']:.0f}-{v['rps']['max']:.0f}] | "
                    f"{v['p50_ms']['median']:.1f} | "
                    f"{v['p99_ms']['median']:.1f} [{v['p99_ms']['min']:.1f}-"
                    f"{v['p99_ms']['max']:.1f}] | {v['non_2xx']} | {v['socket_errors']} | "
                    + (
                        f"**{ratio['median']:.2f}x** [{ratio['min']:.2f}-{ratio['max']:.2f}]"
                        if fw == "miniflask"
                        else ""
                    )
                    + " |"
                )
    rss = [
        f"{run['worker_class']}: "
        + ", ".join(
            f"{fw} {sum(values) / len(values) / 1024:.1f} MiB"
            for fw, values in run["worker_rss_after_load_kib"].items()
        )
        for run in data["worker_classes"]
    ]
    lines.append("\nWorker RSS after the load (mean of the workers): " + "; ".join(rss) + ".\n")
    return "\n".join(lines)


def _footprint_section(data: dict[str, Any]) -> str:
    imports = data["imports"]
    lines = [
        "## Footprint: import time and idle worker memory\n",
        "![import time and worker RSS](img/benchmarks/footprint.png)\n",
        f"Import time: {data['settings']['import_repeats']} fresh interpreters per framework, "
        "alternating. Worker RSS: VmRSS of each of 2 sync workers, "
        f"{data['settings']['rss_repeats']} fresh servers per framework, about a second after "
        "start-up. Cells: median [min-max].\n",
        "| measure | Flask | miniflask |",
        "|---|---:|---:|",
    ]
    for fw_values, name, unit in (
        (imports["importtime_ms"], "import, `-X importtime` cumulative", "ms"),
        (imports["wall_ms"], "`python -c 'import X'` wall clock", "ms"),
    ):
        lines.append(
            f"| {name} | "
            + " | ".join(_cell(fw_values[fw], unit) for fw in ("flask", "miniflask"))
            + " |"
        )
    wall = imports["wall_minus_bare_ms"]
    lines.append(
        f"| wall clock minus bare `python -c pass` ({imports['wall_ms']['bare']['median']:.1f} ms) "
        f"| {wall['flask']:.1f} ms | {wall['miniflask']:.1f} ms |"
    )
    for app, values in data["worker_rss_mib"].items():
        lines.append(
            f"| idle worker RSS, `{app}` | "
            + " | ".join(_cell(values[fw], "MiB") for fw in ("flask", "miniflask"))
            + " |"
        )
    return "\n".join(lines) + "\n"


def _cell(values: dict[str, Any], unit: str) -> str:
    return f"{values['median']:.1f} {unit} [{values['min']:.1f}-{values['max']:.1f}]"


def _notes_section() -> str:
    body = (
        NOTES.read_text().strip()
        if NOTES.exists()
        else "_(benchmarks/where_time_goes.md is missing)_"
    )
    return "## Where Flask spends its time and what miniflask does instead\n\n" + body + "\n"


def _runs_section(results: dict[str, dict[str, Any] | None]) -> str:
    lines = [
        "## The runs behind these numbers\n",
        "| benchmark | date (UTC) | mode | commit | uncommitted framework edits | python | "
        "Flask / Werkzeug | load average at start |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, data in results.items():
        if not data:
            lines.append(f"| {name} | not run | | | | | | |")
            continue
        meta = data["meta"]
        lines.append(
            f"| {name} | {meta['date']} | {meta['mode']} | {meta['commit']} | "
            f"{'yes' if meta['dirty'] else 'no'} | {meta['python']} | "
            f"{meta['versions']['flask']} / {meta['versions']['werkzeug']} | "
            f"{' '.join(str(v) for v in meta['loadavg_at_start'])} ({meta['cpus']} CPUs) |"
        )
    return "\n".join(lines) + "\n"


def write() -> Path:
    """Regenerate the charts and docs/benchmarks.md from the stored results."""
    inprocess, http, footprint = (read_results(n) for n in ("inprocess", "http", "footprint"))
    IMAGES.mkdir(parents=True, exist_ok=True)
    if inprocess:
        chart_inprocess(inprocess, "framework", IMAGES / "inprocess_framework.png")
        chart_inprocess(inprocess, "blog", IMAGES / "inprocess_blog.png")
        if _has_kind(inprocess, "floor"):
            chart_inprocess(inprocess, "floor", IMAGES / "floors.png")
        if _has_kind(inprocess, "floor_pg"):
            chart_inprocess(inprocess, "floor_pg", IMAGES / "floors_pg.png")
    if http:
        chart_http(http, IMAGES / "http.png")
    if footprint:
        chart_footprint(footprint, IMAGES / "footprint.png")
    DOC.write_text(render(inprocess, http, footprint))
    return DOC


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m benchmarks.report``: no measuring, only the page and charts."""
    argparse.ArgumentParser(description=__doc__.split("\n")[0]).parse_args(argv)
    log(f"wrote {write()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
