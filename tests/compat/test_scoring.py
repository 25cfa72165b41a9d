"""compat/scoring.py: what counts, and the reason each gap is given.

Synthetic runs only: the real suites run in ``make compat``, not here.
"""

from __future__ import annotations

from compat.scoring import PassResult, RecordedTest, score_suite
from compat.suites import Suite

SUITE = Suite(name="Demo", distribution="demo", version="1.0")


def run(outcomes: dict[str, str], **kwargs: object) -> PassResult:
    """A run in which each test ended as given, with a message naming it."""
    tests = {test: RecordedTest(outcome, f"Error in {test}") for test, outcome in outcomes.items()}
    return PassResult(tests, **kwargs)  # type: ignore[arg-type]


def test_only_tests_passing_on_flask_are_scored_per_file() -> None:
    baseline = run(
        {
            "tests/test_a.py::one": "passed",
            "tests/test_a.py::two": "passed",
            "tests/test_a.py::broken_everywhere": "failed",
            "tests/test_b.py::three": "passed",
            "tests/test_b.py::needs_docker": "error",
        }
    )
    miniflask = run(
        {
            "tests/test_a.py::one": "passed",
            "tests/test_a.py::two": "failed",
            "tests/test_a.py::broken_everywhere": "failed",
            "tests/test_b.py::three": "passed",
            "tests/test_b.py::needs_docker": "passed",
        }
    )
    score = score_suite(SUITE, baseline, miniflask, {})
    assert [(f.path, f.passed, f.total) for f in score.files] == [
        ("tests/test_a.py", 1, 2),
        ("tests/test_b.py", 1, 1),
    ]
    assert (score.passed, score.total) == (2, 3)
    assert round(score.rate, 1) == 66.7
    assert score.miniflask_only == 1


def test_a_failing_test_keeps_its_outcome_and_first_line_as_the_reason() -> None:
    baseline = run({"t.py::x": "passed", "t.py::y": "passed"})
    miniflask = run({"t.py::x": "error", "t.py::y": "skipped"})
    gaps = score_suite(SUITE, baseline, miniflask, {}).gaps
    assert [(gap.test, gap.outcome, gap.reason, gap.deliberate) for gap in gaps] == [
        ("t.py::x", "error", "Error in t.py::x", False),
        ("t.py::y", "skipped", "Error in t.py::y", False),
    ]


def test_deliberate_differences_match_by_id_or_by_id_without_parameters() -> None:
    baseline = run({"t.py::exact": "passed", "t.py::many[1]": "passed", "t.py::other": "passed"})
    miniflask = run({"t.py::exact": "failed", "t.py::many[1]": "failed", "t.py::other": "failed"})
    table = {"t.py::exact": "on purpose", "t.py::many": "all cases on purpose"}
    score = score_suite(SUITE, baseline, miniflask, table)
    reasons = {gap.test: (gap.reason, gap.deliberate) for gap in score.gaps}
    assert reasons == {
        "t.py::exact": ("on purpose", True),
        "t.py::many[1]": ("all cases on purpose", True),
        "t.py::other": ("Error in t.py::other", False),
    }
    assert [gap.test for gap in score.undocumented] == ["t.py::other"]


def test_a_test_missing_on_miniflask_takes_the_closest_collection_error() -> None:
    baseline = run({"tests/sub/test_c.py::z": "passed", "tests/test_d.py::w": "passed"})
    miniflask = run(
        {},
        collection_errors={
            "tests/sub": "ImportError: conftest",
            "tests/sub/test_c.py": "ModuleNotFoundError: No module named 'flask.json.tag'",
        },
    )
    reasons = {
        gap.test: (gap.outcome, gap.reason)
        for gap in score_suite(SUITE, baseline, miniflask, {}).gaps
    }
    assert reasons["tests/sub/test_c.py::z"] == (
        "not run",
        "tests/sub/test_c.py not collected: ModuleNotFoundError: No module named 'flask.json.tag'",
    )
    assert reasons["tests/test_d.py::w"] == (
        "not run",
        "not collected on miniflask (no test with this id)",
    )


def test_a_run_that_recorded_nothing_gives_its_problem_as_every_reason() -> None:
    baseline = run({"t.py::x": "passed"})
    miniflask = PassResult(problem="pytest recorded nothing: ImportError: conftest")
    (gap,) = score_suite(SUITE, baseline, miniflask, {}).gaps
    assert gap.reason == "pytest recorded nothing: ImportError: conftest"


def test_an_empty_suite_scores_full_marks_rather_than_dividing_by_zero() -> None:
    score = score_suite(SUITE, PassResult(), PassResult(), {})
    assert (score.passed, score.total, score.rate) == (0, 0, 100.0)


def test_object_addresses_are_dropped_so_equal_failures_read_the_same() -> None:
    baseline = run({"t.py::x": "passed"})
    miniflask = PassResult(
        {"t.py::x": RecordedTest("failed", "assert <Flask object at 0x7f6b969e2c50> is None")}
    )
    (gap,) = score_suite(SUITE, baseline, miniflask, {}).gaps
    assert gap.reason == "assert <Flask object at 0x…> is None"
