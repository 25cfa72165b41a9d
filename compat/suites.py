"""The test suites ``make compat`` runs, and what each one needs.

Two kinds of suite:

- **source**: a project's own tests, taken from its source distribution (the
  sdist on the package index holds the ``tests/`` folder the wheel leaves out).
  Flask's suite says how close miniflask is to Flask; an extension's suite
  says whether that extension, unchanged, runs on miniflask.
- **smoke**: a small test file committed under ``compat/smoke/``, for an
  extension whose sdist ships no tests. It drives the extension's main
  feature through the test client.

Every version is pinned, so a new release upstream cannot change the score
between two runs. To add a suite, add a :class:`Suite` to :data:`SUITES`; its
requirements are installed into the compat venv on the next run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

SMOKE_DIR = Path(__file__).resolve().parent / "smoke"

#: What every run needs besides the suites' own requirements. Flask 3.1.3's
#: test_cli imports ``_pytest.monkeypatch.notset``, gone in pytest 9.
BASE_REQUIREMENTS = ("pytest>=8,<9",)


@dataclass(frozen=True)
class Suite:
    """One suite: the distribution under test and how to run its tests.

    Attributes:
        name: the project's name as its authors spell it ("Flask-Login").
        distribution: the name on the package index ("flask-login").
        version: the exact version installed and whose tests are run.
        kind: ``"source"`` (tests from the sdist) or ``"smoke"`` (compat/smoke/).
        requirements: what the tests import besides the distribution itself.
        plugins: pytest plugins the tests use. Plugin auto-loading is off in
            every run, so one suite's plugins (pytest-asyncio, say) cannot
            change how another suite's tests behave.
        pytest_args: paths and options after ``python -m pytest``, relative
            to the sdist's root (or to compat/smoke/ for a smoke suite).
        note: what a reader of docs/compat.md should know about the run.
    """

    name: str
    distribution: str
    version: str
    kind: str = "source"
    requirements: tuple[str, ...] = ()
    plugins: tuple[str, ...] = ()
    pytest_args: tuple[str, ...] = field(default=("tests",))
    note: str = ""

    @property
    def slug(self) -> str:
        """The suite's short name on the command line and in file names."""
        return self.distribution.lower()

    @property
    def pin(self) -> str:
        """The requirement that installs exactly this version."""
        return f"{self.distribution}=={self.version}"

    @property
    def title(self) -> str:
        """The heading the page gives the suite: name and version."""
        return f"{self.name} {self.version}"


FLASK = Suite(
    name="Flask",
    distribution="flask",
    version="3.1.3",
    # Flask's own test dependencies (its "tests" dependency group).
    requirements=("asgiref", "greenlet", "python-dotenv"),
    note="All 22 test files of the sdist's `tests/`.",
)

SUITES: tuple[Suite, ...] = (
    FLASK,
    # The three extensions most Flask apps install first.
    Suite(
        name="Flask-Login",
        distribution="flask-login",
        version="0.6.3",
        requirements=("semantic-version", "asgiref"),
    ),
    Suite(
        name="Flask-WTF",
        distribution="flask-wtf",
        version="1.3.0",
        # The "test" and "test-babel" dependency groups; email_validator for
        # WTForms' Email validator.
        requirements=("wtforms[email]", "flask-babel", "flask-reuploaded"),
        note="Flask-Babel and Flask-Reuploaded are installed, as in its own test setup,"
        " so its translation and upload-set tests run too.",
    ),
    Suite(name="Flask-Cors", distribution="flask-cors", version="6.0.5"),
    # The smoke check of other popular extensions: their own suites where
    # those run here in seconds, without containers.
    Suite(
        name="Flask-SQLAlchemy",
        distribution="flask-sqlalchemy",
        version="3.1.1",
        requirements=("sqlalchemy>=2.0.30,<2.1",),
        note="Run with SQLAlchemy 2.0: this release predates SQLAlchemy 2.1, whose"
        " dataclass checks fail a third of its tests on Flask itself. The database is SQLite.",
    ),
    Suite(
        name="Flask-Caching",
        distribution="flask-caching",
        version="2.5.1",
        requirements=("pytest-asyncio", "pytest-xprocess", "redis", "asgiref"),
        plugins=("asyncio", "xprocess"),
        note="Its Redis tests start a `redis-server` of their own (port 6360) where one is"
        " installed. Its memcached tests skip: pylibmc, which needs libmemcached's headers"
        " to build, is not installed.",
    ),
    Suite(
        name="Flask-Limiter",
        distribution="flask-limiter",
        version="4.1.1",
        requirements=(
            "hiro",
            "flask-restful",
            "flask-restx",
            "pytest-mock",
            "pytest-check",
            "pymemcache",
            "pymongo",
            "redis",
            "asgiref",
            "rich>=12,<15",  # its "cli" extra: without it the `flask limiter` tests fail
        ),
        plugins=("pytest_mock", "check"),
        pytest_args=("-o", "addopts=", "tests"),
        note="Its pytest.ini options (`--cov`, `--capture=no`) are dropped. The tests that"
        " need its Docker services (Redis, memcached, MongoDB) fail on both frameworks alike,"
        " for want of the `docker_services` fixture, and are not scored.",
    ),
    Suite(
        name="Flask-JWT-Extended",
        distribution="flask-jwt-extended",
        version="4.7.4",
        requirements=("cryptography", "python-dateutil"),
    ),
    Suite(
        name="Flask-Migrate",
        distribution="flask-migrate",
        version="4.1.0",
        note="Its tests run the `flask db` command in subprocesses: on miniflask that command"
        " is miniflask's, as the `sitecustomize` in compat/plugin/ switches every process.",
    ),
    Suite(
        name="Flask-Session",
        distribution="flask-session",
        version="0.8.0",
        kind="smoke",
        requirements=("redis", "flask-sqlalchemy"),
        pytest_args=("test_flask_session.py",),
        note="Its sdist ships no tests: compat/smoke/test_flask_session.py checks server-side"
        " sessions on cachelib's file cache, on SQLite through Flask-SQLAlchemy and on the"
        " Redis at 127.0.0.1:6379 (skipped on both frameworks when none is running).",
    ),
)


def requirements() -> list[str]:
    """Everything the compat venv installs, besides the project itself."""
    wanted = [*BASE_REQUIREMENTS]
    for suite in SUITES:
        wanted.append(suite.pin)
        wanted.extend(suite.requirements)
    return list(dict.fromkeys(wanted))


def by_slug(slug: str) -> Suite:
    """The suite named ``slug`` on the command line ("flask-login")."""
    for suite in SUITES:
        if suite.slug == slug:
            return suite
    raise KeyError(slug)
