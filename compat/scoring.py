"""Scoring: which tests that pass on Flask also pass on miniflask, and why not.

A suite's score counts only the tests that pass on the real Flask (the
baseline). A test that fails there too (a missing Docker service, a backend
not installed) says nothing about miniflask and is left out of both sides.
Each baseline test that does not pass on miniflask becomes a :class:`Gap`
with a reason:

- the explanation in :data:`compat.differences.DELIBERATE_DIFFERENCES`, when
  the test checks something miniflask does differently on purpose;
- otherwise the first line of the failure as pytest reported it ("not yet
  fixed"), or the import error of the file that could not be collected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from compat.suites import Suite

PASSED = "passed"

#: An object's address in a repr ("<Flask object at 0x7f6b969e2c50>").
_ADDRESS = re.compile(r"\b0x[0-9a-fA-F]{6,}\b")


@dataclass(frozen=True)
class RecordedTest:
    """How one test ended in one run, and the first line of why."""

    outcome: str
    message: str = ""


@dataclass(frozen=True)
class PassResult:
    """What one run of one suite on one framework recorded.

    Attributes:
        tests: outcome per pytest node id.
        collection_errors: why a file or folder yielded no tests, per node id.
        problem: why the run recorded nothing at all (pytest could not start,
            the run timed out); empty when the run finished.
        seconds: how long the run took.
    """

    tests: Mapping[str, RecordedTest] = field(default_factory=dict)
    collection_errors: Mapping[str, str] = field(default_factory=dict)
    problem: str = ""
    seconds: float = 0.0

    def passed(self) -> set[str]:
        """The node ids of the tests that passed."""
        return {test for test, result in self.tests.items() if result.outcome == PASSED}


@dataclass(frozen=True)
class Gap:
    """A test that passes on Flask but not on miniflask.

    Attributes:
        test: its pytest node id ("tests/test_basic.py::test_options_work").
        outcome: what it did on miniflask: failed, error, skipped… or "not run".
        reason: the deliberate difference, or the first line of the failure.
        deliberate: True when the reason comes from the table of deliberate
            differences; such a gap does not fail ``make compat``.
    """

    test: str
    outcome: str
    reason: str
    deliberate: bool = False


@dataclass(frozen=True)
class FileScore:
    """One test file: how many of its Flask-passing tests pass on miniflask."""

    path: str
    passed: int
    total: int


@dataclass(frozen=True)
class SuiteScore:
    """The comparison of one suite's two runs."""

    suite: Suite
    files: tuple[FileScore, ...]
    gaps: tuple[Gap, ...]
    baseline: PassResult
    miniflask: PassResult

    @property
    def passed(self) -> int:
        """Tests passing on both frameworks."""
        return sum(file.passed for file in self.files)

    @property
    def total(self) -> int:
        """Tests passing on Flask: the suite's denominator."""
        return sum(file.total for file in self.files)

    @property
    def rate(self) -> float:
        """The share of Flask-passing tests that pass on miniflask, in percent."""
        return percent(self.passed, self.total)

    @property
    def undocumented(self) -> tuple[Gap, ...]:
        """The gaps that fail ``make compat``: not explained as deliberate."""
        return tuple(gap for gap in self.gaps if not gap.deliberate)

    @property
    def miniflask_only(self) -> int:
        """Tests passing on miniflask but not on Flask (unexpected, so shown)."""
        return len(self.miniflask.passed() - self.baseline.passed())


def percent(part: int, whole: int) -> float:
    """``part`` of ``whole`` in percent; 100 for an empty whole (nothing to miss)."""
    return 100.0 * part / whole if whole else 100.0


def score_suite(
    suite: Suite,
    baseline: PassResult,
    miniflask: PassResult,
    deliberate: Mapping[str, str],
) -> SuiteScore:
    """Compare a suite's run on Flask with its run on miniflask.

    Args:
        suite: the suite both runs ran.
        baseline: the run on the real Flask.
        miniflask: the run with ``flask`` pointed at miniflask.
        deliberate: this suite's deliberate differences, test id to explanation.
    """
    totals: dict[str, list[int]] = {}
    gaps = []
    for test in sorted(baseline.passed()):
        counts = totals.setdefault(file_of(test), [0, 0])
        counts[1] += 1
        if miniflask.tests.get(test, RecordedTest("")).outcome == PASSED:
            counts[0] += 1
        else:
            gaps.append(gap_for(test, miniflask, deliberate))
    files = tuple(FileScore(path, passed, total) for path, (passed, total) in totals.items())
    return SuiteScore(suite, files, tuple(gaps), baseline, miniflask)


def gap_for(test: str, miniflask: PassResult, deliberate: Mapping[str, str]) -> Gap:
    """The :class:`Gap` of ``test``, which passed on Flask but not on miniflask."""
    result = miniflask.tests.get(test)
    outcome = result.outcome if result is not None else "not run"
    explanation = deliberate_reason(test, deliberate)
    if explanation is not None:
        return Gap(test, outcome, explanation, deliberate=True)
    if result is not None:
        return Gap(test, outcome, stable(result.message) or f"{outcome} with no message")
    return Gap(test, outcome, stable(missing_reason(test, miniflask)))


def stable(message: str) -> str:
    """``message`` without object addresses, which change from run to run.

    The page then changes only when a result does, and equal failures group
    under one reason ("<Flask object at 0x…>").
    """
    return _ADDRESS.sub("0x…", message)


def deliberate_reason(test: str, deliberate: Mapping[str, str]) -> str | None:
    """The table's explanation for ``test``, by its exact id or its id less parameters.

    ``tests/test_json.py::test_dumps[data0]`` is covered by an entry for
    ``tests/test_json.py::test_dumps``, so one line explains every case.
    """
    if test in deliberate:
        return deliberate[test]
    return deliberate.get(test.split("[", 1)[0])


def missing_reason(test: str, miniflask: PassResult) -> str:
    """Why a test that ran on Flask has no outcome at all on miniflask."""
    if miniflask.problem:
        return miniflask.problem
    path = file_of(test)
    owners = [
        node for node in miniflask.collection_errors if path == node or path.startswith(node + "/")
    ]
    if owners:
        owner = max(owners, key=len)  # the closest: the file before its folder
        return f"{owner} not collected: {miniflask.collection_errors[owner]}"
    return "not collected on miniflask (no test with this id)"


def file_of(test: str) -> str:
    """The file part of a pytest node id."""
    return test.split("::", 1)[0]
