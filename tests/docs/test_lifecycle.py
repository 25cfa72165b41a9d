"""docs/lifecycle.md is true to the code.

* Every step of the table (1 to 27) links to at least one method whose
  docstring cites that step. The convention: a docstring cites a step with
  the words ``Lifecycle step N`` (or ``Lifecycle steps N-M``, ``Lifecycle
  steps N and M``), as ``Flask.preprocess_request``'s opens with
  "Lifecycle steps 9-10: ...".
* Every link into the code names the exact lines of the method it names.
  When code moves, the failure says what to write; or rewrite every range::

      .venv/bin/python -m tests.docs.test_lifecycle

* The files and the switches between them that the page counts for one
  request are those that the page's running example really goes through.
* The request-path diagram is on the page.

(``tests/docs/test_quotes.py`` checks the quoted ``wsgi_app``.)
"""

from __future__ import annotations

import importlib
import inspect
import re
import shlex
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PAGE = REPO_ROOT / "docs" / "lifecycle.md"

_ROW = re.compile(r"^\| (?P<step>\d+) \|(?P<rest>.*)$")
_LINK = re.compile(
    r"\[`(?P<name>[\w.]+)`\]\(\.\./(?P<path>miniflask/[\w/]+\.py)#L(?P<start>\d+)-L(?P<end>\d+)\)"
)
_CITATION = re.compile(r"Lifecycle steps? (?P<numbers>\d+(?:(?:-|, | and )\d+)*)")


@dataclass
class Link:
    """``[`Name.method`](../miniflask/file.py#La-Lb)`` in the page."""

    name: str
    path: str
    start: int
    end: int

    @property
    def text(self) -> str:
        return f"[`{self.name}`](../{self.path}#L{self.start}-L{self.end})"


def step_rows(text: str) -> dict[int, str]:
    """The table's rows by step number: ``{10: "| ... | ... |"}``."""
    rows = {}
    for line in text.splitlines():
        match = _ROW.match(line)
        if match:
            rows[int(match.group("step"))] = match.group("rest")
    return rows


def links(text: str) -> list[Link]:
    return [
        Link(m.group("name"), m.group("path"), int(m.group("start")), int(m.group("end")))
        for m in _LINK.finditer(text)
    ]


def resolve(link: Link) -> Callable[..., Any]:
    """The function a link names: ``Flask.wsgi_app`` in ``miniflask/app.py``."""
    obj: Any = importlib.import_module(link.path.removesuffix(".py").replace("/", "."))
    for part in link.name.split("."):
        obj = getattr(obj, part)
    return inspect.unwrap(obj)


def source_lines(func: Callable[..., Any]) -> tuple[int, int]:
    """First and last line of a function's source, decorators included."""
    lines, start = inspect.getsourcelines(func)
    return start, start + len(lines) - 1


def cited_steps(docstring: str | None) -> set[int]:
    """The steps a docstring cites: "Lifecycle steps 3-7" gives {3, 4, 5, 6, 7}."""
    steps: set[int] = set()
    for match in _CITATION.finditer(docstring or ""):
        for part in re.split(r", | and ", match.group("numbers")):
            first, _, last = part.partition("-")
            steps.update(range(int(first), int(last or first) + 1))
    return steps


def test_the_table_has_a_row_for_each_of_the_27_steps() -> None:
    assert sorted(step_rows(PAGE.read_text(encoding="utf-8"))) == list(range(1, 28))


@pytest.mark.parametrize("step", range(1, 28))
def test_each_step_links_a_method_whose_docstring_cites_it(step: int) -> None:
    row = step_rows(PAGE.read_text(encoding="utf-8"))[step]
    row_links = links(row)
    assert row_links, f"step {step}: the row links no method"
    citing = [link.name for link in row_links if step in cited_steps(resolve(link).__doc__)]
    assert citing, (
        f"step {step}: none of {[link.name for link in row_links]} has a docstring that "
        f"says 'Lifecycle step {step}'"
    )


