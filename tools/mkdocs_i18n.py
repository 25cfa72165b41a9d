"""MkDocs hook: the Chinese pages (``docs/<page>.zh.md``) beside their English ones.

A translated page sits next to its English page with a ``.zh`` suffix
(``seed.md`` and ``seed.zh.md``, built as ``seed.html`` and ``seed.zh.html``), so
its links into the code (``../miniflask/ctx.py``) and to untranslated pages
(``wsgi.md``) are the English page's, character for character, and
``tools/mkdocs_hooks.py`` serves them the same way. This hook, named in
``mkdocs.yml`` after that one:

1. puts a language switch under the title of every page that has a
   translation, and of every translation (``**English** · [中文](seed.zh.md)``),
   as a Markdown link, so the strict build checks it;
2. gives Chinese headings readable anchors: Python-Markdown's default slug
   drops every non-ASCII character, so ``## 两种上下文`` would get ``#_1``;
   headings with Chinese characters are slugged keeping them
   (``#两种上下文``, as a code host does), every other heading keeps the
   slug it had, so no English anchor changes;
3. joins the lines of a Chinese paragraph where the break falls between two
   Chinese characters: a browser shows a line break in the source as a space,
   which Chinese text does not have (the source stays wrapped for diffs);
4. marks the translated pages ``<html lang="zh-Hans">``, so browsers pick
   Chinese glyphs and fonts.

Why not the ``mkdocs-static-i18n`` plugin: it builds the whole site again
under ``zh/`` and (1.3.1) fails on the source pages that
``tools/mkdocs_hooks.py`` generates (``File.generated`` has no
``abs_src_path``); and the plain ``mkdocs`` theme shows no language menu.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from markdown.extensions.toc import slugify, slugify_unicode
from mkdocs.structure.files import Files

SUFFIX = ".zh"
LANGUAGES = ("English", "中文")

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: Chinese characters and the punctuation written with them (CJK and full-width forms).
_WIDE = "\u2014\u2018-\u201d\u2026\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_WIDE_BREAK = re.compile(rf"(?<=[{_WIDE}])\n[ \t]*(?=[{_WIDE}])")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def english_of(src_uri: str) -> str | None:
    """``seed.md`` for ``seed.zh.md``; ``None`` for a page that is no translation."""
    if not src_uri.endswith(SUFFIX + ".md"):
        return None
    return src_uri.removesuffix(SUFFIX + ".md") + ".md"


def translation_of(src_uri: str) -> str:
    """``seed.zh.md`` for ``seed.md``."""
    return src_uri.removesuffix(".md") + SUFFIX + ".md"


def heading_slugify(
    default: Callable[[str, str], str] = slugify,
) -> Callable[[str, str], str]:
    """A ``toc`` slugify keeping Chinese characters, and ``default`` for other headings."""

    def slug(value: str, separator: str) -> str:
        if _CJK.search(value):
            return slugify_unicode(value, separator)
        return default(value, separator)

    return slug


def on_config(config: Any) -> Any:
    toc = config.mdx_configs.setdefault("toc", {})
    toc["slugify"] = heading_slugify(toc.get("slugify", slugify))
    return config


def switch(src_uri: str, files: Files) -> str | None:
    """The language line for a page, or ``None`` when it has no other language."""
    english = english_of(src_uri)
    if english is not None:
        if files.get_file_from_path(english) is None:
            return None
        name = english.rpartition("/")[2]
        return f"[{LANGUAGES[0]}]({name}) · **{LANGUAGES[1]}**"
    chinese = translation_of(src_uri)
    if files.get_file_from_path(chinese) is None:
        return None
    name = chinese.rpartition("/")[2]
    return f"**{LANGUAGES[0]}** · [{LANGUAGES[1]}]({name})"


def join_wide_lines(markdown: str) -> str:
    """Remove the line breaks between two Chinese characters, outside fenced code."""
    out: list[str] = []
    prose: list[str] = []
    fence: str | None = None
    for line in markdown.splitlines(keepends=True):
        if fence is None:
            match = _FENCE.match(line)
            if match is None:
                prose.append(line)
                continue
            out.append(_WIDE_BREAK.sub("", "".join(prose)))
            prose, fence = [], match.group(1)
        elif line.strip().startswith(fence) and set(line.strip()) == {fence[0]}:
            fence = None
        out.append(line)
    out.append(_WIDE_BREAK.sub("", "".join(prose)))
    return "".join(out)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """Put the language switch under the page's title (or first, with no title)."""
    if english_of(page.file.src_uri) is not None:
        markdown = join_wide_lines(markdown)
    line = switch(page.file.src_uri, files)
    if line is None:
        return markdown
    if not markdown.startswith("# "):
        return f"{line}\n\n{markdown}"
    title, newline, rest = markdown.partition("\n")
    return f"{title}\n\n{line}\n{newline}{rest}"


def on_post_page(output: str, page: Any, config: Any) -> str:
    if english_of(page.file.src_uri) is None:
        return output
    return re.sub(r'<html lang="[^"]*"', '<html lang="zh-Hans"', output, count=1)
