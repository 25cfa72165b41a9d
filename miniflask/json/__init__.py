"""JSON: the functions that read and write JSON with the current app's settings.

Flask counterpart: ``flask/json/__init__.py``.

The package has three parts, as Flask's does:

* this module: ``dumps``, ``loads``, ``dump``, ``load`` and ``jsonify``. Inside
  an app context each hands the work to ``current_app.json``, the app's JSON
  provider, so a view, an extension and the template filter ``|tojson`` all
  write JSON the way the app is configured to. Outside one they fall back to
  the standard library's ``json`` with the default provider's extra types.
* ``provider.py``: :class:`~miniflask.json.provider.JSONProvider` and the
  default provider, which ``app.json`` is an instance of.
* ``tag.py``: the tagged JSON that keeps tuples, bytes, dates ... intact in
  the session cookie.

Where a request meets it: a view returning a dict or calling :func:`jsonify`
(``Flask.make_response`` calls ``app.json.response``), and
``request.get_json()``, which parses with ``app.json.loads``.
"""

from __future__ import annotations

import json as _json
from typing import IO, TYPE_CHECKING, Any

from ..globals import _cv_app, current_app
from .provider import _default

if TYPE_CHECKING:
    from ..wrappers import Response


def dumps(obj: Any, **kwargs: Any) -> str:
    """Serialise ``obj`` to a JSON string.

    With an app context, ``current_app.json.dumps`` does it, so the app's
    settings (``sort_keys``, ``ensure_ascii``, a custom provider) apply.
    Without one, :func:`json.dumps` does, still accepting dates, ``Decimal``,
    ``UUID``, dataclasses and ``Markup``.

    Args:
        obj: the value to serialise.
        **kwargs: passed on to the provider's or the standard library's ``dumps``.
    """
    app_ctx = _cv_app.get(None)
    if app_ctx is not None:
        return app_ctx.app.json.dumps(obj, **kwargs)
    kwargs.setdefault("default", _default)
    return _json.dumps(obj, **kwargs)


def dump(obj: Any, fp: IO[str], **kwargs: Any) -> None:
    """Serialise ``obj`` as JSON into a text file, like :func:`dumps` chooses how.

    Example::

        with open("export.json", "w") as f:
            json.dump(posts, f)
    """
    app_ctx = _cv_app.get(None)
    if app_ctx is not None:
        app_ctx.app.json.dump(obj, fp, **kwargs)
        return
    kwargs.setdefault("default", _default)
    _json.dump(obj, fp, **kwargs)


def loads(s: str | bytes, **kwargs: Any) -> Any:
    """Parse a JSON document: ``current_app.json.loads`` in an app context, else ``json.loads``."""
    app_ctx = _cv_app.get(None)
    if app_ctx is not None:
        return app_ctx.app.json.loads(s, **kwargs)
    return _json.loads(s, **kwargs)


def load(fp: IO[Any], **kwargs: Any) -> Any:
    """Read and parse a JSON document from a file, choosing the parser as :func:`loads` does."""
    app_ctx = _cv_app.get(None)
    if app_ctx is not None:
        return app_ctx.app.json.load(fp, **kwargs)
    return _json.load(fp, **kwargs)


def jsonify(*args: Any, **kwargs: Any) -> Response:
    """Return a JSON response for the arguments, using ``current_app.json``.

    ``jsonify(obj)`` serialises ``obj``; several positional arguments become a
    list, keyword arguments a dict. Views may also simply return a dict or a
    list, which Flask turns into the same response.

    Example::

        @app.get("/users/<int:id>")
        def user(id):
            return jsonify(id=id, name="ada")

    Raises:
        TypeError: both positional and keyword arguments were given.
        RuntimeError: outside an app context.
    """
    return current_app.json.response(*args, **kwargs)
