"""What the schedule shows: sessions with their programmes against capacity, and a week of them.

`sessions_between` is the one reading of a date range (recurring, extra and manual sessions with their
queued items) that `broadcaster schedule plan` and the console's week view both use. Nothing here
writes or renders: lengths come from the renders already made.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broadcaster import labels, planning
from broadcaster.domain import (
    BulletinStatus,
    ExceptionKind,
    Priority,
    RelayOccurrence,
    Role,
    ScheduleException,
    Station,
)
from broadcaster.errors import NotFoundError
from broadcaster.services import queue
from broadcaster.services.plan_tools import PlanTools
from broadcaster.services.programmes import EMERGENCY_SHAPE
from broadcaster.services.stations import campaign_titles, find_station, station_domain
from broadcaster.services.users import get_user, require_role
from broadcaster.store.models import (
    AiringRow,
    AsRunRow,
    AuditRow,
    BulletinRow,
    CampaignRow,
    ExceptionRow,
    RenderRow,
    RevisionRow,
    StationRow,
)

SLOT_RECURRING, SLOT_EXTRA, SLOT_MANUAL = "recurring", "extra", "manual"
# Roles that change the plan (admin holds every role); everyone signed in may read it.
EDITORS = (Role.OPERATOR.value, Role.ADMIN.value)


@dataclass(frozen=True)
class PlanSlot:
    """One session (recurring, extra, or a manual one such as play-now) with its queued items."""

    start: datetime
    session_code: str
    name: str
    max_s: float | None
    items: list[queue.PlannedItem]
    total_s: float
    kind: str = SLOT_RECURRING
    reason: str = ""
    relay: RelayOccurrence | None = None  # the session's relay, before or after these items

    @property
    def over_s(self) -> float:
        """Seconds the programme runs past the session's limit (0 when it fits)."""
        return max(0.0, self.total_s - self.max_s) if self.max_s is not None else 0.0

    @property
    def used_pct(self) -> int:
        """How full the session is, 0–100 (for the capacity bar)."""
        if not self.max_s:
            return 0
        return min(100, round(100 * self.total_s / self.max_s))

    @property
    def label(self) -> str:
        """The name a person knows the session by."""
        return labels.session_name(self.session_code, self.name)


def _without(station: Station, kinds: Sequence[ExceptionKind]) -> Station:
    kept = tuple(e for e in station.exceptions if e.kind not in kinds)
    return dataclasses.replace(station, exceptions=kept)


def sessions_between(
    session: Session,
    station_row: StationRow,
    station: Station,
    start: date,
    end: date,
    *,
    duration_of: queue.DurationOf,
    shape: planning.ProgrammeShape | None = None,
) -> list[PlanSlot]:
    """Local dates start..end: every session with its items, then airings outside any session, by start.

    With `shape`, a slot's total is the programme's expected length (tune, ident, repeats, gaps);
    without it, the sum of its items.
    """
    zone = planning.station_zone(station)
    lo, hi = planning.local_window(zone, start, end)
    items = queue.sessions_with_items(queue.plan_view(session, station_row, lo, hi, duration_of))
    recurring = {o.start for o in planning.occurrences(_without(station, [ExceptionKind.EXTRA]), start, end)}
    extras = {
        planning.to_utc(zone, e.day, e.start): e
        for e in station.exceptions
        if e.kind is ExceptionKind.EXTRA and e.start is not None
    }

    def total(queued: list[queue.PlannedItem]) -> float:
        durations = [i.duration_s or 0.0 for i in queued]
        emergency = bool(queued) and all(i.priority is Priority.EMERGENCY for i in queued)
        frame = EMERGENCY_SHAPE if emergency else shape  # an emergency airs its audio alone
        return planning.programme_length(frame, durations) if frame else sum(durations)

    out = []
    for occ in planning.occurrences(station, start, end):
        queued = items.pop(occ.start, [])
        extra = extras.get(occ.start) if occ.start not in recurring else None
        kind, reason = (SLOT_EXTRA, extra.reason) if extra else (SLOT_RECURRING, "")
        limit = occ.max_length.total_seconds()
        out.append(
            PlanSlot(
                occ.start, occ.session_code, occ.name, limit, queued, total(queued), kind, reason, occ.relay
            )
        )
    for when, queued in items.items():  # play-now, emergency, demo and resumed programmes
        out.append(PlanSlot(when, queued[0].session_code, "", None, queued, total(queued), SLOT_MANUAL))
    return sorted(out, key=lambda s: s.start)


