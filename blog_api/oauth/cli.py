"""The ``clients`` commands: register, list and delete third-party apps (OAuth 2.0 clients).

::

    flask --app blog_api.wsgi clients create --name "Reader app" \\
        --redirect-uri https://reader.example/callback --scope "posts:read profile"
    flask --app blog_api.wsgi clients create --name "Phone app" --public \\
        --redirect-uri http://127.0.0.1:8765/callback
    flask --app blog_api.wsgi clients list
    flask --app blog_api.wsgi clients delete CLIENT_ID

``create`` prints the client id and, for a confidential client, its secret:
only once, since the database keeps the secret's hash alone
(``blog_api/services/oauth_clients.py``). The operator hands both to the app's
developer. ``--public`` registers an app that cannot keep a secret (in a
browser or on a phone); it authenticates with nothing but its id, and PKCE
protects its codes.
"""

from __future__ import annotations

from typing import Any

import click

from blog_api.services import oauth_clients


def clients_group(database: Any) -> click.Group:
    """The ``clients`` commands, bound to the app's database (``db.Database``).

    Example::

        app.cli.add_command(clients_group(app.extensions["blog_db"]))   # in register_commands
    """

    @click.group("clients")
    def clients() -> None:
        """Third-party apps that may ask users for access (OAuth 2.0 clients)."""

    @clients.command("create")
    @click.option("--name", required=True, help="The app's name, shown on the consent page.")
    @click.option(
        "--redirect-uri",
        "redirect_uris",
        multiple=True,
        required=True,
        help="Where codes are sent (https, or http to the loopback); repeat for several.",
    )
    @click.option(
        "--scope",
        default=None,
        help='What it may ask for, e.g. "posts:read profile" (default: every third-party scope).',
    )
    @click.option("--public", is_flag=True, help="An app that cannot keep a secret: no secret.")
    def create(name: str, redirect_uris: tuple[str, ...], scope: str | None, public: bool) -> None:
        """Register an app; print its client id and (once) its secret."""
        with database.session_factory() as session:
            try:
                client, secret = oauth_clients.register(
                    session, name, list(redirect_uris), scope, public=public
                )
            except oauth_clients.ClientRegistrationError as e:
                raise click.UsageError(str(e)) from None
            session.commit()
            click.echo(f"client_id: {client.client_id}")
            if secret is None:
                click.echo("public client: no secret (it must use PKCE, as every client does)")
            else:
                click.echo(f"client_secret: {secret}")
                click.echo("The secret is shown only now; the blog keeps only its hash.")

    @clients.command("list")
    def list_command() -> None:
        """List the apps: client id, kind, scope, name, redirect URIs."""
        with database.session_factory() as session:
            registered = oauth_clients.list_clients(session)
            for client in registered:
                kind = "confidential" if oauth_clients.is_confidential(client) else "public"
                uris = " ".join(oauth_clients.redirect_uris(client))
                click.echo(f"{client.client_id}\t{kind}\t{client.scope}\t{client.name}\t{uris}")
            click.echo(f"{len(registered)} client(s)")

    @clients.command("delete")
    @click.argument("client_id")
    def delete(client_id: str) -> None:
        """Delete an app, with its codes and refresh tokens."""
        with database.session_factory() as session:
            if not oauth_clients.delete_client(session, client_id):
                raise click.ClickException(f"no client {client_id!r}")
            session.commit()
        click.echo(f"deleted {client_id}")

    return clients
