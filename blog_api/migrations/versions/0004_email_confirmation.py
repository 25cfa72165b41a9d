"""users.email_confirmed_at and the ``email_confirmations`` links that set it.

Written by hand in the style of 0002, for ``services/email_confirmations.py``:

* **Expand only.** A nullable column and a new table; code from before this
  revision never names them and keeps working while hosts are upgraded.
* **No data migration.** Nobody has confirmed an address before this
  revision, so every existing user starts unconfirmed (NULL). Nothing changes
  for them unless a deployment sets ``BLOG_REQUIRE_CONFIRMED_EMAIL``; one that
  does should ask its users to confirm first (``POST /auth/confirm-email/resend``).
* **Downgrade** drops the table and the column: confirmations are forgotten,
  which is what going back to a schema without them means.

Revision ID: 0004
Revises: 0003
Created: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# As in 0001: models.UTCDateTime is a plain DATETIME holding naive UTC.
TIMESTAMP = sa.DateTime()


def upgrade() -> None:
    """Add the column, then the table of links."""
    op.add_column("users", sa.Column("email_confirmed_at", TIMESTAMP, nullable=True))
    op.create_table(
        "email_confirmations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP, nullable=True),
    )
    op.create_index("ix_email_confirmations_user_id", "email_confirmations", ["user_id"])


def downgrade() -> None:
    """Drop the table, then the column (SQLite rebuilds ``users`` for it: batch mode)."""
    op.drop_table("email_confirmations")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("email_confirmed_at")
    if op.get_bind().dialect.name == "sqlite":
        # As in 0002: batch mode copies the table as SQLite's reflection
        # describes it, which cannot see expression indexes.
        for column in ("username", "email"):
            op.create_index(
                f"ux_users_{column}_lower", "users", [sa.text(f"lower({column})")], unique=True
            )
