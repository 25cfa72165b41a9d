"""GET /openapi.json: OpenAPI 3.1 covering every route and schema (blog_api/openapi.py)."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from typing import Any

from sqlalchemy import select

from blog_api import scopes, tokens
from blog_api.models import OAuthClient, User
from blog_api.openapi import PREFIX, ROOT_PATHS, ROUTES, spec_path
from blog_api.schemas import MAX_ID
from tests.blog_api.conftest import PASSWORD, Api, build_app
from tests.blog_api.mailbox import confirmation_token, eml_messages, reset_token
from tests.blog_api.spec_check import SpecCheck


def spec(client: Any) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.get_json()
    return body


#: The keys of a path item that are operations (a path item may also hold ``servers``).
METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Every ``(method, path, operation)`` of the document."""
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def served_endpoints(app: Any) -> dict[tuple[str, str], str]:
    """``(METHOD, documented path) -> endpoint`` for every rule the document should cover."""
    served = {}
    for rule in app.url_map.iter_rules():
        path = spec_path(rule.rule)
        if path is not None:
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                served[(method, path)] = rule.endpoint
    return served


def test_spec_is_openapi_3_1(client: Any) -> None:
    document = spec(client)
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_every_route_is_documented_and_nothing_else(app: Any, client: Any) -> None:
    """Needs the OAuth server's routes (/auth/revoke, /auth/introspect, /.well-known/...)."""
    documented = {(method.upper(), path) for method, path, _ in operations(spec(client))}
    assert documented == set(served_endpoints(app))


def test_every_schema_reference_resolves(client: Any) -> None:
    document = spec(client)
    refs = set(
        re.findall(r'"\$ref": "#/components/schemas/(\w+)"', str(document).replace("'", '"'))
    )
    assert refs and refs <= set(document["components"]["schemas"])
    for name in ("PostIn", "PostOut", "UserOut", "CommentOut", "TokenOut", "ErrorOut"):
        assert name in document["components"]["schemas"]


def test_request_schemas_forbid_unknown_fields(client: Any) -> None:
    schemas = spec(client)["components"]["schemas"]
    assert schemas["PostIn"]["additionalProperties"] is False
    assert set(schemas["PostIn"]["required"]) == {"title", "body"}


def test_protected_operations_declare_bearer_security(client: Any) -> None:
    paths = spec(client)["paths"]
    assert paths["/posts"]["post"]["security"] == [
        {"bearerAuth": []},
        {"oauth2": ["posts:write"]},
    ]
    assert {
        "name": "If-Match",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
    } in paths["/posts/{post_id}"]["patch"]["parameters"]
    assert "412" in paths["/posts/{post_id}"]["patch"]["responses"]


def test_spec_documents_what_the_validators_accept(client: Any) -> None:
    document = spec(client)
    schemas = document["components"]["schemas"]
    assert schemas["PostIn"]["properties"]["tags"]["items"]["pattern"].startswith("^[a-z0-9]")
    # PATCH fields may be left out, but null is refused: the spec must not offer it.
    assert "null" not in str(schemas["PostPatch"]["properties"])
    assert "null" not in str(schemas["UserPatch"]["properties"])
    post_id = document["paths"]["/posts/{post_id}"]["get"]["parameters"][0]["schema"]
    assert post_id["minimum"] == 1 and post_id["maximum"] == MAX_ID


def test_every_operation_documents_401_and_bodies_document_413(client: Any) -> None:
    for method, path, operation in operations(spec(client)):
        assert "401" in operation["responses"], (method, path)
        if "requestBody" in operation:
            # The OAuth endpoints answer any bad form with RFC 6749's 400.
            form = "application/x-www-form-urlencoded" in operation["requestBody"]["content"]
            expected = {"400", "413"} if form else {"400", "413", "415", "422"}
            assert expected <= set(operation["responses"]), (method, path)


