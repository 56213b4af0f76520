"""A station takes in the bulletins its district sent it, at the level the district chose, and reports back.

Everything is local before air: the audio is fetched by its content hash, checked, and written into
the media folder before the bulletin enters the database; then, in one transaction, the bulletin
(approved by the district, exactly that text and that audio) and what its level asks for:

- normal: an approved bulletin of its campaign; the ward's operator chooses when it airs;
- priority: queued first in the next session that has room (the operator may reorder priority items);
- emergency: aired at once (as the operator's emergency button does) if it is still within its
  validity window, else logged as missed, with the window in the note.

A bulletin taken in once is never taken in twice (`received_dispatch`, by the district's id): a lost
report only means reporting again. The station's heartbeat (daemon state, alerts, last airing,
disk, clock offset) goes up with each forwarding sync.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import airlog, labels, planning
from broadcaster.domain import AsRunEntry, Outcome, Priority, Role, Trigger
from broadcaster.errors import BroadcasterError
from broadcaster.files import existing_parent, file_sha256, write_atomic
from broadcaster.services import audit, emergency, queue, station_settings
from broadcaster.services.bulletins import spoken_hash
from broadcaster.services.daemon_status import daemon_view
from broadcaster.services.district_port import (
    ChangeReport,
    Delivery,
    DistrictChore,
    DistrictPort,
    DistrictUnreachable,
    Incoming,
    ScheduleChange,
)
from broadcaster.services.offair import beat_alerts
from broadcaster.services.plan_tools import PlanTools
from broadcaster.services.reporting import due_items
from broadcaster.services.stations import find_station, station_domain
from broadcaster.store.db import transaction
from broadcaster.store.models import (
    AiringRow,
    AsRunRow,
    BulletinRow,
    CampaignRow,
    ReceivedChangeRow,
    ReceivedDispatchRow,
    RenderRow,
    RevisionRow,
    StationRow,
    TargetRow,
    UserRow,
)

log = logging.getLogger("broadcaster.daemon")

# The station's user that acts for the district (queues its priority items, starts its emergencies).
DISTRICT_ACTOR = "huyen"
# A priority bulletin goes into a session at least this far ahead (the daemon prepares programmes early).
PRIORITY_LEAD = timedelta(minutes=2)
# How far ahead a priority bulletin looks for a session with room.
PRIORITY_HORIZON_DAYS = 14


@dataclass(frozen=True)
class InboxParts:
    """What taking in district bulletins needs from the composition root."""

    media_dir: Path
    tools: PlanTools
    wake: Callable[[], object] | None = None
    speak: Callable[[str], str] | None = None  # the station's text normaliser (schedule changes)


def district_actor(session: Session, now: datetime) -> str:
    """The station's user for its district (an operator without a password: it cannot sign in)."""
    if session.scalar(select(UserRow.id).where(UserRow.name == DISTRICT_ACTOR)) is None:
        session.add(
            UserRow(
                name=DISTRICT_ACTOR,
                full_name=labels.DISTRICT_ACTOR_NAME,
                role=Role.OPERATOR.value,
                created_at=now,
            )
        )
        session.flush()
    return DISTRICT_ACTOR


def audio_path(media_dir: Path, sha256: str, ext: str) -> Path:
    """Where a district bulletin's audio lives at the station: named by its content hash."""
    return media_dir / "district" / sha256[:2] / f"{sha256}{ext}"


def _fetch_audio(port: DistrictPort, item: Incoming, media_dir: Path) -> Path:
    """The bulletin's audio in the media folder, checked against its hash (fetched unless already here)."""
    ext = item.audio_ext if item.audio_ext.startswith(".") and item.audio_ext[1:].isalnum() else ".bin"
    path = audio_path(media_dir, item.audio_sha256, ext)
    if path.is_file() and file_sha256(path) == item.audio_sha256:
        return path
    data = port.audio(item.audio_sha256)
    got = hashlib.sha256(data).hexdigest()
    if got != item.audio_sha256:
        raise DistrictUnreachable(
            f"Âm thanh bản tin «{item.title}» tải từ huyện không khớp mã băm ({got[:12]}… ≠ "
            f"{item.audio_sha256[:12]}…): không nhận.",
            "Lần đồng bộ sau sẽ tải lại; báo cho huyện nếu lỗi còn lặp lại.",
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)
    return path


