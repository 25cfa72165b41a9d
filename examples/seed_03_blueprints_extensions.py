"""Seed question 3: extensions and blueprints for a large application.

Shows, on miniflask:

1. an extension written the Flask way: ``init_app(app)`` keeps its state in
   ``app.extensions`` and hooks into the app (here a teardown), so one
   extension object serves any number of apps (the application factory);
2. blueprints per area, nested: ``api`` (``/api``) holds ``v1`` (``/v1``),
   which holds ``users``; endpoints get dotted names, URLs joined prefixes;
3. a blueprint's hook runs only for its own requests.

Read with docs/blueprints.md.
Run: ``.venv/bin/python examples/seed_03_blueprints_extensions.py``
"""

from __future__ import annotations

from typing import Any

from miniflask import Blueprint, Flask, current_app, g, request, url_for


class Counter:
    """A tiny extension: counts requests per app, resets nothing, shares no globals."""

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        app.extensions["counter"] = {"requests": 0}
        app.teardown_appcontext(self._count)

    @staticmethod
    def _count(exc: BaseException | None) -> None:
        current_app.extensions["counter"]["requests"] += 1


counter = Counter()  # created once, bound to apps later

users = Blueprint("users", __name__, url_prefix="/users")
v1 = Blueprint("v1", __name__, url_prefix="/v1")
api = Blueprint("api", __name__, url_prefix="/api")


@users.get("/")
def list_users() -> dict[str, Any]:
    return {"endpoint": request.endpoint, "blueprints": request.blueprints, "seen_by": g.seen_by}


@users.get("/<int:user_id>")
def get_user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "self": url_for(".get_user", user_id=user_id)}


@api.before_request
def api_only() -> None:
    g.seen_by = "api.before_request"


v1.register_blueprint(users)
api.register_blueprint(v1)


def create_app() -> Flask:
    """The application factory: a new app, the extension bound, the blueprints registered."""
    app = Flask(__name__)
    counter.init_app(app)
    app.register_blueprint(api)

    @app.get("/")
    def index() -> dict[str, Any]:
        return {"api_hook_ran": "seen_by" in g}

    return app


def main() -> None:
    app = create_app()
    print("routes:")
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint != "static":
            print(f"  {rule.rule:<28} -> {rule.endpoint}")
    client = app.test_client()
    print(f"GET /api/v1/users/  -> {client.get('/api/v1/users/').get_json()}")
    print(f"GET /api/v1/users/3 -> {client.get('/api/v1/users/3').get_json()}")
    print(f"GET /               -> {client.get('/').get_json()}")
    other = create_app()
    other.test_client().get("/")
    print(
        f"extension state per app: first={app.extensions['counter']}, "
        f"second={other.extensions['counter']}"
    )
    print("api.v1.users.list_users -> /api/v1/users/")


if __name__ == "__main__":
    main()
