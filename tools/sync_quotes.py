"""Keep the code quoted in docs/ true to the code in the repository.

A page quotes code with a marker line followed by a fenced block::

    <!-- quote: miniflask/ctx.py#L120-L141 -->
    ```python
    ...exactly lines 120 to 141 of miniflask/ctx.py...
    ```

``tests/docs/test_quotes.py`` checks that every marked block equals those
lines of that file. When the code moves (someone adds a method above the
quoted one), run::

    .venv/bin/python tools/sync_quotes.py          # rewrite the line ranges
    .venv/bin/python tools/sync_quotes.py --check  # only report, exit 1 if stale

Syncing finds each block's text in the current file and rewrites the line
range in the marker (the nearest occurrence to the old range, if there are
several). It never edits the quoted text: if the text no longer exists
anywhere in the file, the code really changed, and it fails loudly, naming
the page and the marker, so a person re-reads the prose around it.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DOCS_DIR = REPO_ROOT / "docs"

MARKER = re.compile(r"^<!-- quote: (?P<path>[\w./-]+)#L(?P<start>\d+)-L(?P<end>\d+) -->\s*$")
_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})")


@dataclass
class Quote:
    """One marked block: where it sits in a page, and what it claims to quote."""

    page: Path
    marker_index: int  # index of the marker line in the page's lines
    path: str  # the quoted file, relative to the repository root
    start: int  # first quoted line, 1-based
    end: int  # last quoted line, inclusive
    lines: list[str]  # the block's lines, without the fences

    @property
    def where(self) -> str:
        page = self.page
        if page.is_relative_to(REPO_ROOT):
            page = page.relative_to(REPO_ROOT)
        return f"{page}:{self.marker_index + 1} (quote of {self.path}#L{self.start}-L{self.end})"


def find_quotes(page: Path) -> list[Quote]:
    """Every marked block of one Markdown page.

    Raises:
        ValueError: a marker is not followed by a fenced block.
    """
    lines = page.read_text(encoding="utf-8").splitlines()
    quotes = []
    for index, line in enumerate(lines):
        match = MARKER.match(line)
        if match is None:
            continue
        quotes.append(
            Quote(
                page=page,
                marker_index=index,
                path=match.group("path"),
                start=int(match.group("start")),
                end=int(match.group("end")),
                lines=_fenced_block_after(lines, index, page),
            )
        )
    return quotes


def _fenced_block_after(lines: list[str], marker_index: int, page: Path) -> list[str]:
    opening = marker_index + 1
    fence = _FENCE.match(lines[opening]) if opening < len(lines) else None
    if fence is None:
        raise ValueError(
            f"{page}:{marker_index + 1}: a quote marker must be followed at once by a fenced block"
        )
    closing_fence = fence.group("fence")
    for index in range(opening + 1, len(lines)):
        if lines[index].strip() == closing_fence:
            return lines[opening + 1 : index]
    raise ValueError(f"{page}:{marker_index + 1}: the quoted block is never closed")


def source_lines(path: str) -> list[str]:
    """The lines of a repository file."""
    return (REPO_ROOT / path).read_text(encoding="utf-8").splitlines()


def problem(quote: Quote) -> str | None:
    """Why a quote is not true to its file, or ``None`` when it is."""
    file = REPO_ROOT / quote.path
    if not file.is_file():
        return f"{quote.where}: {quote.path} does not exist"
    actual = source_lines(quote.path)[quote.start - 1 : quote.end]
    if actual == quote.lines:
        return None
    return (
        f"{quote.where}: the block is not lines {quote.start}-{quote.end} of {quote.path} "
        f"(the code moved or changed). Run `.venv/bin/python tools/sync_quotes.py` to "
        "update the line ranges; if it says the text is gone, re-quote by hand."
    )


def locate(quote: Quote) -> int | None:
    """The 1-based first line where the block's text is in the file now, or ``None``.

    With several occurrences, the one nearest the old range wins.
    """
    lines = source_lines(quote.path)
    size = len(quote.lines)
    if size == 0:
        return None
    starts = [
        index + 1
        for index in range(len(lines) - size + 1)
        if lines[index : index + size] == quote.lines
    ]
    if not starts:
        return None
    return min(starts, key=lambda start: abs(start - quote.start))


def sync_page(page: Path) -> tuple[int, list[str]]:
    """Rewrite the stale line ranges of one page.

    Returns:
        How many markers were rewritten, and the quotes whose text is gone.
    """
    text = page.read_text(encoding="utf-8")
    lines = text.splitlines(keepends=True)
    changed, missing = 0, []
    for quote in find_quotes(page):
        if problem(quote) is None:
            continue
        start = locate(quote) if (REPO_ROOT / quote.path).is_file() else None
        if start is None:
            missing.append(f"{quote.where}: its text is no longer in {quote.path}")
            continue
        end = start + len(quote.lines) - 1
        ending = "\n" if lines[quote.marker_index].endswith("\n") else ""
        lines[quote.marker_index] = f"<!-- quote: {quote.path}#L{start}-L{end} -->{ending}"
        changed += 1
    if changed:
        page.write_text("".join(lines), encoding="utf-8")
    return changed, missing


def all_pages() -> list[Path]:
    """Every Markdown page under docs/."""
    return sorted(DOCS_DIR.rglob("*.md"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report stale quotes, change nothing")
    parser.add_argument("pages", nargs="*", type=Path, help="pages to process (default: docs/)")
    args = parser.parse_args(argv)
    pages = [page.resolve() for page in args.pages] or all_pages()

    if args.check:
        problems = [p for page in pages for q in find_quotes(page) if (p := problem(q))]
        for message in problems:
            print(message, file=sys.stderr)
        count = sum(len(find_quotes(page)) for page in pages)
        print(f"{count} quotes checked, {len(problems)} stale")
        return 1 if problems else 0

    total_changed, all_missing = 0, []
    for page in pages:
        changed, missing = sync_page(page)
        total_changed += changed
        all_missing.extend(missing)
    print(f"{total_changed} line ranges rewritten")
    for message in all_missing:
        print(f"GONE: {message}", file=sys.stderr)
    if all_missing:
        print(
            f"{len(all_missing)} quoted blocks no longer exist in their files: "
            "re-quote them by hand and re-read the prose around them.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
