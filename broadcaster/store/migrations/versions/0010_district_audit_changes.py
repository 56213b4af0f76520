"""district server: stations' audit events up, schedule changes for a station down

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from broadcaster.store.models import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _station_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["station_id"], ["station.id"], name=f"fk_{table}_station_id_station", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "forwarded_audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("station_event_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        _station_fk("forwarded_audit"),
        sa.UniqueConstraint("station_id", "station_event_id", name="uq_forwarded_audit_event"),
    )
    op.create_index("ix_forwarded_audit_station_at", "forwarded_audit", ["station_id", "at"])
    op.create_table(
        "schedule_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("session_code", sa.String(length=32), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("reported_at", UTCDateTime(), nullable=True),
        _station_fk("schedule_change"),
        sa.CheckConstraint("state IN ('sent','applied','refused')", name="ck_schedule_change_state"),
    )
    op.create_index("ix_schedule_change_station", "schedule_change", ["station_id", "state"])
    op.create_table(
        "received_change",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("reported_at", UTCDateTime(), nullable=True),
        _station_fk("received_change"),
        sa.UniqueConstraint("station_id", "district_id", name="uq_received_change"),
    )


def downgrade() -> None:
    op.drop_table("received_change")
    op.drop_index("ix_schedule_change_station", table_name="schedule_change")
    op.drop_table("schedule_change")
    op.drop_index("ix_forwarded_audit_station_at", table_name="forwarded_audit")
    op.drop_table("forwarded_audit")
