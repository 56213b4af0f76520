"""The as-run log as the console reads it: checked filters, one page of rows at a time, the CSV export,
and corrections (a new row pointing at the old one) by an operator or a leader.

Filters name a campaign by its code and an outcome by its value (the page shows titles and labels);
an unknown one is an error naming the valid ones, never an empty list. The CSV export holds exactly
the bytes `broadcaster log export --format csv` writes for the same filters.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from broadcaster import labels
from broadcaster.domain import Outcome, Role
from broadcaster.errors import InputError, NotFoundError
from broadcaster.planning.calendar import station_zone
from broadcaster.reports.export import asrun_csv
from broadcaster.services import form_fields, reporting
from broadcaster.services.asrun_records import anchored, load_records
from broadcaster.services.stations import campaign_titles, find_station
from broadcaster.services.users import get_user, require_role
from broadcaster.store.models import AsRunRow, StationRow

PER_PAGE = 50
# Who may correct a row (admin holds every role); everyone signed in may read the log.
CORRECTORS = (Role.OPERATOR, Role.LEADER)


class FormRefused(InputError):
    """Form values (filters, a correction) that are unusable; `errors` maps each field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        field, message = next(iter(errors.items()))
        super().__init__(message, "Sửa ô được đánh dấu rồi lọc lại.", field=field)


@dataclass(frozen=True)
class LogFilters:
    """What the log is narrowed to: local dates (inclusive), a campaign code, an outcome."""

    first: date | None = None
    last: date | None = None
    campaign: str | None = None
    outcome: Outcome | None = None

    def window(self, station: StationRow) -> tuple[datetime | None, datetime | None]:
        """UTC-aware bounds [start, end) of the local dates, in the station's zone."""
        zone = station_zone(station)
        start = datetime.combine(self.first, time(0), zone) if self.first else None
        end = datetime.combine(self.last + timedelta(days=1), time(0), zone) if self.last else None
        return start, end


def parse_filters(
    session: Session,
    station: StationRow,
    *,
    first: str = "",
    last: str = "",
    campaign: str = "",
    outcome: str = "",
) -> LogFilters:
    """Filters typed in a form (fields tu, den, chien_dich, ket_qua); FormRefused names each bad one."""
    errors: dict[str, str] = {}
    start, end = form_fields.day_range(first, last, errors)
    code = form_fields.campaign_field(campaign_titles(session, station.id), campaign, errors)
    value = outcome.strip() or None
    if value is not None and value not in {o.value for o in Outcome}:
        known = ", ".join(labels.label(o) for o in Outcome)
        errors["ket_qua"] = f"Không có kết quả «{value}». Chọn một trong: {known}."
    if errors:
        raise FormRefused(errors)
    return LogFilters(start, end, code, Outcome(value) if value else None)


@dataclass(frozen=True)
class LogLine:
    """One as-run row as the log page shows it (times are UTC-aware; the page shows the station's zone)."""

    row_id: int
    seq: int
    planned_start: datetime | None
    actual_start: datetime | None
    actual_end: datetime | None
    played_s: float
    clip_s: float
    outcome: str
    trigger: str
    priority: str
    title: str
    campaign_title: str
    session_code: str | None
    note: str
    recorded_by: str
    corrects_id: int | None
    corrected_by: int | None  # the newest row that corrects this one, if any

    @property
    def anchor(self) -> datetime | None:
        """When it aired, else when it was planned."""
        return self.actual_start or self.planned_start


@dataclass(frozen=True)
class LogPage:
    """One page of the log: its rows (newest first), how many match, the filters, who may correct."""

    lines: tuple[LogLine, ...]
    total: int
    page: int
    pages: int
    filters: LogFilters
    campaigns: dict[str, str]  # code → title, for the filter's choices
    zone_name: str  # "Asia/Ho_Chi_Minh (UTC+07:00)": the zone the page's times are in
    can_correct: bool


def _conditions(station: StationRow, filters: LogFilters) -> list[ColumnElement[bool]]:
    """The filters other than the dates (those go through `anchored`, which an index serves)."""
    conditions: list[ColumnElement[bool]] = [AsRunRow.station_id == station.id]
    if filters.campaign is not None:
        conditions.append(AsRunRow.campaign_code == filters.campaign)
    if filters.outcome is not None:
        conditions.append(AsRunRow.outcome == filters.outcome.value)
    return conditions


