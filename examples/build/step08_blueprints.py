"""Step 8: blueprints, a recording replayed on the app.

Adds: a ``Blueprint`` has ``route``, hooks and ``errorhandler`` like the app, but
registers nothing: each decorator *records* a function (a deferred function).
``app.register_blueprint(bp, url_prefix=...)`` replays the recording with a
``BlueprintSetupState`` that knows this registration's name and URL prefix, so
a route ``/users`` of blueprint ``api`` becomes the app's rule ``/api/users``
with endpoint ``"api.users"``. Because it is only a recording, a blueprint can
be written without an app and registered twice under two names. The app's
hook and handler tables are now keyed by scope: ``None`` for the app, a
blueprint's name for its own, which run only when the endpoint is one of its.
In full: miniflask/blueprints.py (``Blueprint.register``, ``BlueprintSetupState``).

Run it: ``python examples/build/step08_blueprints.py`` (a demo with Werkzeug's test
client), or ``python examples/build/step08_blueprints.py --serve`` (http://127.0.0.1:5000).
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar, Token
from types import TracebackType
from typing import Any, TypeVar, cast

from werkzeug.exceptions import HTTPException, InternalServerError, default_exceptions
from werkzeug.local import LocalProxy
from werkzeug.routing import Map, MapAdapter, Rule
from werkzeug.serving import run_simple
from werkzeug.test import Client
from werkzeug.wrappers import Request as BaseRequest
from werkzeug.wrappers import Response

WSGIEnvironment = dict[str, Any]
StartResponse = Callable[..., Any]
#: What a view may return; ``make_response`` turns each into a ``Response``.
ResponseReturnValue = (
    Response | str | bytes | dict[str, Any] | list[Any] | tuple[Any, ...] | HTTPException
)
ViewFunction = Callable[..., ResponseReturnValue]
F = TypeVar("F", bound=Callable[..., Any])
BeforeRequestFunction = Callable[[], ResponseReturnValue | None]
AfterRequestFunction = Callable[[Response], Response]
TeardownFunction = Callable[[BaseException | None], None]
ErrorHandler = Callable[[Any], ResponseReturnValue]
DeferredSetupFunction = Callable[["BlueprintSetupState"], None]


class Request(BaseRequest):
    """Werkzeug's request, plus what URL matching found (set when the context is pushed)."""

    url_rule: Rule | None = None
    view_args: Mapping[str, Any] | None = None
    #: The 404 or 405 that matching raised, kept until ``dispatch_request`` raises it.
    routing_exception: HTTPException | None = None

    @property
    def blueprint(self) -> str | None:
        """The name of the blueprint whose view answers: ``"api"`` for ``"api.users"``."""
        endpoint = self.url_rule.endpoint if self.url_rule is not None else ""
        return endpoint.rpartition(".")[0] or None


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

    def pop(self, exc: BaseException | None = None) -> None:
        """Run the teardown functions, then un-push (and the app context ``push`` pushed)."""
        try:
            self.app.do_teardown_request(exc)
        finally:
            # Even when a teardown function fails: the thread's next request must
            # not find this one's contexts (and its ``g``) still pushed.
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
        # Hooks and handlers by scope: None for the app's, a blueprint's name for its own.
        self.before_request_funcs: dict[str | None, list[BeforeRequestFunction]] = {}
        self.after_request_funcs: dict[str | None, list[AfterRequestFunction]] = {}
        self.teardown_request_funcs: dict[str | None, list[TeardownFunction]] = {}
        #: scope -> status code (None for exceptions that have none) -> exception class -> handler
        self.error_handler_spec: dict[
            str | None, dict[int | None, dict[type[Exception], ErrorHandler]]
        ] = {}
        self.blueprints: dict[str, Blueprint] = {}
        #: Set by tests: an unhandled exception propagates instead of becoming a 500.
        self.testing = False
        self.logger = logging.getLogger(import_name)

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

    def before_request(self, f: BeforeRequestFunction) -> BeforeRequestFunction:
        """Run ``f()`` before each view; a value it returns is the response, the view is skipped."""
        self.before_request_funcs.setdefault(None, []).append(f)
        return f

    def after_request(self, f: AfterRequestFunction) -> AfterRequestFunction:
        """Run ``f(response)`` after each view; it returns the response to send."""
        self.after_request_funcs.setdefault(None, []).append(f)
        return f

    def teardown_request(self, f: TeardownFunction) -> TeardownFunction:
        """Run ``f(exc)`` when each request ends, even with an error; its value is ignored."""
        self.teardown_request_funcs.setdefault(None, []).append(f)
        return f

    def errorhandler(self, code_or_exception: int | type[Exception]) -> Callable[[F], F]:
        """Register the decorated function for an HTTP status code or an exception class."""

        def decorator(f: F) -> F:
            self.register_error_handler(code_or_exception, f)
            return f

        return decorator

    def register_error_handler(
        self, code_or_exception: int | type[Exception], f: ErrorHandler
    ) -> None:
        """``errorhandler`` without the decorator."""
        self._add_error_handler(None, code_or_exception, f)

    def _add_error_handler(
        self, scope: str | None, code_or_exception: int | type[Exception], f: ErrorHandler
    ) -> None:
        exc_class, code = _get_exc_class_and_code(code_or_exception)
        self.error_handler_spec.setdefault(scope, {}).setdefault(code, {})[exc_class] = f

    def register_blueprint(self, blueprint: Blueprint, **options: Any) -> None:
        """Replay ``blueprint``'s recording here; ``url_prefix=`` and ``name=`` override its own.

        Raises:
            ValueError: a blueprint is registered under that name already; pass
                ``name=`` to register one blueprint twice.
        """
        name = options.get("name", blueprint.name)
        if name in self.blueprints:
            raise ValueError(f"The name {name!r} is already registered for a blueprint.")
        self.blueprints[name] = blueprint
        blueprint.register(self, options)

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
        error: BaseException | None = None
        try:
            try:
                response = self.full_dispatch_request()
            except Exception as e:
                error = e  # for the teardown functions
                response = self.handle_exception(e)
            return response(environ, start_response)
        finally:
            ctx.pop(error)

    def full_dispatch_request(self) -> Response:
        """Run the before hooks and the view; make the result, or an HTTP error, a response."""
        try:
            rv = self.preprocess_request()
            if rv is None:
                rv = self.dispatch_request()
        except Exception as e:
            rv = self.handle_user_exception(e)
        return self.finalize_request(rv)

    def preprocess_request(self) -> ResponseReturnValue | None:
        """Call the ``before_request`` functions, the app's first, then the blueprint's.

        The first value one returns ends the request.
        """
        for scope in self._scopes():
            for func in self.before_request_funcs.get(scope, ()):
                rv = func()
                if rv is not None:
                    return rv
        return None

    def _scopes(self) -> tuple[str | None, ...]:
        """Whose hooks apply to this request: the app's, and its blueprint's if any."""
        blueprint = request.blueprint
        return (None,) if blueprint is None else (None, blueprint)

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
        elif isinstance(body, HTTPException):
            # Werkzeug's errors render their own small HTML page.
            response = body.get_response(request.environ)
        else:
            raise TypeError(f"The view function did not return a valid response: {body!r}")
        if status is not None:
            response.status_code = status
        if headers:
            response.headers.update(headers)
        return response

    def finalize_request(self, rv: ResponseReturnValue) -> Response:
        """Make the response, then let the ``after_request`` functions change it."""
        response = self.make_response(rv)
        return self.process_response(response)

    def process_response(self, response: Response) -> Response:
        """Call the ``after_request`` functions, last registered first (``before``'s mirror)."""
        for scope in reversed(self._scopes()):
            for func in reversed(self.after_request_funcs.get(scope, ())):
                response = func(response)
        return response

    def do_teardown_request(self, exc: BaseException | None) -> None:
        """Call the ``teardown_request`` functions, last registered first, with the error if any."""
        for scope in reversed(self._scopes()):
            for func in reversed(self.teardown_request_funcs.get(scope, ())):
                func(exc)

    def handle_user_exception(self, e: Exception) -> ResponseReturnValue:
        """Tier 1: HTTP errors go to tier 2; any other goes to its handler or is re-raised."""
        if isinstance(e, HTTPException):
            return self.handle_http_exception(e)
        handler = self._find_error_handler(e)
        if handler is None:
            raise e
        return handler(e)

    def handle_http_exception(self, e: HTTPException) -> ResponseReturnValue:
        """Tier 2: an HTTP error's handler, or, without one, the error as its own response."""
        handler = self._find_error_handler(e)
        if handler is None:
            return e
        return handler(e)

    def _find_error_handler(self, e: Exception) -> ErrorHandler | None:
        """The handler for ``e``: by status code first, then by class, most specific first.

        At each step the blueprint's handlers come before the app's.
        """
        exc_class, code = _get_exc_class_and_code(type(e))
        for key in (code, None) if code is not None else (None,):
            for scope in reversed(self._scopes()):
                handlers = self.error_handler_spec.get(scope, {}).get(key, {})
                for cls in exc_class.__mro__:
                    if cls in handlers:
                        return handlers[cls]
        return None

    def handle_exception(self, e: Exception) -> Response:
        """Tier 3: an exception no handler took is logged and becomes a 500.

        A handler for 500 receives an ``InternalServerError`` whose
        ``original_exception`` is the real error, and it never shows the
        client a traceback. With ``testing`` set the exception propagates.
        """
        if self.testing:
            raise e
        self.logger.error("Exception on %s [%s]", request.path, request.method, exc_info=e)
        server_error = InternalServerError(original_exception=e)
        handler = self._find_error_handler(server_error)
        return self.finalize_request(server_error if handler is None else handler(server_error))


