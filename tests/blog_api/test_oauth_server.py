"""The blog as an OAuth 2.0 authorisation server: consent, code flow, revocation, introspection.

Driven through the framework's test client, as a browser (the consent page,
logged in on the site) and as an app (the token endpoints) would. The same
flow with Authlib's own client over real HTTP is ``test_oauth2_client.py``;
the RFC 9700 attacks are ``test_oauth_attacks.py``. The helpers here are
shared by both.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from sqlalchemy import update

from blog_api.models import AuthorizationCode
from blog_api.services import oauth_clients
from tests.blog_api.conftest import PASSWORD, Api
from tests.blog_api.test_site import log_in, token_from

REDIRECT = "https://app.example/callback"
TOKEN = "/api/v1/auth/token"
REVOKE = "/api/v1/auth/revoke"
INTROSPECT = "/api/v1/auth/introspect"


# -- helpers (also used by test_oauth_attacks.py and test_oauth2_token.py) ------


def register_client(
    app: Any,
    *,
    public: bool = False,
    scope: str | None = None,
    redirect_uris: tuple[str, ...] = (REDIRECT,),
    name: str = "Reader app",
) -> tuple[str, str | None]:
    """Register an app as the CLI does; return its client id and secret."""
    with app.extensions["blog_db"].session_factory() as session:
        client, secret = oauth_clients.register(
            session, name, list(redirect_uris), scope, public=public
        )
        session.commit()
        return client.client_id, secret


def pkce() -> tuple[str, str]:
    """A fresh PKCE code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    return verifier, create_s256_code_challenge(verifier)


def authorize_url(client_id: str, challenge: str | None, **overrides: str | None) -> str:
    """``/oauth/authorize?...`` as an app would build it (``None`` leaves a parameter out)."""
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "posts:read profile",
        "state": "xyz-state",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(overrides)
    return "/oauth/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


def answer_consent(client: Any, url: str, decision: str = "allow") -> Any:
    """Open the consent page (logged in) and press a button; the response, not followed."""
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)
    token = token_from(page.get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, "decision": decision})


def redirect_params(response: Any) -> dict[str, str]:
    """The query parameters of a redirect to the app (which must be REDIRECT)."""
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def get_code(client: Any, client_id: str, challenge: str, **overrides: str | None) -> str:
    """Allow an authorisation request on the consent page; the code it redirects with."""
    response = answer_consent(client, authorize_url(client_id, challenge, **overrides))
    return redirect_params(response)["code"]


def basic(client_id: str, secret: str | None) -> dict[str, str]:
    """An ``Authorization: Basic`` header (RFC 6749 §2.3.1)."""
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def exchange(
    client: Any,
    client_id: str,
    secret: str | None,
    code: str,
    verifier: str | None,
    **extra: str,
) -> Any:
    """The token request for a code (Basic for a confidential client, else ``client_id``)."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    if verifier is not None:
        form["code_verifier"] = verifier
    form.update(extra)
    if secret is None:
        return client.post(TOKEN, data={**form, "client_id": client_id})
    return client.post(TOKEN, data=form, headers=basic(client_id, secret))


def refresh(client: Any, client_id: str, secret: str | None, refresh_token: str) -> Any:
    """A ``refresh_token`` grant request by a registered client."""
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    if secret is None:
        return client.post(TOKEN, data={**form, "client_id": client_id})
    return client.post(TOKEN, data=form, headers=basic(client_id, secret))


def code_flow(
    api: Api, client: Any, *, public: bool = False, scope: str = "posts:read profile"
) -> tuple[str, str | None, dict[str, Any]]:
    """Register an app, log alice in on the site, allow, exchange: the app's tokens."""
    client_id, secret = register_client(api.app, public=public)
    api.register("alice")
    log_in(client)
    verifier, challenge = pkce()
    code = get_code(client, client_id, challenge, scope=scope)
    response = exchange(client, client_id, secret, code, verifier)
    assert response.status_code == 200, response.get_json()
    return client_id, secret, response.get_json()


# -- the tests -------------------------------------------------------------------


