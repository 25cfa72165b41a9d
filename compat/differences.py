"""Deliberate differences: tests that pass on Flask and fail on miniflask on purpose.

Keyed by suite (its command-line name, ``flask``, ``flask-login``…), then by
pytest node id. An entry may name a test without its parameters
(``tests/test_json.py::test_dump_load_unchanged``) to cover every case of it.
The explanation is shown on docs/compat.md in place of the failure, and a
test listed here does not fail ``make compat``.

Add an entry only for behaviour miniflask chose not to copy, with a
``# Flask:`` comment at the code that differs; a missing feature or a bug is
not a deliberate difference, and stays on the page as "not yet fixed".
"""

from __future__ import annotations

DELIBERATE_DIFFERENCES: dict[str, dict[str, str]] = {}
