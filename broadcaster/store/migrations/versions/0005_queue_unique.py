"""the queue: one airing of a bulletin per session occurrence

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 22:20:00

A partial unique index on live (not cancelled) airings of (bulletin, planned start), which SQLite and
PostgreSQL both support, and the reason an airing left the plan. Duplicates that the old racing queue
let in are cancelled first (the oldest airing of each pair stays), so the index can be built.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from broadcaster.store.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

INDEX = "uq_airing_live_bulletin_start"
LIVE = sa.text("cancelled_at IS NULL")
DUPLICATE_REASON = "trùng lượt phát cùng bản tin trong một buổi (gỡ khi nâng cấp cơ sở dữ liệu)"


def upgrade() -> None:
    with op.batch_alter_table("airing") as batch:
        batch.add_column(sa.Column("cancel_reason", sa.Text(), nullable=True))
    _cancel_duplicates()
    with op.batch_alter_table("airing") as batch:
        batch.create_index(
            INDEX, ["bulletin_id", "planned_start"], unique=True, sqlite_where=LIVE, postgresql_where=LIVE
        )


def _cancel_duplicates() -> None:
    airing = sa.table(
        "airing",
        sa.column("id", sa.Integer()),
        sa.column("bulletin_id", sa.Integer()),
        sa.column("planned_start", UTCDateTime()),
        sa.column("cancelled_at", UTCDateTime()),
        sa.column("cancelled_by", sa.String()),
        sa.column("cancel_reason", sa.Text()),
    )
    bind = op.get_bind()
    live = sa.select(airing.c.id, airing.c.bulletin_id, airing.c.planned_start).where(
        airing.c.cancelled_at.is_(None)
    )
    seen: set[tuple[int, datetime]] = set()
    duplicates: list[int] = []
    for airing_id, bulletin_id, start in bind.execute(live.order_by(airing.c.id)):
        key = (bulletin_id, start)
        if key in seen:
            duplicates.append(airing_id)
        seen.add(key)
    if duplicates:
        bind.execute(
            sa.update(airing)
            .where(airing.c.id.in_(duplicates))
            .values(cancelled_at=datetime.now(UTC), cancelled_by="migration", cancel_reason=DUPLICATE_REASON)
        )


def downgrade() -> None:
    with op.batch_alter_table("airing") as batch:
        batch.drop_index(INDEX)
        batch.drop_column("cancel_reason")
