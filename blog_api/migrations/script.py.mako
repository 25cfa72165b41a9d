"""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Created: ${create_date}
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
${imports if imports else ""}
revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade() -> None:
    """Expand first: a change the code still running elsewhere can live with."""
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    """The exact reverse of :func:`upgrade`, data included where it can be."""
    ${downgrades if downgrades else "pass"}
