"""Templates: Flask's Jinja2 environment, its loader, and ``render_template``.

Flask counterpart: ``flask/templating.py``.

Flask renders HTML with Jinja2 and adds three things to a plain Jinja
environment:

* **One template namespace for the app and all its blueprints.** The
  :class:`DispatchingJinjaLoader` looks for a template in the app's
  ``templates`` folder first, then in each blueprint's folder, in the order
  the blueprints were registered. That is why an app can override a
  blueprint's template by putting a file of the same name in its own folder.
* **A context filled in for you.** ``render_template`` adds ``request``,
  ``session``, ``g``, ``config``, ``url_for`` and ``get_flashed_messages``,
  then whatever the app's and the current blueprints' *context processors*
  return. Values passed to ``render_template`` always win.
* **Signals.** ``before_render_template`` and ``template_rendered`` let tests
  and debugging tools see which template rendered with which context.

Where a request meets this module: a view calls :func:`render_template`, which
uses ``current_app.jinja_env`` (built once, on first use, by
``Flask.create_jinja_environment``) and returns a ``str`` that the app turns
into a ``text/html`` response like any other string.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

import jinja2
from jinja2 import BaseLoader, TemplateNotFound
from jinja2.runtime import Context, new_context

from .globals import _cv_app, _cv_request, current_app
from .helpers import stream_with_context
from .perf import PLAIN
from .signals import before_render_template, template_rendered

if TYPE_CHECKING:
    from .app import Flask

#: What a Jinja loader's ``get_source`` returns: the source, its file name
#: (``None`` for a string) and a function telling whether it is still current.
TemplateSource = tuple[str, str | None, Callable[[], bool] | None]


def _default_template_ctx_processor() -> dict[str, Any]:
    """The context processor every app runs first: ``g`` and ``request``.

    The app registers it under the ``None`` scope when it is created, so its
    values are in every template's context. Flask puts the *real* objects in
    the context rather than the proxies: a template that reads ``request``
    many times then skips the context-variable lookup each time.

    ``session`` is deliberately not added here. Templates still see it, as
    the ``session`` global the app sets on its Jinja environment, which
    resolves to the same object. Flask leaves it out because touching the
    request context's session marks it *accessed* (adding ``Vary: Cookie``
    to the response), and merely rendering a template should not do that.

    Returns:
        ``{"g": ...}`` inside an app context, plus ``{"request": ...}``
        inside a request; an empty dict outside both.
    """
    values: dict[str, Any] = {}
    app_ctx = _cv_app.get(None)
    if app_ctx is not None:
        values["g"] = app_ctx.g
    request_ctx = _cv_request.get(None)
    if request_ctx is not None:
        values["request"] = request_ctx.request
    return values


class Environment(jinja2.Environment):
    """A Jinja environment that knows its app and loads templates through it.

    ``Flask.create_jinja_environment`` creates it with the app's options
    (autoescaping by file extension, ``auto_reload`` in debug mode, and
    anything in ``app.jinja_options``). Unless a ``loader`` is given, it
    uses the app's :class:`DispatchingJinjaLoader`, which spans the app's
    and the blueprints' template folders.

    Args:
        app: the application the environment renders for.
        **options: passed on to :class:`jinja2.Environment`.
    """

    def __init__(self, app: Flask, **options: Any) -> None:
        if "loader" not in options:
            options["loader"] = app.create_global_jinja_loader()
        super().__init__(**options)
        self.app = app

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``obj.attribute`` in a template: the attribute, else the item, else undefined.

        Jinja calls this for every dotted name a template reads, so that
        ``{{ post.title }}`` works whether ``post`` is an object or a dict.
        """
        # PERF: for a dict, Jinja's getattr() first raises and catches an
        # AttributeError, then looks the key up: 0.50 against 0.09 µs per `{{
        # row.name }}` (CPU time, median of 11 interleaved rounds,
        # docs/perf.md); the benchmark's 10-row table has 20, and its request
        # became about a quarter faster (benchmarks/where_time_goes.md). A
        # name that is not one of dict's own attributes can only be the key,
        # so look it up at once; the answer is the same. Plain version
        # (PLAIN): always super().getattr().
        if not PLAIN and type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


