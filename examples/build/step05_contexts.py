"""Step 5: contexts on contextvars, and the ``request``, ``g`` and ``current_app`` proxies.

Adds: views stop taking ``request`` as an argument. Two ``ContextVar``s hold
the *application context* (the app and ``g``) and the *request context* (the
request and its URL adapter); ``wsgi_app`` pushes them before the view and pops
them after. ``request``, ``g`` and ``current_app`` are ``LocalProxy`` objects
from Werkzeug: each attribute access looks the current object up in the
variable, so every thread and every asyncio task sees its own request. Werkzeug's
proxy rather than a three-line one of our own: Python looks special methods
(``==``, ``str()``, ``in``, ``[]``) up on the type, never through
``__getattr__``, so a tiny proxy breaks ``"x" in g``; ``LocalProxy`` defines
them all. The URL is now matched when the request context is pushed, as Flask
does, so the endpoint is known before the view is chosen; ``url_for`` builds
URLs back from endpoint names with the same adapter.
In full: miniflask/ctx.py (the contexts) and miniflask/globals.py (the proxies).

Run it: ``python examples/build/step05_contexts.py`` (a demo with Werkzeug's test
client), or ``python examples/build/step05_contexts.py --serve`` (http://127.0.0.1:5000).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any, TypeVar, cast

from werkzeug.exceptions import HTTPException
from werkzeug.local import LocalProxy
from werkzeug.routing import Map, MapAdapter, Rule
from werkzeug.serving import run_simple
from werkzeug.test import Client
from werkzeug.wrappers import Request as BaseRequest
from werkzeug.wrappers import Response

WSGIEnvironment = dict[str, Any]
StartResponse = Callable[..., Any]
#: What a view may return; ``make_response`` turns each into a ``Response``.
ResponseReturnValue = Response | str | bytes | dict[str, Any] | list[Any] | tuple[Any, ...]
ViewFunction = Callable[..., ResponseReturnValue]
F = TypeVar("F", bound=Callable[..., Any])


class Request(BaseRequest):
    """Werkzeug's request, plus what URL matching found (set when the context is pushed)."""

    url_rule: Rule | None = None
    view_args: Mapping[str, Any] | None = None
    #: The 404 or 405 that matching raised, kept until ``dispatch_request`` raises it.
    routing_exception: HTTPException | None = None


class _AppCtxGlobals:
    """``g``: a plain namespace for the duration of one app context (a request's, say)."""

    def get(self, name: str, default: Any = None) -> Any:
        """``g.get("user")``: the attribute, or ``default`` when it was never set."""
        return self.__dict__.get(name, default)

    # Declared so that type checkers accept ``g.anything``, as Flask's ``g`` does.
    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:
        self.__dict__[name] = value

    def __contains__(self, name: str) -> bool:
        return name in self.__dict__


class AppContext:
    """Makes ``current_app`` and ``g`` available while it is pushed."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.g = _AppCtxGlobals()
        self._cv_tokens: list[Token[AppContext]] = []

    def push(self) -> None:
        """Make this context the current one; the token undoes exactly this ``set``."""
        self._cv_tokens.append(_cv_app.set(self))

    def pop(self) -> None:
        """Make the previous context current again."""
        _cv_app.reset(self._cv_tokens.pop())

    def __enter__(self) -> AppContext:
        self.push()
        return self

    def __exit__(
        self, exc_type: type | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.pop()


class RequestContext:
    """Holds one request while it is handled: the request and the URL map bound to it."""

    def __init__(self, app: App, environ: WSGIEnvironment) -> None:
        self.app = app
        self.request = Request(environ)
        # Binding gives an adapter: the map seen from one request's host, path and method.
        self.url_adapter: MapAdapter = app.url_map.bind_to_environ(environ)
        self._cv_tokens: list[tuple[Token[RequestContext], AppContext | None]] = []

    def push(self) -> None:
        """Push an app context if this app has none active, then this one; match the URL."""
        app_ctx: AppContext | None = _cv_app.get(None)
        if app_ctx is None or app_ctx.app is not self.app:
            app_ctx = self.app.app_context()
            app_ctx.push()
        else:
            app_ctx = None  # one is active (a test's `with app.app_context()`): keep it
        self._cv_tokens.append((_cv_request.set(self), app_ctx))
        self.match_request()

    def match_request(self) -> None:
        """Find the rule and the URL's variables, or keep the 404/405 for later."""
        try:
            rule, view_args = self.url_adapter.match(return_rule=True)
        except HTTPException as e:
            self.request.routing_exception = e
        else:
            self.request.url_rule, self.request.view_args = rule, view_args

    def pop(self) -> None:
        """Un-push this context, and the app context if ``push`` pushed one."""
        token, app_ctx = self._cv_tokens.pop()
        _cv_request.reset(token)
        if app_ctx is not None:
            app_ctx.pop()


