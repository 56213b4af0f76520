"""The operator's queue: approved revisions placed into sessions, checked against capacity and hours."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from broadcaster import labels, planning
from broadcaster.domain import EMERGENCY_SESSION, MANUAL_SESSION, Priority, Role, SessionOccurrence, Station
from broadcaster.errors import InputError, InvalidStateError, NotFoundError, PlanningError

# Re-exported: the web console's schedule views call queue.local_window; new code uses planning's.
from broadcaster.planning.calendar import local_window as local_window
from broadcaster.services import audit, bulletins
from broadcaster.services.users import require_role
from broadcaster.services.withdrawals import REASON_UNQUEUED
from broadcaster.store import db
from broadcaster.store.models import AiringRow, BulletinRow, CampaignRow, RevisionRow, StationRow

DurationOf = Callable[[RevisionRow], float]


@dataclass(frozen=True)
class Lengths:
    """How long a station's programmes run: the frame around the items and each revision's air seconds."""

    shape: planning.ProgrammeShape
    duration_of: DurationOf


@dataclass(frozen=True)
class PlannedItem:
    """One queued airing with what the plan view shows."""

    airing_id: int
    planned_start: datetime
    session_code: str
    position: int
    bulletin_id: int
    title: str
    campaign_code: str
    revision_number: int
    priority: Priority
    queued_by: str
    duration_s: float | None = None


def active_airings(session: Session, station_id: int, start: datetime, end: datetime) -> list[AiringRow]:
    """Queued (not cancelled) airings with planned_start in [start, end), in air order."""
    q = (
        select(AiringRow)
        .where(AiringRow.station_id == station_id, AiringRow.cancelled_at.is_(None))
        .where(AiringRow.planned_start >= start, AiringRow.planned_start < end)
        .order_by(AiringRow.planned_start, AiringRow.position, AiringRow.id)
    )
    return list(session.scalars(q))


def session_airings(session: Session, station_id: int, occurrence_start: datetime) -> list[AiringRow]:
    """The airings queued into one session occurrence."""
    return active_airings(session, station_id, occurrence_start, occurrence_start + timedelta(microseconds=1))


def resolve_occurrence(
    station: Station, now: datetime, day: date | None, at: time | None
) -> SessionOccurrence:
    """The session named by date and local time, or the next one after now."""
    if day is not None and at is not None:
        occ = planning.find_occurrence(station, day, at)
        if occ.start <= now:
            raise PlanningError("Buổi phát này đã qua.", "Chọn một buổi phát sắp tới, hoặc dùng --next.")
        return occ
    return planning.next_occurrence(station, now, min_lead=timedelta(seconds=1))


def queue(
    session: Session,
    station_row: StationRow,
    station: Station,
    occurrence: SessionOccurrence,
    bulletin_id: int,
    *,
    actor: str | None,
    now: datetime,
    lengths: Lengths,
    priority: Priority = Priority.NORMAL,
    check_hours: bool = True,
) -> AiringRow:
    """Put a bulletin's approved revision into a session after checking period, hours and capacity.

    The decision is one transaction under the station's plan lock (see `db.lock_station_plan`): two
    commands racing for the same session cannot both pass the duplicate or the capacity check, and the
    database's unique index on live airings refuses a duplicate that bypassed the lock.
    """
    user = require_role(session, actor, Role.OPERATOR)
    bulletin = _bulletin_of(session, station_row, bulletin_id)
    revision = bulletins.approved_revision(bulletin)
    check_campaign_period(bulletin.campaign, station, occurrence.start, priority)
    shape, duration_of = lengths.shape, lengths.duration_of
    new = duration_of(revision)  # may render speech: done before the lock, so no one waits for the TTS
    db.lock_station_plan(session, station_row.id)
    session.refresh(bulletin, ["status", "revisions"])  # what a racing retire or edit committed meanwhile
    if bulletins.approved_revision(bulletin).id != revision.id:
        revision = bulletins.approved_revision(bulletin)
        new = duration_of(revision)
    queued = session_airings(session, station_row.id, occurrence.start)
    if any(a.bulletin_id == bulletin_id for a in queued):
        raise _already_queued(bulletin_id)
    durations = [duration_of(session.get_one(RevisionRow, a.revision_id)) for a in queued]
    planning.check_capacity(shape, occurrence, durations, new, timezone=station.timezone)
    if check_hours:
        length = planning.programme_length(shape, [*durations, new])
        planning.check_allowed(station, occurrence.start, timedelta(seconds=length), priority)
    row = AiringRow(
        station_id=station_row.id,
        session_code=occurrence.session_code,
        planned_start=occurrence.start,
        bulletin_id=bulletin.id,
        revision_id=revision.id,
        priority=priority.value,
        position=max((a.position for a in queued), default=-1) + 1,
        queued_by=user.name,
        queued_at=now,
    )
    try:
        return add_airing(
            session,
            row,
            actor=user.name,
            action="airing.queue",
            now=now,
            bulletin=bulletin.id,
            revision=revision.number,
            planned_start=occurrence.start.isoformat(),
        )
    except IntegrityError as exc:
        if db.is_unique_violation(exc):
            raise _already_queued(bulletin_id) from exc
        raise


def add_airing(
    session: Session, row: AiringRow, *, actor: str, action: str, now: datetime, **detail: object
) -> AiringRow:
    """Store a new airing and its audit record; the checks that admit it are the caller's (`queue`'s)."""
    session.add(row)
    session.flush()
    audit.record(
        session, actor=actor, action=action, object_type="airing", object_id=row.id, now=now, **detail
    )
    return row


def resume_airing(
    session: Session, airing_id: int, planned_start: datetime, position: int, *, actor: str, now: datetime
) -> AiringRow:
    """The same revision queued again at `planned_start` (the daemon re-airs what an emergency cut).

    The plan held it already, so no period, capacity or hours check runs; the audit record names the
    airing it resumes.
    """
    old = session.get_one(AiringRow, airing_id)
    row = AiringRow(
        station_id=old.station_id,
        session_code=old.session_code,
        planned_start=planned_start,
        bulletin_id=old.bulletin_id,
        revision_id=old.revision_id,
        priority=old.priority,
        position=position,
        queued_by=old.queued_by,
        queued_at=now,
    )
    return add_airing(
        session,
        row,
        actor=actor,
        action="airing.resume",
        now=now,
        resumes=old.id,
        planned_start=planned_start.isoformat(),
    )


def _bulletin_of(session: Session, station_row: StationRow, bulletin_id: int) -> BulletinRow:
    bulletin = bulletins.get(session, bulletin_id)
    if bulletin.station_id != station_row.id:
        raise NotFoundError(
            f"Bản tin {bulletin_id} không thuộc đài {station_row.code}.", "Kiểm tra số bản tin."
        )
    return bulletin


def _already_queued(bulletin_id: int) -> InvalidStateError:
    return InvalidStateError(
        f"Bản tin {bulletin_id} đã có trong buổi phát này (có thể vừa được người khác xếp).",
        "Xem lại buổi phát: broadcaster schedule show --day NGÀY; hoặc chọn buổi phát khác.",
    )


def check_campaign_period(
    campaign: CampaignRow, station: Station, start: datetime, priority: Priority = Priority.NORMAL
) -> None:
    """Refuse a session outside the campaign's period (local dates); an emergency is never held back."""
    if priority is Priority.EMERGENCY:
        return
    day = start.astimezone(planning.station_zone(station)).date()
    first, last = campaign.period_start, campaign.period_end
    if first <= day <= last:
        return
    when = f"đã kết thúc ngày {last:%d/%m/%Y}" if day > last else f"chỉ bắt đầu từ ngày {first:%d/%m/%Y}"
    raise PlanningError(
        f"Chiến dịch {campaign.code} {when}: không xếp bản tin vào buổi phát ngày {day:%d/%m/%Y}.",
        f"Chọn buổi phát trong thời gian chiến dịch, từ {first:%d/%m/%Y} đến {last:%d/%m/%Y}.",
    )


