"""Tests for ``miniflask/sessions.py``: the signed-cookie session.

Most tests run on real Flask and on miniflask (the ``fw`` fixture), so the
cookie, its attributes and the edge cases must match Flask's exactly. A few
check that a cookie written by one framework is read by the other.
"""

from __future__ import annotations

import hashlib
import importlib
import time
import uuid
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import pytest
from itsdangerous import Signer, TimestampSigner, URLSafeTimedSerializer
from markupsafe import Markup
from werkzeug.http import parse_date
from werkzeug.test import EnvironBuilder, run_wsgi_app

SECRET = "session-test-secret"


def sessions_module(fw: ModuleType) -> ModuleType:
    return importlib.import_module(f"{fw.__name__}.sessions")


def make_app(fw: ModuleType, **config: Any) -> Any:
    """An app with ``/set?key=value``, ``/get/<key>``, ``/clear`` and ``/untouched``."""
    app = fw.Flask("session_app")
    app.testing = True
    app.config.update(SECRET_KEY=SECRET, **config)

    @app.get("/set")
    def set_values() -> str:
        fw.session.update(fw.request.args.to_dict())
        return "set"

    @app.get("/get/<key>")
    def get_value(key: str) -> str:
        return repr(fw.session.get(key))

    @app.get("/permanent")
    def make_permanent() -> str:
        fw.session.permanent = True
        fw.session["user"] = "ada"
        return "permanent"

    @app.get("/clear")
    def clear() -> str:
        fw.session.clear()
        return "cleared"

    @app.get("/untouched")
    def untouched() -> str:
        return "untouched"

    return app


def session_cookie_header(response: Any) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    assert len(headers) == 1, response.headers
    return headers[0]


def cookie_attributes(header: str) -> dict[str, str]:
    """``Set-Cookie`` attributes after the value, lower-cased names -> value ("" for flags)."""
    attributes = {}
    for part in header.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attributes[name.lower()] = value
    return attributes


def serializer(secret: str = SECRET, signer: type[TimestampSigner] = TimestampSigner) -> Any:
    """The serializer Flask documents for its session cookie (salt, HMAC key, SHA-1)."""
    from flask.json.tag import TaggedJSONSerializer

    return URLSafeTimedSerializer(
        secret,
        salt="cookie-session",
        serializer=TaggedJSONSerializer(),
        signer=signer,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )


def test_session_values_survive_to_the_next_request(fw: ModuleType) -> None:
    client = make_app(fw).test_client()
    client.get("/set?user=ada")
    assert client.get("/get/user").text == "'ada'"


def test_cookie_is_the_signed_json_of_the_session(fw: ModuleType) -> None:
    response = make_app(fw).test_client().get("/set?user=ada")
    value = session_cookie_header(response).split(";")[0].removeprefix("session=")
    assert value.count(".") == 2  # payload.timestamp.signature
    assert serializer().loads(value) == {"user": "ada"}


def test_cookie_signed_by_one_framework_is_read_by_the_other() -> None:
    import flask

    import miniflask

    for writer, reader in ((flask, miniflask), (miniflask, flask)):
        cookie = make_app(writer).test_client().get("/set?user=ada")
        value = session_cookie_header(cookie).split(";")[0].removeprefix("session=")
        client = make_app(reader).test_client()
        client.set_cookie("session", value)
        assert client.get("/get/user").text == "'ada'"


def test_cookie_signed_with_other_secret_gives_empty_session(fw: ModuleType) -> None:
    client = make_app(fw).test_client()
    client.set_cookie("session", serializer("other-secret").dumps({"user": "mallory"}))
    response = client.get("/get/user")
    assert response.status_code == 200
    assert response.text == "None"


@pytest.mark.parametrize("garbage", ["x", "eyJ1c2VyIjoiYWRhIn0.Zz.bad", "..", "a.b.c.d"])
def test_tampered_cookie_gives_empty_session_without_error(fw: ModuleType, garbage: str) -> None:
    client = make_app(fw).test_client()
    client.set_cookie("session", garbage)
    response = client.get("/get/user")
    assert (response.status_code, response.text) == (200, "None")


