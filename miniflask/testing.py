"""The test client and the environ builder for made-up requests, and the CLI runner.

Flask counterpart: ``flask/testing.py``.

Werkzeug's :class:`~werkzeug.test.Client` already calls a WSGI app
in-process and keeps cookies. Flask's subclass adds what tests of a Flask
app need: URLs built from the app's ``SERVER_NAME`` and
``APPLICATION_ROOT``, JSON bodies serialised with the app's provider, and
``with client:``, which keeps the last request's contexts alive so a test
can look at ``request``, ``session`` and ``g`` after the response.
:class:`FlaskCliRunner` does the same for commands: click's runner, aimed
at the app's ``app.cli``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from copy import copy
from importlib.metadata import version
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import werkzeug.test
from click.testing import CliRunner, Result
from werkzeug.test import Client
from werkzeug.wrappers import Request as BaseRequest

from .sessions import SessionMixin

_WERKZEUG_VERSION = version("werkzeug")

if TYPE_CHECKING:
    from werkzeug.test import TestResponse

    from .app import Flask


class EnvironBuilder(werkzeug.test.EnvironBuilder):
    """Builds a WSGI environ for ``app``: its server name, root and URL scheme by default.

    Args:
        app: the app the request is for.
        path: the URL path, possibly with a query string, or a full URL.
        base_url: overrides ``SERVER_NAME``/``APPLICATION_ROOT``.
        subdomain: prefixed to ``SERVER_NAME``.
        url_scheme: overrides ``PREFERRED_URL_SCHEME``.
        *args, **kwargs: :class:`werkzeug.test.EnvironBuilder`'s (``method``,
            ``json``, ``data``, ``headers`` ...).
    """

    def __init__(
        self,
        app: Flask,
        path: str = "/",
        base_url: str | None = None,
        subdomain: str | None = None,
        url_scheme: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        assert not (base_url or subdomain or url_scheme) or (base_url is not None) != bool(
            subdomain or url_scheme
        ), 'Cannot pass "subdomain" or "url_scheme" with "base_url".'
        if base_url is None:
            base_url, path = self._base_url_for(app, path, subdomain, url_scheme)
        self.app = app
        super().__init__(path, base_url, *args, **kwargs)

    @staticmethod
    def _base_url_for(
        app: Flask, path: str, subdomain: str | None, url_scheme: str | None
    ) -> tuple[str, str]:
        """Split ``path`` and build the base URL from the app's settings."""
        host = app.config.get("SERVER_NAME") or "localhost"
        if subdomain:
            host = f"{subdomain}.{host}"
        root = app.config["APPLICATION_ROOT"]
        url = urlsplit(path)
        scheme = url.scheme or url_scheme or app.config["PREFERRED_URL_SCHEME"]
        base_url = f"{scheme}://{url.netloc or host}/{root.lstrip('/')}"
        path = url.path + (f"?{url.query}" if url.query else "")
        return base_url, path

    def json_dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialise ``json=`` bodies with the app's JSON provider."""
        return self.app.json.dumps(obj, **kwargs)


