"""'Sign in with ...': the reader site as an OpenID Connect client (issue 16).

The end-to-end tests run the site (Flask and miniflask) against a real
provider, ``oidc-provider-mock`` on 127.0.0.1 (``tests/support/oidc_provider.py``):
the site's test client starts the sign-in, ``requests`` submits the
provider's authorization form like a browser, and the test client follows
the provider's redirect back to the callback, which exchanges the code at the
provider's token endpoint over real HTTP.

The ID-token checks that a well-behaved provider never gives us a reason to
make (another audience, another issuer, an expired token, ``alg: none``, a
key rotation) are tested on :func:`blog_api.oidc.verify_id_token` directly,
with keys generated here by joserfc.
"""

from __future__ import annotations

import dataclasses
import html
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OctKey, RSAKey
from sqlalchemy import select
from werkzeug.security import check_password_hash

from blog_api import oidc
from blog_api.models import User, UserIdentity
from blog_api.services import identities
from tests.blog_api.conftest import PASSWORD, build_app, make_config
from tests.blog_api.test_site import add_user, log_in, token_from
from tests.support.oidc_provider import MockProvider, path_and_query, query

# The provider is built on Authlib's older server API, which warns on every token.
pytestmark = pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")


@pytest.fixture(scope="module")
def provider() -> Iterator[MockProvider]:
    """One running provider for the module (each test uses its own database)."""
    with MockProvider() as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, provider: MockProvider) -> dict[str, Any]:
    """The ``app`` fixture's settings, with the provider configured."""
    return make_config(tmp_path, **provider.settings())


def start(client: Any, next_url: str | None = None) -> str:
    """Press "Sign in with ..." on the site; the provider's authorization URL."""
    response = client.get("/login/oidc", query_string={"next": next_url} if next_url else None)
    assert response.status_code == 302, response.get_data(as_text=True)
    return str(response.headers["Location"])


def sign_in(client: Any, provider: MockProvider, sub: str, next_url: str | None = None) -> Any:
    """The whole round trip for ``sub``; the callback's response."""
    callback = provider.authorize(start(client, next_url), sub)
    return client.get(path_and_query(callback))


def page(client: Any, path: str = "/") -> str:
    """The text of a page of the site."""
    return str(client.get(path).get_data(as_text=True))


def logged_in_as(client: Any) -> str | None:
    """Whose name the site's header shows, or ``None``."""
    text = page(client)
    marker = "Logged in as <strong>"
    if marker not in text:
        return None
    return text.split(marker, 1)[1].split("</strong>", 1)[0]


def db_rows(app: Any, model: Any) -> list[Any]:
    """Every row of ``model``'s table, detached."""
    with app.extensions["blog_db"].session_factory() as session:
        rows = list(session.scalars(select(model).order_by(model.id)))
        session.expunge_all()
        return rows


def test_sign_in_creates_a_user_and_returns_to_next(
    app: Any, client: Any, provider: MockProvider
) -> None:
    provider.set_user(
        "sub-carol", email="Carol@Example.com", email_verified=True, preferred_username="Carol"
    )

    response = sign_in(client, provider, "sub-carol", next_url="/posts/1?x=y&z=1")

    assert response.status_code == 303
    assert response.headers["Location"] == "/posts/1?x=y&z=1"
    assert logged_in_as(client) == "carol"
    [user] = db_rows(app, User)
    assert (user.username, user.email) == ("carol", "carol@example.com")
    assert user.email_confirmed_at is not None  # the provider verified it
    assert user.last_login_at is not None
    [identity] = db_rows(app, UserIdentity)
    assert (identity.user_id, identity.issuer, identity.subject) == (
        user.id,
        provider.url,
        "sub-carol",
    )