@pytest.mark.parametrize("cookie", ["\x89", "session=\xc3", "a=\xff; session=x"])
def test_a_cookie_header_that_is_not_utf8_gives_an_empty_session(
    fw: ModuleType, cookie: str
) -> None:
    """WSGI hands header bytes over as latin-1; a stray byte is not a server error.

    Called through WSGI by hand: the test client replaces the Cookie header
    with the cookies of its own jar.
    """
    environ = EnvironBuilder(path="/get/user", headers={"Cookie": cookie}).get_environ()
    body, status, _ = run_wsgi_app(make_app(fw), environ, buffered=True)
    assert status == "200 OK"
    assert b"".join(body) == b"None"


def test_tampered_payload_with_valid_looking_signature_is_rejected(fw: ModuleType) -> None:
    client = make_app(fw).test_client()
    value = serializer().dumps({"user": "ada"})
    _payload, timestamp, signature = value.split(".")
    forged = serializer().dumps({"user": "admin"}).split(".")[0]
    client.set_cookie("session", f"{forged}.{timestamp}.{signature}")
    assert client.get("/get/user").text == "None"


def test_secret_key_fallbacks_accept_old_cookies_and_sign_with_new_key(fw: ModuleType) -> None:
    old_cookie = serializer("old-secret").dumps({"user": "ada"})

    rotated = make_app(fw, SECRET_KEY_FALLBACKS=["old-secret"]).test_client()
    rotated.set_cookie("session", old_cookie)
    assert rotated.get("/get/user").text == "'ada'"

    # New cookies are signed with SECRET_KEY, never with a fallback.
    response = rotated.get("/set?user=bob")
    value = session_cookie_header(response).split(";")[0].removeprefix("session=")
    assert serializer(SECRET).loads(value) == {"user": "bob"}

    not_rotated = make_app(fw).test_client()
    not_rotated.set_cookie("session", old_cookie)
    assert not_rotated.get("/get/user").text == "None"


def _miniflask_and_plain_serializers(secret_keys: list[str]) -> tuple[Any, Any]:
    """miniflask's session serializer and plain itsdangerous, with the same keys and settings."""
    import miniflask

    app = miniflask.Flask("serializers")
    app.config.update(SECRET_KEY=secret_keys[-1], SECRET_KEY_FALLBACKS=secret_keys[:-1])
    return app.session_interface.get_signing_serializer(app), _plain_serializer(secret_keys)


def _plain_serializer(
    secret_keys: list[str], signer: type[TimestampSigner] = TimestampSigner
) -> URLSafeTimedSerializer:
    """itsdangerous' serializer as the session uses it, with nothing of miniflask's but the tags."""
    from miniflask.json.tag import TaggedJSONSerializer

    return URLSafeTimedSerializer(
        secret_keys,
        salt="cookie-session",
        serializer=TaggedJSONSerializer(),
        signer=signer,
        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha1},
    )


SESSION_VALUES = [
    {"n": 1},
    {"user": "ada", "text": "long and repetitive " * 20},  # compressed
    {"name": "Zoë ✓", "cart": (1, 2), "token": b"\xff\x00", "at": datetime(2026, 1, 2, tzinfo=UTC)},
    {},
]


@pytest.mark.parametrize("value", SESSION_VALUES)
def test_miniflask_signs_and_reads_values_as_itsdangerous_does(
    value: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = ["old-secret", f"{SECRET}-{uuid.uuid4()}"]
    ours, plain = _miniflask_and_plain_serializers(keys)
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.5)
    signed = plain.dumps(value)
    assert ours.dumps(value) == signed
    assert ours.loads(signed, max_age=60) == plain.loads(signed, max_age=60) == value
    signed_with_fallback = _plain_serializer(keys[:1]).dumps(value)
    assert ours.loads(signed_with_fallback) == value


class _SignedLongAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) - 7200


class _SignedLater(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time()) + 7200


