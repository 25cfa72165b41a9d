"""The "framework in one page" on docs/index.md is a working WSGI framework.

The page's first Python block is executed as written and called through
Werkzeug's test client, so the opener of the walkthrough cannot drift into
code that no longer runs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from werkzeug.test import Client

INDEX = Path(__file__).resolve().parents[2] / "docs" / "index.md"


def one_page_framework() -> dict[str, Any]:
    block = re.search(r"```python\n(.*?)```", INDEX.read_text(encoding="utf-8"), re.S)
    assert block is not None, "docs/index.md lost its framework block"
    namespace: dict[str, Any] = {"__name__": "one_page_framework"}
    exec(compile(block.group(1), str(INDEX), "exec"), namespace)
    return namespace


def test_the_one_page_framework_routes_and_uses_its_request_proxy() -> None:
    client = Client(one_page_framework()["app"])
    response = client.get("/hello/ada")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "Hello ada, you asked for /hello/ada"


def test_the_one_page_framework_answers_404_and_runs_before_request() -> None:
    namespace = one_page_framework()
    app = namespace["app"]
    assert Client(app).get("/nowhere").status_code == 404
    app.before_request(lambda: "stopped early")
    assert Client(app).get("/hello/ada").get_data(as_text=True) == "stopped early"
