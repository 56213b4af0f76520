"""Stations from schedule files: idempotent import, and loading them back as domain objects."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.domain import (
    Campaign,
    ExceptionKind,
    RelayRule,
    ScheduleException,
    SessionRule,
    Station,
    Target,
    TimeWindow,
)
from broadcaster.errors import NotFoundError
from broadcaster.planning.calendar import station_zone
from broadcaster.schedules import ScheduleFile
from broadcaster.services import audit, bulletins
from broadcaster.store.models import (
    BulletinRow,
    CampaignRow,
    ExceptionRow,
    SessionRow,
    StationRow,
    TargetRow,
    UserRow,
)


@dataclass
class ImportSummary:
    """What an import changed, by kind."""

    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)

    def bump(self, bucket: dict[str, int], kind: str) -> None:
        """Count one change."""
        bucket[kind] = bucket.get(kind, 0) + 1

    @property
    def changed(self) -> bool:
        """True if anything was written."""
        return bool(self.created or self.updated)


def _hhmm(t: time) -> str:
    return t.strftime("%H:%M")


def _window(text: str) -> TimeWindow:
    start, end = text.split("-")
    return TimeWindow(time.fromisoformat(start), time.fromisoformat(end))


def _set(row: Any, summary: ImportSummary, kind: str, **values: Any) -> None:
    changed = False
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)
            changed = True
    if changed:
        summary.bump(summary.updated, kind)


def import_schedule(
    session: Session, sf: ScheduleFile, *, actor: str, now: datetime, speak: Callable[[str], str]
) -> ImportSummary:
    """Load a validated schedule file; importing the same file twice changes nothing."""
    summary = ImportSummary()
    st = sf.station
    station = session.scalar(select(StationRow).where(StationRow.code == st.code))
    hours = [f"{_hhmm(w.start)}-{_hhmm(w.end)}" for w in st.allowed_hours]
    ward = getattr(sf, "ward", "") or getattr(st, "ward", "") or ""
    if station is None:
        station = StationRow(
            code=st.code, name=st.name, timezone=st.timezone, ident=st.ident, allowed_hours=hours
        )
        station.ward = ward
        session.add(station)
        session.flush()
        summary.bump(summary.created, "station")
    else:
        _set(
            station,
            summary,
            "station",
            name=st.name,
            timezone=st.timezone,
            ident=st.ident,
            allowed_hours=hours,
        )
    _import_users(session, sf, summary, actor, now)
    _import_sessions(session, station, st, summary)
    _import_exceptions(session, station, st, summary)
    campaign_ids = _import_campaigns(session, station, sf, summary)
    for spec in sf.bulletins:
        changed = bulletins.upsert_from_spec(
            session, station.id, campaign_ids[spec.campaign_code], spec, actor=actor, now=now, speak=speak
        )
        if changed:
            summary.bump(summary.created if changed == "created" else summary.updated, "bulletin")
    if summary.changed:
        audit.record(
            session,
            actor=actor,
            action="schedule.import",
            object_type="station",
            object_id=st.code,
            now=now,
            created=summary.created,
            updated=summary.updated,
        )
    return summary


def _import_users(
    session: Session, sf: ScheduleFile, summary: ImportSummary, actor: str, now: datetime
) -> None:
    for spec in sf.users:
        user = session.scalar(select(UserRow).where(UserRow.name == spec.name))
        if user is None:
            session.add(
                UserRow(
                    name=spec.name,
                    full_name=spec.full_name,
                    title=spec.title,
                    role=spec.role.value,
                    created_at=now,
                )
            )
            summary.bump(summary.created, "user")
        else:
            _set(user, summary, "user", full_name=spec.full_name, title=spec.title, role=spec.role.value)
    session.flush()


def _import_sessions(session: Session, station: StationRow, st: Station, summary: ImportSummary) -> None:
    existing = {
        r.code: r for r in session.scalars(select(SessionRow).where(SessionRow.station_id == station.id))
    }
    for rule in st.sessions:
        values = {
            "name": rule.name,
            "weekdays": ",".join(str(d) for d in sorted(rule.weekdays)),
            "start_time": _hhmm(rule.start),
            "max_seconds": int(rule.max_length.total_seconds()),
            "valid_from": rule.valid_from,
            "valid_to": rule.valid_to,
            "relay": relay_value(rule.relay),
        }
        row = existing.pop(rule.code, None)
        if row is None:
            session.add(SessionRow(station_id=station.id, code=rule.code, **values))
            summary.bump(summary.created, "session")
        else:
            _set(row, summary, "session", **values)
    for row in existing.values():
        session.delete(row)
        summary.bump(summary.updated, "session")


def relay_value(relay: RelayRule | None) -> dict[str, Any] | None:
    """A session's relay as its row keeps it."""
    if relay is None:
        return None
    seconds = int(relay.length.total_seconds())
    return {"source": relay.source, "seconds": seconds, "place": relay.place, "filler": relay.filler}


