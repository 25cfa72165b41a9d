"""Fixtures shared by miniflask's tests.

``app`` is a bare miniflask app in testing mode; ``client`` is its test client.
``fw`` is parametrised over real Flask and miniflask, for side-by-side tests
that build the same app on both and compare what they answer.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType

import pytest

import miniflask
from miniflask.globals import _cv_app, _cv_request


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


@pytest.fixture(autouse=True)
def _no_leaked_contexts() -> Iterator[None]:
    """Fail a test that leaves a context pushed: it would leak into the next test."""
    yield
    leaked_request, leaked_app = _cv_request.get(None), _cv_app.get(None)
    assert leaked_request is None, f"test left a request context pushed: {leaked_request!r}"
    assert leaked_app is None, f"test left an app context pushed: {leaked_app!r}"