def _campaign(session: Session, station: StationRow, item: Incoming) -> CampaignRow:
    """The ward's campaign of that code; created from the district's copy when the ward lacks it."""
    row = session.scalar(
        select(CampaignRow).where(
            CampaignRow.station_id == station.id, CampaignRow.code == item.campaign.code
        )
    )
    if row is not None:
        return row
    note = item.campaign
    today = item.sent_at.date()
    start = date.fromisoformat(note.period_start) if note.period_start else today
    end = date.fromisoformat(note.period_end) if note.period_end else today
    row = CampaignRow(
        station_id=station.id,
        code=note.code,
        title=note.title or note.code,
        plan_ref=note.plan_ref,
        period_start=min(start, end),
        period_end=max(start, end),
        topics=[],
        agencies=[],
        integrates=[],
    )
    session.add(row)
    session.flush()
    t = note.target

    def whole(key: str) -> int | None:
        value = t.get(key)
        return int(value) if value is not None else None

    minutes = t.get("min_minutes_per_month")
    session.add(
        TargetRow(
            campaign_id=row.id,
            min_airings_per_week=whole("min_airings_per_week"),
            min_airings_per_month=whole("min_airings_per_month"),
            min_minutes_per_month=float(minutes) if minutes is not None else None,
            max_gap_days=whole("max_gap_days"),
        )
    )
    return row


def _bulletin(
    session: Session, station: StationRow, item: Incoming, path: Path, actor: str, now: datetime
) -> tuple[BulletinRow, RevisionRow]:
    """The district's bulletin as an approved bulletin of the ward, its audio a stored recording."""
    campaign = _campaign(session, station, item)
    approver = f"{item.approved_by} ({labels.DISTRICT_ACTOR_NAME.lower()})"[:64]
    bulletin = BulletinRow(
        station_id=station.id,
        campaign_id=campaign.id,
        key=f"huyen-{item.id}",
        title=item.title[:300],
        agency=labels.DISTRICT_ACTOR_NAME,
        status="approved",
        created_by=actor,
        created_at=now,
    )
    session.add(bulletin)
    session.flush()
    spoken_sha = spoken_hash(item.spoken_text)
    revision = RevisionRow(
        bulletin_id=bulletin.id,
        number=1,
        text=item.text,
        spoken_text=item.spoken_text,
        spoken_sha256=spoken_sha,
        source_audio=f"huyen:{item.audio_sha256}",
        author=actor,
        created_at=now,
        approval="approved",
        approved_by=approver,
        approved_at=item.sent_at,
        approved_sha256=spoken_sha,
    )
    session.add(revision)
    session.flush()
    session.add(
        RenderRow(
            revision_id=revision.id,
            kind="recording",
            path=str(path),
            sha256=item.audio_sha256,
            duration_s=item.duration_s,
            engine="recording",
            voice="",
            settings_key=labels.DISTRICT_ACTOR_NAME,
            spoken_sha256=spoken_sha,
            created_at=now,
        )
    )
    session.flush()
    return bulletin, revision


def _first_in_session(session: Session, airing: AiringRow) -> None:
    """Priority items first (in the order they were queued), then the rest in their order."""
    rows = queue.session_airings(session, airing.station_id, airing.planned_start)
    ranked = sorted(rows, key=lambda a: (a.priority != Priority.PRIORITY.value, a.position, a.id))
    for position, row in enumerate(ranked):
        row.position = position