_EARLIEST = datetime.min.replace(tzinfo=UTC)
_INSTANT = timedelta(microseconds=1)


def _anchor_key(row: AsRunRow) -> tuple[datetime, int]:
    return (row.actual_start or row.planned_start or _EARLIEST, row.seq)


def _newest(
    session: Session, station: StationRow, filters: LogFilters, offset: int, limit: int
) -> list[AsRunRow]:
    """Rows `offset`..`offset + limit` newest first (by actual, else planned start, then seq).

    The rows that aired and those that never started are read as two index-ordered searches of the
    first `offset + limit` each, then merged: no sort of the whole log for its first pages.
    """
    start, end = filters.window(station)
    base = select(AsRunRow).where(*_conditions(station, filters))
    aired = base.where(AsRunRow.actual_start.is_not(None))
    unaired = base.where(AsRunRow.actual_start.is_(None))
    # The same split as asrun_records.anchored, kept as two selects so that each is ordered and limited.
    if start is not None:
        aired, unaired = (
            aired.where(AsRunRow.actual_start >= start),
            unaired.where(AsRunRow.planned_start >= start),
        )
    if end is not None:
        aired, unaired = aired.where(AsRunRow.actual_start < end), unaired.where(AsRunRow.planned_start < end)
    wanted = offset + limit
    rows = [
        *session.scalars(aired.order_by(AsRunRow.actual_start.desc(), AsRunRow.seq.desc()).limit(wanted)),
        *session.scalars(
            unaired.order_by(AsRunRow.planned_start.desc().nulls_last(), AsRunRow.seq.desc()).limit(wanted)
        ),
    ]
    rows.sort(key=_anchor_key, reverse=True)
    return rows[offset:wanted]


def _lines(session: Session, rows: list[AsRunRow], titles: dict[str, str]) -> list[LogLine]:
    """Rows with the newest correction of each, found in one query."""
    ids = [r.id for r in rows]
    newest: dict[int, tuple[int, int]] = {}
    if rows:
        q = select(AsRunRow.corrects_id, AsRunRow.seq, AsRunRow.id).where(
            AsRunRow.station_id == rows[0].station_id, AsRunRow.corrects_id.in_(ids)
        )
        # A correction copies its original's times: look only among the rows dated like the page's.
        dated = [a for r in rows if (a := r.actual_start or r.planned_start) is not None]
        found = anchored(q, min(dated), max(dated) + _INSTANT) if len(dated) == len(rows) else q
        for target, seq, row_id in session.execute(found):
            if target is not None and (target not in newest or seq > newest[target][0]):
                newest[target] = (seq, row_id)
    return [
        LogLine(
            row_id=r.id,
            seq=r.seq,
            planned_start=r.planned_start,
            actual_start=r.actual_start,
            actual_end=r.actual_end,
            played_s=r.played_ms / 1000,
            clip_s=r.clip_ms / 1000,
            outcome=r.outcome,
            trigger=r.trigger,
            priority=r.priority,
            title=r.title,
            campaign_title=titles.get(r.campaign_code or "", r.campaign_code or ""),
            session_code=r.session_code,
            note=r.note,
            recorded_by=r.recorded_by,
            corrects_id=r.corrects_id,
            corrected_by=newest[r.id][1] if r.id in newest else None,
        )
        for r in rows
    ]


