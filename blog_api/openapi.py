"""The OpenAPI 3.1 description of the API, built from the pydantic schemas.

Framework-neutral. ``ROUTES`` is the route table, written out once here; the
spec's ``components.schemas`` come straight from the pydantic models
(OpenAPI 3.1 *is* JSON Schema 2020-12, which pydantic v2 emits), so the
documented bodies cannot drift from the validated ones. A test checks that
every URL rule of the app appears in ``ROUTES`` and vice versa.

Security is documented twice over, as the API takes it: the ``bearerAuth``
scheme (any Bearer access token, such as the blog's own log in issues) and
the ``oauth2`` scheme (the authorization code flow third-party apps use),
each operation naming the scope it needs. That scope comes from
``scopes.required`` for the route's endpoint: the table the server enforces,
not a copy of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from blog_api import schemas, scopes
from blog_api.config import DEFAULTS
from blog_api.tags import TagListQuery

PREFIX = "/api/v1"
REF = "#/components/schemas/{model}"
#: Paths served from the site's root rather than under ``PREFIX``: RFC 8414
#: §3 puts the metadata at ``/.well-known/`` on the issuer's host.
ROOT_PATHS = ("/.well-known/",)


@dataclass(frozen=True)
class Route:
    """One operation: method, path (OpenAPI style), and what it takes and returns.

    ``auth`` says who calls it: ``"none"`` (anyone, no credentials),
    ``"optional"`` (anyone; a Bearer token changes the answer),
    ``"required"`` (a Bearer token) or ``"client"`` (an OAuth client,
    authenticated as RFC 6749 §2.3 has it). ``endpoint`` is the view's
    endpoint name, which finds the operation's scope in ``scopes``.
    """

    method: str
    path: str
    summary: str
    status: int
    response: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    auth: Literal["none", "optional", "required", "client"] = "none"
    form: bool = False
    errors: tuple[int, ...] = field(default=())
    description: str = ""
    endpoint: str = field(kw_only=True)


class TokenForm(BaseModel):
    """The token endpoint's form fields (RFC 6749 §4.1.3 and §6, RFC 7636 §4.5).

    ``client_id`` and ``client_secret`` are the ``client_secret_post``
    method; a public client sends ``client_id`` alone.
    """

    grant_type: Literal["authorization_code", "refresh_token"]
    code: str | None = None
    redirect_uri: str | None = None
    code_verifier: str | None = None
    refresh_token: str | None = None
    scope: str | None = None
    client_id: str | None = None
    client_secret: str | None = None


class TokenLookupForm(BaseModel):
    """The form of revocation (RFC 7009 §2.1) and introspection (RFC 7662 §2.1)."""

    token: str
    token_type_hint: Literal["access_token", "refresh_token"] | None = None
    client_id: str | None = None
    client_secret: str | None = None


TOKEN_DESCRIPTION = (
    "RFC 6749 token endpoint. Grants: authorization_code (§4.1.3), with the PKCE "
    "code_verifier (RFC 7636, S256 only), for registered apps after the user allowed "
    "them on /oauth/authorize; and refresh_token (§6), which rotates the refresh token "
    "and keeps its client and scope. A refresh_token request without client "
    "credentials refreshes a token of the blog's own log in, as /auth/refresh does. "
    "The password grant is retired (RFC 9700 §2.4: it MUST NOT be used); the blog's own "
    "apps log in with /auth/login."
)
CLIENT_AUTH = (
    " The client authenticates with HTTP Basic (client_secret_basic) or with "
    "client_id and client_secret in the form (client_secret_post); a public client "
    "sends client_id alone."
)


_WRITE_ERRORS = (400, 401, 403, 404, 412, 415, 422)
ROUTES: tuple[Route, ...] = (
    Route(
        "post",
        "/auth/register",
        "Register a user",
        201,
        schemas.UserOut,
        schemas.RegisterIn,
        errors=(400, 409, 413, 415, 422),
        endpoint="auth.register",
    ),
    Route(
        "post",
        "/auth/login",
        "Log in with JSON credentials",
        200,
        schemas.TokenOut,
        schemas.LoginIn,
        errors=(400, 401, 415, 422, 429),
        endpoint="auth.login",
    ),
    Route(
        "post",
        "/auth/token",
        "OAuth2 token endpoint (authorization_code with PKCE, refresh_token grants)",
        200,
        schemas.TokenOut,
        TokenForm,
        auth="client",
        form=True,
        errors=(400, 401),
        description=TOKEN_DESCRIPTION + CLIENT_AUTH,
        endpoint="auth.token",
    ),
    Route(
        "post",
        "/auth/revoke",
        "Revoke a token (RFC 7009)",
        200,
        schemas.RevocationOut,
        TokenLookupForm,
        auth="client",
        form=True,
        errors=(400, 401),
        description="A client revokes one of its own tokens: a refresh token with its "
        "whole family, or an access token. The answer is 200 with {} whether or not "
        "the token was known (RFC 7009 §2.2)." + CLIENT_AUTH,
        endpoint="auth.revoke",
    ),
    Route(
        "post",
        "/auth/introspect",
        "Describe a token (RFC 7662)",
        200,
        schemas.IntrospectionOut,
        TokenLookupForm,
        auth="client",
        form=True,
        errors=(400, 401),
        description="Whether a token is active, and if so its scope, client, user and "
        "lifetime. A token that is unknown, expired, revoked or another client's is "
        "{active: false} and nothing more (RFC 7662 §2.2)." + CLIENT_AUTH,
        endpoint="auth.introspect",
    ),
    Route(
        "post",
        "/auth/refresh",
        "Rotate a refresh token",
        200,
        schemas.TokenOut,
        schemas.RefreshIn,
        errors=(400, 401, 415, 422),
        endpoint="auth.refresh",
    ),
    Route(
        "post",
        "/auth/logout",
        "Revoke the access token (and a refresh token)",
        204,
        body=schemas.RefreshIn,
        auth="required",
        errors=(401,),
        endpoint="auth.logout",
    ),
    Route(
        "post",
        "/auth/password-reset",
        "Mail a password reset link (the same 202 whether or not the address has an account)",
        202,
        schemas.AcceptedOut,
        schemas.PasswordResetIn,
        errors=(400, 415, 422, 429),
        endpoint="auth.password_reset",
    ),
    Route(
        "post",
        "/auth/password-reset/confirm",
        "Set a new password with a reset token (logs the account out everywhere)",
        204,
        body=schemas.PasswordResetConfirmIn,
        errors=(400, 415, 422),
        endpoint="auth.password_reset_confirm",
    ),
    Route(
        "post",
        "/auth/confirm-email",
        "Confirm the e-mail address with the mailed token",
        204,
        body=schemas.ConfirmEmailIn,
        errors=(400, 415, 422),
        endpoint="auth.confirm_email",
    ),
    Route(
        "post",
        "/auth/confirm-email/resend",
        "Mail a new confirmation link (409 when already confirmed)",
        202,
        schemas.AcceptedOut,
        auth="required",
        errors=(401, 409, 429),
        endpoint="auth.resend_confirmation",
    ),
    Route(
        "get",
        "/users",
        "List users",
        200,
        schemas.UserList,
        query=schemas.QueryModel,
        auth="optional",
        errors=(400,),
        endpoint="users.list_users",
    ),
    Route(
        "get",
        "/users/me",
        "The authenticated user",
        200,
        schemas.UserOut,
        auth="required",
        errors=(401,),
        endpoint="users.get_me",
    ),
    Route(
        "get",
        "/users/{user_id}",
        "A user",
        200,
        schemas.UserOut,
        auth="optional",
        errors=(404,),
        endpoint="users.get_user",
    ),
    Route(
        "patch",
        "/users/{user_id}",
        "Change a user (password and email need current_password)",
        200,
        schemas.UserUpdateOut,
        schemas.UserPatch,
        auth="required",
        # 403 also for a wrong current_password; 429 when too many were wrong.
        errors=(*_WRITE_ERRORS, 409, 429),
        endpoint="users.patch_user",
    ),
    Route(
        "delete",
        "/users/{user_id}",
        "Delete a user and their content",
        204,
        auth="required",
        errors=(401, 403, 404, 412),
        endpoint="users.delete_user",
    ),
    Route(
        "get",
        "/posts",
        "List posts",
        200,
        schemas.PostList,
        query=schemas.PostListQuery,
        auth="optional",
        errors=(400,),
        endpoint="posts.list_posts",
    ),
    Route(
        "post",
        "/posts",
        "Create a post",
        201,
        schemas.PostOut,
        schemas.PostIn,
        auth="required",
        # 403: a published post by an unconfirmed user (BLOG_REQUIRE_CONFIRMED_EMAIL).
        errors=(400, 401, 403, 415, 422),
        endpoint="posts.create_post",
    ),
    Route(
        "get",
        "/posts/{post_id}",
        "A post",
        200,
        schemas.PostOut,
        auth="optional",
        errors=(404,),
        endpoint="posts.get_post",
    ),
    Route(
        "put",
        "/posts/{post_id}",
        "Replace a post",
        200,
        schemas.PostOut,
        schemas.PostIn,
        auth="required",
        errors=_WRITE_ERRORS,
        endpoint="posts.replace_post",
    ),
    Route(
        "patch",
        "/posts/{post_id}",
        "Change some fields of a post",
        200,
        schemas.PostOut,
        schemas.PostPatch,
        auth="required",
        errors=_WRITE_ERRORS,
        endpoint="posts.patch_post",
    ),
    Route(
        "delete",
        "/posts/{post_id}",
        "Delete a post",
        204,
        auth="required",
        errors=(401, 403, 404, 412),
        endpoint="posts.delete_post",
    ),
    Route(
        "get",
        "/posts/{post_id}/comments",
        "List a post's comments",
        200,
        schemas.CommentList,
        query=schemas.QueryModel,
        auth="optional",
        errors=(400, 404),
        endpoint="comments.list_comments",
    ),
    Route(
        "post",
        "/posts/{post_id}/comments",
        "Comment on a post",
        201,
        schemas.CommentOut,
        schemas.CommentIn,
        auth="required",
        errors=(400, 401, 403, 404, 415, 422),
        endpoint="comments.create_comment",
    ),
    Route(
        "get",
        "/comments/{comment_id}",
        "A comment",
        200,
        schemas.CommentOut,
        auth="optional",
        errors=(404,),
        endpoint="comments.get_comment",
    ),
    Route(
        "delete",
        "/comments/{comment_id}",
        "Delete a comment",
        204,
        auth="required",
        errors=(401, 403, 404, 412),
        endpoint="comments.delete_comment",
    ),
    Route(
        "get",
        "/tags",
        "Tags of published posts",
        200,
        schemas.TagList,
        query=TagListQuery,
        auth="optional",
        errors=(400,),
        endpoint="tags.list_tags",
    ),
    Route("get", "/openapi.json", "This document", 200, endpoint="meta.openapi"),
    Route(
        "get",
        "/.well-known/oauth-authorization-server",
        "OAuth 2.0 authorization server metadata (RFC 8414)",
        200,
        schemas.AuthorizationServerMetadata,
        description="Where the authorization, token, revocation and introspection "
        "endpoints are, and what they support: the code flow with PKCE (S256), the "
        "refresh_token grant, the third-party scopes, the iss parameter (RFC 9207).",
        endpoint="meta.oauth_authorization_server",
    ),
)

_MODELS: tuple[type[BaseModel], ...] = (
    schemas.RegisterIn,
    schemas.LoginIn,
    schemas.RefreshIn,
    schemas.PasswordResetIn,
    schemas.PasswordResetConfirmIn,
    schemas.ConfirmEmailIn,
    schemas.AcceptedOut,
    schemas.UserPatch,
    schemas.PostIn,
    schemas.PostPatch,
    schemas.CommentIn,
    schemas.UserOut,
    schemas.UserUpdateOut,
    schemas.PostOut,
    schemas.CommentOut,
    schemas.TagOut,
    schemas.TokenOut,
    schemas.RevocationOut,
    schemas.IntrospectionOut,
    schemas.AuthorizationServerMetadata,
    schemas.ErrorOut,
    schemas.OAuthErrorOut,
    schemas.UserList,
    schemas.PostList,
    schemas.CommentList,
    schemas.TagList,
    TokenForm,
    TokenLookupForm,
)


def build_spec(per_page_max: int = DEFAULTS["PER_PAGE_MAX"]) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document.

    Args:
        per_page_max: the largest ``per_page`` the server accepts (the app's
            ``PER_PAGE_MAX``, which the meta blueprint passes), so the
            documented limit is the enforced one.
    """
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "blog_api",
            "version": "1.0.0",
            "description": "A blog REST API written once for the Flask API; runs on Flask "
            "and miniflask.",
        },
        "servers": [{"url": PREFIX}],
        "paths": _paths(per_page_max),
        "components": {
            "schemas": _component_schemas(),
            "headers": HEADERS,
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


#: ``components.securitySchemes``. URLs are relative: to the server's host
#: (OpenAPI 3.1 resolves them against the server URL), not to ``PREFIX``.
SECURITY_SCHEMES: dict[str, Any] = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token from /auth/login (every scope) or from the "
        "oauth2 flow (the scopes granted).",
    },
    "oauth2": {
        "type": "oauth2",
        "description": "The authorization code flow with PKCE (S256) for third-party "
        "apps; the user allows the scopes on the consent page. Changing the account "
        "(password, e-mail address, deleting it) is never granted to an app.",
        "flows": {
            "authorizationCode": {
                "authorizationUrl": "/oauth/authorize",
                "tokenUrl": f"{PREFIX}/auth/token",
                "refreshUrl": f"{PREFIX}/auth/token",
                "scopes": {name: scopes.DESCRIPTIONS[name] for name in scopes.THIRD_PARTY},
            }
        },
    },
    "clientBasic": {
        "type": "http",
        "scheme": "basic",
        "description": "OAuth client authentication (client_secret_basic, RFC 6749 "
        "§2.3.1): the client id and secret. Or the form's client_id and client_secret "
        "(client_secret_post), or client_id alone for a public client.",
    },
}


