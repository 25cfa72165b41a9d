"""The blog as an OAuth 2.0 authorisation server for third-party apps, on Authlib.

Authlib's framework-neutral server (``authlib.oauth2``) does the protocol:
the authorization code grant (RFC 6749 §4.1) with PKCE (RFC 7636), the
refresh token grant (§6), client authentication (§2.3), revocation (RFC
7009), introspection (RFC 7662) and the ``iss`` parameter (RFC 9207). This
package is what Authlib asks of the blog, one module per part:

* ``server.py``: :class:`~blog_api.oauth.server.BlogAuthorizationServer`,
  the adapter between Authlib and ``fw.request`` and the framework's
  responses (Authlib's Flask integration imports Flask, and the blog also
  runs on miniflask), the parameter checks, the error conversion, and
  where the server is (issuer, RFC 8414 metadata, RFC 9207 ``iss``);
* ``grants.py``: the authorization code and refresh token grants, PKCE
  (S256 only), and our rows as Authlib's models; its docstring lists what
  the blog decides on top of Authlib's defaults (RFC 9700);
* ``endpoints.py``: revocation and introspection, and the token lookups
  they share;
* ``cli.py``: the ``clients`` commands that register the apps.

The views that serve it live with the rest of the web layer: the token,
revocation and introspection endpoints in ``blog_api/auth.py``, the
authorisation endpoint (the consent page) in ``blog_api/site/consent.py``,
the metadata document in ``blog_api/meta.py``.
"""
