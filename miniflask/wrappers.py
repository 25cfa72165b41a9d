"""The request and response objects: Werkzeug's, plus what routing attaches.

Flask counterpart: ``flask/wrappers.py``.

Werkzeug already parses everything HTTP: headers, query strings, forms, files,
cookies, conditional requests. Flask's subclasses only add what the framework
knows and Werkzeug cannot: which URL rule matched, which blueprint owns it,
the app's JSON provider, and the app's size limits.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from http import HTTPStatus
from typing import IO, TYPE_CHECKING, Any, NoReturn

from werkzeug.datastructures import Headers
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.utils import cached_property, get_content_type
from werkzeug.wrappers import Request as RequestBase
from werkzeug.wrappers import Response as ResponseBase
from werkzeug.wsgi import LimitedStream, get_content_length

from . import json
from .globals import _cv_app
from .perf import PLAIN

if TYPE_CHECKING:
    from werkzeug.routing import Rule


@lru_cache(maxsize=1024)
def blueprint_chain(endpoint: str | None) -> tuple[str, ...]:
    """The blueprints owning ``endpoint``, innermost first: ``"a.b.view"`` → ``("a.b", "a")``.

    Hooks and handlers are looked up along this chain several times per
    request, and an app has few endpoints, so the answer is cached (Flask
    caches its ``_split_blueprint_path`` the same way).
    """
    if endpoint is None or "." not in endpoint:
        return ()
    parts = endpoint.split(".")[:-1]
    return tuple(".".join(parts[:i]) for i in range(len(parts), 0, -1))


class Request(RequestBase):
    """The request object a view sees as ``request``.

    Routing fills in :attr:`url_rule` and :attr:`view_args` when the request
    context is pushed; if matching failed, the error waits in
    :attr:`routing_exception` and is raised when the view would have run,
    so that ``before_request`` functions still see every request.
    """

    #: The JSON provider ``get_json`` parses with; the request context sets
    #: it to ``app.json``.
    json_module: Any = json

    #: The :class:`~werkzeug.routing.Rule` that matched, or ``None``.
    url_rule: Rule | None = None

    #: The values the URL rule captured, e.g. ``{"post_id": 3}``.
    view_args: dict[str, Any] | None = None

    #: A 404/405/redirect raised by URL matching, kept for ``dispatch_request``.
    routing_exception: HTTPException | None = None

    _max_content_length: int | None = None
    _max_form_memory_size: int | None = None
    _max_form_parts: int | None = None

    @property
    def max_content_length(self) -> int | None:
        """``MAX_CONTENT_LENGTH`` of the current app: a larger body gives 413."""
        if self._max_content_length is not None:
            return self._max_content_length
        return self._config_value("MAX_CONTENT_LENGTH", RequestBase.max_content_length)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    @property
    def max_form_memory_size(self) -> int | None:
        """``MAX_FORM_MEMORY_SIZE``: the largest non-file form field, in bytes."""
        if self._max_form_memory_size is not None:
            return self._max_form_memory_size
        return self._config_value("MAX_FORM_MEMORY_SIZE", RequestBase.max_form_memory_size)

    @max_form_memory_size.setter
    def max_form_memory_size(self, value: int | None) -> None:
        self._max_form_memory_size = value

    @property  # type: ignore[override]  # Werkzeug's is a plain attribute
    def max_form_parts(self) -> int | None:
        """``MAX_FORM_PARTS``: the most fields a multipart form may have."""
        if self._max_form_parts is not None:
            return self._max_form_parts
        return self._config_value("MAX_FORM_PARTS", RequestBase.max_form_parts)

    @max_form_parts.setter
    def max_form_parts(self, value: int | None) -> None:
        self._max_form_parts = value

    @staticmethod
    def _config_value(key: str, default: int | None) -> Any:
        # Outside an app context (a Request built by hand) Werkzeug's own
        # limits apply, as in Flask; `None` there would mean "no limit".
        app_ctx = _cv_app.get(None)
        return default if app_ctx is None else app_ctx.app.config[key]

    @property
    def endpoint(self) -> str | None:
        """The endpoint of the matched rule, e.g. ``"blog.show_post"``."""
        return self.url_rule.endpoint if self.url_rule is not None else None

    @property
    def blueprint(self) -> str | None:
        """The name of the blueprint that owns the endpoint (dotted when nested)."""
        endpoint = self.endpoint
        if endpoint is not None and "." in endpoint:
            return endpoint.rpartition(".")[0]
        return None

    @property
    def blueprints(self) -> list[str]:
        """The blueprint and its parents, innermost first: ``["a.b", "a"]``.

        Hooks and error handlers are looked up along this chain, so a nested
        blueprint inherits its parents' behaviour.
        """
        return list(blueprint_chain(self.endpoint))

    @cached_property
    def stream(self) -> IO[bytes]:
        """The body as a stream that never reads past its end (Werkzeug's ``stream``).

        Werkzeug wraps ``wsgi.input`` in a ``LimitedStream`` that stops at
        ``Content-Length``, or at ``MAX_CONTENT_LENGTH`` (413 when a body
        goes beyond) for a server that ends the stream itself. A body of known
        length gets a :class:`_BodyStream`, the same guard, which reads the
        body whole in one call; every other case is Werkzeug's.
        """
        environ = self.environ
        content_length = get_content_length(environ)
        max_length = self.max_content_length
        # PERF: see _BodyStream.readall. Plain version (PLAIN): Werkzeug's stream.
        if (
            PLAIN
            or self.shallow
            or content_length is None
            or (max_length is not None and content_length > max_length)
            or "wsgi.input_terminated" in environ
        ):
            return super().stream
        return _BodyStream(environ["wsgi.input"], content_length)  # type: ignore[return-value]  # a binary stream; Werkzeug casts its LimitedStream too

    def _load_form_data(self) -> None:
        """Parse the body into ``form`` and ``files`` (Werkzeug), with Flask's debug aid.

        In debug mode, a body that was not ``multipart/form-data`` gets a
        ``files`` dict whose missing keys raise
        :class:`~miniflask.debughelpers.DebugFilesKeyError`, which names the
        form's missing ``enctype`` when the view asks for a file that was
        sent as a plain field.
        """
        super()._load_form_data()
        app_ctx = _cv_app.get(None)
        if (
            app_ctx is not None
            and app_ctx.app.debug
            and self.mimetype != "multipart/form-data"
            and not self.files
        ):
            from .debughelpers import attach_enctype_error_multidict

            attach_enctype_error_multidict(self)

    def on_json_loading_failed(self, e: ValueError | None) -> NoReturn:
        """Raise the HTTP error for a body that could not be read as JSON.

        Werkzeug raises 415 Unsupported Media Type when the content type is
        not JSON, and 400 Bad Request when the body is malformed. Flask hides
        the parser's message outside debug mode: it may echo the client's
        input, which does not belong in a production error page.
        """
        try:
            super().on_json_loading_failed(e)
        except BadRequest as error:
            app_ctx = _cv_app.get(None)
            if app_ctx is not None and app_ctx.app.debug:
                raise
            raise BadRequest() from error
        raise AssertionError("unreachable: Werkzeug's on_json_loading_failed always raises")


class _BodyStream(LimitedStream):
    """Werkzeug's ``LimitedStream`` over a body of known length, read whole at once."""

    def readall(self) -> bytes:
        """The rest of the body, as Werkzeug's ``readall`` returns it."""
        # PERF: Werkzeug reads in 64 KiB steps through io.RawIOBase, which
        # allocates a 64 KiB buffer for each step and copies what it got,
        # then tries once more; for a small JSON body that is most of
        # `request.get_json()`. Asking the server's stream for exactly what
        # is left is one call. A short read (a client gone, or a socket
        # giving part of the body) goes on the Werkzeug way, which reads the
        # rest or raises ClientDisconnected. The POST scenario took 36.0 µs
        # instead of 39.2 (CPU time, median of 11 interleaved rounds).
        # Plain version (PLAIN, see Request.stream): Werkzeug's Request.stream,
        # a LimitedStream.
        remaining = self.limit - self._pos
        if remaining <= 0:
            return super().readall()
        try:
            body: bytes = self._stream.read(remaining)
        except (OSError, ValueError) as e:
            self.on_disconnect(error=e)
            return b""
        self._pos += len(body)
        if len(body) < remaining:
            return body + super().readall()
        return body


#: The bodies Werkzeug stores as one chunk (``set_data``); str is encoded as UTF-8.
_BUFFERED_BODIES = (str, bytes)


@lru_cache(maxsize=64)
def _content_type(mimetype: str) -> str:
    """The ``Content-Type`` for a mimetype: ``text/html`` → ``text/html; charset=utf-8``."""
    return get_content_type(mimetype, "utf-8")


#: Headers whose values Werkzeug rewrites before sending (IRIs to URIs).
_HEADERS_TO_FIX = frozenset({"location", "content-location"})


class Response(ResponseBase):
    """The response class: Werkzeug's, with ``text/html`` as the default type.

    Views rarely build one by hand; ``Flask.make_response`` converts what a
    view returns into an instance of ``app.response_class``.
    """

    default_mimetype: str | None = "text/html"

    json_module: Any = json

    autocorrect_location_header = False

    def __init__(
        self,
        response: Any = None,
        status: int | str | HTTPStatus | None = None,
        headers: Any = None,
        mimetype: str | None = None,
        content_type: str | None = None,
        direct_passthrough: bool = False,
    ) -> None:
        """Werkzeug's constructor, with a short way for the common response.

        Most responses are a str or bytes body with a numeric status and no
        headers of their own: what ``make_response`` builds for a string and
        ``jsonify`` for JSON. They get exactly the attributes and headers
        Werkzeug's constructor would give (a test compares the two).
        """
        # PERF: Werkzeug's constructor reaches the same state through general
        # paths: a content-type search in the empty headers, the header
        # setter's scan for a header to replace (twice), the status-line
        # parser, set_data(). The short way took 1.51 µs instead of 3.74
        # (CPU time, median of 11 interleaved rounds, docs/perf.md). Plain
        # version (PLAIN): super().__init__(...) for every call.
        if (
            not PLAIN
            and headers is None
            and content_type is None
            and (status is None or type(status) is int)
            and type(response) in _BUFFERED_BODIES
            and self.automatically_set_content_length
        ):
            body = response.encode() if type(response) is str else response
            if mimetype is None:
                mimetype = self.default_mimetype
            self.headers = Headers()
            if mimetype is not None:
                self.headers.add("Content-Type", _content_type(mimetype))
            self.headers.add("Content-Length", str(len(body)))
            self.status = self.default_status if status is None else status
            self.direct_passthrough = direct_passthrough
            self._on_close: list[Callable[[], Any]] = []
            self.response = [body]
            return
        super().__init__(response, status, headers, mimetype, content_type, direct_passthrough)

    def get_wsgi_response(self, environ: dict[str, Any]) -> tuple[Any, str, list[tuple[str, str]]]:
        """The body, status line and header list to hand to the server.

        Werkzeug first copies the headers to fix what a server must not see
        as set: a relative ``Location``, a ``Content-Length`` on a 204 or 304,
        a missing ``Content-Length`` on a buffered body. A response with none
        of those is sent with its headers as they are.
        """
        # PERF: skipping Werkzeug's header copy and scan: 0.95 against 2.63 µs
        # per response (CPU time, median of 11 interleaved rounds,
        # docs/perf.md). Plain version (PLAIN):
        # always return super().get_wsgi_response(environ).
        status = self.status_code
        if PLAIN or status < 200 or status in (204, 304):
            return super().get_wsgi_response(environ)
        headers = self.headers.to_wsgi_list()
        # One pass over the names: `name in self.headers` would raise and
        # catch a KeyError for every absent header.
        names = {name.lower() for name, _ in headers}
        if "content-length" not in names or not names.isdisjoint(_HEADERS_TO_FIX):
            return super().get_wsgi_response(environ)
        return self.get_app_iter(environ), self.status, headers

    def get_app_iter(self, environ: dict[str, Any]) -> Any:
        """The body iterable for the server: Werkzeug's, or the body list itself.

        A body already held in memory as one bytes chunk (what ``set_data``
        stores, so every string, dict and JSON response) is handed to the
        server as it is when there is nothing to run on close.
        """
        # PERF: Werkzeug wraps every body in a generator and a ClosingIterator
        # so that close() runs call_on_close functions; for a buffered body
        # with none of them that costs 1.41 µs instead of 0.20 for nothing
        # (CPU time, median of 11 interleaved rounds, docs/perf.md). Plain version
        # (PLAIN): always return super().get_app_iter(environ).
        body = self.response
        status = self.status_code
        if (
            not PLAIN
            and type(body) is list
            and len(body) == 1
            and type(body[0]) is bytes
            and not self._on_close
            and not self.direct_passthrough
            and environ["REQUEST_METHOD"] != "HEAD"
            and status >= 200
            and status not in (204, 304)
        ):
            return body
        return super().get_app_iter(environ)

    @property
    def max_cookie_size(self) -> int:  # type: ignore[override]  # Werkzeug's is an attribute
        """``MAX_COOKIE_SIZE`` of the current app: larger cookies raise a warning."""
        app_ctx = _cv_app.get(None)
        if app_ctx is not None:
            return app_ctx.app.config["MAX_COOKIE_SIZE"]
        return super().max_cookie_size


def http_error_response(
    response_class: type[Response], e: HTTPException, environ: dict[str, Any]
) -> Response:
    """The response for an HTTP error no handler took: Werkzeug's error page.

    What ``e.get_response(environ)`` gives, as an instance of ``response_class``.
    """
    # PERF: the page of a 404 is the same text every time, but Werkzeug
    # formats and escapes it anew for each error and builds a Response through
    # its general constructor; Flask then rebuilds that as its own class.
    # miniflask keeps each page it has built, keyed by the error's class,
    # code and description, for the error classes that render Werkzeug's
    # standard page: 3.0 against 23.4 µs per 404 response (CPU time, median
    # of 11 interleaved rounds, docs/perf.md). Plain version
    # (PLAIN): Flask.make_response does not call this, and handles the error
    # as any WSGI callable, with Response.force_type, as Flask does.
    cls = type(e)
    if e.response is None and _renders_standard_page(cls):
        key = (cls, e.code, e.description)
        body = _error_pages.get(key)
        if body is None:
            body = e.get_body(environ)
            if len(_error_pages) >= 256:  # descriptions may vary (abort(404, text))
                _error_pages.clear()
            _error_pages[key] = body
        return response_class(body, status=e.code, mimetype="text/html")
    forced: Response = response_class.force_type(e.get_response(environ), environ)  # type: ignore[assignment]  # force_type returns an instance of the class it is called on
    return forced


#: Error pages already built, by (exception class, code, description).
_error_pages: dict[tuple[type[HTTPException], int | None, str | None], str] = {}

#: What an exception class must leave as Werkzeug wrote it for its page to be cached:
#: the page and its headers depend on nothing but the code and the description.
_PAGE_METHODS = ("name", "get_description", "get_body", "get_headers", "get_response")


def _renders_standard_page(cls: type[HTTPException]) -> bool:
    """Whether ``cls`` renders Werkzeug's page, with only a ``Content-Type`` header."""
    return all(getattr(cls, name) is getattr(HTTPException, name) for name in _PAGE_METHODS)
