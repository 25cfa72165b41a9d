"""A real OpenID Connect provider for the sign-in tests: ``oidc-provider-mock`` on 127.0.0.1.

``oidc-provider-mock`` is a provider made for testing clients, built on
Authlib's authorization server (and on real Flask, whatever framework the blog
under test runs on). It accepts any client id and secret, signs ID tokens
with an RSA key of its own (RS256) published at its JWKS endpoint, and its
authorization page is a form: POSTing ``sub`` signs that subject in, POSTing
``action=deny`` refuses. ``PUT /users/<sub>`` sets the claims it will
report for a subject (``email``, ``email_verified``, ``preferred_username``...).

:class:`MockProvider` serves it with Werkzeug's threaded server on a port the
kernel picks; the test modules make fixtures of it.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import oidc_provider_mock
import requests
from werkzeug.serving import BaseWSGIServer, make_server

TIMEOUT = 10.0  # seconds for any request to the provider


class MockProvider:
    """``oidc-provider-mock`` on ``127.0.0.1:<free port>``, until :meth:`stop`.

    Args:
        require_nonce: the provider refuses authorization requests without a
            ``nonce`` (the blog always sends one, so tests run with it on).
    """

    def __init__(self, require_nonce: bool = True) -> None:
        app = oidc_provider_mock.app(require_nonce=require_nonce)
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        #: The issuer: the provider names itself after the host it is asked on.
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.discovery_url = f"{self.url}/.well-known/openid-configuration"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def __enter__(self) -> MockProvider:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def settings(self, name: str = "Mock ID") -> dict[str, Any]:
        """The blog's ``OIDC_*`` settings for this provider."""
        return {
            "OIDC_DISCOVERY_URL": self.discovery_url,
            "OIDC_CLIENT_ID": "blog-client",
            "OIDC_CLIENT_SECRET": "blog-client-secret",
            "OIDC_NAME": name,
        }

    def set_user(self, sub: str, **claims: Any) -> None:
        """Tell the provider what to claim about ``sub`` (``PUT /users/<sub>``)."""
        response = requests.put(
            f"{self.url}/users/{quote(sub, safe='')}", json=claims, timeout=TIMEOUT
        )
        assert response.status_code == 204, response.text

    def authorize(self, authorization_url: str, sub: str) -> str:
        """Sign ``sub`` in on the provider's form; the callback URL it redirects to."""
        return self._submit(authorization_url, {"sub": sub})

    def deny(self, authorization_url: str) -> str:
        """Press "Deny" on the provider's form; the callback URL it redirects to."""
        return self._submit(authorization_url, {"action": "deny"})

    def _submit(self, authorization_url: str, form: dict[str, str]) -> str:
        assert authorization_url.startswith(self.url + "/"), authorization_url
        response = requests.post(
            authorization_url, data=form, allow_redirects=False, timeout=TIMEOUT
        )
        assert response.status_code == 302, response.text
        return str(response.headers["Location"])

    def stop(self) -> None:
        """Stop serving and free the port."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=TIMEOUT)


def path_and_query(url: str) -> str:
    """``http://host/a?b=c`` -> ``/a?b=c``: what a test client's ``get`` takes."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def query(url: str) -> dict[str, str]:
    """The query parameters of ``url``, one value each."""
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
