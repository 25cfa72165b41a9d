"""The scenario app as a gunicorn target: ``gunicorn benchmarks.wsgi:app``.

``BENCH_FRAMEWORK`` (``flask`` or ``miniflask``, default miniflask) picks the
framework. The footprint benchmark starts it to measure an idle worker's memory
with nothing but the framework and a handful of routes loaded, next to the blog
API (which adds SQLAlchemy, pydantic and the rest).
"""

from __future__ import annotations

import importlib
import os

from benchmarks.apps import build_app

app = build_app(importlib.import_module(os.environ.get("BENCH_FRAMEWORK", "miniflask")))
