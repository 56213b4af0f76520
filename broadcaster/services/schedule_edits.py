"""The schedule page's changes: queue and move by a typed session, apply a fill proposal, dated exceptions.

Each function takes the form's text as typed, names the field a bad value came from (InputError.field),
checks the role, and calls the queue or planner services that the CLI uses as well.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import planning
from broadcaster.domain import ExceptionKind, Priority, Role, SessionOccurrence, Station
from broadcaster.errors import InputError, InvalidStateError, NotFoundError, PlanningError
from broadcaster.services import audit, queue
from broadcaster.services.form_fields import parse_day
from broadcaster.services.plan_tools import PlanTools
from broadcaster.services.stations import find_station, station_domain
from broadcaster.services.users import require_role
from broadcaster.store import db
from broadcaster.store.models import AiringRow, ExceptionRow, StationRow

# The longest extra session the page accepts (a rural station's longest programme, with relays).
MAX_EXTRA_MINUTES = 180


def _number(text: str, field: str, what: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise InputError(f"Chưa chọn {what}.", f"Chọn {what} trong danh sách.", field=field) from None


def parse_clock(text: str, field: str) -> time:
    """A local time typed as HH:MM (or 7h30)."""
    cleaned = text.strip().lower().replace("h", ":")
    if cleaned.endswith(":"):
        cleaned += "00"
    try:
        return time.fromisoformat(cleaned if len(cleaned) > 2 else f"{cleaned}:00").replace(second=0)
    except ValueError:
        raise InputError(f"Giờ không hợp lệ: «{text}».", "Viết dạng 06:00 hoặc 17:30.", field=field) from None


def parse_slot(text: str, field: str = "session") -> tuple[date, time]:
    """A session as the forms name it: "YYYY-MM-DD HH:MM" (local)."""
    day_text, _, time_text = text.strip().partition(" ")
    if not day_text or not time_text:
        raise InputError("Chưa chọn buổi phát.", "Chọn một buổi phát sắp tới trong danh sách.", field=field)
    return parse_day(day_text, field), parse_clock(time_text, field)


def _occurrence(session: Session, row: StationRow, slot: str, now: datetime) -> SessionOccurrence:
    day, at = parse_slot(slot)
    return queue.resolve_occurrence(station_domain(session, row), now, day, at)


def queue_bulletin(
    session: Session,
    tools: PlanTools,
    station_code: str | None,
    bulletin: str,
    slot: str,
    priority: str,
    *,
    actor: str | None,
    now: datetime,
) -> AiringRow:
    """Queue an approved bulletin (its id as the form sends it) into the session named "YYYY-MM-DD HH:MM"."""
    require_role(session, actor, Role.OPERATOR)
    bulletin_id = _number(bulletin, "bulletin", "bản tin")
    if priority not in (Priority.NORMAL.value, Priority.PRIORITY.value):
        raise InputError("Mức ưu tiên không hợp lệ.", "Chọn thông thường hoặc ưu tiên.", field="priority")
    row = find_station(session, station_code)
    occ = _occurrence(session, row, slot, now)
    return queue.queue(
        session,
        row,
        station_domain(session, row),
        occ,
        bulletin_id,
        actor=actor,
        now=now,
        lengths=queue.Lengths(tools.programme_shape(session, row), tools.duration_of(session)),
        priority=Priority(priority),
    )


def move_airing(
    session: Session,
    tools: PlanTools,
    station_code: str | None,
    airing_id: int,
    slot: str,
    *,
    actor: str | None,
    now: datetime,
) -> AiringRow:
    """Move a queued airing to the end of another session (named "YYYY-MM-DD HH:MM")."""
    require_role(session, actor, Role.OPERATOR)
    row = find_station(session, station_code)
    occ = _occurrence(session, row, slot, now)
    return queue.move(
        session,
        row,
        station_domain(session, row),
        airing_id,
        occ,
        position=None,
        actor=actor,
        now=now,
        lengths=queue.Lengths(tools.programme_shape(session, row), tools.duration_of(session)),
    )


def add_exception(
    session: Session,
    station_code: str | None,
    *,
    kind: str,
    day: str,
    session_code: str,
    start: str,
    minutes: str,
    reason: str,
    actor: str | None,
    now: datetime,
) -> ExceptionRow:
    """Add a dated exception: no broadcast in a session (or all of a day's), or an extra session."""
    user = require_role(session, actor, Role.OPERATOR)
    if kind not in (ExceptionKind.CANCEL.value, ExceptionKind.EXTRA.value):
        raise InputError("Chưa chọn loại ngoại lệ.", "Chọn hủy buổi phát hoặc thêm buổi phát.", field="kind")
    row = find_station(session, station_code)
    station = station_domain(session, row)
    zone = planning.station_zone(station)
    when = parse_day(day, "day")
    if when < now.astimezone(zone).date():
        raise InputError("Ngày này đã qua.", "Chọn hôm nay hoặc một ngày sắp tới.", field="day")
    why = reason.strip()
    if not why:
        raise InputError("Chưa ghi lý do.", "Ghi ngắn gọn lý do, ví dụ: bảo dưỡng đường dây.", field="reason")
    db.lock_station_plan(session, row.id)
    if kind == ExceptionKind.CANCEL.value:
        exc = _cancel(session, row, station, when, session_code.strip(), why, now)
    else:
        exc = _extra(session, row, station, when, start, minutes, why, now)
    session.add(exc)
    session.flush()
    audit.record(
        session,
        actor=user.name,
        action="exception.add",
        object_type="exception",
        object_id=exc.id,
        now=now,
        kind=exc.kind,
        day=when.isoformat(),
        session_code=exc.session_code,
        start=exc.start_time,
    )
    return exc


def _cancel(
    session: Session,
    row: StationRow,
    station: Station,
    when: date,
    code: str,
    reason: str,
    now: datetime,
) -> ExceptionRow:
    known = {r.code: r for r in station.sessions}
    if code and code not in known:
        raise InputError("Không có buổi phát này.", "Chọn một buổi trong danh sách.", field="session_code")
    todays = [o for o in planning.occurrences(station, when, when) if not code or o.session_code == code]
    if not todays:
        raise InputError(
            f"Ngày {when:%d/%m/%Y} không có buổi phát nào để hủy.",
            "Chọn ngày khác hoặc buổi khác.",
            field="session_code",
        )
    for occ in todays:
        if occ.start <= now:
            raise InputError(
                f"Buổi «{occ.name}» ngày {when:%d/%m/%Y} đã bắt đầu, không hủy được.",
                "Chỉ hủy các buổi sắp tới.",
                field="session_code",
            )
        queued = queue.session_airings(session, row.id, occ.start)
        if queued:
            raise InputError(
                f"Buổi «{occ.name}» ngày {when:%d/%m/%Y} đã có {len(queued)} bản tin xếp vào.",
                "Rút hoặc chuyển các bản tin đó sang buổi khác trước khi hủy buổi.",
                field="session_code",
            )
    return ExceptionRow(
        station_id=row.id,
        day=when,
        kind=ExceptionKind.CANCEL.value,
        session_code=code or None,
        start_time=known[code].start.strftime("%H:%M") if code else None,
        max_seconds=None,
        reason=reason,
    )


def _extra(
    session: Session,
    row: StationRow,
    station: Station,
    when: date,
    start: str,
    minutes: str,
    reason: str,
    now: datetime,
) -> ExceptionRow:
    if not start.strip():
        raise InputError("Chưa nhập giờ bắt đầu.", "Viết dạng 07:00.", field="start")
    at = parse_clock(start, "start")
    try:
        length = int(minutes.strip())
    except ValueError:
        raise InputError("Thời lượng phải là số phút.", "Ví dụ: 15.", field="minutes") from None
    if not 1 <= length <= MAX_EXTRA_MINUTES:
        raise InputError(f"Thời lượng phải từ 1 đến {MAX_EXTRA_MINUTES} phút.", "Ví dụ: 15.", field="minutes")
    zone = planning.station_zone(station)
    begins = planning.to_utc(zone, when, at)
    if begins <= now:
        raise InputError("Giờ này đã qua.", "Chọn một giờ sắp tới.", field="start")
    try:
        planning.check_allowed(station, begins, timedelta(minutes=length), Priority.NORMAL)
    except PlanningError as exc:
        raise InputError(exc.message, exc.hint, field="start") from None
    ends = begins + timedelta(minutes=length)
    for occ in planning.occurrences(station, when - timedelta(days=1), when + timedelta(days=1)):
        if occ.start < ends and begins < occ.end:
            local = occ.start.astimezone(zone)
            raise InputError(
                f"Trùng với buổi «{occ.name}» lúc {local:%H:%M} ngày {local:%d/%m/%Y}.",
                "Chọn giờ khác, sau khi buổi đó kết thúc.",
                field="start",
            )
    return ExceptionRow(
        station_id=row.id,
        day=when,
        kind=ExceptionKind.EXTRA.value,
        session_code=None,
        start_time=at.strftime("%H:%M"),
        max_seconds=length * 60,
        reason=reason,
    )


def remove_exception(
    session: Session, station_code: str | None, exception_id: int, *, actor: str | None, now: datetime
) -> None:
    """Take back a dated exception that has not passed; an extra session must be empty first."""
    user = require_role(session, actor, Role.OPERATOR)
    row = find_station(session, station_code)
    exc = session.scalar(
        select(ExceptionRow).where(ExceptionRow.id == exception_id, ExceptionRow.station_id == row.id)
    )
    if exc is None:
        raise NotFoundError(f"Không có ngoại lệ số {exception_id}.", "Tải lại trang lịch phát.")
    station = station_domain(session, row)
    zone = planning.station_zone(station)
    if exc.day < now.astimezone(zone).date():
        raise InvalidStateError("Ngoại lệ này đã qua, không bỏ được.", "Chỉ bỏ các ngoại lệ sắp tới.")
    db.lock_station_plan(session, row.id)
    if exc.kind == ExceptionKind.EXTRA.value and exc.start_time:
        begins = planning.to_utc(zone, exc.day, time.fromisoformat(exc.start_time))
        queued = queue.session_airings(session, row.id, begins)
        if queued:
            raise InvalidStateError(
                f"Buổi phát thêm này còn {len(queued)} bản tin.",
                "Rút hoặc chuyển các bản tin đó trước khi bỏ buổi phát thêm.",
            )
    session.delete(exc)
    audit.record(
        session,
        actor=user.name,
        action="exception.remove",
        object_type="exception",
        object_id=exception_id,
        now=now,
        kind=exc.kind,
        day=exc.day.isoformat(),
    )
