"""The compat venv and the source distributions, both kept under ``build/compat/``.

The suites do not run in the project's ``.venv``: Flask 3.1.3's tests need
pytest 8, the project's dev extra may bring pytest 9, and the extensions'
test dependencies (pytest-asyncio, Flask-Babel…) have no business in the
project's own environment. So the harness keeps a venv of its own:

- ``build/compat/venv``: pytest, Flask 3.1.3 (the baseline), every extension
  and its test dependencies, and this repository installed editable, so the
  miniflask under test is the working tree's.
- ``build/compat/sdist/<name>-<version>/``: the sdist, downloaded once with
  ``pip download --no-binary :all:`` and kept (``build/`` is git-ignored).
- ``build/compat/src/``: a fresh extraction for each run, since some suites
  write files beside their tests.

A stamp file records what the venv was built from; an unchanged list of
requirements skips pip altogether, which makes the second run fast.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import venv
from dataclasses import dataclass
from pathlib import Path

from compat.suites import Suite

REPO_ROOT = Path(__file__).resolve().parents[1]
BUILD_DIR = REPO_ROOT / "build" / "compat"

#: Installed with the project in any case: the ``async`` and ``dotenv`` extras
#: name them too, but an older pyproject.toml without those extras must work.
PROJECT_EXTRAS = "[async,dotenv]"
PROJECT_EXTRA_REQUIREMENTS = ("asgiref", "python-dotenv")


class HarnessError(RuntimeError):
    """The harness itself could not do its job (pip failed, an sdist is missing)."""


@dataclass(frozen=True)
class Environment:
    """Where one run keeps its venv, downloads, extracted sources and logs."""

    root: Path = BUILD_DIR

    @property
    def venv_dir(self) -> Path:
        """The compat venv."""
        return self.root / "venv"

    @property
    def python(self) -> Path:
        """The compat venv's interpreter, which runs every suite."""
        return self.venv_dir / "bin" / "python"

    @property
    def logs_dir(self) -> Path:
        """One pytest log and one outcome file per suite and framework."""
        return self.root / "logs"

    def ensure_venv(self, requirements: list[str]) -> None:
        """Create the venv if needed and install ``requirements`` and the project.

        Skips pip when the stamp says the venv already holds this exact list.
        """
        stamp = self.venv_dir / ".compat-installed"
        wanted = _fingerprint(requirements)
        if self.python.exists() and stamp.exists() and stamp.read_text() == wanted:
            return
        if not self.python.exists():
            log(f"creating {self.venv_dir}")
            venv.create(self.venv_dir, with_pip=True, clear=True)
        log(f"installing {len(requirements)} requirements and the project into the compat venv")
        self.pip("install", "--quiet", "--upgrade", "pip")
        self.pip(
            "install",
            "--quiet",
            *requirements,
            *PROJECT_EXTRA_REQUIREMENTS,
            "-e",
            f"{REPO_ROOT}{PROJECT_EXTRAS}",
        )
        stamp.write_text(wanted)

    def versions(self, *distributions: str) -> str:
        """Versions in the compat venv, as "pytest 8.4.2, Werkzeug 3.1.9"."""
        script = (
            "import importlib.metadata as m, sys\n"
            "print(', '.join(f'{d} {m.version(d)}' for d in sys.argv[1:]))"
        )
        command = [str(self.python), "-c", script, *distributions]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        return result.stdout.strip() or "unknown versions"

    def pip(self, *args: str) -> None:
        """Run the compat venv's pip; a failure stops the run."""
        command = [str(self.python), "-m", "pip", "--disable-pip-version-check", *args]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise HarnessError(f"pip {' '.join(args[:2])} failed:\n{result.stdout}{result.stderr}")

    def source_tree(self, suite: Suite) -> Path:
        """A freshly extracted copy of ``suite``'s sdist; returns its root folder."""
        archive = self.download_sdist(suite)
        target = self.root / "src" / suite.slug
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        with tarfile.open(archive) as tar:
            # "data" refuses absolute paths and links out of the target folder.
            tar.extractall(target, filter="data")
        (top,) = target.iterdir()  # an sdist holds one folder, <name>-<version>
        return top

    def download_sdist(self, suite: Suite) -> Path:
        """The sdist of ``suite``, downloaded on first use and kept afterwards."""
        folder = self.root / "sdist" / f"{suite.slug}-{suite.version}"
        archives = sorted(folder.glob("*.tar.gz"))
        if not archives:
            log(f"downloading the {suite.pin} source distribution")
            folder.mkdir(parents=True, exist_ok=True)
            source_only = ["--no-deps", "--no-binary", ":all:"]  # the sdist, not a wheel
            self.pip("download", "--quiet", *source_only, "--dest", str(folder), suite.pin)
            archives = sorted(folder.glob("*.tar.gz"))
        if len(archives) != 1:
            raise HarnessError(f"expected one sdist in {folder}, found {len(archives)}")
        return archives[0]


def _fingerprint(requirements: list[str]) -> str:
    """What the stamp file holds: the requirement list, the Python, the project's metadata."""
    pyproject = (REPO_ROOT / "pyproject.toml").read_bytes()
    text = "\n".join([sys.version, *requirements, hashlib.sha256(pyproject).hexdigest()])
    return text + "\n"


def log(message: str) -> None:
    """One line of progress on stderr, so stdout holds only the scores."""
    print(f"compat: {message}", file=sys.stderr, flush=True)


def run_environment(env: Environment, miniflask: bool, out_file: Path) -> dict[str, str]:
    """The environment variables of one pytest run.

    ``compat/plugin/`` goes on ``PYTHONPATH``: Python imports its
    ``sitecustomize`` at start-up, in the pytest process and in every
    subprocess a test starts (Flask-Migrate's tests run ``flask db``), and it
    calls ``install_as_flask()`` when ``COMPAT_MINIFLASK`` is 1. Its
    ``compat_recorder`` is the pytest plugin that writes ``out_file``.
    """
    environ = dict(os.environ)
    # Flask-Caching's tests fail where CI is set and a server is missing, but
    # start one themselves elsewhere: the same outcome in CI and at a desk.
    environ.pop("CI", None)
    environ.pop("PYTHONPATH", None)
    environ.update(
        PYTHONPATH=str(Path(__file__).resolve().parent / "plugin"),
        PATH=f"{env.venv_dir / 'bin'}{os.pathsep}{environ.get('PATH', '')}",
        VIRTUAL_ENV=str(env.venv_dir),
        COMPAT_MINIFLASK="1" if miniflask else "0",
        COMPAT_OUT=str(out_file),
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
    )
    return environ
