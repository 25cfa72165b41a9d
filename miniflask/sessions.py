"""Sessions: a dict that survives between requests, kept in a signed cookie.

Flask counterpart: ``flask/sessions.py``. The cookie's serialiser, which
keeps tuples, bytes, dates ... intact, is ``json/tag.py`` (Flask's
``flask/json/tag.py``).

HTTP is stateless; a session gives each browser a small dict that comes back
with its next request. Flask's default keeps the whole dict *in the cookie*,
serialised to JSON and signed with ``SECRET_KEY`` (itsdangerous' HMAC, with
a timestamp). The client can read the data but cannot change it: a tampered
or expired cookie fails the signature check and the request simply gets an
empty session. No server-side storage is needed, which is why Flask chose it.

The moments a request meets the session:

1. ``RequestContext.push`` calls :meth:`SessionInterface.open_session`.
2. Views read and write ``session`` like a dict. Reaching it through the
   ``session`` proxy marks it *accessed* (the response then varies by
   ``Cookie``); a change marks it *modified* (the cookie is then written).
3. ``Flask.process_response`` calls :meth:`SessionInterface.save_session`,
   which sets, refreshes or deletes the cookie.

Replace ``app.session_interface`` to keep sessions elsewhere (a database,
Redis): the rest of the framework only talks to this interface.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import zlib
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.encoding import bytes_to_int, int_to_bytes, want_bytes
from itsdangerous.signer import HMACAlgorithm
from werkzeug.datastructures import CallbackDict
from werkzeug.sansio.http import parse_cookie

from .json.tag import TaggedJSONSerializer
from .perf import PLAIN

if TYPE_CHECKING:
    from .app import Flask
    from .wrappers import Request, Response


class SessionMixin(MutableMapping[str, Any]):
    """What every session object offers besides the dict methods."""

    @property
    def permanent(self) -> bool:
        """Whether the cookie outlives the browser (``PERMANENT_SESSION_LIFETIME``)."""
        return self.get("_permanent", False)

    @permanent.setter
    def permanent(self, value: bool) -> None:
        self["_permanent"] = bool(value)

    #: ``True`` for a session that can not be saved (no ``SECRET_KEY``).
    new = False
    #: Set when the dict changed; a change to a nested mutable value is not
    #: seen, so set it by hand then (``session.modified = True``).
    modified = True
    #: Set when the request context handed the session out (the ``session``
    #: proxy, ``ctx.session``): the response may depend on it, so it varies by
    #: Cookie. The session interface's own reads (``permanent``, when saving)
    #: do not count, so a request that never touched the session gets no Vary.
    accessed = False


def _mark_changed(session: SecureCookieSession) -> None:
    """``CallbackDict``'s hook, called on every change: the session must be saved."""
    session.modified = True


class SecureCookieSession(CallbackDict[str, Any], SessionMixin):
    """The session of the default interface: a dict that tracks change."""

    modified = False

    def __init__(self, initial: Any = None) -> None:
        super().__init__(initial, _mark_changed)


class NullSession(SecureCookieSession):
    """The session when no ``SECRET_KEY`` is set: reading works, writing explains why not."""

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            "The session is unavailable because no secret key was set.  Set the"
            " secret_key on the application to something unique and secret."
        )

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _fail
    del _fail


#: The serializer of the session cookie (see ``json/tag.py``).
session_json_serializer = TaggedJSONSerializer()


