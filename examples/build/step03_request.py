"""Step 3: the request and response objects (Werkzeug's wrappers).

Adds: ``Request`` wraps the ``environ`` dict (``request.args``, ``request.form``,
``request.headers``, ``request.method`` parse it on first use) and ``Response``
holds a status, headers and body, and is itself a WSGI application: calling it
with ``environ`` and ``start_response`` sends it. Views now take the request as
an argument and return a response, as in Werkzeug's own tutorial; an
``HTTPException`` becomes a response with ``get_response``.
In full: miniflask/wrappers.py (Flask's subclasses of both).

Run it: ``python examples/build/step03_request.py`` (a demo with Werkzeug's test
client), or ``python examples/build/step03_request.py --serve`` (http://127.0.0.1:5000).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import run_simple
from werkzeug.test import Client
from werkzeug.wrappers import Request, Response

WSGIEnvironment = dict[str, Any]
StartResponse = Callable[..., Any]


def index(request: Request) -> Response:
    """The home page."""
    return Response("Hello, World!")


def hello(request: Request, name: str) -> Response:
    """A page per name: ``name`` comes from the URL, the greeting from the query string."""
    greeting = request.args.get("greeting", "Hello")
    return Response(f"{greeting} {name}")


url_map = Map(
    [
        Rule("/", endpoint="index"),
        Rule("/hello/<name>", endpoint="hello", methods=["GET"]),
    ]
)
view_functions: dict[str, Callable[..., Response]] = {"index": index, "hello": hello}


def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Wrap the environ in a request, call the view, and let the response answer."""
    request = Request(environ)
    # Binding gives an adapter: the map seen from one request's host, path and method.
    adapter = url_map.bind_to_environ(request.environ)
    try:
        endpoint, values = adapter.match()
        response = view_functions[endpoint](request, **values)
    except HTTPException as e:
        response = e.get_response(request.environ)
    # The response sets Content-Type and Content-Length and calls start_response itself.
    return response(environ, start_response)


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


if __name__ == "__main__":
    if "--serve" in sys.argv:
        run_simple("127.0.0.1", 5000, app)
    else:
        demo(app)