def test_the_user_patch_documents_current_password_and_the_new_tokens(client: Any) -> None:
    document = spec(client)
    schemas = document["components"]["schemas"]
    properties = schemas["UserPatch"]["properties"]
    assert properties["current_password"]["type"] == "string"
    assert properties["password"]["minLength"] == 8 and properties["password"]["maxLength"] >= 64
    operation = document["paths"]["/users/{user_id}"]["patch"]
    success = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert success == {"$ref": "#/components/schemas/UserUpdateOut"}
    assert "tokens" in schemas["UserUpdateOut"]["properties"]
    assert {"403", "422", "429"} <= set(operation["responses"])


def test_per_page_is_documented_with_the_maximum_the_server_enforces(
    framework: str, config: dict[str, Any]
) -> None:
    """Read from the app's own PER_PAGE_MAX, and probed: the limit passes, one more is a 400."""
    config["PER_PAGE_MAX"] = 7
    app = build_app(framework, config)
    client = app.test_client()
    lists = []
    for path, operations in spec(client)["paths"].items():
        for parameter in operations.get("get", {}).get("parameters", []):
            if parameter["name"] == "per_page":
                assert parameter["schema"]["maximum"] == 7
                assert parameter["schema"]["minimum"] == 1
                lists.append(path)
    assert sorted(lists) == ["/posts", "/posts/{post_id}/comments", "/tags", "/users"]
    api = Api(app, client)
    api.create_post(api.user("alice"))  # post 1, so its comment list exists
    for path in lists:
        url = f"/api/v1{path.replace('{post_id}', '1')}"
        assert client.get(f"{url}?per_page=7").status_code == 200
        assert client.get(f"{url}?per_page=8").status_code == 400
        assert client.get(f"{url}?per_page=0").status_code == 400
    app.extensions["blog_db"].engine.dispose()


def test_tags_document_their_paging_parameters(client: Any) -> None:
    parameters = spec(client)["paths"]["/tags"]["get"]["parameters"]
    query = {p["name"]: p["schema"] for p in parameters if p["in"] == "query"}
    assert set(query) == {"page", "per_page"}  # no cursor: /tags refuses one
    assert query["page"]["maximum"] == 100_000
    assert client.get("/api/v1/tags?page=100000&per_page=100").status_code == 200
    assert client.get("/api/v1/tags?page=100001").status_code == 400
    assert client.get("/api/v1/tags?cursor=").status_code == 400


def test_reads_document_304_and_the_headers_of_every_answer(client: Any) -> None:
    document = spec(client)
    for method, path, operation in operations(document):
        responses = operation["responses"]
        assert "X-Request-ID" in responses["401"]["headers"], (method, path)
        assert "WWW-Authenticate" in responses["401"]["headers"], (method, path)
        if method == "get":
            assert set(responses["304"]["headers"]) >= {"ETag", "Cache-Control", "Vary"}
            assert "ETag" in responses["200"]["headers"], path
        if "201" in responses:
            assert "Location" in responses["201"]["headers"], path
        if "429" in responses:
            assert "Retry-After" in responses["429"]["headers"], path
    assert document["components"]["headers"]["Link"]["required"] is False
    assert "Link" in document["paths"]["/posts"]["get"]["responses"]["200"]["headers"]


def test_the_oauth2_scheme_describes_the_code_flow_and_the_third_party_scopes(
    client: Any,
) -> None:
    schemes = spec(client)["components"]["securitySchemes"]
    assert schemes["oauth2"]["type"] == "oauth2"
    flow = schemes["oauth2"]["flows"]["authorizationCode"]
    assert flow["authorizationUrl"] == "/oauth/authorize"
    assert flow["tokenUrl"] == flow["refreshUrl"] == "/api/v1/auth/token"
    assert set(flow["scopes"]) == set(scopes.THIRD_PARTY)  # never "account"
    assert flow["scopes"]["posts:read"] == scopes.DESCRIPTIONS["posts:read"]
    assert schemes["bearerAuth"]["scheme"] == "bearer"


