"""The framework as blog_api's web layer sees it: a ``typing.Protocol`` of a module.

Flask counterpart: none; this describes the part of Flask's public API (the
names ``import flask`` gives) that blog_api uses. ``create_app`` imports
``flask`` or ``miniflask`` and hands that module, as ``fw``, to the blueprint
builders; they never import a framework themselves, so both frameworks can
serve apps in one process. Typing ``fw`` as :class:`Framework` rather than
``Any`` lets mypy check the web layer against both: a module satisfies a
protocol when it has every member with a compatible type (PEP 544, "Modules
as implementations of protocols"), and ``tests/blog_api/test_framework.py``
checks that ``flask`` and ``miniflask`` both do.

The protocols list only what blog_api uses, each member as Flask types it,
so a route decorator keeps the view's type (``Callable[[F], F]``) instead of
making it ``Any``. Responses are Werkzeug's ``Response``, which Flask's and
miniflask's both extend.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, MutableMapping
from datetime import timedelta
from typing import Any, NoReturn, Protocol, TypeVar

from blinker import Signal
from werkzeug.datastructures import (
    CombinedMultiDict,
    ETags,
    Headers,
    ImmutableMultiDict,
    MultiDict,
)
from werkzeug.routing import Map
from werkzeug.wrappers import Response as WerkzeugResponse

#: A view, hook or error handler: a decorator hands it back unchanged.
F = TypeVar("F", bound=Callable[..., Any])
#: A context processor: the variables it adds to every template of a blueprint.
TemplateContext = Callable[[], dict[str, Any]]


class App(Protocol):
    """The application object (``fw.Flask``, ``fw.current_app``), as blog_api uses it."""

    @property
    def config(self) -> dict[str, Any]:
        """The app's settings (``Config``, a dict)."""

    @property
    def extensions(self) -> dict[str, Any]:
        """Per-app state of extensions; blog_api keeps its database, cache and limiter here."""

    @property
    def logger(self) -> logging.Logger:
        """The app's logger (named after the app's package)."""

    @property
    def url_map(self) -> Map:
        """The Werkzeug routing map (``create_app`` adds the ``id`` converter)."""

    @property
    def permanent_session_lifetime(self) -> timedelta:
        """How long a permanent session cookie lives."""

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        **options: Any,
    ) -> None:
        """Connect a URL rule to a view function."""

    def register_blueprint(self, blueprint: Any, **options: Any) -> None:
        """Register a blueprint's routes, hooks and handlers on the app."""

    def before_request(self, f: F) -> F:
        """Run ``f`` before every request; a non-``None`` return ends the request."""

    def after_request(self, f: F) -> F:
        """Run ``f(response)`` after every request; it returns the response to send."""

    def register_error_handler(
        self, code_or_exception: type[Exception] | int, f: Callable[..., Any]
    ) -> None:
        """Handle an HTTP status code or an exception class with ``f``."""


class SetupState(Protocol):
    """What a ``record_once`` function receives at a blueprint's registration."""

    @property
    def app(self) -> App:
        """The app the blueprint is being registered on."""