def test_the_authorization_request_uses_code_flow_pkce_state_and_nonce(
    client: Any, provider: MockProvider
) -> None:
    params = query(start(client))

    assert params["response_type"] == "code"
    assert params["client_id"] == "blog-client"
    assert params["redirect_uri"] == "http://localhost/login/oidc/callback"
    assert set(params["scope"].split()) == {"openid", "email", "profile"}
    assert params["code_challenge_method"] == "S256"
    assert len(params["state"]) >= 43 and len(params["nonce"]) >= 43
    # Two sign-ins never share a value.
    again = query(start(client))
    for name in ("state", "nonce", "code_challenge"):
        assert again[name] != params[name]


def test_the_code_challenge_is_the_s256_of_the_kept_verifier(provider: MockProvider) -> None:
    settings = oidc.ClientSettings.from_config(provider.settings())
    assert settings is not None

    request = oidc.start_sign_in(settings, "http://localhost/login/oidc/callback")

    verifier = request.pending["code_verifier"]
    assert 43 <= len(verifier) <= 128
    assert query(request.url)["code_challenge"] == create_s256_code_challenge(verifier)
    assert request.pending["issuer"] == provider.url


def test_a_second_sign_in_finds_the_same_user(
    app: Any, client: Any, provider: MockProvider
) -> None:
    provider.set_user("sub-dave", email="dave@example.com", email_verified=True)
    sign_in(client, provider, "sub-dave")
    other_browser = app.test_client()

    response = sign_in(other_browser, provider, "sub-dave")

    assert response.status_code == 303
    assert logged_in_as(other_browser) == "dave"
    assert len(db_rows(app, User)) == 1
    assert len(db_rows(app, UserIdentity)) == 1


def test_a_verified_address_links_the_existing_password_account(
    app: Any, client: Any, provider: MockProvider
) -> None:
    alice_id = add_user(app, "alice")  # alice@example.com, not confirmed
    provider.set_user("sub-a1", email="alice@example.com", email_verified=True)

    response = sign_in(client, provider, "sub-a1")

    assert response.status_code == 303
    assert logged_in_as(client) == "alice"
    [user] = db_rows(app, User)
    assert user.id == alice_id
    assert user.email_confirmed_at is not None
    assert [i.user_id for i in db_rows(app, UserIdentity)] == [alice_id]
    # Her password still works.
    assert log_in(app.test_client()).status_code == 303


def test_an_unverified_address_of_an_existing_account_links_nothing(
    app: Any, client: Any, provider: MockProvider
) -> None:
    """Anybody can claim alice's address at some provider: that must not make them alice."""
    add_user(app, "alice")
    provider.set_user("sub-mallory", email="alice@example.com", email_verified=False)

    response = sign_in(client, provider, "sub-mallory")

    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "exists already" in text and "Log in with your password" in text
    assert logged_in_as(client) is None
    assert db_rows(app, UserIdentity) == []
    assert len(db_rows(app, User)) == 1


def test_the_string_true_is_not_a_verified_address(
    app: Any, client: Any, provider: MockProvider
) -> None:
    add_user(app, "alice")
    provider.set_user("sub-mallory2", email="alice@example.com", email_verified="true")

    assert sign_in(client, provider, "sub-mallory2").status_code == 400
    assert db_rows(app, UserIdentity) == []


def test_a_logged_in_reader_links_the_account_whatever_its_address(
    app: Any, client: Any, provider: MockProvider
) -> None:
    alice_id = add_user(app, "alice")
    assert log_in(client).status_code == 303
    provider.set_user("sub-a2", email="alice@example.com", email_verified=False)

    response = sign_in(client, provider, "sub-a2")

    assert response.status_code == 303
    assert logged_in_as(client) == "alice"
    assert [i.user_id for i in db_rows(app, UserIdentity)] == [alice_id]
    # From now on the provider alone signs her in.
    other_browser = app.test_client()
    sign_in(other_browser, provider, "sub-a2")
    assert logged_in_as(other_browser) == "alice"


