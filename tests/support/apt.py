"""Installing a Debian package a test needs (nginx, Chromium), once, with a time limit."""

from __future__ import annotations

import os
import shutil
import subprocess
import time


def apt_install(*packages: str, timeout: float, recommends: bool = False) -> str | None:
    """``apt-get install -y PACKAGES``; the reason it failed, or ``None``.

    Tests call this when a tool is missing and skip with the returned reason,
    so a machine without root, apt-get or a mirror skips instead of failing.
    """
    if shutil.which("apt-get") is None:
        return "no apt-get to install it with"
    if os.geteuid() != 0:
        return "not root, so apt-get install is not possible"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Wait for the dpkg lock rather than fail: another apt-get may be running.
    install = ["apt-get", "install", "-y", "-q", "-o", "DPkg::Lock::Timeout=120"]
    if not recommends:
        install.append("--no-install-recommends")
    install += packages
    deadline = time.monotonic() + timeout
    try:
        if subprocess.run(install, env=env, capture_output=True, timeout=timeout).returncode:
            # The package lists may be missing or stale: refresh them once.
            left = max(1.0, deadline - time.monotonic())
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, timeout=left)
            left = max(1.0, deadline - time.monotonic())
            result = subprocess.run(install, env=env, capture_output=True, timeout=left)
            if result.returncode:
                error = result.stderr.decode(errors="replace")[-300:]
                return f"apt-get install {' '.join(packages)} failed: {error}"
    except subprocess.TimeoutExpired:
        return f"apt-get did not finish within {timeout:g} s"
    return None
