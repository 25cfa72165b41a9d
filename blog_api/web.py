"""Helpers shared by the blueprints: parsing input, auth, and building responses.

This is web layer, but it still imports no framework: ``Web`` is built around
the framework module ``fw`` that ``create_app`` picked, and reaches
``fw.request``, ``fw.g`` and ``fw.current_app`` through it. Each blueprint
builder makes one ``Web(fw)`` and its views call these methods, so the views
stay a few lines each: parse, call a service, respond.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import quote_plus, urlencode

import pydantic
from sqlalchemy import Connection
from sqlalchemy.orm import Session
from werkzeug.http import http_date, quote_etag
from werkzeug.routing import IntegerConverter
from werkzeug.wrappers import Response

from blog_api import errors
from blog_api.caching import CachedResponse, ResponseCache
from blog_api.db import Database
from blog_api.etags import canonical_json, etag_for, etag_of, if_match_satisfied
from blog_api.framework import Framework
from blog_api.mail import MailedLink
from blog_api.models import User
from blog_api.pagination import (
    ListRequest,
    Page,
    SortSpec,
    bound_per_page,
    cursor_link_header,
    link_header,
)
from blog_api.principal import Principal
from blog_api.schemas import ID_DIGITS, QueryModel, error_details
from blog_api.tokens import USER_GONE, TokenSettings

Model = TypeVar("Model", bound=pydantic.BaseModel)
QueryT = TypeVar("QueryT", bound=QueryModel)

#: Cache policies a view picks for a GET response.
PUBLIC = "public"  # same for every anonymous client: shared caches and our server cache
PRIVATE = "private"  # depends on who asks: browser cache only, revalidate each time
NO_STORE = "no-store"  # personal data (own profile, tokens): never stored anywhere


class IdConverter(IntegerConverter):
    """``<id:post_id>``: a row id, 1 to ``MAX_ID``; anything else is a routing 404.

    Werkzeug's plain ``int`` converter accepts any number of digits, and a
    number too large for the database's INTEGER column made the query itself
    fail (a 500) instead of finding no row. The bound lives in the regular
    expression, not in ``to_python``: Werkzeug's router checks the method
    before it converts, so ``int(max=...)`` rejecting ``DELETE /posts/0`` would
    be reported as 405 (GET, PUT and PATCH share the path) instead of 404.
    ``create_app`` registers this class in ``app.url_map.converters`` before the
    blueprints add their rules.

    Only the regex changes: ``to_python`` and ``to_url`` stay Werkzeug's
    ``int`` conversions, which have no side effects, so miniflask may
    remember URL matches for these routes (see ``miniflask/routing.py``).
    """

    regex = rf"[1-9][0-9]{{0,{ID_DIGITS - 1}}}"  # no leading zero, at most ID_DIGITS digits


class Web:
    """Request/response helpers bound to one framework module ``fw``."""

    def __init__(self, fw: Framework) -> None:
        self.fw = fw

    @property
    def db(self) -> Session:
        """This request's SQLAlchemy session (see ``db.Database``)."""
        database: Database = self.fw.current_app.extensions["blog_db"]
        return database.session

    @property
    def connection(self) -> Connection:
        """A connection for this request's reads of rows (see ``db.Database.connection``)."""
        database: Database = self.fw.current_app.extensions["blog_db"]
        return database.connection

    def commit(self) -> None:
        """Commit this request's writes, on the session or on :attr:`connection`."""
        database: Database = self.fw.current_app.extensions["blog_db"]
        database.commit()

    @property
    def config(self) -> Any:
        """The running app's config."""
        return self.fw.current_app.config

    def token_settings(self) -> TokenSettings:
        """Token settings from the running app's config."""
        return TokenSettings.from_config(self.config)

    def mailed_link(self, endpoint: str, ttl_setting: str) -> MailedLink:
        """A link to mail that opens the reader-site page ``endpoint`` with its token.

        The URL is absolute (``url_for(..., _external=True)``), built from the
        request's scheme and host: the host is one of ``TRUSTED_HOSTS`` (any
        other is refused before a view runs), and behind a trusted proxy
        (``PROXY_HOPS``) both come from its ``X-Forwarded-*`` headers, so a
        client cannot make the mail point at a host of its choosing.

        Args:
            endpoint: ``"site.reset_password"`` or ``"site.confirm_email"``.
            ttl_setting: the config key of the link's lifetime in seconds.
        """
        return MailedLink(
            int(self.config[ttl_setting]),
            lambda token: self.site_url(endpoint, token=token),
        )

    def site_url(self, endpoint: str, **values: Any) -> str:
        """The absolute URL of a reader-site page, for a mail (``"site.post", post_id=3``).

        Built as :meth:`mailed_link`'s links are, and as safe: from the
        request's trusted host and scheme, never from a host the client chose.
        """
        return str(self.fw.url_for(endpoint, _external=True, **values))

    def current_user(self) -> Principal | None:
        """The authenticated user (set by the auth ``before_request`` hook), if any."""
        return getattr(self.fw.g, "user", None)

    def require_user(self) -> Principal:
        """The authenticated user; 401 with a Bearer challenge when there is none."""
        user = self.current_user()
        if user is None:
            raise errors.Unauthorized("This endpoint needs a Bearer access token")
        return user

    def require_account(self) -> User:
        """The authenticated user's ``User`` entity in this request's session, for a
        view that changes the user themself or needs more than a ``Principal`` holds.

        Raises:
            Unauthorized: no Bearer token, or its user was deleted since the
                token check read them.
        """
        account = self.db.get(User, self.require_user().id)
        if account is None:
            raise errors.Unauthorized(USER_GONE, token_error="invalid_token")
        return account

    def json_body(self, model: type[Model]) -> Model:
        """Parse and validate the JSON body against ``model``.

        Raises:
            UnsupportedMediaType: the body is not ``application/json`` (415).
            BadRequest: the body is not valid JSON or not an object (400).
            ValidationError: fields are missing, unknown or wrongly typed (422).
        """
        request = self.fw.request
        if request.mimetype != "application/json":
            raise errors.UnsupportedMediaType("The request body must be application/json")
        self.check_size()
        try:
            data = request.get_json(silent=True)
        except RecursionError:
            # ``silent`` only covers ValueError; JSON nested deeper than the
            # interpreter's recursion limit ("[[[[..." in 1 MiB) makes the json
            # module raise RecursionError, which Flask would turn into a 500.
            data = None
        if not isinstance(data, dict):
            raise errors.BadRequest(
                "The request body must be a JSON object",
                details=[
                    {
                        "field": "body",
                        "message": "malformed JSON or not an object",
                        "type": "json_invalid",
                    }
                ],
            )
        try:
            return model.model_validate(data)
        except pydantic.ValidationError as e:
            raise errors.ValidationError(details=error_details(e.errors())) from None

    def check_size(self) -> None:
        """413 for a body larger than MAX_CONTENT_LENGTH, declared or not.

        A declared ``Content-Length`` is checked before anything is read. A
        chunked body declares no length, and there Werkzeug (under Flask and
        miniflask alike) stops reading at the limit and returns the bytes read
        so far without complaint; its ``LimitedStream`` raises only on a later
        read. Parsed as is, a too-large body would be cut short (and JSON
        followed by a megabyte of spaces would even be accepted). So a body
        that fills the limit is refused here; the bytes stay cached on the
        request for ``get_json`` and form parsing.
        """
        request, limit = self.fw.request, self.config["MAX_CONTENT_LENGTH"]
        if request.content_length is not None:
            if request.content_length > limit:
                self.fw.abort(413)
        elif len(request.get_data(cache=True)) >= limit:
            self.fw.abort(413)

    def query(self, model: type[QueryT]) -> QueryT:
        """Validate the query string against ``model``; problems are a 400."""
        args = {key: self.fw.request.args.get(key) for key in self.fw.request.args}
        try:
            return model.model_validate(args)
        except pydantic.ValidationError as e:
            raise errors.BadRequest(
                "Invalid query parameters", details=error_details(e.errors())
            ) from None

    def list_request(self, params: QueryModel, sort: str) -> ListRequest:
        """Page size bounds and mode (page numbers or cursor) for a list."""
        per_page = bound_per_page(
            params.per_page, self.config["PER_PAGE_DEFAULT"], self.config["PER_PAGE_MAX"]
        )
        return ListRequest(params.page, per_page, SortSpec.parse(sort), params.cursor)

    def check_if_match(self, current: dict[str, Any]) -> None:
        """412 unless ``If-Match`` (when sent) names the current representation.

        RFC 9110 §13.1.1: this is what stops two editors from silently
        overwriting each other ("lost update").
        """
        request = self.fw.request
        present = "If-Match" in request.headers
        if not if_match_satisfied(request.if_match, etag_for(current), present):
            raise errors.PreconditionFailed(
                "The resource changed since you read it; fetch it again (If-Match)"
            )

    def respond(
        self,
        data: Any,
        status: int = 200,
        *,
        cache: str = PRIVATE,
        headers: dict[str, str] | None = None,
        link: str | None = None,
    ) -> Response:
        """A JSON response with an ETag, a Cache-Control policy and an optional ``Link``.

        For GET requests the ETag makes the response conditional: a matching
        ``If-None-Match`` becomes ``304 Not Modified`` (Werkzeug's
        ``make_conditional``). ``PUBLIC`` responses to anonymous GETs are also
        stored in the server-side cache.
        """
        # PERF: the JSON is written once, and the ETag hashes that text. The
        # plain version, jsonify(data) and etag_for(data), writes it twice
        # (2 x 52 us for a page of 20 posts). The body is byte for byte what
        # jsonify writes outside debug mode (there it would be indented).
        canonical = canonical_json(data)
        entry = CachedResponse(
            (canonical + "\n").encode(), etag_of(canonical), self._cache_control(cache), link
        )
        self._remember(entry, status, cache)
        return self.response_for(entry, status, headers)

    def response_for(
        self, entry: CachedResponse, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        """The response for a JSON body and its headers: the one place this shape is built.

        A view's answer (:meth:`respond`) and a hit of the server-side cache
        (``hooks.serve_from_cache``) both come through here, so a cached copy
        is answered exactly as the view answered it. A GET's response varies
        with ``Authorization`` (an anonymous and a signed-in reader may get
        different bodies) and is conditional on ``If-None-Match``.
        """
        # PERF: the headers are listed once, in the order the plain version
        # gives them, and the response is built with them (4 to 7 us of about
        # 35, and 4 more for current_date). The plain version builds the
        # response, then sets each header (Werkzeug scans the list for each)
        # and lets ``make_conditional`` add ``Date``. A test compares the two.
        head = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(entry.body))),
            *(headers or {}).items(),
        ]
        if entry.link:
            head.append(("Link", entry.link))
        head += [("ETag", quote_etag(entry.etag)), ("Cache-Control", entry.cache_control)]
        request = self.fw.request
        conditional = False
        if request.method == "GET":
            head.append(("Vary", "Authorization"))
            conditional = asks_conditionally(request.environ)
            if not conditional:
                # All that make_conditional would add to this 200.
                head.append(("Date", current_date()))
        response = self.fw.Response(entry.body, status, head)
        return response.make_conditional(request.environ) if conditional else response

    def _cache_control(self, cache: str) -> str:
        """The Cache-Control value for a policy and the current caller."""
        if cache == NO_STORE:
            return "no-store"
        if cache == PUBLIC and self.current_user() is None:
            return f"public, max-age={self.config['PUBLIC_MAX_AGE']}"
        return "private, no-cache"

    def _remember(self, entry: CachedResponse, status: int, cache: str) -> None:
        """Store the answer to a public anonymous GET (a 200) in the server-side cache.

        It goes under the generation ``serve_from_cache`` read before the view
        ran; without one (that hook did not run) the body is not stored, since
        its data might predate a write.
        """
        if self.fw.request.method != "GET" or status != 200 or cache != PUBLIC:
            return
        generation = getattr(self.fw.g, "cache_generation", None)
        if generation is None or self.current_user() is not None:
            return
        self.response_cache().store(generation, cache_key(self.fw.request), entry)

    def response_cache(self) -> ResponseCache:
        """The app's server-side response cache."""
        cache: ResponseCache = self.fw.current_app.extensions["blog_cache"]
        return cache

    def no_content(self) -> Response:
        """An empty 204 response."""
        return self.fw.Response(status=204)

    def created(
        self, data: dict[str, Any], endpoint: str, *, cache: str = PRIVATE, **values: Any
    ) -> Response:
        """``201 Created``, with the new resource's absolute URL in ``Location`` (RFC 9110 §15.3.2).

        ``endpoint`` and ``values`` name the resource as ``url_for`` takes
        them (``"posts.get_post", post_id=3``). A relative reference would be
        allowed, but the absolute URL is one every client can use as is, and
        it shows the address the app believes it has: behind a TLS-terminating
        proxy it says ``https://`` only when the proxy's ``X-Forwarded-Proto``
        is trusted (``PROXY_HOPS``). PERF: ``url_for(..., _external=True)``
        builds it from the request's URL adapter, already bound to the
        request's scheme, host and mount point; the plain version joins
        ``request.host_url`` with the relative ``url_for``, and working out
        ``host_url`` made it 45 against 9 us (a fresh request each time).
        """
        location = self.fw.url_for(endpoint, _external=True, **values)
        return self.respond(data, 201, cache=cache, headers={"Location": location})

    def page(self, page: Page, cache: str) -> Response:
        """A list response with its RFC 8288 ``Link`` header (the services render the items)."""
        return self.respond(page.to_dict(), cache=cache, link=self._link(page))

    def _link(self, page: Page) -> str | None:
        """Links to neighbouring pages, keeping the request's other parameters.

        The path is the request's own: the router matched it to this view's
        rule, so it is the path ``url_for`` would build for the view's values
        (Werkzeug redirects a path with doubled slashes to that one first, and
        the blog's paths hold nothing that needs escaping). Each link adds its
        query string, encoded as Werkzeug's URL builder encodes one (see
        :class:`LinkQuery`). PERF: the plain version, ``url_for`` per link
        (three or four for a page), took 44 against 26 us for a page's links;
        ``url_for`` once, as it was then, 20 against 5 us for the path.
        """
        request = self.fw.request
        path = request.script_root + request.path
        if page.page is None:
            cursor_query = LinkQuery(path, request.args, ("cursor",))
            return cursor_link_header(lambda cursor: cursor_query.url(cursor), page.next_cursor)
        page_query = LinkQuery(path, request.args, ("page", "per_page"))
        return link_header(
            lambda number: page_query.url(number, page.per_page),
            page.page,
            page.per_page,
            page.total or 0,
        )


