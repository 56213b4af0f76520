"""Read the station timetable of a schedule file: `[station]`, `[[session]]` and `[[exception]]`."""

from __future__ import annotations

import difflib
import re
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from broadcaster.domain import (
    RELAY_PLACES,
    ExceptionKind,
    RelayRule,
    ScheduleException,
    SessionRule,
    TimeWindow,
)
from broadcaster.schedules.check import MISSING, Checker, hhmm

_STATION = ("code", "name", "ward", "timezone", "ident", "allowed_hours")
_SESSION = ("code", "name", "weekdays", "start", "max_minutes", "valid_from", "valid_to", "relay")
_RELAY = ("source", "minutes", "place", "filler")
_EXCEPTION = ("date", "kind", "session", "start", "max_minutes", "reason")
_DAY_MINUTES = 24 * 60
_WEEKDAYS = {
    **{name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{f"t{i + 2}": i for i in range(6)},
    "cn": 6,
}


@dataclass(frozen=True)
class StationHead:
    """The scalar keys of `[station]`; the allowed hours are read separately."""

    code: str
    name: str
    timezone: str
    ident: str
    ward: str


def read_station(
    c: Checker, data: Mapping[str, Any]
) -> tuple[StationHead | None, tuple[TimeWindow, ...] | None]:
    """The `[station]` table and its allowed hours, each None when unusable."""
    table = data.get("station", MISSING)
    if not isinstance(table, dict):
        reason = "thiếu bảng [station]" if table is MISSING else "[station] phải là một bảng"
        c.add("station", reason, "thêm [station] với code, name, timezone, ident, allowed_hours")
        return None, None
    c.keys(table, "station", _STATION)
    code, name, ident = (
        c.code(table, "code", "station"),
        c.text(table, "name", "station"),
        c.text(table, "ident", "station"),
    )
    ward = c.text(table, "ward", "station", required=False) or ""
    zone = c.text(table, "timezone", "station")
    if zone is not None and not _zone_exists(zone):
        close = difflib.get_close_matches(zone, sorted(zoneinfo.available_timezones()), n=1)
        fix = f"có phải ý bạn là '{close[0]}'?" if close else 'ở Việt Nam dùng "Asia/Ho_Chi_Minh"'
        c.add("station.timezone", f"không có múi giờ '{zone}'", fix)
        zone = None
    windows = _windows(c, table)
    if code is None or name is None or ident is None or zone is None:
        return None, windows
    return StationHead(code, name, zone, ident, ward), windows


def _zone_exists(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _windows(c: Checker, table: Mapping[str, Any]) -> tuple[TimeWindow, ...] | None:
    raw, path = c.value(table, "allowed_hours", "station", True), "station.allowed_hours"
    if raw is MISSING:
        return None
    if not isinstance(raw, list) or not raw:
        c.add(path, "phải là mảng khung giờ khác rỗng", 'viết allowed_hours = ["05:00-07:30", "16:30-19:00"]')
        return None
    windows: list[TimeWindow] = []
    for i, item in enumerate(raw, start=1):
        parts = re.split(r"\s*[-–]\s*", item.strip()) if isinstance(item, str) else []
        start = hhmm(parts[0]) if len(parts) == 2 else None
        end = hhmm(parts[1], allow_24=True) if len(parts) == 2 else None
        if start is None or end is None:
            c.add(
                f"{path}[{i}]",
                f"khung giờ không hợp lệ {item!r}",
                'dùng dạng "HH:MM-HH:MM", ví dụ "05:00-07:30"',
            )
        elif end != time(0) and end <= start:
            fix = 'khung qua nửa đêm hãy tách đôi, ví dụ "22:00-24:00" và "00:00-05:00"'
            c.add(f"{path}[{i}]", f"giờ kết thúc không sau giờ bắt đầu trong {item!r}", fix)
        else:
            windows.append(TimeWindow(start, end))
    return tuple(windows) if len(windows) == len(raw) else None


def _weekdays(c: Checker, table: Mapping[str, Any], path: str) -> frozenset[int] | None:
    raw = c.value(table, "weekdays", path, True)
    if raw is MISSING:
        return None
    if not isinstance(raw, list) or not raw:
        c.add(
            f"{path}.weekdays",
            "phải là mảng các thứ khác rỗng",
            'viết weekdays = ["mon", "tue", "wed", "thu", "fri"]',
        )
        return None
    days: list[int] = []
    for i, item in enumerate(raw, start=1):
        day = _WEEKDAYS.get(item.strip().lower()) if isinstance(item, str) else None
        if day is None:
            fix = c.suggest(str(item).strip().lower(), list(_WEEKDAYS), "các thứ")
            c.add(f"{path}.weekdays[{i}]", f"không hiểu thứ {item!r}", fix)
        elif day in days:
            c.add(f"{path}.weekdays[{i}]", f"thứ {item!r} bị lặp", "xoá phần tử lặp")
        days.append(-1 if day is None else day)
    return None if -1 in days or len(set(days)) < len(days) else frozenset(days)


def _fits(c: Checker, path: str, start: time, length: timedelta, windows: tuple[TimeWindow, ...]) -> None:
    """Report a programme that would run outside the ward's allowed hours."""
    if any(w.contains(start, length) for w in windows):
        return
    end = (datetime.combine(date(2000, 1, 1), start) + length).time()
    hours = ", ".join(
        f"{w.start:%H:%M}-{'24:00' if w.end == time(0) else format(w.end, '%H:%M')}" for w in windows
    )
    fix = "dời giờ bắt đầu hoặc giảm max_minutes cho vừa một khung trong station.allowed_hours"
    c.add(path, f"phát {start:%H:%M}-{end:%H:%M} là ngoài giờ được phép ({hours})", fix)


def _span(start: time, length: timedelta) -> tuple[float, float]:
    begin = start.hour * 3600 + start.minute * 60 + start.second
    return begin, begin + length.total_seconds()


def read_session(
    c: Checker, path: str, t: Mapping[str, Any], windows: tuple[TimeWindow, ...] | None
) -> SessionRule | None:
    """One `[[session]]` table, None when it has any problem."""
    before = len(c.problems)
    c.keys(t, path, _SESSION)
    code, name = c.code(t, "code", path), c.text(t, "name", path, required=False)
    days, start = _weekdays(c, t, path), c.clock(t, "start", path)
    minutes = c.number(t, "max_minutes", path, minimum=1, maximum=_DAY_MINUTES)
    valid_from, valid_to = (
        c.day(t, "valid_from", path, required=False),
        c.day(t, "valid_to", path, required=False),
    )
    if valid_from and valid_to and valid_from > valid_to:
        c.add(
            f"{path}.valid_to", f"valid_to {valid_to} trước valid_from {valid_from}", "sửa lại hai ngày này"
        )
    if start is not None and minutes is not None and windows is not None:
        _fits(c, f"{path}.start", start, timedelta(minutes=minutes), windows)
    relay = _relay(c, f"{path}.relay", t.get("relay"), minutes) if "relay" in t else None
    if code is None or days is None or start is None or minutes is None or len(c.problems) > before:
        return None
    length = timedelta(minutes=minutes)
    return SessionRule(code, name or code, days, start, length, valid_from, valid_to, relay)


def _relay(c: Checker, path: str, t: Any, session_minutes: float | None) -> RelayRule | None:
    """A session's `relay = { source = "...", minutes = 30, place = "first" }`, None on any problem."""
    if not isinstance(t, Mapping):
        c.add(
            path, "phải là một bảng", 'viết relay = { source = "http://...", minutes = 30, place = "first" }'
        )
        return None
    before = len(c.problems)
    c.keys(t, path, _RELAY)
    source = c.text(t, "source", path)
    minutes = c.number(t, "minutes", path, minimum=0.1, maximum=_DAY_MINUTES, integer=False)
    place = c.text(t, "place", path, required=False) or "first"
    filler = c.text(t, "filler", path, required=False) or ""
    if source is not None and not (
        source.startswith(("http://", "https://")) or (source.startswith("device:") and len(source) > 7)
    ):
        fix = "dùng địa chỉ luồng http(s)://… (Icecast, HLS) hoặc device:TÊN-NGUỒN cho đầu vào thu sóng FM"
        c.add(f"{path}.source", f"nguồn tiếp sóng {source!r} không hợp lệ", fix)
    if place not in RELAY_PLACES:
        c.add(
            f"{path}.place",
            f"vị trí {place!r} không hợp lệ",
            'dùng "first" (tiếp sóng trước bản tin) hoặc "last"',
        )
    if minutes is not None and session_minutes is not None and minutes > session_minutes:
        fix = "giảm minutes của relay hoặc tăng max_minutes của buổi phát (cần chỗ cho bản tin)"
        c.add(
            f"{path}.minutes", f"tiếp sóng {minutes:g} phút không vừa buổi phát {session_minutes:g} phút", fix
        )
    if source is None or minutes is None or len(c.problems) > before:
        return None
    return RelayRule(source, timedelta(minutes=minutes), place, filler)


def check_overlaps(c: Checker, sessions: list[tuple[str, SessionRule]]) -> None:
    """Report sessions that can run at the same time on some day."""
    for i, (path_a, a) in enumerate(sessions):
        for path_b, b in sessions[i + 1 :]:
            dated = (a.valid_from or date.min) <= (b.valid_to or date.max) and (b.valid_from or date.min) <= (
                a.valid_to or date.max
            )
            (a0, a1), (b0, b1) = _span(a.start, a.max_length), _span(b.start, b.max_length)
            if dated and a.weekdays & b.weekdays and a0 < b1 and b0 < a1:
                fix = "dời giờ bắt đầu hoặc giảm max_minutes để hai phiên không chồng nhau"
                c.add(f"{path_b}.start", f"phiên '{b.code}' trùng giờ với phiên '{a.code}' ({path_a})", fix)


def read_exception(
    c: Checker,
    path: str,
    t: Mapping[str, Any],
    windows: tuple[TimeWindow, ...] | None,
    sessions: Mapping[str, SessionRule],
    session_codes: set[str],
) -> ScheduleException | None:
    """One `[[exception]]` table, None when it has any problem."""
    before = len(c.problems)
    c.keys(t, path, _EXCEPTION)
    day, kind_text = c.day(t, "date", path), c.text(t, "kind", path)
    reason = c.text(t, "reason", path, required=False) or ""
    code = c.code(t, "session", path, required=False)
    kind = next((k for k in ExceptionKind if kind_text and k.value == kind_text.lower()), None)
    if kind_text is not None and kind is None:
        fix = c.suggest(kind_text.lower(), [k.value for k in ExceptionKind], "các loại")
        c.add(
            f"{path}.kind",
            f"loại ngoại lệ lạ '{kind_text}'",
            fix + ' ("cancel" = huỷ phiên, "extra" = thêm phiên)',
        )
    if kind is ExceptionKind.CANCEL:
        for key in ("start", "max_minutes"):
            if key in t:
                c.add(
                    f"{path}.{key}",
                    f"'{key}' chỉ dùng với kind = \"extra\"",
                    'xoá dòng này hoặc đổi kind thành "extra"',
                )
        if code is not None and code not in session_codes:
            c.add(
                f"{path}.session",
                f"không có phiên '{code}'",
                c.suggest(code, sorted(session_codes), "các phiên"),
            )
        elif day is not None and (code is None or code in sessions):
            rules = [sessions[code]] if code else list(sessions.values())
            if rules and not any(rule.runs_on(day) for rule in rules):
                what = f"phiên '{code}'" if code else "phiên nào"
                c.add(
                    f"{path}.date",
                    f"ngày {day:%d/%m/%Y} không có {what} để huỷ",
                    "kiểm tra lại ngày, thứ và mã phiên",
                )
        if day is None or len(c.problems) > before:
            return None
        return ScheduleException(day, kind, code, reason=reason)
    if kind is not ExceptionKind.EXTRA:
        return None
    start, minutes = (
        c.clock(t, "start", path),
        c.number(t, "max_minutes", path, minimum=1, maximum=_DAY_MINUTES),
    )
    if start is None or minutes is None:
        return None
    length = timedelta(minutes=minutes)
    if windows is not None:
        _fits(c, f"{path}.start", start, length, windows)
    for rule in sessions.values():
        (a0, a1), (b0, b1) = _span(rule.start, rule.max_length), _span(start, length)
        if day is not None and rule.runs_on(day) and a0 < b1 and b0 < a1:
            c.add(
                f"{path}.start",
                f"phiên thêm trùng giờ với phiên '{rule.code}' ngày {day:%d/%m/%Y}",
                "dời giờ bắt đầu",
            )
    if day is None or len(c.problems) > before:
        return None
    return ScheduleException(day, kind, code, start, length, reason)
