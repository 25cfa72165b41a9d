"""The Dockerfile, really built and run: buildah, on a Debian base made with debootstrap.

``tests/support/image.py`` makes the base (Debian 12 with Python 3.11 in a
virtualenv, standing in for ``python:3.11-slim``, which no registry here can
give) and builds the Dockerfile unchanged on it, with ``--build-arg
BASE_IMAGE``. These tests then check the image itself:

* its configuration: the non-root user, the port, a ``HEALTHCHECK`` aimed at
  the port gunicorn binds;
* its files: the installed package, not a source tree, is what runs, and the
  build's pip settings left nothing behind;
* its command, run as the image says (``buildah run``, in the host's network
  namespace, with only ``GUNICORN_BIND`` moved to a free loopback port): the
  health check passes, a user registers, logs in and publishes a post, the
  reader site is served, and SIGTERM to gunicorn (what ``docker stop`` sends
  to PID 1) ends the container with status 0.

Needs root, Debian's ``buildah`` and ``debootstrap`` (installed with apt-get
when missing) and the Debian mirror; skips with the reason otherwise. The
base is kept in ``/var/cache/blog_api-image`` between runs, so only the first
run on a machine pays for debootstrap; each run writes its times and sizes to
``last-run.json`` there (docs/deploy.md quotes them).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.integration.conftest import ROOT, Client
from tests.support.apt import apt_install
from tests.support.image import (
    BASE_IMAGE,
    CACHE,
    Buildah,
    CannotBuild,
    build_image,
    make_base_image,
    store_lock,
)

pytestmark = pytest.mark.slow

APT_TIMEOUT = 300  # seconds to install buildah and debootstrap
DEBOOTSTRAP_TIMEOUT = 900  # seconds for a Debian tree from the mirror
BUILD_TIMEOUT = 900  # seconds for buildah bud (pip downloads the dependencies)
LOCK_TIMEOUT = 1800  # seconds to wait for another run of these tests on the machine
START_TIMEOUT = 60  # seconds until the container's gunicorn answers

_LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+) \((\d+)\)")


@dataclass
class BuiltImage:
    """The image built from the Dockerfile, and how long it took."""

    buildah: Buildah
    tag: str
    config: dict[str, Any]
    base_seconds: float
    build_seconds: float


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltImage]:
    """The Dockerfile built on the local base; removed (the base kept) at the end."""
    _require_tools()
    buildah = Buildah()
    tag = f"localhost/blog_api-test:{uuid.uuid4().hex[:12]}"
    try:
        with store_lock(LOCK_TIMEOUT):
            buildah.remove_all_but(BASE_IMAGE)
            started = time.monotonic()
            base = make_base_image(buildah, DEBOOTSTRAP_TIMEOUT)
            base_done = time.monotonic()
            home = tmp_path_factory.mktemp("build-home")
            build_image(buildah, ROOT, base, tag, home, BUILD_TIMEOUT)
            built = BuiltImage(
                buildah,
                tag,
                buildah.image_config(tag),
                base_seconds=base_done - started,
                build_seconds=time.monotonic() - base_done,
            )
            _record_run(built, base)
            yield built
            buildah.remove_all_but(base)
    except CannotBuild as e:
        pytest.skip(f"cannot build the image here: {e}")


def _record_run(built: BuiltImage, base: str) -> None:
    """Write this run's times and sizes to ``last-run.json`` in the cache, for docs/deploy.md."""
    record = {
        "base_seconds": round(built.base_seconds, 1),  # about 0 when the base was cached
        "build_seconds": round(built.build_seconds, 1),
        "base_size": built.buildah.image_size(base),
        "image_size": built.buildah.image_size(built.tag),
        "storage_driver": built.buildah.driver,
        "load_average": Path("/proc/loadavg").read_text().split()[:3],
    }
    (CACHE / "last-run.json").write_text(json.dumps(record, indent=1) + "\n")


def _require_tools() -> None:
    """buildah and debootstrap, installed from Debian when missing; else skip."""
    if os.geteuid() != 0:
        pytest.skip("building an image with buildah's chroot isolation needs root")
    missing = [tool for tool in ("buildah", "debootstrap") if shutil.which(tool) is None]
    if missing:
        problem = apt_install(*missing, timeout=APT_TIMEOUT)
        if problem:
            pytest.skip(f"{', '.join(missing)} unavailable: {problem}")


@pytest.fixture(scope="module")
def container(image: BuiltImage) -> Iterator[str]:
    """A working container of the image (its own copy of the image's files)."""
    name = image.buildah("from", "--pull=never", image.tag).strip()
    yield name
    image.buildah("rm", name)


