"""Running code that imports ``flask``: :func:`install_as_flask`.

Flask counterpart: none. This is the switch PyMySQL offers as
``pymysql.install_as_MySQLdb()``: after it, ``import flask`` gives the
``miniflask`` package and ``import flask.cli`` (or any ``flask.x``) gives
``miniflask.cli`` (``miniflask.x``), so an unchanged Flask extension or app
runs on miniflask::

    import miniflask
    miniflask.install_as_flask()

    from flask import Flask            # miniflask.Flask
    from flask_cors import CORS        # Flask-Cors, unchanged, on miniflask

How it works: Python's import system asks each *finder* on
:data:`sys.meta_path` in turn where a module named ``flask.json.tag`` lives.
The finder below answers for ``flask`` and every ``flask.x``: it imports
``miniflask.x`` and hands back that very module object, so ``flask.json`` and
``miniflask.json`` are one object and a class identity check
(``isinstance(rv, flask.Response)``) holds in both spellings.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType

_ALIAS = "flask"
_TARGET = "miniflask"


def install_as_flask() -> None:
    """Make ``import flask`` and every ``import flask.x`` resolve to miniflask.

    Call it before anything imports Flask. Calling it twice is harmless.

    Raises:
        RuntimeError: the real Flask was imported already; modules that hold
            its classes would mix two frameworks in one process.
    """
    if any(isinstance(finder, _FlaskAliasFinder) for finder in sys.meta_path):
        return
    loaded = sys.modules.get(_ALIAS)
    if loaded is not None and loaded is not sys.modules[_TARGET]:
        raise RuntimeError(
            "install_as_flask() must run before Flask is imported: 'flask' is already"
            f" loaded from {getattr(loaded, '__file__', '?')}"
        )
    # First on the path, so the real Flask, if installed, is never found.
    sys.meta_path.insert(0, _FlaskAliasFinder())
    sys.modules[_ALIAS] = sys.modules[_TARGET]


class _FlaskAliasFinder(importlib.abc.MetaPathFinder):
    """Answers ``flask.x`` with the module ``miniflask.x``."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _ALIAS and not fullname.startswith(_ALIAS + "."):
            return None
        target_name = _TARGET + fullname[len(_ALIAS) :]
        try:
            module = importlib.import_module(target_name)
        except ModuleNotFoundError as error:
            if error.name == target_name:
                return None  # no such module: the usual ModuleNotFoundError follows
            raise
        return importlib.util.spec_from_loader(fullname, _ExistingModuleLoader(module))


class _ExistingModuleLoader(importlib.abc.Loader):
    """A loader whose module is one that is loaded already."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.own_spec = module.__spec__

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        # The import system keeps a module's own __name__ and __file__ when
        # they are set, so miniflask.json stays itself. Not __spec__: see below.
        return self.module

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run (the module ran when miniflask imported it); restore its spec.

        The import system always sets ``__spec__`` to the spec it loaded,
        ``flask.json``'s. Left so, ``__spec__.parent`` ("flask") would
        disagree with ``__package__`` ("miniflask"), and every relative
        import inside a function of that module would warn (ImportWarning).
        """
        module.__spec__ = self.own_spec
