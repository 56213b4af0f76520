"""district server: indexes for the wards × campaigns table (never-started rows, corrections)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 17:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    unaired = sa.text("actual_start IS NULL")
    op.create_index(
        "ix_forwarded_unaired",
        "forwarded_as_run",
        ["campaign_code", "planned_start"],
        postgresql_where=unaired,
        sqlite_where=unaired,
    )
    corrections = sa.text("corrects_id IS NOT NULL")
    op.create_index(
        "ix_forwarded_corrections",
        "forwarded_as_run",
        ["station_id", "corrects_id"],
        postgresql_where=corrections,
        sqlite_where=corrections,
    )
    op.create_index("ix_forwarded_station_row", "forwarded_as_run", ["station_id", "station_row_id"])


def downgrade() -> None:
    op.drop_index("ix_forwarded_station_row", table_name="forwarded_as_run")
    op.drop_index("ix_forwarded_corrections", table_name="forwarded_as_run")
    op.drop_index("ix_forwarded_unaired", table_name="forwarded_as_run")