def log_page(
    session: Session,
    station_code: str | None,
    *,
    actor: str | None,
    first: str = "",
    last: str = "",
    campaign: str = "",
    outcome: str = "",
    page: int = 1,
    per_page: int = PER_PAGE,
) -> LogPage:
    """One page of a station's as-run log, newest first, every row (corrections and what they replace)."""
    user = get_user(session, actor)
    station = find_station(session, station_code)
    filters = parse_filters(session, station, first=first, last=last, campaign=campaign, outcome=outcome)
    start, end = filters.window(station)
    matching = anchored(select(AsRunRow.id).where(*_conditions(station, filters)), start, end).subquery()
    total = session.scalar(select(func.count()).select_from(matching)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    titles = campaign_titles(session, station.id)
    lines = _lines(session, _newest(session, station, filters, (page - 1) * per_page, per_page), titles)
    can_correct = user.role in {Role.ADMIN.value, *(r.value for r in CORRECTORS)}
    return LogPage(tuple(lines), total, page, pages, filters, titles, _zone_name(station, lines), can_correct)


def _zone_name(station: StationRow, lines: list[LogLine]) -> str:
    """The zone's name with its UTC offset at the newest row shown (Vietnam has kept +07:00 since 1975)."""
    zone = station_zone(station)
    at = next((line.anchor for line in lines if line.anchor is not None), None)
    offset = at.astimezone(zone).strftime("%z") if at is not None else ""
    return f"{zone.key} (UTC{offset[:3]}:{offset[3:]})" if offset else zone.key


def campaign_choices(session: Session, station_code: str | None, *, actor: str | None) -> dict[str, str]:
    """Each campaign's title by its code, for the filter's choices (any signed-in user)."""
    get_user(session, actor)
    return campaign_titles(session, find_station(session, station_code).id)


@dataclass(frozen=True)
class Download:
    """A file for the browser to save: its name, media type and bytes."""

    filename: str
    media_type: str
    data: bytes


def log_csv(
    session: Session,
    station_code: str | None,
    *,
    actor: str | None,
    first: str = "",
    last: str = "",
    campaign: str = "",
    outcome: str = "",
    all_rows: bool = False,
) -> Download:
    """The CSV export (UTF-8 with BOM, corrections applied unless `all_rows`), as `log export` writes it."""
    get_user(session, actor)
    station = find_station(session, station_code)
    filters = parse_filters(session, station, first=first, last=last, campaign=campaign, outcome=outcome)
    start, end = filters.window(station)
    records = load_records(
        session,
        station,
        start=start,
        end=end,
        campaign_codes=[filters.campaign] if filters.campaign else None,
        outcomes=[filters.outcome] if filters.outcome else None,
        effective=not all_rows,
    )
    span = "".join(f"-{d:%Y%m%d}" for d in (filters.first, filters.last) if d)
    name = f"nhat-ky-{station.code}{span}.csv"
    return Download(name, "text/csv; charset=utf-8", asrun_csv(records, zone=station_zone(station)))


def correction_target(
    session: Session, station_code: str | None, row_id: int, *, actor: str | None
) -> LogLine:
    """The row an operator or a leader is about to correct (the correction form shows it)."""
    require_role(session, actor, *CORRECTORS)
    station = find_station(session, station_code)
    row = session.get(AsRunRow, row_id)
    if row is None or row.station_id != station.id:
        raise NotFoundError(
            f"Không có dòng nhật ký số {row_id}.", "Mở lại trang Nhật ký phát sóng để chọn dòng."
        )
    return _lines(session, [row], campaign_titles(session, station.id))[0]


def correct_row(
    session: Session,
    station_code: str | None,
    row_id: int,
    *,
    outcome: str,
    reason: str,
    played_s: str = "",
    actor: str | None,
    now: datetime,
) -> AsRunRow:
    """Append a correction of one row from a form (fields outcome, reason, played_s), audited."""
    correction_target(session, station_code, row_id, actor=actor)
    errors: dict[str, str] = {}
    if outcome not in {o.value for o in Outcome}:
        errors["outcome"] = "Chọn kết quả đúng của lượt phát."
    seconds: float | None = None
    if played_s.strip():
        try:
            seconds = float(played_s.strip().replace(",", "."))
        except ValueError:
            seconds = -1.0
        if not (math.isfinite(seconds) and seconds >= 0):
            errors["played_s"] = "Số giây đã phát phải là một số không âm, ví dụ 95 hoặc 95,5."
    if not reason.strip():
        errors["reason"] = "Ghi lý do đính chính: ai xác nhận, căn cứ nào."
    if errors:
        raise FormRefused(errors)
    return reporting.correct(
        session, row_id, Outcome(outcome), reason=reason, actor=actor, now=now, played_s=seconds
    )
