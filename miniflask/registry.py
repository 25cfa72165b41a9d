"""What an app and a blueprint both record: routes, hooks, error handlers.

Flask counterpart: the decorator half of ``flask/sansio/scaffold.py``
(``Scaffold``); the path half, ``root_path`` and static files, is
``package.py``.

``@app.route`` and ``@bp.route``, ``@app.before_request`` and
``@bp.before_request`` ... look the same and store functions the same way,
so :class:`Registry` holds the decorators and the dicts once, and both
:class:`~miniflask.Flask` and :class:`~miniflask.Blueprint` extend it. Two
things differ, and each class writes its own: ``add_url_rule`` (the app adds
the rule to its URL map at once, a blueprint remembers it until it is
registered on an app) and when setup is over (after the app's first request,
after the blueprint's first registration).

Hooks and handlers are stored in dicts keyed by *scope*: ``None`` for the
whole app, or a blueprint's (dotted) name for that blueprint's requests. A
blueprint fills its own ``None`` scope; registering it copies those
functions into the app under the blueprint's name. The request then looks
them up along ``request.blueprints``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from werkzeug.exceptions import HTTPException, default_exceptions

from .typing import (
    AfterRequestFunction,
    BeforeRequestFunction,
    ErrorHandler,
    TeardownFunction,
    TemplateContextProcessor,
    URLDefaultsFunction,
    URLValuePreprocessor,
    ViewFunction,
)

if TYPE_CHECKING:
    from .cli import AppGroup

F = TypeVar("F", bound=Callable[..., Any])

#: scope (None = app, else a blueprint name) -> list of functions
ScopedFunctions = defaultdict[str | None, list[F]]


def setupmethod(f: F) -> F:
    """Mark a method that configures the app; it fails once setup is over.

    A function registered after the first request would apply to some
    workers or threads and not others, so Flask refuses it loudly.
    """

    def wrapper(self: Registry, *args: Any, **kwargs: Any) -> Any:
        self._check_setup_finished(f.__name__)
        return f(self, *args, **kwargs)

    wrapper.__name__ = f.__name__
    wrapper.__qualname__ = f.__qualname__
    wrapper.__doc__ = f.__doc__
    return wrapper  # type: ignore[return-value]


def registering_decorator(register: Callable[..., None], name: str | None) -> Callable[[F], F]:
    """A decorator that hands the function to ``register(f, name=name)`` and returns it.

    ``@app.template_filter("shout")`` and its siblings are all this, around
    their non-decorator forms (``add_template_filter`` ...).
    """

    def decorator(f: F) -> F:
        register(f, name=name)
        return f

    return decorator


class Registry:
    """The decorators and function tables shared by :class:`Flask` and :class:`Blueprint`.

    Mixed into both beside :class:`~miniflask.package.PackageFiles`, which
    takes the constructor's arguments; the tables here start empty.
    """

    #: The app's or blueprint's name: ``cli`` names its command group after it.
    name: str

    # The two things the app and a blueprint do differently, so each class
    # defines its own; they are declared here because the decorators below
    # call them. `add_url_rule(rule, endpoint, view_func, **options)`
    # connects a rule to a view; `_check_setup_finished(f_name)` raises once
    # setup is over (see `setupmethod`).
    add_url_rule: Callable[..., None]
    _check_setup_finished: Callable[[str], None]

    def __init__(self) -> None:
        #: endpoint -> view function
        self.view_functions: dict[str, ViewFunction] = {}
        #: scope -> status code (None for class-only handlers) -> exception class -> handler
        self.error_handler_spec: defaultdict[
            str | None, defaultdict[int | None, dict[type[BaseException], ErrorHandler]]
        ] = defaultdict(lambda: defaultdict(dict))
        self.before_request_funcs: ScopedFunctions[BeforeRequestFunction] = defaultdict(list)
        self.after_request_funcs: ScopedFunctions[AfterRequestFunction] = defaultdict(list)
        self.teardown_request_funcs: ScopedFunctions[TeardownFunction] = defaultdict(list)
        self.template_context_processors: ScopedFunctions[TemplateContextProcessor] = defaultdict(
            list
        )
        self.url_value_preprocessors: ScopedFunctions[URLValuePreprocessor] = defaultdict(list)
        self.url_default_functions: ScopedFunctions[URLDefaultsFunction] = defaultdict(list)

    @cached_property
    def cli(self) -> AppGroup:
        """The click group of this app's or blueprint's commands, made on first use.

        ``@app.cli.command()`` adds a command to the ``miniflask`` command
        (see ``docs/cli.md``); a blueprint's commands join the app's when it
        is registered. The group is named after the app or blueprint.
        """
        # PERF: click and miniflask.cli are imported only when a program
        # uses `app.cli`: measured after `import miniflask`, they cost 9-11 ms
        # and 640 KiB of RSS (docs/perf.md). The plain version, Flask's, is
        # `self.cli = AppGroup(self.name)` in `__init__`, paid by every app.
        from .cli import AppGroup

        return AppGroup(self.name)

    @setupmethod
    def route(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Register the decorated function as the view for ``rule``.

        Example::

            @app.route("/posts/<int:post_id>", methods=["GET", "PUT"])
            def post(post_id): ...

        Args:
            rule: the URL rule, with ``<converter:name>`` variables.
            **options: ``endpoint`` (default: the function's name),
                ``methods`` and anything :class:`werkzeug.routing.Rule`
                takes (``defaults``, ``strict_slashes``, ``host`` ...).
        """

        def decorator(f: F) -> F:
            endpoint = options.pop("endpoint", None)
            self.add_url_rule(rule, endpoint, f, **options)
            return f

        return decorator

    def _method_route(self, method: str, rule: str, options: dict[str, Any]) -> Callable[[F], F]:
        if "methods" in options:
            raise TypeError("Use the 'route' decorator to use the 'methods' argument.")
        return self.route(rule, methods=[method], **options)

    @setupmethod
    def get(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Shortcut for :meth:`route` with ``methods=["GET"]``."""
        return self._method_route("GET", rule, options)

    @setupmethod
    def post(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Shortcut for :meth:`route` with ``methods=["POST"]``."""
        return self._method_route("POST", rule, options)

    @setupmethod
    def put(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Shortcut for :meth:`route` with ``methods=["PUT"]``."""
        return self._method_route("PUT", rule, options)

    @setupmethod
    def delete(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Shortcut for :meth:`route` with ``methods=["DELETE"]``."""
        return self._method_route("DELETE", rule, options)

    @setupmethod
    def patch(self, rule: str, **options: Any) -> Callable[[F], F]:
        """Shortcut for :meth:`route` with ``methods=["PATCH"]``."""
        return self._method_route("PATCH", rule, options)

    @setupmethod
    def endpoint(self, endpoint: str) -> Callable[[F], F]:
        """Register the decorated function as the view of an existing endpoint.

        Example::

            app.url_map.add(Rule("/about", endpoint="about"))

            @app.endpoint("about")
            def about(): ...

        On a blueprint the name is not prefixed: the function joins the
        app's ``view_functions`` under that very name when the blueprint is
        registered, to serve a rule the app added.
        """

        def decorator(f: F) -> F:
            self.view_functions[endpoint] = f
            return f

        return decorator

    @setupmethod
    def url_value_preprocessor(self, f: URLValuePreprocessor) -> URLValuePreprocessor:
        """Run ``f(endpoint, view_args)`` before ``before_request`` functions.

        It may pop values from ``view_args`` (a language code shared by all
        routes, say) and keep them on ``g``, so views need not take them.
        """
        self.url_value_preprocessors[None].append(f)
        return f

    @setupmethod
    def url_defaults(self, f: URLDefaultsFunction) -> URLDefaultsFunction:
        """Run ``f(endpoint, values)`` in ``url_for`` to fill in values (the reverse of above)."""
        self.url_default_functions[None].append(f)
        return f

    @setupmethod
    def before_request(self, f: F) -> F:
        """Run ``f()`` before each request's view.

        If it returns a value other than ``None``, that value is the response
        and the view does not run (``after_request`` functions still do): the
        place for "log in first" checks.
        """
        self.before_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def after_request(self, f: F) -> F:
        """Run ``f(response)`` after the view; it must return a response (the same or new).

        Runs in reverse order of registration, and not when an unhandled
        exception ended the request (use ``teardown_request`` for cleanup).
        """
        self.after_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def teardown_request(self, f: F) -> F:
        """Run ``f(exc)`` when the request context is popped, whatever happened.

        ``exc`` is the unhandled exception, or ``None``. The return value is
        ignored. For releasing resources the request used.
        """
        self.teardown_request_funcs.setdefault(None, []).append(f)
        return f

    @setupmethod
    def context_processor(self, f: TemplateContextProcessor) -> TemplateContextProcessor:
        """Add the dict ``f()`` returns to every template's context."""
        self.template_context_processors[None].append(f)
        return f

    @setupmethod
    def errorhandler(self, code_or_exception: type[Exception] | int) -> Callable[[F], F]:
        """Register the decorated function to handle an HTTP status or an exception class.

        Example::

            @app.errorhandler(404)
            def not_found(e):
                return {"error": "not found"}, 404

        The handler receives the exception and returns a response value.
        Handlers for a status code are tried before handlers for classes,
        and among classes the most specific one wins.
        """

        def decorator(f: F) -> F:
            self.register_error_handler(code_or_exception, f)
            return f

        return decorator

    @setupmethod
    def register_error_handler(
        self, code_or_exception: type[Exception] | int, f: ErrorHandler
    ) -> None:
        """The non-decorator form of :meth:`errorhandler`."""
        exc_class, code = self._get_exc_class_and_code(code_or_exception)
        self.error_handler_spec[None][code][exc_class] = f

    @staticmethod
    def _get_exc_class_and_code(
        exc_class_or_code: type[Exception] | int,
    ) -> tuple[type[Exception], int | None]:
        """Normalise an error handler's key: ``404`` -> ``(NotFound, 404)``."""
        exc_class: type[Exception]
        if isinstance(exc_class_or_code, int):
            try:
                exc_class = default_exceptions[exc_class_or_code]
            except KeyError:
                raise ValueError(
                    f"'{exc_class_or_code}' is not a recognized HTTP error code. Use a"
                    " subclass of HTTPException with that code instead."
                ) from None
        else:
            exc_class = exc_class_or_code

        if isinstance(exc_class, Exception):
            raise TypeError(
                f"{exc_class!r} is an instance, not a class. Handlers can only be"
                " registered for Exception classes or HTTP error codes."
            )
        if not issubclass(exc_class, Exception):
            raise ValueError(
                f"'{exc_class.__name__}' is not a subclass of Exception. Handlers can"
                " only be registered for Exception classes or HTTP error codes."
            )
        if issubclass(exc_class, HTTPException):
            return exc_class, exc_class.code
        return exc_class, None