def test_an_unverified_free_address_makes_an_unconfirmed_user_without_password(
    app: Any, client: Any, provider: MockProvider
) -> None:
    provider.set_user("sub-erin", email="erin@example.com")  # no email_verified at all

    assert sign_in(client, provider, "sub-erin").status_code == 303

    [user] = db_rows(app, User)
    assert user.username == "erin" and user.email_confirmed_at is None
    assert user.password_hash == identities.UNUSABLE_PASSWORD
    response = client.post("/api/v1/auth/login", json={"username": "erin", "password": "!"})
    assert response.status_code == 401


def test_the_unusable_password_hash_matches_no_password() -> None:
    for password in ("", "!", PASSWORD):
        assert check_password_hash(identities.UNUSABLE_PASSWORD, password) is False


def test_a_taken_username_gets_a_number(app: Any, client: Any, provider: MockProvider) -> None:
    add_user(app, "carol")  # carol@example.com
    provider.set_user(
        "sub-c2", email="carol@other.example", email_verified=True, preferred_username="Carol"
    )

    sign_in(client, provider, "sub-c2")

    assert logged_in_as(client) == "carol2"


def test_a_provider_without_an_address_cannot_create_an_account(
    app: Any, client: Any, provider: MockProvider
) -> None:
    provider.set_user("sub-noaddress", name="No Address")

    response = sign_in(client, provider, "sub-noaddress")

    assert response.status_code == 400
    assert "did not share an e-mail address" in response.get_data(as_text=True)
    assert db_rows(app, User) == []


@pytest.mark.parametrize("state", [None, "", "not-the-state"])
def test_a_callback_without_the_sessions_state_is_refused(
    app: Any, client: Any, provider: MockProvider, state: str | None
) -> None:
    """CSRF (RFC 9700 §4.7): an answer this browser did not ask for logs no one in."""
    provider.set_user("sub-frank", email="frank@example.com", email_verified=True)
    callback = provider.authorize(start(client), "sub-frank")
    params = query(callback)
    if state is None:
        del params["state"]
    else:
        params["state"] = state

    response = client.get("/login/oidc/callback", query_string=params)

    assert response.status_code == 400
    assert "this browser" in response.get_data(as_text=True)
    assert logged_in_as(client) is None
    assert db_rows(app, User) == []


def test_a_callback_with_no_sign_in_started_is_refused(app: Any, provider: MockProvider) -> None:
    """The attacker's own answer, sent to a victim's browser that started nothing."""
    provider.set_user("sub-attacker", email="attacker@example.com", email_verified=True)
    callback = provider.authorize(start(app.test_client()), "sub-attacker")
    victim = app.test_client()

    response = victim.get(path_and_query(callback))

    assert response.status_code == 400
    assert logged_in_as(victim) is None


def test_an_answer_is_accepted_once(app: Any, client: Any, provider: MockProvider) -> None:
    provider.set_user("sub-gina", email="gina@example.com", email_verified=True)
    callback = provider.authorize(start(client), "sub-gina")
    assert client.get(path_and_query(callback)).status_code == 303
    client.post("/logout", data={"csrf_token": _csrf(client)})
    assert logged_in_as(client) is None

    assert client.get(path_and_query(callback)).status_code == 400
    assert logged_in_as(client) is None


def _csrf(client: Any) -> str:
    """The session's CSRF token, from the log-in page's form."""
    return token_from(page(client, "/login"))


