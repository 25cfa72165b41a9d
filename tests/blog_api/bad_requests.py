"""Malformed requests for every route of the blog app, and a way to send them.

The robustness sweep (``test_robustness.py``) takes its requests from here:

* ``catalogue``: hand-picked nasty values for every route (a fixed list);
* ``FAMILIES``: one function per kind of bad input (a bad id, a bad query
  parameter, a forged token, an untrusted host...). Each builds one ``Probe``
  from a ``Source`` of values, so the same family runs on two engines:
  ``RandomSource`` (a seeded ``random.Random``: fast, so it sends the bulk)
  and ``HypothesisSource`` (Hypothesis's draws: values biased towards the
  edges, and a failure shrinks to the smallest request that fails).

Every probe says what it must get: ``"4xx"`` when the request is certainly
wrong, ``"any"`` when it is merely odd (a junk ``If-None-Match`` on a read may
well succeed; it must still not be a 5xx), ``"redirect"`` for a log in whose
``next`` must be followed only when it is a plain local path.

Requests go to the app through WSGI by hand (``send``), as gunicorn would
build the environ: the test client would refuse or re-encode some of the
malformed values the families need to send.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import random
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol, TypeVar
from urllib.parse import quote, unquote_to_bytes, urlencode

from hypothesis import strategies as st
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticError
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_options_header
from werkzeug.routing import RequestRedirect
from werkzeug.sansio.utils import host_is_trusted

from tests.blog_api.conftest import PASSWORD

T = TypeVar("T")

TRUSTED_HOSTS = ["localhost", "127.0.0.1"]  # the app's default TRUSTED_HOSTS
VALID_ID = re.compile(r"[1-9][0-9]{0,8}")  # what web.IdConverter routes
#: For families whose bad part is checked before the body is read: bodies that
#: fail anyway, so a check done in the wrong order would still give a 4xx.
CHEAP_BAD_BODIES = [b'{"no_such_field": 1}', b"{", b"[]", b"\xff"]


@dataclass(frozen=True)
class Route:
    """One (URL rule, method) of the app, with a concrete path that reaches it."""

    method: str
    rule: str
    path: str
    api: bool
    auth: bool = False  # the API operation needs a Bearer token
    body: str | None = None  # "json" | "form" | None
    listing: bool = False  # a list with page/per_page
    query_fields: frozenset[str] = frozenset()

    @property
    def has_id(self) -> bool:
        """Whether the rule has an ``<id:...>`` segment."""
        return "<id:" in self.rule


@dataclass(frozen=True)
class Target:
    """One app, its routes, and the data and credentials the probes refer to."""

    framework: str
    app: Any
    routes: tuple[Route, ...]
    token: str  # alice's access token: bad bodies reach validation, not a 401
    post_id: int
    cursor: str  # a real next_cursor of GET /posts, to tamper with
    logged_in_cookie: str  # a reader-site session logged in as alice
    csrf_logged_in: str
    anonymous_cookie: str  # a reader-site session with a CSRF token, no login
    csrf_anonymous: str

    def where(self, test: Callable[[Route], bool]) -> list[Route]:
        """The routes ``test`` accepts (never none: a family without routes is a bug)."""
        chosen = [route for route in self.routes if test(route)]
        assert chosen, "no route for this family"
        return chosen


@dataclass(frozen=True)
class Probe:
    """One request as it arrives from the network, and what it must get."""

    family: str
    method: str
    path: str  # as on the wire: percent-encoded where needed
    query: str = ""
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    host: str = "localhost"
    expect: str = "4xx"  # "4xx" | "any" (never a 5xx) | "redirect" (a safe 303)


@dataclass
class Answer:
    """What the app sent back."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), if any."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def send(app: Any, probe: Probe) -> Answer:
    """Call the WSGI app with ``probe`` and collect the whole response.

    As a real server does, the path is percent-decoded and its bytes passed
    as latin-1 (PEP 3333), and so are header values.
    """
    environ = {
        "REQUEST_METHOD": probe.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(probe.path).decode("latin-1"),
        "QUERY_STRING": probe.query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": probe.host,
        "CONTENT_LENGTH": str(len(probe.body)) if probe.body else "",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(probe.body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in probe.headers:
        key = name.upper().replace("-", "_")
        environ[key if key in {"CONTENT_TYPE", "CONTENT_LENGTH"} else f"HTTP_{key}"] = value
    started: list[Any] = []
    chunks = app(environ, lambda status, headers, exc_info=None: started.extend([status, headers]))
    try:
        body = b"".join(chunks)
    finally:
        getattr(chunks, "close", lambda: None)()
    return Answer(int(started[0].split()[0]), list(started[1]), body)


# Where values come from.


class Source(Protocol):
    """What a family draws its values from."""

    def choice(self, options: Sequence[T]) -> T:
        """One of ``options``."""

    def integer(self) -> int:
        """Any integer, small, at a boundary, or huge."""

    def text(self, alphabet: str | None = None, max_size: int = 60) -> str:
        """A string: any characters (``alphabet=None``) or only those of ``alphabet``."""

    def binary(self, max_size: int = 200) -> bytes:
        """Any bytes."""


#: Characters that break parsers, picked often by ``RandomSource.text``.
SPECIALS = "\x00\t\n\r %/\\.é😀\u202e\ufeff'\"<>&;=?#+,:@[]{}*\x7f\x85\u2028"
LATIN1 = "".join(chr(c) for c in range(0x20, 0x100) if c != 0x7F)
BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
BOUNDARIES = [0, 1, -1, 2, 99, 100, 101, 100_000, 100_001, 999_999_999, 10**9, 2**31, 2**63, 10**40]


class RandomSource:
    """Values from a seeded ``random.Random``: cheap, and the same for the same seed."""

    def __init__(self, seed: str) -> None:
        self.rng = random.Random(seed)

    def choice(self, options: Sequence[T]) -> T:
        return self.rng.choice(options)

    def integer(self) -> int:
        rng = self.rng
        kind = rng.random()
        if kind < 0.4:
            return rng.choice(BOUNDARIES) * rng.choice([1, -1])
        if kind < 0.7:
            return rng.randint(-1000, 1000)
        return rng.randint(-(2**70), 2**70)

    def text(self, alphabet: str | None = None, max_size: int = 60) -> str:
        rng = self.rng
        size = min(max_size, rng.choice([0, 1, 2, 3, 5, 8, 13, 21, 40, max_size]))
        return "".join(self._char(alphabet) for _ in range(size))

    def _char(self, alphabet: str | None) -> str:
        rng = self.rng
        if alphabet is not None:
            return rng.choice(alphabet)
        kind = rng.random()
        if kind < 0.35:
            return chr(rng.randint(0x20, 0x7E))
        if kind < 0.55:
            return rng.choice(SPECIALS)
        if kind < 0.7:
            return rng.choice(LATIN1)
        code = rng.randint(0, 0x10FFFF)
        return chr(code) if not 0xD800 <= code <= 0xDFFF else "\ufffd"

    def binary(self, max_size: int = 200) -> bytes:
        return self.rng.randbytes(self.rng.randint(0, max_size))


class HypothesisSource:
    """Values drawn by Hypothesis (``st.data()``): edge-biased, and shrinkable."""

    def __init__(self, data: st.DataObject) -> None:
        self.data = data

    def choice(self, options: Sequence[T]) -> T:
        return self.data.draw(st.sampled_from(options))

    def integer(self) -> int:
        return self.data.draw(st.integers())

    def text(self, alphabet: str | None = None, max_size: int = 60) -> str:
        characters = st.characters() if alphabet is None else alphabet
        return self.data.draw(st.text(characters, max_size=max_size))

    def binary(self, max_size: int = 200) -> bytes:
        return self.data.draw(st.binary(max_size=max_size))


def until(make: Callable[[], T], accept: Callable[[T], bool], fallback: T) -> T:
    """``make()`` until ``accept`` takes the value (a few tries), else ``fallback``."""
    for _ in range(20):
        value = make()
        if accept(value):
            return value
    return fallback


def raw(text: str) -> str:
    """``text`` as a WSGI string: its UTF-8 bytes read as latin-1."""
    return text.encode("utf-8", "surrogatepass").decode("latin-1")


def encode(pairs: Sequence[tuple[str, str]]) -> str:
    """A query string or form body of ``pairs`` (UTF-8, percent-encoded)."""
    return urlencode(list(pairs), encoding="utf-8", errors="surrogatepass")


# Building a probe for a route.


def probe_for(target: Target, route: Route, family: str, **changes: Any) -> Probe:
    """A request to ``route``, well-formed except for ``changes``.

    ``token=True`` adds alice's access token, for families whose bad part is
    checked only after authentication (a body, ``If-Match``); the others send
    none, since checking a valid token costs database reads and the bad part
    (an id, a host) is refused either way. JSON and form routes get their
    content type unless ``headers`` names one.
    """
    headers = list(changes.pop("headers", ()))
    token = changes.pop("token", False)
    names = {name.lower() for name, _ in headers}
    if token and "authorization" not in names:
        headers.append(("Authorization", f"Bearer {target.token}"))
    if route.body and "content-type" not in names:
        kind = "application/json" if route.body == "json" else "application/x-www-form-urlencoded"
        headers.append(("Content-Type", kind))
    return replace(Probe(family, route.method, route.path, headers=tuple(headers)), **changes)


def with_id(route: Route, raw_id: str) -> str:
    """``route.path`` with its id segment replaced by ``raw_id``, percent-encoded."""
    index = next(i for i, part in enumerate(route.rule.split("/")) if part.startswith("<id:"))
    parts = route.path.split("/")
    parts[index] = quote(raw_id.encode("utf-8", "surrogatepass"), safe="")
    return "/".join(parts)


def may_get_token(route: Route) -> bool:
    """Whether bad bodies for ``route`` go with alice's token.

    Never for logging out: with a valid token, that revokes it.
    """
    return route.auth and not route.rule.endswith("/auth/logout")


INT = TypeAdapter(int)


def parses_as_int_in(value: str, low: int, high: int) -> bool:
    """Whether pydantic's lax ``int`` (the query models') reads ``value`` within bounds."""
    try:
        return low <= INT.validate_python(value) <= high
    except PydanticError:
        return False


# The families: one kind of bad input each.


def bad_id(target: Target, src: Source) -> Probe:
    """An id that is not 1..999,999,999 written plainly: a routing 404."""
    route = src.choice(target.where(lambda r: r.has_id))
    value = until(
        lambda: src.choice([lambda: str(src.integer()), lambda: src.text()])(),
        lambda v: not VALID_ID.fullmatch(v) and "/" not in v,
        "x",
    )
    return probe_for(target, route, "id", path=with_id(route, value))


def bad_query(target: Target, src: Source) -> Probe:
    """A refused parameter first (page, per_page or an unknown name), then random ones."""
    route = src.choice(target.where(lambda r: r.listing))
    size_max = target.app.config["PER_PAGE_MAX"]

    def number() -> str:
        return src.choice([lambda: str(src.integer()), src.text])()

    def bad_number(name: str, high: int) -> tuple[str, str]:
        return name, until(number, lambda v: not parses_as_int_in(v, 1, high), "0")

    def unknown() -> tuple[str, str]:
        name = until(src.text, lambda k: k != "" and k not in route.query_fields, "x")
        return name, src.text()

    first = src.choice(
        [lambda: bad_number("page", 100_000), lambda: bad_number("per_page", size_max), unknown]
    )()
    known = ["page", "per_page", "cursor", "author", "tag", "status", "q", "sort"]
    extra = [
        (src.choice([lambda: src.choice(known), lambda: src.text()])(), src.text())
        for _ in range(src.choice([0, 1, 2, 3]))
    ]
    return probe_for(target, route, "query", query=encode([first, *extra]))


def bad_cursor(target: Target, src: Source) -> Probe:
    """Cursors no server made: any text, base64-looking junk, a real one tampered with."""
    route = src.choice(target.where(lambda r: r.listing))
    real = target.cursor

    def tampered() -> str:
        index = src.choice(range(len(real)))
        return real[:index] + src.text(max_size=3) + real[index + 1 :]

    cursor = until(
        lambda: src.choice(
            [
                lambda: src.text(),
                lambda: f"{src.text(BASE64URL)}.{src.text()}",
                lambda: f"{src.text()}.{src.text(BASE64URL)}",
                tampered,
                lambda: real + src.text(max_size=3),
            ]
        )(),
        lambda c: c not in ("", real),
        real + "x",
    )
    return probe_for(target, route, "cursor", query=encode([("cursor", cursor)]))


def _jwt(header: dict[str, Any], claims: dict[str, Any], key: bytes) -> str:
    """A JWT made by hand, so its claims may have any type (PyJWT's encoder refuses some)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{part(json.dumps(header).encode())}.{part(json.dumps(claims).encode())}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest() if key else b""
    return f"{signing_input}.{part(signature)}"


#: JOSE headers and keys of forged tokens: another server's key, none, wrong algorithms.
FORGERIES = [
    ({"alg": "HS256", "typ": "JWT"}, b"not-our-key-" * 4),
    ({"alg": "none"}, b""),
    ({"alg": "HS512"}, b"not-our-key-" * 4),
    ({"alg": "RS256"}, b"x"),
]
CLAIMS = ["sub", "exp", "iat", "jti", "iss", "typ", "nbf"]


def bad_token(target: Target, src: Source) -> Probe:
    """A Bearer token that is not alice's: junk, JWT-shaped junk, forged or unsigned."""
    route = src.choice(target.where(lambda r: r.api))

    def forged() -> str:
        header, key = src.choice(FORGERIES)
        claims = {
            src.choice(CLAIMS): src.choice([src.integer, src.text])()
            for _ in range(src.choice([0, 2, 4, 6]))
        }
        return _jwt(header, claims, key)

    token = src.choice(
        [
            lambda: src.text(LATIN1),
            forged,
            lambda: ".".join(src.text(BASE64URL, 40) for _ in range(3)),
        ]
    )()
    scheme = src.choice(["Bearer", "bearer", "BEARER"])
    return probe_for(target, route, "token", headers=[("Authorization", f"{scheme} {token}")])


def bad_host(target: Target, src: Source) -> Probe:
    """A ``Host`` outside ``TRUSTED_HOSTS`` (Werkzeug's own test decides what is trusted)."""
    route = src.choice(target.routes)
    host = until(
        lambda: src.choice(
            [
                lambda: src.text(LATIN1),
                lambda: raw(src.text()),
                lambda: f"{src.choice(TRUSTED_HOSTS)}:{src.integer()}",
                lambda: f"{src.choice(TRUSTED_HOSTS)}.{src.text(LATIN1, 20)}",
            ]
        )(),
        lambda h: not host_is_trusted(h.removesuffix(":80"), TRUSTED_HOSTS),
        "evil.example",
    )
    return probe_for(target, route, "host", host=host)


def json_value(src: Source) -> Any:
    """A JSON value of any type, at most one level deep."""

    def scalar() -> Any:
        return src.choice(
            [lambda: None, lambda: True, src.integer, lambda: src.integer() / 7, src.text]
        )()

    return src.choice(
        [
            scalar,
            lambda: [scalar() for _ in range(src.choice([0, 1, 3]))],
            lambda: {src.text(max_size=5): scalar() for _ in range(src.choice([0, 1, 2]))},
        ]
    )()


def _not_a_json_object(body: bytes) -> bool:
    try:
        return not isinstance(json.loads(body), dict)
    except (ValueError, RecursionError):
        return True


FIELDS = ["title", "body", "tags", "status", "username", "email", "password", "refresh_token"]


def bad_json_body(src: Source) -> bytes:
    """A body that cannot pass: not JSON, not an object, or an object with an unknown field."""

    def with_unknown_field() -> bytes:
        data = {src.choice(FIELDS): json_value(src) for _ in range(src.choice([0, 1, 2, 4]))}
        return json.dumps({**data, "no_such_field": json_value(src)}).encode()

    return src.choice(
        [
            with_unknown_field,
            lambda: with_unknown_field().replace(b'"no_such_field"', b'"no_such_\xff"'),
            lambda: src.choice(["[", "{", '{"a":']).encode() * src.choice([10, 1000, 50_000]),
            lambda: until(lambda: src.binary(), _not_a_json_object, b"{"),
            lambda: until(
                lambda: src.text().encode("utf-8", "surrogatepass"), _not_a_json_object, b"["
            ),
            lambda: until(
                lambda: json.dumps(json_value(src)).encode(), _not_a_json_object, b"null"
            ),
            lambda: b'{"no_such_field": 1}' + b" " * (1024 * 1024),  # over MAX_CONTENT_LENGTH
        ]
    )()


def bad_body(target: Target, src: Source) -> Probe:
    """A malformed JSON body, with alice's token where the route needs one."""
    route = src.choice(target.where(lambda r: r.api and r.body == "json"))
    return probe_for(target, route, "body", body=bad_json_body(src), token=may_get_token(route))


FORM_KEYS = ["grant_type", "username", "password", "refresh_token", "csrf_token", "body", "next"]


def bad_form(target: Target, src: Source) -> Probe:
    """Form posts: the token endpoint without valid credentials, site forms without a session.

    No username is alice's or bob's, so no password can be right; without a
    session cookie no site form can carry a valid CSRF token.
    """
    route = src.choice(target.where(lambda r: r.body == "form"))
    body = until(
        lambda: src.choice(
            [
                lambda: encode(
                    [
                        (src.choice([lambda: src.choice(FORM_KEYS), src.text])(), src.text())
                        for _ in range(src.choice([0, 1, 2, 4, 6]))
                    ]
                ).encode(),
                lambda: src.binary(),
            ]
        )(),
        lambda b: b"alice" not in b and b"bob" not in b,
        b"grant_type=nope",
    )
    return probe_for(target, route, "form", body=body)


def bad_content_type(target: Target, src: Source) -> Probe:
    """A body declared as anything but what the route reads."""
    route = src.choice(target.where(lambda r: r.api and r.body is not None))
    wanted = "application/json" if route.body == "json" else "application/x-www-form-urlencoded"
    content_type = until(
        lambda: src.choice(
            [lambda: src.text(LATIN1), lambda: src.choice(["text/plain", "application/xml"])]
        )(),
        lambda t: parse_options_header(t)[0].strip().lower() != wanted,
        "text/plain",
    )
    return probe_for(
        target,
        route,
        "content-type",
        headers=[("Content-Type", content_type)],
        body=src.choice(CHEAP_BAD_BODIES),
        token=may_get_token(route),
    )


def bad_if_match(target: Target, src: Source) -> Probe:
    """A write under an ``If-Match`` naming no current version: 412 before anything."""
    route = src.choice(target.where(lambda r: r.method in {"PUT", "PATCH", "DELETE"}))
    value = until(lambda: src.text(LATIN1), lambda v: "*" not in v, '"nope"')
    body = src.choice(CHEAP_BAD_BODIES) if route.body else b""
    headers = [("If-Match", value)]
    return probe_for(target, route, "if-match", headers=headers, body=body, token=True)


def bad_method(target: Target, src: Source) -> Probe:
    """A method no rule of the path allows: 405."""
    route = src.choice(target.routes)
    allowed = {r.method for r in target.routes if r.path == route.path} | {"HEAD", "OPTIONS"}
    method = until(
        lambda: src.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ-_", 12),
        lambda m: m and m not in allowed,
        "BREW",
    )
    return probe_for(target, route, "method", method=method)


def bad_path(target: Target, src: Source) -> Probe:
    """A path no rule matches, under the API and beside it: 404."""
    adapter = target.app.url_map.bind("localhost")

    def unrouted(path: str) -> bool:
        try:
            adapter.match(unquote_to_bytes(path).decode("utf-8", "replace"), "GET")
        except HTTPException as e:
            return e.code == 404
        except RequestRedirect:
            return False
        return False

    def make() -> str:
        prefix = src.choice(["/api/v1/", "/api/", "/", "/posts/", "/api/v1/posts/1/"])
        parts = [src.text() for _ in range(src.choice([1, 2, 4]))]
        return prefix + "/".join(quote(p.encode("utf-8", "surrogatepass"), safe="") for p in parts)

    path = until(make, unrouted, "/api/v1/no-such-thing")
    method = src.choice(["GET", "POST", "PUT", "PATCH", "DELETE"])
    return Probe("path", method, path, headers=(("Content-Type", "text/plain"),))


NOISE_HEADERS = [
    "If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range", "Range",
    "X-Request-ID", "Accept", "Accept-Encoding", "Cookie", "X-Forwarded-For",
    "X-Forwarded-Host", "X-Forwarded-Proto", "Authorization", "Origin", "Referer",
]  # fmt: skip


def noise(target: Target, src: Source) -> Probe:
    """Odd but harmless headers and parameters on a read: any status but a 5xx."""
    route = src.choice(target.where(lambda r: r.method == "GET"))
    headers = []
    for _ in range(src.choice([1, 2, 4])):
        name, value = src.choice(NOISE_HEADERS), src.text(LATIN1)
        if not (name == "Authorization" and value.lower().startswith("bearer")):
            headers.append((name, value))
    query = encode([(src.text(), src.text()) for _ in range(src.choice([0, 0, 1, 3]))])
    return probe_for(target, route, "noise", headers=headers, query=query, expect="any")


def site_session(target: Target, src: Source) -> Probe:
    """Site forms with a real session: bad comments, other origins, odd ``next`` targets."""
    comment_path = f"/posts/{target.post_id}/comments"
    form = ("Content-Type", "application/x-www-form-urlencoded")
    logged_in = ("Cookie", f"session={target.logged_in_cookie}")

    def comment(text: str, *headers: tuple[str, str]) -> Probe:
        data = encode([("body", text), ("csrf_token", target.csrf_logged_in)]).encode()
        headers = (logged_in, form, *headers)
        return Probe("site-session", "POST", comment_path, headers=headers, body=data)

    def login() -> Probe:
        fields = [("username", "alice"), ("password", PASSWORD)]
        data = encode([*fields, ("csrf_token", target.csrf_anonymous), ("next", src.text())])
        headers = (("Cookie", f"session={target.anonymous_cookie}"), form)
        body = data.encode()
        return Probe(
            "site-session", "POST", "/login", headers=headers, body=body, expect="redirect"
        )

    def other_origin() -> Probe:
        origin = until(
            lambda: src.text(LATIN1),
            lambda o: re.sub(r"^[a-z]+://", "", o) not in ("localhost", "localhost:80"),
            "https://evil.example",
        )
        return comment("hello", ("Origin", origin))

    return src.choice(
        [
            lambda: comment(src.text(" \t\r\n\u00a0\u2003")),  # blank: 400, nothing stored
            lambda: comment("x" * (10_001 + abs(src.integer()) % 2000)),  # too long
            other_origin,
            login,
        ]
    )()


#: Family name -> builder. Every family's probes "expect 4xx" except noise's
#: ("any") and the site log-ins ("redirect").
FAMILIES: dict[str, Callable[[Target, Source], Probe]] = {
    "id": bad_id,
    "query": bad_query,
    "cursor": bad_cursor,
    "token": bad_token,
    "host": bad_host,
    "body": bad_body,
    "form": bad_form,
    "content-type": bad_content_type,
    "if-match": bad_if_match,
    "method": bad_method,
    "path": bad_path,
    "noise": noise,
    "site-session": site_session,
}


# The hand-picked catalogue.


NASTY_IDS = [
    "0", "-1", "01", "+1", "1.0", "1e3", "0x1", "1000000000", "9" * 40, "abc", "me", "null",
    " 1", "1 ", "1\n", "\x00", "é", "\u0661", "😀", "1;DROP TABLE posts", "%FF", "..", "",
]  # fmt: skip
NASTY_TEXT = [
    "\x00", "é", "\ud800", "😀" * 50, "x" * 5000, "'; DROP TABLE posts; --", "%", "%zz",
    "\x1b[31m", "<script>alert(1)</script>", " ", "\u202e", "NaN", "-0", "1e999999",
]  # fmt: skip
NASTY_BODIES = [
    b"", b"{", b"[]", b"null", b'"x"', b"1", b"\xff\xfe", b'{"title": "\xff"}', b"{}{}",
    b'{"x": 1}', b'{"title": NaN, "x": 1}', b'{"n": 1e999999, "x": 1}',
    b'{"n": ' + b"9" * 5000 + b"}", b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 1000 + b"1" + b"}" * 1000, b'{"x": 1}' + b" " * (1024 * 1024),
    b'\xef\xbb\xbf{"x": 1}', b'{"\\ud800": 1}',
]  # fmt: skip
NASTY_HOSTS = [
    "evil.example", "", "local host", "localhost:99999", "localhost:0", "[::1", "[::1]",
    "a" * 300, "é.example", "localhost.", "localhost:x", "127.0.0.1.evil.example", "_",
]  # fmt: skip
NASTY_TOKENS = ["", "x", "a.b.c", "Bearer", "é\xff", "a" * 8000, "eyJhbGciOiJub25lIn0.e30."]
NASTY_METHODS = ["FOO", "PROPFIND", "TRACE", "CONNECT", "BREW", "M-SEARCH"]
NASTY_QUERIES = [
    "per_page=0", "per_page=101", "per_page=x", "per_page=-1", "per_page=", "page=0",
    "page=100001", "page=abc", "page=1e3", "cursor=garbage", "cursor=x.%C3%A9", "cursor=%FF.x",
    "cursor=" + "a" * 600, "nope=1", "%FF=1", "per%00page=1", "page=1%00", "sort=x",
]  # fmt: skip


def catalogue(target: Target) -> Iterator[Probe]:
    """Hand-picked nasty values for every route (about a thousand probes)."""
    for route in target.routes:
        yield from _catalogue_for(target, route)


def _catalogue_for(target: Target, route: Route) -> Iterator[Probe]:
    for value in NASTY_IDS if route.has_id else ():
        yield probe_for(target, route, "id", path=with_id(route, value))
    for host in NASTY_HOSTS:
        yield probe_for(target, route, "host", host=host)
    for method in NASTY_METHODS:
        yield probe_for(target, route, "method", method=method)
    for token in NASTY_TOKENS if route.api else ():
        yield probe_for(target, route, "token", headers=[("Authorization", f"Bearer {token}")])
    for query in NASTY_QUERIES if route.listing else ():
        if not query.startswith("sort") or "sort" in route.query_fields:
            yield probe_for(target, route, "query", query=query)
    for body in NASTY_BODIES if route.api and route.body == "json" else ():
        yield probe_for(target, route, "body", body=body, token=may_get_token(route))
    for text in NASTY_TEXT if route.method == "GET" else ():
        value = raw(text)
        headers = [("If-None-Match", value), ("If-Modified-Since", value), ("X-Request-ID", value)]
        yield probe_for(target, route, "noise", headers=headers, expect="any")
