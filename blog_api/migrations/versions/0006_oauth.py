"""OAuth 2.0 tables: registered clients, authorisation codes, linked sign-in identities.

Written by hand in the style of 0002, for the blog as an authorisation server
(``blog_api/oauth/``) and as an OpenID Connect client
(``blog_api/oidc.py``):

* **Expand only.** Three new tables and two nullable columns on
  ``refresh_tokens`` (the client a token was issued to, and its scopes); code
  from before this revision never names them and keeps working while hosts
  are upgraded. Existing refresh tokens get NULL in both, which means the
  blog's own log in with every scope: what they were.
* **SQLite** cannot add a foreign key to an existing table with ``ALTER
  TABLE``, so ``refresh_tokens`` gets its columns in batch mode (the table is
  copied); PostgreSQL gets plain ``ALTER TABLE`` statements from the same code.
* **Downgrade** drops the columns and the tables: clients, codes and linked
  identities are forgotten, and users who signed in only through a provider
  keep their accounts (with no usable password: "forgot password" gives them one).

Revision ID: 0006
Revises: 0005
Created: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# As in 0001: models.UTCDateTime is a plain DATETIME holding naive UTC.
TIMESTAMP = sa.DateTime()


def upgrade() -> None:
    """The clients first (the others refer to them), then codes, identities, token columns."""
    op.create_table(
        "oauth_clients",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("client_id", sa.String(48), nullable=False, unique=True),
        sa.Column("secret_hash", sa.String(64), nullable=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("redirect_uris", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_table(
        "oauth_authorization_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("client_id", sa.String(48), _client_key(), nullable=False),
        sa.Column("user_id", sa.Integer(), _user_key(), nullable=False),
        sa.Column("redirect_uri", sa.Text(), nullable=False),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("code_challenge", sa.String(128), nullable=False),
        sa.Column("code_challenge_method", sa.String(10), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP, nullable=True),
        sa.Column("family_id", sa.String(32), nullable=True),
    )
    for column in ("client_id", "user_id"):
        op.create_index(
            f"ix_oauth_authorization_codes_{column}", "oauth_authorization_codes", [column]
        )
    op.create_table(
        "user_identities",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), _user_key(), nullable=False),
        sa.Column("issuer", sa.String(255), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("issuer", "subject", name="uq_user_identities_issuer"),
    )
    op.create_index("ix_user_identities_user_id", "user_identities", ["user_id"])
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.add_column(sa.Column("client_id", sa.String(48), nullable=True))
        batch.add_column(sa.Column("scope", sa.String(200), nullable=True))
        batch.create_foreign_key(
            "fk_refresh_tokens_client_id",
            "oauth_clients",
            ["client_id"],
            ["client_id"],
            ondelete="CASCADE",
        )
        batch.create_index("ix_refresh_tokens_client_id", ["client_id"])


def downgrade() -> None:
    """Drop the token columns, then the tables."""
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.drop_index("ix_refresh_tokens_client_id")
        batch.drop_constraint("fk_refresh_tokens_client_id", type_="foreignkey")
        batch.drop_column("scope")
        batch.drop_column("client_id")
    op.drop_table("user_identities")
    op.drop_table("oauth_authorization_codes")
    op.drop_table("oauth_clients")


def _client_key() -> sa.ForeignKey:
    return sa.ForeignKey("oauth_clients.client_id", ondelete="CASCADE")


def _user_key() -> sa.ForeignKey:
    return sa.ForeignKey("users.id", ondelete="CASCADE")
