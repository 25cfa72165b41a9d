"""Fixtures shared by miniflask's tests.

``app`` is a bare miniflask app in testing mode; ``client`` is its test client.
``fw`` is parametrised over real Flask and miniflask, for side-by-side tests
that build the same app on both and compare what they answer.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import pytest

import miniflask


@pytest.fixture
def app() -> miniflask.Flask:
    app = miniflask.Flask("test_app")
    app.testing = True
    return app


@pytest.fixture
def client(app: miniflask.Flask):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture(params=["flask", "miniflask"])
def fw(request: pytest.FixtureRequest) -> ModuleType:
    """The framework module, ``flask`` or ``miniflask``: build apps with ``fw.Flask``."""
    return importlib.import_module(request.param)
