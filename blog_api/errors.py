"""The error taxonomy of blog_api: one small hierarchy, one JSON shape.

Framework-neutral. Services raise these; the web layer's error handlers turn
them (and Werkzeug's HTTP errors, and unhandled exceptions) into the same body::

    {"error": "<message>", "code": <status>, "type": "<machine code>",
     "details": [...]}            # details only for 400/422

Modelled on Starlette's tiny ``exceptions.py`` rather than a class per status.
"""

from __future__ import annotations

from typing import Any


class APIError(Exception):
    """Base class: an HTTP status, a machine-readable code and a message.

    Args:
        message: human-readable text for the ``error`` field.
        details: per-field problems (a list of ``{"field", "message"}``).
        headers: extra response headers (``WWW-Authenticate``, ``Retry-After``).
    """

    status: int = 500
    code: str = "internal_error"
    message: str = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details
        self.headers = headers or {}

    def to_dict(self) -> dict[str, Any]:
        """The JSON body every error response carries."""
        body: dict[str, Any] = {"error": self.message, "code": self.status, "type": self.code}
        if self.details is not None:
            body["details"] = self.details
        return body


class BadRequest(APIError):
    """400: the request itself is malformed (bad JSON, bad query parameter)."""

    status, code, message = 400, "bad_request", "Bad request"


class Unauthorized(APIError):
    """401: no credentials, or credentials that were refused.

    RFC 6750 §3: the response carries a ``WWW-Authenticate: Bearer`` challenge;
    ``error="invalid_token"`` is added only when a token was presented (§3.1).
    """

    status, code, message = 401, "unauthorized", "Authentication required"

    def __init__(self, message: str | None = None, *, token_error: str | None = None) -> None:
        challenge = 'Bearer realm="blog_api"'
        if token_error:
            description = (message or self.message).replace('"', "'")
            challenge += f', error="{token_error}", error_description="{description}"'
        super().__init__(message, headers={"WWW-Authenticate": challenge})


class Forbidden(APIError):
    """403: authenticated, but not allowed (not the author, not an admin)."""

    status, code, message = 403, "forbidden", "You may not do this"


class InsufficientScope(APIError):
    """403: the access token is good, but was not granted the scope this endpoint needs.

    RFC 6750 §3.1: the challenge says ``error="insufficient_scope"`` and names
    the scope needed, so a third-party app knows what to ask the user for.
    The body is ours, with ``type: "insufficient_scope"``.
    """

    status, code = 403, "insufficient_scope"

    def __init__(self, scope: str) -> None:
        message = f"The access token lacks the {scope!r} scope this needs"
        challenge = (
            f'Bearer realm="blog_api", error="insufficient_scope", scope="{scope}", '
            f'error_description="{message}"'
        )
        super().__init__(message, headers={"WWW-Authenticate": challenge})
        self.scope = scope


class NotFound(APIError):
    """404: no such resource, or one the caller may not see (drafts)."""

    status, code, message = 404, "not_found", "Not found"


class Conflict(APIError):
    """409: the change clashes with existing data (a taken username)."""

    status, code, message = 409, "conflict", "Conflict"


class PreconditionFailed(APIError):
    """412: ``If-Match`` named a version that is no longer current."""

    status, code, message = 412, "precondition_failed", "The resource has changed"


class UnsupportedMediaType(APIError):
    """415: the body is not ``application/json``."""

    status, code, message = 415, "unsupported_media_type", "Expected application/json"


class ValidationError(APIError):
    """422: well-formed JSON whose fields break the schema."""

    status, code, message = 422, "validation_error", "Invalid request body"


class TooManyRequests(APIError):
    """429: rate limited; ``Retry-After`` says for how many seconds."""

    status, code, message = 429, "too_many_requests", "Too many requests"

    def __init__(self, message: str | None = None, *, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after))})
        self.retry_after = retry_after


class OAuthError(APIError):
    """An error of the OAuth2 token endpoint, shaped as RFC 6749 §5.2 requires.

    ``error`` carries the RFC's code (``invalid_grant``...) because OAuth2
    client libraries read it; ``code`` is still the HTTP status, as everywhere.
    """

    status = 400

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
        self.status = status
        self.code = error

    def to_dict(self) -> dict[str, Any]:
        """``{"error": <RFC code>, "error_description": ..., "code": <status>}``."""
        return {"error": self.code, "error_description": self.message, "code": self.status}
