"""The committed request-path diagram is what tools/request_diagram.py draws."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_committed_svg_is_up_to_date() -> None:
    spec = importlib.util.spec_from_file_location(
        "request_diagram", REPO_ROOT / "tools" / "request_diagram.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    committed = module.OUTPUT.read_text(encoding="utf-8")
    assert committed == module.render(), (
        "docs/diagrams/request_path.svg is stale: run .venv/bin/python tools/request_diagram.py"
    )
    assert committed.startswith("<svg ") and "RequestContext.push()" in committed
