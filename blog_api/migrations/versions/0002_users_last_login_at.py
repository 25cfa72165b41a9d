"""users.last_login_at: when the user last logged in, filled in from their refresh tokens.

The workflow of every change to ``models.py``, on a small one: the column was
added to ``User``, then ``miniflask --app blog_api.wsgi db revision -m "users
last_login_at"`` drafted this file, and the draft was edited:

* **Expand only.** The column is nullable, so code from before this revision
  (which never names it) keeps inserting users while hosts are upgraded one by
  one; nothing is dropped or renamed here.
* **Data, not only schema.** Users who logged in before the column existed
  did so through the token endpoint or the reader site, and each such login
  left a refresh token or a site session with its ``created_at``; the latest
  of those is their last login. Users with neither keep NULL ("never", or not
  since their tokens were swept away): a guess would be worse.
* **Downgrade** drops the column; the login times are lost with it, which is
  what going back to a schema without them means.

Revision ID: 0002
Revises: 0001
Created: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Only what this revision touches, as it was at this revision (never the models).
users = sa.table("users", sa.column("id", sa.Integer()), sa.column("last_login_at", sa.DateTime()))
refresh_tokens = sa.table(
    "refresh_tokens", sa.column("user_id", sa.Integer()), sa.column("created_at", sa.DateTime())
)
site_sessions = sa.table(
    "site_sessions", sa.column("user_id", sa.Integer()), sa.column("created_at", sa.DateTime())
)


def upgrade() -> None:
    """Add the column, then one UPDATE fills it for every user at once."""
    op.add_column("users", sa.Column("last_login_at", sa.DateTime(), nullable=True))
    logins = sa.union_all(
        sa.select(refresh_tokens.c.user_id, refresh_tokens.c.created_at),
        sa.select(site_sessions.c.user_id, site_sessions.c.created_at),
    ).subquery("logins")
    latest = (
        sa.select(sa.func.max(logins.c.created_at))
        .where(logins.c.user_id == users.c.id)
        .scalar_subquery()
    )
    op.execute(users.update().values(last_login_at=latest))


def downgrade() -> None:
    """Drop the column (SQLite rebuilds the table for it: batch mode)."""
    with op.batch_alter_table("users") as batch:
        batch.drop_column("last_login_at")
    if op.get_bind().dialect.name == "sqlite":
        # Batch mode copies the table as SQLite's reflection describes it, and
        # that cannot see expression indexes: the rebuilt table lacks them.
        for column in ("username", "email"):
            op.create_index(
                f"ux_users_{column}_lower", "users", [sa.text(f"lower({column})")], unique=True
            )
