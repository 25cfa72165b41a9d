"""The request tracer: the life of one request, step by step, with timings.

Flask counterpart: none. This is miniflask's own teaching aid.

Reading ``app.py`` tells what *can* happen to a request; a trace shows what
*did* happen to one: which contexts were pushed, which rule matched, which
``before_request`` function ended the request early, which signals had
receivers, which error handler ran, and how long each step took::

    $ miniflask --app blog_api.wsgi trace GET /api/v1/posts

How it stays nearly free when it is off: the only tracing code in
``app.py`` is the two-part check at the top of ``Flask.__call__``. Until
the first request has been dispatched it asks :func:`tracing_enabled`;
when ``TRACE`` is set in the config (or ``MINIFLASK_TRACE=1`` in the
environment) it calls :func:`install`, which *wraps* the app's own steps —
its methods, hooks, handlers, views and signals — in small functions that
record a step and call the original. From the first request on, an app
without ``TRACE`` pays one attribute test per request
(``self._got_first_request``) and otherwise runs the code it would run
without this module.

A trace is a tree of :class:`Step` objects, kept per request in a
``ContextVar`` (like the request itself), and collected by the app's
:class:`Tracer` in ``app.extensions["miniflask.tracer"]``.

:func:`record_modules` (``trace --files``) answers another question: which
of miniflask's modules a request calls into, in order, and so how many
files a reader following it opens.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from inspect import iscoroutinefunction
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

from . import signals

if TYPE_CHECKING:
    from .app import Flask

_current_trace: ContextVar[Trace] = ContextVar("miniflask.trace")
_install_lock = threading.Lock()

#: The logger finished traces are written to, one tree per request, at INFO.
logger = logging.getLogger("miniflask.trace")

EXTENSION_KEY = "miniflask.tracer"

T = TypeVar("T")


def tracing_enabled(app: Flask) -> bool:
    """Whether ``TRACE`` is on for ``app`` (config key, or ``MINIFLASK_TRACE`` set to 1)."""
    if app.config.get("TRACE"):
        return True
    return os.environ.get("MINIFLASK_TRACE", "").lower() in {"1", "true", "yes"}


@dataclass
class Step:
    """One step of a request: a name, what it was about, its timing and its sub-steps."""

    name: str
    detail: str = ""
    start_ns: int = 0
    end_ns: int = 0
    notes: list[str] = field(default_factory=list)
    children: list[Step] = field(default_factory=list)

    @property
    def duration_ms(self) -> float:
        return (self.end_ns - self.start_ns) / 1e6

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form, for ``trace --json`` and for tools."""
        return {
            "name": self.name,
            "detail": self.detail,
            "duration_ms": round(self.duration_ms, 4),
            "notes": list(self.notes),
            "children": [child.to_dict() for child in self.children],
        }


class Trace:
    """The tree of steps of one request, built while the request runs."""

    def __init__(self, method: str, path: str) -> None:
        self.root = Step("request", f"{method} {path}", start_ns=time.perf_counter_ns())
        self._open: list[Step] = [self.root]

    @contextmanager
    def step(self, name: str, detail: str = "") -> Iterator[Step]:
        """Record a step around the ``with`` body, nested in the step now open."""
        step = Step(name, detail, start_ns=time.perf_counter_ns())
        self._open[-1].children.append(step)
        self._open.append(step)
        try:
            yield step
        except BaseException as e:
            step.notes.append(f"raised {type(e).__name__}")
            raise
        finally:
            step.end_ns = time.perf_counter_ns()
            self._open.pop()

    def note(self, text: str) -> None:
        """Add a remark to the step now open."""
        self._open[-1].notes.append(text)

    def finish(self) -> None:
        self.root.end_ns = time.perf_counter_ns()

    def names(self) -> list[str]:
        """Every step's ``"name detail"``, depth first: handy in tests."""
        found: list[str] = []

        def walk(step: Step) -> None:
            for child in step.children:
                found.append(f"{child.name} {child.detail}".strip())
                walk(child)

        walk(self.root)
        return found

    def format(self) -> str:
        """The trace as an indented tree with timings."""
        lines = [f"{self.root.detail}  ({self.root.duration_ms:.3f} ms)"]

        def walk(step: Step, prefix: str) -> None:
            for index, child in enumerate(step.children):
                last = index == len(step.children) - 1
                branch, indent = ("└─ ", "   ") if last else ("├─ ", "│  ")
                label = f"{child.name} {child.detail}".strip()
                notes = f"  [{'; '.join(child.notes)}]" if child.notes else ""
                lines.append(f"{prefix}{branch}{label}  {child.duration_ms:.3f} ms{notes}")
                walk(child, prefix + indent)

        walk(self.root, "")
        return "\n".join(lines)


