"""The one set of calendar and zone helpers: a station's zone, local dates, ISO weeks, months, bounds.

Planning, the reports and the services all use these; none writes its own. Times are UTC-aware
instants; a station's zone turns them into local calendar dates (weeks are ISO weeks, Monday first).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from broadcaster.errors import ConfigError, InputError

# The zone of the stations this project serves; a station's own `timezone` always wins. Used only where
# no station is at hand yet (a new station's form, the hint of a bad zone name).
DEFAULT_ZONE_NAME = "Asia/Ho_Chi_Minh"
# What a person reads when a date range ends before it starts (a form shows it beside the "to" field).
END_BEFORE_START = "Ngày kết thúc trước ngày bắt đầu."


class Zoned(Protocol):
    """Anything that names a station and its zone: a domain `Station` or a stored station row."""

    @property
    def code(self) -> str:
        """The station's code, named in the error of a bad zone."""
        ...

    @property
    def timezone(self) -> str:
        """The station's IANA zone name."""
        ...


def station_zone(station: Zoned) -> ZoneInfo:
    """The station's zone; ConfigError if the name is not an IANA zone."""
    try:
        return ZoneInfo(station.timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"Múi giờ «{station.timezone}» của đài {station.code} không hợp lệ.",
            f"Dùng tên múi giờ IANA, ví dụ {DEFAULT_ZONE_NAME}.",
        ) from exc


def require_aware(instant: datetime) -> None:
    """ValueError for a naive instant: a programming error here, not something a station user can fix."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("planning needs timezone-aware datetimes")


def to_utc(zone: tzinfo, day: date, at: time) -> datetime:
    """The UTC instant of a local date and wall-clock time in `zone`."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def local_day(instant: datetime, zone: tzinfo) -> date:
    """The local calendar date of an aware instant in `zone`."""
    require_aware(instant)
    return instant.astimezone(zone).date()


def local_midnight(day: date, zone: tzinfo) -> datetime:
    """The instant local date `day` begins in `zone`, as an aware datetime in that zone."""
    return datetime.combine(day, time(0), zone)


def local_window(zone: tzinfo, start: date, end: date) -> tuple[datetime, datetime]:
    """UTC instants bounding local dates start..end inclusive: [start's midnight, the midnight after end)."""
    return to_utc(zone, start, time(0)), to_utc(zone, end + timedelta(days=1), time(0))


def week_bounds(day: date) -> tuple[date, date]:
    """Monday and Sunday of the ISO week holding `day`."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def month_bounds(day: date) -> tuple[date, date]:
    """First and last day of the month holding `day`."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def iso_week_label(day: date) -> str:
    """ISO week label such as "2023-W11"."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def month_label(day: date) -> str:
    """Month label such as "2023-03"."""
    return f"{day.year}-{day.month:02d}"


def in_order(first: date | None, last: date | None) -> bool:
    """False only when both days are given and the last comes before the first (an open end is fine)."""
    return first is None or last is None or first <= last


def check_day_order(first: date | None, last: date | None, hint: str, *, field: str | None = None) -> None:
    """InputError when a range of local dates ends before it starts; `hint` names what to change."""
    if not in_order(first, last):
        raise InputError(END_BEFORE_START, hint, field=field)
