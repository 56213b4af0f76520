"""The dashboard (Tổng quan): the daemon's heartbeat, what is on air and next, today's sessions, alerts,
campaigns at risk and the as-run chain's verdict, read in a handful of queries (none per row).

What stays the same between views (the chain's verdict, the rows the due rule reads, the frame's
lengths) is kept in a `DashboardMemory` (services.dashboard_memory) by the process serving the console.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import CompoundSelect, case, func, select
from sqlalchemy.orm import Session

from broadcaster import airlog, labels, planning
from broadcaster.domain import Outcome
from broadcaster.planning.calendar import station_zone
from broadcaster.reports.compliance import DueItem, format_duration_vi
from broadcaster.services.asrun_records import anchored
from broadcaster.services.daemon_status import DaemonView, daemon_view
from broadcaster.services.dashboard_memory import ChainView, DashboardMemory
from broadcaster.services.offair import off_air_alerts
from broadcaster.services.stations import find_station, session_names, station_domain
from broadcaster.services.users import get_user
from broadcaster.store.models import (
    AiringRow,
    AsRunRow,
    BulletinRow,
    CampaignRow,
    RenderRow,
    RevisionRow,
    StationRow,
)

# How far ahead the dashboard looks for programmes whose audio is missing.
AUDIO_HORIZON = timedelta(hours=48)
# The daemon's note on an airing it could not build (playout.daemon): a render failure, not a player fault.
RENDER_FAILURE_NOTE = "không dựng được chương trình"


@dataclass(frozen=True)
class Item:
    """One queued airing of a programme, with its audio (None: not rendered) and what the log says."""

    airing_id: int
    position: int
    bulletin_id: int
    title: str
    campaign_title: str
    priority: str
    duration_s: float | None
    has_audio: bool
    outcome: str | None = None  # the newest logged outcome of this airing, if it aired (or was missed)


@dataclass(frozen=True)
class Slot:
    """One session (recurring, extra or play-now) with its items and its length against the limit."""

    start: datetime
    session_code: str
    name: str
    max_s: float | None
    items: tuple[Item, ...]
    total_s: float

    @property
    def fill_percent(self) -> int:
        """How full the session is, 0–100 (the bar's width)."""
        if not self.max_s:
            return 100 if self.items else 0
        return min(100, round(100 * self.total_s / self.max_s))

    @property
    def over_s(self) -> float:
        """Seconds past the session's limit (0 when it fits)."""
        return max(0.0, self.total_s - self.max_s) if self.max_s else 0.0

    @property
    def without_audio(self) -> int:
        """How many items have no audio yet (their length is not in `total_s`)."""
        return sum(1 for i in self.items if not i.has_audio)


@dataclass(frozen=True)
class Alert:
    """Something the operator should look at: what, when, about which bulletin, and the detail."""

    kind: str
    at: datetime | None
    title: str
    detail: str
    severity: str = "bad"  # "bad" or "warn" (the badge's class)

    @property
    def label(self) -> str:
        """The alert's kind in Vietnamese."""
        return labels.alert_kind(self.kind, capital=True)


@dataclass(frozen=True)
class DueView:
    """A campaign at risk (the `report --due` rule) with its time left in words."""

    item: DueItem
    time_left: str
    last_day: date  # the deadline's last local day ("đến hết ngày ..."): the deadline is the midnight after


@dataclass(frozen=True)
class Live:
    """The block the console refreshes every few seconds: the daemon, what is on air, what is next."""

    now: datetime
    daemon: DaemonView
    on_air: Slot | None
    next: Slot | None


@dataclass(frozen=True)
class Dashboard:
    """Everything the Tổng quan page shows."""

    station_name: str
    zone_name: str
    today: date
    live: Live
    sessions: tuple[Slot, ...]
    alerts: tuple[Alert, ...]
    due: tuple[DueView, ...]
    chain: ChainView


@dataclass(frozen=True)
class _Queued:
    start: datetime
    session_code: str
    item: Item
    pending: bool  # not yet logged, settled or cancelled


def _queued(
    session: Session, station_id: int, start: datetime, end: datetime, logged: set[int] | None = None
) -> list[_Queued]:
    """Live airings with planned_start in [start, end), with titles and audio, in one query.

    `logged`: the airings with as-run rows among those (read here when not given; see `_logged`).
    """
    if logged is None:
        logged = {r.airing_id for r in _rows_near(session, station_id, start, end)}
    kind = case((RevisionRow.source_audio.is_not(None), "recording"), else_="speech")
    newest = (
        select(func.max(RenderRow.id))
        .where(RenderRow.revision_id == AiringRow.revision_id, RenderRow.kind == kind)
        .where(RenderRow.spoken_sha256 == RevisionRow.spoken_sha256)
        .correlate(AiringRow, RevisionRow)
        .scalar_subquery()
    )
    q = (
        select(
            AiringRow.id,
            AiringRow.planned_start,
            AiringRow.session_code,
            AiringRow.position,
            AiringRow.priority,
            AiringRow.bulletin_id,
            AiringRow.settled_at,
            BulletinRow.title,
            CampaignRow.title.label("campaign_title"),
            RenderRow.duration_s,
            RenderRow.path,
        )
        .join(BulletinRow, BulletinRow.id == AiringRow.bulletin_id)
        .join(CampaignRow, CampaignRow.id == BulletinRow.campaign_id)
        .join(RevisionRow, RevisionRow.id == AiringRow.revision_id)
        .outerjoin(RenderRow, RenderRow.id == newest)
        .where(AiringRow.station_id == station_id, AiringRow.cancelled_at.is_(None))
        .where(AiringRow.planned_start >= start, AiringRow.planned_start < end)
        .order_by(AiringRow.planned_start, AiringRow.position, AiringRow.id)
    )
    out = []
    for r in session.execute(q):
        has_audio = r.path is not None and Path(r.path).is_file()
        item = Item(
            r.id,
            r.position,
            r.bulletin_id,
            r.title,
            r.campaign_title,
            r.priority,
            r.duration_s if has_audio else None,
            has_audio,
        )
        pending = r.id not in logged and r.settled_at is None
        out.append(_Queued(r.planned_start, r.session_code, item, pending))
    return out


def _rows(session: Session, station_id: int, start: datetime, end: datetime | None) -> list[Any]:
    """As-run rows dated in [start, end) (actual, else planned start), in seq order: what alerts read."""
    q = select(
        AsRunRow.id,
        AsRunRow.seq,
        AsRunRow.airing_id,
        AsRunRow.corrects_id,
        AsRunRow.outcome,
        AsRunRow.note,
        AsRunRow.title,
        AsRunRow.planned_start,
        AsRunRow.actual_start,
    ).where(AsRunRow.station_id == station_id)
    return sorted(session.execute(anchored(q, start, end)), key=lambda r: r.seq)


def _rows_near(session: Session, station_id: int, start: datetime, end: datetime | None) -> list[Any]:
    """The rows that can belong to airings planned in [start, end).

    as_run has no index on airing_id: a row is found through its start instead, which lies within a
    programme of its airing's planned start (a day's margin either side covers a late resume).
    """
    return _rows(session, station_id, start - _MARGIN, None if end is None else end + _MARGIN)


def _logged_ids(station_id: int, after: datetime) -> CompoundSelect[int | None]:
    """Airings planned after `after` that have a row in the as-run log, as one uncorrelated subquery."""
    q = select(AsRunRow.airing_id).where(AsRunRow.station_id == station_id, AsRunRow.airing_id.is_not(None))
    return anchored(q, after - _MARGIN)


def _next_start(session: Session, station_id: int, after: datetime) -> datetime | None:
    q = (
        select(func.min(AiringRow.planned_start))
        .where(AiringRow.station_id == station_id, AiringRow.cancelled_at.is_(None))
        .where(AiringRow.settled_at.is_(None), AiringRow.planned_start > after)
        .where(AiringRow.id.not_in(_logged_ids(station_id, after)))
    )
    found: datetime | None = session.scalar(q)
    return found


def _slot(
    start: datetime,
    code: str,
    name: str,
    max_s: float | None,
    items: Sequence[Item],
    shape: planning.ProgrammeShape,
) -> Slot:
    total = planning.programme_length(shape, [i.duration_s or 0.0 for i in items])
    return Slot(start, code, name, max_s, tuple(items), total)


def _group(queued: Sequence[_Queued], names: Mapping[str, str], shape: planning.ProgrammeShape) -> list[Slot]:
    grouped: dict[datetime, list[_Queued]] = {}
    for q in queued:
        grouped.setdefault(q.start, []).append(q)
    return [
        _slot(start, code, names.get(code) or labels.session_name(code), None, [q.item for q in qs], shape)
        for start, qs in grouped.items()
        if (code := qs[0].session_code)
    ]


def live_status(
    session: Session,
    station: StationRow,
    *,
    now: datetime,
    shape: planning.ProgrammeShape,
    queued: Sequence[_Queued] | None = None,
) -> Live:
    """The daemon's state, the programme on air (from its heartbeat) and the next pending one."""
    daemon = daemon_view(session, station, now)
    names = session_names(session, station.id)
    if queued is None:
        queued = _queued(session, station.id, now - timedelta(hours=2), now + AUDIO_HORIZON)
    on_air = None
    if daemon.on_air_start is not None:
        at = daemon.on_air_start
        here = [q for q in queued if q.start == at] or _queued(session, station.id, at, at + _INSTANT)
        on_air = next(iter(_group(here, names, shape)), None)
    future = [q for q in queued if q.start > now and q.pending and q.start != daemon.on_air_start]
    if not future:
        later = _next_start(session, station.id, now)
        if later is not None and later != daemon.on_air_start:
            future = [q for q in _queued(session, station.id, later, later + _INSTANT) if q.pending]
    first = min((q.start for q in future), default=None)
    upcoming = next(iter(_group([q for q in future if q.start == first], names, shape)), None)
    return Live(now, daemon, on_air, upcoming)


_INSTANT = timedelta(microseconds=1)
_MARGIN = timedelta(days=1)


def live(
    session: Session, station_code: str | None, *, actor: str | None, now: datetime, memory: DashboardMemory
) -> Live:
    """The on-air block for a signed-in user (any role): what the console refreshes every few seconds."""
    get_user(session, actor)
    station = find_station(session, station_code)
    return live_status(session, station, now=now, shape=memory.shape(session, station, now))


def _effective(rows: Sequence[Any]) -> list[Any]:
    """Rows not replaced by a later correction among them (a correction copies its original's times)."""
    newest: dict[int, Any] = {}
    for row in rows:  # in seq order: a later correction of the same original wins
        newest[row.corrects_id or row.id] = row
    return sorted(newest.values(), key=lambda r: r.seq)


def _log_alerts(rows: Sequence[Any]) -> list[Alert]:
    alerts = []
    for row in rows:
        at = row.actual_start or row.planned_start
        if row.outcome == Outcome.MISSED:
            alerts.append(
                Alert("missed", at, row.title, row.note or labels.outcome(row.outcome, capital=True))
            )
        elif row.outcome == Outcome.FAILED:
            kind = "render_failed" if RENDER_FAILURE_NOTE in row.note else "failed"
            alerts.append(Alert(kind, at, row.title, row.note or labels.outcome(row.outcome, capital=True)))
    return alerts


def _audio_alerts(queued: Sequence[_Queued], now: datetime) -> list[Alert]:
    return [
        Alert(
            "missing_audio",
            q.start,
            q.item.title,
            "Chưa có tệp âm thanh để phát; trạm phát sẽ dựng lại trước giờ phát — kiểm tra giọng đọc "
            "(broadcaster speech render).",
            "warn",
        )
        for q in queued
        if q.pending and not q.item.has_audio and now - timedelta(minutes=5) <= q.start < now + AUDIO_HORIZON
    ]


def _daemon_alerts(daemon: DaemonView) -> list[Alert]:
    if daemon.state == "offline":
        detail = (
            f"Trạm phát trên máy {daemon.host} (PID {daemon.pid}) không báo tin {daemon.last_contact}: "
            "các buổi phát sẽ bị lỡ. Kiểm tra máy của đài và chạy lại 'broadcaster run'."
        )
        return [Alert("daemon", daemon.heartbeat_at, labels.daemon_state("offline", capital=True), detail)]
    if daemon.state in ("stopped", "absent"):
        detail = "Không có trạm phát nào đang chạy: các buổi phát sẽ không lên sóng. Chạy 'broadcaster run'."
        return [Alert("daemon", daemon.heartbeat_at, daemon.label, detail)]
    if daemon.backlog:
        detail = f"{daemon.backlog} dòng nhật ký đang chờ ghi vào cơ sở dữ liệu."
        return [Alert("backlog", daemon.heartbeat_at, "Nhật ký chờ ghi", detail, "warn")]
    return []


def dashboard(
    session: Session,
    station_code: str | None,
    *,
    actor: str | None,
    now: datetime,
    memory: DashboardMemory,
) -> Dashboard:
    """The Tổng quan page for a signed-in user (any role, the inspector included)."""
    get_user(session, actor)
    station = find_station(session, station_code)
    zone = station_zone(station)
    today = now.astimezone(zone).date()
    day_start = datetime.combine(today, time(0), zone)
    day_end = datetime.combine(today + timedelta(days=1), time(0), zone)
    shape = memory.shape(session, station, now)
    start, end = min(day_start, now - timedelta(hours=2)), max(day_end, now + AUDIO_HORIZON)
    near = _rows_near(session, station.id, start, end)  # one read of the log serves both below
    queued = _queued(session, station.id, start, end, {r.airing_id for r in near})
    rows = _effective([r for r in near if day_start <= (r.actual_start or r.planned_start) < day_end])
    outcomes = {r.airing_id: r.outcome for r in rows if r.airing_id is not None}
    queued = [
        _Queued(q.start, q.session_code, replace(q.item, outcome=outcomes.get(q.item.airing_id)), q.pending)
        for q in queued
    ]
    live_now = live_status(session, station, now=now, shape=shape, queued=queued)
    sessions = _today_slots(
        session, station, today, [q for q in queued if day_start <= q.start < day_end], shape
    )
    head = airlog.head_of(session, station.id)
    verdict = memory.verdicts.view(session, station, memory.witness, now, head)
    alerts = _daemon_alerts(live_now.daemon) + _log_alerts(rows) + _audio_alerts(queued, now)
    alerts += [Alert(a.verdict.value, a.at, a.title, a.detail) for a in off_air_alerts(session, rows)]
    if not verdict.ok:
        alerts.insert(0, Alert("chain", verdict.checked_at, "Nhật ký KHÔNG nguyên vẹn", verdict.problem))
    due = [
        DueView(item, format_duration_vi(item.time_left), (item.deadline - _INSTANT).astimezone(zone).date())
        for item in memory.due(session, station, now, head)
    ]
    return Dashboard(
        station.name, zone.key, today, live_now, tuple(sessions), tuple(alerts), tuple(due), verdict
    )


def _today_slots(
    session: Session,
    station: StationRow,
    today: date,
    queued: Sequence[_Queued],
    shape: planning.ProgrammeShape,
) -> list[Slot]:
    """The day's sessions (recurring and extra) with their items, plus play-now programmes."""
    domain = station_domain(session, station)
    by_start: dict[datetime, list[Item]] = {}
    codes: dict[datetime, str] = {}
    for q in queued:
        by_start.setdefault(q.start, []).append(q.item)
        codes[q.start] = q.session_code
    slots = []
    for occ in planning.occurrences(domain, today, today):
        items = by_start.pop(occ.start, [])
        slots.append(
            _slot(occ.start, occ.session_code, occ.name, occ.max_length.total_seconds(), items, shape)
        )
    for start, items in by_start.items():
        code = codes[start]
        slots.append(_slot(start, code, labels.session_name(code), None, items, shape))
    return sorted(slots, key=lambda s: s.start)
