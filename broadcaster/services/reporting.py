"""Proof of airtime from the database: as-run records, corrections, compliance aggregated in SQL.

Printable documents and CSV live in services.documents, the per-day totals in services.day_totals and
the per-day series arithmetic in reports.series.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import airlog
from broadcaster.domain import Campaign, Outcome, Role
from broadcaster.errors import InputError, NotFoundError
from broadcaster.planning.calendar import local_day, station_zone
from broadcaster.reports import compliance as comp
from broadcaster.reports.compliance import ComplianceReport, CountingRules, DueItem
from broadcaster.reports.periods import PeriodKind, period_containing
from broadcaster.reports.series import METRICS, DaySeries, Series, record_metrics, report_from_series
from broadcaster.services import audit
from broadcaster.services.asrun_records import anchored, load_records, superseded_ids
from broadcaster.services.day_totals import day_series
from broadcaster.services.heard_totals import counted_series
from broadcaster.services.stations import campaigns_of
from broadcaster.services.users import require_role
from broadcaster.store.models import (
    AiringRow,
    AsRunRow,
    BulletinRow,
    CampaignRow,
    StationRow,
)

__all__ = [
    "METRICS",
    "DaySeries",
    "Series",
    "compliance_reports",
    "correct",
    "corrections_of",
    "day_series",
    "district_compliance",
    "due_items",
    "due_window_start",
    "load_records",
    "planned_airings",
    "record_metrics",
    "report_from_series",
    "select_campaigns",
    "station_campaigns",
    "station_zone",
    "superseded_ids",
]


def correct(
    session: Session,
    row_id: int,
    outcome: Outcome,
    *,
    reason: str,
    actor: str | None,
    now: datetime,
    played_s: float | None = None,
) -> AsRunRow:
    """Append a correction of one as-run row (operator or leader); reports then use the newest one."""
    user = require_role(session, actor, Role.OPERATOR, Role.LEADER)
    if not reason.strip():
        raise InputError(
            "Thiếu lý do đính chính.", 'Thêm --reason "lý do" (ai, vì sao, căn cứ nào).', field="reason"
        )
    original = session.get(AsRunRow, row_id)
    if original is None:
        raise NotFoundError(f"Không có dòng nhật ký id={row_id}.", "Xem id bằng 'broadcaster log list'.")
    played_ms = None if played_s is None else round(played_s * 1000)
    entry = airlog.correction_entry(original, outcome, reason=reason.strip(), played_ms=played_ms)
    row = airlog.append(session, original.station_id, entry, recorded_by=user.name, now=now)
    audit.record(
        session,
        actor=user.name,
        action="as_run.correct",
        object_type="as_run",
        object_id=row.id,
        now=now,
        corrects=entry.corrects_id,
        outcome=outcome.value,
        reason=reason.strip(),
    )
    return row


def station_campaigns(session: Session, station: StationRow) -> list[Campaign]:
    """Every campaign of the station with its targets (possibly none), in one query."""
    return [c for _, c in campaigns_of(session, [station.id])]


def select_campaigns(session: Session, station: StationRow, codes: Sequence[str] | None) -> list[Campaign]:
    """The station's campaigns named by `codes` (None, [] or ["all"]: every campaign)."""
    campaigns = [c for _, c in campaigns_of(session, [station.id])]
    if not codes or list(codes) == ["all"]:
        if not campaigns:
            raise NotFoundError(f"Đài {station.code} chưa có chiến dịch nào.", "Nhập lịch có [[campaign]].")
        return campaigns
    known = {c.code: c for c in campaigns}
    missing = [c for c in codes if c not in known]
    if missing:
        raise NotFoundError(
            f"Không có chiến dịch '{missing[0]}' ở đài {station.code}.",
            "Các mã có: " + ", ".join(sorted(known)) + " (hoặc --campaign all).",
        )
    return [known[c] for c in codes]


