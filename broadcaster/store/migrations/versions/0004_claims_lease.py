"""airing claims and the station's daemon lease (exactly once)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 22:20:00

Airings gain a claim (token, daemon instance, instant) that the daemon takes in one conditional UPDATE
before the programme goes on air, and `settled_at`, set in the transaction that writes the airing's
as-run rows. Airings already logged are marked claimed and settled at their first row, so nothing that
aired before the upgrade is aired or logged again. `daemon_lease` holds the one daemon of each station.
Columns are only added (SQLite's ALTER TABLE does that in place; batch mode keeps it portable).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from broadcaster.store.models import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE_CLAIM = "upgrade-0004"


def upgrade() -> None:
    with op.batch_alter_table("airing") as batch:
        batch.add_column(sa.Column("claim", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("claimed_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("settled_at", UTCDateTime(timezone=True), nullable=True))
    first_row = "(SELECT MIN(as_run.recorded_at) FROM as_run WHERE as_run.airing_id = airing.id)"
    op.execute(
        sa.text(
            f"UPDATE airing SET claim = :claim, claimed_by = :claim, claimed_at = {first_row}, "
            f"settled_at = {first_row} "
            "WHERE EXISTS (SELECT 1 FROM as_run WHERE as_run.airing_id = airing.id)"
        ).bindparams(claim=UPGRADE_CLAIM)
    )
    op.create_table(
        "daemon_lease",
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("home", sa.Text(), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("on_air_start", UTCDateTime(timezone=True), nullable=True),
        sa.Column("backlog", sa.Integer(), nullable=False),
        sa.CheckConstraint("state IN ('idle','on_air','stopped')", name=op.f("ck_daemon_lease_state")),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["station.id"],
            name=op.f("fk_daemon_lease_station_id_station"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("station_id", name=op.f("pk_daemon_lease")),
    )


def downgrade() -> None:
    op.drop_table("daemon_lease")
    # In place (SQLite >= 3.35 drops a column natively): recreating `airing` would fail on the as-run
    # rows' foreign keys to it.
    with op.batch_alter_table("airing", recreate="never") as batch:
        batch.drop_column("settled_at")
        batch.drop_column("claimed_at")
        batch.drop_column("claimed_by")
        batch.drop_column("claim")