def test_a_code_from_another_sign_in_is_refused_by_the_nonce(
    app: Any, provider: MockProvider
) -> None:
    """Code injection (RFC 9700 §4.5): the attacker's code, pasted into the victim's sign-in.

    The attacker starts a sign-in of their own and stops at the provider's
    redirect, keeping the code; the victim's browser has a sign-in pending,
    and the attacker gets it to open the callback with the victim's state and
    the attacker's code. The mock provider does not check PKCE, so the code
    is exchanged; the ID token then carries the attacker's nonce, not the
    victim's, and the site refuses it. (A provider that checks PKCE refuses
    the exchange already: the victim's verifier does not match.)
    """
    provider.set_user("sub-attacker2", email="attacker2@example.com", email_verified=True)
    victim, attacker = app.test_client(), app.test_client()
    victim_state = query(start(victim))["state"]
    attacker_callback = provider.authorize(start(attacker), "sub-attacker2")
    injected = {**query(attacker_callback), "state": victim_state}

    response = victim.get("/login/oidc/callback", query_string=injected)

    assert response.status_code == 400
    assert "another sign-in" in response.get_data(as_text=True)
    assert logged_in_as(victim) is None
    assert db_rows(app, User) == []


def test_an_answer_naming_another_issuer_is_refused(
    app: Any, client: Any, provider: MockProvider
) -> None:
    """Mix-up (RFC 9207): the answer says it comes from another provider."""
    provider.set_user("sub-hal", email="hal@example.com", email_verified=True)
    callback = provider.authorize(start(client), "sub-hal")
    params = {**query(callback), "iss": "https://evil.example"}

    response = client.get("/login/oidc/callback", query_string=params)

    assert response.status_code == 400
    assert "another provider" in response.get_data(as_text=True)
    assert logged_in_as(client) is None


def test_an_answer_naming_the_right_issuer_is_accepted(client: Any, provider: MockProvider) -> None:
    provider.set_user("sub-ida", email="ida@example.com", email_verified=True)
    callback = provider.authorize(start(client), "sub-ida")
    params = {**query(callback), "iss": provider.url}

    assert client.get("/login/oidc/callback", query_string=params).status_code == 303
    assert logged_in_as(client) == "ida"


def test_denying_at_the_provider_returns_to_the_login_page(
    app: Any, client: Any, provider: MockProvider
) -> None:
    callback = provider.deny(start(client, "/posts/1?x=y"))
    assert query(callback)["error"] == "access_denied"

    response = client.get(path_and_query(callback))

    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=")
    assert "The sign-in was cancelled." in page(client, response.headers["Location"])
    assert logged_in_as(client) is None
    assert db_rows(app, User) == []


def test_the_login_page_offers_the_provider_with_next(client: Any) -> None:
    text = page(client, "/login?next=/posts/1?x%3Dy")

    assert "Sign in with Mock ID" in text
    assert 'href="/login/oidc?next=/posts/1?x%3Dy"' in text


def test_a_consent_page_next_survives_the_round_trip(client: Any, provider: MockProvider) -> None:
    """From the consent page (``/login?next=/oauth/authorize?...``) through the provider and back.

    The button on the log-in page carries ``next``, the sign-in keeps it in
    the session, and the callback sends the reader back to it, every
    parameter intact (``&``, ``%2F``, ``+`` included).
    """
    consent = (
        "/oauth/authorize?response_type=code&client_id=app-1"
        "&redirect_uri=https%3A%2F%2Fapp.example%2Fcallback&scope=posts%3Aread+profile"
        "&state=xyz&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        "&code_challenge_method=S256"
    )
    provider.set_user("sub-judy", email="judy@example.com", email_verified=True)
    login_page = page(client, "/login?" + urlencode({"next": consent}))
    button = re.search(r'id="oidc-sign-in" href="([^"]+)"', login_page)
    assert button is not None

    response = client.get(html.unescape(button.group(1)))
    callback = provider.authorize(response.headers["Location"], "sub-judy")
    response = client.get(path_and_query(callback))

    assert response.status_code == 303
    assert response.headers["Location"] == consent


def test_without_settings_there_is_no_button_and_no_route(framework: str, tmp_path: Path) -> None:
    app = build_app(framework, make_config(tmp_path))
    client = app.test_client()
    try:
        assert "Sign in with" not in page(client, "/login")
        assert client.get("/login/oidc").status_code == 404
        assert client.get("/login/oidc/callback?code=x&state=y").status_code == 404
    finally:
        app.extensions["blog_db"].engine.dispose()


