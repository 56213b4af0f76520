"""Reporting periods (ISO week, month, quarter, year) as local calendar dates in the station's zone."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from broadcaster.errors import InputError
from broadcaster.planning.calendar import local_midnight, month_bounds, week_bounds

_ROMAN = ("I", "II", "III", "IV")


class PeriodKind(enum.StrEnum):
    """The length of one row of a compliance report."""

    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


@dataclass(frozen=True)
class Period:
    """A calendar period of local dates, both ends inclusive."""

    kind: PeriodKind
    start: date
    end: date

    @property
    def days(self) -> int:
        """Number of calendar days in the period."""
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        """Vietnamese label as printed in reports, e.g. "Tuần 1/2024", "Quý I/2024"."""
        if self.kind is PeriodKind.WEEK:
            year, week, _ = self.start.isocalendar()
            return f"Tuần {week}/{year} ({self.start:%d/%m}–{self.end:%d/%m})"
        if self.kind is PeriodKind.MONTH:
            return f"Tháng {self.start:%m/%Y}"
        if self.kind is PeriodKind.QUARTER:
            return f"Quý {_ROMAN[(self.start.month - 1) // 3]}/{self.start.year}"
        return f"Năm {self.start.year}"

    def contains(self, day: date) -> bool:
        """True if `day` lies in the period."""
        return self.start <= day <= self.end

    def start_instant(self, zone: tzinfo) -> datetime:
        """Local midnight at the start of the period, as an aware datetime."""
        return local_midnight(self.start, zone)

    def end_instant(self, zone: tzinfo) -> datetime:
        """Local midnight after the last day (exclusive end), as an aware datetime."""
        return local_midnight(self.end + timedelta(days=1), zone)


def parse_kind(text: str) -> PeriodKind:
    """The period kind named by the user (week, month, quarter, year)."""
    try:
        return PeriodKind(text.strip().lower())
    except ValueError:
        raise InputError(
            f"Kỳ báo cáo không hợp lệ: {text!r}",
            "Chọn một trong: week (tuần), month (tháng), quarter (quý), year (năm).",
        ) from None


def period_containing(kind: PeriodKind, day: date) -> Period:
    """The period of this kind that contains the local date `day`."""
    if kind is PeriodKind.WEEK:
        return Period(kind, *week_bounds(day))
    if kind is PeriodKind.MONTH:
        return Period(kind, *month_bounds(day))
    if kind is PeriodKind.QUARTER:
        first_month = 3 * ((day.month - 1) // 3) + 1
        _, last = month_bounds(date(day.year, first_month + 2, 1))
        return Period(kind, date(day.year, first_month, 1), last)
    return Period(kind, date(day.year, 1, 1), date(day.year, 12, 31))


def periods_overlapping(kind: PeriodKind, first: date, last: date) -> list[Period]:
    """Every period of this kind that shares at least one day with [first, last]."""
    periods: list[Period] = []
    day = first
    while day <= last:
        period = period_containing(kind, day)
        periods.append(period)
        day = period.end + timedelta(days=1)
    return periods


def months_overlapping(first: date, last: date) -> list[tuple[int, int]]:
    """(days of the month inside [first, last], days in that month) for each calendar month touched."""
    return [
        ((min(p.end, last) - max(p.start, first)).days + 1, p.days)
        for p in periods_overlapping(PeriodKind.MONTH, first, last)
    ]


def full_iso_weeks(first: date, last: date) -> int:
    """Number of whole Monday–Sunday weeks lying inside [first, last]."""
    monday = first + timedelta(days=(7 - first.weekday()) % 7)
    days = (last - monday).days + 1
    return max(0, days // 7)