def test_image_config_runs_a_non_root_gunicorn_with_a_matching_health_check(
    image: BuiltImage,
) -> None:
    config = image.config
    env = dict(item.split("=", 1) for item in config["Env"])
    assert config["User"] == "blog"
    assert config["WorkingDir"] == "/app"
    assert "8000/tcp" in config["ExposedPorts"]
    assert env["GUNICORN_BIND"] == "0.0.0.0:8000"
    # The health check asks the port gunicorn binds, over loopback, every 30 s.
    check = config["Healthcheck"]
    assert check["Test"][0] == "CMD"
    assert "'http://127.0.0.1:8000/api/v1/tags'" in check["Test"][-1]
    assert check["Interval"] == 30 * 10**9
    assert config["Cmd"][-1].endswith("&& exec gunicorn -c gunicorn.conf.py blog_api.wsgi:app")


def test_image_runs_the_installed_package_and_keeps_no_build_settings(
    image: BuiltImage, container: str
) -> None:
    script = (
        "import blog_api, json, os;"
        "print(json.dumps([blog_api.__file__, sorted(os.listdir('/app')),"
        " sorted(os.listdir('/root')), os.path.exists('/etc/pip.conf'),"
        " os.path.exists('/tmp/src')]))"
    )
    # As root: /root is closed to the image's user.
    run = ("run", "--isolation", "chroot", "--user", "root", container, "--")
    output = image.buildah(*run, "python", "-c", script)
    module, app_files, root_files, pip_conf, sources = json.loads(output)
    assert "/site-packages/blog_api/" in module  # not /app/blog_api
    assert set(app_files) <= {"gunicorn.conf.py", "instance"}
    assert ".config" not in root_files and not pip_conf  # the build's pip.conf stayed outside
    assert not sources


def test_image_command_serves_the_api_and_stops_gracefully_on_sigterm(
    image: BuiltImage, container: str, tmp_path: Path
) -> None:
    log_path = tmp_path / "container.log"
    run = image.buildah.command(
        "run",
        "--isolation",
        "chroot",
        "--network",
        "host",
        # Only the address differs from the image: loopback, a port the kernel picks.
        "--env",
        "GUNICORN_BIND=127.0.0.1:0",
        "--env",
        "WEB_CONCURRENCY=2",
        container,
        "--",
        *image.config["Cmd"],
    )
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            run, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        port, master = _wait_until_serving(process, log_path)
        base_url = f"http://127.0.0.1:{port}"
        _assert_health_check_passes(image, container, port)
        _assert_api_and_site_work(base_url)
        # exec replaced the shell: gunicorn is the container's first process, as the blog user.
        status = Path(f"/proc/{master}/status").read_text()
        assert "gunicorn" in Path(f"/proc/{master}/cmdline").read_text()
        assert re.search(r"^Uid:\s+10001\s", status, re.MULTILINE)
        parent = re.search(r"^PPid:\s+(\d+)", status, re.MULTILINE)
        assert parent and Path(f"/proc/{parent.group(1)}/comm").read_text().strip() != "sh"
        os.kill(master, signal.SIGTERM)
        assert process.wait(timeout=45) == 0, log_path.read_text()[-2000:]
        assert "Shutting down: Master" in log_path.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def _wait_until_serving(process: subprocess.Popen[bytes], log_path: Path) -> tuple[int, int]:
    """The port and master pid from gunicorn's log, once a worker answers."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        match = _LISTENING.search(log_path.read_text(errors="replace"))
        if match:
            port, master = int(match.group(1)), int(match.group(2))
            try:
                requests.get(f"http://127.0.0.1:{port}/api/v1/tags", timeout=2)
                return port, master
            except requests.RequestException:
                pass
        time.sleep(0.2)
    raise AssertionError(f"the image's command did not serve:\n{log_path.read_text()[-3000:]}")


def _assert_health_check_passes(image: BuiltImage, container: str, port: int) -> None:
    """The image's HEALTHCHECK command, run in the container, aimed at the test's port."""
    check = [
        arg.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
        for arg in image.config["Healthcheck"]["Test"][1:]
    ]
    result = subprocess.run(
        image.buildah.command(
            "run", "--isolation", "chroot", "--network", "host", container, "--", *check
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]


def _assert_api_and_site_work(base_url: str) -> None:
    """A user registers, logs in, publishes a post and reads it; the site renders."""
    client = Client(base_url)
    try:
        assert client.get("/api/v1/tags").status_code == 200
        _, headers = client.new_user()
        post = client.create_post(headers, title="From the image", body="Built with buildah.")
        fetched = client.get(f"/api/v1/posts/{post['id']}")
        assert fetched.status_code == 200
        assert fetched.json()["title"] == "From the image"
        # Templates and the stylesheet came with the installed package.
        assert client.get("/").status_code == 200
        css = client.get("/static/site/site.css")
        assert css.content == (ROOT / "blog_api/site/static/site.css").read_bytes()
    finally:
        client.http.close()
