"""Helpers a view calls: ``url_for``, ``abort``, ``redirect``, ``flash``, files, streaming.

Flask counterpart: ``flask/helpers.py``.

Each helper is a thin function over the current app or request, so a view
need not pass ``app`` around: ``url_for`` asks ``current_app`` to build a URL,
``abort`` raises one of Werkzeug's HTTP exceptions, ``send_file`` fills in
Werkzeug's ``send_file`` from the app's settings.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from functools import update_wrapper
from typing import IO, TYPE_CHECKING, Any, NoReturn, TypeVar, cast

import werkzeug.utils
from werkzeug.exceptions import abort as _wz_abort
from werkzeug.utils import redirect as _wz_redirect

from . import signals
from .globals import _cv_app, _cv_request, current_app, request, request_ctx, session
from .package import get_root_path as get_root_path  # Flask keeps it in flask.helpers

if TYPE_CHECKING:
    from werkzeug.wrappers import Response as BaseResponse

    from .wrappers import Response

T = TypeVar("T")


def get_debug_flag() -> bool:
    """Whether ``FLASK_DEBUG`` asks for debug mode (anything but empty, 0, false, no)."""
    value = os.environ.get("FLASK_DEBUG")
    return bool(value and value.lower() not in {"0", "false", "no"})


def get_load_dotenv(default: bool = True) -> bool:
    """Whether to load ``.env`` and ``.flaskenv``: ``default``, unless ``FLASK_SKIP_DOTENV`` is set.

    ``FLASK_SKIP_DOTENV=1`` turns loading off; ``0``, ``false`` or ``no``
    leave it on.
    """
    value = os.environ.get("FLASK_SKIP_DOTENV")
    if not value:
        return default
    return value.lower() in {"0", "false", "no"}


def get_template_attribute(template_name: str, attribute: str) -> Any:
    """A macro or variable defined at the top level of a template, to call from Python.

    Example: with ``{% macro hello(name) %}Hello {{ name }}!{% endmacro %}``
    in ``_macros.html``::

        hello = get_template_attribute("_macros.html", "hello")
        hello("World")   # 'Hello World!'

    Needs an app context: the template is loaded by the app's Jinja environment.
    """
    return getattr(current_app.jinja_env.get_template(template_name).module, attribute)


def url_for(
    endpoint: str,
    *,
    _anchor: str | None = None,
    _method: str | None = None,
    _scheme: str | None = None,
    _external: bool | None = None,
    **values: Any,
) -> str:
    """Build the URL of an endpoint: ``url_for("show_post", post_id=3)`` → ``/posts/3``.

    Building URLs from endpoint names instead of writing them by hand keeps
    links right when routes move. See :meth:`Flask.url_for` for the rules.

    Args:
        endpoint: ``"name"``, ``"blueprint.name"``, or ``".name"`` for the
            current blueprint.
        _anchor: a ``#fragment`` to append.
        _method: pick the rule that allows this method.
        _scheme: the scheme of an external URL (``"https"``).
        _external: a full URL with scheme and host.
        **values: the rule's variables; others become the query string.
    """
    return current_app.url_for(
        endpoint,
        _anchor=_anchor,
        _method=_method,
        _scheme=_scheme,
        _external=_external,
        **values,
    )


def abort(code: int | BaseResponse, *args: Any, **kwargs: Any) -> NoReturn:
    """Stop the request with an HTTP error: ``abort(404)`` raises ``NotFound``.

    The exception is one of ``werkzeug.exceptions``; error handlers for its
    code or class turn it into the response. Passing a response object
    raises it as the response as it is.
    """
    app_ctx = _cv_app.get(None)
    if app_ctx is not None:
        app_ctx.app.aborter(code, *args, **kwargs)
    _wz_abort(code, *args, **kwargs)


def redirect(
    location: str, code: int = 302, Response: type[BaseResponse] | None = None
) -> BaseResponse:
    """A response that sends the client to ``location`` (302 Found by default)."""
    app_ctx = _cv_app.get(None)
    if app_ctx is not None:
        return app_ctx.app.redirect(location, code=code)
    return _wz_redirect(location, code=code, Response=Response)


def make_response(*args: Any) -> Response:
    """Turn a view's return value into a response object, to change it before returning.

    Example::

        response = make_response(render_template("index.html"), 200)
        response.headers["X-Something"] = "A value"
        return response

    Takes what a view may return (one value or the parts of a tuple); with
    no arguments, an empty response.
    """
    if not args:
        return current_app.response_class()
    if len(args) == 1:
        return current_app.make_response(args[0])
    return current_app.make_response(args)


def stream_with_context(
    generator_or_function: Iterator[T] | Callable[..., Iterator[T]],
) -> Iterator[T]:
    """Make the request's contexts current again while a streamed response is generated.

    A streamed body is iterated by the server *after* the view returned and
    the request context was popped, so a generator that reads ``request``,
    ``session`` or ``g`` would fail. This records the view's app and request
    contexts and pushes them again around the generator, until its last
    chunk is sent. As in Flask, the request still ends when the view
    returns, so teardown functions run then, and once more when the stream
    ends and the contexts are popped again.

    Example::

        @app.get("/stream")
        def stream():
            @stream_with_context
            def generate():
                yield request.args["name"]
            return generate()
    """
    try:
        gen = iter(generator_or_function)  # type: ignore[arg-type]  # a function raises TypeError, caught
    except TypeError:
        # Used as a decorator on a generator function.
        function = cast("Callable[..., Iterator[T]]", generator_or_function)

        def decorator(*args: Any, **kwargs: Any) -> Iterator[T]:
            return stream_with_context(function(*args, **kwargs))

        return update_wrapper(decorator, function)  # type: ignore[return-value]  # stands in for the function

    def generator() -> Iterator[T | None]:
        request_context = _cv_request.get(None)
        if request_context is None:
            raise RuntimeError(
                "'stream_with_context' can only be used when a request"
                " context is active, such as in a view function."
            )
        app_context = _cv_app.get()
        # The first, empty step runs now, inside the view, to record the
        # contexts. They are pushed only when the server iterates the body,
        # in its own thread: pushed here, inside an async view, they would
        # be set in the event loop's copy of the context variables, and
        # popping them from the server's thread would fail. The app context
        # goes first, so the request context reuses it (the view's `g`).
        yield None
        with app_context, request_context:
            try:
                yield from gen
            finally:
                close = getattr(gen, "close", None)
                if close is not None:
                    close()

    wrapped = generator()
    next(wrapped)
    return wrapped  # type: ignore[return-value]  # first item consumed: only T follow


def flash(message: str, category: str = "message") -> None:
    """Store a message for the next page the user sees (kept in the session).

    Sends ``message_flashed``. Read the messages back with
    :func:`get_flashed_messages`, usually in the layout template.
    """
    flashes = session.get("_flashes", [])
    flashes.append((category, message))
    session["_flashes"] = flashes
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # a proxy, typed as Flask
    signals.message_flashed.send(
        app, _async_wrapper=app.ensure_sync, message=message, category=category
    )


def get_flashed_messages(
    with_categories: bool = False, category_filter: Iterable[str] = ()
) -> list[str] | list[tuple[str, str]]:
    """Take the flashed messages out of the session (once per request).

    Args:
        with_categories: return ``(category, message)`` pairs.
        category_filter: only the messages of these categories.
    """
    flashes = request_ctx.flashes
    if flashes is None:
        flashes = session.pop("_flashes") if "_flashes" in session else []
        request_ctx.flashes = flashes
    if category_filter:
        flashes = [flash for flash in flashes if flash[0] in category_filter]
    if not with_categories:
        return [message for _, message in flashes]
    return flashes


def _prepare_send_file_kwargs(**kwargs: Any) -> dict[str, Any]:
    """Fill Werkzeug's ``send_file`` arguments from the request and the app."""
    if kwargs.get("max_age") is None:
        kwargs["max_age"] = current_app.get_send_file_max_age
    kwargs.update(
        environ=request.environ,
        use_x_sendfile=current_app.config["USE_X_SENDFILE"],
        response_class=current_app.response_class,
        _root_path=current_app.root_path,
    )
    return kwargs


