"""Per-request hooks: request ids, authentication, the server cache, logging.

Registered by ``create_app`` on the app (not a blueprint), so they run for
every request, 404s included. In run order:

1. ``before_request`` -> ``start_request``, the first of these hooks: note the
   start time and the request id (the client's ``X-Request-ID`` if sane, else a
   new one). A hook, not a ``request_started`` receiver: it sets ``g`` for the
   rest of the request, and Flask's signals are for observing; a receiver also
   costs blinker's dispatch (PERF: 7 to 10 us of every request, 113 against
   124 us for a request whose view answers a constant).
2. ``before_request`` -> ``serve_from_cache``: an anonymous GET whose response
   is in the server-side cache is answered here; returning a response from a
   ``before_request`` function ends the request before the view (and before
   any database work). With the cache off (``CACHE_TTL=0``) there is nothing
   to serve, and the hook is not registered.
3. ``before_request`` -> ``authenticate``: a ``Bearer`` token is verified and
   its user put on ``g.user`` (a ``principal.TokenUser``); a bad token is a
   401 even on public endpoints (RFC 6750 §3.1: the client should learn its
   token is no good). A good token without the scope the endpoint needs
   (``blog_api/scopes.py``) is a 403 ``insufficient_scope``.
4. the view, then ``after_request`` -> ``finish_response``: echo the request
   id, add ``X-Content-Type-Options: nosniff`` to every response, and
   invalidate the server cache after a successful write.
5. ``request_finished`` signal -> ``log_request``: one JSON line per request.

An unhandled exception (a 500) is logged once, by the framework itself, on
``app.logger`` ("Exception on <path> [<method>]", with the traceback). The
``RequestFields`` filter added here gives that record the request id, method
and path, so it joins up with the request's line.
"""

from __future__ import annotations

import functools
import logging
import re
import secrets
import time
from typing import Any

import redis
from werkzeug.wrappers import Response

from blog_api import scopes
from blog_api.caching import NoCache
from blog_api.errors import InsufficientScope
from blog_api.framework import App, Framework
from blog_api.logs import RequestFields
from blog_api.tokens import TokenSettings, authenticate_access_token, token_scopes
from blog_api.web import Web, cache_key

request_log = logging.getLogger("blog_api.request")
log = logging.getLogger("blog_api.cache")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
#: Writes that change no public data, so they leave the server cache alone: the
#: API's token endpoints and the reader site's log-in and log-out forms.
_CACHE_NEUTRAL_ENDPOINTS = frozenset(
    {
        "auth.login",
        "auth.token",
        "auth.refresh",
        "auth.logout",
        "auth.revoke",
        "auth.introspect",
        "site.login",
        "site.logout",
        "site.authorize",  # the consent page's answer stores a code, no content
    }
)


def register_hooks(app: App, fw: Framework) -> None:
    """Register the request hooks on ``app``; connect the access log to ``request_finished``."""
    hooks = RequestHooks(fw)
    # Before the other hooks, so the request id is known to any answer they give.
    app.before_request(hooks.start_request)
    # The access log observes the finished response, which is what signals are
    # for. Connected for this app only (sender=app), so several apps (one per
    # framework, in the tests) can share one process.
    fw.request_finished.connect(hooks.log_request, app, weak=False)
    # Not a ``got_request_exception`` receiver that logs the traceback: both
    # frameworks already log it on app.logger, and a second copy would be noise.
    app.logger.addFilter(request_fields(fw))
    if not isinstance(app.extensions["blog_cache"], NoCache):
        # PERF: the plain version registers it always, and with the cache off
        # it asks NoCache for a miss: 18 us of every request, most of it in
        # reading request, g and current_app through their proxies.
        app.before_request(hooks.serve_from_cache)
    app.before_request(hooks.authenticate)
    app.after_request(hooks.finish_response)


