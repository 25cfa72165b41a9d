"""Seed question 4: middleware and signals, and where each runs.

Builds one miniflask app with all three kinds of "around the request" code and
prints the order in which they ran for one request:

* a WSGI middleware wrapping ``app.wsgi_app`` (outside every context);
* hooks: ``before_request`` (here: a "log in first" check that can answer
  instead of the view) and ``after_request`` (adds a header);
* signals: ``request_started``, ``template_rendered``, ``request_finished``
  receivers that only observe.

Read with docs/hooks-and-signals.md.
Run: ``.venv/bin/python examples/seed_04_middleware_signals.py``
"""

from __future__ import annotations

import time
from typing import Any

from miniflask import (
    Flask,
    g,
    render_template_string,
    request,
    request_finished,
    request_started,
    template_rendered,
)

events: list[str] = []
app = Flask(__name__)


class TimingMiddleware:
    """WSGI middleware: sees the environ and start_response, no ``request``, no ``g``."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        events.append("middleware in")
        started = time.perf_counter()

        def timed_start_response(status: str, headers: list[Any], exc_info: Any = None) -> Any:
            headers.append(("X-Elapsed-ms", f"{(time.perf_counter() - started) * 1000:.2f}"))
            return start_response(status, headers, exc_info)

        result = self.wsgi_app(environ, timed_start_response)
        events.append("middleware out")
        return result


app.wsgi_app = TimingMiddleware(app.wsgi_app)  # wrap wsgi_app, keep `app` itself


@app.before_request
def require_login() -> Any:
    events.append("before_request")
    g.user = request.headers.get("X-User")
    if g.user is None:
        return {"error": "log in first"}, 401  # the view will not run
    return None


@app.after_request
def add_header(response: Any) -> Any:
    events.append("after_request")
    response.headers["X-Served-By"] = "miniflask"
    return response


@app.get("/")
def index() -> str:
    events.append("view")
    return render_template_string("<p>Hello {{ g.user }}</p>")


def on_started(sender: Flask, **extra: Any) -> None:
    events.append("request_started")


def on_rendered(sender: Flask, template: Any, context: dict[str, Any], **extra: Any) -> None:
    events.append("template_rendered")


def on_finished(sender: Flask, response: Any, **extra: Any) -> None:
    events.append(f"request_finished({response.status_code})")


request_started.connect(on_started, app)
template_rendered.connect(on_rendered, app)
request_finished.connect(on_finished, app)


def main() -> None:
    client = app.test_client()
    response = client.get("/", headers={"X-User": "ada"})
    print(f"logged in : {response.status_code} {response.get_data(as_text=True)}")
    print(
        f"  headers : X-Served-By={response.headers['X-Served-By']}, "
        f"X-Elapsed-ms={response.headers['X-Elapsed-ms']}"
    )
    print(f"  order   : {', '.join(events)}")
    events.clear()
    response = client.get("/")
    print(f"anonymous : {response.status_code} {response.get_json()}")
    print(f"  order   : {', '.join(events)}")


if __name__ == "__main__":
    main()
