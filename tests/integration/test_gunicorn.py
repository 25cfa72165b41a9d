"""The deployment unit itself: ``gunicorn.conf.py`` + ``blog_api/wsgi.py``.

Real gunicorn processes on 127.0.0.1: the framework comes from
``BLOG_FRAMEWORK``, the access log carries the request id, SIGTERM is a clean
graceful stop, and workers that start together agree on one secret key.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from blog_api import migrate, schema
from tests.integration.conftest import (
    FRAMEWORKS,
    GUNICORN,
    ROOT,
    Client,
    GunicornServer,
    server_env,
)
from tests.support.postgres import postgres_schema

Start = Callable[..., GunicornServer]


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_wsgi_module_builds_the_app_on_the_framework_in_blog_framework(
    framework: str, tmp_path: Path
) -> None:
    code = "import blog_api.wsgi as w; print(type(w.app).__module__.split('.')[0])"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={
            "BLOG_FRAMEWORK": framework,
            "BLOG_SECRET_KEY": "k",
            "BLOG_DATABASE_URL": f"sqlite:///{tmp_path / 'blog.db'}",
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == framework


def test_access_log_carries_the_request_id(live_server: GunicornServer) -> None:
    response = requests.get(
        live_server.url("/api/v1/posts"), headers={"X-Request-ID": "trace-me-42"}, timeout=10
    )
    assert response.headers["X-Request-ID"] == "trace-me-42"
    generated = requests.get(live_server.url("/api/v1/tags"), timeout=10).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    lines = _wait_for_lines(live_server, ["rid=trace-me-42", f"rid={generated}"])
    assert '"GET /api/v1/posts HTTP/1.1" 200' in lines[0]
    app_records = [r for r in live_server.app_log() if r.get("request_id") == "trace-me-42"]
    assert app_records and app_records[0]["status"] == 200


def _wait_for_lines(server: GunicornServer, needles: list[str]) -> list[str]:
    """Access-log lines containing each needle (gunicorn writes them just after responding)."""
    import time

    deadline = time.monotonic() + 5
    while True:
        lines = server.access_log()
        found = [next((line for line in lines if needle in line), "") for needle in needles]
        if all(found) or time.monotonic() > deadline:
            assert all(found), f"{needles} not all in the access log:\n" + "\n".join(lines[-10:])
            return found
        time.sleep(0.05)


def test_sigterm_is_a_clean_graceful_stop(gunicorn: Start) -> None:
    server = gunicorn(workers=2)
    assert requests.get(server.url("/api/v1/posts"), timeout=10).status_code == 200
    server.signal(signal.SIGTERM)
    assert server.process.wait(timeout=15) == 0
    log = server.log_text()
    assert "Handling signal: term" in log and "Shutting down: Master" in log


def test_workers_starting_together_share_one_generated_secret_key(gunicorn: Start) -> None:
    # No BLOG_SECRET_KEY: the four workers race to create instance/secret_key,
    # and a token signed by one worker must be accepted by all the others.
    server = gunicorn({"BLOG_SECRET_KEY": ""}, workers=3)
    client = Client(server.base_url)
    _, headers = client.new_user()
    statuses = {
        Client(server.base_url).get("/api/v1/users/me", headers=headers).status_code
        for _ in range(20)
    }
    assert statuses == {200}


def test_gthread_workers_serve_concurrent_keep_alive_clients(gunicorn: Start) -> None:
    from concurrent.futures import ThreadPoolExecutor

    server = gunicorn(workers=2, threads=4)
    assert "Using worker: gthread" in server.log_text()

    def ten_gets(_: Any) -> list[int]:
        client = Client(server.base_url)  # one keep-alive connection per thread
        return [client.get("/api/v1/posts").status_code for _ in range(10)]

    with ThreadPoolExecutor(8) as pool:
        results = [status for statuses in pool.map(ten_gets, range(8)) for status in statuses]
    assert results == [200] * 80


def _gunicorn_alone(directory: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """gunicorn on a database nobody prepared: no ``db upgrade`` first."""
    return subprocess.Popen(
        [
            GUNICORN,
            "-c",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            "127.0.0.1:0",
            "blog_api.wsgi:app",
        ],
        cwd=ROOT,
        env={**server_env(directory, env), "WEB_CONCURRENCY": "2"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_gunicorn_on_an_empty_postgresql_database_exits_with_one_line(
    framework: str, tmp_path: Path
) -> None:
    with postgres_schema("blog_it") as url:
        started = time.monotonic()
        process = _gunicorn_alone(tmp_path, {"BLOG_DATABASE_URL": url, "BLOG_FRAMEWORK": framework})
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 1
    assert time.monotonic() - started < 30  # no worker ever booted and failed
    errors = [line for line in output.splitlines() if "[ERROR]" in line]
    assert len(errors) == 1, output
    assert errors[0].endswith(f"has no tables: run `{schema.upgrade_command(framework)}` first")
    assert "Traceback" not in output and "Booting worker" not in output


def test_gunicorn_on_a_new_sqlite_file_creates_the_tables_and_serves(tmp_path: Path) -> None:
    process = _gunicorn_alone(tmp_path, {})
    try:
        port = None
        assert process.stdout is not None
        for line in process.stdout:
            match = re.search(r"Listening at: http://127.0.0.1:(\d+)", line)
            if match:
                port = int(match.group(1))
                break
        assert port is not None
        deadline = time.monotonic() + 30
        while True:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/api/v1/posts", timeout=5)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert response.status_code == 200
        url = f"sqlite:///{tmp_path / 'blog.db'}"
        assert migrate.current(url) == (migrate.script_directory().get_current_head(),)
    finally:
        process.terminate()
        process.wait(30)