def relay_rule(value: dict[str, Any] | None) -> RelayRule | None:
    """A session row's relay as the planner sees it."""
    if not value:
        return None
    length = timedelta(seconds=int(value["seconds"]))
    return RelayRule(
        str(value["source"]), length, str(value.get("place", "first")), str(value.get("filler", ""))
    )


def _exception_key(
    day: Any, kind: str, code: str | None, start: str | None, secs: int | None, reason: str
) -> tuple[Any, ...]:
    return (day, kind, code, start, secs, reason)


def _import_exceptions(session: Session, station: StationRow, st: Station, summary: ImportSummary) -> None:
    rows = list(session.scalars(select(ExceptionRow).where(ExceptionRow.station_id == station.id)))
    have = {
        _exception_key(r.day, r.kind, r.session_code, r.start_time, r.max_seconds, r.reason): r for r in rows
    }
    want = {}
    for ex in st.exceptions:
        secs = int(ex.max_length.total_seconds()) if ex.max_length else None
        start = _hhmm(ex.start) if ex.start else None
        want[_exception_key(ex.day, ex.kind.value, ex.session_code, start, secs, ex.reason)] = ex
    for key, row in have.items():
        if key not in want:
            session.delete(row)
            summary.bump(summary.updated, "exception")
    for key in want:
        if key not in have:
            day, kind, code, start, secs, reason = key
            session.add(
                ExceptionRow(
                    station_id=station.id,
                    day=day,
                    kind=kind,
                    session_code=code,
                    start_time=start,
                    max_seconds=secs,
                    reason=reason,
                )
            )
            summary.bump(summary.created, "exception")


def _import_campaigns(
    session: Session, station: StationRow, sf: ScheduleFile, summary: ImportSummary
) -> dict[str, int]:
    ids: dict[str, int] = {}
    for c in sf.campaigns:
        row = session.scalar(
            select(CampaignRow).where(CampaignRow.station_id == station.id, CampaignRow.code == c.code)
        )
        values = {
            "title": c.title,
            "plan_ref": c.plan_ref,
            "period_start": c.period_start,
            "period_end": c.period_end,
            "topics": list(c.topics),
            "agencies": list(c.agencies),
            "integrates": list(c.integrates),
        }
        if row is None:
            row = CampaignRow(station_id=station.id, code=c.code, **values)
            session.add(row)
            session.flush()
            summary.bump(summary.created, "campaign")
        else:
            _set(row, summary, "campaign", **values)
        t = c.target
        target_values = {
            "min_airings_per_week": t.min_airings_per_week,
            "min_airings_per_month": t.min_airings_per_month,
            "min_minutes_per_month": t.min_minutes_per_month,
            "max_gap_days": t.max_gap_days,
        }
        target = session.scalar(select(TargetRow).where(TargetRow.campaign_id == row.id))
        if target is None:
            session.add(TargetRow(campaign_id=row.id, **target_values))
        else:
            _set(target, summary, "target", **target_values)
        ids[c.code] = row.id
    session.flush()
    return ids


def find_station(session: Session, code: str | None) -> StationRow:
    """The station by code, or the only one when no code is given."""
    if code:
        row = session.scalar(select(StationRow).where(StationRow.code == code))
        if row is None:
            raise NotFoundError(
                f"Không có đài '{code}'.", "Kiểm tra mã đài hoặc nhập lịch bằng 'schedule import'."
            )
        return row
    rows = list(session.scalars(select(StationRow).order_by(StationRow.code).limit(2)))
    if not rows:
        raise NotFoundError(
            "Chưa có đài nào.", "Nhập lịch trước: broadcaster schedule import schedules/TỆP.toml"
        )
    if len(rows) > 1:
        raise NotFoundError("Có nhiều đài.", "Chọn đài bằng --station MÃ hoặc [station] code trong cấu hình.")
    return rows[0]


