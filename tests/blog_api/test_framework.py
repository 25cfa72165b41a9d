"""The ``Framework`` protocol of blog_api/framework.py: both frameworks satisfy it.

At run time each module has every name the protocol lists; for mypy, a module
assigned to a ``Framework`` variable must have each member with a compatible
type, which the second test checks by running mypy on such an assignment.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

import flask
import pytest

import miniflask
from blog_api.framework import Framework

ROOT = Path(__file__).resolve().parents[2]

#: The protocol's members: the names the web layer may use from ``fw``.
MEMBERS = sorted(name for name in vars(Framework) if not name.startswith("_"))

#: Each framework module typed as the protocol; mypy must accept both lines.
ASSIGNMENTS = """
import flask
import miniflask

from blog_api.framework import Framework

on_flask: Framework = flask
on_miniflask: Framework = miniflask
"""


def test_the_protocol_lists_the_names_the_web_layer_uses() -> None:
    assert {"Blueprint", "Response", "request", "g", "current_app", "url_for"} <= set(MEMBERS)
    assert len(MEMBERS) >= 17


@pytest.mark.parametrize("module", [flask, miniflask], ids=["flask", "miniflask"])
def test_both_frameworks_have_every_name_of_the_protocol(module: ModuleType) -> None:
    assert [name for name in MEMBERS if not hasattr(module, name)] == []


def test_both_frameworks_satisfy_the_protocol_for_mypy(tmp_path: Path) -> None:
    snippet = tmp_path / "assignments.py"
    snippet.write_text(ASSIGNMENTS)
    command = [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent"]
    result = subprocess.run(
        [*command, "--cache-dir", str(tmp_path / "mypy"), str(snippet)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