def _bad_values(keys: list[str]) -> dict[str, str]:
    """Values that are not good session cookies, each for a different reason."""
    plain = _plain_serializer(keys)
    payload, stamp, signature = plain.dumps({"user": "ada"}).split(".")
    sign = plain.make_signer().sign  # adds a timestamp
    # The same key and salt, without a timestamp: signs whatever it is given.
    sign_as_is = Signer(keys, salt="cookie-session", key_derivation="hmac").sign
    other_payload = plain.dumps({"user": "eve"}).split(".")[0]
    return {
        "no-separator": "garbage",
        "tampered-signature": f"{payload}.{stamp}.{signature[:-2]}xx",
        "tampered-payload": f"{other_payload}.{stamp}.{signature}",
        "not-base64-signature": f"{payload}.{stamp}.!!!",
        "no-timestamp": sign_as_is(payload).decode(),
        "timestamp-not-base64": sign_as_is(f"{payload}.!!").decode(),
        "timestamp-too-long": sign_as_is(f"{payload}.AAAAAAAAAAAAAAA").decode(),
        "expired": _plain_serializer(keys, _SignedLongAgo).dumps({"user": "ada"}),
        "from-the-future": _plain_serializer(keys, _SignedLater).dumps({"user": "ada"}),
        "bad-base64-payload": sign(b"!").decode(),
        "bad-json": sign(b"bm90IGpzb24").decode(),
        "bad-zlib": sign(b".bm90IHpsaWI").decode(),
    }


def test_miniflask_refuses_bad_values_with_itsdangerous_errors() -> None:
    keys = [f"{SECRET}-{uuid.uuid4()}"]
    ours, plain = _miniflask_and_plain_serializers(keys)

    def outcome(serializer: Any, value: str) -> tuple[type[Exception], str]:
        with pytest.raises(Exception) as caught:
            serializer.loads(value, max_age=3600)
        return type(caught.value), str(caught.value)

    for reason, value in _bad_values(keys).items():
        assert outcome(ours, value) == outcome(plain, value), reason


def test_miniflask_derives_each_signing_key_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each secret key's HMAC signing key is derived once, not per cookie signed or read."""
    import miniflask

    old_cookie = serializer("old-secret").dumps({"user": "ada"})
    derived: list[Any] = []
    derive = TimestampSigner.derive_key

    def counting_derive(self: TimestampSigner, secret_key: Any = None) -> bytes:
        derived.append(secret_key)
        return derive(self, secret_key)

    monkeypatch.setattr(TimestampSigner, "derive_key", counting_derive)
    app = make_app(miniflask, SECRET_KEY_FALLBACKS=["old-secret"])
    # A key no other test uses: signers are shared by apps with the same keys.
    app.secret_key = secret = f"derive-once-{uuid.uuid4()}"
    client = app.test_client()
    client.set_cookie("session", old_cookie)
    for n in range(5):
        assert client.get(f"/set?n={n}").status_code == 200
        assert client.get("/get/user").text == "'ada'"
    # Signing uses SECRET_KEY (None: the newest key); reading tries SECRET_KEY, then the fallback.
    assert sorted(derived, key=repr) == sorted([None, secret.encode(), b"old-secret"], key=repr)


def test_browser_session_cookie_has_no_expiry(fw: ModuleType) -> None:
    header = session_cookie_header(make_app(fw).test_client().get("/set?a=1"))
    assert "expires" not in cookie_attributes(header)


@pytest.mark.parametrize("lifetime", [timedelta(hours=2), 7200])
def test_permanent_session_cookie_expires_after_lifetime(fw: ModuleType, lifetime: Any) -> None:
    app = make_app(fw, PERMANENT_SESSION_LIFETIME=lifetime)
    header = session_cookie_header(app.test_client().get("/permanent"))
    expires = parse_date(cookie_attributes(header)["expires"])
    assert expires is not None
    expected = datetime.now(UTC) + timedelta(hours=2)
    assert abs((expires - expected).total_seconds()) < 5


