"""Step 2: routing with Werkzeug's Map and Rule.

Adds: a URL map. Each ``Rule`` turns a URL pattern into an *endpoint* name
(``/hello/<name>`` -> ``"hello"`` with ``{"name": "ada"}``), and a dict maps
endpoint names to *view functions*. Flask keeps the two apart so that a URL can
be built back from an endpoint name (``url_for``, step 5). A URL that matches no
rule raises ``NotFound`` (404), a known URL with the wrong method raises
``MethodNotAllowed`` (405); both are ``HTTPException``s, which Werkzeug makes
WSGI applications themselves, so an error can answer the request as it is.
In full: miniflask/routing.py (binding the map) and ``Flask.dispatch_request``.

Run it: ``python examples/build/step02_routing.py`` (a demo with Werkzeug's test
client), or ``python examples/build/step02_routing.py --serve`` (http://127.0.0.1:5000).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import run_simple
from werkzeug.test import Client

WSGIEnvironment = dict[str, Any]
StartResponse = Callable[..., Any]


def index() -> str:
    """The home page."""
    return "Hello, World!"


def hello(name: str) -> str:
    """A page per name: ``name`` comes from the URL."""
    return f"Hello {name}"


url_map = Map(
    [
        Rule("/", endpoint="index"),
        Rule("/hello/<name>", endpoint="hello", methods=["GET"]),
    ]
)
view_functions: dict[str, Callable[..., str]] = {"index": index, "hello": hello}


def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Match the URL, call the view it names, and send what the view returned."""
    # Binding gives an adapter: the map seen from one request's host, path and method.
    adapter = url_map.bind_to_environ(environ)
    try:
        endpoint, values = adapter.match()
    except HTTPException as e:
        return e(environ, start_response)
    body = view_functions[endpoint](**values).encode()
    # The server sends no header by itself: the length and type are ours to give.
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    start_response("200 OK", headers)
    return [body]


def demo(application: Any) -> None:
    """Call the app in-process, as a server would, and print what it answered."""
    client = Client(application)
    for method, path in [
        ("GET", "/"),
        ("GET", "/hello/ada"),
        ("GET", "/nowhere"),
        ("POST", "/hello/ada"),
    ]:
        response = client.open(path, method=method)
        text = " ".join(response.get_data(as_text=True).split())
        print(f"{method} {path} -> {response.status}: {text[:60]}")


if __name__ == "__main__":
    if "--serve" in sys.argv:
        run_simple("127.0.0.1", 5000, app)
    else:
        demo(app)
