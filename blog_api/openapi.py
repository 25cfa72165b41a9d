"""The OpenAPI 3.1 description of the API, built from the pydantic schemas.

Framework-neutral. ``ROUTES`` is the route table, written out once here; the
spec's ``components.schemas`` come straight from the pydantic models
(OpenAPI 3.1 *is* JSON Schema 2020-12, which pydantic v2 emits), so the
documented bodies cannot drift from the validated ones. A test checks that
every URL rule of the app appears in ``ROUTES`` and vice versa.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from blog_api import schemas
from blog_api.config import DEFAULTS
from blog_api.tags import TagListQuery

PREFIX = "/api/v1"
REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Route:
    """One operation: method, path (OpenAPI style), and what it takes and returns."""

    method: str
    path: str
    summary: str
    status: int
    response: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    auth: str = "none"  # "none" | "optional" | "required"
    form: bool = False
    errors: tuple[int, ...] = field(default=())


class TokenForm(BaseModel):
    """The token endpoint's form fields (RFC 6749 §4.3.2 and §6)."""

    grant_type: str
    username: str | None = None
    password: str | None = None
    refresh_token: str | None = None
    scope: str | None = None
    client_id: str | None = None


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
    ),
    Route(
        "post",
        "/auth/login",
        "Log in with JSON credentials",
        200,
        schemas.TokenOut,
        schemas.LoginIn,
        errors=(400, 401, 415, 422, 429),
    ),
    Route(
        "post",
        "/auth/token",
        "OAuth2 token endpoint (password, refresh_token grants)",
        200,
        schemas.TokenOut,
        TokenForm,
        form=True,
        errors=(400, 429),
    ),
    Route(
        "post",
        "/auth/refresh",
        "Rotate a refresh token",
        200,
        schemas.TokenOut,
        schemas.RefreshIn,
        errors=(400, 401, 415, 422),
    ),
    Route(
        "post",
        "/auth/logout",
        "Revoke the access token (and a refresh token)",
        204,
        body=schemas.RefreshIn,
        auth="required",
        errors=(401,),
    ),
    Route(
        "post",
        "/auth/password-reset",
        "Mail a password reset link (the same 202 whether or not the address has an account)",
        202,
        schemas.AcceptedOut,
        schemas.PasswordResetIn,
        errors=(400, 415, 422, 429),
    ),
    Route(
        "post",
        "/auth/password-reset/confirm",
        "Set a new password with a reset token (logs the account out everywhere)",
        204,
        body=schemas.PasswordResetConfirmIn,
        errors=(400, 415, 422),
    ),
    Route(
        "post",
        "/auth/confirm-email",
        "Confirm the e-mail address with the mailed token",
        204,
        body=schemas.ConfirmEmailIn,
        errors=(400, 415, 422),
    ),
    Route(
        "post",
        "/auth/confirm-email/resend",
        "Mail a new confirmation link (409 when already confirmed)",
        202,
        schemas.AcceptedOut,
        auth="required",
        errors=(401, 409, 429),
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
    ),
    Route(
        "get",
        "/users/me",
        "The authenticated user",
        200,
        schemas.UserOut,
        auth="required",
        errors=(401,),
    ),
    Route(
        "get", "/users/{user_id}", "A user", 200, schemas.UserOut, auth="optional", errors=(404,)
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
    ),
    Route(
        "delete",
        "/users/{user_id}",
        "Delete a user and their content",
        204,
        auth="required",
        errors=(401, 403, 404, 412),
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
    ),
    Route(
        "get", "/posts/{post_id}", "A post", 200, schemas.PostOut, auth="optional", errors=(404,)
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
    ),
    Route(
        "delete",
        "/posts/{post_id}",
        "Delete a post",
        204,
        auth="required",
        errors=(401, 403, 404, 412),
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
    ),
    Route(
        "get",
        "/comments/{comment_id}",
        "A comment",
        200,
        schemas.CommentOut,
        auth="optional",
        errors=(404,),
    ),
    Route(
        "delete",
        "/comments/{comment_id}",
        "Delete a comment",
        204,
        auth="required",
        errors=(401, 403, 404, 412),
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
    ),
    Route("get", "/openapi.json", "This document", 200),
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
    schemas.ErrorOut,
    schemas.OAuthErrorOut,
    schemas.UserList,
    schemas.PostList,
    schemas.CommentList,
    schemas.TagList,
    TokenForm,
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
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def _component_schemas() -> dict[str, Any]:
    """Every model's JSON Schema, with ``$ref``s pointing into components."""
    _, top = models_json_schema([(model, "validation") for model in _MODELS], ref_template=REF)
    return dict(top.get("$defs", {}))


def _paths(per_page_max: int) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method] = _operation(route, per_page_max)
    return paths


def _operation(route: Route, per_page_max: int) -> dict[str, Any]:
    """One operation object: parameters, body, responses, security."""
    operation: dict[str, Any] = {
        "summary": route.summary,
        "operationId": f"{route.method}_{route.path}".replace("/", "_").strip("_"),
        "parameters": _parameters(route, per_page_max),
        "responses": _responses(route),
    }
    if route.body is not None:
        media = "application/x-www-form-urlencoded" if route.form else "application/json"
        operation["requestBody"] = {
            "required": route.method != "post" or route.auth != "required" or route.status != 204,
            "content": {media: {"schema": {"$ref": REF.format(model=route.body.__name__)}}},
        }
    if route.auth == "required":
        operation["security"] = [{"bearerAuth": []}]
    elif route.auth == "optional":
        operation["security"] = [{}, {"bearerAuth": []}]
    return operation


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
        # Every read goes through Werkzeug's make_conditional (web.respond).
        responses["304"] = {
            "description": "Not Modified: If-None-Match named the current ETag; no body",
            "headers": _header_refs(_not_modified_headers(route)),
        }
    body_errors = (_WITH_FORM if route.form else _WITH_BODY) if route.body else ()
    for status in sorted({*route.errors, *_ALWAYS_POSSIBLE, *body_errors}):
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
    return {
        "description": f"Error {status}",
        "content": {"application/json": {"schema": schema}},
        "headers": headers,
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
    if route.response is schemas.TokenOut:
        names.append("Pragma")  # auth.TOKEN_HEADERS
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
        "was sent and refused.",
        "required": True,
        "schema": {"type": "string", "pattern": "^Bearer "},
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
