"""``python -m compat [--only SUITE ...] [--min-flask-pass-rate PERCENT] [--report-only]``.

The entry point of ``make compat``: prepares the compat venv, runs every suite
on Flask and on miniflask, prints the scores, writes docs/compat.md (after a
run of all suites) and sets the exit status:

- 0: every test that passes on Flask passes on miniflask, or fails there for
  a documented deliberate difference, and Flask's own suite scores at least
  ``--min-flask-pass-rate``; or ``--report-only`` was given;
- 1: some test is not yet fixed, or Flask's suite scores under the threshold;
- 2: the harness could not score (pip failed, a suite passed nothing on Flask).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime

from compat import report
from compat.differences import DELIBERATE_DIFFERENCES
from compat.environment import REPO_ROOT, Environment, HarnessError, log
from compat.runner import FRAMEWORKS, run_suite
from compat.scoring import SuiteScore, score_suite
from compat.suites import FLASK, SMOKE_DIR, SUITES, Suite, requirements


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected suites, report, and return the exit status."""
    args = _parse_args(argv)
    started = time.monotonic()
    selected = [suite for suite in SUITES if suite.slug in args.only]
    try:
        scores = run_all(Environment(), selected)
    except HarnessError as error:
        log(f"error: {error}")
        return 2
    print(report.summary(scores))
    if len(selected) == len(SUITES):
        info = _run_info(argv, time.monotonic() - started, Environment())
        log(f"wrote {report.write(scores, info).relative_to(REPO_ROOT)}")
    return exit_status(scores, args.min_flask_pass_rate, args.report_only)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line; see the module docstring."""
    slugs = [suite.slug for suite in SUITES]
    parser = argparse.ArgumentParser(prog="python -m compat", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only", nargs="+", choices=slugs, default=slugs, metavar="SUITE",
        help=f"run these suites only, and leave the page alone ({', '.join(slugs)})",
    )  # fmt: skip
    parser.add_argument(
        "--min-flask-pass-rate", type=float, default=0.0, metavar="PERCENT",
        help="fail when fewer of Flask's own tests pass on miniflask (default: 0)",
    )  # fmt: skip
    parser.add_argument("--report-only", action="store_true", help="exit 0 whatever the scores")
    return parser.parse_args(argv)


def run_all(env: Environment, suites: Sequence[Suite]) -> list[SuiteScore]:
    """Install what the suites need, then run and score each one.

    Raises:
        HarnessError: pip failed, or a suite passed no test on Flask (so its
            score would measure the harness, not miniflask).
    """
    env.ensure_venv(requirements())
    scores = []
    for suite in suites:
        scores.append(run_one(env, suite))
    return scores


def run_one(env: Environment, suite: Suite) -> SuiteScore:
    """Run ``suite`` on Flask, then on miniflask, each in a fresh source tree."""
    runs = {}
    for framework in FRAMEWORKS:
        source = env.source_tree(suite) if suite.kind == "source" else SMOKE_DIR
        result = run_suite(env, suite, source, framework)
        log(
            f"{suite.title} on {framework}: {len(result.passed())} passed in {result.seconds:.1f} s"
        )
        runs[framework] = result
    baseline = runs["flask"]
    if not baseline.passed():
        problem = baseline.problem or "no test passed"
        raise HarnessError(f"{suite.title} on Flask: {problem}; see {env.logs_dir}")
    differences = DELIBERATE_DIFFERENCES.get(suite.slug, {})
    return score_suite(suite, baseline, runs["miniflask"], differences)


def exit_status(scores: Sequence[SuiteScore], min_flask_rate: float, report_only: bool) -> int:
    """0 when miniflask keeps up (or only a report was asked for), else 1."""
    if report_only:
        return 0
    failing = [score.suite.title for score in scores if score.undocumented]
    if failing:
        log(f"not yet fixed: tests in {', '.join(failing)} (see docs/compat.md)")
    flask_rate = next((score.rate for score in scores if score.suite == FLASK), 100.0)
    if flask_rate < min_flask_rate:
        log(f"Flask's suite passes {flask_rate:.1f} % on miniflask, under {min_flask_rate:g} %")
    return 1 if failing or flask_rate < min_flask_rate else 0


def _run_info(argv: Sequence[str] | None, seconds: float, env: Environment) -> report.RunInfo:
    """Date, commit, versions and command, for the page's header."""
    words = list(sys.argv[1:] if argv is None else argv)
    return report.RunInfo(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        commit=_git("rev-parse", "--short", "HEAD") or "unknown",
        miniflask_changed=bool(_git("status", "--porcelain", "--", "miniflask")),
        python=sys.version.split()[0],
        versions=env.versions("pytest", "Werkzeug", "Jinja2", "miniflask"),
        command=" ".join(["python -m compat", *words]),
        seconds=seconds,
    )


def _git(*args: str) -> str:
    """The output of one git command in the repository, empty if git fails."""
    result = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True)
    return result.stdout.strip()


if __name__ == "__main__":
    raise SystemExit(main())
