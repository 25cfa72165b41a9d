"""users.notify_on_comments: whether comments on a user's posts are mailed to them.

Written by hand in the style of 0002, for the comment notifications of
``services/comments.py``:

* **Expand only.** The column is NOT NULL with a server default, so the
  ``ALTER TABLE`` fills every existing row and code from before this revision
  (which never names the column) keeps inserting users.
* **Data.** Every existing user gets ``true``: the mails are the feature's
  default, and each user can turn them off (``PATCH /users/<id>``).
* **Downgrade** drops the column (SQLite rebuilds ``users``, as in 0002).

Revision ID: 0005
Revises: 0004
Created: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the column; its server default fills the existing rows."""
    op.add_column(
        "users",
        sa.Column("notify_on_comments", sa.Boolean(), nullable=False, server_default=sa.true()),
    )


def downgrade() -> None:
    """Drop the column (SQLite rebuilds the table for it: batch mode)."""
    with op.batch_alter_table("users") as batch:
        batch.drop_column("notify_on_comments")
    if op.get_bind().dialect.name == "sqlite":
        # As in 0002: batch mode copies the table as SQLite's reflection
        # describes it, which cannot see expression indexes.
        for column in ("username", "email"):
            op.create_index(
                f"ux_users_{column}_lower", "users", [sa.text(f"lower({column})")], unique=True
            )
