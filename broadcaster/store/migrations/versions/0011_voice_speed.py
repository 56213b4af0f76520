"""a revision's voice and reading speed (part of what the leader approves)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Revisions written before: "" (the station's chain, as they were rendered) at normal speed.
    with op.batch_alter_table("bulletin_revision") as batch:
        batch.add_column(sa.Column("voice", sa.String(length=200), nullable=False, server_default=""))
        batch.add_column(sa.Column("speed", sa.Float(), nullable=False, server_default="1.0"))


def downgrade() -> None:
    with op.batch_alter_table("bulletin_revision") as batch:
        batch.drop_column("speed")
        batch.drop_column("voice")