def test_each_operation_names_the_scope_the_server_enforces(app: Any, client: Any) -> None:
    """The document's scopes come from the table the hook enforces, for the served endpoint."""
    served = served_endpoints(app)
    documented = {(method.upper(), path): op for method, path, op in operations(spec(client))}
    for route in ROUTES:
        key = (route.method.upper(), route.path)
        if key in served:
            assert served[key] == route.endpoint, key
    for key, endpoint in served.items():
        security = documented[key].get("security", [])
        if {"bearerAuth": []} in security:
            needed = scopes.required(endpoint)
            assert {"oauth2": [needed] if needed else []} in security, key
            assert ("403" in documented[key]["responses"]) == (needed is not None), key


def test_a_missing_scope_is_a_documented_403_with_its_challenge(client: Any) -> None:
    paths = spec(client)["paths"]
    refused = paths["/posts"]["get"]["responses"]["403"]
    assert "insufficient_scope" in refused["description"]
    assert refused["headers"]["WWW-Authenticate"] == {
        "$ref": "#/components/headers/WWW-Authenticate"
    }
    # Where a 403 has other causes too (not the author), the challenge is optional.
    patch = paths["/posts/{post_id}"]["patch"]["responses"]["403"]
    assert patch["headers"]["WWW-Authenticate"]["required"] is False
    assert "403" not in paths["/auth/logout"]["post"]["responses"]  # any token will do


def test_the_token_endpoint_offers_the_code_and_refresh_grants_only(client: Any) -> None:
    document = spec(client)
    token = document["paths"]["/auth/token"]["post"]
    assert "RFC 9700" in token["description"] and "retired" in token["description"]
    form = document["components"]["schemas"]["TokenForm"]
    assert form["properties"]["grant_type"]["enum"] == ["authorization_code", "refresh_token"]
    assert {"code", "redirect_uri", "code_verifier", "client_secret"} <= set(form["properties"])
    assert "password" not in form["properties"]
    assert token["security"] == [{"clientBasic": []}, {}]
    granted = document["components"]["schemas"]["TokenOut"]["properties"]["scope"]
    assert granted["type"] == "string"


def test_revocation_and_introspection_are_documented(client: Any) -> None:
    """The document only; the endpoints themselves are the OAuth server's."""
    document = spec(client)
    schemas = document["components"]["schemas"]
    form = schemas["TokenLookupForm"]
    assert form["required"] == ["token"]
    assert set(form["properties"]) == {"token", "token_type_hint", "client_id", "client_secret"}
    for path, answer in (
        ("/auth/revoke", "RevocationOut"),
        ("/auth/introspect", "IntrospectionOut"),
    ):
        operation = document["paths"][path]["post"]
        body = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]
        assert body["schema"] == {"$ref": "#/components/schemas/TokenLookupForm"}
        assert operation["security"] == [{"clientBasic": []}, {}]
        success = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert success == {"$ref": f"#/components/schemas/{answer}"}
        error = operation["responses"]["400"]["content"]["application/json"]["schema"]
        assert {"$ref": "#/components/schemas/OAuthErrorOut"} in error["anyOf"]
    assert schemas["RevocationOut"]["properties"] == {}
    assert schemas["RevocationOut"]["additionalProperties"] is False
    introspection = schemas["IntrospectionOut"]
    assert introspection["required"] == ["active"]
    assert set(introspection["properties"]) == {
        "active",
        "scope",
        "client_id",
        "username",
        "sub",
        "token_type",
        "exp",
        "iat",
        "iss",
    }