class RequestHooks:
    """The hook functions, bound to the framework module ``fw``."""

    def __init__(self, fw: Framework) -> None:
        self.fw = fw
        self.web = Web(fw)

    def start_request(self) -> None:
        """Step 1: start the clock and fix the request id."""
        g, request = self.fw.g, self.fw.request
        g.started_at = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        # 32 random hex digits, as uuid4().hex (a UUID object costs 1.4 us more).
        g.request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(16)

    def serve_from_cache(self) -> Response | None:
        """Step 2: answer a hot anonymous GET from the server-side cache."""
        request = self.fw.request
        if request.method != "GET" or "Authorization" in request.headers:
            return None
        if request.routing_exception is not None:
            # The framework raises routing errors only when the view would run,
            # after these hooks; a Host outside TRUSTED_HOSTS is one, and must
            # be a 400 even for a URL whose answer is in the cache.
            return None
        lookup = self.web.response_cache().lookup(cache_key(request))
        # A miss is stored under the generation read now, before the view
        # reads any data (see blog_api/caching.py: a write that commits in
        # between must retire the body computed from the old data).
        self.fw.g.cache_generation = lookup.generation
        entry = lookup.entry
        if entry is None:
            return None
        self.fw.g.cache_hit = True
        return self.web.response_for(entry)

    def authenticate(self) -> None:
        """Step 3: turn ``Authorization: Bearer <jwt>`` into ``g.user``.

        Other schemes (a Basic header sent to the token endpoint by OAuth2
        client libraries) are left alone. The checks themselves (signature,
        claims, revocation, the user's token version) live in
        ``tokens.authenticate_access_token``.

        Then the token's scopes (``g.token_scopes``) must include the one the
        endpoint needs (``scopes.required``). Requests without a Bearer token
        are not checked: anonymous ones get what anyone gets, and the reader
        site's cookie session is the blog's own (first party).

        Raises:
            Unauthorized: the token is refused (401 ``invalid_token``).
            InsufficientScope: the token lacks the endpoint's scope (403).
        """
        scheme, _, token = self.fw.request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return
        settings = TokenSettings.from_config(self.fw.current_app.config)
        # The request's own connection (no ORM session): the view's reads and
        # a post's writes run on it too; other writes open the session.
        user, claims = authenticate_access_token(self.web.connection, token.strip(), settings)
        g = self.fw.g
        # Set before the scope check, so the request log names the user of a 403.
        g.user = user
        g.token_claims = claims
        g.token_scopes = token_scopes(claims)
        self._check_scope(g.token_scopes)

    def _check_scope(self, granted: frozenset[str]) -> None:
        """403 unless ``granted`` holds the scope of the endpoint the request reached."""
        endpoint = self.fw.request.endpoint
        if endpoint is None:
            return  # no route matched: the 404 or 405 comes next
        needed = scopes.required(endpoint)
        if needed is not None and needed not in granted:
            raise InsufficientScope(needed)

    def finish_response(self, response: Response) -> Response:
        """Step 4: request id and nosniff on each response; a successful write empties the cache."""
        g, request = self.fw.g, self.fw.request
        response.headers["X-Request-ID"] = getattr(g, "request_id", "")
        # Browsers must take the declared type as it is, never guess one from
        # the body: an error message that echoes input is JSON, not a page.
        # ``nosniff`` is the header's only value, so setting it keeps any a view set
        # (PERF: 1.8 against 8 us; the plain version, ``setdefault``, pays for
        # Werkzeug's KeyError when the header is absent, as it always is).
        response.headers["X-Content-Type-Options"] = "nosniff"
        if (
            request.method in {"POST", "PUT", "PATCH", "DELETE"}
            and response.status_code < 400
            and request.endpoint not in _CACHE_NEUTRAL_ENDPOINTS
        ):
            self._invalidate_cache()
        return response

    def _invalidate_cache(self) -> None:
        """Retire every cached response after a write; Redis down is logged, not raised.

        The write has committed: failing the request now would tell the
        client it did not happen. Cached copies then stay until their TTL
        (``BLOG_CACHE_TTL``) at most, which the log line says.
        """
        try:
            self.web.response_cache().invalidate()
        except redis.RedisError as e:
            log.error(
                "a write committed but the cache could not be invalidated (Redis: %s); "
                "cached copies may be served until their TTL runs out",
                e,
            )

    def log_request(self, sender: Any, response: Response, **extra: Any) -> None:
        """Step 5: the access log line, as structured fields.

        Nothing is gathered when the line would not be written (``LOG_LEVEL``
        above INFO; the benchmarks run so): PERF, 0.2 against 10 us per
        request; the plain version builds them and lets ``logging`` drop the
        record.
        """
        level = logging.ERROR if response.status_code >= 500 else logging.INFO
        if not request_log.isEnabledFor(level):
            return
        g, request = self.fw.g, self.fw.request
        started = getattr(g, "started_at", None)
        user = getattr(g, "user", None)
        fields = {
            "event": "request",
            "request_id": getattr(g, "request_id", None),
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
            "user_id": user.id if user is not None else None,
            "remote_addr": request.remote_addr,
            "cache": "hit" if getattr(g, "cache_hit", False) else None,
        }
        request_log.log(
            level,
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={"fields": fields},
        )

    def log_fields(self) -> dict[str, Any] | None:
        """The request's fields for a record on the app's logger; ``None`` outside one."""
        if not self.fw.has_request_context():
            return None
        request = self.fw.request
        return {
            "request_id": getattr(self.fw.g, "request_id", None),
            "method": request.method,
            "path": request.path,
        }


@functools.cache
def request_fields(fw: Framework) -> RequestFields:
    """The filter that gives records logged on ``app.logger`` the request's fields.

    One per framework module, because every app in a process shares the logger
    named after the package (``blog_api``), and ``addFilter`` ignores a filter
    it already holds: the tests' hundreds of apps add it once.
    """
    return RequestFields(RequestHooks(fw).log_fields)
