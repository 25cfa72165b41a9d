"""The container files, checked without a Docker engine (none runs here or in CI).

``test_image.py`` builds and runs the image itself with buildah; what is
checked here needs neither, and runs in seconds:

* the ``Dockerfile``'s command, run as written from a directory that holds
  only ``gunicorn.conf.py``, with the package installed from a freshly built
  wheel (as ``pip install .`` in the image does), not from the source tree:
  this is what caught templates missing from the wheel;
* the shape of the ``Dockerfile`` (slim base, non-root user, exec-form command)
  and of ``compose.yaml`` (health checks, start order, grace period, a one-shot
  migration before two alike app services);
* every ``BLOG_*`` setting the deployment files name is one the app reads.

Building the wheel needs setuptools from PyPI (pip's build isolation); the
test skips with the reason when that is not possible.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from blog_api.config import ENVIRONMENT_KEYS
from tests.integration.conftest import ROOT, SECRET

DOCKERFILE = (ROOT / "Dockerfile").read_text()
BUILD_TIMEOUT = 180  # seconds for pip to build the wheel


def _dockerfile_command() -> list[str]:
    """The ``CMD`` of the Dockerfile, which must be in exec (JSON) form."""
    match = re.search(r"^CMD (\[.*\])$", DOCKERFILE, re.MULTILINE)
    assert match, "CMD must use the exec form, so the process gets signals directly"
    command: list[str] = json.loads(match.group(1))
    return command


def _dockerfile_env() -> dict[str, str]:
    """The ``ENV`` settings of the Dockerfile (``NAME=value`` pairs)."""
    env: dict[str, str] = {}
    for block in re.findall(r"^ENV ((?:.*\\\n)*.*)$", DOCKERFILE, re.MULTILINE):
        env.update(re.findall(r"(\w+)=(\S+)", block.replace("\\\n", " ")))
    return env


@pytest.fixture(scope="session")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project built as a wheel and installed (without dependencies) into a folder."""
    context = tmp_path_factory.mktemp("image-context")
    for name in ("pyproject.toml", "README.md", "miniflask", "blog_api"):
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, context / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, context / name)
    wheels, target = context / "wheels", context / "site-packages"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    try:
        built = subprocess.run(
            [*pip, "wheel", "--no-deps", "-w", str(wheels), str(context)],
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"building the wheel took over {BUILD_TIMEOUT} s")
    if built.returncode:
        pytest.skip(f"cannot build the wheel (setuptools from PyPI?): {built.stderr[-300:]}")
    wheel = next(wheels.glob("*.whl"))
    subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return target


