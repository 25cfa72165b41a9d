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
        errors=(400, 401, 415, 422),
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
        errors=(400, 401, 404, 415, 422),
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
        auth="optional",
        errors=(400,),
    ),
    Route("get", "/openapi.json", "This document", 200),
)

_MODELS: tuple[type[BaseModel], ...] = (
    schemas.RegisterIn,
    schemas.LoginIn,
    schemas.RefreshIn,
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


def build_spec() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "blog_api",
            "version": "1.0.0",
            "description": "A blog REST API written once for the Flask API; runs on Flask "
            "and miniflask.",
        },
        "servers": [{"url": PREFIX}],
        "paths": _paths(),
        "components": {
            "schemas": _component_schemas(),
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def _component_schemas() -> dict[str, Any]:
    """Every model's JSON Schema, with ``$ref``s pointing into components."""
    _, top = models_json_schema([(model, "validation") for model in _MODELS], ref_template=REF)
    return dict(top.get("$defs", {}))


def _paths() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method] = _operation(route)
    return paths


def _operation(route: Route) -> dict[str, Any]:
    """One operation object: parameters, body, responses, security."""
    operation: dict[str, Any] = {
        "summary": route.summary,
        "operationId": f"{route.method}_{route.path}".replace("/", "_").strip("_"),
        "parameters": _parameters(route),
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


def _parameters(route: Route) -> list[dict[str, Any]]:
    """Path parameters from ``{name}`` segments, query parameters from the query model."""
    params = [
        {"name": part[1:-1], "in": "path", "required": True, "schema": _ID_SCHEMA}
        for part in route.path.split("/")
        if part.startswith("{")
    ]
    if route.query is not None:
        schema = route.query.model_json_schema()
        for name, prop in schema.get("properties", {}).items():
            params.append({"name": name, "in": "query", "required": False, "schema": prop})
    for name in ("If-Match",) if route.method in {"put", "patch", "delete"} else ():
        params.append(
            {"name": name, "in": "header", "required": False, "schema": {"type": "string"}}
        )
    return params


def _responses(route: Route) -> dict[str, Any]:
    """The success response and the documented error responses."""
    success: dict[str, Any] = {"description": route.summary}
    if route.response is not None:
        ref = {"$ref": REF.format(model=route.response.__name__)}
        success["content"] = {"application/json": {"schema": ref}}
    elif route.path == "/openapi.json":
        success["content"] = {"application/json": {"schema": {"type": "object"}}}
    responses: dict[str, Any] = {str(route.status): success}
    for status in sorted({*route.errors, *_ALWAYS_POSSIBLE, *(_WITH_BODY if route.body else ())}):
        # The token endpoint's own errors use RFC 6749's shape; the 401 of the
        # auth hook and the framework's 413 come before it and use ours.
        model = "OAuthErrorOut" if route.form and status in route.errors else "ErrorOut"
        responses[str(status)] = {
            "description": f"Error {status}",
            "content": {"application/json": {"schema": {"$ref": REF.format(model=model)}}},
        }
    return responses


#: Any operation answers 401 when the request carries a bad Bearer token
#: (RFC 6750 §3.1: even public endpoints tell the client its token is no good).
_ALWAYS_POSSIBLE = (401,)
#: Any request with a body can be too large (MAX_CONTENT_LENGTH), malformed,
#: of the wrong media type, or invalid.
_WITH_BODY = (400, 413, 415, 422)
