"""Entity tags for conditional requests (RFC 9110 §8.8.3, §13).

Framework-neutral. An ETag is a hash of the resource's JSON representation,
computed from the data (canonical JSON: sorted keys, no spaces) rather than the
response bytes, so it is identical on Flask and miniflask and can be recomputed
by a write request to check ``If-Match`` against the current version.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(data: Any) -> str:
    """``data`` as canonical JSON: sorted keys, no spaces.

    This is also exactly what both frameworks' ``jsonify`` writes outside
    debug mode (before its final newline), so a response body can be this.
    """
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def etag_for(data: Any) -> str:
    """A strong ETag value (without quotes) for JSON-serialisable ``data``."""
    return etag_of(canonical_json(data))


def etag_of(canonical: str) -> str:
    """The ETag of a representation already written by :func:`canonical_json`."""
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def if_match_satisfied(if_match: Any, current: str, header_present: bool) -> bool:
    """Whether a write may go ahead under ``If-Match`` (RFC 9110 §13.1.1).

    Args:
        if_match: Werkzeug's parsed ``request.if_match`` (an ``ETags``).
        current: the resource's current ETag.
        header_present: whether the client sent ``If-Match`` at all; without it
            the write is unconditional.
    """
    if not header_present:
        return True
    if getattr(if_match, "star_tag", False):
        return True
    return bool(if_match.contains(current))
