"""The context-local names: ``current_app``, ``g``, ``request`` and ``session``.

Flask counterpart: ``flask/globals.py``.

A Flask view reads ``request`` as if it were a global, yet a server may be
handling many requests at once, in threads or in asyncio tasks. Each of these
names is a :class:`werkzeug.local.LocalProxy`: an object that, on every
attribute access, looks up the *current* object in a
:class:`contextvars.ContextVar` and forwards the access to it.

Two variables hold all per-request state:

* ``_cv_app`` holds the active :class:`~miniflask.ctx.AppContext`
  (``current_app`` and ``g`` point into it);
* ``_cv_request`` holds the active :class:`~miniflask.ctx.RequestContext`
  (``request`` and ``session`` point into it).

``contextvars`` gives each thread its own value, and each asyncio task a copy
of the value that was current when it was created, so concurrent requests never
see each other. Pushing and popping the contexts lives in ``ctx.py``.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING, cast

from werkzeug.local import LocalProxy

if TYPE_CHECKING:
    from .app import Flask
    from .ctx import AppContext, RequestContext, _AppCtxGlobals
    from .sessions import SessionMixin
    from .wrappers import Request

# The first line of each message matches Flask's, so people can search for it.
_no_app_msg = """\
Working outside of application context.

This typically means that you attempted to use functionality that needed
the current application. To solve this, set up an application context
with app.app_context(), for example in a `with app.app_context():` block.\
"""

_no_req_msg = """\
Working outside of request context.

This typically means that you attempted to use functionality that needed
an active HTTP request, such as `request` or `session`, outside a view.
In tests, use app.test_request_context() or the test client.\
"""

_cv_app: ContextVar[AppContext] = ContextVar("miniflask.app_ctx")
_cv_request: ContextVar[RequestContext] = ContextVar("miniflask.request_ctx")

app_ctx: AppContext = cast("AppContext", LocalProxy(_cv_app, unbound_message=_no_app_msg))
current_app: Flask = cast("Flask", LocalProxy(_cv_app, "app", unbound_message=_no_app_msg))
g: _AppCtxGlobals = cast("_AppCtxGlobals", LocalProxy(_cv_app, "g", unbound_message=_no_app_msg))

request_ctx: RequestContext = cast(
    "RequestContext", LocalProxy(_cv_request, unbound_message=_no_req_msg)
)
request: Request = cast("Request", LocalProxy(_cv_request, "request", unbound_message=_no_req_msg))
session: SessionMixin = cast(
    "SessionMixin", LocalProxy(_cv_request, "session", unbound_message=_no_req_msg)
)