def test_an_unreachable_provider_is_a_502_page_not_a_500(framework: str, tmp_path: Path) -> None:
    oidc.clear_cache()
    settings = {"OIDC_DISCOVERY_URL": "http://127.0.0.1:9/.well-known/openid-configuration"}
    app = build_app(framework, make_config(tmp_path, OIDC_CLIENT_ID="blog", **settings))
    try:
        response = app.test_client().get("/login/oidc")
        assert response.status_code == 502
        assert "could not be reached" in response.get_data(as_text=True)
    finally:
        app.extensions["blog_db"].engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_app(
    request: pytest.FixtureRequest, framework: str, config: dict[str, Any]
) -> Iterator[Any]:
    """The app on SQLite and on PostgreSQL (skipped when no server answers)."""
    if request.param == "postgresql":
        config = {**config, "DATABASE_URL": request.getfixturevalue("postgres_url_migrated")}
    app = build_app(framework, config)
    yield app
    app.extensions["blog_db"].engine.dispose()


def test_sign_in_and_linking_work_on_both_databases(
    any_db_app: Any, provider: MockProvider
) -> None:
    app = any_db_app
    add_user(app, "alice")
    provider.set_user("sub-db-alice", email="ALICE@example.com", email_verified=True)
    provider.set_user("sub-db-new", email="newcomer@example.com", preferred_username="alice")

    linked, created = app.test_client(), app.test_client()
    assert sign_in(linked, provider, "sub-db-alice").status_code == 303
    assert sign_in(created, provider, "sub-db-new").status_code == 303

    assert logged_in_as(linked) == "alice"
    assert logged_in_as(created) == "alice2"
    assert len(db_rows(app, UserIdentity)) == 2


def test_two_first_sign_ins_at_once_make_one_user(
    any_db_app: Any, provider: MockProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second one's lookup ran before the first committed: the unique constraint decides."""
    app = any_db_app
    account = identities.ProviderAccount(
        provider.url, "sub-twice", "twice@example.com", True, ("twice",)
    )
    with app.extensions["blog_db"].session_factory() as session:
        first = identities.sign_in(session, account)
        first_id = first.id
    real_find_user = identities.find_user
    lookups = []

    def late_lookup(*args: Any) -> Any:
        lookups.append(args)
        return None if len(lookups) == 1 else real_find_user(*args)

    monkeypatch.setattr(identities, "find_user", late_lookup)
    with app.extensions["blog_db"].session_factory() as session:
        second = identities.sign_in(session, account)
        assert second.id == first_id
    assert len(lookups) == 2
    assert len(db_rows(app, UserIdentity)) == 1
    assert len(db_rows(app, User)) == 1


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Carol", "carol"),
        ("Jörg Müller", "jorg-muller"),
        ("42 is.the_answer", "is.the_answer"),
        ("x", None),
        ("日本語", None),
        ("a" * 40, "a" * 32),
    ],
)
def test_username_base(name: str, expected: str | None) -> None:
    assert identities.username_base(name) == expected


# The ID token's checks, with keys of our own.

ISSUER = "https://id.example"
CLIENT_ID = "blog-client"
NONCE = "the-nonce"
PROVIDER = oidc.Provider(
    issuer=ISSUER,
    authorization_endpoint=f"{ISSUER}/authorize",
    token_endpoint=f"{ISSUER}/token",
    jwks_uri=f"{ISSUER}/jwks",
    userinfo_endpoint=None,
    algorithms=("RS256", "ES256"),
    token_endpoint_auth_methods=("client_secret_basic",),
    iss_parameter_supported=False,
)


@pytest.fixture(scope="module")
def rsa_key() -> RSAKey:
    """The provider's signing key."""
    return RSAKey.generate_key(2048, parameters={"kid": "key-1"}, private=True)