def test_the_image_command_serves_the_installed_package(
    installed_wheel: Path, tmp_path: Path
) -> None:
    app_dir = tmp_path / "app"  # like the image's /app: no source tree
    app_dir.mkdir()
    shutil.copy(ROOT / "gunicorn.conf.py", app_dir)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BLOG_", "GUNICORN_"))},
        **_dockerfile_env(),
        # Only the bind address differs from the image: loopback, a free port.
        "GUNICORN_BIND": "127.0.0.1:0",
        "BLOG_INSTANCE_PATH": str(app_dir / "instance"),
        "BLOG_SECRET_KEY": SECRET,
        "WEB_CONCURRENCY": "2",
        "PYTHONPATH": str(installed_wheel),  # ahead of the editable install in .venv
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}",
    }
    where = subprocess.run(
        [sys.executable, "-c", "import blog_api; print(blog_api.__file__)"],
        cwd=app_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert where.stdout.startswith(str(installed_wheel)), where.stdout + where.stderr
    log_path = tmp_path / "image.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            _dockerfile_command(),
            cwd=app_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = _wait_for_listening(process, log_path)
        assert requests.get(f"{base}/api/v1/tags", timeout=10).status_code == 200
        # The reader site's templates and stylesheet came with the wheel.
        assert requests.get(f"{base}/", timeout=10).status_code == 200
        css = requests.get(f"{base}/static/site/site.css", timeout=10)
        assert css.status_code == 200
        assert css.content == (ROOT / "blog_api/site/static/site.css").read_bytes()
        # exec: the shell was replaced, so `docker stop`'s SIGTERM reaches gunicorn.
        assert "gunicorn" in Path(f"/proc/{process.pid}/cmdline").read_text()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def _wait_for_listening(process: subprocess.Popen[bytes], log_path: Path) -> str:
    """The base URL once gunicorn listens and a worker answers (bounded wait)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        match = re.search(r"Listening at: (http://127\.0\.0\.1:\d+)", log_path.read_text())
        if match:
            try:
                requests.get(match.group(1) + "/api/v1/tags", timeout=2)
                return match.group(1)
            except requests.RequestException:
                pass
        time.sleep(0.1)
    raise AssertionError(f"the image command did not serve:\n{log_path.read_text()[-2000:]}")


def test_dockerfile_is_slim_and_runs_as_a_non_root_user() -> None:
    # The base is an ARG (test_image.py builds on a local Debian base); its default is slim.
    assert re.search(r"^ARG BASE_IMAGE=python:3\.\d+-slim$", DOCKERFILE, re.MULTILINE)
    assert re.search(r"^FROM \$\{BASE_IMAGE\}$", DOCKERFILE, re.MULTILINE)
    users = re.findall(r"^USER (\S+)", DOCKERFILE, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert "exec gunicorn -c gunicorn.conf.py blog_api.wsgi:app" in " ".join(_dockerfile_command())


def test_dockerignore_keeps_local_state_out_of_the_image() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "instance", "tests"} <= ignored


APP_SERVICES = ("app", "app2")  # two hosts' worth, as test_two_hosts.py runs them


def _compose_services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    return services


def test_compose_starts_both_apps_after_the_migration_and_healthy_postgres_and_redis() -> None:
    services = _compose_services()
    assert set(services) == {"migrate", *APP_SERVICES, "worker", "db", "redis"}
    for name in APP_SERVICES:
        assert services[name]["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }, name
    assert all("healthcheck" in services[name] for name in ("db", "redis"))


def test_compose_apps_are_alike_but_for_their_loopback_port() -> None:
    services = _compose_services()
    first, *others = (services[name] for name in APP_SERVICES)
    for other in others:
        # One database, one Redis, one secret key: a token or a cache entry
        # made on one host is good on the other.
        assert other["environment"] == first["environment"]
    ports = [port for name in APP_SERVICES for port in services[name]["ports"]]
    # Published on loopback only; nginx on the host is the public face.
    assert all(port.startswith("127.0.0.1:") for port in ports)
    assert len({port.rsplit(":", 2)[1] for port in ports}) == len(ports)
    for name in APP_SERVICES:
        # docker stop waits longer than gunicorn's graceful_timeout (30 s).
        assert int(services[name]["stop_grace_period"].rstrip("s")) > 30
    assert first["environment"]["BLOG_DATABASE_URL"].startswith("postgresql://")
    assert first["environment"]["BLOG_REDIS_URL"].startswith("redis://")


def test_compose_runs_the_jobs_on_a_celery_worker_with_the_apps_settings() -> None:
    services = _compose_services()
    worker, app = services["worker"], services["app"]
    assert worker["command"] == ["celery", "-A", "blog_api.jobs", "worker", "--loglevel=INFO"]
    assert worker["environment"] == app["environment"]  # the same database, broker, mail
    assert app["environment"]["BLOG_JOBS_DISPATCHER"] == "celery"
    assert worker["depends_on"] == app["depends_on"]  # after the migration
    assert "ports" not in worker  # it serves nothing
    # The image has Celery: the deploy extra it installs names it.
    deploy = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["deploy"]
    assert any(requirement.startswith("celery") for requirement in deploy)


def test_compose_runs_the_image_s_upgrade_command_once_before_the_apps() -> None:
    migrate = _compose_services()["migrate"]
    upgrade = " ".join(migrate["command"])
    assert upgrade == "python -m blog_api db upgrade"
    # The image runs the same command before gunicorn; after `migrate` it has
    # nothing to do, and a lone `docker run` still gets its tables.
    assert f"{upgrade} && exec gunicorn" in " ".join(_dockerfile_command())
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert migrate["restart"] == "no"  # one shot: a restart would re-run it forever
    assert migrate["environment"] == _compose_services()["app"]["environment"]


@pytest.mark.parametrize(
    "path", ["Dockerfile", "compose.yaml", "deploy/nginx.conf", "docs/deploy.md"]
)
def test_deployment_files_name_only_real_settings(path: str) -> None:
    known = set(ENVIRONMENT_KEYS) | {"BLOG_FRAMEWORK"}
    named = set(re.findall(r"\bBLOG_[A-Z_]+\b", (ROOT / path).read_text()))
    assert named <= known, f"{path} names unknown settings: {sorted(named - known)}"
