"""district server: bulletins sent down to wards (and what each ward did), stations' heartbeats

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from broadcaster.store.models import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("forward_state") as batch:
        batch.add_column(sa.Column("heartbeat", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("heartbeat_at", UTCDateTime(), nullable=True))
    op.create_table(
        "dispatch",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("spoken_text", sa.Text(), nullable=False),
        sa.Column("spoken_sha256", sa.String(length=64), nullable=False),
        sa.Column("campaign_code", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=True),
        sa.Column("audio_path", sa.Text(), nullable=False),
        sa.Column("audio_sha256", sa.String(length=64), nullable=False),
        sa.Column("audio_ext", sa.String(length=8), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("integrated_lufs", sa.Float(), nullable=True),
        sa.Column("true_peak_dbtp", sa.Float(), nullable=True),
        sa.Column("engine", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("level IN ('normal','priority','emergency')", name="ck_dispatch_level"),
        sa.CheckConstraint(
            "level <> 'emergency' OR valid_until IS NOT NULL", name="ck_dispatch_emergency_window"
        ),
    )
    op.create_index("ix_dispatch_audio", "dispatch", ["audio_sha256"])
    op.create_table(
        "dispatch_target",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("dispatch_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("planned_start", UTCDateTime(), nullable=True),
        sa.Column("reported_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dispatch_id"], ["dispatch.id"], name="fk_dispatch_target_dispatch_id_dispatch", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["station_id"], ["station.id"], name="fk_dispatch_target_station_id_station", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("dispatch_id", "station_id", name="uq_dispatch_target"),
        sa.CheckConstraint(
            "state IN ('sent','received','queued','on_air','missed','refused')", name="ck_dispatch_target_state"
        ),
    )
    op.create_index("ix_dispatch_target_station", "dispatch_target", ["station_id", "state"])
    op.create_table(
        "received_dispatch",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("bulletin_id", sa.Integer(), nullable=True),
        sa.Column("airing_id", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("reported_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["station_id"], ["station.id"], name="fk_received_dispatch_station_id_station", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["bulletin_id"], ["bulletin.id"], name="fk_received_dispatch_bulletin_id_bulletin"
        ),
        sa.UniqueConstraint("station_id", "district_id", name="uq_received_dispatch"),
    )


def downgrade() -> None:
    op.drop_table("received_dispatch")
    op.drop_index("ix_dispatch_target_station", table_name="dispatch_target")
    op.drop_table("dispatch_target")
    op.drop_index("ix_dispatch_audio", table_name="dispatch")
    op.drop_table("dispatch")
    with op.batch_alter_table("forward_state") as batch:
        batch.drop_column("heartbeat_at")
        batch.drop_column("heartbeat")
