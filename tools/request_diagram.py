"""Draw the request's path through miniflask's modules as an SVG swimlane diagram.

Writes ``docs/diagrams/request_path.svg``; ``docs/architecture.md`` shows it.
The picture is generated, not drawn by hand, so it changes with this file:
edit ``STEPS`` below and run::

    .venv/bin/python tools/request_diagram.py

It is plain Python writing SVG, with no dependency to install (no Graphviz, no
browser), so CI can regenerate it and ``tests/docs/test_diagram.py`` checks that
the committed picture is what this script draws. One lane per module; one row
per step, in the order a request meets them; the numbers are the steps of
``docs/lifecycle.md``.
"""

from __future__ import annotations

import itertools
import sys
from html import escape
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "diagrams" / "request_path.svg"

#: (lane title, file(s), fill colour of its boxes)
LANES = [
    ("WSGI server", "gunicorn / werkzeug.serving", "#e8e8e8"),
    ("application", "app.py", "#dbe9f7"),
    ("contexts", "ctx.py + globals.py", "#e3f2d9"),
    ("URL matching", "routing.py + Werkzeug", "#fbe7c6"),
    ("session", "sessions.py", "#f5dced"),
    ("response", "wrappers.py + json.py", "#e4def5"),
]

#: (lane index, what runs, what it does and its lifecycle steps), in run order.
STEPS = [
    (0, "HTTP request -> environ", "PEP 3333 dict + start_response"),
    (1, "Flask.__call__ -> wsgi_app", "step 1: the server calls the app"),
    (2, "RequestContext(app, environ)", "step 2: Request object + URL adapter"),
    (2, "AppContext.push()", "steps 3-4: _cv_app.set -> current_app, g"),
    (2, "RequestContext.push()", "step 5: _cv_request.set -> request, session"),
    (4, "open_session()", "step 6: verify the signed cookie"),
    (3, "RequestContext.match_request()", "step 7: MatchCache / MapAdapter.match"),
    (1, "full_dispatch_request()", "steps 8-10: request_started, before_request"),
    (1, "dispatch_request() -> view(**view_args)", "steps 11-13: errors -> handlers"),
    (5, "Response / app.json.response()", "step 14: make_response(rv) builds it"),
    (1, "process_response()", "steps 15-16: after_request, innermost first"),
    (4, "save_session()", "step 17: Set-Cookie, Vary: Cookie"),
    (0, "response(environ, start_response)", "step 20: status, headers, body"),
    (2, "RequestContext.pop() / AppContext.pop()", "steps 21-27: teardown, contexts reset"),
]

LANE_WIDTH = 200
MARGIN = 20
HEADER = 78
ROW = 58
BOX_HEIGHT = 40
TITLE_CHAR = 7.3  # px per character, 12px monospace
DETAIL_CHAR = 6.1  # px per character, 10.5px monospace


def box_width(title: str, detail: str) -> float:
    """Wide enough for the longer of the two lines, never narrower than a lane."""
    return max(LANE_WIDTH - 16, len(title) * TITLE_CHAR + 20, len(detail) * DETAIL_CHAR + 20)


def render() -> str:
    """The whole SVG document as text (deterministic: same input, same bytes)."""
    width = MARGIN * 2 + LANE_WIDTH * len(LANES)
    height = HEADER + ROW * len(STEPS) + MARGIN
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans Mono, Menlo, Consolas, '
        'monospace">',
        "<title>One request through miniflask's modules</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#444"/></marker></defs>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]
    parts += _lanes(height)
    centres = []
    for row, (lane, title, detail) in enumerate(STEPS):
        centre_x = _lane_centre(lane)
        top = HEADER + row * ROW
        wide = box_width(title, detail)
        left = min(max(centre_x - wide / 2, MARGIN + 2), width - MARGIN - 2 - wide)
        centres.append((centre_x, top))
        parts += _box(left, top, wide, LANES[lane][2], title, detail)
    for (x1, top1), (x2, top2) in itertools.pairwise(centres):
        parts.append(_arrow(x1, top1 + BOX_HEIGHT, x2, top2))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _lane_centre(lane: int) -> float:
    return MARGIN + LANE_WIDTH * lane + LANE_WIDTH / 2


def _lanes(height: int) -> list[str]:
    parts = []
    for index, (name, files, colour) in enumerate(LANES):
        left = MARGIN + LANE_WIDTH * index
        shade = "#fafafa" if index % 2 == 0 else "#f2f2f2"
        parts.append(
            f'<rect x="{left}" y="{MARGIN}" width="{LANE_WIDTH}" '
            f'height="{height - 2 * MARGIN}" fill="{shade}" stroke="#dddddd"/>'
        )
        centre = _lane_centre(index)
        parts.append(
            f'<rect x="{left + 8}" y="{MARGIN + 8}" width="{LANE_WIDTH - 16}" height="36" '
            f'rx="4" fill="{colour}"/>'
        )
        parts.append(_text(centre, MARGIN + 23, name, 13, bold=True))
        parts.append(_text(centre, MARGIN + 38, files, 10.5, colour="#333333"))
    return parts


def _box(left: float, top: float, wide: float, colour: str, title: str, detail: str) -> list[str]:
    centre = left + wide / 2
    return [
        f'<rect x="{left:.1f}" y="{top}" width="{wide:.1f}" height="{BOX_HEIGHT}" rx="6" '
        f'fill="{colour}" stroke="#555555"/>',
        _text(centre, top + 17, title, 12, bold=True),
        _text(centre, top + 32, detail, 10.5, colour="#333333"),
    ]


def _text(
    x: float, y: float, text: str, size: float, bold: bool = False, colour: str = "#111111"
) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text x="{x:.1f}" y="{y}" font-size="{size}" text-anchor="middle" '
        f'fill="{colour}"{weight}>{escape(text.replace("->", "→"))}</text>'
    )


def _arrow(x1: float, y1: float, x2: float, y2: float) -> str:
    """Straight down within a lane; down, across and down again between lanes."""
    if x1 == x2:
        path = f"M{x1:.1f},{y1} L{x2:.1f},{y2}"
    else:
        middle = (y1 + y2) / 2
        path = f"M{x1:.1f},{y1} L{x1:.1f},{middle} L{x2:.1f},{middle} L{x2:.1f},{y2}"
    return (
        f'<path d="{path}" fill="none" stroke="#444444" stroke-width="1.4" '
        'marker-end="url(#arrow)"/>'
    )


def main() -> int:
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(OUTPUT.parent.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