def _queue_priority(
    session: Session, station: StationRow, bulletin: BulletinRow, parts: InboxParts, actor: str, now: datetime
) -> Delivery:
    domain = station_domain(session, station)
    lengths = queue.Lengths(parts.tools.programme_shape(session, station), parts.tools.duration_of(session))
    start = now + PRIORITY_LEAD
    today = planning.local_day(start, planning.station_zone(station))
    last_error = ""
    for occ in planning.occurrences(domain, today, today + timedelta(days=PRIORITY_HORIZON_DAYS)):
        if occ.start < start:
            continue
        try:
            airing = queue.queue(
                session,
                station,
                domain,
                occ,
                bulletin.id,
                actor=actor,
                now=now,
                lengths=lengths,
                priority=Priority.PRIORITY,
            )
        except BroadcasterError as exc:  # full, outside the campaign or the hours: the next session
            last_error = exc.message
            continue
        _first_in_session(session, airing)
        return Delivery(0, "queued", occ.name, airing.planned_start)
    return Delivery(
        0,
        "refused",
        f"Không còn buổi phát nào trong {PRIORITY_HORIZON_DAYS} ngày tới có chỗ: {last_error}"[:2000],
    )


def _emergency(
    session: Session,
    station: StationRow,
    bulletin: BulletinRow,
    revision: RevisionRow,
    item: Incoming,
    parts: InboxParts,
    actor: str,
    now: datetime,
) -> Delivery:
    until = item.valid_until
    if until is not None and now > until:
        late = planning.mmss((now - until).total_seconds())
        ends = until.astimezone(planning.station_zone(station))
        note = (
            f"Bản tin khẩn cấp của huyện chỉ được phát đến {ends:%H:%M} ngày {ends:%d/%m/%Y}; "
            f"đài nhận được muộn {late}, không phát."
        )
        airlog.append(
            session,
            station.id,
            AsRunEntry(
                outcome=Outcome.MISSED,
                trigger=Trigger.EMERGENCY,
                planned_start=item.sent_at,
                priority=Priority.EMERGENCY,
                bulletin_id=bulletin.id,
                revision_id=revision.id,
                revision_number=revision.number,
                campaign_code=item.campaign.code,
                title=bulletin.title,
                sha256=item.audio_sha256,
                queued_by=actor,
                approved_by=revision.approved_by,
                note=note,
            ),
            recorded_by=actor,
            now=now,
        )
        return Delivery(0, "missed", note)
    airing = emergency.start_emergency(
        session, parts.tools, station.code, str(bulletin.id), actor=actor, now=now, wake=parts.wake
    )
    return Delivery(0, "on_air", "", airing.planned_start)


def _take_one(
    sessions: sessionmaker[Session],
    station_code: str,
    item: Incoming,
    path: Path,
    parts: InboxParts,
    now: datetime,
) -> Delivery:
    with transaction(sessions) as session:
        station = find_station(session, station_code)
        done = session.scalar(
            select(ReceivedDispatchRow).where(
                ReceivedDispatchRow.station_id == station.id, ReceivedDispatchRow.district_id == item.id
            )
        )
        if done is not None:  # taken in before; the report was lost
            airing = session.get(AiringRow, done.airing_id) if done.airing_id else None
            return Delivery(item.id, done.state, done.note, airing.planned_start if airing else None)
        actor = district_actor(session, now)
        bulletin, revision = _bulletin(session, station, item, path, actor, now)
        if item.level == Priority.EMERGENCY.value:
            outcome = _emergency(session, station, bulletin, revision, item, parts, actor, now)
        elif item.level == Priority.PRIORITY.value:
            outcome = _queue_priority(session, station, bulletin, parts, actor, now)
        else:
            outcome = Delivery(0, "received")
        airing_id = session.scalar(
            select(AiringRow.id).where(AiringRow.bulletin_id == bulletin.id, AiringRow.cancelled_at.is_(None))
        )
        session.add(
            ReceivedDispatchRow(
                station_id=station.id,
                district_id=item.id,
                bulletin_id=bulletin.id,
                airing_id=airing_id,
                level=item.level,
                valid_until=item.valid_until,
                state=outcome.state,
                note=outcome.note,
                received_at=now,
            )
        )
        audit.record(
            session,
            actor=actor,
            action="dispatch.receive",
            object_type="bulletin",
            object_id=bulletin.id,
            now=now,
            district_id=item.id,
            level=item.level,
            state=outcome.state,
            audio_sha256=item.audio_sha256,
        )
    return Delivery(item.id, outcome.state, outcome.note, outcome.planned_start)


