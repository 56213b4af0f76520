"""Compliance aggregation on hand-built as-run logs, against literal expected values."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from broadcaster.domain import AsRunRecord, Campaign, Outcome, Target, Trigger
from broadcaster.errors import InputError
from broadcaster.reports.compliance import (
    CountingRules,
    compliance_report,
    due,
    format_duration_vi,
)
from broadcaster.reports.periods import PeriodKind, full_iso_weeks, parse_kind

STATION_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")  # the Phú Thứ station's zone, passed to every report


def local(day: date, hh: int = 6, mm: int = 0) -> datetime:
    """A station-local wall time as a UTC instant (06:00 local is 23:00 UTC the day before)."""
    return datetime.combine(day, time(hh, mm), STATION_ZONE).astimezone(UTC)


def aired(
    day: date,
    *,
    code: str = "MD",
    outcome: Outcome = Outcome.COMPLETED,
    played: float = 120.0,
    clip: float = 120.0,
) -> AsRunRecord:
    start = local(day)
    started = outcome not in (Outcome.MISSED, Outcome.SKIPPED)
    return AsRunRecord(
        station_code="PT",
        campaign_code=code,
        bulletin_id=1,
        revision=1,
        planned_start=start,
        actual_start=start if started else None,
        actual_end=start + timedelta(seconds=played) if started else None,
        played_s=played if started else 0.0,
        clip_s=clip,
        outcome=outcome,
        trigger=Trigger.SCHEDULE,
    )


def campaign(
    code: str = "MD", start: date = date(2024, 1, 1), end: date = date(2024, 12, 31), **target: int
) -> Campaign:
    return Campaign(
        code=code,
        title="Phòng, chống mại dâm",
        plan_ref="Kế hoạch số 61/KH-UBND",
        period_start=start,
        period_end=end,
        target=Target(**target),
    )


def test_week_with_a_missed_airing_is_not_met() -> None:
    d = date(2024, 1, 1)  # a Monday
    log = [aired(d + timedelta(days=n)) for n in (0, 2, 4, 7, 9)]
    log.append(aired(d + timedelta(days=11), outcome=Outcome.MISSED))
    log.append(aired(d + timedelta(days=11), code="OTHER"))  # another campaign's airing does not count
    report = compliance_report(
        campaign(min_airings_per_week=3, max_gap_days=7),
        log,
        PeriodKind.WEEK,
        now=local(date(2024, 1, 15), 10),
        first=date(2024, 1, 1),
        last=date(2024, 1, 14),
        zone=STATION_ZONE,
    )
    assert report.zone_name == "Asia/Ho_Chi_Minh"
    w1, w2 = report.rows
    assert w1.period.label == "Tuần 1/2024 (01/01–07/01)"
    assert (w1.airings, w1.minutes, w1.target_airings, w1.missed, w1.longest_gap_days, w1.met) == (
        3,
        6.0,
        3,
        0,
        3,
        True,
    )
    assert (w2.airings, w2.minutes, w2.target_airings, w2.missed, w2.failed) == (2, 4.0, 3, 1, 0)
    # Wednesday 10th to "today" (Monday 15th) is the longest break touching week 2.
    assert (w2.longest_gap_days, w2.allowed_gap_days, w2.in_progress, w2.met) == (5, 7, False, False)


def test_gap_across_a_month_boundary_is_continuous() -> None:
    days = [date(2024, 1, 20), date(2024, 1, 25), date(2024, 2, 5), date(2024, 2, 10)]
    log = [aired(d) for d in days]
    log.append(aired(date(2024, 2, 7), outcome=Outcome.FAILED, played=3.0))
    report = compliance_report(
        campaign(start=date(2024, 1, 20), end=date(2024, 3, 31), min_airings_per_month=4, max_gap_days=7),
        log,
        PeriodKind.MONTH,
        now=local(date(2024, 2, 15), 12),
        zone=STATION_ZONE,
    )
    jan, feb = report.rows
    assert jan.period.label == "Tháng 01/2024"
    # January is judged from the 20th: 4 × 12/31 = 1.55 → 2 airings, and both aired ...
    assert (jan.partial, jan.active_from, jan.target_airings, jan.airings) == (True, date(2024, 1, 20), 2, 2)
    # ... but the 25 Jan → 5 Feb break (11 days) is counted whole in both months and fails both.
    assert (jan.longest_gap_days, jan.met) == (11, False)
    assert (feb.longest_gap_days, feb.in_progress, feb.met) == (11, True, False)
    assert (feb.partial, feb.airings, feb.failed, feb.target_airings, feb.minutes) == (False, 2, 1, 4, 4.0)


def test_interrupted_airing_counts_minutes_and_counts_as_airing_from_half_the_clip() -> None:
    d = date(2024, 3, 4)
    log = [
        aired(d),
        aired(d + timedelta(days=1), outcome=Outcome.INTERRUPTED, played=60.0, clip=100.0),
        aired(d + timedelta(days=2), outcome=Outcome.INTERRUPTED, played=30.0, clip=100.0),
        aired(d + timedelta(days=3), outcome=Outcome.INTERRUPTED, played=50.0, clip=100.0),
    ]
    c = campaign(min_airings_per_week=3)
    now = local(date(2024, 3, 11), 8)
    (row,) = compliance_report(c, log, PeriodKind.WEEK, now=now, first=d, last=d, zone=STATION_ZONE).rows
    assert (row.airings, row.minutes, row.interrupted, row.met) == (3, 4.33, 3, True)
    strict = compliance_report(
        c, log, PeriodKind.WEEK, now=now, first=d, last=d, rules=CountingRules(0.7), zone=STATION_ZONE
    )
    assert (strict.rows[0].airings, strict.rows[0].minutes, strict.rows[0].met) == (1, 4.33, False)


def test_campaign_starting_mid_week_is_judged_pro_rata() -> None:
    start = date(2024, 1, 5)  # a Friday: 3 days of week 1 remain
    log = [aired(start), aired(date(2024, 1, 7)), aired(date(2024, 1, 8))]
    report = compliance_report(
        campaign(start=start, min_airings_per_week=3),
        log,
        PeriodKind.WEEK,
        now=local(date(2024, 1, 10), 20),
        zone=STATION_ZONE,
    )
    w1, w2 = report.rows
    # 3 × 3/7 = 1.29, rounded up to 2.
    assert (w1.partial, w1.active_from, w1.target_airings, w1.airings, w1.met) == (True, start, 2, 2, True)
    # Week 2 is running (today is Wednesday) and short: undecided, not failed.
    assert (w2.partial, w2.in_progress, w2.target_airings, w2.airings, w2.met) == (False, True, 3, 1, None)


def _mondays_and_thursdays(first: date, last: date) -> list[date]:
    return [
        first + timedelta(days=n)
        for n in range((last - first).days + 1)
        if (first + timedelta(days=n)).weekday() in (0, 3)
    ]


def test_quarter_and_year_periods() -> None:
    days = _mondays_and_thursdays(date(2024, 1, 1), date(2024, 4, 8))
    log = [aired(d, played=300.0, clip=300.0) for d in days]
    c = campaign(min_airings_per_month=8, min_airings_per_week=2, min_minutes_per_month=20, max_gap_days=7)
    now = local(date(2024, 4, 10), 9)
    q1, q2 = compliance_report(c, log, PeriodKind.QUARTER, now=now, zone=STATION_ZONE).rows
    # Q1 2024: 8 × 3 months = 24, but 13 whole ISO weeks × 2 = 26 is the stricter bound.
    assert q1.period.label == "Quý I/2024"
    assert (q1.airings, q1.minutes, q1.target_airings, q1.target_minutes, q1.longest_gap_days, q1.met) == (
        26,
        130.0,
        26,
        60.0,
        4,
        True,
    )
    assert q2.period.label == "Quý II/2024"
    assert (q2.airings, q2.target_airings, q2.in_progress, q2.longest_gap_days, q2.met) == (
        3,
        26,
        True,
        4,
        None,
    )
    (year,) = compliance_report(c, log, PeriodKind.YEAR, now=now, zone=STATION_ZONE).rows
    # 2024 holds 52 whole ISO weeks (30–31 Dec belong to week 1 of 2025): 104 > 8 × 12.
    assert (year.period.label, year.airings, year.minutes, year.target_airings, year.target_minutes) == (
        "Năm 2024",
        29,
        145.0,
        104,
        240.0,
    )
    assert year.met is None
    assert full_iso_weeks(date(2024, 1, 1), date(2024, 12, 31)) == 52


def test_due_lists_campaigns_at_risk_with_time_left_and_planned_airings() -> None:
    now = local(date(2024, 1, 10), 12)  # Wednesday noon
    campaigns = [
        campaign("A", min_airings_per_week=3),
        campaign("B", min_airings_per_week=2),
        campaign("C", max_gap_days=5),
        campaign("OLD", start=date(2023, 1, 1), end=date(2023, 12, 31), min_airings_per_week=5),
        campaign("OK", min_airings_per_week=1),
    ]
    log = [aired(date(2024, 1, 8), code=c) for c in ("A", "B", "OK")] + [aired(date(2024, 1, 6), code="C")]
    planned = {
        "A": [local(date(2024, 1, 12)), local(date(2024, 1, 9))],  # the second one is in the past
        "B": [local(date(2024, 1, 12)), local(date(2024, 1, 13))],
        "C": [local(date(2024, 1, 13))],  # too late for the 11 Jan gap deadline
    }
    items = due(campaigns, log, planned, now=now, zone=STATION_ZONE)
    assert [(i.campaign_code, i.reason, i.needed, i.planned, i.at_risk) for i in items] == [
        ("C", "gap", 1, 0, True),
        ("A", "week", 2, 1, True),
        ("B", "week", 1, 2, False),
    ]
    c_item, a_item, b_item = items
    assert c_item.time_left == timedelta(days=1, hours=12)
    assert a_item.time_left == timedelta(days=4, hours=12)
    assert (
        a_item.describe()
        == "Phòng, chống mại dâm: cần thêm 2 lượt phát tuần này trong 4 ngày 12 giờ; đã lên lịch 1"
        " — có nguy cơ không đạt"
    )
    assert (
        b_item.describe()
        == "Phòng, chống mại dâm: cần thêm 1 lượt phát tuần này trong 4 ngày 12 giờ; đã lên lịch 2"
    )


def test_due_month_target_counts_planned_airings_to_month_end() -> None:
    now = local(date(2024, 1, 29), 18)
    c = campaign("M", min_airings_per_month=10)
    log = [aired(date(2024, 1, d), code="M") for d in range(1, 9)]
    (item,) = due(
        [c], log, {"M": [local(date(2024, 1, 30)), local(date(2024, 2, 1))]}, now=now, zone=STATION_ZONE
    )
    assert (item.reason, item.airings, item.target_airings, item.needed, item.planned) == (
        "month",
        8,
        10,
        2,
        1,
    )
    assert format_duration_vi(item.time_left) == "2 ngày 6 giờ"


def test_bad_period_and_empty_range_raise_user_errors() -> None:
    with pytest.raises(InputError, match="Kỳ báo cáo"):
        parse_kind("fortnight")
    assert parse_kind(" Quarter ") is PeriodKind.QUARTER
    with pytest.raises(InputError, match="Khoảng báo cáo trống"):
        compliance_report(campaign(), [], PeriodKind.WEEK, now=local(date(2023, 6, 1)), zone=STATION_ZONE)


def test_daily_airings_give_one_day_gaps_and_a_late_first_airing_counts_from_the_first_day() -> None:
    daily = compliance_report(
        campaign(max_gap_days=2),
        [aired(date(2024, 1, d)) for d in range(1, 8)],
        PeriodKind.WEEK,
        now=local(date(2024, 1, 7), 20),
        zone=STATION_ZONE,
    )
    assert [(r.longest_gap_days, r.met) for r in daily.rows] == [(1, True)]
    late = compliance_report(
        campaign(start=date(2024, 1, 31), max_gap_days=7),
        [aired(date(2024, 2, 10)), aired(date(2024, 2, 11))],
        PeriodKind.MONTH,
        now=local(date(2024, 2, 12), 10),
        zone=STATION_ZONE,
    )
    # 31 Jan (first day, no airing) to 10 Feb: 10 days, shown in both months.
    assert [(r.period.label, r.longest_gap_days, r.met) for r in late.rows] == [
        ("Tháng 01/2024", 10, False),
        ("Tháng 02/2024", 10, False),
    ]
