"""Finding the application: what ``--app`` means, and :class:`ScriptInfo`, which remembers it.

Flask counterpart: the first half of ``flask/cli.py`` (``NoAppException`` to
``ScriptInfo``).

The ``miniflask`` command is installed with miniflask, not with your app, so
before any command that needs the app it has to find it. The user says where
with ``--app`` (or ``FLASK_APP``); :class:`ScriptInfo` keeps that text and
turns it into an app the first time a command asks, following Flask's rules:

1. :func:`prepare_import` turns the module part (``hello``, ``src/hello.py``,
   ``blog.web``) into an importable name and puts its folder on ``sys.path``.
2. :func:`locate_app` imports it.
3. :func:`find_app_by_string` reads the part after the colon (``app2``,
   ``create_app("dev")``), or :func:`find_best_app` guesses when there is none.

Without ``--app``, a ``wsgi.py`` and then an ``app.py`` in the current folder
are tried.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import os
import re
import sys
import traceback
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, overload

import click

from ..helpers import get_debug_flag, get_load_dotenv

if TYPE_CHECKING:
    from ..app import Flask


class NoAppException(click.UsageError):
    """The application could not be found or created; the message says why.

    It is a :class:`click.UsageError`, as in Flask: a wrong ``--app`` is a
    wrong command line, so click prints ``Error: <message>`` under the usage
    line and exits with status 2, without a traceback.
    """


class ScriptInfo:
    """What a command needs to load the app, and the app once loaded.

    :class:`~miniflask.cli.FlaskGroup` makes one per command line and hands
    it to every command as click's context object (``ctx.obj``); a command
    calls :meth:`load_app` when, and only if, it needs the app. That is why
    ``miniflask --help`` works in a folder without an app.

    Example::

        info = ScriptInfo(app_import_path="hello:create_app('dev')")
        app = info.load_app()          # imported and created once
        assert info.load_app() is app

    Args:
        app_import_path: the ``--app`` text: ``module``, ``path/to/file.py``,
            ``module:name`` or ``module:factory(literal args)``.
        create_app: a function returning the app; when given, it is used
            instead of ``app_import_path`` (see ``FlaskGroup(create_app=...)``).
        set_debug_flag: set ``app.debug`` from ``FLASK_DEBUG`` (which the
            ``--debug`` option sets) after loading.
        load_dotenv_defaults: whether the command line should load ``.env``
            and ``.flaskenv``; ``FLASK_SKIP_DOTENV`` can turn it off.
            ScriptInfo loads nothing itself; the ``--env-file`` option reads this.
    """

    def __init__(
        self,
        app_import_path: str | None = None,
        create_app: Callable[..., Flask] | None = None,
        set_debug_flag: bool = True,
        load_dotenv_defaults: bool = True,
    ) -> None:
        self.app_import_path = app_import_path
        self.create_app = create_app
        #: Free space for whatever a command line wants to share between commands.
        self.data: dict[Any, Any] = {}
        self.set_debug_flag = set_debug_flag
        self.load_dotenv_defaults = get_load_dotenv(load_dotenv_defaults)
        self._loaded_app: Flask | None = None

    def load_app(self) -> Flask:
        """Find or create the app the first time; return the same app afterwards.

        Raises:
            NoAppException: nothing says where the app is, or it is not there.
        """
        if self._loaded_app is not None:
            return self._loaded_app
        app = self._find_app()
        if app is None:
            raise NoAppException(
                "Could not locate a Flask application. Use the '--app' option,"
                " the 'FLASK_APP' environment variable, or a 'wsgi.py' or 'app.py'"
                " file in the current directory."
            )
        if self.set_debug_flag:
            # Through the property, so that what follows from debug mode
            # (template auto-reload) follows too.
            app.debug = get_debug_flag()
        self._loaded_app = app
        return app

    def _find_app(self) -> Flask | None:
        """The factory's app, the one ``--app`` names, or one in ``wsgi.py``/``app.py``."""
        if self.create_app is not None:
            return self.create_app()
        if self.app_import_path:
            path, name = _split_app_import_path(self.app_import_path)
            return locate_app(prepare_import(path), name)
        for file_name in ("wsgi.py", "app.py"):
            app = locate_app(prepare_import(file_name), None, raise_if_not_found=False)
            if app is not None:
                return app
        return None


def _split_app_import_path(text: str) -> tuple[str, str | None]:
    """``"src/hello.py:create_app('dev')"`` -> ``("src/hello.py", "create_app('dev')")``.

    The first colon separates the two parts, except a colon followed by a
    slash or backslash: that is a Windows drive (``C:\\src\\hello.py``).
    """
    match = re.search(r":(?![\\/])", text)
    if match is None:
        return text, None
    return text[: match.start()], text[match.end() :]


def prepare_import(path: str | os.PathLike[str]) -> str:
    """Turn a file path or module name into an importable module name.

    A file path (``src/blog/app.py``) becomes its dotted module name
    (``blog.app`` when ``src/blog`` is a package), and the folder above the
    outermost package is put first on ``sys.path`` so the import succeeds.
    A plain module name (``hello``) is imported from the current folder.

    Returns:
        The dotted module name to import.
    """
    path = os.path.realpath(path)
    base, extension = os.path.splitext(path)
    if extension == ".py":
        path = base
    if os.path.basename(path) == "__init__":
        path = os.path.dirname(path)
    names: list[str] = []
    # Climb while the folder is a package, collecting the dotted name.
    while True:
        path, name = os.path.split(path)
        names.append(name)
        if not os.path.exists(os.path.join(path, "__init__.py")):
            break
    if not sys.path or sys.path[0] != path:
        sys.path.insert(0, path)
    return ".".join(reversed(names))