#: The names ``getattr`` finds on any dict (its methods and object's): ``{{ d.items }}``
#: is the method, as in Jinja; every other dotted name on a dict is a key.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class Template(jinja2.Template):
    """Jinja's compiled template; every template the app's environment loads is one.

    It renders exactly as :class:`jinja2.Template` does. Only the start of
    each render, where Jinja copies the template's globals into the new
    context, takes a shorter way (:meth:`new_context`).
    """

    def new_context(
        self,
        vars: dict[str, Any] | None = None,
        shared: bool = False,
        locals: Mapping[str, Any] | None = None,
    ) -> Context:
        """The context a render starts from: the globals, then ``vars`` over them."""
        # PERF: a template's `globals` is a ChainMap (its own globals over the
        # environment's, so globals added later still show). Jinja copies it
        # into a dict and a set of its keys at every render, and both walk
        # the ChainMap in Python code, ~0.5 µs per key: Flask's environment
        # has twelve. Merged into a dict first, the same keys and values in
        # the same order are copied in C: Template.new_context took 1.5 µs
        # instead of 7.1, and the template scenario 42.1 µs instead of 49.6
        # (CPU time, median of 11 interleaved rounds). Plain version (PLAIN):
        # jinja2.Template.new_context, which passes self.globals as it is.
        if PLAIN:
            return super().new_context(vars, shared, locals)
        return new_context(
            self.environment,
            self.name,
            self.blocks,
            vars,
            shared,
            _merged_globals(self.globals),
            locals,
        )


