"""Seed question 1: how does Flask work on WSGI, and what does Werkzeug do?

Three ways to call one application, from the bare protocol up:

1. a raw WSGI function, called by hand with an ``environ`` dict;
2. a miniflask app, called the same way: it *is* a WSGI callable;
3. the same app served by Werkzeug's server on 127.0.0.1 and fetched over a
   real socket, as gunicorn would serve it.

Read with docs/wsgi.md. Run: ``.venv/bin/python examples/seed_01_wsgi.py``
"""

from __future__ import annotations

import threading
import urllib.request
from typing import Any

from werkzeug.serving import make_server
from werkzeug.test import EnvironBuilder

from miniflask import Flask, request


def raw_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The whole protocol: read the environ, call start_response, return bytes."""
    body = f"raw WSGI saw {environ['REQUEST_METHOD']} {environ['PATH_INFO']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


app = Flask(__name__)


@app.get("/hello/<name>")
def hello(name: str) -> dict[str, Any]:
    # `request` is Werkzeug's Request, parsed from the same environ.
    return {"hello": name, "agent": request.headers.get("User-Agent")}


def call_by_hand(wsgi_app: Any, path: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """Play the server: build an environ, pass a start_response, join the body."""
    environ = EnvironBuilder(path=path, headers={"User-Agent": "by-hand"}).get_environ()
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen["status"], seen["headers"] = status, headers

    body = b"".join(wsgi_app(environ, start_response))
    return seen["status"], seen["headers"], body


def main() -> None:
    status, _, body = call_by_hand(raw_app, "/anything")
    print(f"1. raw function : {status} {body.decode()}")

    status, headers, body = call_by_hand(app, "/hello/ada")
    print(f"2. miniflask app: {status} {dict(headers)['Content-Type']} {body.decode().strip()}")
    environ_keys = sorted(EnvironBuilder(path="/").get_environ())
    print(f"   an environ has {len(environ_keys)} keys, e.g. {environ_keys[:4]}")

    server = make_server("127.0.0.1", 0, app)  # port 0: the OS picks a free one
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hello/grace"
        with urllib.request.urlopen(url, timeout=5) as response:
            print(f"3. over a socket: {response.status} {response.read().decode().strip()}")
    finally:
        server.shutdown()
    print("WSGI: the same callable answered by hand and through Werkzeug's server")


if __name__ == "__main__":
    main()
