"""The PNG charts of docs/benchmarks.md, drawn with matplotlib from the results documents.

``report.write`` calls them; each takes one benchmark's results (as stored in
benchmarks/results/*.json) and a path, and draws medians with their spread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.inprocess import APP_LABELS, APP_TITLES
from benchmarks.scenarios import FLOOR_KINDS

COLORS = {
    "wsgi": "#bbbbbb",
    "werkzeug": "#7f7f7f",
    "floor": "#2ca02c",
    "flask": "#1f77b4",
    "miniflask": "#d62728",
    "bottle": "#9467bd",
    "falcon": "#ff7f0e",
}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    return plt


def chart_inprocess(data: dict[str, Any], kind: str, path: Path) -> None:
    """Horizontal grouped bars: median µs per app and scenario, whiskers min-max."""
    plt = _pyplot()
    scenarios = [scenario for scenario in data["scenarios"] if scenario["kind"] == kind]
    labels = [label for label in APP_LABELS if any(label in s["apps"] for s in scenarios)]
    height = 0.8 / len(labels)
    figure, axes = plt.subplots(figsize=(10, 0.55 * len(scenarios) * len(labels) / 2 + 1.8))
    for offset, label in enumerate(labels):
        rows = [(n, s["apps"][label]) for n, s in enumerate(scenarios) if label in s["apps"]]
        positions = [n + offset * height for n, _ in rows]
        medians = [app["us"]["median"] for _, app in rows]
        errors = [
            [app["us"]["median"] - app["us"]["min"] for _, app in rows],
            [app["us"]["max"] - app["us"]["median"] for _, app in rows],
        ]
        axes.barh(
            positions,
            medians,
            height,
            xerr=errors,
            color=COLORS[label],
            label=APP_TITLES[label],
            error_kw={"elinewidth": 0.8, "capsize": 2},
        )
        against = "floor" if kind in FLOOR_KINDS else "Flask"
        if label == "miniflask" or (kind in FLOOR_KINDS and label == "flask"):
            for position, (_, app) in zip(positions, rows, strict=True):
                axes.annotate(
                    f" {app[f'ratio_to_{against.lower()}']['median']:.2f}x {against}",
                    (app["us"]["max"], position),
                    va="center",
                    fontsize=8,
                )
    axes.set_yticks([n + height * (len(labels) - 1) / 2 for n in range(len(scenarios))])
    axes.set_yticklabels([scenario["title"] for scenario in scenarios])
    axes.invert_yaxis()
    if kind in ("blog", *FLOOR_KINDS):
        axes.set_xscale("log")
    axes.set_xlabel("µs per request (median of rounds; whiskers: min-max)  — lower is better")
    axes.set_title(f"In-process, {CHART_TITLES[kind]}")
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    axes.margins(x=0.15)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


CHART_TITLES = {
    "framework": "scenario app",
    "blog": "blog API",
    "floor": "the blog's data path against hand-written floors",
    "floor_pg": "the blog's data path against hand-written floors, on PostgreSQL",
}


def chart_http(data: dict[str, Any], path: Path) -> None:
    """Requests/s (top) and p99 (bottom) per endpoint; bar = median, dots = rounds."""
    plt = _pyplot()
    runs = data["worker_classes"]
    figure, axes = plt.subplots(2, len(runs), figsize=(5.5 * len(runs), 7), squeeze=False)
    for column, run in enumerate(runs):
        for row, (metric, unit) in enumerate((("rps", "requests/s"), ("p99_ms", "p99 ms"))):
            axis = axes[row][column]
            for n, endpoint in enumerate(run["endpoints"]):
                for offset, fw in enumerate(("flask", "miniflask")):
                    values = endpoint["frameworks"][fw][metric]
                    x = n + (offset - 0.5) * 0.38
                    axis.bar(x, values["median"], 0.36, color=COLORS[fw], alpha=0.75)
                    axis.scatter(
                        [x] * len(values["rounds"]), values["rounds"], s=10, color="black", zorder=3
                    )
            axis.set_xticks(range(len(run["endpoints"])))
            axis.set_xticklabels(
                [f"{e['method']} {e['name']}" for e in run["endpoints"]], fontsize=8
            )
            axis.set_ylabel(unit + (" (higher is better)" if metric == "rps" else " (lower)"))
            axis.set_title(f"gunicorn {run['worker_class']}: {unit}")
    handles = [plt.Rectangle((0, 0), 1, 1, color=COLORS[fw]) for fw in ("flask", "miniflask")]
    figure.legend(handles, ["Flask", "miniflask"], loc="upper right")
    figure.suptitle("Blog API under gunicorn + wrk (bars: median; dots: each round)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def chart_footprint(data: dict[str, Any], path: Path) -> None:
    """Import time (two measures) and idle worker RSS, Flask beside miniflask."""
    plt = _pyplot()
    figure, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    imports = data["imports"]
    groups = {
        "-X importtime": {
            fw: imports["importtime_ms"][fw]["median"] for fw in ("flask", "miniflask")
        },
        "wall - bare python": imports["wall_minus_bare_ms"],
    }
    _paired_bars(axes[0], groups, "import time, ms (lower is better)")
    rss = {
        app: {fw: values[fw]["median"] for fw in ("flask", "miniflask")}
        for app, values in data["worker_rss_mib"].items()
    }
    _paired_bars(axes[1], rss, "idle worker RSS, MiB (lower is better)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _paired_bars(axis: Any, groups: dict[str, dict[str, float]], title: str) -> None:
    for n, values in enumerate(groups.values()):
        for offset, fw in enumerate(("flask", "miniflask")):
            x = n + (offset - 0.5) * 0.38
            axis.bar(x, values[fw], 0.36, color=COLORS[fw], label=fw if n == 0 else None)
            axis.annotate(
                f"{values[fw]:.1f}", (x, values[fw]), ha="center", va="bottom", fontsize=8
            )
    axis.set_xticks(range(len(groups)))
    axis.set_xticklabels(list(groups))
    axis.set_title(title)
    axis.legend(fontsize=8)
