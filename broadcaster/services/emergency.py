"""Emergencies (Phát khẩn cấp): choose an approved bulletin, air it at once, follow it until it is logged.

`start_emergency` queues the airing with no lead (its planned start is the moment of the click) and,
once the caller's transaction commits, wakes the daemon (`playout.wake`): the daemon re-reads the plan,
cuts what is on air and starts the bulletin's air audio as it is (no frame to assemble). `plan_stamp`
is the cheap reading of the near plan that the daemon polls where no wake-up datagram can reach it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.domain import Priority, Role
from broadcaster.errors import InputError, NotFoundError
from broadcaster.services import bulletins, media, queue
from broadcaster.services.plan_tools import PlanTools
from broadcaster.services.programmes import EMERGENCY_SHAPE
from broadcaster.services.schedule_views import BulletinChoice, approved_choices
from broadcaster.services.stations import find_station, station_domain
from broadcaster.services.users import require_role
from broadcaster.store.db import transaction
from broadcaster.store.models import AiringRow, AsRunRow, BulletinRow, DaemonLeaseRow, StationRow

# The emergency's planned start is the click itself: the daemon is woken, nothing waits for a lead.
EMERGENCY_LEAD = timedelta(0)
# How many earlier emergencies the page lists.
RECENT = 10
# A programme logged as interrupted this close to an emergency's start was cut by it.
CUT_WINDOW = timedelta(seconds=2)


@dataclass(frozen=True)
class PlayNow:
    """A play-now airing as queued: its id and the station's local date it airs on."""

    airing_id: int
    day: date


@dataclass(frozen=True)
class AsRunView:
    """One as-run row as the emergency page shows it."""

    id: int
    title: str
    outcome: str
    trigger: str
    planned_start: datetime | None
    actual_start: datetime | None
    actual_end: datetime | None
    played_s: float
    clip_s: float
    note: str


@dataclass(frozen=True)
class DaemonView:
    """The station daemon as its lease row last reported it."""

    state: str
    heartbeat_at: datetime
    alive: bool


@dataclass(frozen=True)
class EmergencyStatus:
    """An emergency airing: queued, taken by the daemon, then its as-run row and what it cut."""

    airing_id: int
    bulletin_id: int
    title: str
    queued_at: datetime
    queued_by: str
    claimed_at: datetime | None
    row: AsRunView | None
    interrupted: list[AsRunView]
    daemon: DaemonView | None = None

    @property
    def state(self) -> str:
        """'waiting' (not yet taken by the daemon), 'on_air' (taken, not yet logged) or 'done'."""
        if self.row is not None:
            return "done"
        return "on_air" if self.claimed_at is not None else "waiting"

    @property
    def delay_s(self) -> float | None:
        """Seconds from the operator's confirmation (the airing's commit) to the start of the audio."""
        if self.row is None or self.row.actual_start is None:
            return None
        return (self.row.actual_start - self.queued_at).total_seconds()


@dataclass(frozen=True)
class EmergencyPage:
    """What the emergency page offers and shows."""

    choices: list[BulletinChoice]
    recent: list[EmergencyStatus]
    may_start: bool
    daemon: DaemonView | None


@dataclass(frozen=True)
class Confirmation:
    """The bulletin the operator is about to air, shown once more before the click."""

    bulletin_id: int
    title: str
    campaign_title: str
    text: str
    spoken_text: str
    duration_s: float | None