@dataclass(frozen=True)
class Cancelled:
    """A recurring session that a dated exception cancelled."""

    start: datetime
    name: str
    reason: str


def cancelled_between(station: Station, start: date, end: date) -> list[Cancelled]:
    """The recurring sessions in start..end that a cancel exception removed, with its reason."""
    kept = {o.start for o in planning.occurrences(_without(station, [ExceptionKind.EXTRA]), start, end)}
    every = planning.occurrences(_without(station, [ExceptionKind.EXTRA, ExceptionKind.CANCEL]), start, end)
    zone = planning.station_zone(station)
    out = []
    for occ in every:
        if occ.start in kept:
            continue
        local = occ.start.astimezone(zone)
        why = next((e.reason for e in station.exceptions if _cancels(e, occ.session_code, local)), "")
        out.append(Cancelled(occ.start, occ.name, why))
    return out


def _cancels(e: ScheduleException, code: str, local: datetime) -> bool:
    if e.kind is not ExceptionKind.CANCEL or e.day != local.date():
        return False
    return (e.session_code in (None, code)) and (e.start is None or e.start == local.time())


@dataclass(frozen=True)
class Aired:
    """What the as-run log says happened to a queued airing."""

    outcome: str
    actual_start: datetime | None
    note: str


@dataclass(frozen=True)
class BulletinChoice:
    """An approved bulletin the operator may queue: its title, campaign and air length."""

    id: int
    title: str
    campaign_code: str
    campaign_title: str
    duration_s: float | None


@dataclass(frozen=True)
class SlotChoice:
    """A session still to come, as a form offers it: value "YYYY-MM-DD HH:MM" (local) and its label."""

    value: str
    label: str


@dataclass(frozen=True)
class ExceptionView:
    """A dated exception as the operator reads it."""

    id: int
    day: date
    kind: str
    session_name: str
    start: time | None
    minutes: int | None
    reason: str
    removable: bool


@dataclass(frozen=True)
class DayPlan:
    """One local day of the week: its sessions and what was cancelled."""

    day: date
    slots: list[PlanSlot]
    cancelled: list[Cancelled]


@dataclass(frozen=True)
class WeekPlan:
    """An ISO week (Monday first) of one station, with what the operator's forms need."""

    station_name: str
    timezone: str
    monday: date
    today: date
    days: list[DayPlan]
    allowed_hours: list[str]
    exceptions: list[ExceptionView]
    bulletins: list[BulletinChoice]
    targets: list[SlotChoice]
    sessions: list[tuple[str, str]]  # recurring sessions (code, "name HH:MM") for the cancel form
    campaigns: dict[str, str]
    aired: dict[int, Aired]
    may_edit: bool
    now: datetime

    @property
    def sunday(self) -> date:
        """The last day of the week."""
        return self.monday + timedelta(days=6)