def test_metadata_document_says_where_everything_is(client: Any) -> None:
    response = client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    root = "http://localhost"
    assert response.get_json() == {
        "issuer": root,
        "authorization_endpoint": f"{root}/oauth/authorize",
        "token_endpoint": f"{root}/api/v1/auth/token",
        "revocation_endpoint": f"{root}/api/v1/auth/revoke",
        "introspection_endpoint": f"{root}/api/v1/auth/introspect",
        "scopes_supported": ["posts:read", "posts:write", "comments:write", "profile"],
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "authorization_response_iss_parameter_supported": True,
    }
    assert client.get("/api/v1/.well-known/oauth-authorization-server").status_code == 404


def test_consent_page_names_the_app_the_host_and_each_scope(api: Api, client: Any) -> None:
    client_id, _ = register_client(api.app, name="Reader <app>")
    api.register("alice")
    log_in(client)
    page = client.get(authorize_url(client_id, pkce()[1], scope="posts:read profile"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert "Reader &lt;app&gt;" in html  # escaped, like every value on the site
    assert "app.example" in html
    assert "Read posts and comments as you see them" in html  # scopes.DESCRIPTIONS
    assert "See your profile" in html
    assert "Create, change and delete your posts" not in html  # posts:write not asked for
    assert 'value="allow"' in html and 'value="deny"' in html


def test_allow_redirects_with_code_state_and_iss(api: Api, client: Any) -> None:
    client_id, _ = register_client(api.app)
    api.register("alice")
    log_in(client)
    params = redirect_params(answer_consent(client, authorize_url(client_id, pkce()[1])))
    assert params["state"] == "xyz-state"
    assert params["iss"] == "http://localhost"
    assert len(params["code"]) >= 40


def test_deny_redirects_with_access_denied_and_no_code(api: Api, client: Any) -> None:
    client_id, _ = register_client(api.app)
    api.register("alice")
    log_in(client)
    response = answer_consent(client, authorize_url(client_id, pkce()[1]), decision="deny")
    params = redirect_params(response)
    assert params["error"] == "access_denied"
    assert params["state"] == "xyz-state" and params["iss"] == "http://localhost"
    assert "code" not in params


def test_a_visitor_logs_in_first_and_comes_back_to_the_same_request(api: Api, client: Any) -> None:
    client_id, _ = register_client(api.app)
    api.register("alice")
    url = authorize_url(client_id, pkce()[1])
    response = client.get(url)
    assert response.status_code == 303
    login = urlsplit(response.headers["Location"])
    assert login.path == "/login"
    next_url = parse_qs(login.query)["next"][0]
    assert parse_qs(urlsplit(next_url).query) == parse_qs(urlsplit(url).query)
    page = client.get(f"/login?{login.query}")
    form = {
        "username": "alice",
        "password": PASSWORD,
        "csrf_token": token_from(page.get_data(as_text=True)),
        "next": next_url,
    }
    back = client.post("/login", data=form)
    assert back.status_code == 303
    consent = client.get(back.headers["Location"])
    assert consent.status_code == 200 and "Reader app" in consent.get_data(as_text=True)


def test_the_code_flow_gives_tokens_the_api_accepts(api: Api, client: Any) -> None:
    _, _, tokens = code_flow(api, client)
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0
    assert tokens["scope"] == "posts:read profile"
    me = client.get("/api/v1/users/me", headers=api.bearer(tokens["access_token"]))
    assert me.status_code == 200 and me.get_json()["username"] == "alice"


def test_token_responses_are_never_cached(api: Api, client: Any) -> None:
    client_id, secret = register_client(api.app)
    api.register("alice")
    log_in(client)
    verifier, challenge = pkce()
    response = exchange(client, client_id, secret, get_code(client, client_id, challenge), verifier)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Pragma"] == "no-cache"


@pytest.mark.parametrize("public", [False, True], ids=["confidential", "public"])
def test_a_third_party_refresh_rotates_and_keeps_the_scope(
    api: Api, client: Any, public: bool
) -> None:
    client_id, secret, first = code_flow(api, client, public=public, scope="posts:read")
    second = refresh(client, client_id, secret, first["refresh_token"])
    assert second.status_code == 200, second.get_json()
    body = second.get_json()
    assert body["refresh_token"] != first["refresh_token"] and body["scope"] == "posts:read"
    assert refresh(client, client_id, secret, first["refresh_token"]).status_code == 400


def test_client_secret_post_works_like_basic(api: Api, client: Any) -> None:
    client_id, secret = register_client(api.app)
    api.register("alice")
    log_in(client)
    verifier, challenge = pkce()
    form = {
        "grant_type": "authorization_code",
        "code": get_code(client, client_id, challenge),
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_id": client_id,
        "client_secret": secret or "",
    }
    assert client.post(TOKEN, data=form).status_code == 200


def test_a_confidential_client_must_send_its_secret(api: Api, client: Any) -> None:
    client_id, secret = register_client(api.app)
    api.register("alice")
    log_in(client)
    verifier, challenge = pkce()
    code = get_code(client, client_id, challenge)
    without = exchange(client, client_id, None, code, verifier)
    assert without.status_code in (400, 401)
    assert without.get_json()["error"] == "invalid_client"
    wrong = exchange(client, client_id, "not-the-secret", code, verifier)
    assert wrong.status_code == 401 and wrong.get_json()["error"] == "invalid_client"
    assert wrong.headers["WWW-Authenticate"].startswith("Basic")
    assert exchange(client, client_id, secret, code, verifier).status_code == 200


def test_no_scope_asks_for_what_the_app_registered(api: Api, client: Any) -> None:
    client_id, secret = register_client(api.app, scope="posts:read comments:write")
    api.register("alice")
    log_in(client)
    verifier, challenge = pkce()
    page = client.get(authorize_url(client_id, challenge, scope=None))
    assert "Comment in your name" in page.get_data(as_text=True)
    code = get_code(client, client_id, challenge, scope=None)
    body = exchange(client, client_id, secret, code, verifier).get_json()
    assert body["scope"] == "posts:read comments:write"


def test_a_scope_the_app_did_not_register_goes_back_as_invalid_scope(api: Api, client: Any) -> None:
    client_id, _ = register_client(api.app, scope="posts:read")
    api.register("alice")
    log_in(client)
    params = redirect_params(client.get(authorize_url(client_id, pkce()[1], scope="posts:write")))
    assert params["error"] == "invalid_scope" and params["state"] == "xyz-state"


def test_an_expired_code_is_refused(api: Api, client: Any) -> None:
    client_id, secret = register_client(api.app)
    api.register("alice")
    log_in(client)
    verifier, challenge = pkce()
    code = get_code(client, client_id, challenge)
    with api.app.extensions["blog_db"].session_factory() as session:
        session.execute(update(AuthorizationCode).values(expires_at=AuthorizationCode.created_at))
        session.commit()
    response = exchange(client, client_id, secret, code, verifier)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_grant"


def test_codes_live_as_long_as_the_setting_says_and_are_stored_hashed(
    api: Api, client: Any
) -> None:
    api.app.config["OAUTH_CODE_TTL"] = 45
    client_id, _ = register_client(api.app)
    api.register("alice")
    log_in(client)
    code = get_code(client, client_id, pkce()[1])
    with api.app.extensions["blog_db"].session_factory() as session:
        row = session.query(AuthorizationCode).one()
        assert (row.expires_at - row.created_at).total_seconds() == pytest.approx(45, abs=1)
        assert row.code_challenge_method == "S256"
        # A copy of the table gives no usable code.
        assert code not in row.code_hash and len(row.code_hash) == 64


def test_revoking_the_refresh_token_ends_its_family(api: Api, client: Any) -> None:
    client_id, secret, tokens = code_flow(api, client)
    newer = refresh(client, client_id, secret, tokens["refresh_token"]).get_json()
    response = client.post(
        REVOKE,
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        headers=basic(client_id, secret),
    )
    assert response.status_code == 200 and response.get_json() == {}
    assert refresh(client, client_id, secret, newer["refresh_token"]).status_code == 400


def test_revoking_the_access_token_makes_the_api_refuse_it(api: Api, client: Any) -> None:
    client_id, _, tokens = code_flow(api, client, public=True)
    auth = api.bearer(tokens["access_token"])
    assert client.get("/api/v1/users/me", headers=auth).status_code == 200
    form = {"token": tokens["access_token"], "client_id": client_id}
    assert client.post(REVOKE, data=form).status_code == 200
    assert client.get("/api/v1/users/me", headers=auth).status_code == 401


def test_revoking_an_unknown_or_foreign_token_answers_200_and_changes_nothing(
    api: Api, client: Any
) -> None:
    owner_id, owner_secret, tokens = code_flow(api, client)
    other_id, other_secret = register_client(api.app, name="Other app")
    for token in ("no-such-token", tokens["refresh_token"], tokens["access_token"]):
        response = client.post(REVOKE, data={"token": token}, headers=basic(other_id, other_secret))
        assert response.status_code == 200
    assert refresh(client, owner_id, owner_secret, tokens["refresh_token"]).status_code == 200


def test_introspection_describes_a_live_token(api: Api, client: Any) -> None:
    client_id, secret, tokens = code_flow(api, client)
    response = client.post(
        INTROSPECT, data={"token": tokens["access_token"]}, headers=basic(client_id, secret)
    )
    body = response.get_json()
    assert response.status_code == 200
    assert body["active"] is True
    assert body["scope"] == "posts:read profile" and body["client_id"] == client_id
    assert body["username"] == "alice" and body["token_type"] == "Bearer"
    assert body["exp"] > body["iat"] and body["sub"] and body["iss"]
    on_refresh = client.post(
        INTROSPECT,
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        headers=basic(client_id, secret),
    ).get_json()
    assert on_refresh["active"] is True and on_refresh["client_id"] == client_id


def test_introspection_says_inactive_and_nothing_more(api: Api, client: Any) -> None:
    client_id, secret, tokens = code_flow(api, client)
    other_id, other_secret = register_client(api.app, name="Other app")

    def introspect(token: str, headers: dict[str, str]) -> Any:
        return client.post(INTROSPECT, data={"token": token}, headers=headers).get_json()

    assert introspect("garbage", basic(client_id, secret)) == {"active": False}
    # Another app's token: not described to this one.
    assert introspect(tokens["access_token"], basic(other_id, other_secret)) == {"active": False}
    # A revoked token, as the API sees it.
    client.post(REVOKE, data={"token": tokens["access_token"]}, headers=basic(client_id, secret))
    assert introspect(tokens["access_token"], basic(client_id, secret)) == {"active": False}


def test_a_password_change_makes_introspection_say_inactive(api: Api, client: Any) -> None:
    client_id, secret, tokens = code_flow(api, client)
    first_party = api.bearer(api.login()["access_token"])
    me = client.get("/api/v1/users/me", headers=first_party)
    change = client.patch(
        f"/api/v1/users/{me.get_json()['id']}",
        json={"password": "a brand new password", "current_password": PASSWORD},
        headers={**first_party, "If-Match": me.headers["ETag"]},
    )
    assert change.status_code == 200, change.get_json()
    for token in (tokens["access_token"], tokens["refresh_token"]):
        body = client.post(
            INTROSPECT, data={"token": token}, headers=basic(client_id, secret)
        ).get_json()
        assert body == {"active": False}


def test_a_public_client_may_not_introspect(api: Api, client: Any) -> None:
    client_id, _, tokens = code_flow(api, client, public=True)
    response = client.post(
        INTROSPECT, data={"token": tokens["access_token"], "client_id": client_id}
    )
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("path", "data"),
    [
        (TOKEN, "grant_type=authorization_code&grant_type=refresh_token"),
        (TOKEN, "grant_type=authorization_code&code=" + "x" * 100_000),
        (TOKEN, "grant_type=authorization_code&client_id=%00&code=c&code_verifier=v"),
        (TOKEN, "grant_type=refresh_token&client_id=caf%C3%A9&refresh_token=%22"),
        (TOKEN, "grant_type=authorization_code&redirect_uri=%22%5C&client_id=a&code=b"),
        (TOKEN + "?code=%22%5C", "grant_type=authorization_code&code=c"),
        (REVOKE, "token=a&token=b"),
        (REVOKE, "token=a&token_type_hint=id_token&client_id=x"),
        (INTROSPECT, "token=%FF%FE"),
        (INTROSPECT, ""),
    ],
)
def test_malformed_token_requests_are_400s_never_500s(client: Any, path: str, data: str) -> None:
    response = client.post(
        path, data=data, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert 400 <= response.status_code < 500
    body = response.get_json()
    assert body["error"] and body["error_description"] and body["code"] == response.status_code


@pytest.mark.parametrize(
    "header", ["Basic !!!", "Basic " + base64.b64encode(b"\xff\xfe:\x00").decode(), "Basic"]
)
def test_a_malformed_basic_header_is_invalid_client(client: Any, header: str) -> None:
    form = {"grant_type": "authorization_code", "code": "c"}
    response = client.post(TOKEN, data=form, headers={"Authorization": header})
    assert response.status_code in (400, 401)
    assert response.get_json()["error"] in ("invalid_client", "invalid_request")


@pytest.mark.parametrize("path", [TOKEN, REVOKE, INTROSPECT])
def test_the_oauth_endpoints_take_forms_only(client: Any, path: str) -> None:
    response = client.post(path, json={"token": "x", "grant_type": "authorization_code"})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "query",
    [
        "response_type=code&client_id=%00",
        "response_type=code&response_type=token&client_id=a",
        "client_id=a&redirect_uri=%22%5C%E2%82%AC",
        "response_type=%22&client_id=" + "a" * 10_000,
        "",
    ],
)
def test_malformed_authorisation_requests_get_the_error_page(client: Any, query: str) -> None:
    response = client.get(f"/oauth/authorize?{query}")
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert response.mimetype == "text/html"


def test_a_code_flow_on_postgresql(
    framework: str, postgres_url_migrated: str, tmp_path: Any
) -> None:
    from tests.blog_api.conftest import build_app, make_config

    app = build_app(framework, make_config(tmp_path, DATABASE_URL=postgres_url_migrated))
    try:
        client = app.test_client()
        client_id, secret, tokens = code_flow(Api(app, client), client)
        again = refresh(client, client_id, secret, tokens["refresh_token"])
        assert again.status_code == 200
        assert refresh(client, client_id, secret, tokens["refresh_token"]).status_code == 400
        newest = again.get_json()["refresh_token"]
        assert refresh(client, client_id, secret, newest).status_code == 400
    finally:
        app.extensions["blog_db"].engine.dispose()


# -- registration and the CLI ------------------------------------------------------


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example/cb",
        "https://app.example:8443/cb?x=1",
        "http://127.0.0.1:8765/cb",
        "http://localhost/cb",
        "http://[::1]:9000/cb",
    ],
)
def test_acceptable_redirect_uris(uri: str) -> None:
    assert oauth_clients.redirect_uri_problem(uri) is None


