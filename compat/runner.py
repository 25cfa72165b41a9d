"""Running one suite on one framework: pytest in the compat venv, outcomes from JSON.

Each run is a separate ``python -m pytest`` process in the suite's source
tree, so the real Flask and miniflask never meet in one interpreter (the
alias refuses to install once Flask is imported). pytest's own output goes to
``build/compat/logs/<suite>-<framework>.log`` for the tracebacks; the outcomes
come from the recorder plugin's JSON file beside it.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from compat.environment import Environment, run_environment
from compat.plugin.compat_recorder import last_error_line
from compat.scoring import PassResult, RecordedTest
from compat.suites import Suite

#: The baseline first, then the run under test.
FRAMEWORKS = ("flask", "miniflask")

#: A suite that hangs (a view waiting forever on miniflask, say) is stopped here.
TIMEOUT_SECONDS = 600


def run_suite(env: Environment, suite: Suite, source: Path, framework: str) -> PassResult:
    """Run ``suite``'s tests, found in ``source``, on ``framework``.

    Args:
        env: the compat environment (venv, logs folder).
        suite: what to run.
        source: the folder pytest starts in (the sdist's root, or compat/smoke/).
        framework: ``"flask"`` for the baseline, ``"miniflask"`` for the aliased run.
    """
    env.logs_dir.mkdir(parents=True, exist_ok=True)
    out_file = env.logs_dir / f"{suite.slug}-{framework}.json"
    log_file = env.logs_dir / f"{suite.slug}-{framework}.log"
    out_file.unlink(missing_ok=True)
    cache_dir = env.root / "pytest-cache" / f"{suite.slug}-{framework}"
    options = pytest_options(suite, cache_dir)
    command = [str(env.python), "-m", "pytest", *options, *suite.pytest_args]
    started = time.monotonic()
    with log_file.open("w", encoding="utf-8") as log:
        try:
            subprocess.run(
                command,
                cwd=source,
                env=run_environment(env, framework == "miniflask", out_file),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return PassResult(problem=f"the run timed out after {TIMEOUT_SECONDS} s")
    seconds = time.monotonic() - started
    if not out_file.exists():
        return PassResult(problem=startup_problem(log_file), seconds=seconds)
    return load_outcomes(out_file, seconds)


def pytest_options(suite: Suite, cache_dir: Path) -> list[str]:
    """The options every run shares, then the suite's plugins."""
    options = [
        "-p", "compat_recorder",
        # Kept out of the source tree (compat/smoke/ is in the repository);
        # not switched off: pytest-xprocess keeps its state in the cache.
        "-o", f"cache_dir={cache_dir}",
        "--continue-on-collection-errors",  # one broken file must not hide the rest
        "-q", "--tb=short", "-rN",
    ]  # fmt: skip
    for plugin in suite.plugins:
        options += ["-p", plugin]
    return options


def load_outcomes(out_file: Path, seconds: float = 0.0) -> PassResult:
    """Read the recorder plugin's JSON file into a :class:`PassResult`."""
    data = json.loads(out_file.read_text(encoding="utf-8"))
    tests = {test: RecordedTest(**recorded) for test, recorded in data["tests"].items()}
    return PassResult(tests, data["collection_errors"], seconds=seconds)


def startup_problem(log_file: Path) -> str:
    """Why pytest wrote no outcomes: the error at the end of its log."""
    text = log_file.read_text(encoding="utf-8", errors="replace")
    return f"pytest recorded nothing: {last_error_line(text) or 'no output'}"
