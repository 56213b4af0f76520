"""user title (e.g. "Phó Chủ tịch UBND phường") for signature blocks

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 11:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("title", sa.String(length=200), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("title")
