"""Tests for miniflask/aliasing.py: ``install_as_flask()``.

Each test runs in a fresh interpreter: this process has imported the real Flask
already (the side-by-side tests compare with it), and the switch refuses to
mix the two.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_import_flask_gives_miniflask_and_its_modules() -> None:
    result = run_python(
        """
        import miniflask
        miniflask.install_as_flask()

        import flask
        import flask.sessions
        from flask import Flask, jsonify
        from flask.globals import request_ctx

        assert flask is miniflask
        assert Flask is miniflask.Flask and jsonify is miniflask.jsonify
        assert flask.sessions is miniflask.sessions
        assert request_ctx is miniflask.globals.request_ctx
        assert flask.sessions.__name__ == "miniflask.sessions"

        app = Flask("aliased")

        @app.get("/")
        def index():
            return {"framework": type(app).__module__}

        print(app.test_client().get("/").get_json()["framework"])
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "miniflask.app"


def test_a_module_flask_has_and_miniflask_lacks_is_not_found() -> None:
    result = run_python(
        """
        import miniflask
        miniflask.install_as_flask()
        try:
            import flask.no_such_module
        except ModuleNotFoundError as error:
            print(error.name)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "flask.no_such_module"


def test_calling_it_twice_is_harmless() -> None:
    result = run_python(
        """
        import sys
        import miniflask
        miniflask.install_as_flask()
        miniflask.install_as_flask()
        import flask
        print(sum(type(f).__name__ == "_FlaskAliasFinder" for f in sys.meta_path))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "1"


def test_it_refuses_once_the_real_flask_is_imported() -> None:
    pytest.importorskip("flask")
    result = run_python(
        """
        import flask
        import miniflask
        try:
            miniflask.install_as_flask()
        except RuntimeError as error:
            print(error)
        """
    )
    assert result.returncode == 0, result.stderr
    assert "must run before Flask is imported" in result.stdout


def test_flask_version_is_the_release_miniflask_reproduces_and_is_deprecated() -> None:
    result = run_python(
        """
        import warnings
        import miniflask
        miniflask.install_as_flask()
        import flask

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            print(flask.__version__, caught[0].category.__name__)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["3.1.3", "DeprecationWarning"]


def test_the_compat_harness_runs_the_flask_suite_of_that_release() -> None:
    import miniflask
    from compat.suites import FLASK

    assert FLASK.version == miniflask.FLASK_VERSION
