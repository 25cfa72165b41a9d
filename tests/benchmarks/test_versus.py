"""Smoke tests for ``benchmarks/versus.py`` and ``checkouts.py``: correctness only, never timing.

The worktree handling is checked with git alone (a checkout appears, and is gone
with its registration after an error); the table renders from a synthetic
result; and, when wrk is installed, the whole tool runs one round of one second
of ``HEAD`` against the working tree under ``sync`` workers with the cache off
(about 20 s), which fails if any step of a real run broke.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from benchmarks import checkouts, versus
from benchmarks.environment import ROOT
from benchmarks.stats import summarize


def worktrees() -> str:
    """``git worktree list --porcelain`` of this repository."""
    return subprocess.run(
        ["git", "worktree", "list", "--porcelain"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def head() -> str:
    """The full hash of ``HEAD``."""
    return checkouts.git(ROOT, "rev-parse", "HEAD")


def test_materialise_checks_out_a_revision_and_removes_it_even_on_error() -> None:
    before = worktrees()
    with pytest.raises(KeyboardInterrupt), contextlib.ExitStack() as stack:
        tree = checkouts.materialise("old", "HEAD", stack)
        assert tree.worktree
        assert tree.commit == head()
        assert (tree.path / "blog_api" / "__init__.py").is_file()
        assert str(tree.path) in worktrees()
        raise KeyboardInterrupt  # as a Ctrl-C in the middle of a run
    assert not tree.path.parent.exists()
    assert worktrees() == before


def test_materialise_uses_a_directory_as_it_is() -> None:
    before = worktrees()
    with contextlib.ExitStack() as stack:
        tree = checkouts.materialise("new", str(ROOT), stack)
    assert tree.path == ROOT
    assert not tree.worktree
    assert tree.commit == head()
    assert worktrees() == before


def test_materialise_refuses_what_is_neither_a_directory_nor_a_revision() -> None:
    refused = pytest.raises(RuntimeError, match="neither a directory nor a revision")
    with refused, contextlib.ExitStack() as stack:
        checkouts.materialise("old", "no-such-revision-anywhere", stack)


def test_check_origins_refuses_code_from_outside_the_checkout(tmp_path: Path) -> None:
    tree = checkouts.Tree("old", "HEAD", tmp_path, "0" * 40, dirty=False, worktree=True)
    checkouts.check_origins(tree, {"blog_api": str(tmp_path / "blog_api" / "__init__.py")})
    with pytest.raises(RuntimeError, match="imported blog_api from"):
        checkouts.check_origins(tree, {"blog_api": str(ROOT / "blog_api" / "__init__.py")})


def synthetic_result() -> dict[str, Any]:
    """A results document of two rounds, one configuration, one endpoint."""
    samples = {
        "old": [_sample(100, 50.0), _sample(110, 40.0)],
        "new": [_sample(300, 20.0), _sample(360, 20.0)],
    }
    point = versus.measured_endpoints(1)[-1]
    endpoint = versus.summarize_endpoint(point, samples)
    endpoint["trees"]["new"]["non_2xx"] = 2
    return {
        "trees": [{"described": "`old-rev` (abc)"}, {"described": "`/work` at def"}],
        "settings": {"rounds": 2, "seconds": 1},
        "configurations": [{"worker_class": "sync", "cache": "off", "endpoints": [endpoint]}],
    }


def _sample(rps: float, p99_ms: float) -> dict[str, float]:
    """The figures of one wrk run that ``summarize_endpoint`` reads."""
    return {
        "rps": rps,
        "p50_ms": p99_ms / 2,
        "p99_ms": p99_ms,
        "requests": rps,
        "non_2xx": 0,
        "socket_errors": 0,
    }


def test_summaries_pair_new_with_old_round_by_round() -> None:
    endpoint = synthetic_result()["configurations"][0]["endpoints"][0]
    assert endpoint["name"] == "post_create"
    assert endpoint["rps_ratio_new_to_old"] == summarize([3.0, 360 / 110])
    assert endpoint["p99_ratio_new_to_old"]["rounds"] == [0.4, 0.5]


def test_markdown_table_has_a_row_per_endpoint_and_notes_errors() -> None:
    table = versus.markdown_table(synthetic_result())
    assert "old = `old-rev` (abc), new = `/work` at def" in table
    assert "| sync | off | POST /api/v1/posts | 105 [100-110] | 330 [300-360] | 3.14x |" in table
    assert "| 45.0 [40.0-50.0] | 20.0 [20.0-20.0] | 0.45x |" in table
    assert "- new, sync, cache off, POST /api/v1/posts: 2 non-2xx answers" in table


def test_busiest_share_is_the_busiest_workers_part_of_the_time_used() -> None:
    assert versus.busiest_share({1: 100, 2: 50}, {1: 190, 2: 60}) == 0.9
    assert versus.busiest_share({1: 0, 2: 0}, {1: 30, 2: 30}) == 0.5
    # A worker replaced between the readings is left out; one worker tells nothing.
    assert versus.busiest_share({1: 0, 2: 0}, {1: 30, 3: 30}) is None
    assert versus.busiest_share({1: 0, 2: 0}, {1: 0, 2: 0}) is None


class FakeServer:
    """What ``versus.measure`` asks of a server, for runs whose wrk output is scripted."""

    port = 0

    def __init__(self, worker_class: str) -> None:
        self.worker_class = worker_class

    def worker_pids(self) -> list[int]:
        return [1, 2]

    def log_tail(self) -> str:
        return ""


@pytest.mark.parametrize(("worker_class", "runs"), [("gthread", 3), ("sync", 1)])
def test_a_one_sided_gthread_run_is_measured_again(
    monkeypatch: pytest.MonkeyPatch, worker_class: str, runs: int
) -> None:
    # Per run: CPU ticks of workers 1 and 2 after it; the first two are one-sided.
    readings = iter(
        [
            {1: 0, 2: 0},
            {1: 95, 2: 5},
            {1: 95, 2: 5},
            {1: 195, 2: 5},
            {1: 195, 2: 5},
            {1: 245, 2: 55},
        ]
    )
    rates = iter([600.0, 650.0, 1500.0])
    monkeypatch.setattr(versus, "cpu_ticks", lambda pids: next(readings))
    monkeypatch.setattr(versus.http_load, "run_wrk", lambda *args: "")
    monkeypatch.setattr(
        versus.http_load, "parse_wrk", lambda output: {**_sample(next(rates), 10.0)}
    )
    point = versus.measured_endpoints(1)[0]
    sample = versus.measure(FakeServer(worker_class), point, {}, 1, Path("."))  # type: ignore[arg-type]
    assert sample["attempts"] == runs
    if worker_class == "gthread":
        assert (sample["rps"], sample["busiest_worker_share"]) == (1500.0, 0.5)
    else:  # sync workers take a connection per request: a one-sided run is kept
        assert (sample["rps"], sample["busiest_worker_share"]) == (600.0, 0.95)


def test_runs_measured_again_are_noted_under_the_table() -> None:
    rounds = [
        {**_sample(1500, 10.0), "busiest_worker_share": 0.5, "attempts": 3},
        {**_sample(600, 10.0), "busiest_worker_share": 0.97, "attempts": 5},
    ]
    point = versus.measured_endpoints(1)[0]
    endpoint = versus.summarize_endpoint(point, {"old": rounds, "new": rounds[:1] * 2})
    assert endpoint["workers"]["old"]["runs_again"] == 6
    assert endpoint["workers"]["old"]["one_sided_rounds"] == 1
    result = synthetic_result()
    result["configurations"][0]["endpoints"] = [endpoint]
    table = versus.markdown_table(result)
    assert (
        "- old, sync, cache off, GET /api/v1/posts: 6 one-sided run(s) measured again, "
        "1 round(s) left one-sided" in table
    )
    assert "- new, sync, cache off, GET /api/v1/posts: 4 one-sided run(s)" in table


@pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)"
)
def test_one_short_round_of_head_against_the_working_tree(tmp_path: Path) -> None:
    before = worktrees()
    output = tmp_path / "versus.json"
    arguments = ["HEAD", "--rounds", "1", "--seconds", "1", "--warmup-seconds", "0"]
    arguments += ["--worker-class", "sync", "--cache", "off", "--output", str(output)]
    assert versus.main(arguments) == 0
    assert worktrees() == before
    data = json.loads(output.read_text())
    old, new = data["trees"]
    assert (old["worktree"], new["worktree"]) == (True, False)
    assert not Path(old["path"]).exists()
    (configuration,) = data["configurations"]
    for tree in (old, new):
        for module in ("blog_api", "miniflask"):
            assert configuration["worker_modules"][tree["label"]][module].startswith(tree["path"])
            assert tree["seeded_with"][module].startswith(tree["path"])
    names = [endpoint["name"] for endpoint in configuration["endpoints"]]
    assert names == ["posts_list", "posts_list_signed_in", "post_create"]
    for endpoint in configuration["endpoints"]:
        for figures in endpoint["trees"].values():
            assert figures["requests"] > 0
            assert figures["non_2xx"] == figures["socket_errors"] == 0
        for balance in endpoint["workers"].values():
            # Read from /proc around the run: the busiest of two workers did half or more.
            assert 0.5 <= balance["busiest_share"]["median"] <= 1.0
            assert balance["runs_again"] == 0  # sync workers are never measured again
