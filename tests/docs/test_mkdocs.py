"""The documentation site builds with MkDocs in strict mode.

Strict mode turns every warning into a failure: a link to a page or anchor
that does not exist, a page left out of the nav, and (through
``tools/mkdocs_hooks.py``) a link into the code naming a file that is gone.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

pytest.importorskip("mkdocs", reason="mkdocs is in the dev extra: pip install -e '.[dev]'")


def build(site_dir: Path, config: Path = REPO_ROOT / "mkdocs.yml") -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--quiet",
            "--config-file",
            str(config),
            "--site-dir",
            str(site_dir),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_site_builds_strictly_with_no_broken_links(tmp_path: Path) -> None:
    result = build(tmp_path / "site")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "diagrams" / "request_path.svg").is_file()


def test_links_into_the_code_become_source_pages(tmp_path: Path) -> None:
    result = build(tmp_path / "site")
    assert result.returncode == 0, result.stdout + result.stderr
    contexts = (tmp_path / "site" / "contexts.html").read_text(encoding="utf-8")
    assert 'href="_source/miniflask/ctx.py.html#L' in contexts
    source = (tmp_path / "site" / "_source" / "miniflask" / "ctx.py.html").read_text("utf-8")
    assert 'id="L1"' in source


def test_a_link_to_a_missing_code_file_fails_the_build(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text("# x\n\n[gone](../miniflask/no_such_module.py)\n")
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        "site_name: t\ndocs_dir: docs\nstrict: true\n"
        f"hooks:\n  - {REPO_ROOT / 'tools' / 'mkdocs_hooks.py'}\n"
    )
    result = build(tmp_path / "site", config)
    assert result.returncode != 0
    assert "no_such_module.py" in result.stdout + result.stderr
