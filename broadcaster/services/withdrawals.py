"""Taking a bulletin's future airings out of the plan (retired, edited, re-imported), with the reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.services import audit
from broadcaster.store import db
from broadcaster.store.models import AiringRow, BulletinRow

# Why airings leave the plan (kept on the airing row and in the audit trail).
REASON_RETIRED = "bản tin ngừng phát"
REASON_EDITED = "bản tin được sửa, phải duyệt lại"
REASON_IMPORTED = "nội dung bản tin đổi khi nhập tệp lịch, phải duyệt lại"
REASON_UNQUEUED = "người vận hành rút khỏi buổi phát"


@dataclass(frozen=True)
class Withdrawn:
    """A future airing taken out of the plan, with who had queued it."""

    airing_id: int
    planned_start: datetime
    session_code: str
    queued_by: str


def future_airings(session: Session, bulletin_id: int, now: datetime) -> list[AiringRow]:
    """A bulletin's airings still in the plan (not cancelled) whose session has not started."""
    q = (
        select(AiringRow)
        .where(AiringRow.bulletin_id == bulletin_id, AiringRow.cancelled_at.is_(None))
        .where(AiringRow.planned_start > now)
        .order_by(AiringRow.planned_start, AiringRow.position, AiringRow.id)
    )
    return list(session.scalars(q))


def withdraw_future_airings(
    session: Session, row: BulletinRow, *, actor: str, now: datetime, reason: str
) -> list[Withdrawn]:
    """Take the bulletin's future airings out of the plan (marked cancelled with the reason, audited)."""
    db.lock_station_plan(session, row.station_id)  # a racing `schedule queue` waits, then sees the change
    out = []
    for airing in future_airings(session, row.id, now):
        airing.cancelled_at, airing.cancelled_by, airing.cancel_reason = now, actor, reason
        out.append(Withdrawn(airing.id, airing.planned_start, airing.session_code, airing.queued_by))
        audit.record(
            session,
            actor=actor,
            action="airing.withdraw",
            object_type="airing",
            object_id=airing.id,
            now=now,
            bulletin=row.id,
            reason=reason,
            queued_by=airing.queued_by,
            planned_start=airing.planned_start.isoformat(),
        )
    session.flush()
    return out
