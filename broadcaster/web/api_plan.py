"""The JSON API's plan and proof: the schedule, queueing, play-now (emergency), the as-run log, the
compliance report and the daemon's heartbeat. Included under /api by broadcaster.web.api."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request

from broadcaster import planning
from broadcaster.domain import Outcome, Priority
from broadcaster.errors import InputError
from broadcaster.reports.export import asrun_dict
from broadcaster.reports.periods import parse_kind
from broadcaster.services import api_access, emergency, queue, reporting, stations
from broadcaster.web.api_auth import Caller, change_as, local, read_as, zone_of
from broadcaster.web.api_models import (
    AiringIn,
    AiringOut,
    AsRunListOut,
    AsRunOut,
    ComplianceOut,
    ComplianceRowOut,
    DaemonOut,
    PlayNowIn,
    ReportOut,
    ScheduleItemOut,
    ScheduleOut,
    SessionOut,
    StatusOut,
)
from broadcaster.web.context import Web

if TYPE_CHECKING:
    from broadcaster.store.models import AiringRow, StationRow

router = APIRouter()
MAX_DAYS = 366

# --- the plan: schedule, queue, play now -------------------------------------------------------------


def _days(web: Web, station: StationRow, first: date | None, last: date | None) -> tuple[date, date]:
    today = web.now().astimezone(zone_of(station)).date()
    first = first or today
    last = last or first + timedelta(days=6)
    planning.check_day_order(first, last, "Đổi lại from và to.", field="to")
    if (last - first).days > MAX_DAYS:
        raise InputError("Khoảng ngày quá dài.", "Xem tối đa một năm mỗi lần.", field="to")
    return first, last


@router.get("/schedule", summary="Sessions and their queued items")
def schedule(
    request: Request,
    caller: Caller,
    from_: Annotated[date | None, Query(alias="from", description="local date (default today)")] = None,
    to: Annotated[date | None, Query(description="local date, inclusive (default from + 6 days)")] = None,
) -> ScheduleOut:
    """The plan between two local dates: every session occurrence and play-now programme, with items."""
    with read_as(request, caller) as (s, station, web):
        first, last = _days(web, station, from_, to)
        domain = stations.station_domain(s, station)
        zone = zone_of(station)
        lo, hi = queue.local_window(zone, first, last)
        planned = queue.plan_view(s, station, lo, hi)
        seconds = api_access.known_durations(s, [i.airing_id for i in planned])
        items = queue.sessions_with_items(planned)
        sessions = []
        for occ in planning.occurrences(domain, first, last):
            queued = items.pop(occ.start, [])
            sessions.append(_session(occ.start, occ.session_code, occ.name, occ.max_length, queued, seconds))
        for when, queued in items.items():  # play-now, demo and resumed programmes
            sessions.append(_session(when, queued[0].session_code, "", None, queued, seconds))
    for out in sessions:
        out.start = out.start.astimezone(zone)
    sessions.sort(key=lambda x: x.start)
    return ScheduleOut(
        station=station.code, timezone=zone.key, from_date=first, to_date=last, sessions=sessions
    )


def _session(
    start: datetime,
    code: str,
    name: str,
    length: timedelta | None,
    queued: list[queue.PlannedItem],
    seconds: dict[int, float | None],
) -> SessionOut:
    return SessionOut(
        start=start,
        session=code,
        name=name,
        max_minutes=length.total_seconds() / 60 if length is not None else None,
        items=[
            ScheduleItemOut(
                airing_id=i.airing_id,
                position=i.position,
                bulletin_id=i.bulletin_id,
                title=i.title,
                campaign=i.campaign_code,
                revision=i.revision_number,
                priority=i.priority.value,
                queued_by=i.queued_by,
                duration_s=seconds.get(i.airing_id),
            )
            for i in queued
        ],
    )


def _airing(row: AiringRow, zone: ZoneInfo) -> AiringOut:
    return AiringOut(
        id=row.id,
        bulletin_id=row.bulletin_id,
        revision_id=row.revision_id,
        session=row.session_code,
        planned_start=row.planned_start.astimezone(zone),
        priority=row.priority,  # type: ignore[arg-type]
        position=row.position,
        queued_by=row.queued_by,
        queued_at=row.queued_at.astimezone(zone),
    )


def _clock(text: str) -> time:
    try:
        return time.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"Giờ không hợp lệ: '{text}'.", "Viết dạng HH:MM, ví dụ 06:00.", field="time"
        ) from None


@router.post("/airings", status_code=201, summary="Queue a bulletin into a session (operator)")
def add_airing(request: Request, caller: Caller, body: AiringIn) -> AiringOut:
    """Queue an approved bulletin into the session at a local date and start, or into the next one."""
    if body.next == (body.date is not None or body.time is not None):
        raise InputError("Chọn đúng một trong hai: date và time, hoặc next = true.", "Ví dụ: {'next': true}.")
    if not body.next and (body.date is None or body.time is None):
        raise InputError("Cần cả date và time của buổi phát.", "Ví dụ: date 2023-03-20, time 06:00.")
    with change_as(request, caller) as (s, station, web, actor):
        domain = stations.station_domain(s, station)
        at = _clock(body.time) if body.time else None
        occurrence = queue.resolve_occurrence(domain, web.now(), body.date, at)
        row = queue.queue(
            s,
            station,
            domain,
            occurrence,
            body.bulletin_id,
            actor=actor,
            now=web.now(),
            lengths=web.app.lengths(s, station),
            priority=Priority(body.priority),
        )
        return _airing(row, zone_of(station))


@router.post("/play-now", status_code=201, summary="Play a bulletin now (operator; emergency interrupts)")
def play_now(request: Request, caller: Caller, body: PlayNowIn) -> AiringOut:
    """Air an approved bulletin now: `emergency` interrupts what is on air at any hour (the daemon is woken
    as for the Phát khẩn cấp page); otherwise a priority airing a moment ahead, within the allowed hours."""
    with change_as(request, caller) as (s, station, web, actor):
        if body.emergency:

            def wake() -> None:
                web.app.wake_daemon()  # a daemon in another home re-reads the plan on its next poll

            row = emergency.start_emergency(
                s,
                web.app,
                web.settings.station,
                str(body.bulletin_id),
                actor=actor,
                now=web.now(),
                wake=wake,
            )
            return _airing(row, zone_of(station))
        row = queue.play_now(
            s,
            station,
            stations.station_domain(s, station),
            body.bulletin_id,
            actor=actor,
            now=web.now(),
            lengths=web.app.lengths(s, station),
        )
        return _airing(row, zone_of(station))


# --- proof of airtime ---------------------------------------------------------------------------------


@router.get("/asrun", summary="The as-run log")
def asrun(
    request: Request,
    caller: Caller,
    from_: Annotated[date | None, Query(alias="from", description="local date (default: the start)")] = None,
    to: Annotated[date | None, Query(description="local date, inclusive (default: up to now)")] = None,
    campaign: str | None = None,
    outcome: Literal["completed", "interrupted", "failed", "missed", "skipped"] | None = None,
    all_rows: Annotated[bool, Query(alias="all", description="also rows replaced by a correction")] = False,
) -> AsRunListOut:
    """What actually aired, in local time; corrections applied unless `all`."""
    with read_as(request, caller) as (s, station, _):
        zone = zone_of(station)
        planning.check_day_order(from_, to, "Đổi lại from và to.", field="to")
        start = planning.to_utc(zone, from_, time(0)) if from_ else None
        end = planning.to_utc(zone, to + timedelta(days=1), time(0)) if to else None
        records = reporting.load_records(
            s,
            station,
            start=start,
            end=end,
            campaign_codes=[campaign] if campaign else None,
            outcomes=[Outcome(outcome)] if outcome else None,
            effective=not all_rows,
        )
        corrects = reporting.corrections_of(s, station)
    rows = [
        AsRunOut.model_validate({**asrun_dict(r, zone), "corrects_id": corrects.get(r.row_id or 0)})
        for r in records
    ]
    return AsRunListOut(station=station.code, timezone=zone.key, rows=rows)


@router.get("/report", summary="Compliance of campaigns against their targets")
def report(
    request: Request,
    caller: Caller,
    campaign: Annotated[str | None, Query(description="campaign code (default: every campaign)")] = None,
    period: Annotated[str, Query(description="week, month, quarter or year")] = "month",
    from_: Annotated[date | None, Query(alias="from")] = None,
    to: date | None = None,
) -> ReportOut:
    """Per period: airings, minutes, gaps against the targets, from aired rows only."""
    kind = parse_kind(period)
    with read_as(request, caller) as (s, station, web):
        codes = [campaign] if campaign else None
        found = reporting.compliance_reports(s, station, codes, kind, now=web.now(), first=from_, last=to)
    out = [
        ComplianceOut(
            campaign=r.campaign_code,
            title=r.campaign_title,
            plan_ref=r.plan_ref,
            period=r.kind.value,
            timezone=r.zone_name,
            rows=[
                ComplianceRowOut.model_validate(
                    {
                        **row.__dict__,
                        "label": row.period.label,
                        "from": row.period.start,
                        "to": row.period.end,
                    }
                )
                for row in r.rows
            ],
        )
        for r in found
    ]
    return ReportOut(station=station.code, reports=out)


@router.get("/status", summary="The station daemon's heartbeat")
def status(request: Request, caller: Caller) -> StatusOut:
    """Whether the daemon runs (its lease holds), when it last made contact, and what it is doing."""
    with read_as(request, caller) as (s, station, web):
        now = web.now()
        view = api_access.daemon_view(s, station, now=now)
        zone = zone_of(station)
        daemon = None
        if view is not None:
            daemon = DaemonOut(
                state=view.state,  # type: ignore[arg-type]
                alive=view.alive,
                host=view.host,
                pid=view.pid,
                started_at=view.started_at.astimezone(zone),
                heartbeat_at=view.heartbeat_at.astimezone(zone),
                seconds_since_contact=view.seconds_since_contact,
                on_air_start=local(view.on_air_start, zone),
                backlog=view.backlog,
            )
        return StatusOut(
            station=station.code,
            name=station.name,
            timezone=zone.key,
            now=now.astimezone(zone),
            daemon=daemon,
        )
