"""The committed request-path diagram is what tools/request_diagram.py draws."""

from __future__ import annotations

from tests.support.tools import load_tool


def test_committed_svg_is_up_to_date() -> None:
    module = load_tool("request_diagram")
    committed = module.OUTPUT.read_text(encoding="utf-8")
    assert committed == module.render(), (
        "docs/diagrams/request_path.svg is stale: run .venv/bin/python tools/request_diagram.py"
    )
    assert committed.startswith("<svg ") and "RequestContext.push()" in committed