class SessionInterface:
    """The contract between the framework and a session store.

    Implement :meth:`open_session` and :meth:`save_session`; the helpers
    below read the ``SESSION_COOKIE_*`` settings so every store honours them.
    """

    #: What :meth:`make_null_session` returns.
    null_session_class = NullSession
    #: Set to ``True`` for a store that hands out a new cookie per request.
    pickle_based = False

    def make_null_session(self, app: Flask) -> NullSession:
        """The session to use when :meth:`open_session` returned ``None``."""
        return self.null_session_class()

    def is_null_session(self, obj: object) -> bool:
        """``True`` for the stand-in session, which is never saved."""
        return isinstance(obj, self.null_session_class)

    def get_cookie_name(self, app: Flask) -> str:
        return app.config["SESSION_COOKIE_NAME"]

    def get_cookie_domain(self, app: Flask) -> str | None:
        return app.config["SESSION_COOKIE_DOMAIN"]

    def get_cookie_path(self, app: Flask) -> str:
        """``SESSION_COOKIE_PATH``, else ``APPLICATION_ROOT``."""
        return app.config["SESSION_COOKIE_PATH"] or app.config["APPLICATION_ROOT"]

    def get_cookie_httponly(self, app: Flask) -> bool:
        return app.config["SESSION_COOKIE_HTTPONLY"]

    def get_cookie_secure(self, app: Flask) -> bool:
        return app.config["SESSION_COOKIE_SECURE"]

    def get_cookie_samesite(self, app: Flask) -> str | None:
        return app.config["SESSION_COOKIE_SAMESITE"]

    def get_cookie_partitioned(self, app: Flask) -> bool:
        return app.config["SESSION_COOKIE_PARTITIONED"]

    def get_expiration_time(self, app: Flask, session: SessionMixin) -> datetime | None:
        """When a permanent session's cookie expires; ``None`` for a browser session."""
        if session.permanent:
            return datetime.now(UTC) + app.permanent_session_lifetime
        return None

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        """Set the cookie when the session changed, or to slide a permanent one's expiry."""
        return session.modified or (
            session.permanent and app.config["SESSION_REFRESH_EACH_REQUEST"]
        )

    def open_session(self, app: Flask, request: Request) -> SessionMixin | None:
        """Load the session for a request; ``None`` means "use a null session"."""
        raise NotImplementedError()

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Persist the session at the end of a request, setting the cookie on ``response``."""
        raise NotImplementedError()


class _SessionSigner(TimestampSigner):
    """itsdangerous' timestamp signer, deriving each key's signing key once.

    The signing key is an HMAC of the salt under ``SECRET_KEY``: the same
    bytes for every cookie. itsdangerous derives it again for every signature
    made or checked, and sets the HMAC up with it again for every signature.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._derived_keys: dict[str | bytes | None, bytes] = {}
        self._keyed_macs: dict[bytes, hmac.HMAC] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        # PERF: one derivation per secret key for the signer's life instead of
        # one per signature: 0.07 against 1.66 µs per call, two calls per
        # session request (CPU time, median of 11 interleaved rounds,
        # docs/perf.md).
        # Plain version: TimestampSigner.derive_key (PLAIN: itsdangerous'
        # serializer, see SecureCookieSessionInterface.get_signing_serializer).
        key = self._derived_keys.get(secret_key)
        if key is None:
            key = self._derived_keys[secret_key] = super().derive_key(secret_key)
        return key

    def get_signature(self, value: str | bytes) -> bytes:
        """The signature of ``value`` under the newest key, base64-encoded (itsdangerous' value)."""
        return _b64encode(self._mac(self.derive_key(), want_bytes(value)))

    def verify_signature(self, value: str | bytes, sig: str | bytes) -> bool:
        """Whether ``sig`` signs ``value`` under any of the keys, the newest tried first."""
        if isinstance(sig, str):
            sig = sig.encode("ascii", "ignore")  # as itsdangerous' base64_decode reads text
        try:
            signature = _b64decode(sig)
        except Exception:  # not base64: no signature matches, as itsdangerous answers
            return False
        value = want_bytes(value)
        return any(
            hmac.compare_digest(signature, self._mac(self.derive_key(key), value))
            for key in reversed(self.secret_keys)
        )

    def _mac(self, key: bytes, value: bytes) -> bytes:
        """The HMAC of ``value`` under a derived ``key``: ``self.algorithm``'s signature."""
        # PERF: hmac.new() sets the key up (pads it, starts both hashes) for
        # every message, though the key is the same each time. A copy of an
        # HMAC that has the key set up already continues from that point, to
        # the same digest: 1.26 against 0.92 µs per HMAC alone, and the
        # session scenario (one signature checked, one made) took ~1.2 µs
        # less (CPU time, 64.0 against 65.1 µs). Plain version: return
        # self.algorithm.get_signature(key, value) (PLAIN: itsdangerous'
        # serializer, see SecureCookieSessionInterface.get_signing_serializer).
        algorithm = self.algorithm
        if type(algorithm) is not HMACAlgorithm:
            return algorithm.get_signature(key, value)
        keyed = self._keyed_macs.get(key)
        if keyed is None:
            keyed = self._keyed_macs[key] = hmac.new(key, digestmod=algorithm.digest_method)
        mac = keyed.copy()
        mac.update(value)
        return mac.digest()