_no_app_msg = "Working outside of application context: use `with app.app_context():`."
_no_req_msg = "Working outside of request context: use the test client, or a view."
_cv_app: ContextVar[AppContext] = ContextVar("app_ctx")
_cv_request: ContextVar[RequestContext] = ContextVar("request_ctx")
# The casts tell type checkers what the proxies stand for; at runtime they are proxies.
current_app: App = cast("App", LocalProxy(_cv_app, "app", unbound_message=_no_app_msg))
g: _AppCtxGlobals = cast("_AppCtxGlobals", LocalProxy(_cv_app, "g", unbound_message=_no_app_msg))
request_ctx: RequestContext = cast(
    "RequestContext", LocalProxy(_cv_request, unbound_message=_no_req_msg)
)
request: Request = cast("Request", LocalProxy(_cv_request, "request", unbound_message=_no_req_msg))


def url_for(endpoint: str, **values: Any) -> str:
    """The URL of ``endpoint`` with ``values`` filled in: ``url_for("hello", name="ada")``."""
    return request_ctx.url_adapter.build(endpoint, values)


class App:
    """The application: a registry of views during setup, a WSGI app during requests.

    Example::

        app = App(__name__)

        @app.route("/hello/<name>")
        def hello(name):
            return f"Hello {name}"
    """

    def __init__(self, import_name: str) -> None:
        self.import_name = import_name
        self.url_map = Map()
        self.view_functions: dict[str, ViewFunction] = {}

    def route(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Register the decorated function as the view of ``rule``; its name is the endpoint."""

        def decorator(f: F) -> F:
            self.add_url_rule(rule, f.__name__, f, **options)
            return f

        return decorator

    def add_url_rule(
        self, rule: str, endpoint: str, view_func: ViewFunction, **options: Any
    ) -> None:
        """Add ``rule`` to the URL map and ``view_func`` to the views, under ``endpoint``.

        Raises:
            AssertionError: another function already has this endpoint name, which
                would silently replace it; Flask fails at once instead.
        """
        existing = self.view_functions.get(endpoint)
        if existing is not None and existing is not view_func:
            raise AssertionError(f"View function mapping is overwriting endpoint {endpoint!r}")
        self.url_map.add(Rule(rule, endpoint=endpoint, **options))
        self.view_functions[endpoint] = view_func

    def app_context(self) -> AppContext:
        """A new app context: ``with app.app_context():`` gives ``current_app`` and ``g``."""
        return AppContext(self)

    def request_context(self, environ: WSGIEnvironment) -> RequestContext:
        """A new request context for ``environ``; ``wsgi_app`` pushes one per request."""
        return RequestContext(self, environ)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI entry point: the server calls the app; the work is in ``wsgi_app``."""
        return self.wsgi_app(environ, start_response)

    def wsgi_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """One request, from ``environ`` to the response's bytes.

        Flask keeps this apart from ``__call__`` so middleware can wrap it
        (``app.wsgi_app = ProxyFix(app.wsgi_app)``) while ``app`` stays the app.
        """
        ctx = self.request_context(environ)
        ctx.push()
        try:
            response = self.full_dispatch_request()
            return response(environ, start_response)
        finally:
            ctx.pop()

    def full_dispatch_request(self) -> Response:
        """Dispatch the request and turn the result, or an HTTP error, into a response."""
        try:
            rv = self.dispatch_request()
        except HTTPException as e:
            rv = e.get_response(request.environ)
        return self.make_response(rv)

    def dispatch_request(self) -> ResponseReturnValue:
        """Raise what URL matching found (404, 405), or call the view with the URL's variables."""
        if request.routing_exception is not None:
            raise request.routing_exception
        rule = cast(Rule, request.url_rule)
        return self.view_functions[rule.endpoint](**(request.view_args or {}))

    def make_response(self, rv: ResponseReturnValue) -> Response:
        """Turn what a view returned into a response.

        * a ``Response`` is used as it is;
        * ``str`` or ``bytes`` becomes the body of an HTML response;
        * a ``dict`` or ``list`` becomes a JSON response;
        * a tuple ``(body, status)`` or ``(body, status, headers)`` sets those too.

        Raises:
            TypeError: the view returned ``None`` (a forgotten ``return``) or
                a type that is none of these.
        """
        body, status, headers = _unpack_response_tuple(rv)
        if isinstance(body, str | bytes):
            # Flask's default type is HTML: its Response class sets default_mimetype.
            response = Response(body, mimetype="text/html")
        elif isinstance(body, dict | list):
            response = Response(json.dumps(body), mimetype="application/json")
        elif isinstance(body, Response):
            response = body
        else:
            raise TypeError(f"The view function did not return a valid response: {body!r}")
        if status is not None:
            response.status_code = status
        if headers:
            response.headers.update(headers)
        return response


def _unpack_response_tuple(rv: ResponseReturnValue) -> tuple[Any, int | None, Any]:
    """``(body, status, headers)`` from a view's return value, tuple or not."""
    if not isinstance(rv, tuple):
        return rv, None, None
    if len(rv) == 2:
        return rv[0], rv[1], None
    return rv[0], rv[1], rv[2]


app = App(__name__)


@app.route("/")
def index() -> str:
    """The home page."""
    return "Hello, World!"


@app.route("/hello/<name>", methods=["GET"])
def hello(name: str) -> str:
    """A page per name: ``name`` comes from the URL, the greeting from the query string."""
    greeting = request.args.get("greeting", "Hello")
    return f"{greeting} {name}"


@app.route("/users", methods=["POST"])
def create_user() -> tuple[dict[str, str], int]:
    """A JSON answer with a status: 201 Created."""
    return {"name": request.form["name"]}, 201


@app.route("/whoami")
def whoami() -> dict[str, str]:
    """The proxies at work: the app, ``g`` and a URL built from an endpoint name."""
    g.visitor = request.args.get("name", "stranger")
    return {
        "app": current_app.import_name,
        "visitor": g.visitor,
        "url": url_for("hello", name="ada"),
    }


def demo(application: Any) -> None:
    """Call the app in-process, as a server would, and print what it answered."""
    client = Client(application)
    for method, path in [
        ("GET", "/"),
        ("GET", "/hello/ada"),
        ("GET", "/nowhere"),
        ("POST", "/hello/ada"),
        ("GET", "/hello/ada?greeting=Hi"),
        ("GET", "/whoami?name=ada"),
    ]:
        response = client.open(path, method=method)
        text = " ".join(response.get_data(as_text=True).split())
        print(f"{method} {path} -> {response.status}: {text[:60]}")
    response = client.post("/users", data={"name": "ada"})
    print(f"POST /users -> {response.status}: {response.get_data(as_text=True)}")


if __name__ == "__main__":
    if "--serve" in sys.argv:
        run_simple("127.0.0.1", 5000, app)
    else:
        demo(app)
