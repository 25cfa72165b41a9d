"""Class-based views: a view written as a class, registered as a function.

Flask counterpart: ``flask/views.py``.

Routing only knows view *functions*. A class-based view is a way to write
that function as a class, so related views can share code by inheritance
and be configured with arguments::

    class ListView(View):
        def __init__(self, model, template):
            self.model, self.template = model, template

        def dispatch_request(self):
            return render_template(self.template, items=self.model.all())

    app.add_url_rule("/users/", view_func=ListView.as_view("users", User, "users.html"))

:meth:`View.as_view` is the bridge: it returns a plain function that, on each
request, makes an instance (or reuses one) and calls its
:meth:`~View.dispatch_request`. :class:`MethodView` dispatches on the HTTP
method instead, one instance method per verb — the usual shape of a REST
resource. ``dispatch_request`` and the verb methods may be ``async def``:
they are called through ``current_app.ensure_sync``, like view functions.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from inspect import iscoroutinefunction
from typing import Any, ClassVar

from .globals import _cv_app, request
from .perf import PLAIN
from .typing import ResponseReturnValue, ViewFunction

#: The instance methods :class:`MethodView` treats as HTTP method handlers.
http_method_funcs = frozenset(["get", "post", "head", "options", "delete", "put", "trace", "patch"])


class View:
    """Subclass and override :meth:`dispatch_request` to write a view as a class.

    The class attributes configure the function :meth:`as_view` makes; they
    are read by ``add_url_rule`` from that function, just like the
    ``methods`` attribute a plain view function may carry.

    Example::

        class Hello(View):
            init_every_request = False

            def dispatch_request(self, name):
                return f"Hello, {name}!"

        app.add_url_rule("/hello/<name>", view_func=Hello.as_view("hello"))
    """

    #: The HTTP methods the URL rule accepts; ``None`` means ``add_url_rule``'s
    #: default (``GET``, plus the automatic ``HEAD`` and ``OPTIONS``).
    methods: ClassVar[Collection[str] | None] = None

    #: Whether ``OPTIONS`` is answered automatically; ``None`` uses the app's
    #: ``PROVIDE_AUTOMATIC_OPTIONS`` setting.
    provide_automatic_options: ClassVar[bool | None] = None

    #: Decorators applied, in list order, to the function :meth:`as_view`
    #: returns. Decorating the *class* would not work: routing never calls
    #: the class, it calls that function.
    decorators: ClassVar[list[Callable[..., Any]]] = []

    #: Make a new instance per request (``True``, safe to keep per-request
    #: data on ``self``) or one instance for all requests (``False``, cheaper;
    #: keep per-request data on ``g`` then, since requests share ``self``).
    init_every_request: ClassVar[bool] = True

    #: The names of the class's ``async def`` methods among ``dispatch_request``
    #: and the HTTP method handlers; set for each subclass when it is created.
    _coroutine_methods: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._coroutine_methods = frozenset(
            name
            for name in ("dispatch_request", *http_method_funcs)
            if iscoroutinefunction(getattr(cls, name, None))
        )

    def dispatch_request(self) -> ResponseReturnValue:
        """Handle the request; the URL rule's variables arrive as keyword arguments.

        Subclasses must override this and return a response value, exactly
        as a view function would.
        """
        raise NotImplementedError()

    @classmethod
    def as_view(cls, name: str, *class_args: Any, **class_kwargs: Any) -> ViewFunction:
        """Make the view function to register for a URL rule.

        Args:
            name: the view function's ``__name__``, which ``add_url_rule``
                uses as the endpoint name.
            *class_args: passed to the class on instantiation.
            **class_kwargs: passed to the class on instantiation.

        Returns:
            A function carrying ``view_class`` (the class, so tests can find
            or replace it), ``methods`` and ``provide_automatic_options``
            (read by ``add_url_rule``), and the class's ``__doc__`` and
            ``__module__``.
        """
        if cls.init_every_request:

            def view(**kwargs: Any) -> ResponseReturnValue:
                # ``view`` is looked up when a request arrives; by then it
                # names the final, decorated function below, so a test that
                # swaps ``view_class`` on the registered function is obeyed.
                instance = view.view_class(*class_args, **class_kwargs)  # type: ignore[attr-defined]  # a function attribute, set below
                return _call(instance, "dispatch_request", instance.dispatch_request, kwargs)

        else:
            shared_instance = cls(*class_args, **class_kwargs)

            def view(**kwargs: Any) -> ResponseReturnValue:
                return _call(
                    shared_instance, "dispatch_request", shared_instance.dispatch_request, kwargs
                )

        if cls.decorators:
            # Decorators that copy the metadata of what they wrap (such as
            # functools.wraps) should see the final name, not "view".
            view.__name__ = name
            view.__module__ = cls.__module__
            for decorator in cls.decorators:
                view = decorator(view)

        view.view_class = cls  # type: ignore[attr-defined]  # a function attribute, as Flask's
        view.__name__ = name
        view.__doc__ = cls.__doc__
        view.__module__ = cls.__module__
        view.methods = cls.methods  # type: ignore[attr-defined]  # a function attribute, as Flask's
        view.provide_automatic_options = cls.provide_automatic_options  # type: ignore[attr-defined]  # as Flask's
        return view


class MethodView(View):
    """A view that dispatches to the method named after the request's HTTP verb.

    ``GET`` calls ``self.get(**url_variables)``, ``POST`` calls
    ``self.post(...)``, and so on. :attr:`methods` is filled in from the
    handlers the class (or a base class) defines, so the URL rule accepts
    exactly the verbs the class implements and answers 405 to the rest.

    Example::

        class Counter(MethodView):
            def get(self):
                return str(session.get("count", 0))

            def post(self):
                session["count"] = session.get("count", 0) + 1
                return redirect(url_for("counter"))

        app.add_url_rule("/counter", view_func=Counter.as_view("counter"))
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A class that sets ``methods`` itself keeps it.
        if "methods" not in cls.__dict__:
            methods = _collect_methods(cls)
            if methods:
                cls.methods = methods

    def dispatch_request(self, **kwargs: Any) -> ResponseReturnValue:
        """Call the handler for ``request.method`` with the URL variables.

        ``HEAD`` falls back to ``get`` when the class has no ``head``: a HEAD
        response is a GET response without a body (RFC 9110 §9.3.2), and
        Werkzeug drops the body for us.

        Raises:
            AssertionError: no handler for the method. It only happens when
                ``methods`` was set by hand to include an unimplemented verb.
        """
        name = request.method.lower()
        handler = getattr(self, name, None)
        if handler is None and name == "head":
            name, handler = "get", getattr(self, "get", None)
        assert handler is not None, f"Unimplemented method {request.method!r}"
        return _call(self, name, handler, kwargs)