class _SessionSerializer(URLSafeTimedSerializer):
    """itsdangerous' URL-safe timed serializer, reusing its signer per salt.

    A signer keeps no per-use state, so one per salt serves every request
    (and keeps its derived keys, see :class:`_SessionSigner`).
    """

    default_signer = _SessionSigner

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signers: dict[str | bytes | None, TimestampSigner] = {}

    def make_signer(self, salt: str | bytes | None = None) -> TimestampSigner:
        # PERF: itsdangerous builds a new signer for every dumps() and loads(),
        # and a new signer derives its keys and sets its HMACs up again: a
        # dumps() and a loads() of a two-key session took 16.5 µs instead of
        # 28.6 (CPU time, median of 11 interleaved rounds, docs/perf.md).
        # Plain version: URLSafeTimedSerializer.make_signer (PLAIN: see
        # SecureCookieSessionInterface.get_signing_serializer).
        if salt is None:
            salt = self.salt  # dumps() passes None, loads() the salt itself
        signer = self._signers.get(salt)
        if signer is None:
            signer = self._signers[salt] = super().make_signer(salt)  # type: ignore[assignment]  # typed Signer; default_signer makes it ours
        return signer  # type: ignore[return-value]  # the same: a _SessionSigner

    def dumps(self, obj: Any, salt: str | bytes | None = None) -> str:
        """``obj`` signed, as ``payload.timestamp.signature``: the text itsdangerous writes.

        The payload is the serializer's JSON, zlib-compressed when that makes
        it shorter (then it starts with a ``.``), in URL-safe base64.
        """
        # PERF: itsdangerous gets there through two levels of dump_payload
        # and of sign, passing each piece through want_bytes() again; the
        # steps here are the same, with the signer's own methods. The session
        # scenario took ~1.1 µs less (CPU time, median of 11 interleaved
        # rounds: 64.0 against 65.1 µs). Plain version:
        # URLSafeTimedSerializer.dumps (PLAIN: itsdangerous' serializer, see
        # SecureCookieSessionInterface.get_signing_serializer).
        if self.serializer_kwargs or not self.is_text_serializer:
            return super().dumps(obj, salt)
        serialized = self.serializer.dumps(obj).encode()
        compressed = zlib.compress(serialized)
        if len(compressed) < len(serialized) - 1:
            payload = b"." + _b64encode(compressed)
        else:
            payload = _b64encode(serialized)
        signer = self.make_signer(salt)
        value = payload + signer.sep + _b64encode(int_to_bytes(signer.get_timestamp()))
        return (value + signer.sep + signer.get_signature(value)).decode()

    def loads(  # type: ignore[override]  # TimedSerializer's signature, as itsdangerous has it
        self,
        s: str | bytes,
        max_age: int | None = None,
        return_timestamp: bool = False,
        salt: str | bytes | None = None,
    ) -> Any:
        """The data of a signed value, as itsdangerous gives it, with the same errors.

        Raises:
            itsdangerous.BadSignature: a bad signature, or ``SignatureExpired``
                (a subclass) for a value older than ``max_age`` seconds.
            itsdangerous.BadPayload: a good signature on data that does not load.
        """
        # PERF: itsdangerous makes the same checks through a generator of
        # signers, two levels of unsign and of load_payload, and a datetime
        # for the timestamp, made even when the caller does not ask for it.
        # A well-signed value within its age, whose payload loads, is read
        # here directly, with the signer's own methods; any other value goes
        # to itsdangerous, which raises the exact error. The session scenario
        # took ~3.8 µs less (CPU time, median of 11 interleaved rounds: 64.0
        # against 67.8 µs). Plain version: URLSafeTimedSerializer.loads, always
        # (PLAIN: itsdangerous' serializer, see
        # SecureCookieSessionInterface.get_signing_serializer).
        if not return_timestamp and not self.fallback_signers and self.is_text_serializer:
            payload = _verified_payload(self.make_signer(salt), want_bytes(s), max_age)
            if payload is not None:
                try:
                    return self.serializer.loads(_decoded_payload(payload).decode())
                except Exception:  # itsdangerous wraps it in BadPayload, below
                    pass
        return super().loads(s, max_age, return_timestamp, salt)


