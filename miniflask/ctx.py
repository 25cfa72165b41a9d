"""The application context and the request context.

Flask counterpart: ``flask/ctx.py``.

Flask keeps per-request state out of function arguments: a view reads
``request``, ``session``, ``g`` and ``current_app`` as if they were globals.
What makes that safe is a *context*: an object that holds the state for one
request (or one piece of app work outside a request) and is "pushed" — made
current in a :class:`contextvars.ContextVar` — for as long as that work runs.

There are two, because not all work is a request:

* :class:`AppContext` holds the app and ``g``. A CLI command, a test or a
  background job pushes one with ``app.app_context()`` to use ``current_app``
  and the database without any HTTP request.
* :class:`RequestContext` holds the request, the session and the URL adapter.
  Pushing one also pushes an app context when none is active for that app,
  and popping it pops that app context again.

Each push records the ``ContextVar`` token it got, and each pop resets with
it, so contexts nest properly and popping the wrong one is detected at once.
"""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Callable, Iterator
from functools import update_wrapper
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from werkzeug.exceptions import HTTPException

from . import signals
from .globals import _cv_app, _cv_request
from .perf import PLAIN

if TYPE_CHECKING:
    from werkzeug.routing import MapAdapter

    from .app import Flask
    from .sessions import SessionMixin
    from .wrappers import Request

F = TypeVar("F", bound=Callable[..., Any])

# Distinguishes "no exception passed" from an explicit ``None``.
_sentinel = object()


class _AppCtxGlobals:
    """The ``g`` object: a plain namespace that lives as long as the app context.

    Use it to keep a resource for the rest of the request, typically a
    database connection opened on first use and closed in
    ``teardown_appcontext``::

        def get_db():
            if "db" not in g:
                g.db = connect()
            return g.db
    """

    def get(self, name: str, default: Any | None = None) -> Any:
        """Return an attribute, or ``default`` when it is not set."""
        return self.__dict__.get(name, default)

    def pop(self, name: str, default: Any = _sentinel) -> Any:
        """Remove an attribute and return it (or ``default``; ``KeyError`` without one)."""
        if default is _sentinel:
            return self.__dict__.pop(name)
        return self.__dict__.pop(name, default)

    def setdefault(self, name: str, default: Any = None) -> Any:
        """Return an attribute, setting it to ``default`` first if it is missing."""
        return self.__dict__.setdefault(name, default)

    def __contains__(self, item: str) -> bool:
        return item in self.__dict__

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dict__)

    def __repr__(self) -> str:
        app_ctx = _cv_app.get(None)
        if app_ctx is not None:
            # Flask: says "<flask.g of ...>"; the name of the framework that
            # made the object is the truer hint in a debugger.
            return f"<miniflask.g of '{app_ctx.app.name}'>"
        return object.__repr__(self)


