"""The seed answers' examples run: each script exits 0 and prints what it shows.

``docs/seed.md`` answers ten questions, each pointing to a script under
``examples/``. This runs every one of them as a reader would
(``.venv/bin/python examples/seed_NN_*.py``) and checks for the line that
carries its point, so an answer cannot silently rot. The scripts use
temporary SQLite files and only 127.0.0.1.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = REPO_ROOT / "examples"

#: script -> a line (or part of one) its output must contain
EXPECTED = {
    "seed_01_wsgi.py": "WSGI: the same callable answered by hand and through Werkzeug's server",
    "seed_02_contexts.py": "contexts isolated: True",
    "seed_03_blueprints_extensions.py": "api.v1.users.list_users -> /api/v1/users/",
    "seed_04_middleware_signals.py": (
        "order   : middleware in, request_started, before_request, view, template_rendered,"
        " after_request, request_finished(200), middleware out"
    ),
    "seed_05_rest.py": "DELETE /api/v1/posts/1 -> 204",
    "seed_06_jwt_oauth2.py": "reused refresh token -> 400 invalid_grant",
    "seed_07_performance.py": "with joinedload/selectinload: 2",
    "seed_08_security.py": "csrf: a form post without the token -> 400",
    "seed_09_deploy.py": "behind a proxy the app saw https and the client 203.0.113.7: True",
    "seed_10_blog_api.py": "2 passed",
}

#: Generous against a busy CI machine; on an idle one each script takes 1-5 s.
TIMEOUT = 90


def test_every_seed_script_is_checked() -> None:
    assert sorted(path.name for path in EXAMPLES.glob("seed_[0-9]*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_seed_example_runs(script: str) -> None:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, f"{script} failed after {elapsed:.1f} s:\n{result.stderr}"
    assert EXPECTED[script] in result.stdout, result.stdout