class Tracer:
    """Collects the traces of an app's requests (the most recent ``keep``)."""

    def __init__(self, keep: int = 100) -> None:
        self.traces: deque[Trace] = deque(maxlen=keep)

    @property
    def last(self) -> Trace | None:
        """The most recent finished trace."""
        return self.traces[-1] if self.traces else None

    def collect(self, trace: Trace) -> None:
        self.traces.append(trace)
        if logger.isEnabledFor(logging.INFO):
            logger.info("%s", trace.format())


def _label(func: Callable[..., Any]) -> str:
    """``module.qualname`` of a function, for the trace."""
    func = getattr(func, "__wrapped__", func)
    name = getattr(func, "__qualname__", None) or repr(func)
    module = getattr(func, "__module__", None)
    return f"{module}.{name}" if module else name


def _record(
    name: str,
    func: Callable[..., Any],
    detail: str | None = None,
    note_result: Callable[[Any], str | None] | None = None,
) -> Callable[..., Any]:
    """Wrap ``func`` so each call is a step named ``name`` in the current trace.

    ``note_result``, if given, turns the return value into a remark on the step.
    """
    if getattr(func, "_miniflask_traced", False):
        return func
    if iscoroutinefunction(func):
        return _record_async(name, func, detail, note_result)

    @functools.wraps(func)
    def traced(*args: Any, **kwargs: Any) -> Any:
        trace = _current_trace.get(None)
        if trace is None:
            return func(*args, **kwargs)
        with trace.step(name, _label(func) if detail is None else detail):
            rv = func(*args, **kwargs)
            remark = note_result(rv) if note_result is not None else None
            if remark:
                trace.note(remark)
            return rv

    traced._miniflask_traced = True  # type: ignore[attr-defined]  # a marker on a function object, which mypy does not model
    return traced


def _record_async(
    name: str,
    func: Callable[..., Any],
    detail: str | None,
    note_result: Callable[[Any], str | None] | None,
) -> Callable[..., Any]:
    """:func:`_record` for an ``async def`` function: the wrapper is ``async def`` too.

    The app must still see a coroutine function, so that ``ensure_sync``
    runs it on an event loop. The step covers the whole run of the
    coroutine: asgiref copies the context variables into the loop's thread,
    so the wrapper finds the request's trace there.
    """

    @functools.wraps(func)
    async def traced(*args: Any, **kwargs: Any) -> Any:
        trace = _current_trace.get(None)
        if trace is None:
            return await func(*args, **kwargs)
        with trace.step(name, _label(func) if detail is None else detail):
            trace.note("async: run by ensure_sync on an event loop")
            rv = await func(*args, **kwargs)
            remark = note_result(rv) if note_result is not None else None
            if remark:
                trace.note(remark)
            return rv

    traced._miniflask_traced = True  # type: ignore[attr-defined]  # a marker on a function object, which mypy does not model
    return traced


def install(app: Flask) -> Tracer:
    """Wrap ``app``'s steps so that every request is traced; return the app's tracer.

    Called by the app before its first request when ``TRACE`` is on (after
    setup, so every hook and view is already registered). Calling it again
    does nothing.
    """
    with _install_lock:
        tracer = app.extensions.get(EXTENSION_KEY)
        if tracer is not None:
            return tracer
        tracer = Tracer()
        app.extensions[EXTENSION_KEY] = tracer
        _wrap_entry(app, tracer)
        _wrap_contexts(app)
        _wrap_lifecycle(app)
        _wrap_registered_functions(app)
        app._functions_changed()  # the tables now hold the wrappers
        _wrap_signals(app)
        return tracer