@overload
def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: Literal[True] = True
) -> Flask: ...


@overload
def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: bool = ...
) -> Flask | None: ...


def locate_app(
    module_name: str, app_name: str | None, raise_if_not_found: bool = True
) -> Flask | None:
    """Import ``module_name`` and get the app from it.

    Args:
        module_name: the dotted module name (see :func:`prepare_import`).
        app_name: the text after the colon of ``--app``, or ``None`` to
            let :func:`find_best_app` look.
        raise_if_not_found: when ``False``, a module that does not exist
            gives ``None`` (how ``wsgi.py`` and ``app.py`` are tried).

    Raises:
        NoAppException: the module does not exist, an import *inside* it
            failed (reported with its traceback, whatever
            ``raise_if_not_found`` says), or it holds no app.
    """
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        if not _is_missing_module(e, module_name):
            raise NoAppException(
                f"While importing {module_name!r}, an ImportError was raised:"
                f"\n\n{traceback.format_exc()}"
            ) from None
        if raise_if_not_found:
            raise NoAppException(f"Could not import {module_name!r}.") from None
        return None
    if app_name is None:
        return find_best_app(module)
    return find_app_by_string(module, app_name)


def _is_missing_module(error: ImportError, module_name: str) -> bool:
    """Whether ``error`` says ``module_name`` itself (or a parent package) does not exist.

    Any other ``ImportError`` came from inside the module, a missing
    dependency for instance, and the user must see it as such.
    """
    # Flask: Flask tells the two apart by the depth of the traceback; the
    # name Python records on ModuleNotFoundError answers the same question.
    if not isinstance(error, ModuleNotFoundError) or error.name is None:
        return False
    return module_name == error.name or module_name.startswith(f"{error.name}.")


def find_best_app(module: ModuleType) -> Flask:
    """Find the app in a module when ``--app`` names no attribute.

    In order: an attribute called ``app`` or ``application``; the only app
    object in the module; a factory called ``create_app`` or ``make_app``,
    called without arguments.

    Raises:
        NoAppException: none found, several found, or the factory needs arguments.
    """
    from ..app import Flask

    for name in ("app", "application"):
        candidate = getattr(module, name, None)
        if isinstance(candidate, Flask):
            return candidate

    apps = [value for value in vars(module).values() if isinstance(value, Flask)]
    if len(apps) == 1:
        return apps[0]
    if len(apps) > 1:
        raise NoAppException(
            f"Detected multiple Flask applications in module {module.__name__!r}."
            f" Use '{module.__name__}:name' to specify the correct one."
        )

    for name in ("create_app", "make_app"):
        factory = getattr(module, name, None)
        if inspect.isfunction(factory):
            if not _accepts(factory, (), {}):
                raise NoAppException(
                    f"Detected factory {name!r} in module {module.__name__!r}, but could"
                    f" not call it without arguments. Use '{module.__name__}:{name}(args)'"
                    " to specify arguments."
                )
            app = factory()
            if isinstance(app, Flask):
                return app

    raise NoAppException(
        f"Failed to find Flask application or factory in module {module.__name__!r}."
        f" Use '{module.__name__}:name' to specify one."
    )


def _accepts(function: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> bool:
    """Whether ``function(*args, **kwargs)`` fits the function's signature."""
    # Flask: Flask calls the factory, and on a TypeError walks the traceback
    # to tell "wrong arguments" from "a bug inside the factory". Binding the
    # arguments to the signature first answers the same question without
    # calling anything, so a TypeError from the factory's body propagates.
    try:
        inspect.signature(function).bind(*args, **kwargs)
    except TypeError:
        return False
    return True


def find_app_by_string(module: ModuleType, app_name: str) -> Flask:
    """Get the app named after the colon: ``name`` or ``factory(literal args)``.

    The text is parsed with :mod:`ast` and the arguments are read with
    :func:`ast.literal_eval`, so ``--app`` can never run arbitrary code:
    ``create_app("dev", debug=True)`` is allowed, ``create_app(os.getcwd())``
    is not.

    Raises:
        NoAppException: the text is not a name or a call with literal
            arguments, the attribute is missing, or it is not an app.
    """
    from ..app import Flask

    name, args, kwargs = _parse_app_name(app_name)
    try:
        attribute = getattr(module, name)
    except AttributeError:
        raise NoAppException(f"Failed to find attribute {name!r} in {module.__name__!r}.") from None

    if inspect.isfunction(attribute):
        if not _accepts(attribute, args, kwargs):
            raise NoAppException(
                f"The factory {app_name!r} in module {module.__name__!r} could not be"
                " called with the specified arguments."
            )
        attribute = attribute(*args, **kwargs)
    if isinstance(attribute, Flask):
        return attribute
    raise NoAppException(
        f"A valid Flask application was not obtained from '{module.__name__}:{app_name}'."
    )


def _parse_app_name(app_name: str) -> tuple[str, list[Any], dict[str, Any]]:
    """Split ``create_app('dev', debug=True)`` into the name and its literal arguments."""
    try:
        expression = ast.parse(app_name.strip(), mode="eval").body
    except SyntaxError:
        expression = None
    if isinstance(expression, ast.Name):
        return expression.id, [], {}
    if not isinstance(expression, ast.Call):
        raise NoAppException(f"Failed to parse {app_name!r} as an attribute name or function call.")
    if not isinstance(expression.func, ast.Name):
        raise NoAppException(f"Function reference must be a simple name: {app_name!r}.")
    try:
        args = [ast.literal_eval(arg) for arg in expression.args]
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in expression.keywords if kw.arg}
    except ValueError:
        raise NoAppException(
            f"Failed to parse arguments as literal values: {app_name!r}."
        ) from None
    return expression.func.id, args, kwargs
