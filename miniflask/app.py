"""The application object, and the whole life of a request.

Flask counterpart: ``flask/app.py`` (with the parts of ``flask/sansio/app.py``
that a request meets).

A :class:`Flask` object plays two roles. During *setup* it is a registry:
decorators record view functions, hooks and error handlers, and
``register_blueprint`` merges blueprints in. During *requests* it is a WSGI
application: the server calls it with the ``environ`` dict and a
``start_response`` callable, and it returns the body.

Read the request half of this file top to bottom: ``__call__`` →
:meth:`Flask.wsgi_app` → :meth:`Flask.full_dispatch_request` →
:meth:`Flask.preprocess_request` → :meth:`Flask.dispatch_request` →
:meth:`Flask.make_response` → :meth:`Flask.finalize_request` →
:meth:`Flask.process_response` → :meth:`Flask.do_teardown_request`, then the
error path. The step numbers in the docstrings are those of Flask's
"Application Structure and Lifecycle" page; ``docs/lifecycle.md`` walks them.

This module is longer than the others on purpose: it is the one place where
a request's whole life reads in order. What a step needs that is a concept of
its own lives elsewhere — binding and matching URLs in ``routing.py``, the
decorators shared with blueprints in ``registry.py``, the contexts in
``ctx.py``.
"""

from __future__ import annotations

import os
import sys
import weakref
from collections.abc import Callable, Coroutine, Iterator
from datetime import timedelta
from functools import cached_property
from inspect import iscoroutinefunction
from itertools import chain
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import quote as url_quote

from werkzeug.datastructures import Headers, ImmutableDict
from werkzeug.exceptions import (
    Aborter,
    BadRequest,
    BadRequestKeyError,
    HTTPException,
    InternalServerError,
)
from werkzeug.routing import BuildError, Map, MapAdapter, RequestRedirect, Rule
from werkzeug.routing.exceptions import RoutingException
from werkzeug.utils import redirect as _wz_redirect
from werkzeug.wrappers import Response as BaseResponse

from . import signals
from .config import DEFAULT_CONFIG, Config, ConfigAttribute
from .ctx import AppContext, RequestContext, _AppCtxGlobals, _sentinel
from .globals import _cv_app, _cv_request, g, request, request_ctx, session
from .helpers import get_debug_flag, get_flashed_messages, get_load_dotenv
from .json.provider import DefaultJSONProvider, JSONProvider
from .logging import create_logger
from .package import PackageFiles, folder_containing_package, install_prefix
from .perf import PLAIN
from .registry import F, Registry, registering_decorator, setupmethod
from .routing import (
    CountingMap,
    MatchCache,
    bind_to_environ,
    bind_to_request,
    binds_from_request_fields,
)
from .sessions import SecureCookieSessionInterface, SessionInterface
from .templating import DispatchingJinjaLoader, Environment, _default_template_ctx_processor
from .tracing import install as install_tracer
from .tracing import tracing_enabled
from .wrappers import Request, Response, blueprint_chain, http_error_response

if TYPE_CHECKING:
    import logging

    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from werkzeug.test import Client

    from .blueprints import Blueprint
    from .testing import FlaskClient, FlaskCliRunner
    from .typing import ResponseReturnValue, TeardownFunction, ViewFunction

T = TypeVar("T")

# What make_response accepts, by kind.
# PERF: tuples built once. The plain version writes the union where it is
# used, `isinstance(rv, str | bytes | bytearray | Iterator)`, which Python
# builds again at every evaluation and then matches against the Iterator
# ABC: 0.40 against 0.22 µs per check of a dict (docs/perf.md). The same
# question, so no PLAIN branch; tests/miniflask/test_perf.py compares them.
_JSON_BODIES = (dict, list)
_PLAIN_BODIES = (str, bytes, bytearray, Iterator)
_STATUS_LINES = (str, bytes, bytearray)
_HEADER_VALUES = (Headers, dict, tuple, list)

# Characters left as they are in a URL fragment (RFC 3986 §3.5).
_ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"


def _make_timedelta(value: timedelta | int | None) -> timedelta | None:
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(seconds=value)