def _merged_globals(template_globals: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A ChainMap's contents as one dict, as ``dict(chain_map)`` gives them; anything else as is."""
    if type(template_globals) is not ChainMap:
        return template_globals
    merged: dict[str, Any] = {}
    # The first map wins, and keys come in the order of the last map, then
    # the new ones of each earlier map: ChainMap's own iteration order.
    for mapping in reversed(template_globals.maps):
        merged.update(mapping)
    return merged


Environment.template_class = Template


class DispatchingJinjaLoader(BaseLoader):
    """Finds a template in the app's folder, then in each blueprint's folder.

    The first folder that has the file wins, so the search order *is* the
    override order: the app first, then blueprints in registration order.
    Blueprint templates therefore usually live in a sub-folder named after
    the blueprint (``admin/templates/admin/index.html``) so they do not
    shadow each other.

    Set ``EXPLAIN_TEMPLATE_LOADING = True`` to log, at INFO level on
    ``app.logger``, every folder tried for every template: the quickest way
    to find out why the wrong ``index.html`` rendered.

    Args:
        app: the application whose folders are searched.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app

    def get_source(self, environment: jinja2.Environment, template: str) -> TemplateSource:
        """Return the source of the first matching template (Jinja calls this).

        Raises:
            jinja2.TemplateNotFound: no folder has the template.
        """
        if self.app.config["EXPLAIN_TEMPLATE_LOADING"]:
            return self._get_source_explained(environment, template)
        for _owner, loader in self._iter_loaders():
            try:
                return loader.get_source(environment, template)
            except TemplateNotFound:
                continue
        raise TemplateNotFound(template)

    def _iter_loaders(self) -> Iterator[tuple[Any, BaseLoader]]:
        """Yield ``(app or blueprint, loader)`` in search order, skipping those without one."""
        if self.app.jinja_loader is not None:
            yield self.app, self.app.jinja_loader
        for blueprint in self.app.iter_blueprints():
            if blueprint.jinja_loader is not None:
                yield blueprint, blueprint.jinja_loader

    def _get_source_explained(
        self, environment: jinja2.Environment, template: str
    ) -> TemplateSource:
        """Like the fast path of :meth:`get_source`, but ask every loader and log each answer.

        Every loader is asked, not just up to the first match, so the log
        also reveals templates that are *shadowed* by an earlier folder; the
        first match is still the one used. ``debughelpers.py`` writes the log.
        """
        from .debughelpers import explain_template_loading_attempts

        attempts: list[tuple[BaseLoader, Any, TemplateSource | None]] = []
        for owner, loader in self._iter_loaders():
            try:
                source: TemplateSource | None = loader.get_source(environment, template)
            except TemplateNotFound:
                source = None
            attempts.append((loader, owner, source))
        explain_template_loading_attempts(self.app, template, attempts)
        for _loader, _owner, found in attempts:
            if found is not None:
                return found
        raise TemplateNotFound(template)

    def list_templates(self) -> list[str]:
        """The names of all templates in all folders, each once (sorted)."""
        names: set[str] = set()
        for _owner, loader in self._iter_loaders():
            names.update(loader.list_templates())
        # Flask: Flask returns the names in set order; sorting makes the
        # result stable from run to run, which is kinder to readers and tests.
        return sorted(names)


def render_template(
    template_name_or_list: str | jinja2.Template | list[str | jinja2.Template], **context: Any
) -> str:
    """Render a template from the app's and blueprints' template folders.

    Example::

        @app.get("/hello/<name>")
        def hello(name):
            return render_template("hello.html", name=name)

    Args:
        template_name_or_list: a template name, a :class:`jinja2.Template`,
            or a list of them; with a list, the first that exists renders
            (handy for "``post_custom.html`` if present, else ``post.html``").
        **context: the variables the template sees. They take precedence
            over the values of context processors.

    Returns:
        The rendered text.

    Raises:
        jinja2.TemplateNotFound: no folder has the template.
        RuntimeError: outside an app context (no ``current_app``).
    """
    app = _current_app_object()
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return _render(app, template, context)


def render_template_string(source: str, **context: Any) -> str:
    """Render a template given as source text, with the same context as :func:`render_template`.

    The template has no file name, so it is autoescaped (Flask's
    ``select_jinja_autoescape`` treats "no name" like ``.html``).

    Example::

        render_template_string("Hello {{ name }}!", name="<b>you</b>")
        # 'Hello &lt;b&gt;you&lt;/b&gt;!'
    """
    app = _current_app_object()
    template = app.jinja_env.from_string(source)
    return _render(app, template, context)


def _current_app_object() -> Flask:
    """The real app behind ``current_app``, looked up once for a whole render.

    Signals are sent with it as sender, and blinker matches senders by
    identity: a proxy would never equal the app a receiver connected to.
    """
    return current_app._get_current_object()  # type: ignore[attr-defined]  # a proxy, typed as Flask


def _render(app: Flask, template: jinja2.Template, context: dict[str, Any]) -> str:
    """Complete the context, render, and send the two template signals around it."""
    app.update_template_context(context)
    # PERF: see Flask.full_dispatch_request: sent only when connected, as the
    # per-request signals are. Plain version: send() both, always.
    if before_render_template.receivers:
        before_render_template.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )
    text = template.render(context)
    if template_rendered.receivers:
        template_rendered.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )
    return text


def stream_template(
    template_name_or_list: str | jinja2.Template | list[str | jinja2.Template], **context: Any
) -> Iterator[str]:
    """Render a template piece by piece, for a streamed response.

    Returning the iterator from a view sends each piece as soon as Jinja
    produces it, so a long page starts arriving before it is complete.
    Inside a request the iterator keeps the request context alive (via
    :func:`~miniflask.helpers.stream_with_context`), because the body is
    generated *after* the view has returned and the context was popped.

    Example::

        @app.get("/report")
        def report():
            return stream_template("report.html", rows=fetch_rows())

    Returns:
        An iterator of text pieces. ``template_rendered`` is sent when it is
        exhausted, ``before_render_template`` at once.
    """
    app = _current_app_object()
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return _stream(app, template, context)


def stream_template_string(source: str, **context: Any) -> Iterator[str]:
    """Like :func:`stream_template`, for a template given as source text."""
    app = _current_app_object()
    template = app.jinja_env.from_string(source)
    return _stream(app, template, context)


def _stream(app: Flask, template: jinja2.Template, context: dict[str, Any]) -> Iterator[str]:
    """Complete the context now; generate lazily; wrap in the request context if any."""
    # The context is completed before the generator starts, while the
    # view's contexts are certainly still active.
    app.update_template_context(context)
    before_render_template.send(
        app, _async_wrapper=app.ensure_sync, template=template, context=context
    )

    def generate() -> Iterator[str]:
        yield from template.generate(context)
        template_rendered.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )

    pieces = generate()
    if _cv_request.get(None) is not None:
        pieces = stream_with_context(pieces)
    return pieces
