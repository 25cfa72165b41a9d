"""The ``miniflask`` command: Flask's ``flask`` command, on click.

Flask counterpart: ``flask/cli.py``.

``miniflask --app hello run --debug`` (or ``python -m miniflask ...``) does
what ``flask --app hello run --debug`` does, with Flask's options, Flask's
environment variables (``FLASK_APP``, ``FLASK_DEBUG``, ``FLASK_RUN_PORT`` ...)
and Flask's names in this package, so ``from flask.cli import FlaskGroup``
works unchanged after :func:`miniflask.install_as_flask`. Flask keeps all of
it in one 1,100-line module; here each job has its own:

* ``discovery.py`` — finding the app: what ``--app`` means
  (:class:`ScriptInfo`, :func:`locate_app`, :func:`find_best_app`).
* ``appgroup.py`` — running a command inside the app:
  :func:`with_appcontext` and :class:`AppGroup`, the class of ``app.cli``.
* ``options.py`` — the options of the command itself: ``--env-file``
  (and :func:`load_dotenv`), ``--app``, ``--debug``, ``--version``.
* ``flaskgroup.py`` — :class:`FlaskGroup`, which offers built-in, plugin
  and app commands; the ``miniflask`` command :data:`cli`; :func:`main`.
* ``commands.py`` — the built-in ``run``, ``shell`` and ``routes``.
* ``trace.py`` — miniflask's own ``trace`` command.

Nothing here is imported by ``import miniflask`` or by serving a request:
``app.cli`` is created on first use (see ``registry.py``), and with it this
package's ``appgroup`` and ``discovery``; the modules of the command line
itself are imported when first asked for (see ``_LAZY``). See ``docs/cli.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .appgroup import AppGroup as AppGroup
from .appgroup import pass_script_info as pass_script_info
from .appgroup import with_appcontext as with_appcontext
from .discovery import NoAppException as NoAppException
from .discovery import ScriptInfo as ScriptInfo
from .discovery import find_app_by_string as find_app_by_string
from .discovery import find_best_app as find_best_app
from .discovery import locate_app as locate_app
from .discovery import prepare_import as prepare_import

if TYPE_CHECKING:  # what __getattr__ below hands out, for type checkers
    from .commands import CertParamType as CertParamType
    from .commands import SeparatedPathType as SeparatedPathType
    from .commands import routes_command as routes_command
    from .commands import run_command as run_command
    from .commands import shell_command as shell_command
    from .commands import show_server_banner as show_server_banner
    from .flaskgroup import FlaskGroup as FlaskGroup
    from .flaskgroup import cli as cli
    from .flaskgroup import main as main
    from .options import get_version as get_version
    from .options import load_dotenv as load_dotenv
    from .trace import trace_command as trace_command

#: The rest of the package, imported when first asked for: a gunicorn worker
#: whose app registers commands builds ``app.cli`` (an ``AppGroup``) and
#: never runs the command line.
# PERF: the plain version imports all of it here; these four modules are
# about 140 KiB of a worker's memory (tracemalloc, docs/perf.md). An
# import-time choice, not a per-request one, so no PLAIN branch: every name
# answers the same either way (tests/miniflask/test_perf.py imports each).
_LAZY = {
    "CertParamType": "commands",
    "SeparatedPathType": "commands",
    "routes_command": "commands",
    "run_command": "commands",
    "shell_command": "commands",
    "show_server_banner": "commands",
    "FlaskGroup": "flaskgroup",
    "cli": "flaskgroup",
    "main": "flaskgroup",
    "get_version": "options",
    "load_dotenv": "options",
    "trace_command": "trace",
}


def __getattr__(name: str) -> Any:
    """``from miniflask.cli import FlaskGroup``: import its module on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