def claims(**changes: Any) -> dict[str, Any]:
    """Valid ID-token claims, with ``changes`` (a value of None removes the claim)."""
    now = int(time.time())
    values = {
        "iss": ISSUER,
        "sub": "subject-1",
        "aud": CLIENT_ID,
        "exp": now + 300,
        "iat": now,
        "nonce": NONCE,
    }
    values.update(changes)
    return {name: value for name, value in values.items() if value is not None}


def token(key: Any, alg: str = "RS256", **changes: Any) -> str:
    """An ID token signed by ``key``."""
    header = {"alg": alg, "kid": key.kid} if key.kid else {"alg": alg}
    return jwt.encode(header, claims(**changes), key, algorithms=[alg])


def verify(id_token: str, *key_sets: KeySet) -> dict[str, Any]:
    """``verify_id_token`` with ``key_sets[0]``, and ``key_sets[1]`` after a refresh."""
    return oidc.verify_id_token(
        id_token,
        PROVIDER,
        CLIENT_ID,
        NONCE,
        keys=lambda refresh: key_sets[-1] if refresh else key_sets[0],
    )


def test_a_good_id_token_gives_its_claims(rsa_key: RSAKey) -> None:
    assert verify(token(rsa_key), KeySet([rsa_key]))["sub"] == "subject-1"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"aud": "another-client"}, "audience"),
        ({"aud": ["another-client"]}, "audience"),
        ({"aud": [CLIENT_ID, "another-client"]}, "several audiences, no azp"),
        ({"aud": [CLIENT_ID, "another-client"], "azp": "another-client"}, "azp"),
        ({"iss": "https://evil.example"}, "issuer"),
        ({"iss": None}, "no issuer"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"iat": int(time.time()) + 3600}, "issued in the future"),
        ({"nonce": "another-nonce"}, "nonce"),
        ({"nonce": None}, "no nonce"),
        ({"sub": None}, "no subject"),
    ],
)
def test_an_id_token_with_a_wrong_claim_is_refused(
    rsa_key: RSAKey, changes: dict[str, Any], reason: str
) -> None:
    with pytest.raises(oidc.SignInError):
        verify(token(rsa_key, **changes), KeySet([rsa_key]))


def test_several_audiences_with_us_as_azp_are_accepted(rsa_key: RSAKey) -> None:
    id_token = token(rsa_key, aud=[CLIENT_ID, "api"], azp=CLIENT_ID)
    assert verify(id_token, KeySet([rsa_key]))["azp"] == CLIENT_ID


def test_a_token_signed_by_another_key_with_the_same_kid_is_refused(rsa_key: RSAKey) -> None:
    impostor = RSAKey.generate_key(2048, parameters={"kid": "key-1"}, private=True)
    with pytest.raises(oidc.SignInError, match="could not be verified"):
        verify(token(impostor), KeySet([rsa_key]))


def test_alg_none_is_refused(rsa_key: RSAKey) -> None:
    _, body, _ = token(rsa_key).split(".")
    unsigned_header = "eyJhbGciOiJub25lIn0"  # {"alg":"none"}
    with pytest.raises(oidc.SignInError, match="algorithm"):
        verify(f"{unsigned_header}.{body}.", KeySet([rsa_key]))


def test_hs256_with_the_client_secret_is_refused(rsa_key: RSAKey) -> None:
    """OIDC allows HS256 keyed with the client secret; we accept only public keys."""
    secret = OctKey.import_key("blog-client-secret-" + "x" * 32)
    id_token = jwt.encode({"alg": "HS256"}, claims(), secret, algorithms=["HS256"])
    with pytest.raises(oidc.SignInError, match="algorithm"):
        verify(id_token, KeySet([rsa_key, secret]))


def test_an_algorithm_the_provider_does_not_announce_is_refused(rsa_key: RSAKey) -> None:
    provider = dataclasses.replace(PROVIDER, algorithms=("ES256",))
    with pytest.raises(oidc.SignInError, match="algorithm"):
        oidc.verify_id_token(
            token(rsa_key), provider, CLIENT_ID, NONCE, keys=lambda _: KeySet([rsa_key])
        )


