"""blog_api: a blog REST API written once against the Flask API.

``create_app(framework="flask" | "miniflask")`` is the one place that picks the
framework. It imports that module and hands it, as ``fw``, to the blueprint
builders; nothing else in the package imports a framework, so a Flask app and
a miniflask app can live side by side in one process (the test suite runs
every test on both).

Example::

    from blog_api import create_app
    app = create_app("flask", {"DATABASE_URL": "sqlite:///blog.db"})
    app.test_client().get("/api/v1/posts")
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import redis
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.middleware.proxy_fix import ProxyFix

from blog_api import jobs, mail
from blog_api.api_page import build_api_page_blueprint
from blog_api.auth import build_auth_blueprint
from blog_api.caching import make_cache
from blog_api.commands import register_commands
from blog_api.comments import build_comments_blueprint
from blog_api.config import load_config
from blog_api.db import Database
from blog_api.errorhandlers import register_error_handlers
from blog_api.hooks import register_hooks
from blog_api.logs import configure_logging
from blog_api.meta import build_meta_blueprint
from blog_api.posts import build_posts_blueprint
from blog_api.ratelimit import make_rate_limiter
from blog_api.schema import SchemaNotReady, ensure_schema
from blog_api.site import build_site_blueprint
from blog_api.tags import build_tags_blueprint
from blog_api.users import build_users_blueprint
from blog_api.web import IdConverter

FRAMEWORKS = ("miniflask", "flask")


def create_app(framework: str | None = None, config: Mapping[str, Any] | None = None) -> Any:
    """Build the blog API on ``framework`` (default: ``$BLOG_FRAMEWORK``, else miniflask).

    Args:
        framework: ``"flask"`` or ``"miniflask"``.
        config: settings that override defaults and ``BLOG_*`` environment variables.

    Returns:
        The WSGI application object of the chosen framework.
    """
    fw = load_framework(framework)
    app = fw.Flask("blog_api")
    app.config.update(load_config(config))
    app.url_map.converters["id"] = IdConverter  # before any rule uses <id:...>
    _install_extensions(app, fw)
    _install_web_layer(app, fw)
    register_commands(app)  # db, init-db and seed, on app.cli
    if app.config["PROXY_HOPS"]:
        app.wsgi_app = _trust_proxies(app.wsgi_app, app.config["PROXY_HOPS"])
    _check_schema(app, fw)
    return app


def _check_schema(app: Any, fw: Any) -> None:
    """Refuse to build an app whose database cannot serve it (``blog_api/schema.py``).

    A new SQLite database gets its tables here; any other database that is
    empty or behind the code raises ``SchemaNotReady``, whose one line says
    what to run, so gunicorn stops at start-up instead of answering 500 to
    every request. The framework's command line (``miniflask``/``flask``, which
    both set ``FLASK_RUN_FROM_CLI``) only warns: it is where ``db upgrade``
    runs, and it must be able to load the app to run it.
    """
    try:
        ensure_schema(app.extensions["blog_db"].engine, framework=fw.__name__)
    except SchemaNotReady as problem:
        if os.environ.get("FLASK_RUN_FROM_CLI") != "true":
            raise
        logging.getLogger("blog_api").warning("%s", problem)


def _trust_proxies(wsgi_app: Any, hops: int) -> ProxyFix:
    """Believe the last ``hops`` entries of the ``X-Forwarded-*`` headers.

    Behind nginx the socket peer is nginx: the client's address, the scheme
    (``https`` when nginx terminates TLS), host and port arrive in headers.
    The rate limiter, the log and ``url_for(_external)``/``Location`` need the
    real ones. Each proxy appends one entry, so trusting exactly as many
    entries as there are proxies ignores whatever the client itself sent.
    """
    return ProxyFix(wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)


def load_framework(name: str | None = None) -> Any:
    """Import the framework module by name (the only framework import in blog_api)."""
    name = name or os.environ.get("BLOG_FRAMEWORK") or "miniflask"
    if name not in FRAMEWORKS:
        raise ValueError(f"framework must be one of {FRAMEWORKS}, not {name!r}")
    return importlib.import_module(name)


def _install_extensions(app: Any, fw: Any) -> None:
    """Storage, the response cache, the login rate limiter, logging."""
    configure_logging(app.config["LOG_LEVEL"])
    Database(fw.g).init_app(app)
    engine = app.extensions["blog_db"].engine
    redis_client = _redis_client(app.config)
    # Both are shared by every worker: in Redis when configured, else in the database.
    app.extensions["blog_cache"] = make_cache(app.config, redis_client, engine)
    app.extensions["blog_ratelimit"] = make_rate_limiter(app.config, redis_client, engine)
    _install_jobs(app, app.extensions["blog_db"].session_factory, engine)


def _install_jobs(app: Any, session_factory: sessionmaker[Session], engine: Any) -> None:
    """The outbox's dispatcher (``blog_api/jobs.py``), and a line saying where mail goes."""
    jobs.init_app(app, session_factory, engine)
    log = logging.getLogger("blog_api")
    log.info("%s; job dispatcher: %s", mail.describe_transport(app.config), _dispatcher(app))


def _dispatcher(app: Any) -> str:
    """The dispatcher's part of the start-up line: who sends the jobs, and what that needs.

    Celery mode is the default whenever ``BLOG_REDIS_URL`` is set, so the line
    says plainly that mail waits for a worker: a deployment that set Redis
    for the cache alone learns here why no mail leaves, and how to change it.
    """
    mode = jobs.dispatcher_mode(app.config)
    if mode == "thread":
        return "a thread in each app process"
    if mode == "celery":
        broker = urlsplit(app.config["REDIS_URL"])  # its host only: no password in the log
        return (
            f"celery (Redis at {broker.hostname}): a thread in each app process publishes "
            "the jobs, and nothing is delivered until a worker runs "
            "`celery -A blog_api.jobs worker`; BLOG_JOBS_DISPATCHER=thread sends from "
            "the web processes instead"
        )
    return "off in this process (run `jobs run`)"


def _redis_client(config: Mapping[str, Any]) -> Any:
    """A Redis client when ``REDIS_URL`` is set (the faster home of the cache and rate limits)."""
    if not config.get("REDIS_URL"):
        return None
    return redis.Redis.from_url(config["REDIS_URL"], socket_timeout=2, socket_connect_timeout=2)


def _install_web_layer(app: Any, fw: Any) -> None:
    """Hooks, error handlers and one blueprint per resource."""
    register_hooks(app, fw)
    register_error_handlers(app, fw)
    for build in (
        build_auth_blueprint,
        build_users_blueprint,
        build_posts_blueprint,
        build_comments_blueprint,
        build_tags_blueprint,
        build_meta_blueprint,
        build_site_blueprint,
        build_api_page_blueprint,
    ):
        app.register_blueprint(build(fw))