class LinkQuery:
    """A page's URL with the request's query, some parameters of which each link changes.

    The query reads as ``url_for`` would write it with the changed values: the
    request's parameters in its order, a changed one in its place or, if the
    request did not send it, appended, in the order of ``changing``. The
    parameters that stay are encoded once, not once per link (PERF: a page's
    four links, ``Web._link``, took 45 against 27 us; the plain version is
    ``urlencode`` of the merged parameters for each link).
    """

    def __init__(self, path: str, args: Mapping[str, str], changing: tuple[str, ...]) -> None:
        """``args`` is the request's query (a ``MultiDict``: the first value of each name)."""
        self.path = path
        # Each part is an encoded ``name=value`` that stays, or the index of
        # the changed value that goes there.
        self.parts: list[str | int] = []
        for name, value in args.items():
            if name in changing:
                self.parts.append(changing.index(name))
            else:
                self.parts.append(urlencode([(name, value)], safe=_QUERY_SAFE))
        self.parts += [index for index, name in enumerate(changing) if name not in args]
        self.names = changing

    def url(self, *values: str | int) -> str:
        """The URL with ``values`` for the changing parameters, in their order."""
        encoded = [
            # A page number is digits, which need no escaping; a cursor is text.
            f"{name}={value if isinstance(value, int) else quote_plus(value, safe=_QUERY_SAFE)}"
            for name, value in zip(self.names, values, strict=True)
        ]
        query = "&".join(part if isinstance(part, str) else encoded[part] for part in self.parts)
        return f"{self.path}?{query}"