def _refuse(
    sessions: sessionmaker[Session], station_code: str, item: Incoming, why: str, now: datetime
) -> Delivery:
    with transaction(sessions) as session:
        station = find_station(session, station_code)
        session.add(
            ReceivedDispatchRow(
                station_id=station.id,
                district_id=item.id,
                level=item.level,
                valid_until=item.valid_until,
                state="refused",
                note=why[:2000],
                received_at=now,
            )
        )
    log.error("Không nhận được bản tin số %d của huyện: %s", item.id, why)
    return Delivery(item.id, "refused", why[:2000])


def take_incoming(
    sessions: sessionmaker[Session],
    station_code: str,
    port: DistrictPort,
    parts: InboxParts,
    *,
    now: datetime,
) -> list[Delivery]:
    """Take in every bulletin the district sent and report what became of each (oldest first)."""
    items = port.inbox(station_code)
    # Emergencies first: one that arrives beside older ordinary bulletins must not wait for them.
    items.sort(key=lambda i: (i.level != Priority.EMERGENCY.value, i.id))
    deliveries: list[Delivery] = []
    for item in items:
        path = _fetch_audio(port, item, parts.media_dir)  # unreachable or corrupt: retried at the next poll
        try:
            deliveries.append(_take_one(sessions, station_code, item, path, parts, now))
        except DistrictUnreachable:
            raise
        except BroadcasterError as exc:  # the ward cannot take it as sent: the district is told why
            deliveries.append(_refuse(sessions, station_code, item, exc.one_line(), now))
    if deliveries:
        port.report(station_code, deliveries)
        with transaction(sessions) as session:
            station = find_station(session, station_code)
            for row in session.scalars(
                select(ReceivedDispatchRow).where(
                    ReceivedDispatchRow.station_id == station.id,
                    ReceivedDispatchRow.district_id.in_([d.dispatch_id for d in deliveries]),
                )
            ):
                row.reported_at = now
    return deliveries


def _apply_change(
    sessions: sessionmaker[Session],
    station_code: str,
    change: ScheduleChange,
    parts: InboxParts,
    now: datetime,
) -> ChangeReport:
    """One district schedule change applied through the station's own settings path, taken in once."""
    with transaction(sessions) as session:
        station = find_station(session, station_code)
        seen = session.scalar(
            select(ReceivedChangeRow).where(
                ReceivedChangeRow.station_id == station.id, ReceivedChangeRow.district_id == change.id
            )
        )
        if seen is not None:  # taken in before, the report lost: the same answer again
            return ChangeReport(change.id, seen.state, seen.note)
    try:
        with transaction(sessions) as session:
            station = find_station(session, station_code)
            actor = district_actor(session, now)
            done = station_settings.apply_session(
                session,
                station,
                change.session_code,
                change.values,
                actor=actor,
                now=now,
                speak=parts.speak or (lambda text: text),
            )
            report = ChangeReport(change.id, "applied", done.note)
            _received_change(session, station, change, report, now)
    except BroadcasterError as exc:
        report = ChangeReport(change.id, "refused", exc.message)
        with transaction(sessions) as session:
            _received_change(session, find_station(session, station_code), change, report, now)
    return report


def _received_change(
    session: Session, station: StationRow, change: ScheduleChange, report: ChangeReport, now: datetime
) -> None:
    session.add(
        ReceivedChangeRow(
            station_id=station.id,
            district_id=change.id,
            state=report.state,
            note=report.note,
            received_at=now,
        )
    )
    audit.record(
        session,
        actor=DISTRICT_ACTOR,
        action="schedule.change",
        object_type="station",
        object_id=station.code,
        now=now,
        change=change.id,
        session_code=change.session_code,
        state=report.state,
        by=change.created_by,
    )