@pytest.mark.parametrize(
    "uri",
    [
        "http://app.example/cb",
        "https://app.example/cb#frag",
        "/relative/cb",
        "javascript:alert(1)",
        "https://user@app.example/cb",
        "https://app.example/c b",
        "https://app.example:port/cb",
        "ftp://app.example/cb",
        "https://" + "a" * 3000 + ".example/",
    ],
)
def test_refused_redirect_uris(uri: str) -> None:
    assert oauth_clients.redirect_uri_problem(uri) is not None


@pytest.mark.parametrize(
    ("registered", "asked", "matches"),
    [
        (REDIRECT, REDIRECT, True),
        (REDIRECT, "https://app.example:444/callback", False),
        ("http://127.0.0.1/cb", "http://127.0.0.1:53123/cb", True),  # RFC 8252 §7.3
        ("http://[::1]:8000/cb", "http://[::1]:9000/cb", True),
        ("http://127.0.0.1/cb", "http://127.0.0.1:53123/cbx", False),
        ("http://127.0.0.1/cb", "http://127.0.0.1:53123/cb?x=1", False),
        ("http://127.0.0.1/cb", "http://127.0.0.2:53123/cb", False),
        ("http://127.0.0.1/cb", "https://127.0.0.1:53123/cb", False),
        ("http://127.0.0.1/cb", "http://user@127.0.0.1:5/cb", False),
        ("http://127.0.0.1/cb", "http://127.0.0.1:5x/cb", False),
    ],
)
def test_redirect_uris_match_exactly_but_for_a_loopback_port(
    app: Any, registered: str, asked: str, matches: bool
) -> None:
    client_id, _ = register_client(app, redirect_uris=(registered,))
    with app.extensions["blog_db"].session_factory() as session:
        client = oauth_clients.find(session, client_id)
        assert client is not None
        assert oauth_clients.has_redirect_uri(client, asked) is matches