def unqueue(session: Session, airing_id: int, *, actor: str | None, now: datetime) -> AiringRow:
    """Take a queued airing out of its session (kept, marked cancelled)."""
    user = require_role(session, actor, Role.OPERATOR)
    row = session.get(AiringRow, airing_id)
    if row is not None:
        db.lock_station_plan(session, row.station_id)
        session.refresh(row)
    if row is None or row.cancelled_at is not None:
        raise NotFoundError(
            f"Không có lượt phát số {airing_id} trong hàng đợi.", "Xem: broadcaster schedule show"
        )
    if row.planned_start <= now:
        raise InvalidStateError("Lượt phát này đã tới giờ, không rút được.", "Chỉ rút các lượt phát sắp tới.")
    row.cancelled_at, row.cancelled_by, row.cancel_reason = now, user.name, REASON_UNQUEUED
    audit.record(
        session, actor=user.name, action="airing.unqueue", object_type="airing", object_id=row.id, now=now
    )
    return row


def plan_view(
    session: Session,
    station_row: StationRow,
    start: datetime,
    end: datetime,
    duration_of: DurationOf | None = None,
) -> list[PlannedItem]:
    """Queued airings in a window, as the operator reads them (with each item's seconds if asked).

    One query (airing, bulletin title, campaign code, revision) however many airings the window holds.
    """
    q = (
        select(AiringRow, BulletinRow.title, CampaignRow.code, RevisionRow)
        .join(BulletinRow, BulletinRow.id == AiringRow.bulletin_id)
        .join(CampaignRow, CampaignRow.id == BulletinRow.campaign_id)
        .join(RevisionRow, RevisionRow.id == AiringRow.revision_id)
        .where(AiringRow.station_id == station_row.id, AiringRow.cancelled_at.is_(None))
        .where(AiringRow.planned_start >= start, AiringRow.planned_start < end)
        .order_by(AiringRow.planned_start, AiringRow.position, AiringRow.id)
    )
    return [
        PlannedItem(
            airing_id=a.id,
            planned_start=a.planned_start,
            session_code=a.session_code,
            position=a.position,
            bulletin_id=a.bulletin_id,
            title=title,
            campaign_code=campaign_code,
            revision_number=rev.number,
            priority=Priority(a.priority),
            queued_by=a.queued_by,
            duration_s=duration_of(rev) if duration_of is not None else None,
        )
        for a, title, campaign_code, rev in session.execute(q)
    ]


