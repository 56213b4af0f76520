"""as-run lookups by airing and by planned start (the week view, the dashboard, settling)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 06:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_as_run_airing", "as_run", ["airing_id"])
    op.create_index("ix_as_run_station_planned", "as_run", ["station_id", "planned_start"])


def downgrade() -> None:
    op.drop_index("ix_as_run_station_planned", table_name="as_run")
    op.drop_index("ix_as_run_airing", table_name="as_run")
