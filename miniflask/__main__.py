"""``python -m miniflask``: the ``miniflask`` command, as ``python -m flask`` is ``flask``.

Flask counterpart: ``flask/__main__.py``.
"""

from __future__ import annotations

from .cli import main

main()
