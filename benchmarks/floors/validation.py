"""A post's JSON body, validated by the rules of ``blog_api/schemas.py`` without pydantic.

``PostIn`` (all of it, with defaults) for POST, ``PostPatch`` (a subset, no
nulls) for PATCH: strict types, no unknown fields, no NUL character, title
stripped to 1-200 characters, body 1-100,000, at most 10 tags, each stripped,
lower-cased and matching the blog's tag pattern, status draft or published.
Errors have the blog's 422 shape, with shorter messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from benchmarks.floors.common import FloorError

_TAG = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")


def post_fields(data: dict[str, Any], partial: bool) -> dict[str, Any]:
    """The validated fields of a post (``partial``: PATCH's subset, else POST's whole)."""
    unknown = sorted(set(data) - {"title", "body", "tags", "status"})
    if unknown:
        raise _invalid(unknown[0], "Extra inputs are not permitted")
    fields: dict[str, Any] = {} if partial else {"tags": [], "status": "draft"}
    for name, value in data.items():
        if value is None and partial:
            raise _invalid(name, "may not be null; leave the field out to keep it")
        fields[name] = _FIELD_CHECKS[name](value)
    for name in ("title", "body"):
        if not partial and name not in fields:
            raise _invalid(name, "Field required")
    return fields


def _title(value: Any) -> str:
    title = _text(value, "title").strip()
    if not 1 <= len(title) <= 200:
        raise _invalid("title", "must have 1 to 200 characters")
    return title


def _body(value: Any) -> str:
    body = _text(value, "body")
    if not 1 <= len(body) <= 100_000:
        raise _invalid("body", "must have 1 to 100000 characters")
    return body


def _tags(value: Any) -> list[str]:
    if type(value) is not list or len(value) > 10:
        raise _invalid("tags", "must be a list of at most 10 tags")
    names = [_text(item, "tags").strip().lower() for item in value]
    for name in names:
        if not _TAG.fullmatch(name):
            raise _invalid("tags", f"String should match pattern '^{_TAG.pattern}$'")
    return names


def _status(value: Any) -> str:
    if value not in ("draft", "published") or type(value) is not str:
        raise _invalid("status", "Input should be 'draft' or 'published'")
    return str(value)


def _text(value: Any, field: str) -> str:
    if type(value) is not str:
        raise _invalid(field, "Input should be a valid string")
    if "\x00" in value:
        raise _invalid(field, "may not contain the NUL character (U+0000)")
    return value


_FIELD_CHECKS: dict[str, Callable[[Any], Any]] = {
    "title": _title,
    "body": _body,
    "tags": _tags,
    "status": _status,
}


def _invalid(field: str, message: str) -> FloorError:
    details = [{"field": field, "message": message, "type": "value_error"}]
    return FloorError(422, "Invalid request body", details=details)
