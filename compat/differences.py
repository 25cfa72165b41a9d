"""Deliberate differences: tests that pass on Flask and fail on miniflask on purpose.

Keyed by suite (its command-line name, ``flask``, ``flask-login``…), then by
pytest node id. An entry may name a test without its parameters
(``tests/test_json.py::test_dump_load_unchanged``) to cover every case of it.
The explanation is shown on docs/compat.md in place of the failure, and a
test listed here does not fail ``make compat``.

Add an entry only for behaviour miniflask chose not to copy, with a
``# Flask:`` comment at the code that differs; a missing feature or a bug is
not a deliberate difference, and stays on the page as "not yet fixed".
"""

from __future__ import annotations

_SERVER_NAME_WARNING = (
    "Werkzeug's 'Current server name' warning is attributed to miniflask.routing, not"
    " flask.app, so the test's filter for flask.app does not catch it and pytest makes it an"
    " error (miniflask/routing.py, bind_to_environ); with the filter pointed at"
    " miniflask.routing the test passes"
)

DELIBERATE_DIFFERENCES: dict[str, dict[str, str]] = {
    "flask": {
        "tests/test_appctx.py::test_app_ctx_globals_methods": (
            "repr(g) names the framework that made it, '<miniflask.g of ...>'"
            " (miniflask/ctx.py, _AppCtxGlobals.__repr__); the repr is the test's last check"
        ),
        "tests/test_basic.py::test_server_name_subdomain": _SERVER_NAME_WARNING,
        "tests/test_basic.py::test_subdomain_matching_other_name": _SERVER_NAME_WARNING,
        "tests/test_cli.py::test_get_version": (
            "The --version option prints miniflask's version, not Flask's, even where Flask is"
            " installed (miniflask/cli/options.py, get_version)"
        ),
    },
}
