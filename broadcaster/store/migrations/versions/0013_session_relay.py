"""a session's relay (tiếp sóng): its source, length, place and filler

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("broadcast_session") as batch:
        batch.add_column(sa.Column("relay", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("broadcast_session") as batch:
        batch.drop_column("relay")
