"""MkDocs hook: links from docs/ into the repository's code work in the built site too.

The pages are written to be read on a code host as plain Markdown, so they link
to code the way a code host understands: ``[ctx.py](../miniflask/ctx.py#L120-L141)``.
MkDocs only knows the files under ``docs/``, and its strict build fails on such
a link. This hook, named in ``mkdocs.yml``:

1. finds every relative link that leaves ``docs/`` (outside fenced code);
2. fails the build if the file it names does not exist in the repository,
   so a renamed module breaks the build instead of the reader's click;
3. adds a generated page ``_source/<path>.html`` to the site for each such
   file: the file's text, one anchor per line (``#L120``);
4. rewrites the link to that page, keeping the first line of a ``#L120-L141``
   range as the anchor;
5. puts a caption linking to the quoted lines above every block quoted under a
   ``<!-- quote: path#Lx-Ly -->`` marker (see ``tools/sync_quotes.py``).

The built site is then self-contained and works offline.
"""

from __future__ import annotations

import html
import posixpath
import re
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

SOURCE_DIR = "_source"

#: ``](target)`` of an inline Markdown link or image; the target has no spaces.
_LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")
_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})")
_LINE_ANCHOR = re.compile(r"^L(?P<first>\d+)(?:-L\d+)?$")
_QUOTE_MARKER = re.compile(
    r"^<!-- quote: (?P<path>[\w./-]+)#L(?P<start>\d+)-L(?P<end>\d+) -->$", re.MULTILINE
)


def on_files(files: Files, config: Any) -> Files:
    """Add one generated source page per repository file that the docs link to."""
    docs_dir = Path(config["docs_dir"]).resolve()
    repo_root = docs_dir.parent
    wanted: set[str] = set()
    for page_file in files.documentation_pages():
        text = Path(page_file.abs_src_path).read_text(encoding="utf-8")
        text = _add_quote_captions(text, page_file.src_uri)
        for target in _outside_links(text, page_file.src_uri, docs_dir):
            path = _repo_path(target, page_file.src_uri)
            if not (repo_root / path).is_file():
                raise PluginError(
                    f"{page_file.src_uri}: link '{target}' names {path}, "
                    "which does not exist in the repository"
                )
            wanted.add(path)
    for path in sorted(wanted):
        content = _source_page(path, (repo_root / path).read_text(encoding="utf-8"))
        files.append(File.generated(config, f"{SOURCE_DIR}/{path}.html", content=content))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """Point links that leave ``docs/`` at the generated source pages."""
    docs_dir = Path(config["docs_dir"]).resolve()
    src_uri = page.file.src_uri
    markdown = _add_quote_captions(markdown, src_uri)

    def rewrite(match: re.Match[str]) -> str:
        target = match.group("target")
        if not _leaves_docs(target, src_uri, docs_dir):
            return match.group(0)
        path = _repo_path(target, src_uri)
        anchor = _site_anchor(target.partition("#")[2])
        page_dir = posixpath.dirname(src_uri)
        href = posixpath.relpath(f"{SOURCE_DIR}/{path}.html", page_dir or ".")
        return f"]({href}{anchor})"

    return "".join(
        chunk if in_code else _LINK.sub(rewrite, chunk)
        for chunk, in_code in _split_fenced(markdown)
    )


def _add_quote_captions(markdown: str, src_uri: str) -> str:
    """Put ``*[path, lines x-y](../path#Lx-Ly)*`` above each quote marker."""

    def caption(match: re.Match[str]) -> str:
        path, start, end = match.group("path", "start", "end")
        href = posixpath.relpath(path, posixpath.join("docs", posixpath.dirname(src_uri)))
        return f"*[{path}, lines {start}-{end}]({href}#L{start}-L{end})*\n\n{match.group(0)}"

    return _QUOTE_MARKER.sub(caption, markdown)


def _outside_links(text: str, src_uri: str, docs_dir: Path) -> list[str]:
    return [
        match.group("target")
        for chunk, in_code in _split_fenced(text)
        if not in_code
        for match in _LINK.finditer(chunk)
        if _leaves_docs(match.group("target"), src_uri, docs_dir)
    ]


def _leaves_docs(target: str, src_uri: str, docs_dir: Path) -> bool:
    """Whether a link is relative and resolves to a place outside ``docs/``."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith(("/", "#")):
        return False
    path = target.partition("#")[0]
    resolved = (docs_dir / posixpath.dirname(src_uri) / path).resolve()
    return not resolved.is_relative_to(docs_dir)


def _repo_path(target: str, src_uri: str) -> str:
    """The target as a path from the repository root: ``miniflask/ctx.py``."""
    path = target.partition("#")[0]
    return posixpath.normpath(posixpath.join("docs", posixpath.dirname(src_uri), path))


def _site_anchor(fragment: str) -> str:
    """``L120-L141`` (a code host's line range) becomes ``#L120``; others stay."""
    if not fragment:
        return ""
    match = _LINE_ANCHOR.match(fragment)
    return f"#L{match.group('first')}" if match else f"#{fragment}"


def _split_fenced(markdown: str) -> list[tuple[str, bool]]:
    """Cut Markdown into (text, is_fenced_code) chunks, so code is never rewritten."""
    chunks: list[tuple[str, bool]] = []
    current: list[str] = []
    fence: str | None = None
    for line in markdown.splitlines(keepends=True):
        match = _FENCE.match(line)
        if fence is None and match:
            chunks.append(("".join(current), False))
            current, fence = [line], match.group("fence")
        elif fence is not None and line.strip().startswith(fence[0] * len(fence)):
            current.append(line)
            chunks.append(("".join(current), True))
            current, fence = [], None
        else:
            current.append(line)
    chunks.append(("".join(current), fence is not None))
    return chunks


def _source_page(path: str, text: str) -> str:
    """A plain HTML page of a file's text with a ``L<n>`` anchor on every line."""
    lines = "\n".join(
        f'<span id="L{number}"><a href="#L{number}">{number:>4}</a>  {html.escape(line)}</span>'
        for number, line in enumerate(text.splitlines(), start=1)
    )
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f"<title>{html.escape(path)}</title>\n"
        "<style>body{margin:1em;font:13px/1.45 monospace}a{color:#999;text-decoration:none}"
        "span:target{background:#fff3b0;display:inline-block;width:100%}</style>"
        f"</head><body><h3>{html.escape(path)}</h3><pre>{lines}</pre></body></html>\n"
    )
