"""Scopes: every API endpoint needs one from a Bearer token (blog_api/scopes.py, hooks.py).

Third-party tokens are made the way the authorisation server makes them:
``tokens.issue_token_pair`` with a registered client's id and a granted scope.
"""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from sqlalchemy import select

from blog_api import scopes
from blog_api.models import OAuthClient, User
from blog_api.tokens import TokenPair, TokenSettings, create_access_token, issue_token_pair
from tests.blog_api.conftest import PASSWORD, Api
from tests.blog_api.test_logs import request_records

PREFIX = "/api/v1"


def third_party(app: Any, username: str, scope: str, client_id: str = "app") -> TokenPair:
    """A token pair of ``username`` for the registered app ``client_id``, granted ``scope``."""
    with app.extensions["blog_db"].session_factory() as session:
        if session.scalars(select(OAuthClient).filter_by(client_id=client_id)).first() is None:
            session.add(
                OAuthClient(
                    client_id=client_id,
                    name=f"The {client_id} app",
                    redirect_uris="https://app.example/callback",
                    scope=" ".join(scopes.THIRD_PARTY),
                )
            )
        user = session.scalars(select(User).filter_by(username=username)).one()
        settings = TokenSettings.from_config(app.config)
        pair = issue_token_pair(session, user, settings, client_id=client_id, scope=scope)
        session.commit()
    return pair


def app_headers(app: Any, scope: str, username: str = "alice") -> dict[str, str]:
    """The Authorization header of a third-party token of ``username`` granted ``scope``."""
    return Api.bearer(third_party(app, username, scope).access_token)


def assert_insufficient_scope(response: Any, needed: str) -> None:
    """A 403 as RFC 6750 §3.1 has it, in the API's error body."""
    assert response.status_code == 403, response.get_json()
    body = response.get_json()
    assert body["type"] == "insufficient_scope" and body["code"] == 403
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="insufficient_scope"' in challenge
    assert f'scope="{needed}"' in challenge


# The table itself.


def test_every_api_endpoint_is_listed_explicitly(app: Any) -> None:
    """Adding an endpoint without deciding its scope fails here (it would be first party only)."""
    unlisted = {
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(PREFIX) or rule.endpoint.split(".")[0] in scopes.API_BLUEPRINTS
    } - set(scopes.ENDPOINT_SCOPES)
    assert unlisted == set()


def test_every_listed_endpoint_exists(app: Any) -> None:
    """No entry for an endpoint that is gone (or misnamed). Needs the OAuth server's routes."""
    served = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(scopes.ENDPOINT_SCOPES) - served == set()


def test_every_scope_has_a_description_and_the_table_names_only_scopes() -> None:
    assert set(scopes.DESCRIPTIONS) == set(scopes.FIRST_PARTY)
    assert set(scopes.ENDPOINT_SCOPES.values()) <= {*scopes.FIRST_PARTY, None}
    assert scopes.ACCOUNT not in scopes.THIRD_PARTY


def test_parse_splits_on_spaces_and_none_is_every_scope() -> None:
    assert scopes.parse("posts:read  profile") == {"posts:read", "profile"}
    assert scopes.parse("") == frozenset()
    assert scopes.parse(None) == set(scopes.FIRST_PARTY)


def test_an_unlisted_api_endpoint_is_first_party_only_and_the_site_needs_nothing() -> None:
    assert scopes.required("posts.some_new_endpoint") == scopes.ACCOUNT
    assert scopes.required("site.index") is None
    assert scopes.required("static") is None
    assert scopes.required("posts.create_post") == "posts:write"
    assert scopes.required("auth.logout") is None


# Through the API.


def test_a_read_only_app_reads_drafts_but_cannot_write(
    api: Any, app: Any, client: Any, alice: dict[str, str]
) -> None:
    draft = api.create_post(alice, status="draft")
    reader = app_headers(app, "posts:read")
    assert client.get(f"{PREFIX}/posts/{draft['id']}", headers=reader).status_code == 200
    listed = client.get(f"{PREFIX}/posts?status=draft&author=alice", headers=reader)
    assert [post["id"] for post in listed.get_json()["items"]] == [draft["id"]]
    post = {"title": "By the app", "body": "b"}
    assert_insufficient_scope(
        client.post(f"{PREFIX}/posts", json=post, headers=reader), "posts:write"
    )
    comment = client.post(
        f"{PREFIX}/posts/{draft['id']}/comments", json={"body": "hi"}, headers=reader
    )
    assert_insufficient_scope(comment, "comments:write")
    # Nothing was written.
    assert client.get(f"{PREFIX}/posts", headers=alice).get_json()["total"] == 1


def test_an_app_with_posts_write_creates_posts_as_its_user(
    app: Any, client: Any, alice: dict[str, str]
) -> None:
    writer = app_headers(app, "posts:read posts:write")
    created = client.post(f"{PREFIX}/posts", json={"title": "t", "body": "b"}, headers=writer)
    assert created.status_code == 201
    assert created.get_json()["author"]["username"] == "alice"


