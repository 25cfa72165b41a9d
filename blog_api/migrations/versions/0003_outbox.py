"""The transactional outbox (``outbox_jobs``) and "forgot password" links (``password_resets``).

Written by hand in the style of 0002, for the jobs of ``blog_api/jobs.py``
and the reset flow of ``blog_api/auth.py``:

* **Expand only.** Two new tables; nothing existing changes, so code from
  before this revision keeps running against the upgraded schema while hosts
  are upgraded one by one (it simply never writes a job).
* **No data to move.** No job or reset link existed before.
* **Downgrade** drops both tables: pending jobs (mail not yet sent) and
  unused reset links are lost with them, which is what going back to a code
  without mail means. Run ``jobs run`` first to deliver what is pending.

Revision ID: 0003
Revises: 0002
Created: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# As in 0001: models.UTCDateTime is a plain DATETIME holding naive UTC.
TIMESTAMP = sa.DateTime()


def upgrade() -> None:
    """Create the two tables with their indexes."""
    op.create_table(
        "outbox_jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("claimed_until", TIMESTAMP, nullable=True),
        sa.Column("claim_token", sa.String(32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("done_at", TIMESTAMP, nullable=True),
    )
    # The dispatcher's question: pending jobs due by now, oldest first.
    op.create_index(
        "ix_outbox_jobs_status_next_attempt_at", "outbox_jobs", ["status", "next_attempt_at"]
    )
    op.create_table(
        "password_resets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP, nullable=True),
    )
    op.create_index("ix_password_resets_user_id", "password_resets", ["user_id"])


def downgrade() -> None:
    """Drop both tables (and so their indexes)."""
    op.drop_table("password_resets")
    op.drop_table("outbox_jobs")
