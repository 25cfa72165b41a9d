"""Routing: binding the URL map to a request, and remembering URL matches.

Flask counterpart: ``Flask.create_url_adapter`` in ``flask/app.py`` (binding);
none for the memo. Flask asks Werkzeug's ``MapAdapter.match`` for every
request; miniflask asks it once per distinct request line and remembers.

Binding: a ``MapAdapter`` is the URL map bound to one request's host,
script root, path and method; it matches the request and builds URLs for
``url_for``. :func:`bind_to_request` builds it from what the request object
already parsed; :func:`bind_to_environ` is Werkzeug's general way, for
``SERVER_NAME`` and host or subdomain matching.

Matching: Werkzeug's matcher walks a state machine over the path's segments and runs
each candidate's converters — about a fifth of what a small Flask request
costs. Yet an API sees the same few thousand paths over and over, and for a
given host, path and method the answer never changes once the app is set up
(Flask refuses new routes after the first request). So :class:`MatchCache`
keeps the answers in a bounded dict.

It caches only what is safe to repeat:

* successful matches, when every converter of the URL map turns text into
  a value with one of Werkzeug's own ``to_python`` methods (``int``,
  ``string``, ``path``, ``uuid`` ... and subclasses that only change their
  settings), which have no side effects. An app that registers a converter
  with a ``to_python`` of its own — one that loads a database row, say —
  gets no caching at all, and Werkzeug matches every request as in Flask;
* "not found", which depends on nothing but the request line.

Redirects (strict slashes), 405 Method Not Allowed and every other outcome
go to Werkzeug each time, so their details stay exactly Werkzeug's.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import BadHost, NotFound
from werkzeug.routing import Map, MapAdapter, Rule, RuleFactory
from werkzeug.sansio.utils import get_host

from .perf import PLAIN

if TYPE_CHECKING:
    from .app import Flask
    from .wrappers import Request

#: Werkzeug's own ``to_python`` methods: pure functions of the URL text.
_PURE_TO_PYTHON = frozenset(converter.to_python for converter in Map.default_converters.values())

# A path that matched no rule; stored instead of an exception instance,
# which would carry the traceback of the request that raised it.
_NOT_FOUND = object()

MatchKey = tuple[str, str | None, str, str, bool]


def binds_from_request_fields(app: Flask, request: Request) -> bool:
    """Whether the URL adapter can be built from the parsed request (the common case).

    Not with a ``SERVER_NAME``, host or subdomain matching, or a
    WebSocket upgrade: Werkzeug's ``bind_to_environ`` handles those. Nor
    with ``PLAIN``: :func:`bind_to_environ` is :func:`bind_to_request`'s
    plain version.
    """
    return not (
        PLAIN
        or app.config["SERVER_NAME"]
        or app.url_map.host_matching
        or app.subdomain_matching
        or "HTTP_UPGRADE" in request.environ
    )


def bind_to_request(app: Flask, request: Request) -> MapAdapter:
    """Bind the URL map with the host, paths and method the request already parsed.

    Gives the adapter ``bind_to_environ`` would give in this case.
    """
    # PERF: Werkzeug's bind_to_environ reads the Host header and decodes
    # SCRIPT_NAME, PATH_INFO and QUERY_STRING again, all of which the
    # request object did when it was built, then Map.bind lower-cases and
    # IDNA-encodes the host. Building the MapAdapter from the request's
    # fields, with the host normalised once per host name, takes a third of
    # the time: 1.05 against 3.42 µs per request (CPU time, median of 11
    # interleaved rounds, docs/perf.md). Plain version
    # (PLAIN, see binds_from_request_fields): bind_to_environ below.
    environ = request.environ
    query = environ.get("QUERY_STRING", "")
    return MapAdapter(
        app.url_map,
        server_name=_request_server_name(request),
        script_name=request.root_path,
        subdomain=app.url_map.default_subdomain or "",
        url_scheme=request.scheme,
        # An empty PATH_INFO stays empty, so "/app" redirects to "/app/".
        path_info=request.path if environ.get("PATH_INFO") else "",
        default_method=request.method,
        query_args=query.encode("latin-1").decode(errors="replace") if query else "",
    )


def _request_server_name(request: Request) -> str:
    """``request.host`` (checked against ``TRUSTED_HOSTS``) as ``Map.bind`` normalises it.

    Raises:
        werkzeug.exceptions.SecurityError: the host is not trusted (a 400).
        werkzeug.exceptions.BadHost: the name is not a valid host name (a 400).
    """
    # PERF: request.host reads the Host header through EnvironHeaders and
    # runs Werkzeug's get_host() for every request; the answer depends only
    # on the arguments below, so it is computed once per distinct Host (the
    # lru_cache on _server_name): 0.25 against 1.23 µs (docs/perf.md). Plain
    # version: _server_name without its cache. With PLAIN this function is
    # not called at all: bind_to_environ reads request.host itself.
    trusted = request.trusted_hosts
    return _server_name(
        request.scheme,
        request.environ.get("HTTP_HOST"),  # what request.headers.get("Host") reads
        request.server,
        None if trusted is None else tuple(trusted),
    )


@lru_cache(maxsize=256)
def _server_name(
    scheme: str,
    host_header: str | None,
    server: tuple[str, int | None] | None,
    trusted_hosts: tuple[str, ...] | None,
) -> str:
    """The request's host as ``Map.bind`` normalises it: lower case, IDNA, same port."""
    host = get_host(scheme, host_header, server, trusted_hosts)
    name, separator, port = host.lower().partition(":")
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError as e:
        raise BadHost() from e
    return f"{name}{separator}{port}"


