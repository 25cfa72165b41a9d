"""The switch between miniflask's speed-ups and their plain versions.

Flask counterpart: none.

Code marked ``# PERF:`` in miniflask does something the plain way would not,
because it measured faster; each such comment says what the plain version is
and what the speed-up gained (``docs/perf.md`` lists them all). Where the
plain version is a line of code, it sits beside the fast one, behind
:data:`PLAIN`::

    if PLAIN:
        return super().get_wsgi_response(environ)   # the plain version

``PLAIN`` is read once, when miniflask is imported, from the environment
variable ``MINIFLASK_PLAIN``: ``MINIFLASK_PLAIN=1`` runs every plain version.
It exists for tests, not for production. The side-by-side tests, which
compare miniflask's answers with Flask's, run once as they are and once with
``MINIFLASK_PLAIN=1`` (``tests/miniflask/test_perf.py``), so each speed-up
is shown to answer what its plain version answers.

Each module imports the name (``from .perf import PLAIN``) and tests it where
the two versions part: a module-level constant costs a few nanoseconds to
read, and nothing changes it after import.
"""

from __future__ import annotations

import os

#: ``True`` when ``MINIFLASK_PLAIN=1`` was set at import: take every plain version.
PLAIN: bool = os.environ.get("MINIFLASK_PLAIN", "") == "1"
