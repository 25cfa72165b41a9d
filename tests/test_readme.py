"""README.md stays true: every make target, command, URL and file it names exists.

A newcomer copies commands from the README before reading anything else, so
a renamed target, command or route should fail here rather than on their
first try.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound

from tests.blog_api.conftest import build_app, make_config

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: The host and port ``make run`` serves on by default.
SERVER = "http://127.0.0.1:8000"
#: Folders of the repository whose files the README names in backticks.
TREES = ("docs/", "blog_api/", "miniflask/", "tests/", "benchmarks/", "examples/", "tools/")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The blog on miniflask (the routes and commands are the same on Flask)."""
    app = build_app("miniflask", make_config(tmp_path_factory.mktemp("readme")))
    yield app
    app.extensions["blog_db"].engine.dispose()


def test_every_make_target_it_names_is_in_the_makefile() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([\w-]+):", makefile, re.MULTILINE))
    named = set(re.findall(r"\bmake ([a-z][\w-]*)", README))
    assert named, "the README names make targets"
    assert named - targets == set()


def test_every_make_variable_it_names_is_read_by_the_makefile() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for variable in ("PORT", "HOST", "ARGS", "BLOG_FRAMEWORK"):
        assert f"{variable}=" in README
        assert f"$({variable})" in makefile


def test_every_command_it_names_exists(app: Any) -> None:
    commands = {**app.cli.commands, **_framework_commands()}
    named = re.findall(
        r"(?:--app blog_api\.wsgi|python -m blog_api) ([a-z][\w-]*)(?: ([a-z][\w-]*))?", README
    )
    assert named, "the README names blog_api commands"
    for name, sub_name in named:
        assert name in commands, name
        command = commands[name]
        if sub_name and isinstance(command, click.Group):
            assert sub_name in command.commands, f"{name} {sub_name}"


def _framework_commands() -> dict[str, click.Command]:
    """The commands ``FlaskGroup`` adds itself (``run``, ``routes``, ``shell``, ``trace``)."""
    from miniflask.cli import FlaskGroup

    return dict(FlaskGroup().commands)


def test_every_option_of_seed_it_uses_exists(app: Any) -> None:
    options = {option for param in app.cli.commands["seed"].params for option in param.opts}
    used = set(re.findall(r"seed((?: --[\w-]+ \d+)+)", README)[0].split()[::2])
    assert used <= options


def test_every_url_on_the_default_server_is_routed(app: Any) -> None:
    # Not API=...: the curl examples' prefix, checked with the paths after $API below.
    urls = re.findall(r"(?<!API=)" + re.escape(SERVER) + r"(/[^\s`)\"']*)?", README)
    adapter = app.url_map.bind("127.0.0.1:8000")
    assert "/api/docs" in urls and "/api/v1/openapi.json" in urls
    for path in {url or "/" for url in urls}:
        try:
            adapter.match(path.split("?")[0].rstrip("."))
        except MethodNotAllowed:
            pass  # the route exists for another method
        except NotFound:
            pytest.fail(f"README names {SERVER}{path}, which no route serves")


def test_every_api_path_it_names_is_routed(app: Any) -> None:
    paths = re.findall(r"\$API(/[\w/-]+)|`(?:[A-Z]+ )?(/api/v1/[\w/.-]+)`", README)
    adapter = app.url_map.bind("127.0.0.1:8000")
    for path in {"/api/v1" + api if api else full for api, full in paths}:
        try:
            adapter.match(path)
        except MethodNotAllowed:
            pass
        except NotFound:
            pytest.fail(f"README names {path}, which no route serves")


def test_every_file_it_names_exists() -> None:
    named = {
        name.split("#")[0]
        for name in re.findall(r"`([\w./-]+)`", README)
        if name.startswith(TREES) and "…" not in name
    }
    assert named, "the README names files"
    assert {name for name in named if not (ROOT / name).exists()} == set()
