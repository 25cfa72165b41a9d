"""Seed question 2: the request context and the application context.

Shows, on miniflask:

1. an app context without any request (a CLI command or a job): ``current_app``
   and ``g`` work, ``request`` does not, and says so;
2. a request context pushes an app context for you;
3. isolation: two threads and two asyncio tasks each handle "their" request at
   the same time and each sees its own ``request`` (context variables);
4. a thread started from a view sees nothing until it is handed a copy of the
   request context (``copy_current_request_context``).

Read with docs/contexts.md. Run: ``.venv/bin/python examples/seed_02_contexts.py``
"""

from __future__ import annotations

import asyncio
import threading
import time

from miniflask import Flask, copy_current_request_context, current_app, g, request

app = Flask(__name__)
app.config["DATABASE"] = "sqlite:///example.db"


def without_a_request() -> None:
    with app.app_context():
        g.job = "nightly-cleanup"
        print(f"1. app context only: current_app={current_app.name}, g.job={g.job}")
        try:
            request.path  # noqa: B018 (the access is the point)
        except RuntimeError as e:
            print(f"   request -> RuntimeError: {str(e).splitlines()[0]}")


def request_pushes_app_context() -> None:
    with app.test_request_context("/posts/7?page=2"):
        print(
            f"2. request context: path={request.path}, page={request.args['page']}, "
            f"current_app={current_app.name} (pushed for us)"
        )


def handle(path: str, results: dict[str, str]) -> None:
    with app.test_request_context(path):
        time.sleep(0.05)  # both threads are inside their request now
        results[path] = request.path


async def handle_async(path: str) -> str:
    with app.test_request_context(path):
        await asyncio.sleep(0.05)  # the other task runs meanwhile, on the same thread
        return request.path


def isolation() -> bool:
    results: dict[str, str] = {}
    threads = [threading.Thread(target=handle, args=(p, results)) for p in ("/a", "/b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    async def both() -> list[str]:
        return list(await asyncio.gather(handle_async("/task-1"), handle_async("/task-2")))

    tasks = asyncio.run(both())
    print(f"3. threads saw {results}; asyncio tasks saw {tasks}")
    return results == {"/a": "/a", "/b": "/b"} and tasks == ["/task-1", "/task-2"]


def hand_off_to_a_thread() -> None:
    seen: list[str] = []
    with app.test_request_context("/report"):

        def plain() -> None:
            try:
                seen.append(request.path)
            except RuntimeError:
                seen.append("no request in a new thread")

        @copy_current_request_context
        def with_copy() -> None:
            seen.append(f"copy sees {request.path}")

        for target in (plain, with_copy):
            thread = threading.Thread(target=target)
            thread.start()
            thread.join()
    print(f"4. {seen[0]}; with copy_current_request_context: {seen[1]}")


def main() -> None:
    without_a_request()
    request_pushes_app_context()
    isolated = isolation()
    hand_off_to_a_thread()
    print(f"contexts isolated: {isolated}")
    if not isolated:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