def test_cli_creates_lists_and_deletes_clients(app: Any) -> None:
    runner = app.test_cli_runner()
    created = runner.invoke(
        args=[
            "clients",
            "create",
            "--name",
            "Reader app",
            "--redirect-uri",
            REDIRECT,
            "--redirect-uri",
            "http://127.0.0.1:8765/cb",
            "--scope",
            "profile posts:read",
        ]
    )
    assert created.exit_code == 0, created.output
    lines = dict(line.split(": ", 1) for line in created.output.splitlines() if ": " in line)
    client_id, secret = lines["client_id"], lines["client_secret"]
    with app.extensions["blog_db"].session_factory() as session:
        client = oauth_clients.find(session, client_id)
        assert client is not None and client.scope == "posts:read profile"
        assert oauth_clients.verify_secret(client, secret)
        assert secret not in (client.secret_hash or "")
    public = runner.invoke(
        args=["clients", "create", "--name", "Phone", "--redirect-uri", REDIRECT, "--public"]
    )
    assert public.exit_code == 0 and "client_secret" not in public.output
    listed = runner.invoke(args=["clients", "list"])
    assert client_id in listed.output and "2 client(s)" in listed.output
    assert secret not in listed.output
    deleted = runner.invoke(args=["clients", "delete", client_id])
    assert deleted.exit_code == 0
    assert runner.invoke(args=["clients", "delete", client_id]).exit_code != 0
    assert "1 client(s)" in runner.invoke(args=["clients", "list"]).output


