"""off-air verdicts: what the station's ear heard while each as-run row aired

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from broadcaster.store.models import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "off_air",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("as_run_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("similarity", sa.Float(), nullable=False),
        sa.Column("dead_air_ms", sa.Integer(), nullable=False),
        sa.Column("delay_ms", sa.Integer(), nullable=False),
        sa.Column("detected_at", UTCDateTime(), nullable=False),
        sa.Column("recording", sa.Text(), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["station_id"], ["station.id"], name="fk_off_air_station_id_station"),
        sa.ForeignKeyConstraint(["as_run_id"], ["as_run.id"], name="fk_off_air_as_run_id_as_run"),
        sa.PrimaryKeyConstraint("id", name="pk_off_air"),
        sa.UniqueConstraint("as_run_id", name="uq_off_air_as_run_id"),
        sa.CheckConstraint("verdict IN ('heard','silent','different')", name="ck_off_air_verdict"),
    )
    op.create_index("ix_off_air_station_detected", "off_air", ["station_id", "detected_at"])


def downgrade() -> None:
    op.drop_index("ix_off_air_station_detected", table_name="off_air")
    op.drop_table("off_air")
