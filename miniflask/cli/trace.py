"""``miniflask trace GET /path``: run one request in-process and print what happened.

Flask counterpart: none. This is miniflask's own teaching aid: it turns on
the tracer of ``miniflask/tracing.py`` for one request sent through the test
client, and prints the steps of ``docs/lifecycle.md`` that the request went
through, as a tree with timings::

    $ miniflask --app blog_api.wsgi trace GET /api/v1/posts
"""

from __future__ import annotations

import json
from typing import Any

import click

from .appgroup import pass_script_info
from .discovery import ScriptInfo


def _parse_header(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> Any:
    """``-H 'Name: value'`` (repeatable) -> a list of ``(name, value)`` pairs."""
    headers = []
    for text in values:
        name, separator, value = text.partition(":")
        if not separator or not name.strip():
            raise click.BadParameter(f"a header must look like 'Name: value', not {text!r}")
        headers.append((name.strip(), value.strip()))
    return headers


def _parse_json(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """``--json-body``: the parsed JSON document (``None`` when not given)."""
    if value is None:
        return None
    try:
        return json.loads(value)
    except ValueError as e:
        raise click.BadParameter(f"not valid JSON: {e}") from None


@click.command("trace", short_help="Run one request and show each step it went through.")
@click.argument("method", callback=lambda ctx, param, value: value.upper())
@click.argument("path")
@click.option(
    "-H",
    "--header",
    "headers",
    multiple=True,
    metavar="'NAME: VALUE'",
    callback=_parse_header,
    help="A request header (repeatable).",
)
@click.option("--json-body", metavar="JSON", callback=_parse_json, help="A JSON request body.")
@click.option("--data", metavar="TEXT", help="A raw request body.")
@click.option("--json", "as_json", is_flag=True, help="Print the trace as JSON for tools.")
@click.option(
    "--files",
    "list_files",
    is_flag=True,
    help="Also list the miniflask modules the request called into, in order.",
)
@pass_script_info
def trace_command(
    info: ScriptInfo,
    method: str,
    path: str,
    headers: list[tuple[str, str]],
    json_body: Any,
    data: str | None,
    as_json: bool,
    list_files: bool,
) -> None:
    """Run one request through the test client with the tracer on, and print
    the steps it went through as a tree with timings (see tracing.py).

    PATH may carry a query string, e.g. /api/v1/posts?page=2.
    """
    from .. import tracing

    if json_body is not None and data is not None:
        raise click.UsageError("Give --json-body or --data, not both.")
    # No app context is pushed here: the request pushes its own, and the
    # trace shows it.
    app = info.load_app()
    tracer = tracing.install(app)
    options: dict[str, Any] = {"method": method, "headers": headers}
    if json_body is not None:
        options["json"] = json_body
    elif data is not None:
        options["data"] = data
    client = app.test_client()
    response, modules = tracing.record_modules(lambda: client.open(path, **options))
    trace = tracer.last
    assert trace is not None, "the tracer recorded no request"

    if as_json:
        document: dict[str, Any] = {"status": response.status_code, "trace": trace.root.to_dict()}
        if list_files:
            document["modules"] = modules
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        click.echo(trace.format())
        click.echo(f"→ {response.status}, {len(response.get_data())} bytes")
        if list_files:
            click.echo(_modules_summary(modules))


def _modules_summary(modules: list[str]) -> str:
    """``modules: app.py → ctx.py → ...`` and how many files and switches that is."""
    return (
        f"modules: {' → '.join(modules)}\n"
        f"({len(set(modules))} files of miniflask, {len(modules) - 1} switches between them)"
    )
