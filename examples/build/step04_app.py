"""Step 4: the application object, its route decorator, and views' return values.

Adds: an ``App`` class that owns the URL map and the view functions, a
``route`` decorator that fills both, and ``make_response``, which turns what a
view returns (a string, a dict, a tuple with a status) into a ``Response``, so
views stop building responses by hand. The request's path is split into
Flask's methods: ``__call__`` -> ``wsgi_app`` -> ``full_dispatch_request`` ->
``dispatch_request`` -> ``make_response``.
In full: miniflask/app.py (``Flask.add_url_rule``, ``Flask.make_response``).

Run it: ``python examples/build/step04_app.py`` (a demo with Werkzeug's test
client), or ``python examples/build/step04_app.py --serve`` (http://127.0.0.1:5000).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import run_simple
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

WSGIEnvironment = dict[str, Any]
StartResponse = Callable[..., Any]
#: What a view may return; ``make_response`` turns each into a ``Response``.
ResponseReturnValue = Response | str | bytes | dict[str, Any] | list[Any] | tuple[Any, ...]
ViewFunction = Callable[..., ResponseReturnValue]
F = TypeVar("F", bound=Callable[..., Any])


class App:
    """The application: a registry of views during setup, a WSGI app during requests.

    Example::

        app = App(__name__)

        @app.route("/hello/<name>")
        def hello(request, name):
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

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI entry point: the server calls the app; the work is in ``wsgi_app``."""
        return self.wsgi_app(environ, start_response)

    def wsgi_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """One request, from ``environ`` to the response's bytes.

        Flask keeps this apart from ``__call__`` so middleware can wrap it
        (``app.wsgi_app = ProxyFix(app.wsgi_app)``) while ``app`` stays the app.
        """
        request = Request(environ)
        response = self.full_dispatch_request(request)
        return response(environ, start_response)

    def full_dispatch_request(self, request: Request) -> Response:
        """Dispatch the request and turn the result, or an HTTP error, into a response."""
        try:
            rv = self.dispatch_request(request)
        except HTTPException as e:
            rv = e.get_response(request.environ)
        return self.make_response(rv)

    def dispatch_request(self, request: Request) -> ResponseReturnValue:
        """Match the URL and call its view with the URL's variables."""
        # Binding gives an adapter: the map seen from one request's host, path and method.
        adapter = self.url_map.bind_to_environ(request.environ)
        endpoint, values = adapter.match()
        return self.view_functions[endpoint](request, **values)

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
def index(request: Request) -> str:
    """The home page."""
    return "Hello, World!"


@app.route("/hello/<name>", methods=["GET"])
def hello(request: Request, name: str) -> str:
    """A page per name: ``name`` comes from the URL, the greeting from the query string."""
    greeting = request.args.get("greeting", "Hello")
    return f"{greeting} {name}"


@app.route("/users", methods=["POST"])
def create_user(request: Request) -> tuple[dict[str, str], int]:
    """A JSON answer with a status: 201 Created."""
    return {"name": request.form["name"]}, 201


def demo(application: Any) -> None:
    """Call the app in-process, as a server would, and print what it answered."""
    client = Client(application)
    for method, path in [
        ("GET", "/"),
        ("GET", "/hello/ada"),
        ("GET", "/nowhere"),
        ("POST", "/hello/ada"),
        ("GET", "/hello/ada?greeting=Hi"),
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
