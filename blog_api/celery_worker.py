"""Celery workers for the outbox: ``celery -A blog_api.jobs worker`` (Redis as the broker).

Framework-neutral, and imported only by Celery itself and by app processes
whose ``BLOG_JOBS_DISPATCHER`` is ``celery`` (``blog_api.jobs`` hands this
module's :data:`app` to Celery on demand), so a web worker without Celery
loads none of it.

The outbox stays the record of what is owed (``blog_api/jobs.py``): each app
process's dispatcher thread claims due jobs with a lease, as in ``thread``
mode, but *publishes* them to the queue instead of running them
(:func:`blog_api.jobs.relay_due`). A worker runs :func:`run_job`, which runs
the very job function the thread would (``mail`` ...) through
:func:`blog_api.jobs.run_claimed`, and records the outcome in the outbox.
Workers scale apart from web processes; a worker killed mid-job, or a message
the broker lost, leaves the claim to run out, and the job is published again:
at least once, as everywhere.

The settings are the app's (``BLOG_DATABASE_URL``, ``BLOG_REDIS_URL``,
``BLOG_SMTP_URL``...), read from the environment when the worker starts.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from celery import Celery
from sqlalchemy import Engine

from blog_api import jobs, mail  # noqa: F401  # mail registers the "mail" job function
from blog_api.config import load_config
from blog_api.db import make_engine

config = load_config()
if not config["REDIS_URL"]:
    raise RuntimeError("Celery workers need BLOG_REDIS_URL (the broker)")

#: The Celery application: Redis as the broker, no result backend (outcomes
#: are written to the outbox). Late acknowledgement and a prefetch of one, so
#: a message is not lost with a worker killed before it ran.
app = Celery("blog_api", broker=config["REDIS_URL"])
app.conf.update(
    task_default_queue=config["JOBS_CELERY_QUEUE"],
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
    worker_hijack_root_logger=False,
)


@cache
def engine() -> Engine:
    """This worker process's engine (made on first use, after Celery forked it)."""
    return make_engine(config["DATABASE_URL"])


@app.task(name="blog_api.run_job")
def run_job(job_id: int, token: str) -> str:
    """Run one claimed job of the outbox; ``done``, ``retrying``, ``failed`` or ``skipped``."""
    return jobs.run_claimed(engine(), config, job_id, token)


def publish(job_id: int, token: str) -> Any:
    """Put a claimed job on the queue (:func:`blog_api.jobs.relay_due`'s ``publish``)."""
    return run_job.delay(job_id, token)
