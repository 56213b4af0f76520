"""`broadcaster demo`'s steps: the seed plan made current, the bulletins to air, a session ahead, the results.

Each step is one function the command calls in turn (the render step is `rendering.render_pending`, and
the daemon is the real one); they return values and the command prints them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import labels, planning
from broadcaster.domain import BulletinStatus, Outcome, Role, SessionOccurrence
from broadcaster.reports.compliance import ComplianceReport
from broadcaster.reports.periods import PeriodKind
from broadcaster.schedules import ScheduleFile
from broadcaster.services import bulletins, documents, media, queue, reporting, stations
from broadcaster.speech.render import Renderer
from broadcaster.store.models import AsRunRow, StationRow, UserRow

# The session the demo queues into: its code, and how long it may run.
DEMO_SESSION = "demo"
DEMO_SESSION_LENGTH = timedelta(minutes=15)


def shift_campaigns(sf: ScheduleFile, first_day: date) -> ScheduleFile:
    """The same plan with every campaign starting on `first_day`, each period keeping its length."""
    campaigns = tuple(
        dataclasses.replace(c, period_start=first_day, period_end=first_day + (c.period_end - c.period_start))
        for c in sf.campaigns
    )
    return dataclasses.replace(sf, campaigns=campaigns)


def current_plan(sf: ScheduleFile, now: datetime) -> tuple[ScheduleFile, date | None]:
    """The plan as it is when a campaign runs today (station's zone); else moved to start today, and today."""
    today = planning.local_day(now, planning.station_zone(sf.station))
    if any(c.active_on(today) for c in sf.campaigns):
        return sf, None
    return shift_campaigns(sf, today), today


@dataclass(frozen=True)
class Picked:
    """The bulletins the demo airs, and how many of the approved ones each TTS engine spoke."""

    bulletin_ids: list[int]
    engines: dict[str, int]


def pick_bulletins(
    session: Session,
    station: StationRow,
    renderer: Renderer,
    settings: media.MediaSettings,
    *,
    items: int,
    now: datetime,
) -> Picked:
    """The shortest approved bulletin of each campaign, at most `items` of them (shortest first)."""
    approved = bulletins.list_bulletins(session, station.id, status=BulletinStatus.APPROVED.value)
    lengths: list[tuple[float, int, str]] = []
    engines: dict[str, int] = {}
    for b in approved:
        render = media.ensure_render(session, bulletins.approved_revision(b), renderer, settings, now=now)
        engines[render.engine] = engines.get(render.engine, 0) + 1
        lengths.append((render.duration_s, b.id, b.campaign.code))
    chosen: list[int] = []
    seen: set[str] = set()
    for _, bulletin_id, campaign in sorted(lengths):
        if campaign not in seen and len(chosen) < items:
            chosen.append(bulletin_id)
            seen.add(campaign)
    return Picked(chosen, engines)


@dataclass(frozen=True)
class Queued:
    """The demo session: when it starts and the airings queued into it."""

    start: datetime
    airing_ids: list[int]


def queue_session(
    session: Session,
    station: StationRow,
    bulletin_ids: list[int],
    lengths: queue.Lengths,
    *,
    lead: timedelta,
    now: datetime,
) -> Queued:
    """Queue the bulletins, as the station's first operator, into a session `lead` from now (any hour)."""
    operator = session.scalar(select(UserRow.name).where(UserRow.role == Role.OPERATOR.value).limit(1))
    start = (now + lead).replace(microsecond=0)
    occurrence = SessionOccurrence(
        DEMO_SESSION, labels.session_name(DEMO_SESSION), start, DEMO_SESSION_LENGTH
    )
    domain = stations.station_domain(session, station)
    airing_ids = [
        queue.queue(
            session,
            station,
            domain,
            occurrence,
            bulletin_id,
            actor=operator,
            now=now,
            lengths=lengths,
            check_hours=False,
        ).id
        for bulletin_id in bulletin_ids
    ]
    return Queued(start, airing_ids)


@dataclass(frozen=True)
class AiredItem:
    """One as-run row of the demo session, as the table shows it."""

    title: str
    campaign_title: str
    planned_start: datetime | None
    actual_start: datetime | None
    start_error_ms: int | None
    played_s: float
    outcome: str


@dataclass(frozen=True)
class Aired:
    """What the demo session logged, and the station's completed airings per campaign (the whole log)."""

    items: list[AiredItem]
    completed: list[tuple[str, int]]  # (campaign title, airings), by title


def what_aired(session: Session, station: StationRow, airing_ids: list[int]) -> Aired:
    """The as-run rows of these airings, and every completed airing of the station counted by campaign."""
    titles = stations.campaign_titles(session, station.id)
    rows = session.scalars(select(AsRunRow).where(AsRunRow.airing_id.in_(airing_ids)).order_by(AsRunRow.seq))
    items = [
        AiredItem(
            r.title,
            titles.get(r.campaign_code or "", r.campaign_code or ""),
            r.planned_start,
            r.actual_start,
            _error_ms(r),
            r.played_ms / 1000,
            r.outcome,
        )
        for r in rows
    ]
    counts: dict[str, int] = {}
    completed = select(AsRunRow.campaign_code).where(
        AsRunRow.station_id == station.id, AsRunRow.outcome == Outcome.COMPLETED.value
    )
    for code in session.scalars(completed):
        title = titles.get(code, code) if code else "-"
        counts[title] = counts.get(title, 0) + 1
    return Aired(items, sorted(counts.items()))


def _error_ms(row: AsRunRow) -> int | None:
    if row.actual_start is None or row.planned_start is None:
        return None
    return round((row.actual_start - row.planned_start).total_seconds() * 1000)


@dataclass(frozen=True)
class MonthReport:
    """This month's compliance of the campaigns running today, and the printable report written of it."""

    month: date
    reports: list[ComplianceReport]
    pdf: Path


def month_report(session: Session, station: StationRow, reports_dir: Path, *, now: datetime) -> MonthReport:
    """Compliance of today's campaigns from the first of the month to today, and its PDF in `reports_dir`."""
    today = planning.local_day(now, planning.station_zone(station))
    first = today.replace(day=1)
    active = [c.code for c in stations.campaigns_domain(session, station.id) if c.active_on(today)]
    reports = reporting.compliance_reports(
        session, station, active, PeriodKind.MONTH, now=now, first=first, last=today
    )
    out = reports_dir / f"bao-cao-{today:%Y-%m}.pdf"
    documents.write_compliance_pdf(
        session, station, active, PeriodKind.MONTH, now, out, first=first, last=today
    )
    return MonthReport(first, reports, out)