def sessions_with_items(items: Sequence[PlannedItem]) -> dict[datetime, list[PlannedItem]]:
    """Group plan items by session start."""
    grouped: dict[datetime, list[PlannedItem]] = {}
    for item in items:
        grouped.setdefault(item.planned_start, []).append(item)
    return grouped


# A play-now airing goes this far ahead, so the running daemon sees it at its next re-sync.
PLAY_NOW_LEAD = timedelta(seconds=2)
# The longest programme a play-now may make (no session bounds it).
PLAY_NOW_MAX = timedelta(minutes=30)


def play_now(
    session: Session,
    station_row: StationRow,
    station: Station,
    bulletin_id: int,
    *,
    actor: str | None,
    now: datetime,
    lengths: Lengths,
    emergency: bool = False,
    lead: timedelta = PLAY_NOW_LEAD,
) -> AiringRow:
    """Queue a manual airing a moment ahead: 'priority' within allowed hours, or 'emergency' at any time."""
    code = EMERGENCY_SESSION if emergency else MANUAL_SESSION
    name = labels.session_name(code)
    occurrence = SessionOccurrence(code, name, now + lead, PLAY_NOW_MAX)
    return queue(
        session,
        station_row,
        station,
        occurrence,
        bulletin_id,
        actor=actor,
        now=now,
        lengths=lengths,
        priority=Priority.EMERGENCY if emergency else Priority.PRIORITY,
    )


def move(
    session: Session,
    station_row: StationRow,
    station: Station,
    airing_id: int,
    occurrence: SessionOccurrence,
    *,
    position: int | None,
    actor: str | None,
    now: datetime,
    lengths: Lengths,
) -> AiringRow:
    """Move a queued airing into another session (or another place in its own), at `position` (1 = first)."""
    user = require_role(session, actor, Role.OPERATOR)
    db.lock_station_plan(session, station_row.id)
    row = session.get(AiringRow, airing_id, populate_existing=True)
    if row is None or row.cancelled_at is not None or row.station_id != station_row.id:
        raise NotFoundError(
            f"Không có lượt phát số {airing_id} trong hàng đợi.", "Xem: broadcaster schedule show --day NGÀY"
        )
    if row.planned_start <= now:
        raise InvalidStateError(
            "Lượt phát này đã tới giờ, không chuyển được.", "Chỉ chuyển các lượt phát sắp tới."
        )
    if position is not None and position < 1:
        raise InputError("Vị trí phải từ 1 trở lên.", "Ví dụ: --position 1 để phát đầu tiên.")
    source_start = row.planned_start
    if occurrence.start != source_start:
        bulletin = session.get_one(BulletinRow, row.bulletin_id)
        check_campaign_period(bulletin.campaign, station, occurrence.start, Priority(row.priority))
    others = [a for a in session_airings(session, station_row.id, occurrence.start) if a.id != row.id]
    if any(a.bulletin_id == row.bulletin_id for a in others):
        raise InvalidStateError(
            f"Bản tin {row.bulletin_id} đã có trong buổi phát đích.", "Chọn buổi phát khác."
        )
    if occurrence.start != source_start:
        shape, duration_of = lengths.shape, lengths.duration_of
        durations = [duration_of(session.get_one(RevisionRow, a.revision_id)) for a in others]
        new = duration_of(session.get_one(RevisionRow, row.revision_id))
        planning.check_capacity(shape, occurrence, durations, new, timezone=station.timezone)
        length = planning.programme_length(shape, [*durations, new])
        planning.check_allowed(station, occurrence.start, timedelta(seconds=length), Priority(row.priority))
    index = len(others) if position is None else min(position - 1, len(others))
    ordered = [*others[:index], row, *others[index:]]
    row.planned_start, row.session_code = occurrence.start, occurrence.session_code
    for n, a in enumerate(ordered):
        a.position = n
    if occurrence.start != source_start:
        for n, a in enumerate(session_airings(session, station_row.id, source_start)):
            a.position = n
    session.flush()
    audit.record(
        session,
        actor=user.name,
        action="airing.move",
        object_type="airing",
        object_id=row.id,
        now=now,
        planned_start=occurrence.start.isoformat(),
        position=index + 1,
    )
    return row