def _get_exc_class_and_code(
    exc_class_or_code: int | type[Exception],
) -> tuple[type[Exception], int | None]:
    """``404`` -> ``(NotFound, 404)``; ``KeyError`` -> ``(KeyError, None)``."""
    if isinstance(exc_class_or_code, int):
        exc_class: type[Exception] = default_exceptions[exc_class_or_code]
    else:
        exc_class = exc_class_or_code
    if issubclass(exc_class, HTTPException):
        return exc_class, exc_class.code
    return exc_class, None


def _unpack_response_tuple(rv: ResponseReturnValue) -> tuple[Any, int | None, Any]:
    """``(body, status, headers)`` from a view's return value, tuple or not."""
    if not isinstance(rv, tuple):
        return rv, None, None
    if len(rv) == 2:
        return rv[0], rv[1], None
    return rv[0], rv[1], rv[2]


class BlueprintSetupState:
    """One registration of a blueprint on an app: what its deferred functions receive."""

    def __init__(self, blueprint: Blueprint, app: App, options: dict[str, Any]) -> None:
        self.app = app
        self.name: str = options.get("name", blueprint.name)
        self.url_prefix: str | None = options.get("url_prefix", blueprint.url_prefix)

    def add_url_rule(
        self, rule: str, endpoint: str, view_func: ViewFunction, **options: Any
    ) -> None:
        """Add a blueprint's route to the app: under the URL prefix, as ``"name.endpoint"``."""
        if self.url_prefix is not None:
            rule = self.url_prefix.rstrip("/") + rule
        self.app.add_url_rule(rule, f"{self.name}.{endpoint}", view_func, **options)


