"""One small site on real Flask 3.1 and on miniflask: every visit must look the same.

The site uses what this file is about: templates from the app's and a
blueprint's folders, nested blueprints with context processors, template
filters and globals, sessions, flashing, class-based views and streaming.

How to read this file:

1. :func:`build_site` builds the site from a framework *module* (``flask`` or
   ``miniflask``), using only ``fw.Flask``, ``fw.Blueprint``,
   ``fw.render_template`` ..., so both sites are the same code.
2. :data:`VISITS` lists browsing sessions: each is a sequence of requests
   made with one test client, so cookies (session, flashes) carry over.
3. :func:`browse` runs one visit and returns, per request, an :class:`Answer`:
   status, the headers that matter, the body, and the signals sent, in order.
4. :func:`test_same_answers` asserts that both frameworks give equal answers.
"""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import pytest
from itsdangerous import URLSafeTimedSerializer

SITE = Path(__file__).parent / "site"
SECRET = "side-by-side-templates"


# 1. The site, written once for the Flask API.


def build_site(fw: ModuleType) -> Any:
    """The site under comparison, built on ``fw``."""
    views = importlib.import_module(f"{fw.__name__}.views")
    app = fw.Flask("tpl_site", root_path=str(SITE))
    app.config.update(SECRET_KEY=SECRET, SITE_NAME="Side by side")

    @app.context_processor
    def site_values() -> dict[str, Any]:
        return {"motto": "same everywhere"}

    @app.template_filter("shout")
    def shout(value: str) -> str:
        return f"{value.upper()}!"

    @app.template_global()
    def year() -> int:
        return 2024

    _add_public_views(fw, app)
    app.register_blueprint(_build_admin(fw, views))
    return app


def _add_public_views(fw: ModuleType, app: Any) -> None:
    @app.get("/")
    def index() -> str:
        return fw.render_template("hello.html", name=fw.session.get("user", "guest"))

    @app.post("/login")
    def login() -> Any:
        fw.session["user"] = fw.request.form["name"]
        fw.session.permanent = "remember" in fw.request.form
        fw.flash(f"Welcome, {fw.session['user']}", "info")
        return fw.redirect(fw.url_for("index"))

    @app.get("/logout")
    def logout() -> Any:
        fw.session.pop("user", None)
        fw.flash("Bye")
        return fw.redirect(fw.url_for("index"))

    @app.get("/escape")
    def escape() -> str:
        return fw.render_template_string(
            "{{ text }} {{ text|shout }} {{ year() }} {{ motto }} {{ data|tojson }}",
            text="<script>",
            data={"b": "</b>", "a": [1, 2]},
        )

    @app.get("/plain")
    def plain() -> str:
        return fw.render_template("value.txt", value="<not escaped>")

    @app.get("/stream")
    def stream() -> Any:
        return fw.stream_template("hello.html", name="streamer")

    @app.get("/missing")
    def missing() -> str:
        return fw.render_template("no-such-template.html")


def _build_admin(fw: ModuleType, views: ModuleType) -> Any:
    admin = fw.Blueprint(
        "admin",
        __name__,
        url_prefix="/admin",
        template_folder="templates",
        static_folder="static",
        root_path=str(SITE / "admin"),
    )

    @admin.context_processor
    def admin_values() -> dict[str, Any]:
        return {"section": "admin", "motto": "admin motto"}

    @admin.before_request
    def require_login() -> Any:
        if "user" not in fw.session:
            fw.flash("Please log in", "error")
            return fw.redirect(fw.url_for("index"))
        return None

    @admin.get("/")
    def dashboard() -> str:
        return fw.render_template("admin/dashboard.html", user=fw.session["user"])

    admin.register_blueprint(_build_reports(fw, views))
    return admin