def slot_value(start: datetime, zone: ZoneInfo) -> str:
    """How a form names a session: its local date and time."""
    return start.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def week_plan(
    session: Session,
    tools: PlanTools,
    station_code: str | None,
    any_day: date | None,
    *,
    actor: str | None,
    now: datetime,
) -> WeekPlan:
    """The ISO week holding `any_day` (None: this week): sessions, programmes, exceptions, form choices."""
    user = get_user(session, actor)
    row = find_station(session, station_code)
    station = station_domain(session, row)
    zone = planning.station_zone(station)
    monday, sunday = planning.week_bounds(any_day or now.astimezone(zone).date())
    shape = tools.programme_shape(session, row)
    durations = _render_lengths(session, row)
    slots = sessions_between(
        session,
        row,
        station,
        monday,
        sunday,
        duration_of=lambda rev: durations.get(rev.id, 0.0),
        shape=shape,
    )
    cancelled = cancelled_between(station, monday, sunday)
    days = [
        DayPlan(
            monday + timedelta(days=n),
            [s for s in slots if s.start.astimezone(zone).date() == monday + timedelta(days=n)],
            [c for c in cancelled if c.start.astimezone(zone).date() == monday + timedelta(days=n)],
        )
        for n in range(7)
    ]
    today = now.astimezone(zone).date()
    targets = [
        SlotChoice(
            slot_value(s.start, zone),
            f"{labels.weekday_short(s.start.astimezone(zone).date())} "
            f"{s.start.astimezone(zone):%d/%m %H:%M} — {s.label}",
        )
        for s in slots
        if s.kind != SLOT_MANUAL and s.start > now
    ]
    names = {code: name for code, name, _ in _recurring(station)}
    return WeekPlan(
        station_name=row.name,
        timezone=station.timezone,
        monday=monday,
        today=today,
        days=days,
        allowed_hours=[_window(w.start, w.end) for w in station.allowed_hours],
        exceptions=_exceptions(session, row, monday, sunday, today, names),
        bulletins=approved_choices(session, row, durations),
        targets=targets,
        sessions=[(code, f"{name} {at}") for code, name, at in _recurring(station)],
        campaigns=campaign_titles(session, row.id),
        aired=_aired(session, [i.airing_id for s in slots for i in s.items]),
        may_edit=user.role in EDITORS,
        now=now,
    )


def _recurring(station: Station) -> list[tuple[str, str, str]]:
    return [
        (r.code, r.name, r.start.strftime("%H:%M")) for r in sorted(station.sessions, key=lambda r: r.start)
    ]


def _window(start: time, end: time) -> str:
    return f"{start:%H:%M}–{'24:00' if end == time(0) else end.strftime('%H:%M')}"


def _render_lengths(session: Session, row: StationRow) -> dict[int, float]:
    """Seconds of every revision's newest air audio (speech or recording), by revision id; renders nothing."""
    q = (
        select(RenderRow.revision_id, RenderRow.duration_s)
        .join(RevisionRow, RevisionRow.id == RenderRow.revision_id)
        .join(BulletinRow, BulletinRow.id == RevisionRow.bulletin_id)
        .where(BulletinRow.station_id == row.id, RenderRow.kind.in_(("speech", "recording")))
        .where(RenderRow.spoken_sha256 == RevisionRow.spoken_sha256)
        .order_by(RenderRow.id)
    )
    return {rev_id: seconds for rev_id, seconds in session.execute(q) if rev_id is not None}


def approved_choices(
    session: Session, row: StationRow, durations: dict[int, float] | None = None
) -> list[BulletinChoice]:
    """The station's approved bulletins (latest revision approved), by campaign then title; one query."""
    lengths = durations if durations is not None else _render_lengths(session, row)
    latest = (
        select(func.max(RevisionRow.number))
        .where(RevisionRow.bulletin_id == BulletinRow.id)
        .correlate(BulletinRow)
        .scalar_subquery()
    )
    q = (
        select(BulletinRow.id, BulletinRow.title, CampaignRow.code, CampaignRow.title, RevisionRow.id)
        .join(CampaignRow, CampaignRow.id == BulletinRow.campaign_id)
        .join(RevisionRow, (RevisionRow.bulletin_id == BulletinRow.id) & (RevisionRow.number == latest))
        .where(BulletinRow.station_id == row.id, BulletinRow.status == BulletinStatus.APPROVED.value)
        .where(RevisionRow.approval == "approved")
    )
    out = [
        BulletinChoice(bulletin_id, title, code, campaign, lengths.get(revision_id))
        for bulletin_id, title, code, campaign, revision_id in session.execute(q)
    ]
    return sorted(out, key=lambda c: (c.campaign_title, c.title, c.id))


def _exceptions(
    session: Session, row: StationRow, monday: date, sunday: date, today: date, names: dict[str, str]
) -> list[ExceptionView]:
    q = (
        select(ExceptionRow)
        .where(ExceptionRow.station_id == row.id, ExceptionRow.day >= monday, ExceptionRow.day <= sunday)
        .order_by(ExceptionRow.day, ExceptionRow.start_time, ExceptionRow.id)
    )
    out = []
    for e in session.scalars(q):
        code = e.session_code
        name = names.get(code, "") if code else ""
        if e.kind == ExceptionKind.EXTRA:
            name = name or planning.EXTRA_SESSION_NAME
        elif not code:
            name = "mọi buổi trong ngày"
        out.append(
            ExceptionView(
                e.id,
                e.day,
                e.kind,
                name or (code or ""),
                time.fromisoformat(e.start_time) if e.start_time else None,
                e.max_seconds // 60 if e.max_seconds else None,
                e.reason,
                e.day >= today,
            )
        )
    return out


