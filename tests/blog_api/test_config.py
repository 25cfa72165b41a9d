"""Settings (blog_api/config.py): environment variables and the shared secret key file."""

from __future__ import annotations

import multiprocessing
import re
from pathlib import Path
from typing import Any

import pytest

from blog_api.config import instance_secret_key, load_config

WORKERS = 8


def _key_after_barrier(barrier: Any, instance: str, results: Any) -> None:
    """One "gunicorn worker": start with the others, then read or create the key."""
    barrier.wait(timeout=20)
    results.put(instance_secret_key(Path(instance)))


def test_workers_starting_together_all_get_the_same_complete_key(tmp_path: Path) -> None:
    # Several rounds, because a race shows only sometimes: the old code let a
    # worker read the file between another's O_EXCL create and its write.
    context = multiprocessing.get_context("fork")
    for round_number in range(5):
        instance = tmp_path / f"instance{round_number}"
        barrier, results = context.Barrier(WORKERS), context.Queue()
        workers = [
            context.Process(target=_key_after_barrier, args=(barrier, str(instance), results))
            for _ in range(WORKERS)
        ]
        for worker in workers:
            worker.start()
        keys = [results.get(timeout=20) for _ in workers]
        for worker in workers:
            worker.join(timeout=20)
        assert len(set(keys)) == 1 and len(keys[0]) >= 32
        assert [path.name for path in instance.iterdir()] == ["secret_key"]


def test_the_key_file_is_private(tmp_path: Path) -> None:
    instance_secret_key(tmp_path)
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_proxy_hops_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    overrides = {"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k"}
    assert load_config(overrides)["PROXY_HOPS"] == 0
    monkeypatch.setenv("BLOG_PROXY_HOPS", "1")
    assert load_config(overrides)["PROXY_HOPS"] == 1


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("TRUE", True), (" on ", True), ("0", False), ("no", False)]
)
def test_secure_session_cookie_flag_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, raw: str, expected: bool
) -> None:
    overrides = {"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k"}
    assert "SESSION_COOKIE_SECURE" not in load_config(overrides)  # the framework's default: off
    monkeypatch.setenv("BLOG_SESSION_COOKIE_SECURE", raw)
    assert load_config(overrides)["SESSION_COOKIE_SECURE"] is expected


@pytest.mark.parametrize(
    ("name", "raw"), [("BLOG_SESSION_COOKIE_SECURE", "maybe"), ("BLOG_CACHE_TTL", "a minute")]
)
def test_a_malformed_setting_stops_the_start_with_its_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, raw: str
) -> None:
    monkeypatch.setenv(name, raw)
    with pytest.raises(ValueError, match=f"{name}={raw!r} is not valid"):
        load_config({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k"})


def test_trusted_hosts_default_to_this_machine_and_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    overrides = {"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k"}
    assert load_config(overrides)["TRUSTED_HOSTS"] == ["localhost", "127.0.0.1"]
    monkeypatch.setenv("BLOG_TRUSTED_HOSTS", "blog.example.org, .example.net ,LOCALHOST")
    hosts = load_config(overrides)["TRUSTED_HOSTS"]
    assert hosts == ["blog.example.org", ".example.net", "localhost"]


@pytest.mark.parametrize(
    "raw", ["localhost:8000", " , ", "blog.example.org,", "[::1]", "exa mple.org", "*", "é.example"]
)
def test_a_trusted_host_list_werkzeug_would_misread_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, raw: str
) -> None:
    """A port is ignored by Werkzeug's check and an IPv6 literal never matches: refuse both."""
    monkeypatch.setenv("BLOG_TRUSTED_HOSTS", raw)
    with pytest.raises(ValueError, match=re.escape(f"BLOG_TRUSTED_HOSTS={raw!r} is not valid")):
        load_config({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "k"})
