"""Debug-mode explanations for three mistakes that otherwise fail obscurely.

Flask counterpart: ``flask/debughelpers.py``.

Each helper replaces a puzzling symptom with an error or log message that
names the cause and the fix. Only debug mode (or the ``EXPLAIN_TEMPLATE_LOADING``
setting) turns them on: in production the plain behaviour stays.

* :class:`DebugFilesKeyError`: ``request.files["photo"]`` is empty because the
  HTML form lacked ``enctype="multipart/form-data"``, so the browser sent only
  the file's *name*, as an ordinary form field. Without the helper the view
  sees a ``KeyError`` (a 400 Bad Request) that says nothing of the form.
* :class:`FormDataRoutingRedirect`: a form was posted to ``/user`` but the
  route is ``/user/``, and routing answers with a redirect whose status makes
  browsers resend the request as a bodiless ``GET`` — the form data is lost.
* :func:`explain_template_loading_attempts`: which folders were searched for
  a template, in which order, and which of them had it.

Where a request meets them: ``Request._load_form_data`` (reading the form),
``Flask.raise_routing_exception`` (step 11, before the view) and the
template loader's ``get_source`` (rendering).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jinja2 import BaseLoader
from werkzeug.datastructures import FileStorage, ImmutableMultiDict
from werkzeug.routing import RequestRedirect

from .globals import _cv_request

if TYPE_CHECKING:
    from .app import Flask
    from .templating import TemplateSource
    from .wrappers import Request


class DebugFilesKeyError(KeyError, AssertionError):
    """``request.files[key]`` is missing because the form was not sent as multipart.

    Raised in debug mode, instead of Werkzeug's ``BadRequestKeyError``, when
    ``key`` was submitted as an ordinary form field. It is a ``KeyError``, so
    code that catches the missing key still does, and an ``AssertionError``,
    Flask's mark for a programming mistake caught in debug mode. Being no
    HTTP error, it is not answered with a 400 but reaches the debugger.

    Args:
        request: the request whose ``files`` lacked the key.
        key: the name looked up.
    """

    def __init__(self, request: Request, key: str) -> None:
        message = (
            f"request.files has no file {key!r}: the request's mimetype is"
            f" {request.mimetype!r}, not 'multipart/form-data', so no file"
            ' contents were transmitted. Add enctype="multipart/form-data"'
            " to the <form> tag to upload files."
        )
        submitted = request.form.getlist(key)
        if submitted:
            names = ", ".join(repr(name) for name in submitted)
            message += (
                "\n\nThe browser sent the file name as a form field instead."
                f" This was submitted: {names}"
            )
        super().__init__(message)
        self.msg = message

    def __str__(self) -> str:
        # KeyError's own __str__ would show the message as a quoted repr.
        return self.msg


class _EnctypeHintingFiles(ImmutableMultiDict[str, FileStorage]):
    """An empty ``request.files`` whose missing keys explain the missing enctype."""

    request: Request

    def __getitem__(self, key: str) -> FileStorage:
        try:
            return super().__getitem__(key)
        except KeyError as e:
            if key not in self.request.form:
                raise
            raise DebugFilesKeyError(self.request, key).with_traceback(e.__traceback__) from None


def attach_enctype_error_multidict(request: Request) -> None:
    """Make a missing key of ``request.files`` raise :class:`DebugFilesKeyError`.

    ``Request._load_form_data`` calls this in debug mode after parsing a
    body that was not multipart, so ``request.files`` is empty. It replaces
    that empty dict with an equally empty one that explains itself.
    """
    files = _EnctypeHintingFiles(request.files)
    files.request = request
    # `files` is a cached property: its value lives in the instance dict.
    request.__dict__["files"] = files


class FormDataRoutingRedirect(AssertionError):
    """A routing redirect that would make the browser drop the request's body.

    Werkzeug redirects ``/user`` to ``/user/`` (strict slashes) and to a
    rule's canonical URL. With 307 or 308, Werkzeug's default, browsers
    repeat the method and the body; with 301 or 302 they send a ``GET``
    without the body. In debug mode Flask raises this instead of such a
    redirect for a request other than ``GET``, ``HEAD`` or ``OPTIONS``, so
    the lost form does not go unnoticed.

    Args:
        request: the request whose ``routing_exception`` is the redirect.
    """

    def __init__(self, request: Request) -> None:
        redirect = request.routing_exception
        assert isinstance(redirect, RequestRedirect)
        message = (
            f"A request was sent to '{request.url}', but routing answered with a"
            f" redirect to the canonical URL '{redirect.new_url}'."
        )
        if redirect.new_url.partition("?")[0] == f"{request.base_url}/":
            message += (
                " The rule ends with a slash, so the URL without it is"
                " redirected to the URL with it."
            )
        message += (
            f" The redirect's status is {redirect.code}, and browsers follow a"
            f" {redirect.code} with a GET that drops the form data. Send the"
            " request to the canonical URL, or use 307 or 308 for routing"
            " redirects.\n\nThis exception is only raised in debug mode."
        )
        super().__init__(message)


def explain_template_loading_attempts(
    app: Flask,
    template: str,
    attempts: list[tuple[BaseLoader, Any, TemplateSource | None]],
) -> None:
    """Log, at INFO on ``app.logger``, where a template was looked for and found.

    ``DispatchingJinjaLoader`` calls this with ``EXPLAIN_TEMPLATE_LOADING``
    on, after asking *every* loader (not only up to the first match), so the
    log also shows templates shadowed by an earlier folder. When nothing or
    more than one folder matched during a blueprint's request, the log adds
    a hint about where that blueprint's templates belong.

    Args:
        app: the app whose logger gets the message.
        template: the template name looked up.
        attempts: per loader in search order: the loader, its owner (the
            app or a blueprint) and what ``get_source`` returned, or
            ``None`` for no match.
    """
    lines = [f"Locating template {template!r}:"]
    for number, (loader, owner, source) in enumerate(attempts, start=1):
        lines.append(f"{number:5}: trying loader of {_describe_owner(app, owner)}")
        lines.extend(f"       {line}" for line in _describe_loader(loader))
        found = f"found ({source[1] or '<string>'!r})" if source is not None else "no match"
        lines.append(f"       -> {found}")
    matches = sum(source is not None for _loader, _owner, source in attempts)
    lines.extend(_verdict(matches))
    if matches != 1:
        lines.extend(_blueprint_hint())
    app.logger.info("\n".join(lines))


def _describe_owner(app: Flask, owner: Any) -> str:
    """``application 'shop'`` or ``blueprint 'admin' (shop.admin)``."""
    if owner is app:
        return f"application {owner.import_name!r}"
    name = getattr(owner, "name", None)
    if name is not None:
        return f"blueprint {name!r} ({owner.import_name})"
    return repr(owner)


def _describe_loader(loader: BaseLoader) -> list[str]:
    """The loader's class and, for a folder loader, the folders it searches."""
    lines = [f"class: {type(loader).__module__}.{type(loader).__name__}"]
    searchpath = getattr(loader, "searchpath", None)
    if searchpath is not None:
        lines.append("searchpath:")
        lines.extend(f"  - {folder}" for folder in searchpath)
    return lines


def _verdict(matches: int) -> list[str]:
    """The closing line: nothing found, or found more than once."""
    if matches == 0:
        return ["Error: the template could not be found."]
    if matches > 1:
        return ["Warning: multiple loaders returned a match for the template."]
    return []


def _blueprint_hint() -> list[str]:
    """Where a blueprint's templates go, when the lookup came from one of its views."""
    ctx = _cv_request.get(None)
    blueprint = ctx.request.blueprint if ctx is not None else None
    if blueprint is None:
        return []
    return [
        "  The template was looked up from an endpoint that belongs to the"
        f" blueprint {blueprint!r}.",
        "  Maybe you did not place a template in the right folder?",
        "  See https://flask.palletsprojects.com/blueprints/#templates",
    ]
