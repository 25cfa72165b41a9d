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
* **sync by default, gthread on request.** A sync worker serves one request at
  a time: simple, and right behind nginx, which buffers slow clients. Set
  ``GUNICORN_THREADS`` above 1 to get ``gthread`` workers, which overlap the
  time requests spend waiting on PostgreSQL or Redis.
* **No preloading.** Each worker imports the app itself, so ``kill -HUP``
  reloads new code, and no database connection is ever shared across ``fork``.
* **Forwarded headers are trusted in one place only:** the app's ``ProxyFix``
  (``BLOG_PROXY_HOPS``). gunicorn would otherwise also believe
  ``X-Forwarded-Proto`` from any client on 127.0.0.1.
"""

from __future__ import annotations

import multiprocessing
import os

#: Where to listen. Behind nginx keep it on loopback (or a Unix socket);
#: the Docker image overrides it with 0.0.0.0:8000 inside the container.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

#: gunicorn's rule of thumb: (2 x cores) + 1 keeps every core busy while some
#: workers wait on I/O. ``WEB_CONCURRENCY`` is the conventional override.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"

#: A worker silent for this long is killed and replaced (a stuck request).
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
