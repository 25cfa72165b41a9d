"""Does an answer match the OpenAPI document? Its status and every header, per operation.

Shared by ``test_openapi.py`` (a scenario for each documented status) and
``test_robustness.py`` (every answer to its thousands of bad requests). The
request is matched to an operation with the app's own URL map, so the check
sees exactly the route the server ran; requests that reach no documented
operation (an unknown path, a method no route has, ``HEAD``) are not checked
here, since the document says nothing about them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from blog_api.openapi import spec_path

#: Headers the document does not list per response, and why: OpenAPI describes
#: the body's type under ``content`` (and ignores a ``Content-Type`` header
#: entry); ``Content-Length`` and ``Date`` belong to the HTTP message itself.
UNDOCUMENTED_HEADERS = frozenset({"content-type", "content-length", "date"})


class SpecCheck:
    """The OpenAPI document of one app, ready to judge that app's answers.

    Example::

        check = SpecCheck(app, client.get("/api/v1/openapi.json").get_json())
        assert check.problems("GET", "/api/v1/tags", 200, response.headers) == []
    """

    def __init__(self, app: Any, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.adapter = app.url_map.bind("localhost")
        self.components = spec["components"]["headers"]

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        """The documented ``(path template, operation)`` a request reaches, if any."""
        if method in {"HEAD", "OPTIONS"}:
            return None  # answered by the framework for every GET route; not operations
        try:
            rule, _ = self.adapter.match(path, method, return_rule=True)
        except (HTTPException, RequestRedirect):
            return None
        template = spec_path(rule.rule)
        if template is None:
            return None
        return template, self.spec["paths"][template][method.lower()]

    def problems(
        self, method: str, path: str, status: int, headers: Iterable[tuple[str, str]]
    ) -> list[str]:
        """What the document gets wrong about this answer (empty: nothing).

        Checks that the status is documented for the operation, that every
        header sent is documented for that status, and that every header
        documented as required was sent.
        """
        found = self.operation(method, path)
        if found is None:
            return []
        template, operation = found
        label = f"{method} {template} -> {status}"
        response = operation["responses"].get(str(status))
        if response is None:
            return [f"{label}: status not documented"]
        documented = {
            name.lower(): self._resolve(header)
            for name, header in response.get("headers", {}).items()
        }
        sent = {name.lower() for name, _ in headers}
        problems = [
            f"{label}: header {name!r} sent but not documented"
            for name in sorted(sent - documented.keys() - UNDOCUMENTED_HEADERS)
        ]
        problems += [
            f"{label}: required header {name!r} not sent"
            for name, header in sorted(documented.items())
            if header.get("required") and name not in sent
        ]
        return problems

    def _resolve(self, header: dict[str, Any]) -> dict[str, Any]:
        """A header object, following a ``#/components/headers/...`` reference."""
        ref = header.get("$ref")
        if ref is None:
            return header
        resolved: dict[str, Any] = self.components[ref.rsplit("/", 1)[1]]
        return resolved