def bind_to_environ(app: Flask, request: Request) -> MapAdapter:
    """Werkzeug's general binding, for ``SERVER_NAME`` and host/subdomain matching.

    Werkzeug warns (``UserWarning``) when the Host does not match ``SERVER_NAME``.
    """
    # Flask: the warning is attributed to this module, miniflask.routing, where
    # Flask's comes from flask.app; a warnings filter that names the module
    # ("flask.app") does not catch it here.
    request.host  # noqa: B018 (reading it checks TRUSTED_HOSTS: a bad host is a 400)
    server_name = app.config["SERVER_NAME"]
    subdomain = None
    if app.url_map.host_matching:
        # SERVER_NAME would replace the Host header and break host matching.
        server_name = None
    elif not app.subdomain_matching:
        # Match every request as the default subdomain, whatever its Host.
        subdomain = app.url_map.default_subdomain or ""
    return app.url_map.bind_to_environ(
        request.environ, server_name=server_name, subdomain=subdomain
    )


class CountingMap(Map):
    """Werkzeug's URL map, counting the rules added to it (``app.url_map``).

    A rule added after a URL was matched can change that URL's answer: a
    path that was "not found" may now have a view. Flask allows new rules
    until the first request (a ``test_request_context`` may come before
    them), and ``app.url_map.add(...)`` at any time, so :class:`MatchCache`
    compares this count with the one it started from on every match.
    """

    rules_added = 0

    def add(self, rulefactory: RuleFactory) -> None:
        super().add(rulefactory)
        self.rules_added += 1


def _rules_added(url_map: Map) -> int:
    return getattr(url_map, "rules_added", 0)


class MatchCache:
    """A bounded memo of ``MapAdapter.match`` results for one URL map.

    Args:
        max_size: entries kept; the memo is emptied when full, which keeps
            it small and simple (a flood of distinct URLs just turns it off).
    """

    def __init__(self, max_size: int = 2048) -> None:
        self.max_size = max_size
        self._results: dict[MatchKey, tuple[Rule, dict[str, Any]] | object] = {}
        self._url_map: Map | None = None
        self._rules_added = 0
        self._enabled = False

    def match(self, adapter: MapAdapter) -> tuple[Rule, dict[str, Any]]:
        """Match like ``adapter.match(return_rule=True)``, from memory when possible.

        Returns:
            The rule and a fresh dict of the URL's values (views and URL
            value preprocessors may change it freely).

        Raises:
            werkzeug.exceptions.HTTPException: 404, 405 or a redirect, as
                Werkzeug raises them.
        """
        # A rule added since (Flask allows it until the first request, and
        # `app.url_map.add` always) may change any earlier answer, "not found" most of all.
        # PERF: Werkzeug's matcher walks its state machine and runs the
        # converters at every request; a repeated request line is a dict
        # lookup here: 0.34 against 5.02 µs per match, and a JSON GET took
        # 22.4 µs instead of 34.3 (CPU time, median of 11 interleaved rounds,
        # docs/perf.md). Plain version (PLAIN, or an app
        # whose converters are not Werkzeug's): adapter.match, every time.
        if adapter.map is not self._url_map or self._rules_added != _rules_added(adapter.map):
            self._start(adapter.map)
        if not self._enabled:
            return adapter.match(return_rule=True)  # type: ignore[return-value]  # return_rule=True: a Rule

        key = (
            adapter.server_name,
            adapter.subdomain,
            adapter.path_info,
            adapter.default_method,
            adapter.websocket,
        )
        result = self._results.get(key)
        if result is None:
            result = self._match_and_remember(adapter, key)
        if result is _NOT_FOUND:
            raise NotFound()
        match: tuple[Rule, dict[str, Any]] = result  # type: ignore[assignment]  # not _NOT_FOUND
        return match[0], dict(match[1])

    def _start(self, url_map: Map) -> None:
        """Attach to ``url_map``; cache only if all its converters convert like Werkzeug's."""
        self._url_map = url_map
        self._rules_added = _rules_added(url_map)
        self._results.clear()
        # A URL map of another class (`app.url_map_class`) does not count its
        # rules, so nothing would tell the memo it is out of date: no memo.
        self._enabled = (
            not PLAIN
            and isinstance(url_map, CountingMap)
            and all(
                converter.to_python in _PURE_TO_PYTHON for converter in url_map.converters.values()
            )
        )

    def _match_and_remember(
        self, adapter: MapAdapter, key: MatchKey
    ) -> tuple[Rule, dict[str, Any]] | object:
        try:
            result: tuple[Rule, dict[str, Any]] | object = adapter.match(return_rule=True)
        except NotFound:
            result = _NOT_FOUND
        if len(self._results) >= self.max_size:
            self._results.clear()
        self._results[key] = result
        return result