def _build_reports(fw: ModuleType, views: ModuleType) -> Any:
    reports = fw.Blueprint("reports", __name__, url_prefix="/reports")

    @reports.context_processor
    def report_values() -> dict[str, Any]:
        return {"section": "reports"}

    class ReportList(views.MethodView):
        def get(self) -> str:
            return fw.render_template_string(
                "{{ section }}|{{ motto }}|{{ request.blueprint }}|"
                "{{ request.blueprints|join(',') }}|{{ url_for('.report', report_id=7) }}"
            )

        def post(self) -> Any:
            fw.flash("Report queued", "success")
            return fw.redirect(fw.url_for(".report_list"))

    class Report(views.View):
        def __init__(self, label: str) -> None:
            self.label = label

        def dispatch_request(self, report_id: int) -> str:
            return fw.render_template_string(
                "{{ label }} #{{ report_id }} for {{ session['user'] }}",
                label=self.label,
                report_id=report_id,
            )

    reports.add_url_rule("/", view_func=ReportList.as_view("report_list"))
    reports.add_url_rule("/<int:report_id>", view_func=Report.as_view("report", "Report"))
    return reports


# 2. The visits: sequences of (method, path, client keyword arguments).

Step = tuple[str, str, dict[str, Any]]

VISITS: dict[str, list[Step]] = {
    "anonymous home": [("GET", "/", {})],
    "login, redirect, flashed welcome, home": [
        ("POST", "/login", {"data": {"name": "ada"}}),
        ("GET", "/", {}),
        ("GET", "/", {}),
    ],
    "login then follow the redirect": [
        ("POST", "/login", {"data": {"name": "bob"}, "follow_redirects": True}),
    ],
    "permanent login": [
        ("POST", "/login", {"data": {"name": "ada", "remember": "1"}}),
        ("GET", "/admin/", {}),
    ],
    "admin needs login": [("GET", "/admin/", {}), ("GET", "/", {})],
    "admin pages with nested blueprints and class-based views": [
        ("POST", "/login", {"data": {"name": "ada"}}),
        ("GET", "/admin/", {}),
        ("GET", "/admin/reports/", {}),
        ("HEAD", "/admin/reports/", {}),
        ("POST", "/admin/reports/", {}),
        ("GET", "/admin/reports/", {}),
        ("GET", "/", {}),
        ("GET", "/admin/reports/7", {}),
        ("PUT", "/admin/reports/", {}),
        ("OPTIONS", "/admin/reports/", {}),
    ],
    "logout clears the session": [
        ("POST", "/login", {"data": {"name": "ada"}}),
        ("GET", "/logout", {}),
        ("GET", "/", {}),
        ("GET", "/admin/", {}),
    ],
    "escaping, filters, globals, tojson": [("GET", "/escape", {}), ("GET", "/plain", {})],
    "streamed template": [("GET", "/stream", {})],
    "missing template is a 500": [("GET", "/missing", {})],
    "static files of app and blueprint": [
        ("GET", "/static/style.css", {}),
        ("GET", "/admin/static/admin.css", {}),
        ("GET", "/static/../secret.txt", {}),
    ],
    "tampered session cookie": [
        ("SET_COOKIE", "session", {"value": "eyJ1c2VyIjoiZXZlIn0.AAAAAA.forged"}),
        ("GET", "/", {}),
        ("GET", "/admin/", {}),
    ],
}


# 3. Running a visit and describing each answer.


class Answer(NamedTuple):
    """What a browser would notice about one response, plus the signals sent."""

    status: int
    headers: dict[str, str | None]
    session: Any
    body: str
    signals: list[str]


COMPARED_HEADERS = ("Content-Type", "Content-Length", "Location", "Vary", "Allow", "Cache-Control")

SIGNAL_NAMES = (
    "request_started",
    "before_render_template",
    "template_rendered",
    "message_flashed",
    "request_finished",
)


def browse(fw: ModuleType, steps: list[Step]) -> list[Answer]:
    """Make the requests of one visit with one client; describe each response."""
    app = build_site(fw)
    app.logger.disabled = True  # the 500 of /missing is logged; keep test output clean
    client = app.test_client()
    answers = []
    for method, path, kwargs in steps:
        if method == "SET_COOKIE":
            client.set_cookie(path, kwargs["value"])
            continue
        with recorded_signals(fw, app) as signals:
            response = client.open(path, method=method, **kwargs)
            body = response.get_data(as_text=True)
        answers.append(
            Answer(
                status=response.status_code,
                headers={name: response.headers.get(name) for name in COMPARED_HEADERS},
                session=_session_cookie(response),
                body=body,
                signals=signals,
            )
        )
    return answers