def test_cookie_older_than_lifetime_is_rejected(fw: ModuleType) -> None:
    class HourAgoSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 3600

    client = make_app(fw, PERMANENT_SESSION_LIFETIME=timedelta(minutes=30)).test_client()
    client.set_cookie("session", serializer(signer=HourAgoSigner).dumps({"user": "ada"}))
    assert client.get("/get/user").text == "None"

    fresh = make_app(fw, PERMANENT_SESSION_LIFETIME=timedelta(hours=2)).test_client()
    fresh.set_cookie("session", serializer(signer=HourAgoSigner).dumps({"user": "ada"}))
    assert fresh.get("/get/user").text == "'ada'"


def test_permanent_session_is_refreshed_on_every_request(fw: ModuleType) -> None:
    client = make_app(fw).test_client()
    client.get("/permanent")
    # Not modified, but permanent: the cookie is re-sent to slide its expiry.
    assert session_cookie_header(client.get("/get/user"))


def test_refresh_each_request_off_sends_cookie_only_when_modified(fw: ModuleType) -> None:
    client = make_app(fw, SESSION_REFRESH_EACH_REQUEST=False).test_client()
    client.get("/permanent")
    response = client.get("/get/user")
    assert response.text == "'ada'"
    assert "Set-Cookie" not in response.headers


def test_unmodified_browser_session_sets_no_cookie(fw: ModuleType) -> None:
    client = make_app(fw).test_client()
    client.get("/set?user=ada")
    assert "Set-Cookie" not in client.get("/get/user").headers


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, {"path": "/", "httponly": ""}),
        ({"SESSION_COOKIE_DOMAIN": "example.com"}, {"domain": "example.com"}),
        ({"SESSION_COOKIE_PATH": "/app"}, {"path": "/app"}),
        ({"APPLICATION_ROOT": "/root"}, {"path": "/root"}),
        ({"SESSION_COOKIE_SECURE": True}, {"secure": ""}),
        ({"SESSION_COOKIE_SAMESITE": "Lax"}, {"samesite": "Lax"}),
        ({"SESSION_COOKIE_SAMESITE": "Strict"}, {"samesite": "Strict"}),
        ({"SESSION_COOKIE_PARTITIONED": True}, {"partitioned": "", "secure": ""}),
    ],
)
def test_session_cookie_settings_shape_the_set_cookie_header(
    fw: ModuleType, config: dict[str, Any], expected: dict[str, str]
) -> None:
    response = make_app(fw, **config).test_client().get("/set?a=1")
    attributes = cookie_attributes(session_cookie_header(response))
    for name, value in expected.items():
        assert attributes[name] == value


def test_session_cookie_httponly_can_be_turned_off(fw: ModuleType) -> None:
    response = make_app(fw, SESSION_COOKIE_HTTPONLY=False).test_client().get("/set?a=1")
    assert "httponly" not in cookie_attributes(session_cookie_header(response))


def test_session_cookie_name_is_configurable(fw: ModuleType) -> None:
    client = make_app(fw, SESSION_COOKIE_NAME="sid").test_client()
    response = client.get("/set?user=ada")
    assert response.headers["Set-Cookie"].startswith("sid=")
    assert client.get("/get/user").text == "'ada'"


def test_set_cookie_headers_are_identical_on_both_frameworks() -> None:
    import flask

    import miniflask

    config = {
        "SESSION_COOKIE_DOMAIN": "example.com",
        "SESSION_COOKIE_PATH": "/p",
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_PARTITIONED": True,
    }
    headers = []
    for fw in (flask, miniflask):
        response = make_app(fw, **config).test_client().get("/clear")
        headers.append(response.headers.getlist("Set-Cookie"))
    # Deleting an (empty) session: deterministic, so the headers compare byte for byte.
    assert headers[0] == headers[1]


@pytest.mark.parametrize("path", ["/set?user=ada", "/permanent", "/get/user", "/clear"])
def test_session_headers_come_in_flasks_order(path: str) -> None:
    import flask

    import miniflask

    names = []
    for fw in (flask, miniflask):
        client = make_app(fw).test_client()
        client.get("/set?user=bob")
        names.append([name for name, _ in client.get(path).headers])
    assert names[0] == names[1]