def _bulletin_id(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise InputError(
            "Chưa chọn bản tin.", "Chọn một bản tin đã duyệt trong danh sách.", field="bulletin"
        ) from None


def _daemon(session: Session, row: StationRow, now: datetime) -> DaemonView | None:
    lease = session.get(DaemonLeaseRow, row.id)
    if lease is None:
        return None
    return DaemonView(lease.state, lease.heartbeat_at, lease.state != "stopped" and lease.expires_at > now)


def emergency_page(
    session: Session, station_code: str | None, *, actor: str | None, now: datetime
) -> EmergencyPage:
    """The approved bulletins to choose from, the latest emergencies and the daemon's state."""
    user = require_role(session, actor, Role.OPERATOR, Role.LEADER)
    row = find_station(session, station_code)
    ids = session.scalars(
        select(AiringRow.id)
        .where(AiringRow.station_id == row.id, AiringRow.priority == Priority.EMERGENCY.value)
        .order_by(AiringRow.id.desc())
        .limit(RECENT)
    )
    return EmergencyPage(
        choices=approved_choices(session, row),
        recent=[_status(session, row, i, now) for i in ids],
        may_start=user.role in (Role.OPERATOR.value, Role.ADMIN.value),
        daemon=_daemon(session, row, now),
    )


def confirmation(
    session: Session, station_code: str | None, bulletin: str, *, actor: str | None
) -> Confirmation:
    """The chosen bulletin's approved text and air length, for the confirm step (operator only)."""
    require_role(session, actor, Role.OPERATOR)
    row = find_station(session, station_code)
    found = bulletins.get(session, _bulletin_id(bulletin))
    if found.station_id != row.id:
        raise NotFoundError(f"Không có bản tin số {found.id} ở đài này.", "Chọn bản tin trong danh sách.")
    rev = bulletins.approved_revision(found)
    render = media.current_render(session, rev)
    return Confirmation(
        found.id,
        found.title,
        found.campaign.title,
        rev.text,
        rev.spoken_text,
        render.duration_s if render else None,
    )


def start_emergency(
    session: Session,
    tools: PlanTools,
    station_code: str | None,
    bulletin: str,
    *,
    actor: str | None,
    now: datetime,
    wake: Callable[[], object] | None = None,
) -> AiringRow:
    """Queue an approved bulletin as an emergency starting now; `wake` runs once the transaction commits."""
    return _air_now(session, tools, station_code, bulletin, actor=actor, now=now, wake=wake, emergency=True)


def start_play_now(
    session: Session,
    tools: PlanTools,
    station_code: str | None,
    bulletin: str,
    *,
    actor: str | None,
    now: datetime,
    wake: Callable[[], object] | None = None,
) -> PlayNow:
    """Queue an approved bulletin to air now at priority (not an emergency): in a programme of its own
    with the ident, a moment ahead, after whatever is on air, and only within the allowed hours."""
    airing = _air_now(
        session, tools, station_code, bulletin, actor=actor, now=now, wake=wake, emergency=False
    )
    zone = ZoneInfo(session.get_one(StationRow, airing.station_id).timezone)
    return PlayNow(airing.id, airing.planned_start.astimezone(zone).date())


def _air_now(
    session: Session,
    tools: PlanTools,
    station_code: str | None,
    bulletin: str,
    *,
    actor: str | None,
    now: datetime,
    wake: Callable[[], object] | None,
    emergency: bool,
) -> AiringRow:
    """An emergency (its audio alone, no lead) or a priority play-now (the programme's frame, a moment
    ahead); the daemon is woken once the caller's transaction commits."""
    require_role(session, actor, Role.OPERATOR)
    bulletin_id = _bulletin_id(bulletin)
    row = find_station(session, station_code)
    shape = EMERGENCY_SHAPE if emergency else tools.programme_shape(session, row)
    timing = {"lead": EMERGENCY_LEAD} if emergency else {}
    airing = queue.play_now(
        session,
        row,
        station_domain(session, row),
        bulletin_id,
        actor=actor,
        now=now,
        lengths=queue.Lengths(shape, tools.duration_of(session)),
        emergency=emergency,
        **timing,
    )
    if wake is not None:
        event.listen(session, "after_commit", lambda _session: wake(), once=True)
    return airing


def emergency_status(
    session: Session, station_code: str | None, airing_id: int, *, actor: str | None, now: datetime
) -> EmergencyStatus:
    """Where an emergency airing is: waiting for the daemon, on air, or logged (with what it cut)."""
    require_role(session, actor, Role.OPERATOR, Role.LEADER)
    row = find_station(session, station_code)
    return _status(session, row, airing_id, now, _daemon(session, row, now))


def _view(r: AsRunRow) -> AsRunView:
    return AsRunView(
        r.id,
        r.title,
        r.outcome,
        r.trigger,
        r.planned_start,
        r.actual_start,
        r.actual_end,
        r.played_ms / 1000,
        r.clip_ms / 1000,
        r.note,
    )


def _status(
    session: Session, row: StationRow, airing_id: int, now: datetime, daemon: DaemonView | None = None
) -> EmergencyStatus:
    airing = session.get(AiringRow, airing_id)
    if airing is None or airing.station_id != row.id or airing.priority != Priority.EMERGENCY.value:
        raise NotFoundError(
            f"Không có lượt phát khẩn cấp số {airing_id}.", "Xem danh sách ở trang Phát khẩn cấp."
        )
    logged = session.scalar(
        select(AsRunRow).where(AsRunRow.airing_id == airing.id).order_by(AsRunRow.seq.desc()).limit(1)
    )
    until = (logged.actual_start if logged and logged.actual_start else now) + CUT_WINDOW
    cut = session.scalars(
        select(AsRunRow)
        .where(AsRunRow.station_id == row.id, AsRunRow.outcome == "interrupted")
        .where(AsRunRow.actual_start >= airing.queued_at - timedelta(hours=3))
        .where(AsRunRow.actual_end >= airing.queued_at - CUT_WINDOW, AsRunRow.actual_end <= until)
        .where(AsRunRow.airing_id != airing.id)
        .order_by(AsRunRow.seq)
    )
    bulletin = session.get_one(BulletinRow, airing.bulletin_id)
    return EmergencyStatus(
        airing.id,
        bulletin.id,
        bulletin.title,
        airing.queued_at,
        airing.queued_by,
        airing.claimed_at,
        _view(logged) if logged else None,
        [_view(r) for r in cut],
        daemon,
    )


def plan_stamp(sessions: sessionmaker[Session], station_id: int, now: datetime) -> tuple[int, int]:
    """Count and newest id of the live airings from a minute ago to ten minutes ahead (one indexed query).

    The daemon polls it: a new emergency (or any near change) alters it, which wakes a re-sync.
    """
    with transaction(sessions) as session:
        count, newest = session.execute(
            select(func.count(AiringRow.id), func.max(AiringRow.id)).where(
                AiringRow.station_id == station_id,
                AiringRow.planned_start >= now - timedelta(minutes=1),
                AiringRow.planned_start < now + timedelta(minutes=10),
                AiringRow.cancelled_at.is_(None),
            )
        ).one()
    return int(count), int(newest or 0)
