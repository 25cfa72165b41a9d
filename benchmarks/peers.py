"""Peers beside Flask: the four simple scenarios on Bottle and on Falcon.

Where miniflask stands against Flask says little without a few other
Python WSGI frameworks measured in the same rounds. Bottle (one module, no
dependencies) and Falcon (built for APIs, partly compiled with Cython when a
wheel has it) answer the scenarios ``apps.py``'s floors answer: plain text,
JSON with a URL parameter, a POST echoed with 201, and a 404.

Each app is written the way its framework's documentation shows, and gives
the same status, body and ``Content-Type`` as the Flask scenario app (the
in-process benchmark checks all three before timing). Where a framework's
default differs from Flask's (Bottle's ``charset=UTF-8``, both frameworks'
own 404 pages), the app sets Flask's value through the framework's public API,
which costs what a real app making that choice would pay.
"""

from __future__ import annotations

from typing import Any

from werkzeug.exceptions import NotFound

from benchmarks.apps import flask_json, user_payload

#: Flask's answers that the peers copy.
HTML = "text/html; charset=utf-8"
JSON = "application/json"
NOT_FOUND_PAGE = NotFound().get_body()


def bottle_app() -> Any:
    """The four scenarios on a ``bottle.Bottle`` app."""
    import bottle

    app = bottle.Bottle()

    @app.get("/text")
    def text() -> str:
        bottle.response.content_type = HTML
        return "Hello, World!"

    @app.get("/users/<user_id:int>")
    def user(user_id: int) -> bytes:
        bottle.response.content_type = JSON
        return flask_json(user_payload(user_id))

    @app.post("/echo")
    def echo() -> bytes:
        bottle.response.status = 201
        bottle.response.content_type = JSON
        return flask_json(bottle.request.json)

    @app.error(404)
    def not_found(error: Any) -> str:
        bottle.response.content_type = HTML
        return NOT_FOUND_PAGE

    return app


def falcon_app() -> Any:
    """The four scenarios on a ``falcon.App`` (one resource class per route)."""
    import falcon

    class Text:
        def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
            resp.content_type = HTML
            resp.text = "Hello, World!"

    class User:
        def on_get(self, req: falcon.Request, resp: falcon.Response, user_id: int) -> None:
            resp.data = flask_json(user_payload(user_id))

    class Echo:
        def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
            resp.status = falcon.HTTP_201
            resp.data = flask_json(req.get_media())

    def not_found(req: falcon.Request, resp: falcon.Response, error: Any, params: Any) -> None:
        resp.status = falcon.HTTP_404
        resp.content_type = HTML
        resp.text = NOT_FOUND_PAGE

    app = falcon.App()  # answers application/json unless a responder says otherwise
    app.add_route("/text", Text())
    app.add_route("/users/{user_id:int}", User())
    app.add_route("/echo", Echo())
    app.add_error_handler(falcon.HTTPNotFound, not_found)
    return app
