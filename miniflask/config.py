"""Configuration: a dict with loaders, and Flask's defaults.

Flask counterpart: ``flask/config.py``.

``app.config`` is a plain ``dict`` subclass, so reading a setting costs no more
than a dict lookup. What Flask adds are *loaders* that fill it from the places
settings live in practice — a Python object or module, a ``.py`` file, a file
named by an environment variable, or environment variables with a prefix —
and the convention that only UPPERCASE keys are settings (so a module can hold
helpers and imports beside its settings without polluting the config).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import types
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import IO, Any, Generic, TypeVar, overload

from werkzeug.utils import import_string

T = TypeVar("T")

#: Flask's defaults for every key miniflask reads (same names, same values).
DEFAULT_CONFIG: dict[str, Any] = {
    "DEBUG": None,
    "TESTING": False,
    "PROPAGATE_EXCEPTIONS": None,
    "SECRET_KEY": None,
    "SECRET_KEY_FALLBACKS": None,
    "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
    "USE_X_SENDFILE": False,
    "TRUSTED_HOSTS": None,
    "SERVER_NAME": None,
    "APPLICATION_ROOT": "/",
    "SESSION_COOKIE_NAME": "session",
    "SESSION_COOKIE_DOMAIN": None,
    "SESSION_COOKIE_PATH": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_PARTITIONED": False,
    "SESSION_COOKIE_SAMESITE": None,
    "SESSION_REFRESH_EACH_REQUEST": True,
    "MAX_CONTENT_LENGTH": None,
    "MAX_FORM_MEMORY_SIZE": 500_000,
    "MAX_FORM_PARTS": 1_000,
    "SEND_FILE_MAX_AGE_DEFAULT": None,
    "TRAP_BAD_REQUEST_ERRORS": None,
    "TRAP_HTTP_EXCEPTIONS": False,
    "EXPLAIN_TEMPLATE_LOADING": False,
    "PREFERRED_URL_SCHEME": "http",
    "TEMPLATES_AUTO_RELOAD": None,
    "MAX_COOKIE_SIZE": 4093,
    "PROVIDE_AUTOMATIC_OPTIONS": True,
}


class ConfigAttribute(Generic[T]):
    """An attribute of the app that reads and writes one config key.

    Flask exposes the most used settings as attributes (``app.debug``,
    ``app.testing``, ``app.secret_key``) that are really views of
    ``app.config``, so the two can never disagree.
    """

    def __init__(self, name: str, get_converter: Callable[[Any], T] | None = None) -> None:
        self.__name__ = name
        self.get_converter = get_converter

    @overload
    def __get__(self, obj: None, owner: None) -> ConfigAttribute[T]: ...

    @overload
    def __get__(self, obj: Any, owner: Any) -> T: ...

    def __get__(self, obj: Any, owner: Any = None) -> T | ConfigAttribute[T]:
        if obj is None:
            return self
        value = obj.config[self.__name__]
        if self.get_converter is not None:
            value = self.get_converter(value)
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        obj.config[self.__name__] = value


class Config(dict[str, Any]):
    """A dict of settings with loaders for the usual sources.

    Only UPPERCASE keys are taken by the loaders, so modules and objects can
    hold lower-case helpers next to their settings.

    Example::

        app.config.from_object("myapp.settings.Production")
        app.config.from_prefixed_env()        # FLASK_SECRET_KEY=... overrides

    Args:
        root_path: the folder relative file names are resolved against
            (the app's ``root_path``).
        defaults: initial values.
    """

    def __init__(self, root_path: str | os.PathLike[str], defaults: dict[str, Any] | None = None):
        super().__init__(defaults or {})
        self.root_path = root_path

    def from_envvar(self, variable_name: str, silent: bool = False) -> bool:
        """Load the ``.py`` file whose path is in an environment variable.

        Returns:
            ``True`` if a file was loaded; ``False`` if ``silent`` and the
            variable is unset or the file is missing.

        Raises:
            RuntimeError: the variable is not set (and not ``silent``).
        """
        filename = os.environ.get(variable_name)
        if not filename:
            if silent:
                return False
            raise RuntimeError(
                f"The environment variable {variable_name!r} is not set and as such"
                " configuration could not be loaded. Set this variable and make it"
                " point to a configuration file"
            )
        return self.from_pyfile(filename, silent=silent)

    def from_prefixed_env(
        self, prefix: str = "FLASK", *, loads: Callable[[str], Any] = json.loads
    ) -> bool:
        """Load every environment variable that starts with ``PREFIX_``.

        The prefix is removed and each value is passed through ``loads``
        (JSON by default), so ``FLASK_DEBUG=true`` gives ``True`` and
        ``FLASK_PORT=8000`` gives ``8000``; a value that is not valid JSON
        stays a string. A double underscore reaches into a nested dict:
        ``FLASK_DB__HOST=x`` sets ``config["DB"]["HOST"]``.

        Returns:
            Always ``True``.
        """
        prefix = f"{prefix}_"
        for key in sorted(os.environ):
            if not key.startswith(prefix):
                continue
            value: Any = os.environ[key]
            # A value that is not JSON stays the raw string, as in Flask.
            with contextlib.suppress(Exception):
                value = loads(value)
            self._set_nested(key.removeprefix(prefix), value)
        return True

    def _set_nested(self, key: str, value: Any) -> None:
        if "__" not in key:
            self[key] = value
            return
        *parents, tail = key.split("__")
        current: dict[str, Any] = self
        for part in parents:
            current = current.setdefault(part, {})
        current[tail] = value

    def from_pyfile(self, filename: str | os.PathLike[str], silent: bool = False) -> bool:
        """Execute a Python file and load its UPPERCASE names.

        Relative names are resolved against ``root_path``.

        Returns:
            ``True`` if loaded; ``False`` if ``silent`` and the file is missing.
        """
        filename = os.path.join(self.root_path, filename)
        module = types.ModuleType("config")
        module.__file__ = filename
        try:
            with open(filename, mode="rb") as config_file:
                exec(compile(config_file.read(), filename, "exec"), module.__dict__)
        except OSError as e:
            if silent and e.errno in (errno.ENOENT, errno.EISDIR, errno.ENOTDIR):
                return False
            e.strerror = f"Unable to load configuration file ({e.strerror})"
            raise
        self.from_object(module)
        return True

    def from_object(self, obj: object | str) -> None:
        """Load the UPPERCASE attributes of an object, a class or a module.

        A string is imported first (``"myapp.settings.Production"``).
        """
        if isinstance(obj, str):
            obj = import_string(obj)
        for key in dir(obj):
            if key.isupper():
                self[key] = getattr(obj, key)

    def from_file(
        self,
        filename: str | os.PathLike[str],
        load: Callable[[IO[Any]], Mapping[str, Any]],
        silent: bool = False,
        text: bool = True,
    ) -> bool:
        """Load a data file (JSON, TOML ...) with the given ``load`` function.

        Example::

            import tomllib
            app.config.from_file("config.toml", load=tomllib.load, text=False)
        """
        filename = os.path.join(self.root_path, filename)
        try:
            with open(filename, "r" if text else "rb") as data_file:
                data = load(data_file)
        except OSError as e:
            if silent and e.errno in (errno.ENOENT, errno.EISDIR):
                return False
            e.strerror = f"Unable to load configuration file ({e.strerror})"
            raise
        return self.from_mapping(data)

    def from_mapping(self, mapping: Mapping[str, Any] | None = None, **kwargs: Any) -> bool:
        """Load the UPPERCASE keys of a mapping and/or keyword arguments.

        Returns:
            Always ``True``.
        """
        items: dict[str, Any] = {}
        if mapping is not None:
            items.update(mapping)
        items.update(kwargs)
        for key, value in items.items():
            if key.isupper():
                self[key] = value
        return True

    def get_namespace(
        self, namespace: str, lowercase: bool = True, trim_namespace: bool = True
    ) -> dict[str, Any]:
        """Return the settings whose keys start with ``namespace``.

        Example::

            app.config["IMAGE_STORE_PATH"] = "/var/images"
            app.config.get_namespace("IMAGE_STORE_")   # {"path": "/var/images"}

        Args:
            namespace: the key prefix, e.g. ``"IMAGE_STORE_"``.
            lowercase: lowercase the returned keys (handy as keyword arguments).
            trim_namespace: drop the prefix from the returned keys.
        """
        found: dict[str, Any] = {}
        for key, value in self.items():
            if not key.startswith(namespace):
                continue
            name = key[len(namespace) :] if trim_namespace else key
            found[name.lower() if lowercase else name] = value
        return found

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {dict.__repr__(self)}>"