def test_an_es256_token_verifies_with_an_ec_key() -> None:
    key = ECKey.generate_key("P-256", parameters={"kid": "ec-1"}, private=True)
    assert verify(token(key, alg="ES256"), KeySet([key]))["nonce"] == NONCE


def test_a_rotated_key_is_fetched_once(rsa_key: RSAKey) -> None:
    """The provider signs with a new key: the cached set lacks its kid, a refresh has it."""
    new_key = RSAKey.generate_key(2048, parameters={"kid": "key-2"}, private=True)
    fetches: list[bool] = []

    def keys(refresh: bool) -> KeySet:
        fetches.append(refresh)
        return KeySet([rsa_key, new_key]) if refresh else KeySet([rsa_key])

    claims_ = oidc.verify_id_token(token(new_key), PROVIDER, CLIENT_ID, NONCE, keys=keys)

    assert claims_["sub"] == "subject-1"
    assert fetches == [False, True]


def test_a_kid_unknown_even_after_a_refresh_is_refused(rsa_key: RSAKey) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "key-9"}, private=True)
    with pytest.raises(oidc.SignInError, match="does not publish"):
        verify(token(stranger), KeySet([rsa_key]), KeySet([rsa_key]))


def test_the_refusal_never_quotes_the_token(rsa_key: RSAKey) -> None:
    id_token = token(rsa_key, aud="another-client")
    with pytest.raises(oidc.SignInError) as caught:
        verify(id_token, KeySet([rsa_key]))
    assert id_token not in caught.value.message
    assert id_token.split(".")[1] not in str(caught.value)


# The discovery document and the authorization response.

DISCOVERY_URL = f"{ISSUER}/.well-known/openid-configuration"


def discovery(**changes: Any) -> dict[str, Any]:
    """A valid discovery document for ``ISSUER``, with ``changes``."""
    document = {
        "issuer": ISSUER,
        "authorization_endpoint": f"{ISSUER}/authorize",
        "token_endpoint": f"{ISSUER}/token",
        "jwks_uri": f"{ISSUER}/jwks",
        "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"],
    }
    document.update(changes)
    return document


def test_discovery_keeps_only_public_key_algorithms() -> None:
    provider = oidc.parse_discovery(DISCOVERY_URL, discovery())
    assert provider.algorithms == ("RS256",)
    assert provider.token_endpoint_auth_methods == ("client_secret_basic",)


@pytest.mark.parametrize(
    "changes",
    [
        {"issuer": "https://other.example"},  # another provider's document
        {"token_endpoint": "http://id.example/token"},  # no TLS, not loopback
        {"jwks_uri": None},
        {"id_token_signing_alg_values_supported": ["HS256", "none"]},
    ],
)
def test_an_unusable_discovery_document_is_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(oidc.SignInError) as caught:
        oidc.parse_discovery(DISCOVERY_URL, discovery(**changes))
    assert caught.value.status == 502


def test_a_provider_that_promises_iss_must_send_it() -> None:
    """RFC 9207 §2.4: with the promise in discovery, an answer without ``iss`` is refused."""
    provider = oidc.parse_discovery(
        DISCOVERY_URL, discovery(authorization_response_iss_parameter_supported=True)
    )
    with pytest.raises(oidc.SignInError, match="does not name"):
        oidc.check_authorization_response(provider, {"code": "c", "state": "s"})
    assert oidc.check_authorization_response(provider, {"code": "c", "iss": ISSUER}) == "c"


def test_an_old_pending_sign_in_is_refused() -> None:
    old = {"state": "s", "started": int(time.time()) - oidc.MAX_SIGN_IN_SECONDS - 1}
    with pytest.raises(oidc.SignInError, match="too long"):
        oidc.check_state(old, "s")