def take_changes(
    sessions: sessionmaker[Session],
    station_code: str,
    port: DistrictPort,
    parts: InboxParts,
    *,
    now: datetime,
) -> list[ChangeReport]:
    """Apply every schedule change the district made for this station and report each (oldest first)."""
    reports = [_apply_change(sessions, station_code, c, parts, now) for c in port.changes(station_code)]
    if reports:
        port.report_changes(station_code, reports)
        with transaction(sessions) as session:
            station = find_station(session, station_code)
            for row in session.scalars(
                select(ReceivedChangeRow).where(
                    ReceivedChangeRow.station_id == station.id,
                    ReceivedChangeRow.district_id.in_([r.change_id for r in reports]),
                )
            ):
                row.reported_at = now
    return reports


# The outcomes a heartbeat counts as alerts (the day's rows that went wrong).
ALERT_OUTCOMES = (Outcome.FAILED.value, Outcome.MISSED.value, Outcome.INTERRUPTED.value)


def station_beat(
    session: Session,
    station: StationRow,
    *,
    home: Path,
    now: datetime,
    clock_offset_s: float | None,
) -> dict[str, Any]:
    """What the district is told of the station's health: one dict of plain values."""
    daemon = daemon_view(session, station, now)
    since = now - timedelta(hours=24)
    wrong = session.execute(
        select(AsRunRow.outcome, func.count(AsRunRow.id))
        .where(AsRunRow.station_id == station.id, AsRunRow.recorded_at >= since)
        .where(AsRunRow.outcome.in_(ALERT_OUTCOMES))
        .group_by(AsRunRow.outcome)
    ).all()
    alerts = [f"{labels.outcome(o, capital=True)}: {n} lượt trong 24 giờ qua" for o, n in wrong]
    alerts += beat_alerts(session, station.id, now)  # heard silent or different by the off-air check
    if not daemon.online:
        alerts.insert(0, f"Trạm phát {labels.daemon_state(daemon.state)}")
    last = session.scalar(
        select(func.max(AsRunRow.actual_start)).where(
            AsRunRow.station_id == station.id, AsRunRow.outcome == Outcome.COMPLETED.value
        )
    )
    queued = session.scalar(
        select(func.count(AiringRow.id)).where(
            AiringRow.station_id == station.id,
            AiringRow.cancelled_at.is_(None),
            AiringRow.planned_start >= now,
            AiringRow.planned_start < now + timedelta(hours=24),
        )
    )
    at_risk = sorted({item.campaign_code for item in due_items(session, station, now=now) if item.at_risk})
    return {
        "daemon": daemon.state,
        "alerts": alerts,
        "at_risk": at_risk,
        "last_aired_at": last.isoformat() if last else None,
        "disk_free_mb": shutil.disk_usage(existing_parent(home)).free // (1024 * 1024),
        "clock_offset_s": clock_offset_s,
        "queued": int(queued or 0),
    }


class InboxChore(DistrictChore):
    """The daemon's poll of the district's bulletins: every few seconds, a log line per bulletin taken in."""

    failing = "Chưa nhận được bản tin của huyện: %s"

    def __init__(
        self,
        sessions: sessionmaker[Session],
        station_code: str,
        port: DistrictPort,
        parts: InboxParts,
        now: Callable[[], datetime],
    ) -> None:
        super().__init__()
        self._args = (sessions, station_code, port, parts)
        self._now = now

    def run(self) -> None:
        """Take in what the district sent and log what became of each."""
        deliveries = take_incoming(*self._args, now=self._now())
        for r in take_changes(*self._args, now=self._now()):
            state = "đã áp dụng" if r.state == "applied" else "không áp dụng được"
            log.info(
                "Thay đổi lịch phát số %d của huyện: %s%s",
                r.change_id,
                state,
                f" ({r.note})" if r.note else "",
            )
        for d in deliveries:
            log.info(
                "Bản tin số %d của huyện: %s%s",
                d.dispatch_id,
                labels.dispatch_state(d.state),
                f" ({d.note})" if d.note else "",
            )