def test_the_authorization_server_metadata_is_documented_at_the_sites_root(
    client: Any,
) -> None:
    document = spec(client)
    item = document["paths"]["/.well-known/oauth-authorization-server"]
    assert item["servers"][0]["url"] == "/"  # not under /api/v1 (RFC 8414 §3)
    success = item["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert success == {"$ref": "#/components/schemas/AuthorizationServerMetadata"}
    metadata = document["components"]["schemas"]["AuthorizationServerMetadata"]
    properties = metadata["properties"]
    assert (
        set(metadata["required"])
        == set(properties)
        >= {
            "issuer",
            "authorization_endpoint",
            "token_endpoint",
            "revocation_endpoint",
            "introspection_endpoint",
            "scopes_supported",
            "code_challenge_methods_supported",
        }
    )
    assert properties["grant_types_supported"]["items"]["enum"] == [
        "authorization_code",
        "refresh_token",
    ]
    assert properties["code_challenge_methods_supported"]["items"]["const"] == "S256"
    assert properties["authorization_response_iss_parameter_supported"]["const"] is True


class Recorder:
    """Sends requests through the test client and checks every answer against the document."""

    def __init__(self, app: Any, client: Any) -> None:
        self.client = client
        self.check = SpecCheck(app, spec(client))
        self.seen: dict[tuple[str, str], set[int]] = defaultdict(set)
        self.problems: list[str] = []

    def __call__(self, method: str, url: str, **kwargs: Any) -> Any:
        """Send one request; note its status for its operation and any mismatch."""
        response = self.client.open(url, method=method, **kwargs)
        path = url.split("?")[0]
        found = self.check.operation(method, path)
        assert found is not None, f"{method} {url} reaches no documented operation"
        self.seen[(method, found[0])].add(response.status_code)
        headers = response.headers.to_wsgi_list()
        self.problems += self.check.problems(method, path, response.status_code, headers)
        return response

    def revalidate(self, url: str, headers: dict[str, str] | None = None) -> None:
        """GET ``url``, then again with its ETag in If-None-Match (a 304)."""
        first = self("GET", url, headers=headers)
        again = {**(headers or {}), "If-None-Match": first.headers["ETag"]}
        assert self("GET", url, headers=again).status_code == 304

    def operations(self) -> list[tuple[str, str, dict[str, Any]]]:
        """Every documented ``(METHOD, path template, operation)``."""
        return [
            (method.upper(), path, operation)
            for method, path, operation in operations(self.check.spec)
        ]


def test_every_answer_the_server_gives_is_documented(
    framework: str, config: dict[str, Any]
) -> None:
    """Each operation, driven through its documented statuses: status and headers match.

    Also the other way round: every status the document lists for an
    operation is provoked here, so the document promises nothing the server
    never does.
    """
    config["LOGIN_MAX_FAILURES"] = 2
    app = build_app(framework, config)
    call, api = Recorder(app, app.test_client()), Api(app, app.test_client())
    ids = _documented_scenarios(call, api)
    assert call.problems == [], "\n".join(call.problems)
    documented = {
        (method, path, int(status))
        for method, path, operation in call.operations()
        for status in operation["responses"]
    }
    seen = {
        (method, path, status) for (method, path), codes in call.seen.items() for status in codes
    }
    assert documented == seen, sorted(documented ^ seen)
    assert ids  # the scenarios ran on real rows
    app.extensions["blog_db"].engine.dispose()


def _documented_scenarios(call: Recorder, api: Api) -> dict[str, int]:
    """Drive every operation through its answers; return the ids it used."""
    alice, bob = api.user("alice"), api.user("bob")
    post = api.create_post(alice, tags=["t"])
    api.create_post(alice, title="Two")
    comment = api.comment(bob, post["id"])
    ids = {"post_id": post["id"], "comment_id": comment["id"], "user_id": post["author"]["id"]}
    _every_operation(call, ids, alice, api.user("frank"))
    _reads(call, ids, alice)
    _accounts(call, alice, bob)
    _password_reset(call, api)
    _email_confirmation(call, api, ids)
    _oauth(call, api, ids)
    _writes(call, ids, alice, bob)
    return ids


def _url(template: str, **ids: int) -> str:
    prefix = "" if template.startswith(ROOT_PATHS) else PREFIX
    return prefix + template.format(**ids)


def _every_operation(
    call: Recorder, ids: dict[str, int], alice: dict[str, str], frank: dict[str, str]
) -> None:
    """What any operation answers: an untrusted Host, a bad token, an unknown id, bad bodies.

    Bad bodies to log out go with frank's token: a bad body must leave it
    valid (nothing is revoked), but alice's is needed afterwards either way.
    """
    for method, template, operation in call.operations():
        url = _url(template, **ids)
        assert call(method, url, headers={"Host": "evil.example"}).status_code == 400
        assert call(method, url, headers={"Authorization": "Bearer junk"}).status_code == 401
        if "{" in template:
            unknown = _url(template, **{name: MAX_ID for name in ids})
            body = {"title": "t", "body": "b"} if method in {"PUT", "PATCH"} else None
            assert call(method, unknown, headers=alice, json=body).status_code == 404
        if "requestBody" in operation:
            auth = frank if template == "/auth/logout" else alice
            _bad_bodies(call, method, url, operation, auth)


def _bad_bodies(
    call: Recorder, method: str, url: str, operation: dict[str, Any], token: dict[str, str]
) -> None:
    """Malformed, mistyped, invalid and oversized bodies."""
    auth = token if "security" in operation else {}
    form = "application/x-www-form-urlencoded" in operation["requestBody"]["content"]
    kind = "application/x-www-form-urlencoded" if form else "application/json"
    too_large = b"{" + b" " * (1024 * 1024)
    call(method, url, headers=auth, data=too_large, content_type=kind)
    call(method, url, headers=auth, data="x", content_type="text/plain")
    if not form:
        call(method, url, headers=auth, data="{", content_type="application/json")
        call(method, url, headers=auth, json={"no_such_field": 1})


def _reads(call: Recorder, ids: dict[str, int], alice: dict[str, str]) -> None:
    """Every read: 200, then 304 on revalidation; lists: a bad parameter, cursor pages."""
    for method, template, _ in call.operations():
        if method == "GET":
            call.revalidate(_url(template, **ids), headers=alice if "/me" in template else None)
    for template in ("/users", "/posts", "/posts/{post_id}/comments", "/tags"):
        assert call("GET", _url(template, **ids) + "?per_page=0").status_code == 400
    # A cursor page with a next page has a Link; the last one has none.
    assert "Link" in call("GET", f"{PREFIX}/posts?per_page=1&cursor=").headers
    assert "Link" not in call("GET", f"{PREFIX}/posts?per_page=50&cursor=").headers


def _password_reset(call: Recorder, api: Api) -> None:
    """Asking for a link (202, then 429 when asked too often) and spending it (204, then 400)."""
    ask = f"{PREFIX}/auth/password-reset"
    api.register("grace")
    grace = {"email": "grace@example.com"}
    statuses = [call("POST", ask, json=grace).status_code for _ in range(3)]
    assert statuses == [202, 202, 429]  # LOGIN_MAX_FAILURES is 2 in this test
    confirm = f"{PREFIX}/auth/password-reset/confirm"
    spend = {"token": reset_token(eml_messages(api.app)[-1]), "new_password": "a new passphrase"}
    assert call("POST", confirm, json=spend).status_code == 204
    assert call("POST", confirm, json=spend).status_code == 400


def _email_confirmation(call: Recorder, api: Api, ids: dict[str, int]) -> None:
    """Refused publishing while unconfirmed (if required), resending, confirming."""
    heidi = api.user("heidi")
    api.app.config["REQUIRE_CONFIRMED_EMAIL"] = True
    post = {"title": "t", "body": "b", "status": "published"}
    assert call("POST", f"{PREFIX}/posts", json=post, headers=heidi).status_code == 403
    comment = _url("/posts/{post_id}/comments", **ids)
    assert call("POST", comment, json={"body": "hi"}, headers=heidi).status_code == 403
    resend = f"{PREFIX}/auth/confirm-email/resend"
    statuses = [call("POST", resend, headers=heidi).status_code for _ in range(3)]
    assert statuses == [202, 202, 429]  # LOGIN_MAX_FAILURES is 2 in this test
    mails = [m for m in eml_messages(api.app) if m["To"] == "heidi@example.com"]
    token = confirmation_token(mails[-1])
    confirm = f"{PREFIX}/auth/confirm-email"
    assert call("POST", confirm, json={"token": token}).status_code == 204
    assert call("POST", confirm, json={"token": token}).status_code == 400
    assert call("POST", resend, headers=heidi).status_code == 409
    assert call("POST", comment, json={"body": "hi"}, headers=heidi).status_code == 201
    api.app.config["REQUIRE_CONFIRMED_EMAIL"] = False


def _oauth(call: Recorder, api: Api, ids: dict[str, int]) -> None:
    """A registered app: revocation and introspection; its tokens refused outside their scope.

    Every operation that needs a scope is called with a token of the app
    that was granted another one: 403 ``insufficient_scope``, before the view.
    """
    with api.app.extensions["blog_db"].session_factory() as session:
        # A registered confidential client, as the registration command stores one.
        secret = "app-secret"
        app = OAuthClient(
            client_id="app",
            secret_hash=hashlib.sha256(secret.encode()).hexdigest(),
            name="App",
            redirect_uris="https://app.example/cb",
            scope=" ".join(scopes.THIRD_PARTY),
        )
        session.add(app)
        frank = session.scalars(select(User).filter_by(username="frank")).one()
        settings = tokens.TokenSettings.from_config(api.app.config)
        granted = {
            scope: tokens.issue_token_pair(
                session, frank, settings, client_id=app.client_id, scope=scope
            ).access_token
            for scope in ("posts:read", "profile")
        }
        session.commit()
        client = {"client_id": app.client_id, "client_secret": secret}
    revoke = call("POST", f"{PREFIX}/auth/revoke", data={"token": "unknown", **client})
    assert revoke.status_code == 200 and revoke.get_json() == {}
    look = call("POST", f"{PREFIX}/auth/introspect", data={"token": "unknown", **client})
    assert look.status_code == 200 and look.get_json() == {"active": False}
    for method, template, operation in call.operations():
        needed = _oauth2_scope(operation)
        if needed:
            other = "profile" if needed[0] != "profile" else "posts:read"
            headers = Api.bearer(granted[other])
            assert call(method, _url(template, **ids), headers=headers).status_code == 403


def _oauth2_scope(operation: dict[str, Any]) -> list[str]:
    """The scopes the operation's oauth2 security requirement names (empty: none)."""
    for requirement in operation.get("security", []):
        if "oauth2" in requirement:
            scope: list[str] = requirement["oauth2"]
            return scope
    return []


def _accounts(call: Recorder, alice: dict[str, str], bob: dict[str, str]) -> None:
    """Registering, logging in and out, tokens, profile changes: successes and refusals."""
    carol = {"username": "carol", "email": "carol@example.com", "password": PASSWORD}
    assert call("POST", f"{PREFIX}/auth/register", json=carol).status_code == 201
    assert call("POST", f"{PREFIX}/auth/register", json=carol).status_code == 409
    login = {"username": "carol", "password": PASSWORD}
    pair = call("POST", f"{PREFIX}/auth/login", json=login).get_json()
    wrong = {"username": "carol", "password": "not her password"}
    statuses = [call("POST", f"{PREFIX}/auth/login", json=wrong).status_code for _ in range(3)]
    assert statuses[-1] == 429 and statuses[0] == 401
    token = f"{PREFIX}/auth/token"
    bobs = call("POST", f"{PREFIX}/auth/login", json={"username": "bob", "password": PASSWORD})
    grant = {"grant_type": "refresh_token", "refresh_token": bobs.get_json()["refresh_token"]}
    assert call("POST", token, data=grant).status_code == 200
    assert call("POST", token, data={"grant_type": "nope"}).status_code == 400
    retired = {"grant_type": "password", "username": "bob", "password": PASSWORD}
    assert call("POST", token, data=retired).status_code == 400
    refresh = {"refresh_token": pair["refresh_token"]}
    fresh = call("POST", f"{PREFIX}/auth/refresh", json=refresh).get_json()
    assert call("POST", f"{PREFIX}/auth/refresh", json=refresh).status_code == 401  # reused
    carol_auth = Api.bearer(fresh["access_token"])
    assert call("POST", f"{PREFIX}/auth/logout", headers=carol_auth).status_code == 204
    _profile_changes(call, alice, bob)


def _profile_changes(call: Recorder, alice: dict[str, str], bob: dict[str, str]) -> None:
    """PATCH and DELETE of users: stale If-Match, someone else, a taken name, passwords."""
    me = call("GET", f"{PREFIX}/users/me", headers=alice).get_json()
    url = f"{PREFIX}/users/{me['id']}"
    stale = {**alice, "If-Match": '"stale"'}
    assert call("PATCH", url, headers=stale, json={"username": "alice2"}).status_code == 412
    assert call("PATCH", url, headers=bob, json={"username": "alice2"}).status_code == 403
    assert call("PATCH", url, headers=alice, json={"username": "bob"}).status_code == 409
    assert call("PATCH", url, headers=alice, json={"username": "alice2"}).status_code == 200
    change = {"password": "a new passphrase", "current_password": "not hers"}
    statuses = [call("PATCH", url, headers=alice, json=change).status_code for _ in range(3)]
    assert statuses == [403, 403, 429]
    bob_id = call("GET", f"{PREFIX}/users/me", headers=bob).get_json()["id"]
    change = {"password": "a new passphrase", "current_password": PASSWORD}
    changed = call("PATCH", f"{PREFIX}/users/{bob_id}", headers=bob, json=change)
    assert changed.status_code == 200 and changed.headers["Pragma"] == "no-cache"
    assert call("DELETE", url, headers=stale).status_code == 412
    bob = Api.bearer(changed.get_json()["tokens"]["access_token"])
    assert call("DELETE", url, headers=bob).status_code == 403
    assert call("DELETE", f"{PREFIX}/users/{bob_id}", headers=bob).status_code == 204


def _writes(
    call: Recorder, ids: dict[str, int], alice: dict[str, str], bob: dict[str, str]
) -> None:
    """Posts and comments: created, changed and deleted, or refused for the wrong caller."""
    new = {"title": "t", "body": "b", "status": "published"}
    created = call("POST", f"{PREFIX}/posts", headers=alice, json=new)
    post = _url("/posts/{post_id}", post_id=created.get_json()["id"])
    stale = {**alice, "If-Match": '"stale"'}
    other = api_user(call, "erin")
    for method, body in (("PUT", new), ("PATCH", {"title": "u"})):
        assert call(method, post, headers=stale, json=body).status_code == 412
        assert call(method, post, headers=other, json=body).status_code == 403
        assert call(method, post, headers=alice, json=body).status_code == 200
    comments = f"{post}/comments"
    comment = call("POST", comments, headers=alice, json={"body": "hi"}).get_json()
    url = _url("/comments/{comment_id}", comment_id=comment["id"])
    assert call("DELETE", url, headers=other).status_code == 403
    assert call("DELETE", url, headers=stale).status_code == 412
    assert call("DELETE", url, headers=alice).status_code == 204
    assert call("DELETE", post, headers=other).status_code == 403
    assert call("DELETE", post, headers=stale).status_code == 412
    assert call("DELETE", post, headers=alice).status_code == 204


def api_user(call: Recorder, name: str) -> dict[str, str]:
    """Register ``name`` through the recorder and return their Authorization header."""
    account = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
    call("POST", f"{PREFIX}/auth/register", json=account)
    login = call("POST", f"{PREFIX}/auth/login", json={"username": name, "password": PASSWORD})
    return Api.bearer(login.get_json()["access_token"])
