"""Pure session planning: concrete sessions, allowed hours, programme length, capacity and gaps."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from broadcaster.domain import (
    EXTRA_SESSION_CODE,
    ExceptionKind,
    Priority,
    RelayOccurrence,
    ScheduleException,
    SessionOccurrence,
    SessionRule,
    Station,
    TimeWindow,
)
from broadcaster.errors import ConfigError, PlanningError
from broadcaster.planning.calendar import local_day, require_aware, station_zone, to_utc

# How far ahead next_occurrence looks before concluding that no session will ever run again.
NEXT_SEARCH_DAYS = 400
# Float durations are summed; a few microseconds of rounding must not make a full session "overfull".
_EPS = 1e-6
EXTRA_SESSION_NAME = "Buổi phát thêm"


@dataclass(frozen=True)
class ProgrammeShape:
    """How a programme is built: signature tune, ident, each item read `repeat` times, closing words."""

    signature_s: float = 0.0
    ident_s: float = 0.0
    closing_s: float = 0.0
    gap_s: float = 0.0
    repeat: int = 1

    def __post_init__(self) -> None:
        if self.repeat < 1:
            raise ConfigError(
                f"Số lần đọc mỗi tin phải từ 1 trở lên (đang là {self.repeat}).",
                "Sửa mục số lần đọc (repeat) trong cấu hình chương trình.",
            )
        if min(self.signature_s, self.ident_s, self.closing_s, self.gap_s) < 0:
            raise ConfigError(
                "Thời lượng nhạc hiệu, lời giới thiệu, lời kết và khoảng nghỉ không được âm.",
                "Sửa các thời lượng trong cấu hình chương trình.",
            )


@dataclass(frozen=True)
class QueuedItem:
    """A bulletin already queued into a session (`occurrence_start` is the session's UTC start)."""

    occurrence_start: datetime
    bulletin_id: int
    campaign_code: str
    duration_s: float
    priority: Priority
    position: int


def occurrences(station: Station, start: date, end: date) -> list[SessionOccurrence]:
    """Concrete sessions on local dates start..end inclusive, UTC-aware, sorted, exceptions applied.

    A CANCEL exception removes the sessions of its date that match its `session_code` and `start`
    (a None field matches any session). An EXTRA exception adds a session at its `start`; its length is
    its own `max_length` or that of the rule named by `session_code`. Two sessions starting at the same
    instant are one session: the recurring one wins over an extra.
    """
    if end < start:
        return []
    zone = station_zone(station)
    rules = {rule.code: rule for rule in station.sessions}
    by_day: dict[date, list[ScheduleException]] = {}
    for exc in station.exceptions:
        if start <= exc.day <= end:
            by_day.setdefault(exc.day, []).append(exc)
    found: dict[datetime, SessionOccurrence] = {}
    day = start
    while day <= end:
        todays = by_day.get(day, [])
        cancels = [e for e in todays if e.kind is ExceptionKind.CANCEL]
        for rule in station.sessions:
            if rule.runs_on(day) and not any(_cancels(e, rule) for e in cancels):
                occ = _occurrence(rule, to_utc(zone, day, rule.start))
                found.setdefault(occ.start, occ)
        for exc in todays:
            if exc.kind is ExceptionKind.EXTRA:
                extra = _extra(exc, rules, zone)
                found.setdefault(extra.start, extra)
        day += timedelta(days=1)
    return sorted(found.values(), key=lambda o: (o.start, o.session_code))


def _occurrence(rule: SessionRule, start: datetime) -> SessionOccurrence:
    """The session's bulletins part at `start`, and its relay before or after it."""
    if rule.relay is None:
        return SessionOccurrence(rule.code, rule.name, start, rule.max_length)
    relay, rest = rule.relay, rule.max_length - rule.relay.length
    at = start if relay.place == "first" else start + rest
    aired = RelayOccurrence(rule.code, rule.name, at, relay.length, relay.source, relay.filler)
    bulletins_at = start + relay.length if relay.place == "first" else start
    return SessionOccurrence(rule.code, rule.name, bulletins_at, rest, aired)


def relay_occurrences(station: Station, start: date, end: date) -> list[RelayOccurrence]:
    """The relays of the sessions on local dates start..end inclusive (cancelled sessions have none)."""
    return [o.relay for o in occurrences(station, start, end) if o.relay is not None]


def _cancels(exc: ScheduleException, rule: SessionRule) -> bool:
    code_matches = exc.session_code is None or exc.session_code == rule.code
    return code_matches and (exc.start is None or exc.start == rule.start)


def _extra(exc: ScheduleException, rules: dict[str, SessionRule], zone: ZoneInfo) -> SessionOccurrence:
    rule = rules.get(exc.session_code) if exc.session_code else None
    length = exc.max_length or (rule.max_length if rule else None)
    if exc.start is None or length is None:
        raise PlanningError(
            f"Buổi phát thêm ngày {_vn_date(exc.day)} thiếu giờ bắt đầu hoặc thời lượng tối đa.",
            "Khai báo giờ bắt đầu và thời lượng (hoặc mã buổi phát có sẵn) cho buổi phát thêm.",
        )
    code = exc.session_code or EXTRA_SESSION_CODE
    name = rule.name if rule else EXTRA_SESSION_NAME
    return SessionOccurrence(code, name, to_utc(zone, exc.day, exc.start), length)


def find_occurrence(station: Station, day: date, local_start: time) -> SessionOccurrence:
    """The session starting at `local_start` (station zone) on local date `day`; PlanningError if none."""
    zone = station_zone(station)
    todays = occurrences(station, day, day)
    for occ in todays:
        starts = [occ.start] + ([occ.relay.start] if occ.relay is not None else [])
        if any(s.astimezone(zone).time() == local_start for s in starts):
            return occ
    if todays:
        listed = ", ".join(f"{_hhmm(o.start.astimezone(zone).time())} ({o.name})" for o in todays)
        message = (
            f"Không có buổi phát lúc {_hhmm(local_start)} ngày {_vn_date(day)}. "
            f"Các buổi trong ngày: {listed}."
        )
    else:
        message = f"Ngày {_vn_date(day)} không có buổi phát nào."
    raise PlanningError(
        message, "Xem lịch bằng lệnh «broadcaster schedule plan» hoặc thêm một buổi phát thêm."
    )


def next_occurrence(station: Station, now: datetime, min_lead: timedelta = timedelta(0)) -> SessionOccurrence:
    """The first session starting at or after now + min_lead; PlanningError if none within 400 days."""
    require_aware(now)
    earliest = now + min_lead
    zone = station_zone(station)
    # Start a day early: a local date can begin before the UTC date of `earliest`.
    day = local_day(earliest, zone) - timedelta(days=1)
    last = day + timedelta(days=NEXT_SEARCH_DAYS)
    while day <= last:
        for occ in occurrences(station, day, day + timedelta(days=6)):
            if occ.start >= earliest:
                return occ
        day += timedelta(days=7)
    raise PlanningError(
        f"Không còn buổi phát nào trong {NEXT_SEARCH_DAYS} ngày tới.",
        "Kiểm tra ngày hiệu lực của các buổi phát trong tệp lịch.",
    )


def check_allowed(station: Station, start_utc: datetime, length: timedelta, priority: Priority) -> None:
    """PlanningError unless the programme fits inside an allowed-hours window or is an emergency."""
    require_aware(start_utc)
    if priority is Priority.EMERGENCY:
        return
    zone = station_zone(station)
    local = start_utc.astimezone(zone)
    if station.allows(local.time(), length):
        return
    windows = ", ".join(_window(w) for w in station.allowed_hours) or "chưa khai báo khung giờ nào"
    finish = local + length
    holding = [w for w in station.allowed_hours if w.contains(local.time())]
    hint = "Chọn buổi phát trong khung giờ quy chế; chỉ tin khẩn cấp mới được phát ngoài khung giờ."
    if holding:
        window = holding[0]
        message = (
            f"Chương trình bắt đầu {_hhmm(local.time())} ngày {_vn_date(local.date())} sẽ kéo dài đến "
            f"{_hhmm(finish.time())}, quá giờ kết thúc {_hhmm(window.end)} của khung giờ cho phép "
            f"{_window(window)} (giờ {zone.key})."
        )
        hint = "Rút ngắn chương trình hoặc chuyển sang buổi khác; " + hint[0].lower() + hint[1:]
    else:
        message = (
            f"Không được phát lúc {_hhmm(local.time())} ngày {_vn_date(local.date())}: ngoài khung giờ "
            f"cho phép theo quy chế ({windows}, giờ {zone.key})."
        )
    raise PlanningError(message, hint)


def programme_length(shape: ProgrammeShape, item_durations: Sequence[float]) -> float:
    """Seconds of a programme: tune + ident + items × repeat + closing, with a gap between parts.

    Parts are the signature tune, the ident and the closing words (each only if longer than zero) and
    every reading of every item; `gap_s` separates consecutive parts. No items means no programme (0 s).
    """
    if not item_durations:
        return 0.0
    readings = len(item_durations) * shape.repeat
    frame = [shape.signature_s, shape.ident_s, shape.closing_s]
    parts = readings + sum(1 for s in frame if s > 0)
    return sum(frame) + math.fsum(item_durations) * shape.repeat + shape.gap_s * (parts - 1)


def free_seconds(
    shape: ProgrammeShape, occurrence: SessionOccurrence, queued_durations: Sequence[float]
) -> float:
    """The longest further item (seconds, before repeats) that still fits the session; 0 if none."""
    base = programme_length(shape, [*queued_durations, 0.0])
    return max(0.0, (occurrence.max_length.total_seconds() - base) / shape.repeat)


def check_capacity(
    shape: ProgrammeShape,
    occurrence: SessionOccurrence,
    queued_durations: Sequence[float],
    new_duration: float,
    *,
    timezone: str,
) -> None:
    """PlanningError (how much over, mm:ss) if adding the item makes the programme longer than the session."""
    length = programme_length(shape, [*queued_durations, new_duration])
    limit = occurrence.max_length.total_seconds()
    over = length - limit
    if over <= _EPS:
        return
    zone = ZoneInfo(timezone)
    local = occurrence.start.astimezone(zone)
    over_s = math.ceil(over - _EPS)
    raise PlanningError(
        f"Buổi phát «{occurrence.name}» lúc {_hhmm(local.time())} ngày {_vn_date(local.date())} "
        f"(giờ {zone.key}) không đủ chỗ: chương trình sẽ dài {mmss(length)}, vượt {mmss(over_s)} "
        f"({over_s} giây) so với thời lượng tối đa {mmss(limit)}.",
        "Chọn buổi phát khác, rút ngắn tin hoặc bỏ bớt tin khỏi buổi này.",
    )


def max_gap_days(days: Iterable[date], period_start: date, period_end: date) -> int:
    """Longest gap in days between consecutive airings over the period (1 = aired every day).

    The gap into the period starts at the last airing before it, or, with none, at the day before the
    period; the gap at its end runs to the day after it. No airing at all gives the length + 1.
    """
    known = set(days)
    before = [d for d in known if d < period_start]
    first = max(before) if before else period_start - timedelta(days=1)
    inside = sorted(d for d in known if period_start <= d <= period_end)
    points = [first, *inside, period_end + timedelta(days=1)]
    return max((b - a).days for a, b in itertools.pairwise(points))


def mmss(seconds: float) -> str:
    """Seconds as "mm:ss" (minutes may exceed 59), rounded to the nearest second."""
    total = round(seconds)
    return f"{total // 60:02d}:{total % 60:02d}"


def _hhmm(at: time) -> str:
    return f"{at.hour:02d}:{at.minute:02d}"


def _vn_date(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def _window(window: TimeWindow) -> str:
    end = "24:00" if window.end == time(0) else _hhmm(window.end)
    return f"{_hhmm(window.start)}–{end}"
