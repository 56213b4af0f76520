"""district server: each station's forwarded as-run chain, and where it stands

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from broadcaster.store.models import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forwarded_as_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("row_hash", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("campaign_code", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("planned_start", UTCDateTime(), nullable=True),
        sa.Column("actual_start", UTCDateTime(), nullable=True),
        sa.Column("played_ms", sa.Integer(), nullable=False),
        sa.Column("clip_ms", sa.Integer(), nullable=False),
        sa.Column("station_row_id", sa.Integer(), nullable=True),
        sa.Column("corrects_id", sa.Integer(), nullable=True),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"], ["station.id"], name="fk_forwarded_as_run_station_id_station", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("station_id", "seq", name="uq_forwarded_station_seq"),
    )
    op.create_index("ix_forwarded_station_start", "forwarded_as_run", ["station_id", "actual_start"])
    op.create_index("ix_forwarded_campaign", "forwarded_as_run", ["campaign_code", "actual_start"])
    op.create_table(
        "forward_state",
        sa.Column("station_id", sa.Integer(), primary_key=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("last_contact_at", UTCDateTime(), nullable=True),
        sa.Column("signed_head", sa.JSON(), nullable=True),
        sa.Column("broken_at", UTCDateTime(), nullable=True),
        sa.Column("broken_reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"], ["station.id"], name="fk_forward_state_station_id_station", ondelete="CASCADE"
        ),
    )


def downgrade() -> None:
    op.drop_table("forward_state")
    op.drop_index("ix_forwarded_campaign", table_name="forwarded_as_run")
    op.drop_index("ix_forwarded_station_start", table_name="forwarded_as_run")
    op.drop_table("forwarded_as_run")
