"""Bottle and Falcon, the peers of ``benchmarks/peers.py``, answer like the Flask scenario app."""

from __future__ import annotations

from typing import Any

import flask
import pytest

from benchmarks import apps, inprocess, peers

REQUESTS = [
    ("GET", "/text", None),
    ("GET", "/users/42", None),
    ("POST", "/echo", apps.ECHO_PAYLOAD),
    ("GET", "/missing", None),
]


@pytest.mark.parametrize("build", [peers.bottle_app, peers.falcon_app])
@pytest.mark.parametrize(("method", "path", "payload"), REQUESTS)
def test_peer_gives_flasks_status_body_and_content_type(
    build: Any, method: str, path: str, payload: Any
) -> None:
    environ, body = inprocess.prepare_environ(method, path, json=payload)
    expected = inprocess.call(apps.build_app(flask), environ, body)
    answer = inprocess.call(build(), environ, body)
    assert answer == expected  # status, body and Content-Type
    assert answer.content_type is not None


def test_the_four_framework_scenarios_time_the_peers() -> None:
    scenarios = inprocess.build_scenarios(None)
    with_peers = {s.name for s in scenarios if {"bottle", "falcon"} <= set(s.targets)}
    assert with_peers == {"text", "json_param", "post_echo", "not_found"}