def spec_path(rule: str) -> str | None:
    """The document's path for a URL rule of the app, or ``None`` if it is not the API's.

    Example::

        >>> spec_path("/api/v1/posts/<id:post_id>")
        '/posts/{post_id}'
    """
    if rule.startswith(PREFIX):
        rule = rule[len(PREFIX) :]
    elif not rule.startswith(ROOT_PATHS):
        return None
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule)


def _component_schemas() -> dict[str, Any]:
    """Every model's JSON Schema, with ``$ref``s pointing into components."""
    _, top = models_json_schema([(model, "validation") for model in _MODELS], ref_template=REF)
    return dict(top.get("$defs", {}))


def _paths(per_page_max: int) -> dict[str, Any]:
    """The path items, one per path, with an operation per method."""
    paths: dict[str, Any] = {}
    for route in ROUTES:
        item = paths.setdefault(route.path, {})
        if route.path.startswith(ROOT_PATHS):
            # Appended to the site's root instead of the document's /api/v1.
            item["servers"] = [{"url": "/", "description": "The site's root (RFC 8414 §3)"}]
        item[route.method] = _operation(route, per_page_max)
    return paths


def _operation(route: Route, per_page_max: int) -> dict[str, Any]:
    """One operation object: parameters, body, responses, security."""
    operation: dict[str, Any] = {
        "summary": route.summary,
        "operationId": f"{route.method}_{route.path}".replace("/", "_").strip("_"),
        "parameters": _parameters(route, per_page_max),
        "responses": _responses(route),
    }
    if route.description:
        operation["description"] = route.description
    if route.body is not None:
        media = "application/x-www-form-urlencoded" if route.form else "application/json"
        operation["requestBody"] = {
            "required": route.method != "post" or route.auth != "required" or route.status != 204,
            "content": {media: {"schema": {"$ref": REF.format(model=route.body.__name__)}}},
        }
    security = _security(route)
    if security is not None:
        operation["security"] = security
    return operation