def send_file(
    path_or_file: os.PathLike[Any] | str | IO[bytes],
    mimetype: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: Any = None,
    max_age: int | Callable[[str | None], int | None] | None = None,
) -> Response:
    """Send a file's contents, with conditional-request support (ETag, 304, ranges).

    Never pass a path that came from the user: use
    :func:`send_from_directory`, which refuses paths leaving its folder.
    """
    return werkzeug.utils.send_file(  # type: ignore[return-value]  # of app.response_class
        **_prepare_send_file_kwargs(
            path_or_file=path_or_file,
            mimetype=mimetype,
            as_attachment=as_attachment,
            download_name=download_name,
            conditional=conditional,
            etag=etag,
            last_modified=last_modified,
            max_age=max_age,
        )
    )


def send_from_directory(
    directory: os.PathLike[str] | str, path: os.PathLike[str] | str, **kwargs: Any
) -> Response:
    """Send ``path`` from inside ``directory``; a path that escapes it is a 404.

    Werkzeug's ``safe_join`` rejects ``..`` segments, absolute paths and
    separators other than ``/``, so a user-given file name cannot reach
    outside the folder.
    """
    return werkzeug.utils.send_from_directory(  # type: ignore[return-value]  # of app.response_class
        directory, path, **_prepare_send_file_kwargs(**kwargs)
    )
