"""What a result was measured on: commit, versions, machine, load, and where results go.

Every results file carries this block, because a number without its commit and
its machine cannot be compared with anything.
"""

from __future__ import annotations

import compileall
import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
PACKAGES = ("flask", "werkzeug", "jinja2", "gunicorn", "sqlalchemy", "pydantic")


def describe(mode: str) -> dict[str, Any]:
    """The metadata block stored at the top of each results file."""
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "mode": mode,
        "commit": _git("rev-parse", "--short", "HEAD"),
        # Uncommitted framework edits change what was measured: record them.
        "dirty": bool(_git("status", "--porcelain", "--", "miniflask", "blog_api")),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "versions": {name: _version(name) for name in PACKAGES},
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "loadavg_at_start": [round(value, 2) for value in os.getloadavg()],
    }


def _git(*args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip()


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def write_results(name: str, data: dict[str, Any]) -> Path:
    """Write ``benchmarks/results/<name>.json`` (atomically: temp file, then rename)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    temporary.replace(path)
    return path


def read_results(name: str) -> dict[str, Any] | None:
    """The stored results of one benchmark, or ``None`` when it has not run."""
    path = RESULTS / f"{name}.json"
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def log(message: str) -> None:
    """Progress on stderr, so stdout stays clean for anything piped."""
    print(message, file=sys.stderr, flush=True)


#: The project's packages, imported from source by an editable install.
PROJECT_PACKAGES = ("miniflask", "blog_api", "benchmarks")


def compile_project_bytecode() -> None:
    """Write the ``.pyc`` files of the project's packages, as pip does for Flask on install.

    An editable install imports miniflask from its sources; with
    ``PYTHONDONTWRITEBYTECODE`` set (as on some CI machines) every fresh
    interpreter would compile it again, and the import-time and worker
    benchmarks would compare compiling miniflask with loading Flask's
    bytecode. Compiling first makes both load bytecode.
    """
    for package in PROJECT_PACKAGES:
        compileall.compile_dir(ROOT / package, quiet=1)