def _security(route: Route) -> list[dict[str, list[str]]] | None:
    """The operation's security requirements; ``None``: no credentials at all.

    A token-taking operation lists both schemes, the oauth2 one with the
    scope ``scopes.required`` gives its endpoint (none: any token). An
    optional token adds ``{}``, "no credentials", as the first alternative.
    """
    if route.auth == "client":
        return [{"clientBasic": []}, {}]  # {}: the form's client_id (and secret)
    if route.auth == "none":
        return None
    scope = scopes.required(route.endpoint)
    token: list[dict[str, list[str]]] = [
        {"bearerAuth": []},
        {"oauth2": [] if scope is None else [scope]},
    ]
    return token if route.auth == "required" else [{}, *token]


def _scope(route: Route) -> str | None:
    """The scope a token needs for the operation (``None``: no token, or any token)."""
    return None if route.auth in {"none", "client"} else scopes.required(route.endpoint)


#: Path ids, as ``web.IdConverter`` routes them (other numbers are a 404).
_ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": schemas.MAX_ID}


def _parameters(route: Route, per_page_max: int) -> list[dict[str, Any]]:
    """Path parameters from ``{name}`` segments, query parameters from the query model.

    Conditional request headers too: ``If-None-Match`` on reads (a matching
    ETag is a 304), ``If-Match`` on writes (a stale one is a 412).
    """
    params = [
        {"name": part[1:-1], "in": "path", "required": True, "schema": _ID_SCHEMA}
        for part in route.path.split("/")
        if part.startswith("{")
    ]
    if route.query is not None:
        schema = route.query.model_json_schema()
        for name, prop in schema.get("properties", {}).items():
            prop = _query_schema(prop)
            if name == "per_page":
                prop["maximum"] = per_page_max  # enforced by pagination.bound_per_page
            params.append({"name": name, "in": "query", "required": False, "schema": prop})
    condition = "If-None-Match" if route.method == "get" else "If-Match"
    if route.method in {"get", "put", "patch", "delete"}:
        params.append(
            {"name": condition, "in": "header", "required": False, "schema": {"type": "string"}}
        )
    return params