class Blueprint:
    """Routes, hooks and error handlers recorded now, and replayed on an app when registered.

    Example::

        bp = Blueprint("auth", url_prefix="/auth")

        @bp.route("/login", methods=["POST"])
        def login(): ...

        app.register_blueprint(bp)  # endpoint "auth.login", URL /auth/login
    """

    def __init__(self, name: str, url_prefix: str | None = None) -> None:
        if "." in name:
            raise ValueError("A blueprint's name may not contain a dot: it separates endpoints.")
        self.name = name
        self.url_prefix = url_prefix
        self.deferred_functions: list[DeferredSetupFunction] = []

    def record(self, func: DeferredSetupFunction) -> None:
        """Remember ``func(state)``, to be called at every registration of this blueprint."""
        self.deferred_functions.append(func)

    def register(self, app: App, options: dict[str, Any]) -> None:
        """Replay the recording on ``app`` (``app.register_blueprint`` calls this)."""
        state = BlueprintSetupState(self, app, options)
        for deferred in self.deferred_functions:
            deferred(state)

    def route(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Like ``App.route``; the endpoint becomes ``"<blueprint name>.<function name>"``."""

        def decorator(f: F) -> F:
            self.record(lambda state: state.add_url_rule(rule, f.__name__, f, **options))
            return f

        return decorator

    # Flask: Flask's blueprint keeps hooks in tables of its own, copied into the
    # app's at registration; recording them like routes needs no extra tables.
    def before_request(self, f: BeforeRequestFunction) -> BeforeRequestFunction:
        """Like ``App.before_request``, for this blueprint's requests only."""
        self.record(
            lambda state: state.app.before_request_funcs.setdefault(state.name, []).append(f)
        )
        return f

    def after_request(self, f: AfterRequestFunction) -> AfterRequestFunction:
        """Like ``App.after_request``, for this blueprint's requests only."""
        self.record(
            lambda state: state.app.after_request_funcs.setdefault(state.name, []).append(f)
        )
        return f

    def teardown_request(self, f: TeardownFunction) -> TeardownFunction:
        """Like ``App.teardown_request``, for this blueprint's requests only."""
        self.record(
            lambda state: state.app.teardown_request_funcs.setdefault(state.name, []).append(f)
        )
        return f

    def errorhandler(self, code_or_exception: int | type[Exception]) -> Callable[[F], F]:
        """Like ``App.errorhandler``; for errors of this blueprint's views it comes first."""

        def decorator(f: F) -> F:
            self.record(
                lambda state: state.app._add_error_handler(state.name, code_or_exception, f)
            )
            return f

        return decorator


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


@app.route("/admin")
def admin() -> str:
    """A page that ``require_user_for_admin`` guards."""
    return f"Welcome, {request.args['user']}"


@app.before_request
def require_user_for_admin() -> ResponseReturnValue | None:
    """A hook that answers by itself: the view never runs."""
    if request.path.startswith("/admin") and "user" not in request.args:
        return "Log in first", 401
    return None


@app.after_request
def add_powered_by(response: Response) -> Response:
    """A hook that changes every response."""
    response.headers["X-Powered-By"] = "build-it-yourself"
    return response


@app.route("/users/<int:user_id>")
def user(user_id: int) -> dict[str, str]:
    """Raises ``IndexError`` for an unknown id: ``missing`` answers for it."""
    return {"name": ["ada", "bob"][user_id]}


@app.errorhandler(404)
def page_not_found(e: HTTPException) -> tuple[str, int]:
    """A handler by status code: every 404, here the URL map's."""
    return f"Nothing at {request.path}", 404


@app.errorhandler(LookupError)
def missing(e: LookupError) -> tuple[str, int]:
    """A handler by class: ``KeyError`` and ``IndexError`` are ``LookupError``s."""
    return f"No such thing: {e}", 404


api = Blueprint("api", url_prefix="/api")


@api.before_request
def require_token() -> ResponseReturnValue | None:
    """Runs before the blueprint's views only."""
    if request.args.get("token") != "secret":
        return {"error": "token required"}, 401
    return None


@api.route("/users/<int:user_id>")
def get_user(user_id: int) -> dict[str, str]:
    """Endpoint ``"api.get_user"`` at ``/api/users/<user_id>``."""
    return {"name": ["ada", "bob"][user_id], "url": url_for("api.get_user", user_id=user_id)}


@api.errorhandler(LookupError)
def api_missing(e: LookupError) -> tuple[dict[str, str], int]:
    """For the blueprint's views this handler is nearer than the app's ``missing``."""
    return {"error": "no such user"}, 404


app.register_blueprint(api)


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
        ("GET", "/admin"),
        ("GET", "/admin?user=ada"),
        ("GET", "/users/1"),
        ("GET", "/users/7"),
        ("GET", "/api/users/1?token=secret"),
        ("GET", "/api/users/7?token=secret"),
        ("GET", "/api/users/1"),
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
