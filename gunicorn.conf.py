"""gunicorn settings for blog_api: ``gunicorn -c gunicorn.conf.py blog_api.wsgi:app``.

gunicorn reads this file as Python and picks up the module-level names below
(``bind``, ``workers``...); command-line options and ``GUNICORN_CMD_ARGS`` still
win over it, so ``make run`` and the tests can change the bind address without
editing the file. The framework comes from ``BLOG_FRAMEWORK`` (read by
``blog_api/wsgi.py``), every app setting from the other ``BLOG_*`` variables.

The choices, and why:

* **Processes, not one big process.** Each worker is a separate Python
  interpreter with its own GIL and its own database connections, so one
  crashing or stuck worker costs one request, and the master replaces it.
* **gthread by default, so slow clients cannot stop the server.** A sync
  worker serves one request at a time and reads the request itself: gunicorn's
  docs say to run sync workers only behind a buffering proxy, and without one
  six clients sending a body slowly held all five sync workers of ``make run``
  until the 30 s worker timeout (others waited 34 s; the slow clients got an
  HTML 500). ``gthread`` workers (``threads`` each, ``cores + 1`` workers) keep
  serving with their other threads while a few are stuck on slow clients, and
  ``READ_TIMEOUT`` bounds how long one can be stuck: a client whose body
  stalls for that long gets a 408 (the JSON error on ``/api``). Threads also
  overlap the time requests spend waiting on SQLite, PostgreSQL or Redis.
  The ``pre_request`` and ``post_request`` hooks at the end set that timeout
  and keep a closing connection from holding up a worker's main loop. Behind
  nginx (which buffers whole requests) ``GUNICORN_THREADS=1`` gives the plain
  sync workers again.
* **Nothing that must be right is kept per worker.** The server cache's
  generation and the failed-login counters live in the database (or in Redis
  with ``BLOG_REDIS_URL``), so any worker count is as correct as one.
* **No preloading.** Each worker imports the app itself, so ``kill -HUP``
  reloads new code, and no database connection is ever shared across ``fork``.
* **Forwarded headers are trusted in one place only:** the app's ``ProxyFix``
  (``BLOG_PROXY_HOPS``). gunicorn would otherwise also believe
  ``X-Forwarded-Proto`` from any client on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import socket
import sys
import time
from typing import Any

#: Where to listen. Behind nginx keep it on loopback (or a Unix socket);
#: the Docker image overrides it with 0.0.0.0:8000 inside the container.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

#: One process per core keeps every core busy (each has its own GIL), plus one
#: for the moments a worker is restarting or waiting: 3 on a 2-core machine.
#: ``WEB_CONCURRENCY`` is the conventional override.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
#: Threads per worker: 3 x 8 = 24 requests at once on 2 cores, so a few stuck
#: on slow clients leave plenty for everyone else. 1 selects sync workers
#: (only behind a buffering proxy such as nginx).
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
worker_class = "gthread" if threads > 1 else "sync"

#: Seconds a read of the request body may wait for the client's next bytes.
#: gunicorn has no setting for it: ``pre_request`` below puts it on the
#: socket, so a stalled upload raises ``TimeoutError`` inside the app, which
#: answers 408 (``blog_api/errorhandlers.py``) and frees the thread.
READ_TIMEOUT = float(os.environ.get("GUNICORN_READ_TIMEOUT", "10"))

#: A worker silent for this long is killed and replaced (a stuck request, for
#: sync workers; a gthread worker's heartbeat comes from its main loop).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
#: On SIGTERM or HUP, workers finish their in-flight requests for up to this long.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
#: Seconds an idle keep-alive connection stays open (gthread only; sync closes).
keepalive = 5

#: Recycle each worker after about this many requests, with jitter so they do
#: not all restart at once: a cheap guard against slow memory growth.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10

#: See the module docstring: ProxyFix in the app is the only trust point.
forwarded_allow_ips = ""

#: Heartbeat files on a RAM disk where there is one: a worker's "I am alive"
#: write to a disk-backed /tmp can block for seconds under I/O pressure.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

#: Both logs go to stderr ("-"), where a container runtime or systemd collects them.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

#: The combined log format plus the duration and the request id the app put in
#: ``X-Request-ID``, so an access-log line can be matched with the app's JSON
#: log lines and with the client's report. gunicorn formats the line after the
#: app ran, so ``%(h)s`` is ``REMOTE_ADDR`` as ProxyFix left it: the client's
#: address behind a trusted proxy. The raw ``X-Forwarded-For`` is logged beside
#: it, to see what a client tried to claim.
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" '
    '%(M)sms rid=%({x-request-id}o)s xff="%({x-forwarded-for}i)s"'
)

#: Name the processes in ``ps`` so the master and workers are easy to find.
proc_name = "blog_api"

#: gunicorn 24+ opens a control socket at one fixed per-user path; several
#: instances on a host (the test suite runs many) would take it from each other,
#: and signals (TERM, HUP, TTIN/TTOU) already do everything we need.
control_socket_disable = True


def on_starting(server: Any) -> None:
    """Check the database's schema once, in the master, before any worker starts.

    Each worker checks it as well (``create_app``), but a refusal there is a
    traceback per worker; here it is one line, and gunicorn exits at once. A
    new SQLite file gets its tables here (``blog_api/schema.py``).
    """
    from blog_api.config import load_config
    from blog_api.db import make_engine
    from blog_api.schema import SchemaNotReady, ensure_schema

    engine = make_engine(load_config()["DATABASE_URL"])
    try:
        ensure_schema(engine, framework=os.environ.get("BLOG_FRAMEWORK") or "miniflask")
    except SchemaNotReady as problem:
        server.log.error("%s", problem)
        sys.exit(1)
    finally:
        engine.dispose()


def pre_request(worker: Any, req: Any) -> None:
    """gunicorn hook, just before the app gets a request: bound each body read.

    The request line and headers have been read by now; the socket the body
    will be read from gets ``READ_TIMEOUT``, so a client that stops sending
    cannot hold a worker thread (or a whole sync worker) for longer.
    gunicorn's own default hook only logs the request at debug level.
    """
    worker.log.debug("%s %s", req.method, req.path)
    reader = getattr(req, "unreader", None)  # HTTP/1 requests read from a socket
    sock = getattr(reader, "sock", None)
    if sock is not None:
        sock.settimeout(READ_TIMEOUT)


#: Seconds a closing connection waits for the client to close its side (RFC
#: 9112 §9.6: so that unread request bytes do not turn the close into a reset).
CLOSE_LINGER = 2.0


def post_request(worker: Any, req: Any, environ: dict[str, Any], resp: Any) -> None:
    """gunicorn hook, after the response is sent: linger on a closing connection here.

    gthread hands a connection that will not be kept alive back to the
    worker's main thread, which closes it gracefully: half-close, then up to
    2 s waiting for the client to close too. The main thread is the one that
    accepts connections and serves the kept-alive ones, so each stalled client
    stopped its whole worker for 2 s (measured: with six of them, kept-alive
    users were held up for seconds and some connections were reset). Doing the
    half-close and the wait here, in the request's own thread, and shutting
    the socket down completely afterwards, leaves the main thread's close
    nothing to wait for.
    """
    body = getattr(req, "body", None)
    done_with_connection = resp is not None and (
        resp.should_close() or getattr(body, "failed", False)
    )
    sock = environ.get("gunicorn.socket")
    if not done_with_connection or not getattr(resp, "headers_sent", False) or sock is None:
        return
    if not environ.get("SERVER_PROTOCOL", "").startswith("HTTP/1"):
        return  # an HTTP/2 connection carries other streams too
    _linger_and_shut_down(sock)


def _linger_and_shut_down(sock: socket.socket) -> None:
    """Half-close, read until the client closes (bounded), then shut down both ways."""
    try:
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + CLOSE_LINGER
        while (remaining := deadline - time.monotonic()) > 0:
            sock.settimeout(remaining)
            if not sock.recv(4096):
                break
    except OSError:
        pass  # the wait timed out, or the client is already gone: either way, done
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)  # the main thread's own wait now ends at once
