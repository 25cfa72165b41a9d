"""docs/perf.md lists every ``# PERF:`` site of miniflask, and only those.

A *site* is a ``# PERF:`` comment that describes a speed-up: it says what the
plain version is and what was gained. A comment that starts ``# PERF: see X``
only points to the site ``X`` from another line of the same idea.

* every site in the code has a row in the table, and every row a site;
* each row's link names the lines of the function (or statement) holding the
  site; when code moves, the failure says what to write, or rewrite them all::

      .venv/bin/python -m tests.docs.test_perf_table

* each site states its plain version and a measured figure;
* each pointer points at a site of the table;
* each test the table names exists.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PAGE = REPO_ROOT / "docs" / "perf.md"
PACKAGE = REPO_ROOT / "miniflask"

_TAG = re.compile(r"#\s*PERF:\s*(?P<text>.*)$")
_ROW_LINK = re.compile(
    r"^\| \[`(?P<name>[\w.]+)`\]"
    r"\(\.\./(?P<path>miniflask/[\w/]+\.py)#L(?P<start>\d+)-L(?P<end>\d+)\)"
)
_TEST = re.compile(r"`(?P<path>tests/[\w/]+\.py)::(?P<name>\w+)`")
_FIGURE = re.compile(r"\d[\d.,]*\s*(µs|ms|KiB|MiB|%)")


@dataclass(frozen=True)
class Site:
    """One ``# PERF:`` comment: its file, the function or statement holding it, its text."""

    path: str
    name: str
    line: int
    text: str

    @property
    def pointer(self) -> bool:
        return self.text.startswith("see ")


def _named_scopes(tree: ast.Module) -> Iterator[tuple[str, int, int]]:
    """``(qualified name, first line, last line)`` of every function and class."""

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, int, int]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}"
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                assert child.end_lineno is not None
                yield name, first, child.end_lineno
                yield from walk(child, f"{name}.")

    yield from walk(tree, "")


def _statement_name(node: ast.stmt) -> str:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    raise AssertionError(f"a # PERF: comment above a statement with no name (line {node.lineno})")


@cache
def source_range(path: str, name: str) -> tuple[int, int]:
    """The lines of the function, class or module-level statement ``name`` of ``path``."""
    tree = ast.parse((REPO_ROOT / path).read_text(encoding="utf-8"))
    for scope, first, last in _named_scopes(tree):
        if scope == name:
            return first, last
    for node in tree.body:
        try:
            if _statement_name(node) == name:
                assert node.end_lineno is not None
                return node.lineno, node.end_lineno
        except AssertionError:
            continue
    raise LookupError(f"{path} has no {name}")


def _comment_block(lines: list[str], index: int) -> str:
    """The text of the comment that starts at ``lines[index]`` and the comment lines below it."""
    texts = [_TAG.search(lines[index]).group("text")]  # type: ignore[union-attr]  # the caller found the tag
    for line in lines[index + 1 :]:
        stripped = line.strip()
        if not stripped.startswith("#") or _TAG.search(stripped):
            break
        texts.append(stripped.lstrip("#").strip())
    return " ".join(texts)


def _tagged_comment_lines(source: str) -> list[int]:
    """The lines holding a ``# PERF:`` comment (a real comment, not text in a docstring)."""
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return [
        token.start[0]
        for token in tokens
        if token.type == tokenize.COMMENT and _TAG.search(token.string)
    ]


def code_sites() -> list[Site]:
    """Every ``# PERF:`` comment of miniflask, with the name of what holds it."""
    sites = []
    for file in sorted(PACKAGE.rglob("*.py")):
        path = file.relative_to(REPO_ROOT).as_posix()
        source = file.read_text(encoding="utf-8")
        lines = source.splitlines()
        tree = ast.parse(source)
        scopes = list(_named_scopes(tree))
        for number in _tagged_comment_lines(source):
            index = number - 1
            holders = [(first, name) for name, first, last in scopes if first <= number <= last]
            if holders:
                name = max(holders)[1]  # the innermost: the one that starts last
            else:
                name = _statement_name(next(node for node in tree.body if node.lineno > number))
            sites.append(Site(path, name, number, _comment_block(lines, index)))
    return sites


