"""Every block of code quoted in docs/ is, line for line, the code it names.

Pages quote code under a marker such as ``<!-- quote: miniflask/ctx.py#L120-L141 -->``
(see ``tools/sync_quotes.py``). When a module is edited the line numbers move;
this test then fails with the command that fixes the markers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.tools import load_tool

sync_quotes = load_tool("sync_quotes")
QUOTES = [quote for page in sync_quotes.all_pages() for quote in sync_quotes.find_quotes(page)]


def test_the_concept_pages_quote_code() -> None:
    pages = {quote.page.name for quote in QUOTES}
    for page in ("wsgi.md", "contexts.md", "blueprints.md", "hooks-and-signals.md", "errors.md"):
        assert page in pages


@pytest.mark.parametrize("quote", QUOTES, ids=lambda q: f"{q.page.name}:{q.marker_index + 1}")
def test_quote_matches_the_lines_it_names(quote) -> None:
    message = sync_quotes.problem(quote)
    assert message is None, message


def test_sync_rewrites_a_moved_range_and_refuses_vanished_text(tmp_path: Path) -> None:
    source = "miniflask/globals.py"
    lines = sync_quotes.source_lines(source)
    start = next(i for i, line in enumerate(lines, 1) if line.startswith("_cv_app: ContextVar"))
    page = tmp_path / "page.md"
    page.write_text(
        f"<!-- quote: {source}#L1-L1 -->\n```python\n{lines[start - 1]}\n```\n"
        f"<!-- quote: {source}#L1-L1 -->\n```python\nthis line is in no file\n```\n"
    )
    changed, missing = sync_quotes.sync_page(page)
    assert changed == 1
    assert len(missing) == 1 and "no longer in" in missing[0]
    assert page.read_text().startswith(f"<!-- quote: {source}#L{start}-L{start} -->\n")
