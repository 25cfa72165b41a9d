"""The attacks of RFC 9700 §4 against the blog's authorisation server, each refused.

Every test makes the attacker's move and checks the refusal, then (where it
matters) that the honest party still gets through, so a test also fails if
the defence is "refuse everything". The defences live in
``blog_api/oauth/`` and ``blog_api/site/consent.py``.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from blog_api.models import AuthorizationCode
from tests.blog_api.conftest import Api, build_app, make_config
from tests.blog_api.test_oauth_server import (
    INTROSPECT,
    REDIRECT,
    TOKEN,
    answer_consent,
    authorize_url,
    basic,
    exchange,
    get_code,
    pkce,
    redirect_params,
    refresh,
    register_client,
)
from tests.blog_api.test_site import log_in, token_from

#: Token requests sent at once with one code.
RACERS = 4


@pytest.fixture
def app_client(api: Api, client: Any) -> tuple[str, str | None]:
    """A confidential app, and alice logged in on the site."""
    registered = register_client(api.app, redirect_uris=(REDIRECT, "https://app.example/other"))
    api.register("alice")
    log_in(client)
    return registered


def code_count(api: Api) -> int:
    """How many authorisation codes were ever issued."""
    with api.app.extensions["blog_db"].session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(AuthorizationCode)) or 0)


# -- §4.5 authorization code injection ---------------------------------------------


def test_a_stolen_code_with_another_verifier_is_invalid_grant(
    client: Any, app_client: tuple[str, str | None]
) -> None:
    client_id, secret = app_client
    verifier, challenge = pkce()
    code = get_code(client, client_id, challenge)
    attacker_verifier, _ = pkce()
    injected = exchange(client, client_id, secret, code, attacker_verifier)
    assert injected.status_code == 400 and injected.get_json()["error"] == "invalid_grant"
    assert exchange(client, client_id, secret, code, verifier).status_code == 200


def test_a_code_of_one_client_is_refused_to_another(
    api: Api, client: Any, app_client: tuple[str, str | None]
) -> None:
    client_id, secret = app_client
    other_id, other_secret = register_client(api.app, name="Attacker app")
    verifier, challenge = pkce()
    code = get_code(client, client_id, challenge)
    stolen = exchange(client, other_id, other_secret, code, verifier)
    assert stolen.status_code == 400 and stolen.get_json()["error"] == "invalid_grant"
    public_id, _ = register_client(api.app, public=True, name="Public attacker")
    as_public = exchange(client, public_id, None, code, verifier)
    assert as_public.status_code == 400 and as_public.get_json()["error"] == "invalid_grant"
    assert exchange(client, client_id, secret, code, verifier).status_code == 200


def test_a_code_is_bound_to_its_redirect_uri(
    client: Any, app_client: tuple[str, str | None]
) -> None:
    client_id, secret = app_client
    verifier, challenge = pkce()
    code = get_code(client, client_id, challenge)
    elsewhere = exchange(
        client, client_id, secret, code, verifier, redirect_uri="https://app.example/other"
    )
    assert elsewhere.status_code == 400 and elsewhere.get_json()["error"] == "invalid_grant"
    assert exchange(client, client_id, secret, code, verifier).status_code == 200


# -- §4.8 PKCE downgrade -------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"code_challenge": None, "code_challenge_method": None},
        {"code_challenge_method": "plain"},
        {"code_challenge_method": None},  # RFC 7636 §4.3: no method means plain
    ],
    ids=["no-challenge", "plain", "method-omitted"],
)
def test_an_authorisation_request_without_s256_pkce_gets_no_code(
    api: Api, client: Any, app_client: tuple[str, str | None], overrides: dict[str, str | None]
) -> None:
    client_id, _ = app_client
    _, challenge = pkce()
    response = client.get(authorize_url(client_id, challenge, **overrides))
    params = redirect_params(response)
    assert params["error"] == "invalid_request" and "code" not in params
    assert params["state"] == "xyz-state"
    # And the consent POST cannot skip the check either.
    page = client.get(authorize_url(client_id, challenge))
    post = client.post(
        authorize_url(client_id, challenge, **overrides),
        data={"csrf_token": token_from(page.get_data(as_text=True)), "decision": "allow"},
    )
    assert redirect_params(post)["error"] == "invalid_request"
    assert code_count(api) == 0


@pytest.mark.parametrize("public", [False, True], ids=["confidential", "public"])
def test_the_verifier_is_required_at_the_token_endpoint(
    api: Api, client: Any, app_client: tuple[str, str | None], public: bool
) -> None:
    client_id, secret = app_client if not public else register_client(api.app, public=True)
    verifier, challenge = pkce()
    code = get_code(client, client_id, challenge)
    without = exchange(client, client_id, secret, code, None)
    assert without.status_code == 400 and without.get_json()["error"] == "invalid_request"
    assert exchange(client, client_id, secret, code, verifier).status_code == 200


def test_the_challenge_itself_is_no_verifier(
    client: Any, app_client: tuple[str, str | None]
) -> None:
    """What a ``plain`` downgrade would allow: the challenge seen in the URL, sent back."""
    client_id, secret = app_client
    verifier, challenge = pkce()
    code = get_code(client, client_id, challenge)
    replayed = exchange(client, client_id, secret, code, challenge)
    assert replayed.status_code == 400 and replayed.get_json()["error"] == "invalid_grant"
    assert exchange(client, client_id, secret, code, verifier).status_code == 200


# -- §4.4 mix-up ---------------------------------------------------------------------


def test_every_authorisation_response_names_the_metadata_issuer(
    client: Any, app_client: tuple[str, str | None]
) -> None:
    client_id, _ = app_client
    issuer = client.get("/.well-known/oauth-authorization-server").get_json()["issuer"]
    allowed = redirect_params(answer_consent(client, authorize_url(client_id, pkce()[1])))
    denied = redirect_params(
        answer_consent(client, authorize_url(client_id, pkce()[1]), decision="deny")
    )
    refused = redirect_params(client.get(authorize_url(client_id, pkce()[1], scope="account")))
    assert allowed["iss"] == denied["iss"] == refused["iss"] == issuer
    assert "code" in allowed and "error" in denied and "error" in refused


# -- §4.1 open redirect through redirect_uri ------------------------------------------


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/callback",
        "https://app.example/callback/evil",  # prefix match
        "https://app.example/callbackx",  # suffix added
        "https://app.example/callback?next=https://evil.example",  # extra query
        "https://app.example/callback#x",
        "http://app.example/callback",  # scheme changed
        "https://APP.example/callback",  # not character for character
        "https://app.example/callback/",
        "https://app.example.evil.example/callback",
        "",
    ],
)
def test_a_redirect_uri_not_registered_exactly_gets_the_error_page(
    api: Api, client: Any, app_client: tuple[str, str | None], redirect_uri: str
) -> None:
    client_id, _ = app_client
    _, challenge = pkce()
    # Even with a second mistake that would otherwise go back to the app.
    for scope in ("posts:read", "account"):
        response = client.get(
            authorize_url(client_id, challenge, redirect_uri=redirect_uri, scope=scope)
        )
        assert response.status_code == 400
        assert "Location" not in response.headers
    page = client.get(authorize_url(client_id, challenge))
    post = client.post(
        authorize_url(client_id, challenge, redirect_uri=redirect_uri),
        data={"csrf_token": token_from(page.get_data(as_text=True)), "decision": "allow"},
    )
    assert post.status_code == 400 and "Location" not in post.headers
    assert code_count(api) == 0


def test_an_unknown_client_gets_the_error_page_not_a_redirect(
    client: Any, app_client: tuple[str, str | None]
) -> None:
    response = client.get(authorize_url("no-such-client", pkce()[1]))
    assert response.status_code == 400 and "Location" not in response.headers


def test_a_duplicated_redirect_uri_gets_the_error_page(
    client: Any, app_client: tuple[str, str | None]
) -> None:
    client_id, _ = app_client
    url = authorize_url(client_id, pkce()[1]) + "&" + urlencode({"redirect_uri": REDIRECT})
    response = client.get(url)
    assert response.status_code == 400 and "Location" not in response.headers


# -- §4.7 CSRF on the consent page, and state ----------------------------------------


def test_consent_without_the_csrf_token_is_refused(
    api: Api, client: Any, app_client: tuple[str, str | None]
) -> None:
    client_id, _ = app_client
    url = authorize_url(client_id, pkce()[1])
    client.get(url)
    for form in ({"decision": "allow"}, {"decision": "allow", "csrf_token": "guessed"}):
        response = client.post(url, data=form)
        assert response.status_code == 400 and "Location" not in response.headers
    assert code_count(api) == 0


def test_consent_from_a_foreign_origin_is_refused(
    api: Api, client: Any, app_client: tuple[str, str | None]
) -> None:
    client_id, _ = app_client
    url = authorize_url(client_id, pkce()[1])
    token = token_from(client.get(url).get_data(as_text=True))
    response = client.post(
        url,
        data={"csrf_token": token, "decision": "allow"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 400 and "Location" not in response.headers
    assert code_count(api) == 0
    assert "code" in redirect_params(
        client.post(url, data={"csrf_token": token, "decision": "allow"})
    )


@pytest.mark.parametrize("state", ["a b/c?d=e&f=g", "x" * 500, "'<script>'"])
def test_state_comes_back_unchanged(
    client: Any, app_client: tuple[str, str | None], state: str
) -> None:
    client_id, _ = app_client
    for decision in ("allow", "deny"):
        url = authorize_url(client_id, pkce()[1], state=state)
        assert redirect_params(answer_consent(client, url, decision))["state"] == state


# -- §4.1.2 / RFC 6749 §4.1.2 code reuse ----------------------------------------------


def test_a_second_use_of_a_code_is_refused_and_revokes_the_first_uses_tokens(
    client: Any, app_client: tuple[str, str | None]
) -> None:
    client_id, secret = app_client
    verifier, challenge = pkce()
    code = get_code(client, client_id, challenge)
    first = exchange(client, client_id, secret, code, verifier)
    assert first.status_code == 200
    tokens = first.get_json()
    second = exchange(client, client_id, secret, code, verifier)
    assert second.status_code == 400 and second.get_json()["error"] == "invalid_grant"
    assert "access_token" not in second.get_json()
    after = refresh(client, client_id, secret, tokens["refresh_token"])
    assert after.status_code == 400 and after.get_json()["error"] == "invalid_grant"
    info = client.post(
        INTROSPECT, data={"token": tokens["refresh_token"]}, headers=basic(client_id, secret)
    )
    assert info.get_json() == {"active": False}


def test_a_reused_code_also_ends_tokens_already_refreshed(
    client: Any, app_client: tuple[str, str | None]
) -> None:
    client_id, secret = app_client
    verifier, challenge = pkce()
    code = get_code(client, client_id, challenge)
    tokens = exchange(client, client_id, secret, code, verifier).get_json()
    newer = refresh(client, client_id, secret, tokens["refresh_token"]).get_json()
    assert exchange(client, client_id, secret, code, verifier).status_code == 400
    assert refresh(client, client_id, secret, newer["refresh_token"]).status_code == 400


# -- §4.14 refresh token replay -------------------------------------------------------


@pytest.mark.parametrize("public", [False, True], ids=["confidential", "public"])
def test_a_replayed_refresh_token_revokes_its_family(
    api: Api, client: Any, app_client: tuple[str, str | None], public: bool
) -> None:
    client_id, secret = app_client if not public else register_client(api.app, public=True)
    verifier, challenge = pkce()
    tokens = exchange(client, client_id, secret, get_code(client, client_id, challenge), verifier)
    first = tokens.get_json()["refresh_token"]
    second = refresh(client, client_id, secret, first)
    assert second.status_code == 200
    replay = refresh(client, client_id, secret, first)
    assert replay.status_code == 400 and replay.get_json()["error"] == "invalid_grant"
    newest = refresh(client, client_id, secret, second.get_json()["refresh_token"])
    assert newest.status_code == 400 and newest.get_json()["error"] == "invalid_grant"


def test_another_client_cannot_use_or_burn_a_refresh_token(
    api: Api, client: Any, app_client: tuple[str, str | None]
) -> None:
    client_id, secret = app_client
    other_id, other_secret = register_client(api.app, name="Attacker app")
    verifier, challenge = pkce()
    tokens = exchange(
        client, client_id, secret, get_code(client, client_id, challenge), verifier
    ).get_json()
    stolen = refresh(client, other_id, other_secret, tokens["refresh_token"])
    assert stolen.status_code == 400 and stolen.get_json()["error"] == "invalid_grant"
    assert refresh(client, client_id, secret, tokens["refresh_token"]).status_code == 200


# -- scope: never the account -----------------------------------------------------------


@pytest.mark.parametrize("scope", ["account", "posts:read account", "admin", "posts:read  account"])
def test_asking_for_a_scope_apps_never_get_is_invalid_scope(
    api: Api, client: Any, app_client: tuple[str, str | None], scope: str
) -> None:
    client_id, _ = app_client
    params = redirect_params(client.get(authorize_url(client_id, pkce()[1], scope=scope)))
    assert params["error"] == "invalid_scope" and "code" not in params
    assert code_count(api) == 0


def test_a_third_party_token_cannot_reach_the_account(
    api: Api, client: Any, app_client: tuple[str, str | None]
) -> None:
    client_id, secret = app_client
    verifier, challenge = pkce()
    code = get_code(client, client_id, challenge, scope="posts:read profile")
    tokens = exchange(client, client_id, secret, code, verifier).get_json()
    auth = api.bearer(tokens["access_token"])
    me = client.get("/api/v1/users/me", headers=auth)
    assert me.status_code == 200
    response = client.delete(
        f"/api/v1/users/{me.get_json()['id']}", headers={**auth, "If-Match": me.headers["ETag"]}
    )
    assert response.status_code == 403
    assert client.post(TOKEN, data={"grant_type": "password"}).status_code == 400


# -- §4.16 clickjacking ------------------------------------------------------------------


def test_the_consent_page_cannot_be_framed(client: Any, app_client: tuple[str, str | None]) -> None:
    """A page framing ours invisibly could make the user click Allow."""
    client_id, _ = app_client
    page = client.get(authorize_url(client_id, pkce()[1]))
    assert page.status_code == 200
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_code_raced_by_several_requests_gives_tokens_once(
    framework: str, tmp_path: Any, request: pytest.FixtureRequest, database: str
) -> None:
    """Token requests with one code at the same moment: one wins, and its tokens die.

    The second use is a reuse whether it was seen before or during the first
    (``AuthorizationCodeGrant.save_token``'s atomic claim), on both databases.
    """
    overrides = {}
    if database == "postgresql":
        overrides["DATABASE_URL"] = request.getfixturevalue("postgres_url_migrated")
    app = build_app(framework, make_config(tmp_path, **overrides))
    try:
        client = app.test_client()
        api = Api(app, client)
        client_id, secret = register_client(app)
        api.register("alice")
        log_in(client)
        verifier, challenge = pkce()
        code = get_code(client, client_id, challenge)
        barrier = threading.Barrier(RACERS)

        def race(_: int) -> Any:
            racer = app.test_client()
            barrier.wait()
            return exchange(racer, client_id, secret, code, verifier)

        with ThreadPoolExecutor(RACERS) as pool:
            responses = list(pool.map(race, range(RACERS)))
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [200] + [400] * (RACERS - 1)
        winner = next(r for r in responses if r.status_code == 200).get_json()
        assert refresh(client, client_id, secret, winner["refresh_token"]).status_code == 400
    finally:
        app.extensions["blog_db"].engine.dispose()
