"""The applications under test: one scenario app for both frameworks, and two floors.

``build_app(fw)`` is handed the framework *module* (``flask`` or ``miniflask``)
and builds the same routes on it, so the code under test is identical and only
the framework underneath changes, the way ``blog_api.create_app`` works.

The two floors are the controls. They implement only the scenarios they can
without a framework (plain text, JSON with a URL parameter, POST echo, 404) and
must answer them byte for byte like Flask:

* ``werkzeug_app``: what "Flask minus Flask" costs, a hand-written app on
  Werkzeug's ``Request``, ``Map.bind_to_environ`` and ``Response``, shaped like
  Werkzeug's ``examples/shortly``, each part used the documented, general way.
  miniflask is built on the same parts but skips some of their general paths
  (``# PERF:`` in miniflask, ``benchmarks/where_time_goes.md``), so on the
  plain scenarios it comes out at or below this floor.
* ``bare_wsgi_app``: a plain WSGI function with a dict of paths, no parsing
  library at all; it shows what the harness itself (environ copy, body
  iteration) costs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

#: The WSGI callable signature, loosely: ``app(environ, start_response) -> body``.
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

SECRET_KEY = "benchmark-secret-key-not-for-production"
TEMPLATE_FOLDER = Path(__file__).parent / "templates"
HOOKS = 3
ITEMS = [{"name": f"item <{n}>", "price": n * 1.25} for n in range(10)]
ECHO_PAYLOAD = {"title": "hello", "tags": ["a", "b"], "n": 3}


def user_payload(user_id: int) -> dict[str, Any]:
    """The JSON document of the ``/users/<id>`` scenario."""
    return {"id": user_id, "name": f"user{user_id}"}


def build_app(fw: ModuleType, hooks: int = 0) -> Any:
    """Build the scenario app on the framework module ``fw``.

    Args:
        fw: ``flask`` or ``miniflask``; only its public names are used.
        hooks: how many trivial ``before_request`` and ``after_request``
            functions to register (each). The hooks scenario uses ``HOOKS``
            and is compared with the same route on a hook-free app, so the
            difference is the cost of calling hooks and nothing else.

    Returns:
        The framework's application object (a WSGI callable).
    """
    app = fw.Flask(__name__, template_folder=str(TEMPLATE_FOLDER))
    app.config["SECRET_KEY"] = SECRET_KEY

    @app.route("/text")
    def text() -> str:
        return "Hello, World!"

    @app.route("/users/<int:user_id>")
    def user(user_id: int) -> Any:
        return fw.jsonify(user_payload(user_id))

    @app.route("/echo", methods=["POST"])
    def echo() -> Any:
        return fw.jsonify(fw.request.get_json()), 201

    @app.route("/page")
    def page() -> str:
        rendered: str = fw.render_template("page.html", title="Price list", items=ITEMS)
        return rendered

    @app.route("/session")
    def session_counter() -> str:
        count = fw.session.get("n", 0) + 1
        fw.session["n"] = count
        return f"n={count}"

    app.register_blueprint(_nested_blueprints(fw))
    for index in range(hooks):
        app.before_request(_before_hook(index))
        app.after_request(_after_hook(index))
    return app


def _nested_blueprints(fw: ModuleType) -> Any:
    """``/api`` containing ``/v1`` containing one JSON route: two blueprint levels."""
    api = fw.Blueprint("api", __name__, url_prefix="/api")
    v1 = fw.Blueprint("v1", __name__, url_prefix="/v1")

    @v1.route("/items/<int:item_id>")
    def item(item_id: int) -> Any:
        return fw.jsonify({"id": item_id, "kind": "item"})

    api.register_blueprint(v1)
    return api


def _before_hook(index: int) -> Callable[[], None]:
    """A ``before_request`` function that does nothing: only the call is measured."""

    def before() -> None:
        return None

    before.__name__ = f"before_{index}"
    return before


def _after_hook(index: int) -> Callable[[Any], Any]:
    """An ``after_request`` function that returns the response unchanged."""

    def after(response: Any) -> Any:
        return response

    after.__name__ = f"after_{index}"
    return after


def flask_json(data: Any) -> bytes:
    """Bytes exactly as Flask's ``jsonify`` writes them outside debug mode.

    Flask's default provider sorts keys, uses compact separators and ends the
    document with a newline; the floors copy that so bodies compare equal.
    """
    return (json.dumps(data, separators=(",", ":"), sort_keys=True) + "\n").encode()


# -- the Werkzeug floor -------------------------------------------------------------------

_URL_MAP = Map(
    [
        Rule("/text", endpoint="text"),
        Rule("/users/<int:user_id>", endpoint="user"),
        Rule("/echo", endpoint="echo", methods=["POST"]),
    ]
)


def _on_text(request: Request) -> Response:
    return Response("Hello, World!", mimetype="text/html")


def _on_user(request: Request, user_id: int) -> Response:
    return Response(flask_json(user_payload(user_id)), mimetype="application/json")


def _on_echo(request: Request) -> Response:
    return Response(flask_json(request.get_json()), status=201, mimetype="application/json")


_HANDLERS: dict[str, Callable[..., Response]] = {
    "text": _on_text,
    "user": _on_user,
    "echo": _on_echo,
}


def werkzeug_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The Werkzeug floor: Request, ``Map.bind_to_environ``, a handler, Response.

    Werkzeug's HTTP exceptions are WSGI applications themselves, so a failed
    match answers with the same 404 page Flask sends.
    """
    request = Request(environ)
    adapter = _URL_MAP.bind_to_environ(environ)
    try:
        endpoint, values = adapter.match()
        response: Any = _HANDLERS[endpoint](request, **values)
    except HTTPException as e:
        response = e
    body: Iterable[bytes] = response(environ, start_response)
    return body


# -- the bare WSGI floor ------------------------------------------------------------------

_NOT_FOUND_BODY = NotFound().get_body().encode()
_HTML = "text/html; charset=utf-8"


def bare_wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The bare floor: the same four answers from a WSGI function and ``json``.

    No request object, no router: a path lookup, a prefix test for
    ``/users/<id>``, and ``wsgi.input`` read by hand for the echo.
    """
    path = environ["PATH_INFO"]
    method = environ["REQUEST_METHOD"]
    if path == "/text" and method == "GET":
        return _reply(start_response, "200 OK", _HTML, b"Hello, World!")
    if path.startswith("/users/") and path[7:].isdigit() and method == "GET":
        return _reply(
            start_response, "200 OK", "application/json", flask_json(user_payload(int(path[7:])))
        )
    if path == "/echo" and method == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        data = json.loads(environ["wsgi.input"].read(length))
        return _reply(start_response, "201 CREATED", "application/json", flask_json(data))
    return _reply(start_response, "404 NOT FOUND", _HTML, _NOT_FOUND_BODY)


def _reply(
    start_response: Callable[..., Any], status: str, content_type: str, body: bytes
) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]
