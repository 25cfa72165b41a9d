"""Step 1: a bare WSGI callable.

Adds: the whole contract between a web server and a Python framework (PEP 3333).
The server calls the app with ``environ`` (a dict describing the request) and
``start_response`` (a function taking the status line and the headers); the app
calls ``start_response`` once and returns an iterable of bytes: the body.
In full: ``Flask.__call__`` and ``Flask.wsgi_app`` in miniflask/app.py.

Run it: ``python examples/build/step01_wsgi.py`` (a demo with Werkzeug's test
client), or ``python examples/build/step01_wsgi.py --serve`` (http://127.0.0.1:5000).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import run_simple
from werkzeug.test import Client

WSGIEnvironment = dict[str, Any]
StartResponse = Callable[..., Any]


def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Answer every request with a greeting that names the path asked for."""
    body = f"Hello from {environ['PATH_INFO']}".encode()
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
    ]:
        response = client.open(path, method=method)
        text = " ".join(response.get_data(as_text=True).split())
        print(f"{method} {path} -> {response.status}: {text[:60]}")


if __name__ == "__main__":
    if "--serve" in sys.argv:
        run_simple("127.0.0.1", 5000, app)
    else:
        demo(app)
