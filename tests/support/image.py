"""Building the Dockerfile's image with buildah, from a Debian base made here.

No image registry can be reached from our machines, so ``python:3.11-slim``
cannot be pulled. What can be reached is Debian's archive, so the base is made
from it instead:

1. ``debootstrap --variant=minbase bookworm`` (Debian 12, whose Python is 3.11
   like the slim image's) with ``python3`` and ``python3-venv``;
2. a virtualenv in ``/opt/venv`` first on ``PATH``, so that ``python`` and
   ``pip`` mean what they mean in the slim image (Debian's own ``pip`` refuses
   to install into the system Python, PEP 668);
3. committed as ``localhost/blog_api-base:<recipe hash>`` in a buildah store
   under ``/var/cache/blog_api-image``, and reused by later runs on the same
   machine until the recipe below changes.

The Dockerfile is then built unchanged with ``--build-arg BASE_IMAGE=<that
base>``. Its ``pip install`` gets this machine's package sources (index URLs,
certificate, constraints: ``pip_settings``) from a ``pip.conf`` in the
build's home folder, which is mounted read-only over ``/root`` for the build
only: nothing of it, not even an empty mount point, stays in the image.

buildah runs with ``--isolation chroot`` (no daemon, no OCI runtime: only
root) and the overlay storage driver, or vfs where overlay cannot work.
"""

from __future__ import annotations

import ast
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CACHE = Path("/var/cache/blog_api-image")
SUITE = "bookworm"  # Debian 12: python3 is 3.11, the Python of python:3.11-slim
PACKAGES = ("python3", "python3-venv")
VENV = "/opt/venv"
PATH = f"{VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# What a slim image leaves out: emptied in the debootstrap tree before commit
# (emptied, not removed, so apt-get still works in an image built on the base).
TRIMMED = (
    "var/cache/apt/archives",
    "var/lib/apt/lists",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/info",
    "usr/share/locale",
)
BASE_REPOSITORY = "localhost/blog_api-base"
# The recipe's hash names the base image: changing any of these makes a new one.
RECIPE = json.dumps([SUITE, PACKAGES, VENV, PATH, TRIMMED, "minbase", 2])
BASE_IMAGE = f"{BASE_REPOSITORY}:{SUITE}-{hashlib.sha256(RECIPE.encode()).hexdigest()[:12]}"

# pip's settings that say where packages come from; the rest (a cache folder,
# --user, a target) belongs to the machine's own pip and stays out of the build.
PIP_SOURCE_KEYS = (
    "index-url",
    "extra-index-url",
    "find-links",
    "no-index",
    "cert",
    "client-cert",
    "trusted-host",
    "proxy",
    "constraint",
    "timeout",
    "default-timeout",
    "retries",
)
PIP_PATH_KEYS = ("index-url", "extra-index-url", "find-links", "cert", "client-cert", "constraint")
BUILD_HOME = "/root"  # the build's HOME: pip reads $HOME/.config/pip/pip.conf


class CannotBuild(Exception):
    """The machine cannot make the base image (no mirror, no chroot): a reason to skip."""


def storage_driver() -> str:
    """``overlay`` where it can work, else ``vfs``, which works anywhere.

    vfs gives every container and layer a full copy of the files.
    PERF: overlay shares them: a warm build measured 73 s on overlay and 130 s
    on vfs, most of the difference copying the 151 MB base. overlay needs the
    kernel's overlayfs, and a store that is not itself on overlayfs (as the
    root of a Docker container is).
    """
    filesystems = Path("/proc/filesystems").read_text().split()
    return "overlay" if "overlay" in filesystems and _filesystem_of(CACHE) != "overlay" else "vfs"


def _filesystem_of(path: Path) -> str:
    """The type of the filesystem holding ``path``: its longest mount point in /proc/mounts."""
    best, kind = "", ""
    for line in Path("/proc/mounts").read_text().splitlines():
        _, mount_point, fs_type, *_ = line.split()
        inside = str(path).startswith(mount_point.rstrip("/") + "/") or str(path) == mount_point
        if inside and len(mount_point) >= len(best):
            best, kind = mount_point, fs_type
    return kind