def _wrap_entry(app: Flask, tracer: Tracer) -> None:
    """The root step: the WSGI call (through any middleware on ``app.wsgi_app``)."""
    inner = app.wsgi_app

    @functools.wraps(inner)
    def wsgi_app(environ: dict[str, Any], start_response: Any) -> Any:
        trace = Trace(environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/"))
        token = _current_trace.set(trace)
        try:
            with trace.step("wsgi_app", "WSGI entry"):
                return inner(environ, start_response)
        finally:
            _current_trace.reset(token)
            trace.finish()
            tracer.collect(trace)

    app.wsgi_app = wsgi_app  # type: ignore[method-assign]  # wraps it on this object only


def _wrap_contexts(app: Flask) -> None:
    """Context pushes and pops, session opening and saving, URL matching."""
    make_request_context = app.request_context
    make_app_context = app.app_context

    def request_context(environ: Any) -> Any:
        ctx = make_request_context(environ)
        ctx.push = _record("push", ctx.push, "request context")  # type: ignore[method-assign]  # wraps it on this object only
        ctx.pop = _record("pop", ctx.pop, "request context")  # type: ignore[method-assign]  # wraps it on this object only
        return ctx

    def app_context() -> Any:
        ctx = make_app_context()
        ctx.push = _record("push", ctx.push, "app context")  # type: ignore[method-assign]  # wraps it on this object only
        ctx.pop = _record("pop", ctx.pop, "app context")  # type: ignore[method-assign]  # wraps it on this object only
        return ctx

    app.request_context = request_context  # type: ignore[method-assign]  # wraps it on this object only
    app.app_context = app_context  # type: ignore[method-assign]  # wraps it on this object only
    app.session_interface = _TracedSessionInterface(app.session_interface)  # type: ignore[assignment]  # forwards to the real one
    cache = app.url_match_cache
    match = cache.match

    def traced_match(adapter: Any) -> Any:
        trace = _current_trace.get(None)
        if trace is None:
            return match(adapter)
        with trace.step("match URL", adapter.path_info):
            rule, view_args = match(adapter)
            trace.note(f"rule {rule.rule!r} → endpoint {rule.endpoint!r} {view_args}")
            return rule, view_args

    cache.match = traced_match  # type: ignore[method-assign]  # wraps it on this object only


class _TracedSessionInterface:
    """Delegates to the app's session interface, recording open and save."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.open_session = _record("open session", inner.open_session, type(inner).__name__)
        self.save_session = _record("save session", inner.save_session, type(inner).__name__)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _wrap_lifecycle(app: Flask) -> None:
    """The app's own steps, as methods of the instance."""
    steps = {
        "preprocess_request": "steps 9-10: URL value preprocessors, before_request",
        "dispatch_request": "steps 11-12: routing error or view",
        "make_response": "step 14: return value → Response",
        "process_response": "steps 15-17: after_request, session save",
        "do_teardown_request": "steps 21-22: teardown_request",
        "do_teardown_appcontext": "steps 24-25: teardown_appcontext",
        "handle_user_exception": "step 13: error handlers",
        "handle_http_exception": "step 13: HTTP error handlers",
        "handle_exception": "step 19: unhandled exception → 500",
    }
    for method, detail in steps.items():
        setattr(app, method, _record(method, getattr(app, method), detail))


def _short_circuit(rv: Any) -> str | None:
    if rv is None:
        return None
    return "returned a value: the view is skipped (short-circuit)"


def _wrap_registered_functions(app: Flask) -> None:
    """Every hook, error handler and view, each recorded under its own name."""
    tables: dict[str, dict[Any, list[Any]]] = {
        "url_value_preprocessor": app.url_value_preprocessors,
        "before_request": app.before_request_funcs,
        "after_request": app.after_request_funcs,
        "teardown_request": app.teardown_request_funcs,
    }
    for kind, table in tables.items():
        for scope, functions in table.items():
            label = f"{kind} ({scope})" if scope else kind
            note = _short_circuit if kind == "before_request" else None
            functions[:] = [_record(label, func, note_result=note) for func in functions]
    app.teardown_appcontext_funcs[:] = [
        _record("teardown_appcontext", func) for func in app.teardown_appcontext_funcs
    ]
    for handlers_by_code in app.error_handler_spec.values():
        for handlers in handlers_by_code.values():
            for exc_class, handler in handlers.items():
                handlers[exc_class] = _record(f"error handler for {exc_class.__name__}", handler)
    for endpoint, view in app.view_functions.items():
        app.view_functions[endpoint] = _record("view", view, endpoint)


#: The signals a request may send, by name, for the trace.
_REQUEST_SIGNALS = {
    "request_started": signals.request_started,
    "request_finished": signals.request_finished,
    "got_request_exception": signals.got_request_exception,
    "request_tearing_down": signals.request_tearing_down,
    "appcontext_pushed": signals.appcontext_pushed,
    "appcontext_popped": signals.appcontext_popped,
    "appcontext_tearing_down": signals.appcontext_tearing_down,
    "template_rendered": signals.template_rendered,
    "before_render_template": signals.before_render_template,
    "message_flashed": signals.message_flashed,
}


def _wrap_signals(app: Flask) -> None:
    """Record each signal the app sends, with its receivers.

    miniflask sends a per-request signal only when it has receivers (see
    ``Flask.full_dispatch_request``), so the trace shows the signals that
    someone listened to. Receivers are wrapped where they are connected to
    this app or to any sender.
    """
    for name, signal in _REQUEST_SIGNALS.items():
        send = signal.send
        if getattr(send, "_miniflask_traced", False):
            continue
        signal.send = _traced_send(name, send)  # type: ignore[method-assign]  # wraps it on this object only


def _traced_send(name: str, send: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(send)
    def traced(sender: Any = None, /, **kwargs: Any) -> Any:
        trace = _current_trace.get(None)
        if trace is None:
            return send(sender, **kwargs)
        signal = getattr(send, "__self__", None)
        receivers = list(signal.receivers_for(sender)) if signal is not None else []
        detail = ", ".join(_label(receiver) for receiver in receivers) or "no receivers"
        with trace.step(f"signal {name}", f"→ {detail}"):
            return send(sender, **kwargs)

    traced._miniflask_traced = True  # type: ignore[attr-defined]  # a marker on a function object, which mypy does not model
    return traced


def record_modules(run: Callable[[], T]) -> tuple[T, list[str]]:
    """Run ``run()`` and list the miniflask modules the app called functions in.

    The list is in call order, with consecutive calls into one module merged:
    ``["app.py", "ctx.py", "app.py", "routing.py", ...]``, so ``len - 1`` is
    the number of times a reader following the request switches files. Only
    calls made inside ``Flask.__call__`` count (not the test client around
    it), and not those of this module (the tracer's own wrappers). It uses
    ``sys.setprofile``, which sees every Python function call of the thread.
    ``trace --files`` prints it; ``tests/docs/test_lifecycle.py`` checks the
    count that ``docs/lifecycle.md`` gives.
    """
    from .app import Flask

    package = Path(__file__).parent
    this_module = Path(__file__)
    entry = Flask.__call__.__code__
    modules: list[str] = []
    depth = 0

    def profile(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal depth
        code = frame.f_code
        if code is entry:
            depth += {"call": 1, "return": -1}.get(event, 0)
        if event != "call" or depth == 0:
            return
        path = Path(code.co_filename)
        if path == this_module or not path.is_relative_to(package):
            return
        module = path.relative_to(package).as_posix()
        if not modules or modules[-1] != module:
            modules.append(module)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        result = run()
    finally:
        sys.setprofile(previous)
    return result, modules
