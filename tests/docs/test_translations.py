"""Each Chinese page (``docs/<page>.zh.md``) stays in step with its English page.

A translation translates the prose and nothing else. So, page by page, the two must
have:

- the same code blocks in the same order, byte for byte, each with the
  ``<!-- quote: ... -->`` marker above it if it has one (``tests/docs/test_quotes.py``
  then checks the Chinese copies against the code too);
- the same headings, level by level, in the same order;
- the same links into the code (``../miniflask/...``, ``../blog_api/...``), and the same
  links to other pages, a translated page's link going to its translation.

When an English page gains or loses a section, a quote or a link, this fails naming the
page and what differs: update the translation in the same change.
The site itself (the language switch, the source pages behind the Chinese pages' links)
is checked on a strict build at the end.
"""

from __future__ import annotations

import posixpath
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher, unified_diff
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCS = REPO_ROOT / "docs"
SUFFIX = ".zh.md"

#: The pages issue #17 asks for in Chinese.
TRANSLATED = ("index.md", "seed.md", "lifecycle.md", "contexts.md")

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})")
_MARKER = re.compile(r"^<!-- quote: [\w./-]+#L\d+-L\d+ -->\s*$")
_HEADING = re.compile(r"^(?P<hashes>#{1,6})\s+(?P<text>.*?)\s*$")
_LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def translations() -> list[Path]:
    return sorted(DOCS.glob(f"*{SUFFIX}"))


def english_of(page: Path) -> Path:
    return page.with_name(page.name.removesuffix(SUFFIX) + ".md")


@dataclass
class Block:
    line: int  # 1-based line of the marker, or of the opening fence
    text: str  # the marker line (if any) and the fenced block, fences included


@dataclass
class Outline:
    """What a translation must keep from its page: code, headings, links."""

    blocks: list[Block] = field(default_factory=list)
    headings: list[tuple[int, str]] = field(default_factory=list)  # (level, text)
    code_links: list[str] = field(default_factory=list)  # ../miniflask/ctx.py#L1-L9
    page_links: list[str] = field(default_factory=list)  # contexts.md, no anchor


def outline(text: str) -> Outline:
    """Cut a Markdown page into the parts a translation must keep."""
    result = Outline()
    lines = text.splitlines(keepends=True)
    fence: str | None = None
    current: list[str] = []
    start = 0
    for number, line in enumerate(lines, start=1):
        if fence is not None:
            current.append(line)
            closing = line.strip()
            if closing.startswith(fence) and set(closing) == {fence[0]}:
                result.blocks.append(Block(start, "".join(current)))
                fence, current = None, []
            continue
        opening = _FENCE.match(line)
        if opening:
            fence = opening.group("fence")
            previous = lines[number - 2] if number > 1 else ""
            marked = _MARKER.match(previous) is not None
            current = [previous, line] if marked else [line]
            start = number - 1 if marked else number
            continue
        heading = _HEADING.match(line)
        if heading:
            result.headings.append((len(heading.group("hashes")), heading.group("text")))
        for match in _LINK.finditer(line):
            target = match.group("target")
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith("#"):
                continue
            if target.startswith("../"):
                result.code_links.append(target)
            else:
                path = target.partition("#")[0]
                if path.endswith(".md"):
                    result.page_links.append(path)
    if fence is not None:
        result.blocks.append(Block(start, "".join(current)))
    return result


def translated_link(path: str) -> str:
    """Where a link of the English page goes from the Chinese one."""
    chinese = path.removesuffix(".md") + SUFFIX
    return chinese if (DOCS / posixpath.normpath(chinese)).is_file() else path


def _heading(headings: list[tuple[int, str]], index: int) -> str:
    if index >= len(headings):
        return "-"
    level, text = headings[index]
    return f"{'#' * level} {text}"