def _verified_payload(signer: TimestampSigner, signed: bytes, max_age: int | None) -> bytes | None:
    """The payload of ``payload.timestamp.signature`` if signed well and young enough, else None.

    "Young enough": no older than ``max_age`` seconds, and not from the
    future, where itsdangerous raises ``SignatureExpired`` too.
    """
    value, sep, signature = signed.rpartition(signer.sep)
    if not sep or not signer.verify_signature(value, signature):
        return None
    payload, sep, stamp = value.rpartition(signer.sep)
    try:
        timestamp = bytes_to_int(_b64decode(stamp))
    except Exception:  # malformed: itsdangerous says how
        return None
    age = signer.get_timestamp() - timestamp
    if not sep or age < 0 or (max_age is not None and age > max_age):
        return None
    return payload


def _decoded_payload(payload: bytes) -> bytes:
    """The serializer's bytes in a payload: base64, and zlib after a leading ``.``."""
    if payload.startswith(b"."):
        return zlib.decompress(_b64decode(payload[1:]))
    return _b64decode(payload)


# RFC 4648 §5: URL-safe base64 writes "-" and "_" where the standard alphabet has "+" and "/".
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


def _b64encode(data: bytes) -> bytes:
    """URL-safe base64 without ``=`` padding: itsdangerous' ``base64_encode``."""
    # PERF: itsdangerous' base64_encode and base64_decode reach these binascii
    # calls through want_bytes() and the base64 module's URL-safe wrappers,
    # four Python calls and as many type checks each; a session request
    # codes six pieces. Same alphabet, same padding rule, same bytes out
    # (binascii ignores characters outside the alphabet, as b64decode does).
    # The session scenario took ~2.4 µs less (CPU time, median of 11
    # interleaved rounds: 60.8 against 63.2 µs). Plain version:
    # itsdangerous.encoding.base64_encode / base64_decode (PLAIN: itsdangerous'
    # serializer, see SecureCookieSessionInterface.get_signing_serializer).
    return binascii.b2a_base64(data, newline=False).translate(_TO_URLSAFE).rstrip(b"=")


def _b64decode(data: bytes) -> bytes:
    """Decode :func:`_b64encode`'s text, padding restored: itsdangerous' ``base64_decode``.

    Raises:
        binascii.Error: (a ``ValueError``) the text is not base64.
    """
    return binascii.a2b_base64((data + b"=" * (-len(data) % 4)).translate(_FROM_URLSAFE))