class AppContext:
    """Makes ``current_app`` and ``g`` available while it is pushed.

    Example::

        with app.app_context():
            init_db()          # may use current_app and g
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.g: _AppCtxGlobals = app.app_ctx_globals_class()
        # PERF: see url_adapter. Plain version (PLAIN): build it here, as Flask does.
        self._url_adapter: MapAdapter | object | None = (
            app.create_url_adapter(None) if PLAIN else _sentinel
        )
        self._cv_tokens: list[contextvars.Token[AppContext]] = []

    @property
    def url_adapter(self) -> MapAdapter | None:
        """The adapter ``url_for`` uses outside a request (needs ``SERVER_NAME``)."""
        # PERF: built on first use. Flask builds it in __init__ for every
        # app context, including the one each request pushes, where url_for
        # uses the request's adapter instead. Without SERVER_NAME that is a
        # call answering None: 0.42 against 0.29 µs per app context; with
        # SERVER_NAME it binds the URL map (docs/perf.md). Plain version:
        # the PLAIN branch in __init__.
        if self._url_adapter is _sentinel:
            self._url_adapter = self.app.create_url_adapter(None)
        return self._url_adapter  # type: ignore[return-value]  # no longer _sentinel

    def push(self) -> None:
        """Lifecycle steps 3-4: make this context current, then send ``appcontext_pushed``."""
        self._cv_tokens.append(_cv_app.set(self))
        if signals.appcontext_pushed.receivers:  # PERF: see Flask.full_dispatch_request
            signals.appcontext_pushed.send(self.app, _async_wrapper=self.app.ensure_sync)

    def pop(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]  # _sentinel: not given, as in Flask
        """Lifecycle steps 24-27: ``teardown_appcontext`` functions (on the last pop), un-push.

        Steps 24-25 run in :meth:`Flask.do_teardown_appcontext`; then the
        context is popped (26) and ``appcontext_popped`` is sent (27).

        Args:
            exc: the unhandled exception that ended the work, if any; taken
                from ``sys.exc_info()`` when not given.

        Raises:
            AssertionError: this context is not the current one.
        """
        try:
            if len(self._cv_tokens) == 1:
                if exc is _sentinel:
                    exc = sys.exc_info()[1]
                self.app.do_teardown_appcontext(exc)
        finally:
            current = _cv_app.get(None)
            _cv_app.reset(self._cv_tokens.pop())
        if current is not self:
            raise AssertionError(f"Popped wrong app context. ({current!r} instead of {self!r})")
        if signals.appcontext_popped.receivers:  # PERF: see Flask.full_dispatch_request
            signals.appcontext_popped.send(self.app, _async_wrapper=self.app.ensure_sync)

    def __enter__(self) -> AppContext:
        self.push()
        return self

    def __exit__(
        self,
        exc_type: type | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.pop(exc_value)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self.app.name!r}>"


class RequestContext:
    """Holds everything about one request while it is handled.

    ``Flask.wsgi_app`` creates one per request from the WSGI ``environ`` and
    pushes it before any hook runs. Creating it binds the URL map to the
    request (the *URL adapter*); pushing it matches the URL, so
    ``request.url_rule`` and ``request.view_args`` are known to
    ``before_request`` functions.

    Args:
        app: the application.
        environ: the WSGI environment of the request.
        request: an existing request object to reuse (for ``copy()``).
        session: an existing session to reuse (for ``copy()``).
    """

    def __init__(
        self,
        app: Flask,
        environ: dict[str, Any],
        request: Request | None = None,
        session: SessionMixin | None = None,
    ) -> None:
        """Lifecycle step 2: wrap the ``environ`` in a ``Request`` and bind the URL map to it."""
        self.app = app
        if request is None:
            request = app.request_class(environ)
            request.json_module = app.json
        self.request: Request = request
        self.url_adapter: MapAdapter | None = None
        try:
            self.url_adapter = app.create_url_adapter(self.request)
        except HTTPException as e:
            # A bad Host header: keep the error for dispatch, like a 404.
            self.request.routing_exception = e
        self.flashes: list[tuple[str, str]] | None = None
        self._session: SessionMixin | None = session
        self._after_request_functions: list[Callable[[Any], Any]] = []
        self._cv_tokens: list[tuple[contextvars.Token[RequestContext], AppContext | None]] = []

    def copy(self) -> RequestContext:
        """A new context for the same request and session (for another thread)."""
        return type(self)(
            self.app, self.request.environ, request=self.request, session=self._session
        )

    @property
    def session(self) -> SessionMixin:
        """The request's session; reading it (as the ``session`` proxy does) marks it accessed.

        A session that was accessed makes the response vary by ``Cookie``,
        whichever method touched it — even ``"key" in session`` — because
        the response may depend on it.
        """
        assert self._session is not None, "The session has not yet been opened."
        self._session.accessed = True
        return self._session

    def match_request(self) -> None:
        """Lifecycle step 7: match the URL; set ``url_rule`` and ``view_args``, or keep the error.

        A 404, 405 or redirect is kept in ``request.routing_exception`` and
        raised only at step 11, after the ``before_request`` functions ran.
        """
        assert self.url_adapter is not None
        try:
            # The app's memo of earlier matches stands in for
            # ``self.url_adapter.match(return_rule=True)``; see routing.py.
            rule, view_args = self.app.url_match_cache.match(self.url_adapter)
        except HTTPException as e:
            self.request.routing_exception = e
        else:
            self.request.url_rule = rule
            self.request.view_args = view_args

    def push(self) -> None:
        """Lifecycle steps 3-7: app context, then request, then session, then URL match.

        Pushes an app context first (steps 3-4) unless one of this app is
        active, makes the request current (step 5), opens the session
        (step 6) and matches the URL (step 7, :meth:`match_request`).
        """
        app_ctx = _cv_app.get(None)
        if app_ctx is None or app_ctx.app is not self.app:
            app_ctx = self.app.app_context()
            app_ctx.push()
        else:
            app_ctx = None  # an app context of this app is active: reuse it, don't pop it
        self._cv_tokens.append((_cv_request.set(self), app_ctx))

        # The session is opened after the request context is pushed, so a
        # custom session interface may use ``request`` and ``current_app``.
        if self._session is None:
            interface = self.app.session_interface
            self._session = interface.open_session(self.app, self.request)
            if self._session is None:
                self._session = interface.make_null_session(self.app)

        if self.url_adapter is not None:
            self.match_request()

    def pop(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]  # _sentinel: not given, as in Flask
        """Lifecycle steps 21-23: teardown (on the last pop), un-push, and pop the app context.

        Steps 21-22 run in :meth:`Flask.do_teardown_request`; then the
        request context is popped (23), and with it the app context that
        :meth:`push` pushed (steps 24-27, :meth:`AppContext.pop`).

        Raises:
            AssertionError: this context is not the current one.
        """
        clear_request = len(self._cv_tokens) == 1
        try:
            if clear_request:
                if exc is _sentinel:
                    exc = sys.exc_info()[1]
                self.app.do_teardown_request(exc)
                self.request.close()
        finally:
            current = _cv_request.get(None)
            token, app_ctx = self._cv_tokens.pop()
            _cv_request.reset(token)
            if clear_request:
                # Break the environ -> request reference cycle.
                self.request.environ["werkzeug.request"] = None
            if app_ctx is not None:
                app_ctx.pop(exc)
        if current is not self:
            raise AssertionError(f"Popped wrong request context. ({current!r} instead of {self!r})")

    def __enter__(self) -> RequestContext:
        self.push()
        return self

    def __exit__(
        self,
        exc_type: type | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.pop(exc_value)

    def __repr__(self) -> str:
        return (
            f"<{type(self).__name__} {self.request.url!r}"
            f" [{self.request.method}] of {self.app.name}>"
        )


def has_app_context() -> bool:
    """``True`` inside an app context (and so inside every request)."""
    return _cv_app.get(None) is not None


def has_request_context() -> bool:
    """``True`` while a request is being handled, e.g. to make logging request-aware."""
    return _cv_request.get(None) is not None


def after_this_request(f: F) -> F:
    """Run ``f(response)`` after this request only, before the app's ``after_request``.

    Example::

        @app.get("/")
        def index():
            @after_this_request
            def add_header(response):
                response.headers["X-Foo"] = "Parachute"
                return response
            return "Hello"

    Raises:
        RuntimeError: outside a request.
    """
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(
            "'after_this_request' can only be used when a request"
            " context is active, such as in a view function."
        )
    ctx._after_request_functions.append(f)
    return f


def copy_current_request_context(f: F) -> F:
    """Wrap ``f`` so it runs with a copy of the current request context.

    For work handed to another thread or greenlet that still needs
    ``request`` and ``session``: the new thread starts with no context of its
    own (context variables are not inherited by threads).

    Example::

        @app.get("/")
        def index():
            @copy_current_request_context
            def work():
                print(request.path)
            threading.Thread(target=work).start()
            return "started"

    Raises:
        RuntimeError: outside a request.
    """
    ctx = _cv_request.get(None)
    if ctx is None:
        raise RuntimeError(
            "'copy_current_request_context' can only be used when a"
            " request context is active, such as in a view function."
        )
    ctx = ctx.copy()

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with ctx:
            # ensure_sync: `f` may be an `async def` function, as in Flask.
            return ctx.app.ensure_sync(f)(*args, **kwargs)

    return update_wrapper(wrapper, f)  # type: ignore[return-value]  # it stands in for f
