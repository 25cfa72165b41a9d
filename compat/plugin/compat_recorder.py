"""pytest plugin: each test's outcome, and the first line of why, to a JSON file.

Loaded with ``-p compat_recorder`` in every compat run; the file named by the
environment variable ``COMPAT_OUT`` receives::

    {"tests": {"tests/test_basic.py::test_options_work":
                   {"outcome": "failed", "message": "AssertionError: assert 405 == 200"}},
     "collection_errors": {"tests/test_cli.py":
                   "ModuleNotFoundError: No module named 'flask.sansio'"}}

Outcomes are ``passed``, ``failed`` (the test body raised), ``error`` (a
fixture's setup or teardown raised), ``skipped``, ``xfailed`` and ``xpassed``.
A file that cannot be imported yields no tests at all; its message is kept
under ``collection_errors``, so the score can say why its tests are missing.

The plugin imports nothing from the project: it runs inside the compat venv,
on the suite's own rootdir.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pytest

_tests: dict[str, dict[str, str]] = {}
_collection_errors: dict[str, str] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Keep one outcome per test: the first phase that did not pass decides it.

    pytest reports each test three times (setup, call, teardown). A failing
    setup means the body never ran; a failing teardown after a passing body
    still makes the test fail, as pytest counts it.
    """
    outcome = phase_outcome(report)
    if outcome is None:
        return
    recorded = _tests.get(report.nodeid)
    if recorded is not None and recorded["outcome"] != "passed":
        return
    message = "" if outcome == "passed" else failure_message(report)
    _tests[report.nodeid] = {"outcome": outcome, "message": message}


def phase_outcome(report: pytest.TestReport) -> str | None:
    """What one phase's report says about the test, or None when it says nothing."""
    if hasattr(report, "wasxfail"):
        return "xfailed" if report.skipped else "xpassed"
    if report.when == "call":
        return report.outcome
    if report.failed:
        return "error"
    if report.skipped:
        return "skipped"  # a skip mark, or pytest.skip() in a fixture
    return None  # a setup or teardown that passed


def pytest_collectreport(report: pytest.CollectReport) -> None:
    """Remember why a file (or folder, for a broken conftest) yielded no tests."""
    if report.failed:
        _collection_errors[report.nodeid] = failure_message(report)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write what was recorded to ``COMPAT_OUT``, if the harness set it."""
    out = os.environ.get("COMPAT_OUT")
    if out:
        with open(out, "w", encoding="utf-8") as file:
            json.dump({"tests": _tests, "collection_errors": _collection_errors}, file, indent=1)


def failure_message(report: pytest.TestReport | pytest.CollectReport) -> str:
    """The first line of a failure: the exception's type and message.

    A failed test carries ``reprcrash``, the line pytest prints in its short
    summary ("AssertionError: assert 405 == 200"). A skip carries a tuple
    ``(path, line, reason)``. A file that failed to import carries plain text
    ending with pytest's ``E   ModuleNotFoundError: ...`` line.
    """
    longrepr: Any = report.longrepr
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple):
        return first_line(str(longrepr[2]))
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return first_line(crash.message)
    return last_error_line(str(longrepr))


def first_line(text: str) -> str:
    """The first non-blank line of ``text``, stripped."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def last_error_line(text: str) -> str:
    """The first line of the last ``E   ...`` block of a formatted traceback.

    Falls back to the text's last line when pytest marked no line with ``E``.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    block_start = None
    for index, line in enumerate(lines):
        if line.startswith("E ") and (index == 0 or not lines[index - 1].startswith("E ")):
            block_start = index
    if block_start is not None:
        return lines[block_start].removeprefix("E").strip()
    return lines[-1] if lines else ""