class Flask(PackageFiles, Registry):
    """The WSGI application: create one, register views on it, hand it to a server.

    Example::

        from miniflask import Flask

        app = Flask(__name__)

        @app.get("/")
        def index():
            return {"hello": "world"}

    Args:
        import_name: the name of the app's module or package, usually
            ``__name__``; templates and static files are found next to it.
        static_url_path: URL prefix of static files (default ``/static``).
        static_folder: folder of static files, ``None`` for no static route.
        static_host: the host of the static route when ``host_matching`` is on.
        host_matching: match rules on the ``Host`` header too.
        subdomain_matching: match rules on the subdomain of ``SERVER_NAME``.
        template_folder: folder of templates, relative to ``root_path``.
        instance_path: folder for data that is not code (database files ...).
        instance_relative_config: resolve config file names against
            ``instance_path`` instead of ``root_path``.
        root_path: the app's folder, when ``import_name`` cannot tell.
    """

    #: The classes the app builds its objects from; a subclass may swap any.
    request_class: type[Request] = Request
    response_class: type[Response] = Response
    jinja_environment = Environment
    app_ctx_globals_class = _AppCtxGlobals
    config_class = Config
    url_rule_class = Rule
    #: Flask's defaults for every setting; ``app.config`` starts as a copy.
    #: Read-only, so an app cannot change the defaults of every other app.
    default_config = ImmutableDict(DEFAULT_CONFIG)
    url_map_class: type[Map] = CountingMap
    json_provider_class: type[JSONProvider] = DefaultJSONProvider
    aborter_class = Aborter
    test_client_class: type[FlaskClient] | None = None
    test_cli_runner_class: type[FlaskCliRunner] | None = None
    session_interface: SessionInterface = SecureCookieSessionInterface()

    #: Options passed to the Jinja environment, e.g. ``{"trim_blocks": True}``.
    jinja_options: dict[str, Any] = {}

    # What the request path knows about async functions (see `_sync`): the
    # registered coroutine functions by id, None until looked for; whether
    # every function may be called directly; whether the class overrides
    # ensure_sync (decided once per class, in __init_subclass__).
    _coroutine_functions: dict[int, Callable[..., Any]] | None = None
    _all_sync = False
    _custom_ensure_sync = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._custom_ensure_sync = cls.ensure_sync is not Flask.ensure_sync

    #: Views of config keys, so ``app.testing = True`` and the config agree.
    testing = ConfigAttribute[bool]("TESTING")
    secret_key = ConfigAttribute[str | bytes | None]("SECRET_KEY")
    permanent_session_lifetime = ConfigAttribute[timedelta](
        "PERMANENT_SESSION_LIFETIME",
        get_converter=_make_timedelta,  # type: ignore[arg-type]  # None only for None
    )

    def __init__(
        self,
        import_name: str,
        static_url_path: str | None = None,
        static_folder: str | os.PathLike[str] | None = "static",
        static_host: str | None = None,
        host_matching: bool = False,
        subdomain_matching: bool = False,
        template_folder: str | os.PathLike[str] | None = "templates",
        instance_path: str | None = None,
        instance_relative_config: bool = False,
        root_path: str | None = None,
    ) -> None:
        super().__init__(import_name, static_folder, static_url_path, template_folder, root_path)
        if instance_path is not None and not os.path.isabs(instance_path):
            raise ValueError("If an instance path is provided it must be absolute.")
        self.instance_path = instance_path or self.auto_find_instance_path()
        self.config = self.make_config(instance_relative_config)
        self.json: JSONProvider = self.json_provider_class(self)
        #: What ``abort(code)`` calls: maps status codes to exception classes.
        self.aborter = self.aborter_class()

        self.url_map = self.url_map_class(host_matching=host_matching)
        # PERF: see routing.MatchCache.match (the memo of URL matches).
        self.url_match_cache = MatchCache()
        self.subdomain_matching = subdomain_matching
        self.url_build_error_handlers: list[Callable[[Exception, str, dict[str, Any]], str]] = []
        self.teardown_appcontext_funcs: list[TeardownFunction] = []
        self.shell_context_processors: list[Callable[[], dict[str, Any]]] = []
        #: Registered blueprints by name (dotted names for nested ones).
        self.blueprints: dict[str, Blueprint] = {}
        #: Where extensions keep their state: ``app.extensions["sqlalchemy"] = ...``.
        self.extensions: dict[str, Any] = {}
        self.template_context_processors[None].append(_default_template_ctx_processor)
        self._got_first_request = False

        if self.has_static_folder:
            if bool(static_host) != host_matching:
                raise AssertionError("Invalid static_host/host_matching combination")
            # A bound method in view_functions would be a reference cycle
            # (app -> view_functions -> method -> app) that keeps a discarded
            # app alive until the garbage collector runs; a weak one is not.
            app_ref = weakref.ref(self)

            def send_static_file(filename: str) -> Response:
                app = app_ref()
                assert app is not None  # an app that is serving a request is alive
                return app.send_static_file(filename)

            self.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                endpoint="static",
                host=static_host,
                view_func=send_static_file,
            )

    def auto_find_instance_path(self) -> str:
        """The default ``instance_path``: a folder named ``instance`` *beside* the app.

        Beside a module, or beside the top-level package, not inside it:
        for ``flaskr/__init__.py`` it is ``instance/`` next to ``flaskr/``,
        so data never mixes with code. An app installed in ``site-packages``
        gets ``<prefix>/var/<name>-instance`` instead.
        """
        folder = folder_containing_package(self.import_name)
        prefix = install_prefix(folder)
        if prefix is None:
            return os.path.join(folder, "instance")
        return os.path.join(prefix, "var", f"{self.name}-instance")

    def make_config(self, instance_relative: bool = False) -> Config:
        """Build ``app.config`` from Flask's defaults; ``FLASK_DEBUG`` sets ``DEBUG``."""
        root_path = self.instance_path if instance_relative else self.root_path
        defaults = dict(self.default_config)
        defaults["DEBUG"] = get_debug_flag()
        return self.config_class(root_path, defaults)

    @cached_property
    def name(self) -> str:  # type: ignore[override]  # Registry declares a plain attribute
        """The app's name: the import name, or the script's file name for ``__main__``."""
        if self.import_name == "__main__":
            filename = getattr(sys.modules["__main__"], "__file__", None)
            if filename is None:
                return "__main__"
            return os.path.splitext(os.path.basename(filename))[0]
        return self.import_name

    @cached_property
    def logger(self) -> logging.Logger:
        """The standard library logger named after the app (see ``logging.py``)."""
        return create_logger(self)

    @property
    def debug(self) -> bool:
        """Debug mode (``DEBUG``): tracebacks propagate and templates auto-reload."""
        return bool(self.config["DEBUG"])

    @debug.setter
    def debug(self, value: bool) -> None:
        self.config["DEBUG"] = value
        if self.config["TEMPLATES_AUTO_RELOAD"] is None:
            self.jinja_env.auto_reload = value

    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_first_request:
            raise AssertionError(
                f"The setup method '{f_name}' can no longer be called"
                " on the application. It has already handled its first"
                " request, any changes will not be applied"
                " consistently.\n"
                "Make sure all imports, decorators, functions, etc."
                " needed to set up the application are done before"
                " running it."
            )
        # The setup method is about to change the registered functions.
        self._functions_changed()

    # Setup: routes, blueprints and app-wide hooks.

    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: ViewFunction | None = None,
        provide_automatic_options: bool | None = None,
        **options: Any,
    ) -> None:
        """Connect a URL rule to an endpoint, and the endpoint to a view function.

        ``@app.route`` calls this. The endpoint defaults to the function's
        name; it is the name ``url_for`` builds URLs from. ``HEAD`` is
        allowed wherever ``GET`` is (Werkzeug adds it), and ``OPTIONS`` is
        answered automatically unless the view handles it itself.

        Raises:
            AssertionError: the endpoint already belongs to another function.
            TypeError: ``methods`` is a string instead of a list.
        """
        if endpoint is None:
            assert view_func is not None, "expected view func if endpoint is not provided."
            endpoint = view_func.__name__
        options["endpoint"] = endpoint

        methods = options.pop("methods", None)
        if methods is None:
            methods = getattr(view_func, "methods", None) or ("GET",)
        if isinstance(methods, str):
            raise TypeError(
                "Allowed methods must be a list of strings, for"
                ' example: @app.route(..., methods=["POST"])'
            )
        methods = {method.upper() for method in methods}
        required_methods = set(getattr(view_func, "required_methods", ()))

        if provide_automatic_options is None:
            provide_automatic_options = getattr(view_func, "provide_automatic_options", None)
        if provide_automatic_options is None:
            provide_automatic_options = (
                "OPTIONS" not in methods and self.config["PROVIDE_AUTOMATIC_OPTIONS"]
            )
            if provide_automatic_options:
                required_methods.add("OPTIONS")

        rule_obj = self.url_rule_class(rule, methods=methods | required_methods, **options)
        rule_obj.provide_automatic_options = provide_automatic_options  # type: ignore[attr-defined]  # Flask's extra Rule attribute
        self.url_map.add(rule_obj)

        if view_func is not None:
            existing = self.view_functions.get(endpoint)
            if existing is not None and existing != view_func:
                raise AssertionError(
                    "View function mapping is overwriting an existing"
                    f" endpoint function: {endpoint}"
                )
            self.view_functions[endpoint] = view_func

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: Any) -> None:
        """Merge a blueprint's routes, hooks and handlers into this app.

        Args:
            blueprint: the blueprint.
            **options: ``url_prefix``, ``subdomain``, ``url_defaults``,
                ``name`` and ``cli_group`` override the blueprint's own; the
                rest is passed to its deferred functions. See ``blueprints.py``.
        """
        blueprint.register(self, options)

    def iter_blueprints(self) -> Iterator[Blueprint]:
        """The registered blueprints, in registration order."""
        return iter(self.blueprints.values())

    @setupmethod
    def teardown_appcontext(self, f: TeardownFunction) -> TeardownFunction:
        """Run ``f(exc)`` whenever an app context is popped (after each request, too).

        The place to close what ``g`` holds, such as a database session.
        """
        self.teardown_appcontext_funcs.append(f)
        return f

    @setupmethod
    def shell_context_processor(self, f: Callable[[], dict[str, Any]]) -> Callable[..., Any]:
        """Register a function whose dict is added to an interactive shell's names."""
        self.shell_context_processors.append(f)
        return f

    def make_shell_context(self) -> dict[str, Any]:
        """The names ``miniflask shell`` starts with: ``app``, ``g`` and the processors' names."""
        names: dict[str, Any] = {"app": self, "g": g}
        for processor in self.shell_context_processors:
            names.update(processor())
        return names

    @setupmethod
    def template_filter(self, name: str | None = None) -> Callable[[F], F]:
        """Register the decorated function as a Jinja filter (``{{ x|name }}``)."""
        return registering_decorator(self.add_template_filter, name)

    @setupmethod
    def add_template_filter(self, f: Callable[..., Any], name: str | None = None) -> None:
        """The non-decorator form of :meth:`template_filter`."""
        self.jinja_env.filters[name or f.__name__] = f

    @setupmethod
    def template_test(self, name: str | None = None) -> Callable[[F], F]:
        """Register the decorated function as a Jinja test (``{% if x is name %}``)."""
        return registering_decorator(self.add_template_test, name)

    @setupmethod
    def add_template_test(self, f: Callable[..., bool], name: str | None = None) -> None:
        """The non-decorator form of :meth:`template_test`."""
        self.jinja_env.tests[name or f.__name__] = f

    @setupmethod
    def template_global(self, name: str | None = None) -> Callable[[F], F]:
        """Make the decorated function callable in every template."""
        return registering_decorator(self.add_template_global, name)

    @setupmethod
    def add_template_global(self, f: Callable[..., Any], name: str | None = None) -> None:
        """The non-decorator form of :meth:`template_global`."""
        self.jinja_env.globals[name or f.__name__] = f

    # Templates: the environment is built on first use, so an app that
    # renders nothing never pays for Jinja's setup.

    @cached_property
    def jinja_env(self) -> Environment:
        """The Jinja environment templates are rendered with."""
        return self.create_jinja_environment()

    def create_jinja_environment(self) -> Environment:
        """Build :attr:`jinja_env` with the globals Flask offers every template."""
        options = dict(self.jinja_options)
        options.setdefault("autoescape", self.select_jinja_autoescape)
        auto_reload = self.config["TEMPLATES_AUTO_RELOAD"]
        options.setdefault("auto_reload", self.debug if auto_reload is None else auto_reload)
        env = self.jinja_environment(self, **options)
        env.globals.update(
            url_for=self.url_for,
            get_flashed_messages=get_flashed_messages,
            config=self.config,
            request=request,
            session=session,
            g=g,
        )
        env.policies["json.dumps_function"] = self.json.dumps
        return env

    def create_global_jinja_loader(self) -> DispatchingJinjaLoader:
        """The loader that searches the app's template folder, then each blueprint's."""
        return DispatchingJinjaLoader(self)

    def select_jinja_autoescape(self, filename: str | None) -> bool:
        """Autoescape HTML-like templates and string templates (``filename`` is None)."""
        if filename is None:
            return True
        return filename.endswith((".html", ".htm", ".xml", ".xhtml", ".svg"))

    def update_template_context(self, context: dict[str, Any]) -> None:
        """Add the context processors' values to ``context``; explicit values win."""
        names: Iterator[str | None] = iter((None,))
        request_context = _cv_request.get(None)
        if request_context is not None:
            names = chain(names, reversed(request_context.request.blueprints))
        explicit = context.copy()
        for name in names:
            for processor in self.template_context_processors.get(name, ()):
                if not self._all_sync:  # PERF: see _sync
                    processor = self._sync(processor)
                context.update(processor())
        context.update(explicit)

    # Contexts and URL adapters.

    def app_context(self) -> AppContext:
        """A new app context: ``with app.app_context(): ...`` makes ``current_app`` work."""
        return AppContext(self)

    def request_context(self, environ: WSGIEnvironment) -> RequestContext:
        """Lifecycle step 2: a new request context for a WSGI environ (one per request)."""
        return RequestContext(self, environ)

    def test_request_context(self, *args: Any, **kwargs: Any) -> RequestContext:
        """A request context for a made-up request, for tests and the shell.

        Takes the arguments of :class:`werkzeug.test.EnvironBuilder`::

            with app.test_request_context("/posts?page=2", method="GET"):
                assert request.args["page"] == "2"
        """
        from .testing import EnvironBuilder

        builder = EnvironBuilder(self, *args, **kwargs)
        try:
            return self.request_context(builder.get_environ())
        finally:
            builder.close()

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        """Lifecycle step 2: bind the URL map to a request, or to ``SERVER_NAME`` outside one.

        The adapter both matches incoming URLs and builds URLs for
        ``url_for``; outside a request it can only build, and only when
        ``SERVER_NAME`` says which host to build for.
        """
        if request is not None:
            trusted_hosts = self.config["TRUSTED_HOSTS"]
            if trusted_hosts is not None:
                request.trusted_hosts = trusted_hosts
            if binds_from_request_fields(self, request):
                return bind_to_request(self, request)
            return bind_to_environ(self, request)
        if self.config["SERVER_NAME"] is not None:
            return self.url_map.bind(
                self.config["SERVER_NAME"],
                script_name=self.config["APPLICATION_ROOT"],
                url_scheme=self.config["PREFERRED_URL_SCHEME"],
            )
        return None

    # The life of a request, in the order it happens.

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
        """Lifecycle step 1: the WSGI server calls the app; the work is in :meth:`wsgi_app`."""
        if not self._got_first_request and tracing_enabled(self):
            # Setup is over: the tracer may wrap the app's steps (tracing.py).
            install_tracer(self)
        return self.wsgi_app(environ, start_response)

    def wsgi_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        """The WSGI application proper: one request from environ to response.

        Flask keeps this apart from ``__call__`` so middleware can wrap it
        without losing the app object: ``app.wsgi_app = ProxyFix(app.wsgi_app)``
        and every other attribute of ``app`` still works.

        Lifecycle steps 2-27, in one place:

        * 2-7: build and push the request context (app context, session, URL match);
        * 8-18: :meth:`full_dispatch_request` — hooks, view, response;
        * 19: an unhandled exception becomes an error response;
        * 20: the response is handed to the server;
        * 21-27: the contexts are popped, running the teardown functions.
        """
        ctx = self.request_context(environ)
        error: BaseException | None = None
        try:
            try:
                ctx.push()
                response = self.full_dispatch_request()
            except Exception as e:
                error = e
                response = self.handle_exception(e)
            except BaseException as e:
                error = e  # KeyboardInterrupt, SystemExit: tear down, then let it go
                raise
            return response(environ, start_response)
        finally:
            if "werkzeug.debug.preserve_context" in environ:
                # The test client keeps the contexts for `with client:` blocks.
                environ["werkzeug.debug.preserve_context"](_cv_app.get())
                environ["werkzeug.debug.preserve_context"](_cv_request.get())
            if error is not None and self.should_ignore_error(error):
                error = None
            ctx.pop(error)

    def full_dispatch_request(self) -> Response:
        """Lifecycle steps 8-18: signal, pre-process, dispatch, and turn the result into a response.

        An exception from a hook or the view is first offered to the
        user's error handlers (:meth:`handle_user_exception`); what they
        return becomes the response like a view's return value would.
        """
        self._got_first_request = True
        try:
            # PERF: every per-request signal is sent only when it has receivers.
            # blinker's send() costs 0.22 µs even with none, the check 0.03;
            # six per request add up to ~1.1 µs, 5 % of a JSON GET of 21.4 µs
            # (CPU time, median of 11 interleaved rounds, docs/perf.md). Plain
            # version: send() always, as Flask does. No PLAIN branch: to no
            # receivers send() does nothing, and to any it is sent either way.
            if signals.request_started.receivers:
                signals.request_started.send(self, _async_wrapper=self.ensure_sync)
            rv = self.preprocess_request()
            if rv is None:
                rv = self.dispatch_request()
        except Exception as e:
            rv = self.handle_user_exception(e)
        return self.finalize_request(rv)

    def preprocess_request(self) -> ResponseReturnValue | None:
        """Lifecycle steps 9-10: URL value preprocessors, then ``before_request`` functions.

        The app's functions run first, then those of each blueprint from
        the outermost to the innermost. The first ``before_request`` function
        that returns a value ends the request: the view does not run.
        """
        # PERF: the request context is read from its context variable once,
        # here and in each step below, not through the `request` proxy:
        # 0.06 against 0.65 µs per read (LocalProxy looks the variable up and
        # forwards every attribute), four steps per request (docs/perf.md).
        # Plain version: `request_ctx.request` and `request`, as Flask reads
        # them; the same object, so no PLAIN branch (test_perf.py checks).
        req = _cv_request.get().request
        names = (None, *reversed(blueprint_chain(req.endpoint)))
        for name in names:
            for url_func in self.url_value_preprocessors.get(name, ()):
                url_func(req.endpoint, req.view_args)
        for name in names:
            for before_func in self.before_request_funcs.get(name, ()):
                if not self._all_sync:  # PERF: see _sync
                    before_func = self._sync(before_func)
                rv = before_func()
                if rv is not None:
                    return rv
        return None

    def dispatch_request(self) -> ResponseReturnValue:
        """Lifecycle steps 11-12: raise the routing error, answer OPTIONS, or call the view.

        The view is called with the URL's variables as keyword arguments.
        """
        req = _cv_request.get().request  # PERF: see preprocess_request
        if req.routing_exception is not None:
            self.raise_routing_exception(req)
        rule: Rule = req.url_rule  # type: ignore[assignment]  # set: no routing error
        if req.method == "OPTIONS" and getattr(rule, "provide_automatic_options", False):
            return self.make_default_options_response()
        view = self.view_functions[rule.endpoint]
        if not self._all_sync:  # PERF: see _sync
            view = self._sync(view)
        return view(**req.view_args)  # type: ignore[arg-type]  # set whenever url_rule is

    def raise_routing_exception(self, request: Request) -> None:
        """Lifecycle step 11: raise what URL matching found: 404, 405, or a redirect.

        In debug mode a redirect with a status other than 307 or 308, for a
        request other than ``GET``, ``HEAD`` or ``OPTIONS``, becomes a
        :class:`~miniflask.debughelpers.FormDataRoutingRedirect`: browsers
        follow such a redirect with a ``GET`` and drop the form data, which
        is easy to miss.
        """
        error = cast(HTTPException, request.routing_exception)
        if (
            not isinstance(error, RequestRedirect)
            or error.code in (307, 308)
            or request.method in ("GET", "HEAD", "OPTIONS")
            or not self.debug
        ):
            raise error
        from .debughelpers import FormDataRoutingRedirect

        raise FormDataRoutingRedirect(request)

    def make_default_options_response(self) -> Response:
        """The automatic answer to ``OPTIONS``: empty, with the ``Allow`` header."""
        adapter = cast(MapAdapter, request_ctx.url_adapter)
        response = self.response_class()
        response.allow.update(adapter.allowed_methods())
        return response

    def make_response(self, rv: ResponseReturnValue | HTTPException) -> Response:
        """Lifecycle step 14: convert what a view (or hook, or handler) returned into a response.

        * ``str``/``bytes`` → a ``text/html`` response with that body;
        * ``dict``/``list`` → a JSON response (``app.json.response``);
        * an iterator/generator → a streamed response;
        * a ``Response`` (or any WSGI callable) → used as it is;
        * a tuple ``(body, status)``, ``(body, headers)`` or
          ``(body, status, headers)`` → the body converted as above, then
          the status and headers applied.

        Raises:
            TypeError: the view returned ``None`` or an unsupported type.
        """
        status: int | str | None = None
        headers: Any = None
        if isinstance(rv, tuple):
            rv, status, headers = self._unpack_response_tuple(rv)

        if rv is None:
            raise TypeError(
                f"The view function for {request.endpoint!r} did not"
                " return a valid response. The function either returned"
                " None or ended without a return statement."
            )

        if not isinstance(rv, self.response_class):
            if isinstance(rv, _JSON_BODIES):
                # Tested first: matching a dict against the Iterator ABC below
                # is slow, and no dict or list is an iterator.
                rv = self.json.response(rv)
            elif isinstance(rv, _PLAIN_BODIES):
                # Status and headers go straight into the constructor.
                rv = self._plain_response(rv, status, headers)
                status = headers = None
            elif not PLAIN and isinstance(rv, HTTPException):
                # PERF: see wrappers.http_error_response. Plain version
                # (PLAIN): the branch below, as for any WSGI callable.
                rv = http_error_response(self.response_class, rv, request.environ)
            elif isinstance(rv, BaseResponse) or callable(rv):
                rv = self._force_response(rv)
            else:
                raise TypeError(self._bad_return_type_message(rv))

        response = rv
        if status is not None:
            if isinstance(status, _STATUS_LINES):
                response.status = status
            else:
                response.status_code = status
        if headers:
            response.headers.update(headers)
        return response

    @staticmethod
    def _unpack_response_tuple(rv: tuple[Any, ...]) -> tuple[Any, Any, Any]:
        """``(body, status, headers)`` from a 2- or 3-tuple; a 2-tuple's second item
        is headers when it is a dict, list, tuple or ``Headers``, else a status."""
        if len(rv) == 3:
            return rv[0], rv[1], rv[2]
        if len(rv) == 2:
            if isinstance(rv[1], _HEADER_VALUES):
                return rv[0], None, rv[1]
            return rv[0], rv[1], None
        raise TypeError(
            "The view function did not return a valid response tuple."
            " The tuple must have the form (body, status, headers),"
            " (body, status), or (body, headers)."
        )

    def _plain_response(self, body: Any, status: Any, headers: Any) -> Response:
        """A response of ``response_class`` for a str, bytes or iterator body."""
        if headers or PLAIN:
            return self.response_class(body, status=status, headers=headers)
        # PERF: with no headers given, name the default type outright.
        # Werkzeug otherwise first asks `"content-type" in self.headers`,
        # which raises and catches a KeyError: 3.3 against 2.1 µs for an
        # iterator body. A str or bytes body takes Response's own short way
        # either way (wrappers.Response.__init__), and gains nothing here.
        # Plain version (PLAIN): the line above, for every body.
        response_class = self.response_class
        return response_class(body, status=status, mimetype=response_class.default_mimetype)

    def _force_response(self, rv: Any) -> Response:
        """Wrap another response class, or a WSGI callable, in ``response_class``."""
        try:
            return self.response_class.force_type(rv, request.environ)  # type: ignore[return-value]  # of the class it is called on
        except TypeError as e:
            raise TypeError(f"{e}\n{self._bad_return_type_message(rv)}").with_traceback(
                sys.exc_info()[2]
            ) from None

    @staticmethod
    def _bad_return_type_message(rv: Any) -> str:
        return (
            "The view function did not return a valid"
            " response. The return type must be a string,"
            " dict, list, tuple with headers or status,"
            " Response instance, or WSGI callable, but it"
            f" was a {type(rv).__name__}."
        )

    def finalize_request(
        self, rv: ResponseReturnValue | HTTPException, from_error_handler: bool = False
    ) -> Response:
        """Lifecycle steps 14-18: make the response, after-request work, ``request_finished``.

        Args:
            rv: what the view, a hook or an error handler returned.
            from_error_handler: ``True`` when building the 500 response;
                a failure in after-request work is then logged, not raised,
                so the client still gets its 500.
        """
        response = self.make_response(rv)
        try:
            response = self.process_response(response)
            if signals.request_finished.receivers:  # PERF: see full_dispatch_request
                signals.request_finished.send(
                    self, _async_wrapper=self.ensure_sync, response=response
                )
        except Exception:
            if not from_error_handler:
                raise
            self.logger.exception("Request finalizing failed with an error while handling an error")
        return response

    def process_response(self, response: Response) -> Response:
        """Lifecycle steps 15-17: ``after_this_request``, ``after_request``, save the session.

        ``after_request`` functions run innermost blueprint first, app last,
        each in reverse order of registration — the mirror image of
        ``before_request`` — and each may return a different response.
        """
        ctx = _cv_request.get()  # PERF: see preprocess_request
        for func in ctx._after_request_functions:
            # Registered during this request, so not among the functions
            # `_sync` knows: asked about each time, as Flask does.
            response = self.ensure_sync(func)(response)
        for name in (*blueprint_chain(ctx.request.endpoint), None):
            for func in reversed(self.after_request_funcs.get(name, ())):
                if not self._all_sync:  # PERF: see _sync
                    func = self._sync(func)
                response = func(response)
        # ``_session``: reading ``ctx.session`` would mark the session accessed.
        session = ctx._session
        if session is not None and not self.session_interface.is_null_session(session):
            self.session_interface.save_session(self, session, response)
        return response

    def do_teardown_request(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]  # _sentinel: not given, as in Flask
        """Lifecycle steps 21-22: ``teardown_request`` functions, then ``request_tearing_down``.

        Called by ``RequestContext.pop`` after the response went to the
        server. Functions run innermost blueprint first, each scope in
        reverse order of registration, and receive the unhandled exception
        or ``None``.
        """
        if exc is _sentinel:
            exc = sys.exc_info()[1]
        endpoint = _cv_request.get().request.endpoint  # PERF: see preprocess_request
        for name in (*blueprint_chain(endpoint), None):
            for func in reversed(self.teardown_request_funcs.get(name, ())):
                self._call_teardown(func, exc)
        if signals.request_tearing_down.receivers:  # PERF: see full_dispatch_request
            signals.request_tearing_down.send(self, _async_wrapper=self.ensure_sync, exc=exc)

    def do_teardown_appcontext(self, exc: BaseException | None = _sentinel) -> None:  # type: ignore[assignment]  # _sentinel: not given, as in Flask
        """Lifecycle steps 24-25: ``teardown_appcontext`` functions, ``appcontext_tearing_down``."""
        if exc is _sentinel:
            exc = sys.exc_info()[1]
        for func in reversed(self.teardown_appcontext_funcs):
            self._call_teardown(func, exc)
        if signals.appcontext_tearing_down.receivers:  # PERF: see full_dispatch_request
            signals.appcontext_tearing_down.send(self, _async_wrapper=self.ensure_sync, exc=exc)

    def _call_teardown(self, func: TeardownFunction, exc: BaseException | None) -> None:
        # Flask: an exception in a teardown function propagates and stops the
        # remaining ones (Flask's docs ask teardown code never to raise).
        # miniflask logs it and goes on, so one failing cleanup neither skips
        # the others (a database session left open) nor replaces a response
        # that was already sent.
        try:
            if not self._all_sync:  # PERF: see _sync
                func = self._sync(func)
            func(exc)
        except Exception:
            self.logger.exception("Exception in teardown function %r", func)

    # The error path: exceptions raised by hooks, views and URL matching.

    def handle_user_exception(self, e: Exception) -> ResponseReturnValue | HTTPException:
        """Lifecycle step 13: offer an exception to the registered error handlers.

        HTTP errors (``abort(404)``, routing errors) go to
        :meth:`handle_http_exception`. Any other exception goes to its
        handler if there is one; if not, it is re-raised for
        :meth:`handle_exception`.
        """
        if isinstance(e, BadRequestKeyError) and (
            self.debug or self.config["TRAP_BAD_REQUEST_ERRORS"]
        ):
            e.show_exception = True
        if isinstance(e, HTTPException) and not self.trap_http_exception(e):
            return self.handle_http_exception(e)
        handler = self._find_error_handler(e, request.blueprints)
        if handler is None:
            raise e
        return self._sync(handler)(e)

    def handle_http_exception(self, e: HTTPException) -> ResponseReturnValue | HTTPException:
        """Lifecycle step 13 for HTTP errors: find the handler, or the error is the response.

        Werkzeug's ``HTTPException`` is a WSGI application that renders a
        small HTML error page, so "no handler" still gives a proper 404.
        Routing redirects are never handled: they are responses, not errors.
        """
        if e.code is None or isinstance(e, RoutingException):
            return e
        handler = self._find_error_handler(e, request.blueprints)
        if handler is None:
            return e
        return self._sync(handler)(e)

    def trap_http_exception(self, e: Exception) -> bool:
        """Whether an HTTP error should propagate like any exception (for debugging).

        ``TRAP_HTTP_EXCEPTIONS`` traps all; ``TRAP_BAD_REQUEST_ERRORS`` traps
        400s, and by default a missing form key is trapped in debug mode so
        its traceback shows which key.
        """
        if self.config["TRAP_HTTP_EXCEPTIONS"]:
            return True
        trap_bad_request = self.config["TRAP_BAD_REQUEST_ERRORS"]
        if trap_bad_request is None and self.debug and isinstance(e, BadRequestKeyError):
            return True
        if trap_bad_request:
            return isinstance(e, BadRequest)
        return False

    def _find_error_handler(
        self, e: Exception, blueprints: list[str]
    ) -> Callable[[Any], Any] | None:
        """Lifecycle steps 13 and 19: the handler for ``e``, by status code, then by class.

        Each lookup walks the blueprint chain (innermost first) then the
        app, and within a scope walks the exception's MRO, so the most
        specific handler of the nearest scope wins.
        """
        exc_class, code = self._get_exc_class_and_code(type(e))
        names = (*blueprints, None)
        for key in (code, None) if code is not None else (None,):
            for name in names:
                handler_map = (
                    self.error_handler_spec[name].get(key)
                    if name in self.error_handler_spec
                    else None
                )
                if not handler_map:
                    continue
                for cls in exc_class.__mro__:
                    handler = handler_map.get(cls)
                    if handler is not None:
                        return handler
        return None

    def handle_exception(self, e: Exception) -> Response:
        """Lifecycle step 19: an exception no handler took becomes a 500 Internal Server Error.

        ``got_request_exception`` is sent first. In debug or testing mode
        (or with ``PROPAGATE_EXCEPTIONS``) the exception is re-raised
        instead, so the debugger or the test sees the real traceback. Else
        it is logged and a handler for 500 / ``InternalServerError`` may
        shape the response; ``e.original_exception`` is the real error.
        """
        exc_info = sys.exc_info()
        signals.got_request_exception.send(self, _async_wrapper=self.ensure_sync, exception=e)
        propagate = self.config["PROPAGATE_EXCEPTIONS"]
        if propagate is None:
            propagate = self.testing or self.debug
        if propagate:
            if exc_info[1] is e:
                raise
            raise e

        self.log_exception(exc_info)
        server_error: Any = InternalServerError(original_exception=e)
        handler = self._find_error_handler(server_error, request.blueprints)
        if handler is not None:
            server_error = self._sync(handler)(server_error)
        return self.finalize_request(server_error, from_error_handler=True)

    def log_exception(self, exc_info: Any) -> None:
        """Log an unhandled exception with its traceback, naming the request."""
        self.logger.error(f"Exception on {request.path} [{request.method}]", exc_info=exc_info)

    def should_ignore_error(self, error: BaseException | None) -> bool:
        """Return ``True`` to hide ``error`` from teardown functions (never, by default)."""
        return False

    # URL building.

    def url_for(
        self,
        /,
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: Any,
    ) -> str:
        """Build the URL of an endpoint; ``miniflask.url_for`` calls this.

        Inside a request, URLs are relative to the request's host and
        ``.name`` means "``name`` in the current blueprint". Outside a
        request only ``SERVER_NAME`` says where the app lives, and URLs are
        external (with scheme and host). Values that are not URL variables
        become the query string.

        Raises:
            RuntimeError: outside a request without ``SERVER_NAME``.
            werkzeug.routing.BuildError: no rule can build the URL.
        """
        request_context = _cv_request.get(None)
        if request_context is not None:
            url_adapter = request_context.url_adapter
            blueprint_name = request_context.request.blueprint
            if endpoint[:1] == ".":
                endpoint = f"{blueprint_name}{endpoint}" if blueprint_name else endpoint[1:]
            if _external is None:
                _external = _scheme is not None
        else:
            app_context = _cv_app.get(None)
            if app_context is not None and app_context.app is self:
                url_adapter = app_context.url_adapter
            else:
                url_adapter = self.create_url_adapter(None)
            if url_adapter is None:
                raise RuntimeError(
                    "Unable to build URLs outside an active request"
                    " without 'SERVER_NAME' configured. Also configure"
                    " 'APPLICATION_ROOT' and 'PREFERRED_URL_SCHEME' as"
                    " needed."
                )
            if _external is None:
                _external = True

        if _scheme is not None and not _external:
            raise ValueError("When specifying '_scheme', '_external' must be True.")

        self.inject_url_defaults(endpoint, values)
        try:
            rv = cast(MapAdapter, url_adapter).build(
                endpoint,
                values,
                method=_method,
                url_scheme=_scheme,
                force_external=_external,
            )
        except BuildError as error:
            values.update(_anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external)
            return self.handle_url_build_error(error, endpoint, values)

        if _anchor is not None:
            rv = f"{rv}#{url_quote(_anchor, safe=_ANCHOR_SAFE)}"
        return rv

    def inject_url_defaults(self, endpoint: str, values: dict[str, Any]) -> None:
        """Let ``url_defaults`` functions of the app and the endpoint's blueprints fill values."""
        names: Iterator[str | None] = iter((None,))
        if "." in endpoint:
            blueprint = endpoint.rpartition(".")[0]
            parts = blueprint.split(".")
            chain_names = [".".join(parts[: i + 1]) for i in range(len(parts))]
            names = chain(names, chain_names)
        for name in names:
            for func in self.url_default_functions.get(name, ()):
                func(endpoint, values)

    def handle_url_build_error(
        self, error: BuildError, endpoint: str, values: dict[str, Any]
    ) -> str:
        """Give ``url_build_error_handlers`` a chance to build the URL, else re-raise."""
        for handler in self.url_build_error_handlers:
            try:
                rv = handler(error, endpoint, values)
            except BuildError as e:
                error = e  # a handler may raise a more precise error
            else:
                if rv is not None:
                    return rv
        if error is sys.exc_info()[1]:
            raise
        raise error

    def redirect(self, location: str, code: int = 302) -> BaseResponse:
        """A redirect response of this app's response class (``miniflask.redirect`` calls it)."""
        return _wz_redirect(location, code=code, Response=self.response_class)

    # Async functions. WSGI is synchronous: the server calls the app and
    # waits for the response. An `async def` view, hook or error handler is
    # therefore run to completion, on an event loop of its own, when it is
    # called (see docs/async.md).

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """A version of ``func`` that synchronous code can call: ``func`` itself, or a wrapper.

        A plain ``def`` function is returned as it is; an ``async def``
        function is wrapped by :meth:`async_to_sync`, so calling the wrapper
        runs the coroutine to its end and returns its result. Flask asks
        this of every view, ``before_request``, ``after_request`` and
        teardown function, error handler and context processor before
        calling it, which is why each of them may be ``async def``.

        Override it to run async functions another way. An extension whose
        decorator calls the view itself should call it as
        ``current_app.ensure_sync(view)(*args, **kwargs)``, so that the
        decorator works on async views too.
        """
        if iscoroutinefunction(func):
            return self.async_to_sync(func)
        return func

    def async_to_sync(self, func: Callable[..., Coroutine[Any, Any, Any]]) -> Callable[..., Any]:
        """Wrap a coroutine function so that each call runs the coroutine to completion.

        asgiref's ``async_to_sync`` does it: every call starts a new event
        loop in a thread of its own, runs the coroutine there while the
        calling thread waits, then closes the loop. Context variables are
        copied in and back, so ``request`` and ``g`` work inside the
        coroutine. Override this to run coroutines elsewhere, on a loop that
        lives longer, say.

        Raises:
            RuntimeError: asgiref is not installed; ``pip install "miniflask[async]"``.
        """
        try:
            from asgiref.sync import async_to_sync
        except ImportError:
            # Flask: Flask's message says "Install Flask with the 'async'
            # extra"; the extra to install here is miniflask's.
            raise RuntimeError(
                "Install miniflask with the 'async' extra in order to use async views."
            ) from None
        return async_to_sync(func)

    def _sync(self, func: Callable[..., T]) -> Callable[..., T]:
        """What ``self.ensure_sync(func)`` returns, asking it only where the answer can differ.

        The request path calls this, and only when :attr:`_all_sync` is
        false, where Flask calls ``self.ensure_sync(func)`` before each call
        of a registered function.
        """
        # PERF: Flask's ensure_sync asks inspect.iscoroutinefunction about
        # every view, hook and handler at every call (~0.4 µs each), though
        # the answer changes only when the registered functions do. So the
        # app finds its coroutine functions once, at its first call after
        # setup changed (`_find_coroutine_functions`), and an app with none,
        # whose class keeps Flask's ensure_sync, calls every function
        # directly (`_all_sync`: one attribute check, ~10 ns). Plain version:
        # `self.ensure_sync(func)(...)` at every call site; the hooks
        # scenario (a view, 3 before and 3 after hooks) took 10 % longer that
        # way (CPU time, median of 31 rounds: 91.0 against 82.6 µs, idle
        # machine). With PLAIN, `_all_sync` stays false and this asks
        # `self.ensure_sync` about every function.
        # Flask: an async function put into a table directly, not through a
        # setup method, after the app last looked (its first call of a
        # registered function since setup) is called without conversion; and
        # an ensure_sync assigned to the app object, or to a class after the
        # class was created, is not asked about plain functions (async ones
        # always go through `self.ensure_sync`).
        coroutine_functions = self._coroutine_functions
        if coroutine_functions is None:
            coroutine_functions = self._find_coroutine_functions()
        if PLAIN or id(func) in coroutine_functions or self._custom_ensure_sync:
            return self.ensure_sync(func)
        return func

    def _find_coroutine_functions(self) -> dict[int, Callable[..., Any]]:
        """The registered ``async def`` functions, by ``id`` (see :meth:`_sync`).

        Keyed by ``id``: a callable need not be hashable (a dataclass
        instance with ``__call__`` is not). The dict holds each function, so
        its ``id`` cannot be reused while it is there.
        """
        found = {
            id(func): func for func in self._registered_functions() if iscoroutinefunction(func)
        }
        self._coroutine_functions = found
        self._all_sync = not PLAIN and not found and not self._custom_ensure_sync
        return found

    def _registered_functions(self) -> Iterator[Callable[..., Any]]:
        """Every function the request path calls through :meth:`_sync`."""
        yield from self.view_functions.values()
        for table in (
            self.before_request_funcs,
            self.after_request_funcs,
            self.teardown_request_funcs,
            self.template_context_processors,
        ):
            for functions in table.values():
                yield from functions
        yield from self.teardown_appcontext_funcs
        for handlers_by_code in self.error_handler_spec.values():
            for handlers in handlers_by_code.values():
                yield from handlers.values()

    def _functions_changed(self) -> None:
        """Forget which registered functions are async: setup (or the tracer) changed them."""
        self._coroutine_functions = None
        self._all_sync = False

    # Serving and testing.

    def test_client(self, use_cookies: bool = True, **kwargs: Any) -> Client:
        """A client that calls the app in-process: ``app.test_client().get("/")``.

        It keeps cookies between requests, takes ``json=`` and, used as
        ``with client:``, keeps the last request's contexts so a test can
        inspect ``request``, ``session`` and ``g`` afterwards.
        """
        from .testing import FlaskClient

        cls = self.test_client_class or FlaskClient
        return cls(self, self.response_class, use_cookies=use_cookies, **kwargs)

    def test_cli_runner(self, **kwargs: Any) -> FlaskCliRunner:
        """A click runner that invokes this app's ``app.cli`` commands in-process.

        ``runner.invoke(args=["init-db"])`` runs the command as the
        ``miniflask`` command would, app context included, and returns
        click's ``Result`` (``exit_code``, ``output``). The class is
        :attr:`test_cli_runner_class`, by default
        :class:`~miniflask.testing.FlaskCliRunner`; ``kwargs`` go to it.
        """
        from .testing import FlaskCliRunner

        cls = self.test_cli_runner_class or FlaskCliRunner
        return cls(self, **kwargs)

    def run(
        self,
        host: str | None = None,
        port: int | None = None,
        debug: bool | None = None,
        load_dotenv: bool = True,
        **options: Any,
    ) -> None:
        """Serve the app on Werkzeug's development server (not for production).

        In debug mode the server reloads on code changes and shows the
        interactive debugger on errors. The ``miniflask run`` command does
        the same from the shell; while any ``miniflask`` command runs
        (``FLASK_RUN_FROM_CLI`` is set), this method only prints a warning,
        so a module ending with a bare ``app.run()`` does not start a
        server when the command imports it.

        Args:
            host: interface to listen on; ``127.0.0.1`` by default.
            port: port; 5000 by default (or the port of ``SERVER_NAME``).
            debug: turn debug mode on or off.
            load_dotenv: load ``.flaskenv`` and ``.env`` first (with
                python-dotenv, unless ``FLASK_SKIP_DOTENV`` is set); a
                ``FLASK_DEBUG`` they set applies unless ``debug`` is given.
            **options: passed to :func:`werkzeug.serving.run_simple`.
        """
        from werkzeug.serving import is_running_from_reloader, run_simple

        if os.environ.get("FLASK_RUN_FROM_CLI") == "true":
            if not is_running_from_reloader():
                import click  # loaded already: a CLI command is running

                click.secho(
                    " * Ignoring a call to 'app.run()' that would block the current"
                    " 'miniflask' CLI command.\n"
                    "   Only call 'app.run()' in an 'if __name__ == \"__main__\"' guard.",
                    fg="red",
                )
            return
        from . import cli

        if get_load_dotenv(load_dotenv):
            cli.load_dotenv()
            if "FLASK_DEBUG" in os.environ:
                self.debug = get_debug_flag()
        if debug is not None:
            self.debug = bool(debug)
        server_name = self.config.get("SERVER_NAME")
        sn_host, _, sn_port = (server_name or "").partition(":")
        host = host or sn_host or "127.0.0.1"
        # `port=0` asks the OS for a free port: test it against None, not
        # for truth, or 0 would silently become 5000.
        port = int(port if port is not None else sn_port or 5000)
        options.setdefault("use_reloader", self.debug)
        options.setdefault("use_debugger", self.debug)
        options.setdefault("threaded", True)
        cli.show_server_banner(self.debug, self.name)
        try:
            run_simple(host, port, self, **options)
        finally:
            # A reloaded or restarted server may set the app up again.
            self._got_first_request = False
