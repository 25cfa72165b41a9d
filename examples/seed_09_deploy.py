"""Seed question 9: deploying with gunicorn behind nginx.

Starts the real thing on 127.0.0.1: gunicorn with the project's
``gunicorn.conf.py`` (two worker processes here, on a port the kernel picks)
serving ``blog_api.wsgi:app``, and talks to it the way nginx would, adding
``X-Forwarded-For``, ``X-Forwarded-Proto`` and ``X-Forwarded-Host``. With
``BLOG_PROXY_HOPS=1`` the app's ``ProxyFix`` believes exactly one proxy, and
``BLOG_TRUSTED_HOSTS`` names the public host (any other is a 400), so:

* the ``Location`` of a 201 is ``https://`` on the public host name,
* gunicorn's access log shows the client's address, not nginx's.

nginx itself is not started here: ``deploy/nginx.conf`` holds the real config
(static files, TLS, ``proxy_pass`` to gunicorn). Read docs/seed.md, question 9.
Run: ``.venv/bin/python examples/seed_09_deploy.py``
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from seed_blog import SECRET, make_blog_app

REPO_ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def start_gunicorn(database_url: str, log_path: Path) -> tuple[subprocess.Popen, int]:
    env = dict(
        os.environ,
        BLOG_FRAMEWORK="miniflask",
        BLOG_DATABASE_URL=database_url,
        BLOG_SECRET_KEY=SECRET,
        BLOG_PASSWORD_HASH_METHOD="pbkdf2:sha256:1000",
        BLOG_PROXY_HOPS="1",
        # The host nginx forwards (X-Forwarded-Host): any other is a 400.
        BLOG_TRUSTED_HOSTS="blog.example.com",
        BLOG_LOG_LEVEL="WARNING",
    )
    command = [
        str(GUNICORN),
        "-c",
        "gunicorn.conf.py",
        "--bind",
        "127.0.0.1:0",
        "--workers",
        "2",
        "blog_api.wsgi:app",
    ]
    log = log_path.open("w")
    server = subprocess.Popen(command, cwd=REPO_ROOT, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        text = log_path.read_text()
        listening = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", text)
        if listening and text.count("Booting worker") >= 2:
            return server, int(listening.group(1))
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{text}")
        time.sleep(0.05)
    server.terminate()
    raise SystemExit("gunicorn did not start in 30 s")


def call(port: int, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    """One request as nginx forwards it: the proxy headers say who really asked."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={
            "Content-Type": "application/json",
            "Host": "127.0.0.1",
            "X-Forwarded-For": "203.0.113.7",  # the client, as nginx saw it
            "X-Forwarded-Proto": "https",  # nginx terminated TLS
            "X-Forwarded-Host": "blog.example.com",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers)


def main() -> None:
    database_url = make_blog_app().config["DATABASE_URL"]  # tables created in a temp folder
    log_path = Path(tempfile.mkdtemp(prefix="seed-gunicorn-")) / "gunicorn.log"
    server, port = start_gunicorn(database_url, log_path)
    try:
        workers = re.findall(r"Booting worker with pid: (\d+)", log_path.read_text())
        print(f"gunicorn master {server.pid}, workers {workers}, on 127.0.0.1:{port}")
        status, _ = call(port, "GET", "/api/v1/posts")
        print(f"GET  /api/v1/posts          -> {status}")
        user = {"username": "alice", "email": "alice@example.com", "password": "x" * 12}
        status, headers = call(port, "POST", "/api/v1/auth/register", user)
        print(f"POST /api/v1/auth/register  -> {status} Location: {headers['Location']}")
    finally:
        server.send_signal(signal.SIGTERM)  # graceful: workers finish in-flight requests
        server.wait(timeout=30)
    access = [line for line in log_path.read_text().splitlines() if '"POST /api' in line]
    print(f"access log: {access[-1][:110]}")
    print(
        f"behind a proxy the app saw https and the client 203.0.113.7: "
        f"{headers['Location'].startswith('https://blog.example.com/')}"
    )


if __name__ == "__main__":
    main()