def _aired(session: Session, airing_ids: list[int]) -> dict[int, Aired]:
    """The newest as-run row of each airing (a correction's, when corrected)."""
    if not airing_ids:
        return {}
    q = select(AsRunRow).where(AsRunRow.airing_id.in_(airing_ids)).order_by(AsRunRow.seq)
    return {
        r.airing_id: Aired(r.outcome, r.actual_start, r.note)
        for r in session.scalars(q)
        if r.airing_id is not None
    }


def change_stamp(session: Session, station_id: int) -> tuple[int, int, int]:
    """What moves whenever the week view could change: the newest audit event (every change of the plan,
    a bulletin, an exception is audited), as-run row of the station, and render. Three indexed max()."""
    audit_id = session.scalar(select(func.max(AuditRow.id))) or 0
    asrun_id = session.scalar(select(func.max(AsRunRow.id)).where(AsRunRow.station_id == station_id)) or 0
    render_id = session.scalar(select(func.max(RenderRow.id))) or 0
    return int(audit_id), int(asrun_id), int(render_id)


class WeekMemory:
    """Week views kept while nothing changed (`change_stamp`) within the same minute, per role kind.

    A week view reads every session, airing, render and as-run row of the week (tens of ms for a
    busy week); the console shows the same one to every operator until the plan changes.
    """

    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._kept: dict[tuple[object, ...], WeekPlan] = {}

    def week(
        self,
        session: Session,
        tools: PlanTools,
        station_code: str | None,
        any_day: date | None,
        *,
        actor: str | None,
        now: datetime,
    ) -> WeekPlan:
        """`week_plan`, from memory when the same week was read since the last change, this minute."""
        user = get_user(session, actor)
        row = find_station(session, station_code)
        minute = now.replace(second=0, microsecond=0)
        key = (row.id, any_day, user.role in EDITORS, change_stamp(session, row.id), minute)
        with self._lock:
            kept = self._kept.get(key)
        if kept is not None:
            return kept
        plan = week_plan(session, tools, station_code, any_day, actor=actor, now=now)
        with self._lock:
            if len(self._kept) >= self._size:
                self._kept.pop(next(iter(self._kept)))
            self._kept[key] = plan
        return plan


@dataclass(frozen=True)
class MoveChoice:
    """An airing to move: what it is, where it is, and the sessions still to come it may go to."""

    airing_id: int
    title: str
    slot_label: str
    slot_start: datetime
    monday: date
    targets: list[SlotChoice]


def move_choice(
    session: Session,
    memory: WeekMemory,
    tools: PlanTools,
    station_code: str | None,
    airing_id: int,
    *,
    actor: str | None,
    now: datetime,
) -> MoveChoice:
    """The move form of one queued airing (operator): the other sessions of its week still to come."""
    require_role(session, actor, Role.OPERATOR)
    row = find_station(session, station_code)
    airing = session.get(AiringRow, airing_id)
    if airing is None or airing.station_id != row.id or airing.cancelled_at is not None:
        raise NotFoundError(f"Không có lượt phát số {airing_id} trong lịch.", "Xem lại lịch phát tuần này.")
    zone = planning.station_zone(station_domain(session, row))
    day = airing.planned_start.astimezone(zone).date()
    plan = memory.week(session, tools, station_code, day, actor=actor, now=now)
    for d in plan.days:
        for slot in d.slots:
            for item in slot.items:
                if item.airing_id == airing_id:
                    here = slot_value(slot.start, zone)
                    targets = [t for t in plan.targets if t.value != here]
                    return MoveChoice(airing_id, item.title, slot.label, slot.start, plan.monday, targets)
    raise NotFoundError(f"Không có lượt phát số {airing_id} trong lịch.", "Xem lại lịch phát tuần này.")