@contextmanager
def recorded_signals(fw: ModuleType, app: Any) -> Iterator[list[str]]:
    """Connect to the signals of ``fw`` for ``app``; collect ``name:detail`` strings."""
    events: list[str] = []
    with ExitStack() as stack:
        for name in SIGNAL_NAMES:
            receiver = _signal_receiver(name, events)
            stack.enter_context(getattr(fw, name).connected_to(receiver, app))
        yield events


def _signal_receiver(name: str, events: list[str]) -> Any:
    def receive(sender: Any, **extra: Any) -> None:
        detail = ""
        if "template" in extra:
            detail = extra["template"].name or "<string>"
        elif "message" in extra:
            detail = f"{extra['category']}:{extra['message']}"
        elif "response" in extra:
            detail = str(extra["response"].status_code)
        events.append(f"{name}:{detail}" if detail else name)

    return receive


def _session_cookie(response: Any) -> Any:
    """The session's Set-Cookie, with the signed value replaced by the data it holds.

    The value embeds a timestamp, so two runs a second apart differ; the data
    and the cookie's attributes (expiry rounded to the hour) must not.
    """
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    if not headers:
        return None
    value, _, attributes = headers[0].partition(";")
    value = value.removeprefix("session=")
    data = _signer().loads(value) if value else "<deleted>"
    kept = [a.strip() for a in attributes.split(";") if not a.strip().startswith("Expires")]
    return data, kept, "Expires=" in attributes


def _signer() -> URLSafeTimedSerializer:
    from flask.json.tag import TaggedJSONSerializer

    return URLSafeTimedSerializer(
        SECRET,
        salt="cookie-session",
        serializer=TaggedJSONSerializer(),
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )


# 4. The comparison.


@pytest.fixture(scope="module")
def frameworks() -> Iterator[tuple[ModuleType, ModuleType]]:
    yield importlib.import_module("flask"), importlib.import_module("miniflask")


@pytest.mark.parametrize("visit", list(VISITS), ids=list(VISITS))
def test_same_answers(frameworks: tuple[ModuleType, ModuleType], visit: str) -> None:
    flask, miniflask = frameworks
    on_flask = browse(flask, VISITS[visit])
    on_miniflask = browse(miniflask, VISITS[visit])
    for step, (expected, actual) in enumerate(zip(on_flask, on_miniflask, strict=True)):
        assert actual == expected, f"step {step} of {visit!r}: {VISITS[visit][step]}"


def test_the_site_really_exercises_templates_sessions_and_flashes(
    frameworks: tuple[ModuleType, ModuleType],
) -> None:
    """Guard against a comparison of two equally broken sites: check the Flask answers."""
    flask, _ = frameworks
    answers = browse(flask, VISITS["admin pages with nested blueprints and class-based views"])
    dashboard, report_list = answers[1], answers[2]
    assert "<title>Dashboard - Side by side</title>" in dashboard.body
    assert "Admin ada: app version" in dashboard.body
    assert "template_rendered:admin/dashboard.html" in dashboard.signals
    assert (
        report_list.body == "reports|admin motto|admin.reports|admin.reports,admin|/admin/reports/7"
    )
    assert answers[4].signals[:2] == ["request_started", "message_flashed:success:Report queued"]
    assert '<p class="success">Report queued</p>' in answers[6].body
    assert answers[8].status == 405
    login = browse(flask, VISITS["login, redirect, flashed welcome, home"])
    assert login[0].session[0] == {
        "user": "ada",
        "_permanent": False,
        "_flashes": [("info", "Welcome, ada")],
    }
    assert '<p class="info">Welcome, ada</p>' in login[1].body
    assert '<p class="info">' not in login[2].body
