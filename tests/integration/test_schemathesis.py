"""Property-based run against the live server, driven by its own OpenAPI document.

schemathesis reads ``/api/v1/openapi.json`` from a running gunicorn and, for
every operation, lets Hypothesis generate requests: valid ones (``positive``)
and ones that break the schema (``negative``: wrong types, missing fields,
out-of-range numbers). Every response must

* not be a 5xx (``not_a_server_error``),
* have a status code, content type, body and headers the spec documents for
  that operation (the ``*_conformance`` checks).

Runs are bounded (``MAX_EXAMPLES`` per operation and mode) and derandomized,
so CI sees the same cases every time; the number of cases is printed (run
with ``-s``) and quoted in ``docs/reliability.md``.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.integration.conftest import Client, GunicornServer

pytestmark = pytest.mark.slow

MAX_EXAMPLES = 12  # per operation and generation mode
GUNICORN_REQUEST_LINE = 4094  # gunicorn's default limit_request_line, in bytes
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def test_every_generated_request_gets_a_documented_non_5xx_answer(
    live_server: GunicornServer,
) -> None:
    schema = schemathesis.openapi.from_url(live_server.url("/api/v1/openapi.json"))
    client = Client(live_server.base_url)
    cases: Counter[str] = Counter()
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            # A fresh user for each run: a generated DELETE /users/{id} may
            # well delete the current one, and a 401 for every later case
            # would test nothing.
            _, headers = client.new_user()
            try:
                _run(operation, mode, live_server.url(_base(operation)), headers, cases)
            except Unsatisfiable:
                continue  # no schema-breaking request exists (GET /tags: every query is valid)
            except Exception as e:  # schemathesis raises one failure per broken check
                failures.append(f"{operation.label} [{mode.value}]: {e}")
    too_long = cases.pop("too long for gunicorn", 0)
    total = sum(cases.values())
    print(
        f"[schemathesis {live_server.env['BLOG_FRAMEWORK']}] {total} cases checked over "
        f"{len(cases)} operation/mode runs, {too_long} more refused by gunicorn as too long"
    )
    assert not failures, "\n\n".join(failures)
    assert total >= 300  # the run really generated requests


def _run(
    operation: Any,
    mode: GenerationMode,
    base_url: str,
    headers: dict[str, str],
    cases: Counter[str],
) -> None:
    """Generate up to MAX_EXAMPLES cases for one operation and check each answer."""
    session = requests.Session()

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=10)
        if response.status_code == 414 and len(response.request.url) > GUNICORN_REQUEST_LINE:
            # gunicorn's own refusal of an over-long request line, sent before
            # the app sees the request: a transport limit, not part of the API.
            cases["too long for gunicorn"] += 1
            return
        cases[f"{operation.label} {mode.value}"] += 1
        case.validate_response(response, checks=CHECKS)

    try:
        check()
    finally:
        session.close()


def _base(operation: Any) -> str:
    """The operation's server: its own ``servers`` entry where it has one, else ``/api/v1``.

    The OAuth metadata lives at the site's root (RFC 8414), so the document
    gives its path ``servers: [{"url": "/"}]``; schemathesis uses the base
    URL it is handed for every operation.
    """
    servers = operation.definition.raw.get("servers") or operation.schema.raw_schema["paths"][
        operation.path
    ].get("servers")
    return servers[0]["url"].rstrip("/") if servers else "/api/v1"
