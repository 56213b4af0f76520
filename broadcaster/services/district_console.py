"""What the district console shows: every ward's state, the wards × campaigns table with each cell's
standing, the wards at risk, and one ward's drill-down (its reports, its forwarded log, what the
district sent it).

The figures come from district_intake (the same aggregate and rules as each ward's own report); this
module only reads them for people: a cell's tone, a projection of where an unfinished period is going.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.domain import Role
from broadcaster.errors import NotFoundError
from broadcaster.planning.calendar import local_day, station_zone
from broadcaster.reports.compliance import ComplianceReport, CountingRules, PeriodCompliance
from broadcaster.reports.consolidated import at_risk, projected
from broadcaster.reports.periods import PeriodKind
from broadcaster.reports.series import DaySeries, report_from_series
from broadcaster.services import district_dispatch, district_intake
from broadcaster.services.day_totals import day_series
from broadcaster.services.district_audit import WardEvent, ward_events
from broadcaster.services.district_changes import ChangeView, recent_changes
from broadcaster.services.district_dispatch import DispatchView
from broadcaster.services.district_intake import WardCompliance, WardView
from broadcaster.services.station_settings import WEEKDAY_CODES
from broadcaster.services.stations import campaigns_of
from broadcaster.services.users import require_role
from broadcaster.store.models import ForwardedAsRunRow, SessionRow, StationRow

# A cell's standing: met, on course, at risk (its pace falls short, or its ward says so), not met,
# no target, or the campaign does not run this period.
TONES = ("ok", "pending", "risk", "bad", "plain", "none")
LOG_LIMIT = 100
DEFAULT_ZONE = "Asia/Ho_Chi_Minh"


def tone(row: PeriodCompliance | None, today: date, flagged: bool = False) -> str:
    """How a ward × campaign cell stands: one of TONES. `flagged`: the ward's own plan says at risk."""
    if row is None:
        return "none"
    if row.met is True:
        return "ok"
    if row.met is False:
        return "bad"
    if row.target_airings is None and row.target_minutes is None:
        return "plain"
    return "risk" if at_risk(row, today) or flagged else "pending"


@dataclass(frozen=True)
class Cell:
    """One ward × campaign: this period's figures, its standing, and the projection behind it."""

    campaign_code: str
    campaign_title: str
    row: PeriodCompliance | None
    tone: str
    projected_airings: int | None = None

    @property
    def percent(self) -> int | None:
        """Share of the airings target reached so far, in whole percent (None without a target)."""
        if self.row is None or not self.row.target_airings:
            return None
        return min(999, round(100 * self.row.airings / self.row.target_airings))


@dataclass(frozen=True)
class WardLine:
    """One ward's row of the table: its state and its cells by campaign code."""

    ward: WardView
    cells: dict[str, Cell]


@dataclass(frozen=True)
class Board:
    """The district's front page: campaign columns, one line per ward, the cells at risk or not met."""

    campaigns: list[tuple[str, str]]
    lines: list[WardLine]
    at_risk: list[tuple[WardView, Cell]]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def online(self) -> int:
        return sum(1 for line in self.lines if line.ward.online)


def _flagged(ward: WardView) -> set[str]:
    found = (ward.heartbeat or {}).get("at_risk")
    return {str(c) for c in found} if isinstance(found, list) else set()


def board(session: Session, *, actor: str | None, now: datetime, rules: CountingRules | None = None) -> Board:
    """Every ward with this month's compliance of each of its campaigns (district leader or inspector)."""
    wards = district_intake.wards_overview(session, actor=actor, now=now)
    table = district_intake.compliance_table(session, actor=actor, now=now, rules=rules)
    return arrange(wards, table, now)


def arrange(wards: Sequence[WardView], table: Sequence[WardCompliance], now: datetime) -> Board:
    """The board from the wards and their table cells (pure: the tones are read at `now`)."""
    titles: dict[str, str] = {}
    by_ward: dict[str, dict[str, Cell]] = {}
    views = {w.code: w for w in wards}
    for c in table:
        titles.setdefault(c.campaign_code, c.campaign_title)
        ward = views.get(c.station_code)
        today = local_day(now, ZoneInfo(ward.timezone if ward else DEFAULT_ZONE))
        projection = projected(c.row, today)[0] if c.row is not None else None
        by_ward.setdefault(c.station_code, {})[c.campaign_code] = Cell(
            c.campaign_code,
            c.campaign_title,
            c.row,
            tone(c.row, today, ward is not None and c.campaign_code in _flagged(ward)),
            round(projection) if projection is not None else None,
        )
    lines = [WardLine(w, by_ward.get(w.code, {})) for w in wards]
    order = {"bad": 0, "risk": 1}
    at_risk = sorted(
        ((line.ward, cell) for line in lines for cell in line.cells.values() if cell.tone in order),
        key=lambda pair: (order[pair[1].tone], pair[0].code, pair[1].campaign_code),
    )
    counts = {t: sum(1 for line in lines for c in line.cells.values() if c.tone == t) for t in TONES}
    return Board(sorted(titles.items()), lines, at_risk, counts)


