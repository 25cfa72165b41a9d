"""compat/runner.py and compat/plugin/: a real pytest run of a tiny suite, on both frameworks.

The run uses this venv's Python instead of the compat venv (which needs the
network to build): ``Environment.python`` is ``<root>/venv/bin/python``, so
``<root>/venv`` is made a link to this venv. Everything else is the real
thing: the subprocess, the ``sitecustomize`` that switches ``flask`` to
miniflask, the recorder plugin and its JSON file.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from compat.environment import Environment
from compat.plugin.compat_recorder import first_line, last_error_line
from compat.runner import run_suite
from compat.scoring import score_suite
from compat.suites import Suite

TINY_SUITE = """
import flask
import pytest


def test_passes_on_both():
    assert flask.Flask("tiny").name == "tiny"


def test_sees_which_framework_it_runs_on():
    assert flask.__name__ == "flask"


@pytest.fixture
def broken_setup():
    raise RuntimeError("setup went wrong")


def test_setup_error(broken_setup):
    pass


@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown went wrong")


def test_teardown_error(broken_teardown):
    pass


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass


@pytest.mark.xfail(reason="known")
def test_xfailed():
    assert False


@pytest.mark.parametrize("value", [1, 2])
def test_parametrized(value):
    assert value == 1, f"value was {value}"
"""


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Environment, Suite, Path]:
    """An environment whose venv is this one, and a suite of two files in tmp_path."""
    root = tmp_path / "build"
    root.mkdir()
    (root / "venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    source = tmp_path / "suite"
    source.mkdir()
    (source / "pytest.ini").write_text("[pytest]\n")
    (source / "test_tiny.py").write_text(textwrap.dedent(TINY_SUITE))
    (source / "test_broken.py").write_text("import flask.no_such_module\n")
    suite = Suite(name="Tiny", distribution="tiny", version="0", kind="smoke", pytest_args=(".",))
    return Environment(root), suite, source


def test_each_outcome_and_its_first_line_are_recorded(
    tiny: tuple[Environment, Suite, Path],
) -> None:
    env, suite, source = tiny
    result = run_suite(env, suite, source, "flask")
    assert result.problem == ""
    recorded = {test.split("::")[1]: (r.outcome, r.message) for test, r in result.tests.items()}
    assert recorded == {
        "test_passes_on_both": ("passed", ""),
        "test_sees_which_framework_it_runs_on": ("passed", ""),
        "test_setup_error": ("error", "RuntimeError: setup went wrong"),
        "test_teardown_error": ("error", "RuntimeError: teardown went wrong"),
        "test_skipped": ("skipped", "Skipped: not today"),
        "test_xfailed": ("xfailed", "assert False"),
        "test_parametrized[1]": ("passed", ""),
        "test_parametrized[2]": ("failed", "AssertionError: value was 2"),
    }
    assert result.collection_errors == {
        "test_broken.py": "ModuleNotFoundError: No module named 'flask.no_such_module'"
    }
    assert (env.logs_dir / "tiny-flask.log").is_file()


def test_the_miniflask_run_imports_miniflask_as_flask_and_is_scored_against_flask(
    tiny: tuple[Environment, Suite, Path],
) -> None:
    env, suite, source = tiny
    baseline = run_suite(env, suite, source, "flask")
    miniflask = run_suite(env, suite, source, "miniflask")
    score = score_suite(suite, baseline, miniflask, {})
    assert (score.passed, score.total) == (2, 3)
    (gap,) = score.gaps
    assert gap.test == "test_tiny.py::test_sees_which_framework_it_runs_on"
    assert gap.reason == "AssertionError: assert 'miniflask' == 'flask'"


def test_a_run_that_cannot_start_says_why(tiny: tuple[Environment, Suite, Path]) -> None:
    env, suite, source = tiny
    (source / "conftest.py").write_text("raise ImportError('conftest is broken')\n")
    result = run_suite(env, suite, source, "flask")
    assert result.tests == {}
    assert "ImportError: conftest is broken" in result.problem


def test_the_first_line_of_a_message_and_of_a_formatted_import_error() -> None:
    assert first_line("\n  AssertionError: assert 1 == 2\n +  where 1 = f()") == (
        "AssertionError: assert 1 == 2"
    )
    formatted = textwrap.dedent(
        """\
        ImportError while importing test module '/x/tests/test_cli.py'.
        Traceback:
        tests/test_cli.py:3: in <module>
            from flask.cli import AppGroup
        E   ImportError: cannot import name 'AppGroup' from 'miniflask.cli'
        E   (hint) second line of the same block
        """
    )
    assert (
        last_error_line(formatted)
        == "ImportError: cannot import name 'AppGroup' from 'miniflask.cli'"
    )
    assert last_error_line("no marked line\nlast words\n") == "last words"