class Blueprint(Protocol):
    """A blueprint (``fw.Blueprint(...)``): routes and hooks recorded for an app."""

    def route(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Decorate a view for ``rule`` (``methods=[...]`` in ``options``)."""

    def get(self, rule: str, **options: Any) -> Callable[[F], F]:
        """``route(rule, methods=["GET"])``."""

    def post(self, rule: str, **options: Any) -> Callable[[F], F]:
        """``route(rule, methods=["POST"])``."""

    def before_request(self, f: F) -> F:
        """Run ``f`` before each request this blueprint handles."""

    def after_request(self, f: F) -> F:
        """Run ``f(response)`` after each request this blueprint handles."""

    def context_processor(self, f: TemplateContext) -> TemplateContext:
        """Add ``f()``'s dict to the context of the blueprint's templates."""

    def record_once(self, func: Callable[[SetupState], None]) -> None:
        """Run ``func(state)`` at the blueprint's first registration on an app."""

    def register_error_handler(
        self, code_or_exception: type[Exception] | int, f: Callable[..., Any]
    ) -> None:
        """Handle a status code or an exception class raised in this blueprint's views."""


class Request(Protocol):
    """The request proxy (``fw.request``): Werkzeug's request plus Flask's routing data."""

    @property
    def environ(self) -> dict[str, Any]:
        """The WSGI environment (what ``Response.make_conditional`` reads)."""

    @property
    def method(self) -> str:
        """The HTTP method, upper case."""

    @property
    def path(self) -> str:
        """The path, without the query string."""

    @property
    def script_root(self) -> str:
        """Where the app is mounted (``SCRIPT_NAME``), ``""`` at the root."""

    @property
    def url(self) -> str:
        """The full URL."""

    @property
    def host(self) -> str:
        """The host (with the port, if not the default)."""

    @property
    def query_string(self) -> bytes:
        """The raw query string."""

    @property
    def headers(self) -> Headers:
        """The request headers."""

    @property
    def args(self) -> MultiDict[str, str]:
        """The parsed query string."""

    @property
    def form(self) -> ImmutableMultiDict[str, str]:
        """The parsed form body."""

    @property
    def values(self) -> CombinedMultiDict[str, str]:
        """``args`` and ``form`` together."""

    @property
    def mimetype(self) -> str:
        """The body's media type, without parameters."""

    @property
    def content_length(self) -> int | None:
        """The declared body length, if any."""

    @property
    def if_match(self) -> ETags:
        """The ``If-Match`` header, parsed."""

    @property
    def remote_addr(self) -> str | None:
        """The client's address (the proxy's, unless ``ProxyFix`` trusts one)."""

    @property
    def endpoint(self) -> str | None:
        """The matched endpoint, ``"posts.get_post"``; ``None`` when routing failed."""

    @property
    def routing_exception(self) -> Exception | None:
        """The routing error (404, 405, a bad host), raised only when the view would run."""

    def get_data(
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> Any:
        """The raw body (bytes, or text with ``as_text``)."""

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """The body parsed as JSON."""


class Framework(Protocol):
    """The names blog_api's web layer uses from ``flask`` or ``miniflask``.

    Both modules satisfy it: ``fw: Framework = miniflask`` type-checks.
    """

    def __hash__(self) -> int:
        """Modules hash by identity (``hooks.request_fields`` keeps one filter per framework)."""

    @property
    def Flask(self) -> Callable[..., App]:  # the module's class name
        """The application class."""

    @property
    def Blueprint(self) -> Callable[..., Blueprint]:  # the module's class name
        """The blueprint class: ``fw.Blueprint("posts", __name__, url_prefix="/api/v1")``."""

    @property
    def Response(self) -> type[WerkzeugResponse]:  # the module's class name
        """The response class (a Werkzeug ``Response``)."""

    @property
    def request(self) -> Request:
        """The current request."""

    @property
    def current_app(self) -> App:
        """The app handling the current request."""

    # ``g`` holds whatever attributes the request sets (``g.user``); Flask types
    # its reads as ``Any`` through ``__getattr__``, and miniflask's ``g`` is a
    # plain namespace with no such method, so no narrower type fits both.
    @property
    def g(self) -> Any:
        """The app context's namespace for per-request data."""

    @property
    def session(self) -> MutableMapping[str, Any]:
        """The signed-cookie session of the reader site."""

    @property
    def request_finished(self) -> Signal:
        """Sent with the response, after it is finalised."""

    def url_for(self, endpoint: str, **values: Any) -> str:
        """The URL of an endpoint."""

    def redirect(self, location: str, code: int = 302) -> WerkzeugResponse:
        """A redirect response to ``location``."""

    def render_template(self, template_name_or_list: str, **context: Any) -> str:
        """A template rendered with ``context``."""

    def flash(self, message: str, category: str = "message") -> None:
        """Keep a message for the next page."""

    def abort(self, code: int, *args: Any, **kwargs: Any) -> NoReturn:
        """Raise the HTTP error for ``code``."""

    def make_response(self, *args: Any) -> WerkzeugResponse:
        """A view's return value as a response object."""

    def jsonify(self, *args: Any, **kwargs: Any) -> WerkzeugResponse:
        """A JSON response."""

    def has_request_context(self) -> bool:
        """Whether a request is being handled."""

    def send_from_directory(
        self, directory: os.PathLike[str] | str, path: os.PathLike[str] | str, **kwargs: Any
    ) -> WerkzeugResponse:
        """A file under ``directory`` (safely joined), as the API page's assets are sent."""