@dataclass(frozen=True)
class Row:
    name: str
    path: str
    start: int
    end: int
    line: str

    @property
    def link(self) -> str:
        return f"[`{self.name}`](../{self.path}#L{self.start}-L{self.end})"


def table_rows(text: str) -> list[Row]:
    rows = []
    for line in text.splitlines():
        match = _ROW_LINK.match(line)
        if match:
            start, end = int(match.group("start")), int(match.group("end"))
            rows.append(Row(match.group("name"), match.group("path"), start, end, line))
    return rows


SITES = [site for site in code_sites() if not site.pointer]
POINTERS = [site for site in code_sites() if site.pointer]
ROWS = table_rows(PAGE.read_text(encoding="utf-8"))


def test_every_site_has_a_row_and_every_row_a_site() -> None:
    in_code = {(site.path, site.name) for site in SITES}
    in_table = {(row.path, row.name) for row in ROWS}
    assert in_code - in_table == set(), "# PERF: sites missing from docs/perf.md"
    assert in_table - in_code == set(), "rows of docs/perf.md with no # PERF: site in the code"
    assert len(ROWS) == len(in_table), "a site is listed twice"


def test_the_page_counts_the_sites() -> None:
    stated = re.search(r"lists all\s+(\d+)\s+of them", PAGE.read_text(encoding="utf-8"))
    assert stated and int(stated.group(1)) == len(SITES)


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_each_row_links_the_lines_of_its_site(row: Row) -> None:
    start, end = source_range(row.path, row.name)
    assert (row.start, row.end) == (start, end), (
        f"docs/perf.md: {row.link} should be #L{start}-L{end}; "
        "run .venv/bin/python -m tests.docs.test_perf_table"
    )


@pytest.mark.parametrize("site", SITES, ids=lambda site: f"{site.path}:{site.name}")
def test_each_site_states_its_plain_version_and_a_measured_figure(site: Site) -> None:
    assert "plain version" in site.text.lower(), f"{site.path}:{site.line} names no plain version"
    assert _FIGURE.search(site.text), f"{site.path}:{site.line} states no measured figure"


@pytest.mark.parametrize("pointer", POINTERS, ids=lambda site: f"{site.path}:{site.line}")
def test_each_pointer_points_at_a_site(pointer: Site) -> None:
    target = re.match(r"see ([\w.]+)", pointer.text)
    assert target, f"{pointer.path}:{pointer.line}: 'see' names nothing"
    last = target.group(1).rstrip(".").split(".")[-1]
    assert any(site.name.split(".")[-1] == last for site in SITES), (
        f"{pointer.path}:{pointer.line} points at {target.group(1)}, which is no # PERF: site"
    )


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_each_row_names_tests_that_exist(row: Row) -> None:
    tests = list(_TEST.finditer(row.line))
    assert tests, f"docs/perf.md: the row of {row.name} names no test"
    for test in tests:
        source = (REPO_ROOT / test.group("path")).read_text(encoding="utf-8")
        assert re.search(rf"^(async )?def {test.group('name')}\(", source, re.MULTILINE), (
            f"docs/perf.md: {test.group(0)} does not exist"
        )


def _fixed_page(text: str) -> str:
    for row in table_rows(text):
        start, end = source_range(row.path, row.name)
        fixed = Row(row.name, row.path, start, end, row.line)
        text = text.replace(row.link, fixed.link)
    return text


if __name__ == "__main__":
    PAGE.write_text(_fixed_page(PAGE.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"rewrote the line ranges of the links in {PAGE.relative_to(REPO_ROOT)}")
