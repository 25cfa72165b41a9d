"""Request and response schemas (pydantic v2).

Framework-neutral. Request models forbid unknown fields and use strict types,
so ``{"title": 5}`` or ``{"titel": "x"}`` is a 422 with per-field details
instead of being coerced or ignored. Query-string models are lax (every query
value arrives as a string) but still forbid unknown parameters, so a typo such
as ``?per_pgae=5`` is reported instead of silently ignored. Response models
document the API (``openapi.py`` renders them) and serialise ORM objects.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    WithJsonSchema,
    create_model,
    field_validator,
)

from blog_api import passwords

#: Ids have at most this many digits. A bound is needed: PostgreSQL's INTEGER
#: primary keys stop at 2**31 - 1, and a larger number sent to the database is
#: an error there (and an ``OverflowError`` in SQLite past 2**63 - 1), not "no
#: such row". Nine digits keeps the bound below that and expressible as a plain
#: regular expression in the URL converter (``web.IdConverter``).
ID_DIGITS = 9
MAX_ID = 10**ID_DIGITS - 1


def json_datetime(value: datetime) -> str:
    """A UTC timestamp as the API writes it: ISO 8601 with ``Z``, as pydantic's JSON mode does.

    ``2026-12-02T15:07:05.123456Z``; whole seconds drop the fraction. Used
    where rows are rendered without a model (``services/posts.py``).
    """
    return value.isoformat().replace("+00:00", "Z")


def normalise_username(username: str) -> str:
    """The one spelling of a username that is stored and compared: case-folded.

    ``Carol`` and ``carol`` are one account. The pattern allows ASCII only, so
    case-folding is plain lower-casing here (and matches SQL ``lower()``, which
    the database's unique index uses).
    """
    return username.casefold()


def normalise_email(email: str) -> str:
    """The one spelling of an e-mail address that is stored and compared: lower-case.

    RFC 5321 lets the part before the @ be case-sensitive, but the big mail
    providers treat it case-insensitively and people type it both ways, so
    ``Carol@Example.com`` and ``carol@example.com`` are one account here. An
    address whose provider really distinguishes case cannot register twice;
    that is the price of not having two accounts for one person.
    """
    return email.lower()


# Normalised after the pattern check (an AfterValidator keeps the pattern in
# the JSON Schema, which a BeforeValidator would hide).
Username = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_.-]{2,31}$"),
    AfterValidator(normalise_username),
]
Email = Annotated[EmailStr, AfterValidator(normalise_email)]
#: A new password: only the length rules live in the schema (so OpenAPI shows
#: them); ``passwords.check_new_password`` adds the rules that need the account.
Password = Annotated[
    str, StringConstraints(min_length=passwords.MIN_LENGTH, max_length=passwords.MAX_LENGTH)
]
#: A password being checked, not chosen: accounts made before the policy (or
#: seeded) may have any password, so only the bounds of ``LoginIn`` apply.
CurrentPassword = Annotated[str, StringConstraints(min_length=1, max_length=passwords.MAX_LENGTH)]


def _normalise_tag(value: Any) -> Any:
    """Tags compare case-insensitively: " Python " and "python" are one tag."""
    return value.strip().lower() if isinstance(value, str) else value


# The pattern is checked after normalising (StringConstraints alone checks it first).
TAG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,31}$"
TagName = Annotated[
    str,
    BeforeValidator(_normalise_tag),
    StringConstraints(pattern=TAG_PATTERN),
    # pydantic leaves the pattern out of the JSON Schema when a BeforeValidator
    # comes first; the spec must still tell clients what a tag looks like.
    WithJsonSchema({"type": "string", "pattern": TAG_PATTERN}),
]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Body = Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
CommentBody = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)
]
Status = Literal["draft", "published"]
SortKey = Literal["created_at", "-created_at", "updated_at", "-updated_at", "title", "-title"]


def reject_nul(value: Any) -> Any:
    """Refuse U+0000 in a string (or in a list of strings).

    PostgreSQL's ``text`` cannot hold the NUL character, so a string carrying
    one would fail inside the database as a 500; SQLite would store it and
    break consumers written in C. Refusing it at the edge makes it a 4xx on
    every backend.
    """
    items = value if isinstance(value, list) else [value]
    if any(isinstance(item, str) and "\x00" in item for item in items):
        raise ValueError("may not contain the NUL character (U+0000)")
    return value


class RequestModel(BaseModel):
    """Base of JSON request bodies: unknown fields, coercion and NULs are errors."""

    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        return reject_nul(value)


def _without_null(schema: dict[str, Any]) -> None:
    """Document PATCH fields as optional but not nullable, which is what we accept.

    The fields are typed ``X | None = None`` only so that they may be left
    out; pydantic would advertise ``null`` as a valid value.
    """
    for field_schema in schema.get("properties", {}).values():
        options = field_schema.get("anyOf", [])
        not_null = [option for option in options if option.get("type") != "null"]
        if len(not_null) == 1 and len(options) == 2:
            del field_schema["anyOf"]
            field_schema.update(not_null[0])
        field_schema.pop("default", None)


class PatchModel(RequestModel):
    """Base of PATCH bodies: any subset of fields, but never an explicit null."""

    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra=_without_null)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nulls(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null; leave the field out to keep it")
        return value


class RegisterIn(RequestModel):
    """POST /auth/register."""

    username: Username
    email: Email
    password: Password


class LoginIn(RequestModel):
    """POST /auth/login."""

    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: CurrentPassword


class RefreshIn(RequestModel):
    """POST /auth/refresh and (optionally) POST /auth/logout."""

    refresh_token: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class PasswordResetIn(RequestModel):
    """POST /auth/password-reset: the address to send a reset link to, if it has an account."""

    email: Email


class ConfirmEmailIn(RequestModel):
    """POST /auth/confirm-email: the token from the confirmation mail."""

    token: Annotated[str, StringConstraints(min_length=1, max_length=256)]


class PasswordResetConfirmIn(RequestModel):
    """POST /auth/password-reset/confirm: the token from the mail and the new password."""

    token: Annotated[str, StringConstraints(min_length=1, max_length=256)]
    new_password: Password


class UserPatch(PatchModel):
    """PATCH /users/<id>: change any of username, email, password, notify_on_comments.

    Changing the password or the e-mail also needs ``current_password``: the
    password of whoever makes the change (the user, or the admin changing
    someone else's account). A stolen access token alone cannot take over the
    account.
    """

    username: Username | None = None
    email: Email | None = None
    password: Password | None = Field(
        None,
        description=f"The new password: {passwords.MIN_LENGTH} to {passwords.MAX_LENGTH} "
        "characters; not one of the most common passwords, and not containing the "
        "username or the e-mail's local part. "
        "Changing it logs the user out everywhere.",
    )
    current_password: CurrentPassword | None = Field(
        None,
        description="The caller's own password; required to change password or email.",
    )
    notify_on_comments: bool | None = Field(
        None, description="Whether comments by others on the user's posts are mailed to them."
    )


class PostIn(RequestModel):
    """POST /posts and PUT /posts/<id>: a whole post."""

    title: Title
    body: Body
    tags: Annotated[list[TagName], Field(max_length=10)] = []
    status: Status = "draft"


class PostPatch(PatchModel):
    """PATCH /posts/<id>: any subset of a post's fields."""

    title: Title | None = None
    body: Body | None = None
    tags: Annotated[list[TagName], Field(max_length=10)] | None = None
    status: Status | None = None


class CommentIn(RequestModel):
    """POST /posts/<id>/comments."""

    body: CommentBody


class QueryModel(BaseModel):
    """Base of query-string models: lax types, unknown parameters and NULs refused."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul_characters(cls, value: Any) -> Any:
        return reject_nul(value)

    page: int = Field(1, ge=1, le=100_000)
    per_page: int | None = Field(None, ge=1)
    cursor: str | None = Field(None, max_length=512)


class PostListQuery(QueryModel):
    """GET /posts filters and sort order."""

    author: Username | None = None
    author_id: int | None = Field(None, ge=1, le=MAX_ID)
    tag: TagName | None = None
    status: Status | None = None
    q: str | None = Field(None, min_length=1, max_length=100)
    sort: SortKey = "-created_at"


class AuthorOut(BaseModel):
    """The author of a post or comment, as embedded in it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str


class UserOut(BaseModel):
    """A user. Email, its confirmation, mail settings and last login: only for self and admins."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    email: str | None = None
    is_admin: bool
    created_at: datetime
    updated_at: datetime
    last_login_at: datetime | None = None
    #: When the address was confirmed (the mailed link); null until then.
    email_confirmed_at: datetime | None = None
    #: Whether comments by others on this user's posts are mailed to them.
    notify_on_comments: bool | None = None


class PostOut(BaseModel):
    """A post."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    body: str
    tags: list[str]
    status: Status
    author: AuthorOut
    created_at: datetime
    updated_at: datetime

    @field_validator("tags", mode="before")
    @classmethod
    def _tag_names(cls, value: Any) -> Any:
        return [getattr(tag, "name", tag) for tag in value]


class CommentOut(BaseModel):
    """A comment."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    post_id: int
    body: str
    author: AuthorOut
    created_at: datetime
    updated_at: datetime


class TagOut(BaseModel):
    """A tag and how many published posts carry it."""

    name: str
    post_count: int


class TokenOut(BaseModel):
    """The token response (RFC 6749 §5.1).

    ``scope`` is there for third-party apps only: what they were granted
    (``blog_api/scopes.py``). The blog's own log in may do everything and
    gets no ``scope``.
    """

    # Left out when absent, never null: documented without null.
    model_config = ConfigDict(json_schema_extra=_without_null)

    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str | None = None


class RevocationOut(BaseModel):
    """RFC 7009 §2.2: a revocation answers 200 with an empty object, known token or not."""

    model_config = ConfigDict(extra="forbid")


class IntrospectionOut(BaseModel):
    """RFC 7662 §2.2: what the blog knows of a token; only ``active`` when it is not active.

    An inactive token (unknown, expired, revoked, or another client's) says
    nothing else, so the endpoint tells a client no more than "no".
    """

    # The optional members are left out, never null: documented without null.
    model_config = ConfigDict(json_schema_extra=_without_null)

    active: bool
    scope: str | None = None
    client_id: str | None = None
    username: str | None = None
    sub: str | None = None
    token_type: str | None = None
    exp: int | None = None
    iat: int | None = None
    iss: str | None = None


class AuthorizationServerMetadata(BaseModel):
    """RFC 8414 §2: where the OAuth endpoints are and what they support."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str
    introspection_endpoint: str
    scopes_supported: list[str]
    response_types_supported: list[Literal["code"]]
    grant_types_supported: list[Literal["authorization_code", "refresh_token"]]
    code_challenge_methods_supported: list[Literal["S256"]]
    token_endpoint_auth_methods_supported: list[
        Literal["client_secret_basic", "client_secret_post", "none"]
    ]
    authorization_response_iss_parameter_supported: Literal[True]


class AcceptedOut(BaseModel):
    """A 202: the request was taken; what happens next happens later (a mail, say)."""

    message: str


class UserUpdateOut(UserOut):
    """The answer to PATCH /users/<id>: the user, and new tokens after a password change.

    Changing one's own password revokes every token the caller had, including
    the one that made the request, so ``tokens`` hands over a fresh pair to
    carry on with. It is present only then (not when an admin changes someone
    else's password: the admin's own tokens stay valid).
    """

    tokens: TokenOut | None = None


class ErrorDetail(BaseModel):
    """One problem with one field."""

    field: str
    message: str
    type: str


class ErrorOut(BaseModel):
    """The body of every error response."""

    error: str
    code: int
    type: str
    details: list[ErrorDetail] | None = None
    request_id: str | None = None


class OAuthErrorOut(BaseModel):
    """Errors of the OAuth2 token endpoint (RFC 6749 §5.2), plus our ``code``."""

    error: str
    error_description: str
    code: int


def _page_model(name: str, item: type[BaseModel]) -> type[BaseModel]:
    """A list response: page-numbered (page/per_page/total) or keyset (next_cursor)."""
    fields: dict[str, Any] = {
        "items": (list[item], ...),  # type: ignore[valid-type]  # built at run time
        "page": (int | None, None),
        "per_page": (int | None, None),
        "total": (int | None, None),
        "next_cursor": (str | None, None),
    }
    return create_model(name, **fields)


UserList = _page_model("UserList", UserOut)
PostList = _page_model("PostList", PostOut)
CommentList = _page_model("CommentList", CommentOut)
TagList = _page_model("TagList", TagOut)


def error_details(errors: list[Any]) -> list[dict[str, str]]:
    """Turn pydantic's ``ValidationError.errors()`` into our ``details`` list."""
    details = []
    for error in errors:
        field = ".".join(str(part) for part in error.get("loc", ())) or "body"
        details.append({"field": field, "message": error["msg"], "type": error["type"]})
    return details