class SecureCookieSessionInterface(SessionInterface):
    """The default: the session dict itself, signed, in a cookie."""

    #: Mixed into the key, so a session signature is useless for anything else.
    salt = "cookie-session"
    #: The hash for the HMAC signature.
    digest_method = staticmethod(hashlib.sha1)
    #: How itsdangerous derives the signing key from ``SECRET_KEY``.
    key_derivation = "hmac"
    serializer = session_json_serializer
    session_class = SecureCookieSession

    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """The signer for this app, or ``None`` without a ``SECRET_KEY``.

        ``SECRET_KEY_FALLBACKS`` lets old cookies be read during a key
        rotation: itsdangerous signs with the last key and accepts any.
        """
        if not app.secret_key:
            return None
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        # PERF: one serializer per set of keys and settings, built once. Flask
        # builds a new one for every request (0.52 against 4.15 µs, CPU time,
        # median of 11 interleaved rounds, docs/perf.md); a serializer keeps no
        # per-use state, so sharing it is safe. Plain version (PLAIN): a new
        # itsdangerous URLSafeTimedSerializer each time, as Flask builds it;
        # then none of the short ways of _SessionSerializer and
        # _SessionSigner above runs either.
        if PLAIN:
            return self._new_serializer(URLSafeTimedSerializer, keys)
        settings = (keys, self.salt, self.serializer, self.key_derivation, self.digest_method)
        serializer = self._serializers.get(settings)
        if serializer is None:
            serializer = self._new_serializer(_SessionSerializer, keys)
            if len(self._serializers) > 16:  # keys rotate rarely; stay bounded anyway
                self._serializers.clear()
            self._serializers[settings] = serializer
        return serializer

    def _new_serializer(
        self, serializer_class: type[URLSafeTimedSerializer], keys: tuple[Any, ...]
    ) -> URLSafeTimedSerializer:
        """A serializer for ``keys`` (the newest last) with this interface's settings."""
        return serializer_class(
            list(keys),
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Lifecycle step 6: read and verify the cookie; a bad or expired one starts afresh."""
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        cookie = _request_cookie(request, self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data = serializer.loads(cookie, max_age=max_age)
        except BadSignature:
            # Tampered, expired or signed with a retired key: start afresh.
            return self.session_class()
        return self.session_class(data)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Lifecycle step 17: set the cookie if needed, delete it if the session was emptied."""
        # A response that depends on the session must not be shared by caches.
        # Checked first: the checks below read the session themselves.
        varied = session.accessed
        if varied:
            _vary_on_cookie(response)

        if not session:
            if session.modified:
                name = self.get_cookie_name(app)
                response.delete_cookie(name, **self._cookie_options(app))
                if not varied:
                    _vary_on_cookie(response)
            return

        if not self.should_set_cookie(app, session):
            return

        serializer = self.get_signing_serializer(app)
        assert serializer is not None  # open_session gave a real session, so a key is set
        value = serializer.dumps(dict(session))
        expires = self.get_expiration_time(app, session)
        name = self.get_cookie_name(app)
        response.set_cookie(name, value, expires=expires, **self._cookie_options(app))
        if not varied:
            _vary_on_cookie(response)

    def _cookie_options(self, app: Flask) -> dict[str, Any]:
        """The ``SESSION_COOKIE_*`` settings, as ``set_cookie``/``delete_cookie`` take them.

        Deleting must repeat the attributes the cookie was set with, or the
        browser keeps the old cookie.
        """
        return {
            "domain": self.get_cookie_domain(app),
            "path": self.get_cookie_path(app),
            "secure": self.get_cookie_secure(app),
            "partitioned": self.get_cookie_partitioned(app),
            "samesite": self.get_cookie_samesite(app),
            "httponly": self.get_cookie_httponly(app),
        }


def _request_cookie(request: Request, name: str) -> str | None:
    """The value of the cookie ``name`` in the request, or ``None``.

    The same value ``request.cookies.get(name)`` gives.
    """
    # PERF: request.cookies collects the Cookie header by walking the whole
    # environ (EnvironHeaders.getlist); the WSGI server has already put it in
    # one key: 5.07 against 7.87 µs for a fresh request with two cookies (CPU
    # time, median of 11 interleaved rounds, docs/perf.md). With no cookie at
    # all (most API requests) nothing is parsed. Plain version (PLAIN): return
    # request.cookies.get(name). The parser is the one request.cookies uses
    # (werkzeug.sansio.http): werkzeug.http.parse_cookie would also re-decode
    # the header as UTF-8 and raise UnicodeDecodeError (a 500) on any other
    # byte a client sends.
    if PLAIN:
        return request.cookies.get(name)
    header = request.environ.get("HTTP_COOKIE")
    if not header:
        return None
    value: str | None = parse_cookie(header).get(name)
    return value


def _vary_on_cookie(response: Response) -> None:
    """Add ``Cookie`` to the response's ``Vary`` header, as ``response.vary.add`` does."""
    # PERF: response.vary parses the header into a set and writes it back
    # on every change (~1 µs); a response with no Vary header yet simply
    # gets one, added without the search for one to replace that setting a
    # header makes (~0.7 µs of the session scenario). Plain version
    # (PLAIN): response.vary.add("Cookie").
    if not PLAIN and response.headers.get("Vary") is None:
        response.headers.add("Vary", "Cookie")
    else:
        response.vary.add("Cookie")