def _call(
    view: View, name: str, method: Callable[..., Any], kwargs: dict[str, Any]
) -> ResponseReturnValue:
    """Call ``method``, the view's method ``name``, through ``current_app.ensure_sync``.

    ``ensure_sync`` is what lets ``dispatch_request`` and the handlers be
    ``async def``: it wraps a coroutine function so that the call runs it
    to the end, as Flask's views do.
    """
    # PERF: Flask asks current_app.ensure_sync about the method on every
    # request (0.29 against 0.04 µs for the call, docs/perf.md). Whether the class's method is a
    # coroutine function is known when the class is created, as its
    # `methods` are; only those, or an app whose class overrides
    # ensure_sync, take the call through it. Plain version (PLAIN):
    # `current_app.ensure_sync(method)(**kwargs)`.
    app = _cv_app.get().app
    if PLAIN or name in view._coroutine_methods or app._custom_ensure_sync:
        method = app.ensure_sync(method)
    return method(**kwargs)


def _collect_methods(cls: type) -> set[str]:
    """The upper-case verbs ``cls`` handles: its bases' ``methods`` plus its own handlers.

    ``hasattr`` sees inherited handlers too, so a subclass of a class with
    ``get`` accepts ``GET`` without redefining it.
    """
    methods: set[str] = set()
    for base in cls.__bases__:
        methods.update(getattr(base, "methods", None) or ())
    for name in http_method_funcs:
        if hasattr(cls, name):
            methods.add(name.upper())
    return methods