def test_vary_cookie_only_when_session_was_accessed(fw: ModuleType) -> None:
    client = make_app(fw).test_client()
    client.get("/set?user=ada")
    assert "Vary" not in client.get("/untouched").headers
    assert client.get("/get/user").headers["Vary"] == "Cookie"


def test_saving_the_session_does_not_mark_it_accessed(fw: ModuleType) -> None:
    client = make_app(fw).test_client()
    client.get("/set?user=ada")
    with client:
        client.get("/untouched")
        kept = fw.globals.request_ctx._session
        assert (kept.accessed, kept.modified) == (False, False)
    with client:
        client.get("/get/user")
        assert fw.globals.request_ctx._session.accessed


def test_vary_cookie_joins_a_vary_header_the_view_set(fw: ModuleType) -> None:
    app = make_app(fw)

    @app.get("/negotiated")
    def negotiated() -> Any:
        return fw.session.get("user", ""), {"Vary": "Accept-Encoding"}

    @app.get("/twice")
    def twice() -> Any:
        fw.session["user"] = "bob"
        return "", {"Vary": "Cookie"}

    client = app.test_client()
    client.get("/set?user=ada")
    assert client.get("/negotiated").headers.getlist("Vary") == ["Accept-Encoding, Cookie"]
    assert client.get("/twice").headers.getlist("Vary") == ["Cookie"]


def test_emptying_the_session_deletes_the_cookie(fw: ModuleType) -> None:
    client = make_app(fw).test_client()
    client.get("/set?user=ada")
    response = client.get("/clear")
    header = session_cookie_header(response)
    assert header.startswith("session=;")
    attributes = cookie_attributes(header)
    assert attributes["max-age"] == "0"
    assert parse_date(attributes["expires"]) == datetime(1970, 1, 1, tzinfo=UTC)
    assert response.headers["Vary"] == "Cookie"
    assert client.get_cookie("session") is None


def test_clearing_even_an_empty_session_sends_a_deleting_cookie(fw: ModuleType) -> None:
    response = make_app(fw).test_client().get("/clear")
    # clear() counts as a change even on an empty dict (CallbackDict calls
    # its update hook), so Flask answers with a deleting Set-Cookie.
    assert session_cookie_header(response).startswith("session=; Expires=Thu, 01 Jan 1970")


def test_without_secret_key_session_reads_empty_and_writing_raises(fw: ModuleType) -> None:
    app = make_app(fw)
    app.config["SECRET_KEY"] = None
    client = app.test_client()
    assert client.get("/get/user").text == "None"
    with pytest.raises(RuntimeError, match="secret key"):
        client.get("/set?user=ada")


def test_null_session_is_used_without_secret_key(fw: ModuleType) -> None:
    app = fw.Flask("no_secret")
    with app.test_request_context():
        assert isinstance(fw.session._get_current_object(), sessions_module(fw).NullSession)
        assert app.session_interface.is_null_session(fw.session._get_current_object())


def test_nested_change_is_saved_only_after_setting_modified(fw: ModuleType) -> None:
    app = make_app(fw)

    @app.get("/append")
    def append() -> str:
        fw.session.setdefault("items", []).append(fw.request.args["item"])
        if "mark" in fw.request.args:
            fw.session.modified = True
        return "ok"

    client = app.test_client()
    client.get("/append?item=a")  # a new key: the session itself changed
    assert client.get("/get/items").text == "['a']"
    client.get("/append?item=b")  # only the list changed: not seen, not saved
    assert client.get("/get/items").text == "['a']"
    client.get("/append?item=c&mark=1")
    assert client.get("/get/items").text == "['a', 'c']"


ROUND_TRIP_VALUES: list[Any] = [
    (1, "two", (3.0,)),
    b"\x00bytes\xff",
    datetime(2024, 5, 17, 12, 30, 45, tzinfo=UTC),
    Markup("<b>safe</b>"),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    {" t": "a dict whose key looks like a tag"},
    [{"nested": (1, 2)}, [b"x"]],
    {"unicode": "naïve ☕", "none": None, "bool": True},
]


