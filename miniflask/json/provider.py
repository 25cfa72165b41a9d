"""JSON providers: the object behind ``app.json``.

Flask counterpart: ``flask/json/provider.py``.

Flask routes every JSON operation — ``jsonify``, returning a dict from a view,
``request.get_json()``, the ``|tojson`` template filter — through one object,
``app.json``. Replacing that object (``app.json = MyProvider(app)``) changes
how the whole app reads and writes JSON, say to use ``orjson``, without
touching any view.

:class:`JSONProvider` is the interface; :class:`DefaultJSONProvider` is
Flask's default, the standard library's ``json`` plus what web apps return
all the time: dates (as HTTP dates, RFC 9110 §5.6.7), ``Decimal``, ``UUID``,
dataclasses, and objects with ``__html__`` (``markupsafe.Markup``).
"""

from __future__ import annotations

import dataclasses
import decimal
import json as _json
import uuid
import weakref
from datetime import date
from typing import IO, TYPE_CHECKING, Any, cast

from werkzeug.http import http_date

from ..perf import PLAIN

if TYPE_CHECKING:
    from ..app import Flask
    from ..wrappers import Response


class JSONProvider:
    """The interface every JSON provider offers; ``app.json`` is one.

    Subclasses implement :meth:`dumps` and :meth:`loads`; the rest is built
    on them.

    Args:
        app: the application this provider serves (for its response class
            and debug flag).
    """

    def __init__(self, app: Flask) -> None:
        # A weak reference: the app holds its provider (``app.json``), and a
        # strong one back would be a cycle that keeps a discarded app alive
        # until the garbage collector runs.
        self._app = cast("Flask", weakref.proxy(app))

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialise ``obj`` to a JSON string."""
        raise NotImplementedError

    def dump(self, obj: Any, fp: IO[str], **kwargs: Any) -> None:
        """Serialise ``obj`` and write it to a text file."""
        fp.write(self.dumps(obj, **kwargs))

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse a JSON document."""
        raise NotImplementedError

    def load(self, fp: IO[Any], **kwargs: Any) -> Any:
        """Read and parse a JSON document from a file."""
        return self.loads(fp.read(), **kwargs)

    def _prepare_response_obj(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        # jsonify(1, 2) -> [1, 2]; jsonify(a=1) -> {"a": 1}; mixing is ambiguous.
        if args and kwargs:
            raise TypeError("app.json.response() takes either args or kwargs, not both")
        if not args and not kwargs:
            return None
        if len(args) == 1:
            return args[0]
        return args or kwargs

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """Serialise the arguments and wrap them in an ``application/json`` response."""
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self.dumps(obj), mimetype="application/json")


def _default(o: Any) -> Any:
    """Turn the types the standard library refuses into JSON-friendly values."""
    if isinstance(o, date):
        return http_date(o)
    if isinstance(o, (decimal.Decimal, uuid.UUID)):
        return str(o)
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    if hasattr(o, "__html__"):
        return str(o.__html__())
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


class DefaultJSONProvider(JSONProvider):
    """Flask's default provider: the standard library's ``json`` with sane web defaults.

    The class attributes are settings; change them on ``app.json``::

        app.json.sort_keys = False
        app.json.compact = True
    """

    #: Called for objects ``json`` cannot serialise itself.
    default = staticmethod(_default)
    #: Escape non-ASCII characters, so the output is safe in any encoding.
    ensure_ascii = True
    #: Sort keys, so equal data gives byte-equal output (and cacheable ETags).
    sort_keys = True
    #: ``None``: indented in debug mode, compact otherwise; ``True``/``False`` force it.
    compact: bool | None = None
    #: The media type of :meth:`response`.
    mimetype = "application/json"

    def __init__(self, app: Flask) -> None:
        super().__init__(app)
        self._encoders: dict[tuple[Any, ...], _json.JSONEncoder] = {}

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialise ``obj`` with the standard library, using this provider's settings.

        Keyword arguments are those of :func:`json.dumps` and win over the
        settings (``app.json.dumps(obj, sort_keys=False)``).
        """
        # PERF: see _encoder. Plain version (PLAIN): json.dumps, as Flask calls it.
        if not PLAIN and (not kwargs or kwargs.keys() <= {"indent", "separators"}):
            return self._encoder(kwargs.get("indent"), kwargs.get("separators")).encode(obj)
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return _json.dumps(obj, **kwargs)

    def _encoder(self, indent: int | None, separators: tuple[str, str] | None) -> _json.JSONEncoder:
        """A ``JSONEncoder`` for the current settings, built once and reused."""
        # PERF: json.dumps() with any non-default argument builds a new
        # JSONEncoder per call; reusing one per combination of settings: 2.17
        # against 2.46 µs for a small document (encoder.encode(...) against
        # json.dumps(..., default=..., sort_keys=True, separators=...), CPU
        # time, median of 11 interleaved rounds, docs/perf.md). The key
        # includes the settings, so `app.json.sort_keys = False` still takes
        # effect at once. Plain version (PLAIN): the json.dumps call at the
        # end of dumps().
        key = (self.default, self.ensure_ascii, self.sort_keys, indent, separators)
        encoder = self._encoders.get(key)
        if encoder is None:
            encoder = _json.JSONEncoder(
                default=self.default,
                ensure_ascii=self.ensure_ascii,
                sort_keys=self.sort_keys,
                indent=indent,
                separators=separators,
            )
            self._encoders[key] = encoder
        return encoder

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse with the standard library; keyword arguments are :func:`json.loads`'s."""
        return _json.loads(s, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """Serialise the arguments into a JSON response ending with a newline.

        The trailing newline keeps terminals tidy when the response is
        printed by ``curl``, as Flask's does.
        """
        obj = self._prepare_response_obj(args, kwargs)
        if (self.compact is None and self._app.debug) or self.compact is False:
            body = self.dumps(obj, indent=2)
        else:
            body = self.dumps(obj, separators=(",", ":"))
        return self._app.response_class(f"{body}\n", mimetype=self.mimetype)