def compliance_reports(
    session: Session,
    station: StationRow,
    campaign_codes: Sequence[str] | None,
    kind: PeriodKind,
    *,
    now: datetime,
    first: date | None = None,
    last: date | None = None,
    rules: CountingRules | None = None,
) -> list[ComplianceReport]:
    """Compliance of the station's named campaigns (all when None or ["all"]), from aired rows only."""
    rules = rules or CountingRules()
    campaigns = select_campaigns(session, station, campaign_codes)
    series = counted_series(session, [station], campaigns, now=now, rules=rules)
    zone = station_zone(station)
    return [
        report_from_series(
            c,
            series.get((station.id, c.code), DaySeries()),
            kind,
            now=now,
            zone=zone,
            first=first,
            last=last,
            rules=rules,
        )
        for c in campaigns
    ]


def district_compliance(
    session: Session,
    campaign_code: str,
    kind: PeriodKind,
    *,
    now: datetime,
    rules: CountingRules | None = None,
) -> list[tuple[StationRow, ComplianceReport]]:
    """One campaign code across every station that runs it: one aggregate query, one report per station."""
    rules = rules or CountingRules()
    stations = {st.id: st for st in session.scalars(select(StationRow).order_by(StationRow.code))}
    campaigns = dict(campaigns_of(session, list(stations), campaign_code))
    running = [st for st in stations.values() if st.id in campaigns]
    series = counted_series(session, running, list(campaigns.values()), now=now, rules=rules)
    return [
        (
            st,
            report_from_series(
                campaigns[st.id],
                series.get((st.id, campaign_code), DaySeries()),
                kind,
                now=now,
                zone=station_zone(st),
                rules=rules,
            ),
        )
        for st in running
    ]


def planned_airings(session: Session, station: StationRow, now: datetime) -> dict[str, list[datetime]]:
    """Future airings per campaign code: queued, not cancelled, not yet in the as-run log."""
    # One uncorrelated subquery found through the rows' start (as_run has no index on airing_id: a
    # correlated EXISTS scanned the whole log once per future airing, 0.7 s for a year of history). An
    # airing still ahead was logged, if at all, when it was played and then put back: within a month.
    logged = anchored(
        select(AsRunRow.airing_id).where(AsRunRow.station_id == station.id, AsRunRow.airing_id.is_not(None)),
        now - timedelta(days=31),
    )
    q = (
        select(CampaignRow.code, AiringRow.planned_start)
        .join(BulletinRow, BulletinRow.id == AiringRow.bulletin_id)
        .join(CampaignRow, CampaignRow.id == BulletinRow.campaign_id)
        .where(AiringRow.station_id == station.id, AiringRow.cancelled_at.is_(None))
        .where(AiringRow.planned_start > now, AiringRow.id.not_in(logged))
        .order_by(AiringRow.planned_start)
    )
    out: dict[str, list[datetime]] = {}
    for code, start in session.execute(q):
        out.setdefault(code, []).append(start)
    return out


def due_window_start(campaigns: Sequence[Campaign], today: date) -> date:
    """The first local day whose rows can change the `due` answer for these campaigns today.

    The rule looks at this week, this month and the last airing within the longest allowed gap: rows
    before all three cannot change it (a gap longer than that is already past its deadline).
    """
    gaps = [c.target.max_gap_days for c in campaigns if c.target.max_gap_days is not None]
    return min(
        period_containing(PeriodKind.WEEK, today).start,
        period_containing(PeriodKind.MONTH, today).start,
        today - timedelta(days=max(gaps, default=0)),
    )


def due_items(
    session: Session, station: StationRow, *, now: datetime, rules: CountingRules | None = None
) -> list[DueItem]:
    """Campaigns at risk of missing this week's or month's target, or their gap limit, at `now`."""
    zone = station_zone(station)
    today = local_day(now, zone)
    campaigns = [c for c in station_campaigns(session, station) if c.active_on(today)]
    if not campaigns:
        return []
    records = load_records(
        session,
        station,
        start=datetime.combine(due_window_start(campaigns, today), time(0), zone),
        campaign_codes=[c.code for c in campaigns],
    )
    return comp.due(
        campaigns, records, planned_airings(session, station, now), now=now, zone=zone, rules=rules
    )


def corrections_of(session: Session, station: StationRow) -> dict[int, int]:
    """Correction row id → the id of the row it corrects, for one station."""
    q = select(AsRunRow.id, AsRunRow.corrects_id).where(
        AsRunRow.station_id == station.id, AsRunRow.corrects_id.is_not(None)
    )
    return {row_id: target for row_id, target in session.execute(q) if target is not None}
