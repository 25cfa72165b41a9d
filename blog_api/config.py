"""Settings for blog_api, read from ``BLOG_*`` environment variables.

Framework-neutral: the result is a plain dict of upper-case keys, the shape both
Flask's and miniflask's ``app.config`` accept, so ``create_app`` can simply
``app.config.update(load_config(...))``. The ``db``, ``init-db`` and ``seed`` commands
run on the app itself (``blog_api/commands.py``), so they and the web app always
agree on where the database is.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def flag(raw: str) -> bool:
    """An on/off environment value: ``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off``.

    ``bool("0")`` is ``True``, so flags need their own converter; anything
    else is refused rather than guessed.
    """
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected 1/0, true/false, yes/no or on/off, not {raw!r}")


def dispatcher_mode(raw: str) -> str:
    """``BLOG_JOBS_DISPATCHER``: ``thread``, ``celery`` or ``off`` (``blog_api/jobs.py``)."""
    value = raw.strip().lower()
    if value not in {"thread", "celery", "off"}:
        raise ValueError(f"expected thread, celery or off, not {raw!r}")
    return value


#: One entry of ``BLOG_TRUSTED_HOSTS``: a host name or IPv4 address, or
#: ``.example.org`` for that domain and all its subdomains (Werkzeug's rule).
_TRUSTED_HOST = re.compile(r"\.?[a-z0-9-]+(\.[a-z0-9-]+)*")


def host_list(raw: str) -> list[str]:
    """``"blog.example.org, localhost"`` -> ``["blog.example.org", "localhost"]``.

    Werkzeug compares only the name part of the ``Host`` header with each
    entry and ignores ports, so an entry with a port (or an IPv6 literal,
    whose colons it would read as one) would not mean what it says: such
    entries are refused, as are empty ones.
    """
    hosts = [part.strip().lower() for part in raw.split(",")]
    for host in hosts:
        if not _TRUSTED_HOST.fullmatch(host):
            raise ValueError(
                f"{host!r} is not a host name (list names or IPv4 addresses without "
                "ports, comma-separated; '.example.org' also trusts its subdomains)"
            )
    return hosts


#: Environment variable -> (config key, converter). Only these are read.
ENVIRONMENT_KEYS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "BLOG_DATABASE_URL": ("DATABASE_URL", str),
    "BLOG_REDIS_URL": ("REDIS_URL", str),
    "BLOG_SECRET_KEY": ("SECRET_KEY", str),
    "BLOG_ACCESS_TOKEN_TTL": ("ACCESS_TOKEN_TTL", int),
    "BLOG_REFRESH_TOKEN_TTL": ("REFRESH_TOKEN_TTL", int),
    "BLOG_PASSWORD_HASH_METHOD": ("PASSWORD_HASH_METHOD", str),
    "BLOG_CACHE_TTL": ("CACHE_TTL", int),
    "BLOG_PUBLIC_MAX_AGE": ("PUBLIC_MAX_AGE", int),
    "BLOG_LOGIN_MAX_FAILURES": ("LOGIN_MAX_FAILURES", int),
    "BLOG_LOGIN_CLIENT_MAX_FAILURES": ("LOGIN_CLIENT_MAX_FAILURES", int),
    "BLOG_LOGIN_ACCOUNT_MAX_FAILURES": ("LOGIN_ACCOUNT_MAX_FAILURES", int),
    "BLOG_LOGIN_FAILURE_WINDOW": ("LOGIN_FAILURE_WINDOW", int),
    "BLOG_PROXY_HOPS": ("PROXY_HOPS", int),
    "BLOG_LOG_LEVEL": ("LOG_LEVEL", str),
    "BLOG_INSTANCE_PATH": ("INSTANCE_PATH", str),
    # The reader site's session cookie: set it behind HTTPS so the browser
    # never sends the cookie over plain HTTP.
    "BLOG_SESSION_COOKIE_SECURE": ("SESSION_COOKIE_SECURE", flag),
    # Host names the app answers to (Flask's TRUSTED_HOSTS): the Host header
    # becomes part of absolute URLs such as a 201's Location.
    "BLOG_TRUSTED_HOSTS": ("TRUSTED_HOSTS", host_list),
    # Background jobs and mail (blog_api/jobs.py, blog_api/mail.py, docs/jobs.md).
    "BLOG_JOBS_DISPATCHER": ("JOBS_DISPATCHER", dispatcher_mode),
    "BLOG_JOBS_POLL_INTERVAL": ("JOBS_POLL_INTERVAL", float),
    "BLOG_JOBS_LEASE": ("JOBS_LEASE", int),
    "BLOG_JOBS_MAX_ATTEMPTS": ("JOBS_MAX_ATTEMPTS", int),
    "BLOG_JOBS_RETRY_DELAY": ("JOBS_RETRY_DELAY", int),
    "BLOG_JOBS_CELERY_QUEUE": ("JOBS_CELERY_QUEUE", str),
    "BLOG_JOBS_KEEP_DONE": ("JOBS_KEEP_DONE", int),
    "BLOG_SMTP_URL": ("SMTP_URL", str),
    "BLOG_SMTP_STARTTLS": ("SMTP_STARTTLS", flag),
    "BLOG_MAIL_FROM": ("MAIL_FROM", str),
    "BLOG_PASSWORD_RESET_TTL": ("PASSWORD_RESET_TTL", int),
    "BLOG_EMAIL_CONFIRMATION_TTL": ("EMAIL_CONFIRMATION_TTL", int),
    # On: publishing and commenting need a confirmed address (403 until then).
    "BLOG_REQUIRE_CONFIRMED_EMAIL": ("REQUIRE_CONFIRMED_EMAIL", flag),
    # "Sign in with ..." through an OpenID Connect provider (blog_api/oidc.py,
    # docs/oauth.md): its discovery URL, and the client it registered for us.
    "BLOG_OIDC_DISCOVERY_URL": ("OIDC_DISCOVERY_URL", str),
    "BLOG_OIDC_CLIENT_ID": ("OIDC_CLIENT_ID", str),
    "BLOG_OIDC_CLIENT_SECRET": ("OIDC_CLIENT_SECRET", str),
    "BLOG_OIDC_NAME": ("OIDC_NAME", str),
    # The blog as an authorisation server for third-party apps (blog_api/oauth/).
    "BLOG_OAUTH_CODE_TTL": ("OAUTH_CODE_TTL", int),
}

DEFAULTS: dict[str, Any] = {
    "DATABASE_URL": None,  # None -> SQLite file under INSTANCE_PATH
    "REDIS_URL": None,  # None -> cache generation and login counters in the database
    "REDIS_PREFIX": "blog:",
    "SECRET_KEY": None,  # None -> generated once into INSTANCE_PATH/secret_key
    "INSTANCE_PATH": "instance",
    "ACCESS_TOKEN_TTL": 15 * 60,
    "REFRESH_TOKEN_TTL": 30 * 24 * 3600,
    "JWT_ISSUER": "blog_api",
    # Werkzeug's default (scrypt) is deliberately slow; tests pass a cheap method.
    "PASSWORD_HASH_METHOD": "scrypt",
    "CACHE_TTL": 60,
    "CACHE_MAX_ENTRIES": 2048,
    "PUBLIC_MAX_AGE": 0,
    # Failed logins per window (blog_api/ratelimit.py): per client and
    # username, per client across usernames, per username across clients.
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_CLIENT_MAX_FAILURES": 10,
    "LOGIN_ACCOUNT_MAX_FAILURES": 20,
    "LOGIN_FAILURE_WINDOW": 300,
    "PER_PAGE_DEFAULT": 20,
    "PER_PAGE_MAX": 100,
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    # Unhandled errors must reach our 500 handler even when TESTING is on, so the
    # JSON error shape and the logged traceback are the same in tests and production.
    "PROPAGATE_EXCEPTIONS": False,
    # Reverse proxies in front of the app whose X-Forwarded-* headers are
    # trusted (Werkzeug's ProxyFix). 0 trusts none: a client talking to the app
    # directly must not be able to pick its own address or scheme.
    "PROXY_HOPS": 0,
    # Flask's setting, checked by Werkzeug on every request: any other Host (or
    # X-Forwarded-Host behind a trusted proxy) is a 400, so no response ever
    # carries a host a client made up. The default fits a server reached on
    # this machine; a deployment names its own host in BLOG_TRUSTED_HOSTS.
    "TRUSTED_HOSTS": ["localhost", "127.0.0.1"],
    "LOG_LEVEL": "INFO",
    # None: "off" in an app with TESTING set (tests run jobs.run_due
    # themselves), else "celery" when REDIS_URL is set (a worker must run
    # `celery -A blog_api.jobs worker`), else "thread". The thread starts at the
    # first request, so the command line (db upgrade, jobs run) never starts one.
    "JOBS_DISPATCHER": None,
    "JOBS_POLL_INTERVAL": 1.0,  # seconds between looks at the outbox (a commit wakes it sooner)
    "JOBS_LEASE": 60,  # seconds a claim holds before another dispatcher may take the job
    "JOBS_MAX_ATTEMPTS": 8,  # then the job is parked as failed (jobs failed / jobs retry)
    "JOBS_RETRY_DELAY": 30,  # seconds before the first retry; doubled after each failure
    "JOBS_CELERY_QUEUE": "blog_api.jobs",  # the Celery queue of BLOG_JOBS_DISPATCHER=celery
    "JOBS_KEEP_DONE": 7 * 24 * 3600,  # seconds a done job stays; then the dispatcher sweeps it
    "SMTP_URL": None,  # None -> .eml files under INSTANCE_PATH/mail
    "SMTP_STARTTLS": False,
    "MAIL_FROM": "blog@localhost",
    "PASSWORD_RESET_TTL": 3600,
    "EMAIL_CONFIRMATION_TTL": 3 * 24 * 3600,
    # Off by default: an unconfirmed account may do everything, as before
    # confirmation existed (the README's curl session needs no mailbox).
    "REQUIRE_CONFIRMED_EMAIL": False,
    # None: no "Sign in with ..." button. The three are set together.
    "OIDC_DISCOVERY_URL": None,  # https://provider/.well-known/openid-configuration
    "OIDC_CLIENT_ID": None,
    "OIDC_CLIENT_SECRET": None,
    "OIDC_NAME": "OpenID Connect",  # the provider's name on the button
    # Seconds an authorisation code lives; RFC 6749 §4.1.2 says at most 10 minutes.
    "OAUTH_CODE_TTL": 120,
}


def load_config(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Build the settings: defaults, then the environment, then ``overrides``.

    Args:
        overrides: explicit values (tests pass a database URL and a cheap
            password hash here); they win over the environment.

    Returns:
        A dict ready for ``app.config.update``, with ``DATABASE_URL`` and
        ``SECRET_KEY`` always filled in.

    Raises:
        ValueError: a ``BLOG_*`` variable could not be converted; the message
            names it, so a deployment fails at start-up, not at first use.
    """
    config = dict(DEFAULTS)
    config.update(_from_environment(os.environ))
    config.update(overrides or {})
    instance = Path(config["INSTANCE_PATH"])
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{(instance / 'blog.db').resolve()}"
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = instance_secret_key(instance)
    return config


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Pick and convert the ``BLOG_*`` variables that are set and non-empty."""
    values: dict[str, Any] = {}
    for name, (key, convert) in ENVIRONMENT_KEYS.items():
        raw = environ.get(name)
        if raw:
            try:
                values[key] = convert(raw)
            except ValueError as e:
                # Refuse to start rather than run with a guessed setting.
                raise ValueError(f"{name}={raw!r} is not valid: {e}") from e
    return values


def instance_secret_key(instance: Path) -> str:
    """Return the key in ``instance/secret_key``, creating it on first use.

    Every gunicorn worker must sign tokens with the same key, so a per-process
    random key would not do; a file shared by the workers of one host does.
    The workers start at the same moment and race to create it. Each writes a
    complete key to a private temporary file and then hard-links it into
    place: ``link`` fails if the name exists, so exactly one key wins, and no
    worker can ever read a created-but-still-empty file (which opening the
    final name with ``O_EXCL`` and writing afterwards allowed).
    """
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        candidate = instance / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(48))
        try:
            os.link(candidate, path)
            log.warning(
                "BLOG_SECRET_KEY not set: generated %s (set it when running several hosts)", path
            )
        except FileExistsError:
            pass  # another worker won the race; use its key
        finally:
            candidate.unlink()
    return path.read_text().strip()
