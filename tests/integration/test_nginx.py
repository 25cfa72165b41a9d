"""nginx in front of gunicorn, configured from ``deploy/nginx.conf``.

The template is rendered with test values (127.0.0.1, free ports, a
self-signed certificate for ``localhost``, logs and temp files under tmp) and
run as the current user with ``nginx -c ... -g 'daemon off; pid ...;'``. The
app behind it trusts one proxy (``BLOG_PROXY_HOPS=1``).

Clients connect from ``127.0.0.2`` (all of 127/8 is loopback) while nginx
reaches gunicorn from ``127.0.0.1``, so the logs show whose address the app
believed. nginx is Debian's package, installed on first use; the tests skip
with the reason when it cannot be.
"""

from __future__ import annotations

import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import ssl
import string
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.conftest import (
    FRAMEWORKS,
    PASSWORD,
    ROOT,
    GunicornServer,
    unique_name,
)

TEMPLATE = ROOT / "deploy" / "nginx.conf"
CLIENT_ADDRESS = "127.0.0.2"
STARTUP_TIMEOUT = 15.0
SPOOFED = {
    "X-Forwarded-For": "203.0.113.66",
    "X-Forwarded-Proto": "http",
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Port": "8443",
}


@dataclass
class Nginx:
    """A running nginx and the gunicorn behind it."""

    process: subprocess.Popen[bytes]
    http_port: int
    https_port: int
    directory: Path
    certificate: Path
    upstream: GunicornServer

    def https(self, method: str, path: str, body: bytes | None = None, **headers: str) -> Any:
        """One HTTPS request from 127.0.0.2; returns (status, headers, body)."""
        context = ssl.create_default_context(cafile=str(self.certificate))
        connection = http.client.HTTPSConnection(
            "localhost",
            self.https_port,
            context=context,
            timeout=10,
            source_address=(CLIENT_ADDRESS, 0),
        )
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def access_log(self) -> str:
        """nginx's access log (the ``blog`` format of the template)."""
        path = self.directory / "logs" / "access.log"
        return path.read_text() if path.exists() else ""


def render_template(values: dict[str, str]) -> str:
    """``deploy/nginx.conf`` with its ``${NAME}`` placeholders filled in.

    ``safe_substitute`` leaves nginx's own ``$host``-style variables alone;
    anything still ``${...}`` afterwards means the template and this test
    disagree about the placeholders.
    """
    rendered = string.Template(TEMPLATE.read_text()).safe_substitute(values)
    directives = [line for line in rendered.splitlines() if not line.lstrip().startswith("#")]
    left = [line for line in directives if "${" in line]
    assert not left, f"placeholders of deploy/nginx.conf not filled in: {left}"
    return rendered


