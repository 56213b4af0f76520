"""Schedule changes the district makes for one ward (a recurring session's days, start, longest length),
sent down and applied at the ward by the same settings path its own administrator uses.

The district checks a change against its copy of the ward's schedule before storing it (the schedule
file's rules, per field); the ward applies it (`district_inbox.take_changes`) and reports back; an
applied change is then made to the district's copy too, so both show the same schedule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.domain import Role
from broadcaster.errors import BroadcasterError, NotFoundError
from broadcaster.services import audit, station_settings
from broadcaster.services.api_access import ApiCaller
from broadcaster.services.district_intake import pushing_station, touch
from broadcaster.services.district_port import ChangeReport, ScheduleChange
from broadcaster.services.station_settings import Speak
from broadcaster.services.users import require_role
from broadcaster.store.models import ScheduleChangeRow, SessionRow, StationRow

CHANGE_STATES = ("sent", "applied", "refused")
VALUE_KEYS = ("name", "weekdays", "start", "max_minutes")


def _station(session: Session, code: str) -> StationRow:
    station = session.scalar(select(StationRow).where(StationRow.code == code))
    if station is None:
        raise NotFoundError(f"Không có phường «{code}» ở máy chủ huyện.", "Chọn phường trong danh sách.")
    return station


def propose_change(
    session: Session,
    station_code: str,
    session_code: str,
    values: Mapping[str, Any],
    *,
    actor: str | None,
    now: datetime,
) -> ScheduleChangeRow:
    """Check a change to a ward's session against its schedule and send it down (district leader only)."""
    user = require_role(session, actor, Role.LEADER)
    station = _station(session, station_code)
    kept = {k: values[k] for k in VALUE_KEYS if k in values}
    current = session.scalar(
        select(SessionRow).where(SessionRow.station_id == station.id, SessionRow.code == session_code)
    )
    if current is None:
        raise NotFoundError(f"Phường không có buổi phát «{session_code}».", "Tải lại trang của phường.")
    kept.setdefault("name", current.name)
    station_settings.check_session(session, station, session_code, kept)
    row = ScheduleChangeRow(
        station_id=station.id,
        session_code=session_code,
        values=kept,
        state="sent",
        note="",
        created_by=user.name,
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=user.name,
        action="schedule.change",
        object_type="station",
        object_id=station.code,
        now=now,
        change=row.id,
        session_code=session_code,
        **{k: (",".join(v) if isinstance(v, list) else v) for k, v in kept.items()},
    )
    return row


def pending_changes(session: Session, caller: ApiCaller, station_code: str) -> list[ScheduleChange]:
    """The changes sent to this station and not reported on yet, oldest first (its own token only)."""
    station = pushing_station(session, caller, station_code)
    rows = session.scalars(
        select(ScheduleChangeRow)
        .where(ScheduleChangeRow.station_id == station.id, ScheduleChangeRow.state == "sent")
        .order_by(ScheduleChangeRow.id)
    )
    return [ScheduleChange(r.id, r.session_code, dict(r.values), r.created_by, r.created_at) for r in rows]


def report_changes(
    session: Session,
    caller: ApiCaller,
    station_code: str,
    reports: Sequence[ChangeReport],
    *,
    speak: Speak,
    now: datetime,
) -> int:
    """Record what the station did with each change; an applied one is made to the district's copy too."""
    station = pushing_station(session, caller, station_code)
    touch(session, station, now)
    wanted = {r.change_id: r for r in reports if r.state in ("applied", "refused")}
    rows = session.scalars(
        select(ScheduleChangeRow).where(
            ScheduleChangeRow.station_id == station.id,
            ScheduleChangeRow.id.in_(list(wanted)),
            ScheduleChangeRow.state == "sent",
        )
    )
    changed = 0
    for row in rows:
        report = wanted[row.id]
        row.state, row.note, row.reported_at = report.state, report.note[:1000], now
        changed += 1
        if report.state == "applied":
            try:
                with session.begin_nested():
                    station_settings.apply_session(
                        session,
                        station,
                        row.session_code,
                        row.values,
                        actor=row.created_by,
                        now=now,
                        speak=speak,
                    )
            except BroadcasterError as exc:
                row.note = f"{row.note} (bản sao lịch ở huyện chưa cập nhật: {exc.message})".strip()
    return changed


@dataclass(frozen=True)
class ChangeView:
    """A schedule change as the ward's page at the district lists it."""

    id: int
    session_code: str
    values: dict[str, Any]
    state: str
    note: str
    created_by: str
    created_at: datetime
    reported_at: datetime | None


def recent_changes(session: Session, station: StationRow, *, limit: int = 20) -> list[ChangeView]:
    """The latest changes sent to one ward, newest first."""
    rows = session.scalars(
        select(ScheduleChangeRow)
        .where(ScheduleChangeRow.station_id == station.id)
        .order_by(ScheduleChangeRow.id.desc())
        .limit(limit)
    )
    return [
        ChangeView(
            r.id, r.session_code, dict(r.values), r.state, r.note, r.created_by, r.created_at, r.reported_at
        )
        for r in rows
    ]