class FlaskClient(Client):
    """The client ``app.test_client()`` returns.

    Example::

        client = app.test_client()
        response = client.post("/api/posts", json={"title": "Hi"})
        assert response.status_code == 201

        with client:
            client.get("/me")
            assert session["user_id"] == 1    # the request is still active
    """

    application: Flask

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.preserve_context = False
        self._new_contexts: list[Any] = []
        self._context_stack = ExitStack()
        self.environ_base = {
            "REMOTE_ADDR": "127.0.0.1",
            # What Flask's client sends: Werkzeug's name and version.
            "HTTP_USER_AGENT": f"Werkzeug/{_WERKZEUG_VERSION}",
        }

    @contextmanager
    def session_transaction(self, *args: Any, **kwargs: Any) -> Iterator[SessionMixin]:
        """Open the session the next request would see, to read or change it in a test.

        Example::

            with client.session_transaction() as session:
                session["user_id"] = 1
            client.get("/me")      # sees user_id == 1

        The changed session is saved into the client's cookies on exit.
        """
        if self._cookies is None:
            raise TypeError("Cookies are disabled. Create a client with 'use_cookies=True'.")
        app = self.application
        ctx = app.test_request_context(*args, **kwargs)
        self._add_cookies_to_wsgi(ctx.request.environ)
        with ctx:
            session = app.session_interface.open_session(app, ctx.request)
        if session is None:
            raise RuntimeError("Session backend did not open a session.")
        yield session

        response = app.response_class()
        if app.session_interface.is_null_session(session):
            return
        with ctx:
            app.session_interface.save_session(app, session, response)
        self._update_cookies_from_response(
            ctx.request.host.partition(":")[0],
            ctx.request.path,
            response.headers.getlist("Set-Cookie"),
        )

    def _copy_environ(self, other: dict[str, Any]) -> dict[str, Any]:
        environ = {**self.environ_base, **other}
        if self.preserve_context:
            environ["werkzeug.debug.preserve_context"] = self._new_contexts.append
        return environ

    def _request_from_builder_args(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> BaseRequest:
        kwargs["environ_base"] = self._copy_environ(kwargs.get("environ_base", {}))
        builder = EnvironBuilder(self.application, *args, **kwargs)
        try:
            return builder.get_request()
        finally:
            builder.close()

    def open(
        self,
        *args: Any,
        buffered: bool = False,
        follow_redirects: bool = False,
        **kwargs: Any,
    ) -> TestResponse:
        """Send a request to the app; takes :class:`EnvironBuilder`'s arguments."""
        request = self._request_from_args(args, kwargs)
        # Contexts kept from the previous request are released now.
        self._context_stack.close()
        response = super().open(request, buffered=buffered, follow_redirects=follow_redirects)
        response.json_module = self.application.json  # type: ignore[assignment]  # a provider has json's loads
        # Oldest first, as they were pushed: the app context, then the request
        # context, which then finds its app context already there and pushes
        # no second one (that would run the app teardown twice).
        for context in self._new_contexts:
            self._context_stack.enter_context(context)
        self._new_contexts.clear()
        return response

    def _request_from_args(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> BaseRequest:
        """A request from builder arguments, a builder, an environ dict, or a request."""
        if args and isinstance(args[0], werkzeug.test.EnvironBuilder):
            builder = copy(args[0])
            builder.environ_base = self._copy_environ(builder.environ_base or {})  # type: ignore[arg-type]  # kept as given: a dict
            return builder.get_request()
        if args and isinstance(args[0], dict):
            return EnvironBuilder.from_environ(
                args[0], app=self.application, environ_base=self._copy_environ({})
            ).get_request()
        if args and isinstance(args[0], BaseRequest):
            request = copy(args[0])
            request.environ = self._copy_environ(request.environ)
            return request
        return self._request_from_builder_args(args, kwargs)

    def __enter__(self) -> FlaskClient:
        if self.preserve_context:
            raise RuntimeError("Cannot nest client invocations")
        self.preserve_context = True
        return self

    def __exit__(
        self,
        exc_type: type | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.preserve_context = False
        self._context_stack.close()


class FlaskCliRunner(CliRunner):
    """The runner ``app.test_cli_runner()`` returns: click's, aimed at one app.

    Click's :class:`~click.testing.CliRunner` runs a command in-process and
    captures its output. This one defaults to the app's ``app.cli`` group and
    hands every command a :class:`~miniflask.cli.ScriptInfo` that returns
    the app, so commands find it without ``--app``::

        runner = app.test_cli_runner()
        result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output

    Args:
        app: the app whose commands are run.
        **kwargs: :class:`~click.testing.CliRunner`'s (``env``, ``catch_exceptions`` ...).
    """

    def __init__(self, app: Flask, **kwargs: Any) -> None:
        self.app = app
        super().__init__(**kwargs)

    def invoke(  # type: ignore[override]  # cli may be left out: app.cli
        self, cli: Any = None, args: Any = None, **kwargs: Any
    ) -> Result:
        """Run ``cli`` (default: ``app.cli``) with ``args``; see :meth:`CliRunner.invoke`.

        Pass ``obj=`` to give commands another context object than the
        ``ScriptInfo`` for this app.
        """
        from .cli import ScriptInfo

        if cli is None:
            cli = self.app.cli
        if "obj" not in kwargs:
            kwargs["obj"] = ScriptInfo(create_app=lambda: self.app)
        return super().invoke(cli, args, **kwargs)