@pytest.mark.parametrize("value", ROUND_TRIP_VALUES, ids=lambda v: type(v).__name__)
def test_python_types_round_trip_through_the_cookie(fw: ModuleType, value: Any) -> None:
    app = make_app(fw)

    @app.get("/store")
    def store() -> str:
        fw.session["value"] = value
        return "ok"

    @app.get("/load")
    def load() -> str:
        loaded = fw.session["value"]
        assert type(loaded) is type(value)
        assert loaded == value
        return "same"

    client = app.test_client()
    client.get("/store")
    assert client.get("/load").text == "same"


def test_custom_session_interface_is_used(fw: ModuleType) -> None:
    sessions = sessions_module(fw)
    store: dict[str, dict[str, Any]] = {}

    class ServerSideSession(sessions.SecureCookieSession):  # type: ignore[name-defined, misc]
        pass

    class MemoryInterface(sessions.SessionInterface):  # type: ignore[name-defined, misc]
        """Keeps the data server-side; the cookie only holds an id."""

        def open_session(self, app: Any, request: Any) -> Any:
            sid = request.cookies.get("sid")
            session = ServerSideSession(store.get(sid or "", {}))
            session.sid = sid or uuid.uuid4().hex
            return session

        def save_session(self, app: Any, session: Any, response: Any) -> None:
            store[session.sid] = dict(session)
            response.set_cookie("sid", session.sid, httponly=True)

    app = make_app(fw)
    app.session_interface = MemoryInterface()
    client = app.test_client()
    response = client.get("/set?user=ada")
    assert response.headers["Set-Cookie"].startswith("sid=")
    assert list(store.values()) == [{"user": "ada"}]
    assert client.get("/get/user").text == "'ada'"


def test_open_session_returning_none_gives_null_session(fw: ModuleType) -> None:
    sessions = sessions_module(fw)

    class Refusing(sessions.SecureCookieSessionInterface):  # type: ignore[name-defined, misc]
        def open_session(self, app: Any, request: Any) -> None:
            return None

    app = make_app(fw)
    app.session_interface = Refusing()
    assert app.test_client().get("/get/user").text == "None"


def test_permanent_flag_is_stored_in_the_session(fw: ModuleType) -> None:
    app = make_app(fw)
    with app.test_request_context():
        assert fw.session.permanent is False
        fw.session.permanent = True
        assert fw.session["_permanent"] is True


@pytest.mark.parametrize(
    "use",
    [
        pytest.param(lambda session: "user" in session, id="contains"),
        pytest.param(lambda session: bool(session), id="bool"),
        pytest.param(lambda session: len(session), id="len"),
    ],
)
def test_any_use_of_the_session_proxy_marks_it_accessed(fw: ModuleType, use: Any) -> None:
    app = make_app(fw)

    @app.get("/use")
    def use_session() -> str:
        return str(use(fw.session))

    assert app.test_client().get("/use").headers.get("Vary") == "Cookie"


@pytest.mark.parametrize(
    "data", [b"", b"\x00", b"hi", b"abc", bytes(range(256)), "Zoë ✓".encode(), b"\xfb\xff"]
)
def test_miniflask_base64_is_itsdangerous_base64(data: bytes) -> None:
    from itsdangerous.encoding import base64_encode

    from miniflask.sessions import _b64decode, _b64encode

    assert _b64encode(data) == base64_encode(data)
    assert _b64decode(base64_encode(data)) == data


@pytest.mark.parametrize("text", [b"a", b"ab!c", b"====", b"a-b_c", b"abcde", b"ab\ncd", b"-_-_"])
def test_miniflask_base64_reads_odd_text_as_itsdangerous_does(text: bytes) -> None:
    from itsdangerous import BadData
    from itsdangerous.encoding import base64_decode

    from miniflask.sessions import _b64decode

    try:
        expected: bytes | None = base64_decode(text)
    except BadData:
        expected = None
    try:
        ours: bytes | None = _b64decode(text)
    except ValueError:
        ours = None
    assert ours == expected
