"""Fill to meet targets: gather the planner's inputs from the database, apply its proposals via the queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import planning
from broadcaster.domain import BulletinStatus, Outcome, Priority, Role, Station
from broadcaster.errors import InputError
from broadcaster.planning import fill
from broadcaster.services import bulletins, queue
from broadcaster.services.stations import campaigns_domain, station_domain
from broadcaster.services.users import require_role
from broadcaster.store.models import AiringRow, AsRunRow, BulletinRow, RevisionRow, StationRow

# History reaches back this far before the range: a month for monthly targets, plus the longest gap limit.
HISTORY_MARGIN = timedelta(days=31)


@dataclass(frozen=True)
class FillOutcome:
    """The planner's result and, when applied, the ids of the airings it queued."""

    station: Station
    result: fill.FillResult
    queued: list[int]


def candidates(
    session: Session, station_row: StationRow, duration_of: queue.DurationOf
) -> list[fill.Candidate]:
    """Approved bulletins with their air duration (rendered if missing) and when each last aired."""
    out = []
    for b in bulletins.list_bulletins(session, station_row.id, status=BulletinStatus.APPROVED.value):
        rev = bulletins.approved_revision(b)
        last = session.scalar(
            select(AsRunRow.actual_start)
            .where(AsRunRow.bulletin_id == b.id, AsRunRow.outcome == Outcome.COMPLETED.value)
            .order_by(AsRunRow.actual_start.desc())
            .limit(1)
        )
        out.append(fill.Candidate(b.id, b.campaign.code, duration_of(rev), last))
    return out


def queued_items(
    session: Session, station_row: StationRow, start: datetime, end: datetime, duration_of: queue.DurationOf
) -> list[planning.QueuedItem]:
    """Queued airings in [start, end) as the planner counts them."""
    out = []
    for a in queue.active_airings(session, station_row.id, start, end):
        bulletin = session.get_one(BulletinRow, a.bulletin_id)
        rev = session.get_one(RevisionRow, a.revision_id)
        out.append(
            planning.QueuedItem(
                a.planned_start,
                a.bulletin_id,
                bulletin.campaign.code,
                duration_of(rev),
                Priority(a.priority),
                a.position,
            )
        )
    return out


def history(session: Session, station_row: StationRow, since: datetime) -> list[fill.Aired]:
    """Completed airings since `since` from the as-run log."""
    q = (
        select(AsRunRow)
        .where(AsRunRow.station_id == station_row.id, AsRunRow.outcome == Outcome.COMPLETED.value)
        .where(AsRunRow.actual_start >= since, AsRunRow.campaign_code.is_not(None))
        .order_by(AsRunRow.actual_start)
    )
    return [
        fill.Aired(r.campaign_code or "", r.actual_start, r.played_ms / 1000)
        for r in session.scalars(q)
        if r.actual_start is not None
    ]


def fill_range(
    session: Session,
    station_row: StationRow,
    start: date,
    end: date,
    *,
    actor: str | None,
    now: datetime,
    lengths: queue.Lengths,
    apply: bool = False,
) -> FillOutcome:
    """Propose bulletins for local dates start..end so campaigns meet their targets; queue them if `apply`."""
    require_role(session, actor, Role.OPERATOR)
    planning.check_day_order(start, end, "Đổi lại --from và --to.")
    if (end - start).days > 92:
        raise InputError("Khoảng ngày quá dài để xếp lịch tự động.", "Xếp tối đa ba tháng mỗi lần.")
    station = station_domain(session, station_row)
    campaigns = campaigns_domain(session, station_row.id)
    lo, hi = planning.local_window(planning.station_zone(station), start, end)
    longest_gap = max((c.target.max_gap_days or 0 for c in campaigns), default=0)
    since = lo - HISTORY_MARGIN - timedelta(days=longest_gap)
    result = fill.fill(
        station,
        campaigns,
        candidates(session, station_row, lengths.duration_of),
        queued_items(session, station_row, min(now, lo), hi, lengths.duration_of),
        history(session, station_row, since),
        lengths.shape,
        start,
        end,
        now,
    )
    made: list[int] = []
    if apply:
        for p in result.proposals:
            row: AiringRow = queue.queue(
                session,
                station_row,
                station,
                p.occurrence,
                p.candidate.bulletin_id,
                actor=actor,
                now=now,
                lengths=lengths,
            )
            made.append(row.id)
    return FillOutcome(station, result, made)
