"""``python -m miniflask``: the command line, like the ``flask`` command.

Flask counterpart: ``flask/__main__.py``.
"""

from __future__ import annotations

from .cli import main

raise SystemExit(main())