@pytest.mark.parametrize(
    "link", links(PAGE.read_text(encoding="utf-8")), ids=lambda link: link.name
)
def test_each_link_names_the_lines_of_its_method(link: Link) -> None:
    start, end = source_lines(resolve(link))
    assert (link.start, link.end) == (start, end), (
        f"docs/lifecycle.md: {link.text} should be #L{start}-L{end}; "
        "run .venv/bin/python -m tests.docs.test_lifecycle"
    )


def test_the_request_path_diagram_is_on_the_page() -> None:
    assert "](diagrams/request_path.svg)" in PAGE.read_text(encoding="utf-8")


def running_example(text: str) -> str:
    """The first Python block after the heading "A running example"."""
    section = text.split("## A running example", 1)[1]
    return section.split("```python\n", 1)[1].split("\n```", 1)[0]


def _counted_claims(text: str) -> tuple[set[str], int]:
    """The files the page's table lists for one request, and its count of switches."""
    section = text.split("## The files one request opens", 1)[1].split("\n## ", 1)[0]
    files = set(re.findall(r"^\| \[`(?:miniflask/)?([\w/]+\.py)`\]", section, re.MULTILINE))
    switches = re.search(r"\*\*(\d+) times\*\*", section)
    assert switches, "the section states no '**N times**' (switches)"
    return files, int(switches.group(1))


def _example_app(text: str, tmp_path: Path) -> Any:
    """The page's running example, saved as ``lifecycle_app.py`` in ``tmp_path`` and imported."""
    (tmp_path / "lifecycle_app.py").write_text(running_example(text), encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        sys.modules.pop("lifecycle_app", None)
        return importlib.import_module("lifecycle_app").app
    finally:
        sys.path.remove(str(tmp_path))


def test_the_page_counts_the_files_one_request_really_opens(tmp_path: Path) -> None:
    from werkzeug.test import EnvironBuilder

    from miniflask.tracing import record_modules

    text = PAGE.read_text(encoding="utf-8")
    app = _example_app(text, tmp_path)

    def request() -> bytes:
        environ = EnvironBuilder("/posts/7", headers={"X-User": "ada"}).get_environ()
        return b"".join(app(environ, lambda status, headers, exc_info=None: None))

    request()  # the first request
    _, modules = record_modules(request)
    listed, switches = _counted_claims(text)
    # globals.py is read (its proxies and context variables) but none of its
    # functions is called, so the profile does not see it.
    fix = (
        "update the section 'The files one request opens' of docs/lifecycle.md (its table, "
        f"its count and its `trace --files` output): the request called {' → '.join(modules)}"
    )
    assert listed - {"globals.py"} == set(modules), fix
    assert switches == len(modules) - 1, fix


def test_trace_files_prints_what_the_page_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from miniflask.cli import cli

    text = PAGE.read_text(encoding="utf-8")
    _example_app(text, tmp_path)
    monkeypatch.chdir(tmp_path)
    command = re.search(r"\$ miniflask --app lifecycle_app (trace --files [^\n]*)", text)
    assert command, "the page shows no `trace --files` command"
    result = CliRunner().invoke(cli, ["--app", "lifecycle_app", *shlex.split(command.group(1))])
    assert result.exit_code == 0, result.output
    listed, switches = _counted_claims(text)
    last_line = result.output.strip().splitlines()[-1]
    files = len(listed - {"globals.py"})
    assert last_line == f"({files} files of miniflask, {switches} switches between them)"
    modules_line = result.output.strip().splitlines()[-2]
    assert f"{modules_line}\n{last_line}" in text, (
        "docs/lifecycle.md: the `trace --files` output shown is not what the command prints"
    )


def _fixed_page(text: str) -> Iterator[str]:
    for line in text.splitlines(keepends=True):
        for link in links(line):
            start, end = source_lines(resolve(link))
            line = line.replace(link.text, Link(link.name, link.path, start, end).text)
        yield line


if __name__ == "__main__":
    PAGE.write_text("".join(_fixed_page(PAGE.read_text(encoding="utf-8"))), encoding="utf-8")
    print(f"rewrote the line ranges of the links in {PAGE.relative_to(REPO_ROOT)}")