@pytest.mark.parametrize(
    ("uri", "scope"),
    [
        ("http://app.example/cb", "posts:read"),
        (REDIRECT, "account"),
        (REDIRECT, "posts:read admin"),
    ],
)
def test_cli_refuses_bad_registrations(app: Any, uri: str, scope: str) -> None:
    result = app.test_cli_runner().invoke(
        args=["clients", "create", "--name", "X", "--redirect-uri", uri, "--scope", scope]
    )
    assert result.exit_code != 0
    assert "client_id" not in result.output


def test_the_oauth_endpoints_leave_the_server_cache_alone(api: Api, client: Any) -> None:
    """Codes, tokens, revocations and introspections change no content a reader sees."""
    cache = api.app.extensions["blog_cache"]
    client_id, secret, _ = code_flow(api, client)  # registers alice: a write
    before = cache.lookup("any").generation
    verifier, challenge = pkce()
    code = get_code(client, client_id, challenge)  # the consent page's POST
    tokens = exchange(client, client_id, secret, code, verifier).get_json()
    auth = basic(client_id, secret)
    client.post(INTROSPECT, data={"token": tokens["access_token"]}, headers=auth)
    client.post(REVOKE, data={"token": tokens["refresh_token"]}, headers=auth)
    assert cache.lookup("any").generation == before


def test_a_client_id_never_starts_with_a_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    # One random id in 64 starts with "-", which `clients delete <id>` would
    # read as an option: such a draw is thrown away.
    draws = iter(["-starts-with-a-dash-0123456789abc", "Fine-id-0123456789abcdefghijklmn"])
    monkeypatch.setattr(oauth_clients.secrets, "token_urlsafe", lambda size: next(draws))
    assert oauth_clients.new_client_id() == "Fine-id-0123456789abcdefghijklmn"