def test_an_app_with_comments_write_comments_but_cannot_post(
    api: Any, app: Any, client: Any, alice: dict[str, str]
) -> None:
    post = api.create_post(alice)
    commenter = app_headers(app, "comments:write")
    url = f"{PREFIX}/posts/{post['id']}/comments"
    assert client.post(url, json={"body": "hi"}, headers=commenter).status_code == 201
    edit = client.patch(f"{PREFIX}/posts/{post['id']}", json={"title": "x"}, headers=commenter)
    assert_insufficient_scope(edit, "posts:write")


def test_a_token_without_the_read_scope_is_refused_even_on_public_reads(
    api: Any, app: Any, client: Any, alice: dict[str, str]
) -> None:
    """A presented token is always checked; the public answer needs no token at all."""
    api.create_post(alice)
    profile_only = app_headers(app, "profile")
    assert_insufficient_scope(client.get(f"{PREFIX}/posts", headers=profile_only), "posts:read")
    assert_insufficient_scope(client.get(f"{PREFIX}/tags", headers=profile_only), "posts:read")
    assert client.get(f"{PREFIX}/posts").status_code == 200


def test_profile_scope_shows_the_users_own_address(
    app: Any, client: Any, alice: dict[str, str]
) -> None:
    assert_insufficient_scope(
        client.get(f"{PREFIX}/users/me", headers=app_headers(app, "posts:read")), "profile"
    )
    me = client.get(f"{PREFIX}/users/me", headers=app_headers(app, "profile"))
    assert me.status_code == 200 and me.get_json()["email"] == "alice@example.com"


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("PATCH", "/users/{id}", {"username": "mallory"}),
        ("PATCH", "/users/{id}", {"password": "a new passphrase", "current_password": PASSWORD}),
        ("DELETE", "/users/{id}", None),
        ("POST", "/auth/confirm-email/resend", None),
    ],
)
def test_no_app_may_touch_the_account(
    app: Any, client: Any, alice: dict[str, str], method: str, path: str, body: Any
) -> None:
    """Even an app granted every third-party scope: the account stays first party."""
    me = client.get(f"{PREFIX}/users/me", headers=alice).get_json()
    everything = app_headers(app, " ".join(scopes.THIRD_PARTY))
    url = PREFIX + path.format(id=me["id"])
    response = client.open(url, method=method, json=body, headers=everything)
    assert_insufficient_scope(response, scopes.ACCOUNT)
    # Still alice, with her password and her tokens.
    assert client.get(f"{PREFIX}/users/me", headers=alice).get_json()["username"] == "alice"


def test_first_party_tokens_can_do_everything_as_before(
    api: Any, client: Any, alice: dict[str, str]
) -> None:
    pair = api.login("alice")
    assert "scope" not in pair  # the first-party token response is unchanged
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    assert scopes.parse(claims["scope"]) == set(scopes.FIRST_PARTY)
    assert "client_id" not in claims
    me = client.get(f"{PREFIX}/users/me", headers=alice)
    changed = client.patch(
        f"{PREFIX}/users/{me.get_json()['id']}",
        json={"username": "alice2"},
        headers={**alice, "If-Match": me.headers["ETag"]},
    )
    assert changed.status_code == 200
    api.create_post(alice)


def test_a_token_from_before_scopes_counts_as_first_party(api: Any, app: Any, client: Any) -> None:
    """Tokens issued before this change have no ``scope`` claim; they live 15 minutes."""
    user = api.register("alice")
    settings = TokenSettings.from_config(app.config)
    token = create_access_token(user["id"], settings)
    claims = jwt.decode(token, options={"verify_signature": False})
    del claims["scope"]
    old = Api.bearer(jwt.encode(claims, settings.secret_key, algorithm="HS256"))
    response = client.delete(f"{PREFIX}/users/{user['id']}", headers=old)
    assert response.status_code == 204


@pytest.mark.parametrize(
    "claims",
    [
        {"scope": "posts:read admin"},
        {"scope": ["posts:read"]},
        {"scope": "posts:read account", "client_id": "app"},
        {"client_id": "app"},
        {"scope": "posts:read", "client_id": 7},
    ],
    ids=repr,
)
def test_a_forged_grant_is_a_401_malformed(
    api: Any, app: Any, client: Any, claims: dict[str, Any]
) -> None:
    """Signed with the app's key, but no grant the blog would make: not a token of ours."""
    user = api.register("alice")
    settings = TokenSettings.from_config(app.config)
    good = jwt.decode(
        create_access_token(user["id"], settings), options={"verify_signature": False}
    )
    good.pop("scope")
    token = jwt.encode({**good, **claims}, settings.secret_key, algorithm="HS256")
    response = client.get(f"{PREFIX}/users/me", headers=Api.bearer(token))
    assert response.status_code == 401
    assert response.get_json()["error"] == "The access token is malformed"


def test_any_token_may_log_itself_out(app: Any, client: Any, alice: dict[str, str]) -> None:
    token = app_headers(app, "profile")
    assert client.post(f"{PREFIX}/auth/logout", headers=token).status_code == 204
    assert client.get(f"{PREFIX}/users/me", headers=token).status_code == 401


def test_a_refused_scope_is_logged_with_its_user(
    app: Any, client: Any, alice: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    reader = app_headers(app, "posts:read")
    caplog.clear()
    client.post(f"{PREFIX}/posts", json={"title": "t", "body": "b"}, headers=reader)
    (line,) = request_records(caplog)
    assert (line["method"], line["status"]) == ("POST", 403)
    assert line["user_id"] is not None
