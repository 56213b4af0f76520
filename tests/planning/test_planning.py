"""Tests for broadcaster.planning: sessions, exceptions, allowed hours, programme length, capacity."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from phuthu_station import MON_SAT, ZONE, make_station

from broadcaster.domain import (
    ExceptionKind,
    Priority,
    ScheduleException,
    SessionOccurrence,
    SessionRule,
    Station,
)
from broadcaster.errors import ConfigError, PlanningError
from broadcaster.planning import (
    ProgrammeShape,
    check_allowed,
    check_capacity,
    find_occurrence,
    free_seconds,
    iso_week_label,
    local_day,
    max_gap_days,
    mmss,
    month_bounds,
    month_label,
    next_occurrence,
    occurrences,
    programme_length,
    station_zone,
    week_bounds,
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_local_six_is_previous_day_23_utc() -> None:
    occ = occurrences(make_station(), date(2023, 3, 13), date(2023, 3, 13))
    assert [o.start for o in occ] == [utc(2023, 3, 12, 23, 0), utc(2023, 3, 13, 10, 0)]
    assert local_day(occ[0].start, station_zone(make_station())) == date(2023, 3, 13)


def test_week_has_twelve_sessions_and_sunday_none() -> None:
    week = occurrences(make_station(), date(2023, 3, 13), date(2023, 3, 19))
    assert len(week) == 12
    assert [o.session_code for o in week[:3]] == ["sang", "chieu", "sang"]
    assert occurrences(make_station(), date(2023, 3, 19), date(2023, 3, 19)) == []
    assert week[-1] == SessionOccurrence(
        "chieu", "Buổi chiều", utc(2023, 3, 18, 10, 0), timedelta(minutes=15)
    )
    assert week[-1].end == utc(2023, 3, 18, 10, 15)


def test_recurrence_crosses_weeks() -> None:
    span = occurrences(make_station(), date(2023, 3, 18), date(2023, 3, 20))
    assert [o.start for o in span] == [
        utc(2023, 3, 17, 23, 0),
        utc(2023, 3, 18, 10, 0),
        utc(2023, 3, 19, 23, 0),
        utc(2023, 3, 20, 10, 0),
    ]


def test_empty_range() -> None:
    assert occurrences(make_station(), date(2023, 3, 14), date(2023, 3, 13)) == []


def test_valid_from_and_valid_to() -> None:
    rule = SessionRule(
        "tam",
        "Buổi tạm",
        MON_SAT,
        time(6, 0),
        timedelta(minutes=10),
        valid_from=date(2023, 3, 15),
        valid_to=date(2023, 3, 16),
    )
    span = occurrences(make_station(sessions=(rule,)), date(2023, 3, 13), date(2023, 3, 19))
    assert [o.start for o in span] == [utc(2023, 3, 14, 23, 0), utc(2023, 3, 15, 23, 0)]


def test_exceptions_cancel_and_extra() -> None:
    exceptions = (
        ScheduleException(date(2023, 3, 14), ExceptionKind.CANCEL, session_code="sang", reason="Mất điện"),
        ScheduleException(date(2023, 3, 15), ExceptionKind.CANCEL, reason="Bảo trì loa"),
        ScheduleException(
            date(2023, 3, 19), ExceptionKind.EXTRA, start=time(6, 30), max_length=timedelta(minutes=10)
        ),
        ScheduleException(date(2023, 3, 19), ExceptionKind.EXTRA, session_code="chieu", start=time(17, 0)),
    )
    span = occurrences(make_station(exceptions=exceptions), date(2023, 3, 14), date(2023, 3, 19))
    assert [(o.session_code, o.start) for o in span] == [
        ("chieu", utc(2023, 3, 14, 10, 0)),
        ("sang", utc(2023, 3, 15, 23, 0)),
        ("chieu", utc(2023, 3, 16, 10, 0)),
        ("sang", utc(2023, 3, 16, 23, 0)),
        ("chieu", utc(2023, 3, 17, 10, 0)),
        ("sang", utc(2023, 3, 17, 23, 0)),
        ("chieu", utc(2023, 3, 18, 10, 0)),
        ("extra", utc(2023, 3, 18, 23, 30)),
        ("chieu", utc(2023, 3, 19, 10, 0)),
    ]
    extra, sunday_afternoon = span[-2:]
    assert (extra.name, extra.max_length) == ("Buổi phát thêm", timedelta(minutes=10))
    assert (sunday_afternoon.name, sunday_afternoon.max_length) == ("Buổi chiều", timedelta(minutes=15))


def test_cancel_by_start_time_only() -> None:
    exceptions = (ScheduleException(date(2023, 3, 13), ExceptionKind.CANCEL, start=time(17, 0)),)
    span = occurrences(make_station(exceptions=exceptions), date(2023, 3, 13), date(2023, 3, 13))
    assert [o.session_code for o in span] == ["sang"]


def test_extra_coinciding_with_regular_session_is_one_session() -> None:
    exceptions = (
        ScheduleException(
            date(2023, 3, 13), ExceptionKind.EXTRA, start=time(6, 0), max_length=timedelta(minutes=30)
        ),
    )
    span = occurrences(make_station(exceptions=exceptions), date(2023, 3, 13), date(2023, 3, 13))
    assert [(o.session_code, o.max_length) for o in span] == [
        ("sang", timedelta(minutes=15)),
        ("chieu", timedelta(minutes=15)),
    ]


def test_extra_without_start_is_refused() -> None:
    exceptions = (ScheduleException(date(2023, 3, 19), ExceptionKind.EXTRA, max_length=timedelta(minutes=5)),)
    with pytest.raises(PlanningError, match="Buổi phát thêm ngày 19/03/2023 thiếu giờ bắt đầu"):
        occurrences(make_station(exceptions=exceptions), date(2023, 3, 13), date(2023, 3, 19))


def test_bad_zone_is_config_error() -> None:
    station = make_station()
    bad = Station(station.code, station.name, "Asia/Hanoi_Nowhere", station.ident, (), station.sessions)
    with pytest.raises(ConfigError, match="Múi giờ «Asia/Hanoi_Nowhere»"):
        occurrences(bad, date(2023, 3, 13), date(2023, 3, 13))


def test_find_occurrence() -> None:
    occ = find_occurrence(make_station(), date(2023, 3, 14), time(17, 0))
    assert (occ.session_code, occ.start) == ("chieu", utc(2023, 3, 14, 10, 0))
    with pytest.raises(PlanningError) as missing:
        find_occurrence(make_station(), date(2023, 3, 14), time(6, 30))
    assert missing.value.message == (
        "Không có buổi phát lúc 06:30 ngày 14/03/2023. "
        "Các buổi trong ngày: 06:00 (Buổi sáng), 17:00 (Buổi chiều)."
    )
    with pytest.raises(PlanningError, match="Ngày 19/03/2023 không có buổi phát nào"):
        find_occurrence(make_station(), date(2023, 3, 19), time(6, 0))


def test_next_occurrence() -> None:
    station = make_station()
    assert next_occurrence(station, utc(2023, 3, 18, 10, 0)).start == utc(2023, 3, 18, 10, 0)
    # Saturday 17:01 local: the next session is Monday 06:00 local, Sunday 23:00 UTC.
    assert next_occurrence(station, utc(2023, 3, 18, 10, 1)).start == utc(2023, 3, 19, 23, 0)
    assert next_occurrence(station, utc(2023, 3, 13, 9, 0), timedelta(hours=2)).start == utc(
        2023, 3, 13, 23, 0
    )


def test_next_occurrence_none_left() -> None:
    rule = SessionRule("cu", "Buổi cũ", MON_SAT, time(6, 0), timedelta(minutes=5), valid_to=date(2023, 3, 1))
    with pytest.raises(PlanningError, match="Không còn buổi phát nào trong 400 ngày tới"):
        next_occurrence(make_station(sessions=(rule,)), utc(2023, 3, 13, 0, 0))


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_occurrence(make_station(), datetime(2023, 3, 13, 0, 0))


def test_three_fifteen_refused_unless_emergency() -> None:
    night = utc(2023, 3, 12, 20, 15)  # 03:15 on 13/03 in Hà Nội time
    with pytest.raises(PlanningError) as refused:
        check_allowed(make_station(), night, timedelta(minutes=2), Priority.NORMAL)
    assert refused.value.message == (
        "Không được phát lúc 03:15 ngày 13/03/2023: ngoài khung giờ cho phép theo quy chế "
        "(05:00–07:00, 16:30–18:30, giờ Asia/Ho_Chi_Minh)."
    )
    assert "khẩn cấp" in (refused.value.hint or "")
    with pytest.raises(PlanningError):
        check_allowed(make_station(), night, timedelta(minutes=2), Priority.PRIORITY)
    check_allowed(make_station(), night, timedelta(minutes=2), Priority.EMERGENCY)


def test_programme_running_past_window_end_refused() -> None:
    start = utc(2023, 3, 12, 23, 50)  # 06:50 local
    check_allowed(make_station(), start, timedelta(minutes=10), Priority.NORMAL)
    with pytest.raises(PlanningError) as refused:
        check_allowed(make_station(), start, timedelta(minutes=15), Priority.NORMAL)
    assert refused.value.message == (
        "Chương trình bắt đầu 06:50 ngày 13/03/2023 sẽ kéo dài đến 07:05, quá giờ kết thúc 07:00 "
        "của khung giờ cho phép 05:00–07:00 (giờ Asia/Ho_Chi_Minh)."
    )


def test_programme_length() -> None:
    shape = ProgrammeShape(signature_s=8, ident_s=5, closing_s=4, gap_s=1, repeat=2)
    # 8 + 5 + (30 + 45) × 2 + 4, and 6 gaps between 7 parts.
    assert programme_length(shape, [30, 45]) == 173
    assert programme_length(shape, []) == 0
    assert programme_length(ProgrammeShape(ident_s=5, gap_s=1), [10]) == 16


def test_shape_validation() -> None:
    with pytest.raises(ConfigError, match="Số lần đọc mỗi tin phải từ 1 trở lên"):
        ProgrammeShape(repeat=0)
    with pytest.raises(ConfigError, match="không được âm"):
        ProgrammeShape(gap_s=-1)


def test_capacity() -> None:
    shape = ProgrammeShape(signature_s=8, ident_s=5, closing_s=4, gap_s=1, repeat=2)
    occ = occurrences(make_station(), date(2023, 3, 13), date(2023, 3, 13))[0]
    assert free_seconds(shape, occ, [200, 200]) == 37.5
    check_capacity(shape, occ, [200, 200], 37.5, timezone=ZONE)
    with pytest.raises(PlanningError) as over:
        check_capacity(shape, occ, [200, 200], 60, timezone=ZONE)
    assert over.value.message == (
        "Buổi phát «Buổi sáng» lúc 06:00 ngày 13/03/2023 (giờ Asia/Ho_Chi_Minh) không đủ chỗ: "
        "chương trình sẽ dài 15:45, vượt 00:45 (45 giây) so với thời lượng tối đa 15:00."
    )
    with pytest.raises(PlanningError, match=r"vượt 00:01 \(1 giây\)"):
        check_capacity(shape, occ, [200, 200], 37.6, timezone=ZONE)
    assert free_seconds(shape, occ, [500]) == 0


def test_period_helpers() -> None:
    assert iso_week_label(date(2023, 3, 19)) == "2023-W11"
    assert iso_week_label(date(2023, 1, 1)) == "2022-W52"
    assert week_bounds(date(2023, 3, 15)) == (date(2023, 3, 13), date(2023, 3, 19))
    assert month_label(date(2023, 3, 5)) == "2023-03"
    assert month_bounds(date(2024, 2, 10)) == (date(2024, 2, 1), date(2024, 2, 29))
    assert month_bounds(date(2023, 12, 31)) == (date(2023, 12, 1), date(2023, 12, 31))
    assert mmss(945) == "15:45"
    assert mmss(3700) == "61:40"


def test_max_gap_days() -> None:
    march = (date(2023, 3, 1), date(2023, 3, 31))
    assert max_gap_days([date(2023, 3, d) for d in range(1, 32)], *march) == 1
    assert max_gap_days([date(2023, 3, 3), date(2023, 3, 10), date(2023, 3, 28)], *march) == 18
    assert max_gap_days([date(2023, 2, 27), date(2023, 3, 30)], *march) == 31
    assert max_gap_days([], *march) == 32