def station_domain(session: Session, row: StationRow) -> Station:
    """A station row with its sessions and exceptions as the pure planner sees it."""
    sessions = session.scalars(
        select(SessionRow).where(SessionRow.station_id == row.id).order_by(SessionRow.code)
    )
    exceptions = session.scalars(select(ExceptionRow).where(ExceptionRow.station_id == row.id))
    return Station(
        code=row.code,
        name=row.name,
        timezone=row.timezone,
        ident=row.ident,
        allowed_hours=tuple(_window(w) for w in row.allowed_hours),
        sessions=tuple(
            SessionRule(
                code=s.code,
                name=s.name,
                weekdays=frozenset(int(d) for d in s.weekdays.split(",") if d),
                start=time.fromisoformat(s.start_time),
                max_length=timedelta(seconds=s.max_seconds),
                valid_from=s.valid_from,
                valid_to=s.valid_to,
                relay=relay_rule(s.relay),
            )
            for s in sessions
        ),
        exceptions=tuple(
            ScheduleException(
                day=e.day,
                kind=ExceptionKind(e.kind),
                session_code=e.session_code,
                start=time.fromisoformat(e.start_time) if e.start_time else None,
                max_length=timedelta(seconds=e.max_seconds) if e.max_seconds else None,
                reason=e.reason,
            )
            for e in exceptions
        ),
    )


def campaign_from_row(row: CampaignRow, target: TargetRow | None) -> Campaign:
    """A stored campaign and its target row (None: no targets) as a domain `Campaign`."""
    return Campaign(
        code=row.code,
        title=row.title,
        plan_ref=row.plan_ref,
        period_start=row.period_start,
        period_end=row.period_end,
        topics=tuple(row.topics),
        agencies=tuple(row.agencies),
        target=Target(
            target.min_airings_per_week,
            target.min_airings_per_month,
            target.min_minutes_per_month,
            target.max_gap_days,
        )
        if target
        else Target(),
        integrates=tuple(row.integrates),
    )


def campaigns_of(
    session: Session, station_ids: Sequence[int], code: str | None = None
) -> list[tuple[int, Campaign]]:
    """(station id, campaign) with targets, by station then code, in one query (not one per campaign)."""
    q = select(CampaignRow, TargetRow).outerjoin(TargetRow, TargetRow.campaign_id == CampaignRow.id)
    q = q.where(CampaignRow.station_id.in_(station_ids)).order_by(CampaignRow.station_id, CampaignRow.code)
    if code is not None:
        q = q.where(CampaignRow.code == code)
    return [(c.station_id, campaign_from_row(c, t)) for c, t in session.execute(q)]


def campaigns_domain(session: Session, station_id: int) -> list[Campaign]:
    """The station's campaigns with their targets, by code."""
    return [c for _, c in campaigns_of(session, [station_id])]


def station_zone_of(session: Session, station_id: int) -> ZoneInfo:
    """The zone of the station with this id (for times shown beside one of its rows)."""
    return station_zone(session.get_one(StationRow, station_id))


def bulletin_count(session: Session, station_id: int) -> int:
    """How many bulletins a station has."""
    return len(list(session.scalars(select(BulletinRow.id).where(BulletinRow.station_id == station_id))))


def campaign_titles(session: Session, station_id: int) -> dict[str, str]:
    """Each campaign's title by its code, for tables where a person reads titles rather than codes."""
    rows = session.execute(
        select(CampaignRow.code, CampaignRow.title).where(CampaignRow.station_id == station_id)
    )
    return {code: title for code, title in rows}


def session_names(session: Session, station_id: int) -> dict[str, str]:
    """Each recurring session's name by its code ("sang" → "Buổi sáng")."""
    query = select(SessionRow.code, SessionRow.name).where(SessionRow.station_id == station_id)
    return {code: name for code, name in session.execute(query)}