def differences(english_name: str, english: str, chinese_name: str, chinese: str) -> list[str]:
    """Every way the translation has drifted from its page, as sentences."""
    en, zh = outline(english), outline(chinese)
    problems: list[str] = []

    matcher = SequenceMatcher(a=[b.text for b in en.blocks], b=[b.text for b in zh.blocks])
    for tag, a0, a1, b0, b1 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and a1 - a0 == b1 - b0:
            for a, b in zip(en.blocks[a0:a1], zh.blocks[b0:b1], strict=True):
                diff = "".join(
                    unified_diff(
                        a.text.splitlines(keepends=True),
                        b.text.splitlines(keepends=True),
                        f"{english_name}:{a.line}",
                        f"{chinese_name}:{b.line}",
                    )
                )
                problems.append(
                    f"{chinese_name}:{b.line}: code block {b0 + 1} is not the one at "
                    f"{english_name}:{a.line} (code blocks are copied byte for byte):\n{diff}"
                )
            continue
        for block in en.blocks[a0:a1]:
            problems.append(
                f"{chinese_name}: lacks the code block at {english_name}:{block.line}:\n"
                f"{block.text}"
            )
        for block in zh.blocks[b0:b1]:
            problems.append(
                f"{chinese_name}:{block.line}: has a code block that {english_name} does not:\n"
                f"{block.text}"
            )

    en_levels = [level for level, _ in en.headings]
    zh_levels = [level for level, _ in zh.headings]
    if en_levels != zh_levels:
        # Levels alone cannot say which section is missing: show both outlines side by
        # side, and the shift shows it.
        rows = [
            f"  {_heading(en.headings, i):<60} | {_heading(zh.headings, i)}"
            for i in range(max(len(en_levels), len(zh_levels)))
        ]
        problems.append(
            f"{chinese_name}: headings out of step with {english_name} "
            f"({len(en_levels)} there, {len(zh_levels)} here; a section was added or "
            "dropped, or a heading changed level):\n" + "\n".join(rows)
        )

    for kind, want, have in (
        ("links into the code", en.code_links, zh.code_links),
        ("links to pages", [translated_link(p) for p in en.page_links], zh.page_links),
    ):
        missing = Counter(want) - Counter(have)
        extra = Counter(have) - Counter(want)
        if missing or extra:
            problems.append(
                f"{chinese_name}: {kind} differ from {english_name}'s: "
                f"missing {sorted(missing.elements())}, extra {sorted(extra.elements())} "
                "(copy them from the English page, line ranges included)"
            )
    return problems


def test_the_pages_of_the_issue_are_translated() -> None:
    present = {english_of(page).name for page in translations()}
    assert set(TRANSLATED) <= present, f"not translated yet: {set(TRANSLATED) - present}"


@pytest.mark.parametrize("page", translations(), ids=lambda page: page.name)
def test_translation_keeps_the_code_headings_and_links_of_its_page(page: Path) -> None:
    english = english_of(page)
    assert english.is_file(), f"{page.name} translates {english.name}, which does not exist"
    problems = differences(
        f"docs/{english.name}",
        english.read_text(encoding="utf-8"),
        f"docs/{page.name}",
        page.read_text(encoding="utf-8"),
    )
    assert not problems, "\n\n".join(problems)


@pytest.mark.parametrize("page", translations(), ids=lambda page: page.name)
def test_translation_is_chinese(page: Path) -> None:
    prose = "".join(re.split(r"```.*?```", page.read_text(encoding="utf-8"), flags=re.S))
    assert len(re.findall(r"[\u4e00-\u9fff]", prose)) > len(prose) // 10


def test_a_changed_code_block_a_lost_section_and_a_lost_link_are_named() -> None:
    english = (
        "# Page\n\nSee [ctx](../miniflask/ctx.py#L1-L2) and [seed](seed.md).\n\n"
        "## One\n\n<!-- quote: miniflask/ctx.py#L1-L2 -->\n```python\nx = 1\n```\n\n"
        "## Two\n\n```sh\nmake docs\n```\n"
    )
    chinese = english.replace("See", "见").replace("One", "一").replace("Two", "二")
    chinese = chinese.replace("(seed.md)", f"({translated_link('seed.md')})")
    assert differences("en.md", english, "zh.md", chinese) == []

    changed = differences("en.md", english, "zh.md", chinese.replace("x = 1", "x = 2"))
    assert len(changed) == 1 and "zh.md:7: code block 1" in changed[0]
    assert "-x = 1" in changed[0] and "+x = 2" in changed[0]

    unmarked = differences("en.md", english, "zh.md", chinese.replace("<!-- quote", "<!-- q"))
    assert unmarked and "code block" in unmarked[0]

    lost = chinese.replace("## 二\n\n```sh\nmake docs\n```\n", "")
    problems = differences("en.md", english, "zh.md", lost)
    assert any("lacks the code block at en.md:14" in p for p in problems)
    assert any("headings out of step" in p and "3 there, 2 here" in p for p in problems)

    unlinked = differences("en.md", english, "zh.md", chinese.replace("../miniflask/ctx", "x"))
    assert any("links into the code" in p and "../miniflask/ctx.py#L1-L2" in p for p in unlinked)