@dataclass
class Buildah:
    """The ``buildah`` command on a store of its own under ``root``, one per storage driver."""

    root: Path = CACHE
    driver: str = field(default_factory=storage_driver)

    def command(self, *args: str) -> list[str]:
        """``buildah`` with the store's global options, then ``args``."""
        store = self.root / self.driver
        options = ["--root", str(store / "storage"), "--runroot", str(store / "run")]
        return ["buildah", *options, "--storage-driver", self.driver, *args]

    def __call__(self, *args: str, timeout: float = 120) -> str:
        """Run ``buildah args`` and return its output; raise with its stderr if it fails."""
        result = subprocess.run(
            self.command(*args), capture_output=True, text=True, timeout=timeout
        )
        if result.returncode:
            raise RuntimeError(f"buildah {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def images(self) -> list[str]:
        """The ``name:tag`` of every image in the store."""
        names = self("images", "--format", "{{.Name}}:{{.Tag}}")
        return names.split()

    def image_config(self, image: str) -> dict[str, Any]:
        """The image's Docker configuration (``Cmd``, ``Env``, ``Healthcheck``…)."""
        inspected = json.loads(self("inspect", "--type", "image", image))
        config: dict[str, Any] = inspected["Docker"]["config"]
        return config

    def image_size(self, image: str) -> str:
        """The image's size as ``buildah images`` shows it (``"151 MB"``)."""
        listed = json.loads(self("images", "--json", image))
        return str(listed[0]["size"])

    def remove_all_but(self, keep: str) -> None:
        """Remove every working container, and every image except ``keep``.

        Called with the store's lock held: what is left is from a run that was
        killed, or an older base recipe, and would only fill the disk.
        """
        self("rm", "--all")
        for image in self.images():
            if image != keep:
                self("rmi", "--force", image)


@contextlib.contextmanager
def store_lock(timeout: float) -> Iterator[None]:
    """Hold the store for one test run; other runs on the machine wait their turn."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / "lock").open("w") as lock:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise CannotBuild(f"another run held {CACHE} for {timeout:g} s") from None
                time.sleep(1)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def make_base_image(buildah: Buildah, timeout: float) -> str:
    """``BASE_IMAGE``, made from debootstrap unless the store already holds it.

    Raises:
        CannotBuild: debootstrap failed (no route to the mirror, or no chroot).
    """
    if BASE_IMAGE in buildah.images():
        return BASE_IMAGE
    with tempfile.TemporaryDirectory(dir=CACHE) as work:
        rootfs, archive = Path(work) / "rootfs", Path(work) / "rootfs.tar"
        _debootstrap(rootfs, timeout)
        for trimmed in TRIMMED:
            _empty(rootfs / trimmed)
        subprocess.run(["tar", "-C", str(rootfs), "-cf", str(archive), "."], check=True)
        container = buildah("from", "scratch").strip()
        buildah("add", container, str(archive), "/")  # a tar archive is unpacked
    buildah("run", "--isolation", "chroot", container, "--", "python3", "-m", "venv", VENV)
    buildah(
        "config", "--env", f"PATH={PATH}", "--env", "LANG=C.UTF-8", "--cmd", "python3", container
    )
    buildah("commit", "--rm", container, BASE_IMAGE, timeout=600)
    return BASE_IMAGE


def _empty(folder: Path) -> None:
    """Remove what ``folder`` holds, keeping the folder itself."""
    for entry in folder.glob("*"):
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _debootstrap(rootfs: Path, timeout: float) -> None:
    """A minimal Debian tree with ``PACKAGES``, from the mirror this machine uses."""
    command = [
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(PACKAGES)}",
        f"--cache-dir={_deb_cache()}",  # a new recipe downloads only what changed
        SUITE,
        str(rootfs),
    ]
    mirror = debian_mirror()
    if mirror:
        command.append(mirror)  # else debootstrap's default mirror
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise CannotBuild(f"debootstrap did not finish within {timeout:g} s") from None
    if result.returncode:
        raise CannotBuild(f"debootstrap {SUITE} failed: {(result.stdout + result.stderr)[-500:]}")


def _deb_cache() -> Path:
    """Where debootstrap keeps the packages it downloaded, between runs."""
    folder = CACHE / "debs"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def debian_mirror() -> str | None:
    """The Debian archive URI of this machine's apt sources, or ``None``.

    The first ``deb`` source with a plain suite (``bookworm``, not
    ``bookworm-security``) in either format: deb822 ``*.sources`` files or
    one-line ``sources.list`` entries.
    """
    sources = Path("/etc/apt")
    for path in sorted(sources.glob("sources.list.d/*.sources")):
        for stanza in path.read_text().split("\n\n"):
            fields = dict(
                line.split(":", 1) for line in stanza.splitlines() if ":" in line and line[0] != "#"
            )
            fields = {key.strip(): value.strip() for key, value in fields.items()}
            suites = fields.get("Suites", "").split()
            if fields.get("Types") == "deb" and any("-" not in suite for suite in suites):
                return fields["URIs"].split()[0]
    for path in [sources / "sources.list", *sorted(sources.glob("sources.list.d/*.list"))]:
        lines = path.read_text().splitlines() if path.exists() else []
        for line in lines:
            words = [word for word in line.split() if not word.startswith("[")]
            if len(words) >= 3 and words[0] == "deb" and "-" not in words[2]:
                return words[1]
    return None


def pip_settings() -> dict[str, str]:
    """This machine's pip settings on where packages come from (``PIP_SOURCE_KEYS``).

    Read with ``pip config list``, which shows the configuration files'
    ``global.key`` values and the environment's ``PIP_*`` as ``:env:.key``;
    the environment wins, as it does for pip.
    """
    listed = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    rank = {"global": 0, "install": 1, ":env:": 2}
    found: list[tuple[int, str, str]] = []
    for line in listed.splitlines():
        name, _, value = line.partition("=")
        section, _, key = name.rpartition(".")
        if section in rank and key in PIP_SOURCE_KEYS:
            found.append((rank[section], key, ast.literal_eval(value)))
    return {key: value for _, key, value in sorted(found)}


def pip_build_home(home: Path, settings: dict[str, str]) -> list[str]:
    """Write the build's ``pip.conf`` into ``home``; return buildah's ``--volume`` options.

    ``home`` is mounted read-only over ``/root``, which both the slim image and
    our base have, so the image keeps no trace of it. Local files and folders
    that the settings name (a ``file://`` index, a certificate, constraints)
    are mounted inside it, under ``.config/pip/sources/<n>``, and the settings
    rewritten to point there; mount points inside ``home`` are made in
    ``home``, not in the image. A ``file://`` index is mounted with its parent
    folder, since its pages link to files beside it (``../../files/…``).
    Without a ``cert`` setting the system's CA bundle is named, as the
    machine's pip may trust it without one (pip's truststore).
    """
    settings = dict(settings)
    system_bundle = Path("/etc/ssl/certs/ca-certificates.crt")
    if "cert" not in settings and system_bundle.exists():
        settings["cert"] = str(system_bundle)
    config = home / ".config" / "pip"
    config.mkdir(parents=True)
    mounts: dict[str, str] = {}  # host folder or file -> its place in the build

    def relocate(token: str, key: str) -> str:
        local = token.removeprefix("file://")
        if not local.startswith("/") or not os.path.exists(local):
            return token  # a URL, or nothing on this machine
        path = Path(os.path.realpath(local))
        source = path.parent if token.startswith("file://") and "index-url" in key else path
        if str(source) not in mounts:
            # The mount point must exist beforehand: home is mounted read-only.
            name = f"sources/{len(mounts)}"
            (config / name).parent.mkdir(exist_ok=True)
            (config / name).mkdir() if source.is_dir() else (config / name).touch()
            mounts[str(source)] = f"{BUILD_HOME}/.config/pip/{name}"
        inside = mounts[str(source)]
        if source != path:
            inside += "/" + str(path.relative_to(source))
        return ("file://" if token.startswith("file://") else "") + inside

    lines = ["[global]"]
    for key, value in settings.items():
        if key in PIP_PATH_KEYS:
            value = " ".join(relocate(token, key) for token in value.split())
        lines.append(f"{key} = {value}")
    (config / "pip.conf").write_text("\n".join(lines) + "\n")
    volumes = ["--volume", f"{home}:{BUILD_HOME}:ro"]
    for source, target in mounts.items():
        volumes += ["--volume", f"{source}:{target}:ro"]
    return volumes


def build_image(
    buildah: Buildah, context: Path, base: str, tag: str, home: Path, timeout: float
) -> str:
    """``buildah bud`` the context's Dockerfile on ``base``; return the build's log.

    ``--format docker``: the OCI image format has no ``HEALTHCHECK``.
    """
    volumes = pip_build_home(home, pip_settings())
    return buildah(
        "bud",
        "--isolation",
        "chroot",
        "--format",
        "docker",
        "--pull=never",  # the base is local; there is no registry to ask
        "--build-arg",
        f"BASE_IMAGE={base}",
        *volumes,
        "--tag",
        tag,
        str(context),
        timeout=timeout,
    )
