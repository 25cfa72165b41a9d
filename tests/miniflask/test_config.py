"""Tests for miniflask/config.py: defaults and loaders, compared with Flask's Config."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest

import miniflask
from miniflask.config import Config


def test_defaults_match_flasks_for_every_key_miniflask_uses() -> None:
    import flask

    ours = miniflask.Flask("a").config
    theirs = flask.Flask("a").config
    for key, value in ours.items():
        assert theirs[key] == value, key


def test_default_config_is_flasks_and_read_only(fw: ModuleType) -> None:
    import flask

    assert dict(fw.Flask.default_config) == dict(flask.Flask.default_config)
    with pytest.raises(TypeError):
        fw.Flask.default_config["DEBUG"] = True  # type: ignore[index]


def test_a_subclass_changes_its_apps_defaults(fw: ModuleType) -> None:
    class QuietApp(fw.Flask):  # type: ignore[name-defined,misc]
        default_config = {**fw.Flask.default_config, "MAX_COOKIE_SIZE": 0}

    assert QuietApp("quiet").config["MAX_COOKIE_SIZE"] == 0


class Settings:
    SECRET_KEY = "s3cret"
    DEBUG = True
    lowercase_is_ignored = "x"


def test_from_object_takes_only_uppercase_attributes() -> None:
    config = Config(".")
    config.from_object(Settings)
    assert config == {"SECRET_KEY": "s3cret", "DEBUG": True}


def test_from_object_imports_a_dotted_string() -> None:
    config = Config(".")
    config.from_object("http.HTTPStatus")
    assert config["NOT_FOUND"] == 404


def test_from_pyfile_executes_the_file_relative_to_root_path(tmp_path: Path) -> None:
    (tmp_path / "settings.py").write_text("import os\nPORT = 8000\nhelper = 1\n")
    config = Config(tmp_path)
    assert config.from_pyfile("settings.py") is True
    assert config == {"PORT": 8000}


def test_from_pyfile_missing_file_raises_unless_silent(tmp_path: Path) -> None:
    config = Config(tmp_path)
    assert config.from_pyfile("missing.py", silent=True) is False
    with pytest.raises(OSError, match="Unable to load configuration file"):
        config.from_pyfile("missing.py")


def test_from_envvar_loads_the_named_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "prod.cfg").write_text("NAME = 'prod'\n")
    monkeypatch.setenv("APP_SETTINGS", str(tmp_path / "prod.cfg"))
    config = Config(tmp_path)
    assert config.from_envvar("APP_SETTINGS") is True
    assert config["NAME"] == "prod"


def test_from_envvar_unset_variable_is_an_error_unless_silent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("APP_SETTINGS", raising=False)
    config = Config(".")
    assert config.from_envvar("APP_SETTINGS", silent=True) is False
    with pytest.raises(RuntimeError, match="'APP_SETTINGS' is not set"):
        config.from_envvar("APP_SETTINGS")


def test_from_prefixed_env_parses_json_and_nests_on_double_underscore(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLASK_PORT", "8000")
    monkeypatch.setenv("FLASK_DEBUG_TOOLBAR", "true")
    monkeypatch.setenv("FLASK_NAME", "not json")
    monkeypatch.setenv("FLASK_DB__HOST", '"db.local"')
    monkeypatch.setenv("OTHER_PORT", "1")
    config = Config(".")
    assert config.from_prefixed_env() is True
    assert config["PORT"] == 8000
    assert config["DEBUG_TOOLBAR"] is True
    assert config["NAME"] == "not json"
    assert config["DB"] == {"HOST": "db.local"}
    assert "OTHER_PORT" not in config and "PORT" in config


def test_from_prefixed_env_behaves_like_flasks(monkeypatch: pytest.MonkeyPatch) -> None:
    import flask

    monkeypatch.setenv("MYAPP_A", "[1, 2]")
    monkeypatch.setenv("MYAPP_B__C", "3")
    ours, theirs = Config("."), flask.Config(".")
    ours.from_prefixed_env("MYAPP")
    theirs.from_prefixed_env("MYAPP")
    assert dict(ours) == dict(theirs)


def test_from_mapping_takes_a_mapping_and_keywords_uppercase_only() -> None:
    config = Config(".")
    config.from_mapping({"A": 1, "b": 2}, C=3, d=4)
    assert config == {"A": 1, "C": 3}


def test_from_file_uses_the_given_loader(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"SECRET_KEY": "k", "lower": 1}))
    config = Config(tmp_path)
    assert config.from_file("config.json", load=json.load) is True
    assert config == {"SECRET_KEY": "k"}
    assert config.from_file("nope.json", load=json.load, silent=True) is False


def test_get_namespace_trims_and_lowercases_by_default() -> None:
    config = Config(".", {"IMAGE_STORE_PATH": "/x", "IMAGE_STORE_TYPE": "fs", "OTHER": 1})
    assert config.get_namespace("IMAGE_STORE_") == {"path": "/x", "type": "fs"}
    assert config.get_namespace("IMAGE_STORE_", lowercase=False, trim_namespace=False) == {
        "IMAGE_STORE_PATH": "/x",
        "IMAGE_STORE_TYPE": "fs",
    }


def test_app_attributes_are_views_of_config_keys() -> None:
    app = miniflask.Flask("a")
    app.testing = True
    app.secret_key = "k"
    assert app.config["TESTING"] is True and app.config["SECRET_KEY"] == "k"
    app.config["PERMANENT_SESSION_LIFETIME"] = 60
    assert app.permanent_session_lifetime == timedelta(seconds=60)


def test_flask_debug_environment_variable_sets_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert miniflask.Flask("a").debug is True
    monkeypatch.setenv("FLASK_DEBUG", "false")
    assert miniflask.Flask("a").debug is False


def test_instance_relative_config_resolves_against_instance_path(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "app.cfg").write_text("WHERE = 'instance'\n")
    app = miniflask.Flask(
        "a", instance_path=str(instance), instance_relative_config=True, root_path=str(tmp_path)
    )
    app.config.from_pyfile("app.cfg")
    assert app.config["WHERE"] == "instance"


def test_relative_instance_path_is_rejected() -> None:
    with pytest.raises(ValueError, match="must be absolute"):
        miniflask.Flask("a", instance_path="relative")


def test_from_object_accepts_a_module() -> None:
    # from_object accepts modules as well as classes.
    module = ModuleType("settings")
    module.VALUE = 1  # type: ignore[attr-defined]
    config = Config(".")
    config.from_object(module)
    assert config == {"VALUE": 1}