@pytest.mark.parametrize("page", translations(), ids=lambda page: page.name)
def test_changing_one_code_block_of_the_real_page_fails(page: Path) -> None:
    english = english_of(page).read_text(encoding="utf-8")
    chinese = page.read_text(encoding="utf-8")
    block = outline(chinese).blocks[0].text
    drifted = chinese.replace(block, block.replace("\n", " \n", 2), 1)
    problems = differences("en", english, "zh", drifted)
    assert len(problems) == 1 and "code block 1 " in problems[0]


# The built site: the language switch both ways, and links into the code served
# from the Chinese pages as from the English ones.


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mkdocs", reason="mkdocs is in the dev extra: pip install -e '.[dev]'")
    site_dir = tmp_path_factory.mktemp("site")
    # Not --quiet: it hides the warnings that --strict counts, so nothing would fail.
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)]
    result = subprocess.run(
        [*command, "--config-file", str(REPO_ROOT / "mkdocs.yml")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return site_dir


@pytest.mark.parametrize("page", translations(), ids=lambda page: page.name)
def test_the_site_switches_language_both_ways(site: Path, page: Path) -> None:
    english_html = english_of(page).name.removesuffix(".md") + ".html"
    chinese_html = page.name.removesuffix(".md") + ".html"
    english = (site / english_html).read_text(encoding="utf-8")
    chinese = (site / chinese_html).read_text(encoding="utf-8")
    assert f'<strong>English</strong> · <a href="{chinese_html}">中文</a>' in english
    assert f'<a href="{english_html}">English</a> · <strong>中文</strong>' in chinese
    assert '<html lang="zh-Hans"' in chinese and '<html lang="zh-Hans"' not in english
    # A line break between two Chinese characters would show as a space.
    wide = r"[\u4e00-\u9fff\u3001\u3002\uff08\uff09\uff0c\uff1a\uff1b]"
    assert not re.search(rf"{wide}\n *{wide}", chinese)


@pytest.mark.parametrize("page", translations(), ids=lambda page: page.name)
def test_links_into_the_code_work_from_the_chinese_pages(site: Path, page: Path) -> None:
    def sources(html_name: str) -> Counter[str]:
        html = (site / html_name).read_text(encoding="utf-8")
        return Counter(re.findall(r'href="(_source/[^"#]+)', html))

    english = sources(english_of(page).name.removesuffix(".md") + ".html")
    chinese = sources(page.name.removesuffix(".md") + ".html")
    assert chinese == english
    for href in chinese:
        assert (site / href).is_file(), f"{page.name} links to {href}, which was not built"


def test_chinese_headings_get_anchors_and_english_ones_keep_theirs() -> None:
    pytest.importorskip("mkdocs", reason="mkdocs is in the dev extra: pip install -e '.[dev]'")
    from markdown.extensions.toc import slugify

    from tests.support.tools import load_tool

    slug = load_tool("mkdocs_i18n").heading_slugify()
    assert slug("两种上下文", "-") == "两种上下文"
    assert slug("1. WSGI 与 Werkzeug", "-") == "1-wsgi-与-werkzeug"
    for heading in ("In-process: µs per request", "Pushing is set, popping is reset"):
        assert slug(heading, "-") == slugify(heading, "-")


def test_chinese_lines_are_joined_outside_code() -> None:
    pytest.importorskip("mkdocs", reason="mkdocs is in the dev extra: pip install -e '.[dev]'")
    from tests.support.tools import load_tool

    join = load_tool("mkdocs_i18n").join_wide_lines
    text = "第一行、\n第二行 `code`\n第三行。\n\n- 列表\n  续行\n\n```python\n# 注释\n# 注释\n```\n"
    assert join(text) == (
        "第一行、第二行 `code`\n第三行。\n\n- 列表续行\n\n```python\n# 注释\n# 注释\n```\n"
    )