def _query_schema(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema without pydantic's ``null`` alternative.

    ``X | None = None`` in a query model means "may be left out"; a query
    string cannot carry a null, and an empty value is refused like any other
    value of the wrong type.
    """
    options = [option for option in prop.get("anyOf", []) if option.get("type") != "null"]
    if len(options) != 1:
        return dict(prop)
    schema = {key: value for key, value in prop.items() if key not in {"anyOf", "default"}}
    schema.update(options[0])
    if prop.get("default") is not None:
        schema["default"] = prop["default"]
    return schema


def _responses(route: Route) -> dict[str, Any]:
    """The success response, a 304 for reads, and the documented error responses."""
    success: dict[str, Any] = {"description": route.summary}
    if route.response is not None:
        ref = {"$ref": REF.format(model=route.response.__name__)}
        success["content"] = {"application/json": {"schema": ref}}
    elif route.path == "/openapi.json":
        success["content"] = {"application/json": {"schema": {"type": "object"}}}
    # A user's PATCH carries new tokens (and so Pragma) only after a password change.
    optional = ("Pragma",) if route.response is schemas.UserUpdateOut else ()
    success["headers"] = _header_refs(_success_headers(route), optional=optional)
    responses: dict[str, Any] = {str(route.status): success}
    if route.method == "get":
        # Every read is conditional on If-None-Match (web.respond, web.asks_conditionally).
        responses["304"] = {
            "description": "Not Modified: If-None-Match named the current ETag; no body",
            "headers": _header_refs(_not_modified_headers(route)),
        }
    body_errors = (_WITH_FORM if route.form else _WITH_BODY) if route.body else ()
    scope_error = (403,) if _scope(route) is not None else ()
    for status in sorted({*route.errors, *_ALWAYS_POSSIBLE, *body_errors, *scope_error}):
        responses[str(status)] = _error_response(route, status)
    return responses


def _error_response(route: Route, status: int) -> dict[str, Any]:
    """One error response: our ``ErrorOut``, or RFC 6749's shape from the token endpoint.

    The token endpoint's own errors use RFC 6749's shape; the 401 of the auth
    hook, the framework's 413 and the Host check's 400 come before it and use
    ours, so its 400 may be either.
    """
    oauth = route.form and status in route.errors
    if not oauth:
        schema: dict[str, Any] = {"$ref": REF.format(model="ErrorOut")}
        headers = _header_refs(_error_headers(status))
    elif status in _ALWAYS_POSSIBLE:
        schema = {"anyOf": [{"$ref": REF.format(model=m)} for m in ("OAuthErrorOut", "ErrorOut")]}
        headers = _header_refs(_error_headers(status), optional=_OAUTH_ERROR_HEADERS)
    else:
        schema = {"$ref": REF.format(model="OAuthErrorOut")}
        headers = _header_refs((*_error_headers(status), *_OAUTH_ERROR_HEADERS))
    scope = _scope(route)
    if status == 403 and scope is not None:
        return _forbidden_response(route, scope)
    return {
        "description": f"Error {status}",
        "content": {"application/json": {"schema": schema}},
        "headers": headers,
    }


def _forbidden_response(route: Route, scope: str) -> dict[str, Any]:
    """The 403 of an operation that needs a scope (RFC 6750 §3.1 ``insufficient_scope``).

    Its challenge is always sent when the scope is missing; an operation that
    also refuses for other reasons (not the author) sends it only then.
    """
    other_reasons = 403 in route.errors
    challenge = ("WWW-Authenticate",)
    description = (
        f"Forbidden. type insufficient_scope: the access token lacks the {scope!r} "
        'scope; WWW-Authenticate says error="insufficient_scope" and the scope needed.'
    )
    if other_reasons:
        description += " Other 403s: the caller may not do this (type forbidden)."
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorOut")}}},
        "headers": _header_refs(
            (*_EVERY_RESPONSE, *(() if other_reasons else challenge)),
            optional=challenge if other_reasons else (),
        ),
    }


def _success_headers(route: Route) -> tuple[str, ...]:
    """The headers of an operation's success response (``web.respond`` and friends)."""
    if route.status == 204:
        return _EVERY_RESPONSE  # web.no_content: no body, so no ETag either
    names = [*_EVERY_RESPONSE, "ETag", "Cache-Control"]
    if route.method == "get":
        names.append("Vary")
    if route.query is not None:
        names.append("Link")  # every list: web.page
    if route.status == 201:
        names.append("Location")  # web.created
    if route.response is schemas.TokenOut or route.form:
        names.append("Pragma")  # auth.TOKEN_HEADERS: the OAuth endpoints' answers
    return tuple(names)


def _not_modified_headers(route: Route) -> tuple[str, ...]:
    """A 304 keeps the 200's validators and caching headers, and a list's ``Link``."""
    names = (*_EVERY_RESPONSE, "ETag", "Cache-Control", "Vary")
    return (*names, "Link") if route.query is not None else names


def _error_headers(status: int) -> tuple[str, ...]:
    """The headers of an error response: the challenge of a 401, the wait of a 429."""
    names = list(_EVERY_RESPONSE)
    if status == 401:
        names.append("WWW-Authenticate")
    if status == 429:
        names.append("Retry-After")
    return tuple(names)


def _header_refs(names: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """``{"ETag": {"$ref": "#/components/headers/ETag"}, ...}``.

    Headers in ``optional`` are written out with ``required: false`` instead
    (a reference cannot override the component's ``required``).
    """
    headers: dict[str, Any] = {name: {"$ref": f"#/components/headers/{name}"} for name in names}
    for name in optional:
        headers[name] = {**HEADERS[name], "required": False}
    return headers


#: errors.OAuthError's headers (RFC 6749 §5.2: the token endpoint's errors too).
_OAUTH_ERROR_HEADERS = ("Cache-Control", "Pragma")


#: Set on every response by ``hooks.finish_response``.
_EVERY_RESPONSE = ("X-Request-ID", "X-Content-Type-Options")

#: ``components.headers``: every response header the API sends besides
#: ``Content-Type`` (OpenAPI describes the body's type under ``content`` and
#: ignores a ``Content-Type`` entry here) and the message's own ``Content-Length``
#: and ``Date`` (RFC 9110 §6.6.1; gunicorn adds it to every response).
#: ``required`` means "always present where listed"; only ``Link`` may be
#: missing (the last page in cursor mode has no next page to link to).
HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "description": "This request's id: the client's X-Request-ID when it is 1-128 "
        "characters of [A-Za-z0-9._:-], else a new one. The server's log lines carry it.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$"},
    },
    "X-Content-Type-Options": {
        "description": "Browsers must not guess a content type from the body.",
        "required": True,
        "schema": {"type": "string", "const": "nosniff"},
    },
    "ETag": {
        "description": "Strong entity tag of the representation (a hash of its data). "
        "Send it in If-None-Match to revalidate (304) or in If-Match to write (412 if stale).",
        "required": True,
        "schema": {"type": "string", "pattern": '^"[^"]+"$'},
    },
    "Cache-Control": {
        "description": "public, max-age=N for anonymous reads of public data; "
        "private, no-cache when the answer depends on the caller; no-store for personal "
        "data and tokens.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Vary": {
        "description": "Authorization: the answer to a read depends on who asks.",
        "required": True,
        "schema": {"type": "string"},
    },
    "Link": {
        "description": 'RFC 8288 links to other pages of the list: rel="first", "prev", '
        '"next", "last" with page numbers; only rel="next" in cursor mode, and none on '
        "the last cursor page.",
        "required": False,
        "schema": {"type": "string"},
    },
    "Location": {
        "description": "Absolute URL of the created resource (on a trusted host).",
        "required": True,
        "schema": {"type": "string", "format": "uri"},
    },
    "Pragma": {
        "description": "no-cache: HTTP/1.0 caches must not keep tokens (RFC 6749 §5.1).",
        "required": True,
        "schema": {"type": "string", "const": "no-cache"},
    },
    "WWW-Authenticate": {
        "description": 'RFC 6750 Bearer challenge; error="invalid_token" when a token '
        'was sent and refused, error="insufficient_scope" with the scope needed when a '
        "good token lacks it (403). An OAuth client that failed HTTP Basic "
        "authentication gets a Basic challenge (RFC 6749 §5.2).",
        "required": True,
        "schema": {"type": "string", "pattern": "^(Bearer|Basic) "},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again (RFC 9110 §10.2.3).",
        "required": True,
        "schema": {"type": "string", "pattern": "^[1-9][0-9]*$"},
    },
}


#: Any operation answers 401 when the request carries a bad Bearer token
#: (RFC 6750 §3.1: even public endpoints tell the client its token is no good).
#: Any operation answers 400 to a Host outside TRUSTED_HOSTS (Werkzeug checks
#: it before routing, so even the token endpoint answers it in our shape).
_ALWAYS_POSSIBLE = (400, 401)
#: Any request with a body can be too large (MAX_CONTENT_LENGTH), malformed,
#: of the wrong media type, or invalid.
_WITH_BODY = (400, 413, 415, 422)
#: The token endpoint's form: too large, or anything else wrong with it, which
#: RFC 6749 §5.2 answers with 400 invalid_request (never 415 or 422).
_WITH_FORM = (400, 413)