@dataclass(frozen=True)
class LogLine:
    """One row of a ward's forwarded log as the district shows it."""

    seq: int
    title: str
    campaign_code: str
    outcome: str
    trigger: str
    planned_start: datetime | None
    actual_start: datetime | None
    played_s: float
    corrects: int | None


@dataclass(frozen=True)
class SessionLine:
    """One of the ward's recurring sessions as the district's copy of its schedule holds it."""

    code: str
    name: str
    weekdays: list[str]
    start: str
    max_minutes: int | float


@dataclass(frozen=True)
class WardDetail:
    """One ward's drill-down: its state, its monthly reports, its latest log rows, the district's sends,
    its sessions with the changes the district sent, and its audit events."""

    ward: WardView
    reports: list[ComplianceReport]
    log: list[LogLine]
    log_day: date | None
    dispatches: list[DispatchView]
    sessions: list[SessionLine] = field(default_factory=list)
    changes: list[ChangeView] = field(default_factory=list)
    events: list[WardEvent] = field(default_factory=list)


def ward_detail(
    session: Session,
    code: str,
    *,
    actor: str | None,
    now: datetime,
    day: date | None = None,
    kind: PeriodKind = PeriodKind.MONTH,
    rules: CountingRules | None = None,
) -> WardDetail:
    """A ward as the district holds it (district leader or inspector): reports from its forwarded log."""
    require_role(session, actor, Role.INSPECTOR, Role.LEADER)
    views = {w.code: w for w in district_intake.wards_overview(session, actor=actor, now=now)}
    if code not in views:
        raise NotFoundError(f"Không có phường «{code}» ở máy chủ huyện.", "Chọn phường trong danh sách.")
    station = session.scalars(select(StationRow).where(StationRow.code == code)).one()
    rules = rules or CountingRules()
    campaigns = [c for _, c in campaigns_of(session, [station.id])]
    series = day_series(session, [station], campaigns, now=now, rules=rules, forwarded=True)
    zone = station_zone(station)
    reports = [
        report_from_series(
            c, series.get((station.id, c.code), DaySeries()), kind, now=now, zone=zone, rules=rules
        )
        for c in campaigns
    ]
    q = select(ForwardedAsRunRow).where(ForwardedAsRunRow.station_id == station.id)
    if day is not None:
        start = datetime.combine(day, time(0), zone)
        end = datetime.combine(day + timedelta(days=1), time(0), zone)
        q = q.where(ForwardedAsRunRow.actual_start >= start, ForwardedAsRunRow.actual_start < end)
    rows = session.scalars(q.order_by(ForwardedAsRunRow.seq.desc()).limit(LOG_LIMIT)).all()
    log = [
        LogLine(
            r.seq,
            r.title,
            r.campaign_code or "",
            r.outcome,
            r.trigger,
            r.planned_start,
            r.actual_start,
            r.played_ms / 1000,
            r.corrects_id,
        )
        for r in rows
    ]
    sent = [
        d
        for d in district_dispatch.recent_dispatches(session, actor=actor)
        if any(t.station_code == code for t in d.targets)
    ]
    sessions = [
        SessionLine(
            r.code,
            r.name,
            [WEEKDAY_CODES[int(d)] for d in r.weekdays.split(",") if d],
            r.start_time,
            r.max_seconds // 60 if r.max_seconds % 60 == 0 else round(r.max_seconds / 60, 2),
        )
        for r in session.scalars(
            select(SessionRow).where(SessionRow.station_id == station.id).order_by(SessionRow.start_time)
        )
    ]
    return WardDetail(
        views[code],
        reports,
        log,
        day,
        sent,
        sessions,
        recent_changes(session, station),
        ward_events(session, station, actor=actor),
    )