#: The request headers that can make a GET's answer other than a plain 200:
#: those Werkzeug's ``make_conditional`` reads (``If-Range`` counts only with
#: a ``Range``; an ``If-Match`` that fails makes a 412).
CONDITIONAL_HEADERS = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_RANGE",
)


def asks_conditionally(environ: dict[str, Any]) -> bool:
    """Whether a GET sends any of :data:`CONDITIONAL_HEADERS`.

    A GET that sends none gets a 200 from Werkzeug's ``make_conditional``
    whatever the ETag, and only a ``Date`` header is added (the body's
    ``Content-Length`` is set already), so :meth:`Web.response_for` adds that
    header itself and skips the call (PERF: 12 against 22 us per GET). A test
    checks that both answer alike.
    """
    return any(name in environ for name in CONDITIONAL_HEADERS)


#: The second :func:`current_date` last formatted, and its text.
_last_date: tuple[int, str] = (0, "")


def current_date() -> str:
    """``http_date()`` for now, formatted at most once a second.

    An HTTP date has whole seconds, so every response in the same second
    carries the same text (PERF: 0.2 against 4 us per response; the plain
    version is ``http_date()``, which formats through ``email.utils``). Two
    threads that both see a new second both format it, alike.
    """
    global _last_date
    second = int(time.time())
    if _last_date[0] != second:
        _last_date = (second, http_date(second))
    return _last_date[1]


#: Characters Werkzeug's URL builder leaves unescaped in a query value
#: (``werkzeug.urls._urlencode``), so links read as ``url_for`` would write them.
_QUERY_SAFE = "!$'()*,/:;?@"


def cache_key(request: Any) -> str:
    """The server-cache key of a GET: its path and raw query string.

    The path includes the mount point (``SCRIPT_NAME``), since an answer's
    ``Link`` header does: one app mounted at two paths caches two answers.
    """
    path = request.script_root + request.path
    query = request.query_string.decode("latin-1")
    return f"{path}?{query}" if query else path
