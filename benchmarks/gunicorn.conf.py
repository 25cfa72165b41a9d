"""gunicorn settings for the benchmarks, passed explicitly with ``-c``.

Passing a config file stops gunicorn from loading the project's
``./gunicorn.conf.py`` from the working directory. That file holds deployment
choices that would distort an A/B comparison: an access log line per request,
and worker recycling every ~2,000 requests (a worker re-importing the app in
the middle of a 3-second wrk run). Workers, threads and the bind address are
given on the command line by ``benchmarks/server.py``; everything not set here
is gunicorn's default.
"""

from __future__ import annotations

import os

#: No access log: it is the same cost for both frameworks and not theirs.
accesslog = None
#: Never recycle workers during a run.
max_requests = 0
#: gunicorn 24+ opens a control socket at one fixed per-user path; the benchmark
#: runs two servers at once, which would take it from each other.
control_socket_disable = True
#: Worker heartbeat files on a RAM disk, so a busy disk cannot stall a worker.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"