def _free_port() -> int:
    """A port free right now (nginx cannot report a kernel-chosen one back)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A one-day certificate for ``localhost`` made with the openssl command."""
    cert, key = directory / "localhost.crt", directory / "localhost.key"
    command = ["openssl", "req", "-x509", "-newkey", "ec"]
    command += ["-pkeyopt", "ec_paramgen_curve:prime256v1"]
    command += ["-nodes", "-days", "1", "-subj", "/CN=localhost"]
    command += ["-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)]
    subprocess.run(
        command,
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


def start_nginx(binary: str, directory: Path, upstream: GunicornServer) -> Nginx:
    """Render the template for ``upstream`` and start nginx in the foreground."""
    for name in ("logs", "temp", "static"):
        (directory / name).mkdir(parents=True, exist_ok=True)
    # STATIC_ROOT holds what the app serves under /static/: the reader site's
    # files under site/, copied as docs/deploy.md says.
    shutil.copytree(ROOT / "blog_api" / "site" / "static", directory / "static" / "site")
    cert, key = _self_signed_certificate(directory)
    http_port, https_port = _free_port(), _free_port()
    values = {
        "NGINX_USER": pwd.getpwuid(os.geteuid()).pw_name,
        "LISTEN_ADDRESS": "127.0.0.1",
        "HTTP_PORT": str(http_port),
        "HTTPS_PORT": str(https_port),
        "SERVER_NAME": "localhost",
        "UPSTREAM": f"127.0.0.1:{upstream.port}",
        "TLS_CERT": str(cert),
        "TLS_KEY": str(key),
        "STATIC_ROOT": str(directory / "static"),
        "LOG_DIR": str(directory / "logs"),
        "TEMP_DIR": str(directory / "temp"),
    }
    config = directory / "nginx.conf"
    config.write_text(render_template(values))
    command = [binary, "-e", str(directory / "logs" / "startup.log"), "-c", str(config)]
    command += ["-g", f"daemon off; pid {directory / 'nginx.pid'};"]
    output = (directory / "logs" / "stderr.log").open("wb")
    process = subprocess.Popen(command, stdout=output, stderr=output, start_new_session=True)
    nginx = Nginx(process, http_port, https_port, directory, cert, upstream)
    _wait_for_listeners(nginx)
    return nginx


def _wait_for_listeners(nginx: Nginx) -> None:
    """Until both ports accept connections, or nginx exits (bad config, port taken)."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if nginx.process.poll() is not None:
            break
        try:
            for port in (nginx.http_port, nginx.https_port):
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    stop_nginx(nginx)
    logs = "".join(path.read_text() for path in (nginx.directory / "logs").glob("*.log"))
    raise RuntimeError(f"nginx did not start:\n{logs[-3000:]}")


def stop_nginx(nginx: Nginx) -> None:
    """SIGQUIT (graceful), then SIGKILL of its process group after 10 s."""
    if nginx.process.poll() is None:
        nginx.process.send_signal(signal.SIGQUIT)
        try:
            nginx.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(nginx.process.pid, signal.SIGKILL)
            nginx.process.wait(5)


@pytest.fixture(scope="session", params=FRAMEWORKS)
def nginx(
    request: pytest.FixtureRequest,
    nginx_binary: str,
    gunicorn_session: Callable[..., GunicornServer],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Nginx]:
    """nginx on two free ports, proxying to gunicorn that trusts one hop."""
    upstream = gunicorn_session(
        {"BLOG_FRAMEWORK": request.param, "BLOG_PROXY_HOPS": "1"}, workers=2
    )
    directory = tmp_path_factory.mktemp(f"nginx-{request.param}")
    for attempt in range(3):  # a free port may be taken between choosing and binding
        try:
            server = start_nginx(nginx_binary, directory / str(attempt), upstream)
            break
        except RuntimeError:
            if attempt == 2:
                raise
    yield server
    stop_nginx(server)


def _register(nginx: Nginx, request_id: str) -> tuple[int, dict[str, str], dict[str, Any]]:
    username = unique_name()
    body = json.dumps(
        {"username": username, "email": f"{username}@example.com", "password": PASSWORD}
    ).encode()
    status, headers, raw = nginx.https(
        "POST",
        "/api/v1/auth/register",
        body,
        **{"Content-Type": "application/json", "X-Request-ID": request_id},
        **SPOOFED,
    )
    return status, headers, json.loads(raw)


def _wait_for(read: Callable[[], Any], timeout: float = 5) -> Any:
    """Poll ``read`` until it returns something truthy (log lines arrive just after)."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_location_is_https_and_spoofed_forwarded_headers_are_ignored(nginx: Nginx) -> None:
    request_id = unique_name("req")
    status, headers, user = _register(nginx, request_id)
    assert status == 201
    # X-Forwarded-Proto/Host/Port came from nginx (https, localhost, the TLS
    # port), not from the client's forged values.
    expected = f"https://localhost:{nginx.https_port}/api/v1/users/{user['id']}"
    assert headers["Location"] == expected


def test_the_app_logs_the_real_client_address(nginx: Nginx) -> None:
    request_id = unique_name("req")
    assert _register(nginx, request_id)[0] == 201
    records = _wait_for(
        lambda: [r for r in nginx.upstream.app_log() if r.get("request_id") == request_id]
    )
    # gunicorn's socket peer is nginx (127.0.0.1); ProxyFix took the client's
    # address from the last X-Forwarded-For entry, not the forged first one.
    assert records and records[0]["remote_addr"] == CLIENT_ADDRESS
    access = _wait_for(lambda: [x for x in nginx.access_log().splitlines() if request_id in x])
    assert access and access[0].startswith(f"{CLIENT_ADDRESS} - ")
    # gunicorn logs REMOTE_ADDR after the app ran, so it shows what ProxyFix
    # resolved, next to the raw header for comparison.
    gunicorn_line = _wait_for(
        lambda: [x for x in nginx.upstream.access_log() if f"rid={request_id}" in x]
    )
    assert gunicorn_line and gunicorn_line[0].startswith(f"{CLIENT_ADDRESS} ")
    assert f'xff="203.0.113.66, {CLIENT_ADDRESS}"' in gunicorn_line[0]


def test_nginx_makes_a_request_id_when_the_client_sends_none(nginx: Nginx) -> None:
    status, headers, _ = nginx.https("GET", "/api/v1/tags")
    assert status == 200
    request_id = headers["X-Request-ID"]
    assert len(request_id) == 32
    assert _wait_for(lambda: f"rid={request_id}" in nginx.access_log())


def test_plain_http_redirects_to_https_keeping_the_method(nginx: Nginx) -> None:
    response = requests.post(
        f"http://localhost:{nginx.http_port}/api/v1/posts?x=1",
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 308
    assert response.headers["Location"] == (
        f"https://localhost:{nginx.https_port}/api/v1/posts?x=1"
    )


def test_unknown_host_names_get_no_answer(nginx: Nginx) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", nginx.http_port, timeout=10)
    try:
        connection.request("GET", "/api/v1/posts", headers={"Host": "evil.example"})
        with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
            connection.getresponse()
    finally:
        connection.close()


def test_static_files_are_served_by_nginx_not_the_app(nginx: Nginx) -> None:
    status, headers, body = nginx.https("GET", "/static/site/site.css")
    assert status == 200
    assert body == (ROOT / "blog_api" / "site" / "static" / "site.css").read_bytes()
    assert headers["Content-Type"].startswith("text/css")
    assert "public" in headers["Cache-Control"]
    assert "X-Request-ID" not in headers  # the app adds it to everything it serves
    assert not [line for line in nginx.upstream.access_log() if "/static/" in line]


def test_bodies_over_the_limit_are_refused_by_nginx_as_json(nginx: Nginx) -> None:
    body = b'{"title": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    status, headers, raw = nginx.https(
        "POST", "/api/v1/posts", body, **{"Content-Type": "application/json"}
    )
    assert status == 413
    assert headers["Content-Type"] == "application/json"
    assert json.loads(raw)["code"] == 413


def test_hsts_is_sent(nginx: Nginx) -> None:
    _, headers, _ = nginx.https("GET", "/api/v1/tags")
    assert headers["Strict-Transport-Security"].startswith("max-age=")


def test_without_a_proxy_hop_the_app_believes_no_forwarded_header(
    live_server: GunicornServer,
) -> None:
    # The default (BLOG_PROXY_HOPS=0), talking to gunicorn directly.
    username, request_id = unique_name(), unique_name("req")
    response = requests.post(
        live_server.url("/api/v1/auth/register"),
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        headers={**SPOOFED, "X-Forwarded-Proto": "https", "X-Request-ID": request_id},
        timeout=10,
    )
    assert response.status_code == 201
    assert response.headers["Location"].startswith(f"{live_server.base_url}/api/v1/users/")
    records = _wait_for(
        lambda: [r for r in live_server.app_log() if r.get("request_id") == request_id]
    )
    assert records[0]["remote_addr"] == "127.0.0.1"
