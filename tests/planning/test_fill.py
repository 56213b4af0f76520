"""Tests for broadcaster.fill: meeting campaign targets in free session capacity, and shortfalls."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phuthu_station import MON_SAT, make_station

from broadcaster.domain import (
    Campaign,
    ExceptionKind,
    Priority,
    ScheduleException,
    SessionRule,
    Station,
    Target,
)
from broadcaster.planning import ProgrammeShape, QueuedItem, occurrences, programme_length, station_zone
from broadcaster.planning.fill import Aired, Candidate, FillResult, Shortfall, ShortfallKind, fill

PLAIN = ProgrammeShape()
SUNDAY_EVENING = datetime(2023, 3, 12, 12, 0, tzinfo=UTC)  # 19:00 local, before week 2023-W11


def campaign(
    code: str, target: Target, start: date = date(2023, 1, 1), end: date = date(2023, 12, 31)
) -> Campaign:
    return Campaign(code, f"Chiến dịch {code}", "Kế hoạch số 61/KH-UBND", start, end, target=target)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def starts(result: FillResult) -> list[datetime]:
    return [p.occurrence.start for p in result.proposals]


def run_week(
    campaigns: list[Campaign],
    candidates: list[Candidate],
    queued: tuple[QueuedItem, ...] = (),
    history: tuple[Aired, ...] = (),
    shape: ProgrammeShape = PLAIN,
) -> FillResult:
    station = make_station()
    return fill(
        station,
        campaigns,
        candidates,
        queued,
        history,
        shape,
        date(2023, 3, 13),
        date(2023, 3, 19),
        SUNDAY_EVENING,
    )


def test_weekly_target_spread_over_the_week() -> None:
    pool = [Candidate(i, "PC", 60.0, None) for i in (1, 2, 3)]
    result = run_week([campaign("PC", Target(min_airings_per_week=3))], pool)
    # Tuesday, Thursday and Saturday at 17:00 local.
    assert starts(result) == [utc(2023, 3, 14, 10), utc(2023, 3, 16, 10), utc(2023, 3, 18, 10)]
    assert [p.candidate.bulletin_id for p in result.proposals] == [1, 2, 3]
    assert result.proposals[0].reason == "chỉ tiêu tuần 11/2023: còn thiếu 3 lần"
    assert result.shortfalls == []


def test_rotation_least_recently_aired_first() -> None:
    pool = [
        Candidate(1, "PC", 60.0, utc(2023, 3, 10, 0)),
        Candidate(2, "PC", 60.0, None),
        Candidate(4, "PC", 60.0, utc(2023, 3, 5, 0)),
        Candidate(3, "PC", 60.0, utc(2023, 3, 5, 0)),
    ]
    result = run_week([campaign("PC", Target(min_airings_per_week=5))], pool)
    # Never aired first, then oldest, ties by id, then back to the first one proposed this week.
    assert [p.candidate.bulletin_id for p in result.proposals] == [2, 3, 4, 1, 2]


def test_queued_items_count_and_take_room() -> None:
    pool = [Candidate(i, "PC", 60.0, None) for i in (1, 2)]
    queued = (QueuedItem(utc(2023, 3, 13, 10), 1, "PC", 60.0, Priority.NORMAL, 0),)
    result = run_week([campaign("PC", Target(min_airings_per_week=3))], pool, queued=queued)
    assert len(result.proposals) == 2
    assert utc(2023, 3, 13, 10) not in starts(result)
    # Bulletin 1 is queued on Monday, so rotation starts with bulletin 2.
    assert result.proposals[0].candidate.bulletin_id == 2


def test_history_counts_in_a_week_cut_by_the_range_start() -> None:
    history = (Aired("PC", utc(2023, 3, 12, 23, 0), 60.0), Aired("PC", utc(2023, 3, 13, 23, 0), 60.0))
    pool = [Candidate(1, "PC", 60.0, None)]
    now = utc(2023, 3, 14, 12, 0)
    result = fill(
        make_station(),
        [campaign("PC", Target(min_airings_per_week=3))],
        pool,
        (),
        history,
        PLAIN,
        date(2023, 3, 15),
        date(2023, 3, 19),
        now,
    )
    assert len(result.proposals) == 1
    assert result.shortfalls == []


def test_week_cut_by_the_range_end_is_pro_rata() -> None:
    pool = [Candidate(1, "PC", 60.0, None)]
    target = Target(min_airings_per_week=7)
    result = fill(
        make_station(),
        [campaign("PC", target)],
        pool,
        (),
        (),
        PLAIN,
        date(2023, 3, 13),
        date(2023, 3, 15),
        SUNDAY_EVENING,
    )
    # Three of seven days: ceil(7 × 3 / 7) = 3 airings now.
    assert len(result.proposals) == 3
    assert result.shortfalls == []


def test_gap_limit_places_before_the_deadline() -> None:
    pool = [Candidate(i, "MT", 45.0, None) for i in (1, 2)]
    history = (Aired("MT", utc(2023, 3, 10, 23, 0), 45.0),)  # Saturday 11/03 06:00 local
    result = run_week([campaign("MT", Target(max_gap_days=2))], pool, history=history)
    # Every second day, the first session of the last day allowed; Sunday 19/03 has no session.
    assert starts(result) == [
        utc(2023, 3, 12, 23),
        utc(2023, 3, 14, 23),
        utc(2023, 3, 16, 23),
        utc(2023, 3, 17, 23),
    ]
    assert result.proposals[0].reason == "giãn cách tối đa 2 ngày (lần trước 11/03/2023)"
    assert result.shortfalls == []


def test_monthly_minutes() -> None:
    pool = [Candidate(1, "HIV", 120.0, None), Candidate(2, "HIV", 120.0, None)]
    shape = ProgrammeShape(signature_s=10, ident_s=5, closing_s=5, gap_s=1, repeat=2)
    result = fill(
        make_station(),
        [campaign("HIV", Target(min_minutes_per_month=10))],
        pool,
        (),
        (),
        shape,
        date(2023, 3, 1),
        date(2023, 3, 31),
        utc(2023, 2, 28, 12, 0),
    )
    # Each airing is read twice: 240 s, so three airings give 12 minutes.
    assert len(result.proposals) == 3
    assert [p.candidate.bulletin_id for p in result.proposals] == [1, 2, 1]
    assert result.proposals[0].reason == "chỉ tiêu tháng 03/2023: còn thiếu 10 phút"
    assert result.shortfalls == []


def test_capacity_shortfall_reported_with_amounts() -> None:
    pool = [
        Candidate(i, code, 500.0, None) for code in ("A", "B") for i in ((1, 2) if code == "A" else (3, 4))
    ]
    campaigns = [
        campaign("B", Target(min_airings_per_week=12)),
        campaign("A", Target(min_airings_per_week=12)),
    ]
    result = run_week(campaigns, pool)
    # A 15-minute session holds one 500 s bulletin: earliest deadline first alternates the two campaigns.
    assert [p.candidate.campaign_code for p in result.proposals] == ["A", "B"] * 6
    assert [p.candidate.bulletin_id for p in result.proposals[:4]] == [1, 3, 2, 4]
    assert result.shortfalls == [
        Shortfall("A", ShortfallKind.WEEKLY_AIRINGS, "2023-W11", 12, 6, 6),
        Shortfall("B", ShortfallKind.WEEKLY_AIRINGS, "2023-W11", 12, 6, 6),
    ]
    assert result.shortfalls[1].message() == (
        "Chiến dịch B, tuần 11/2023: cần 12 lần phát, mới có 6 lần, thiếu 6 lần."
    )


def test_one_airing_per_campaign_per_session() -> None:
    pool = [Candidate(i, "PC", 30.0, None) for i in range(1, 6)]
    result = run_week([campaign("PC", Target(min_airings_per_week=20))], pool)
    assert len(result.proposals) == 12
    assert result.shortfalls == [Shortfall("PC", ShortfallKind.WEEKLY_AIRINGS, "2023-W11", 20, 12, 8)]


def test_gap_shortfall_when_sunday_has_no_session() -> None:
    pool = [Candidate(1, "MT", 45.0, None)]
    daily = campaign("MT", Target(max_gap_days=1), start=date(2023, 3, 13))
    result = run_week([daily], pool)
    assert len(result.proposals) == 6
    assert result.shortfalls == [Shortfall("MT", ShortfallKind.MAX_GAP, "2023-03-18/2023-03-20", 1, 2, 1)]
    assert result.shortfalls[0].message() == (
        "Chiến dịch MT: từ 18/03/2023 đến 20/03/2023 cách nhau 2 ngày, vượt giới hạn 1 ngày là 1 ngày."
    )


def test_monthly_shortfall_without_bulletins() -> None:
    targets = Target(min_airings_per_month=8, min_minutes_per_month=12.5)
    result = fill(
        make_station(),
        [campaign("TE", targets)],
        [],
        (),
        (Aired("TE", utc(2023, 3, 2, 23, 0), 90.0),),
        PLAIN,
        date(2023, 3, 13),
        date(2023, 3, 31),
        SUNDAY_EVENING,
    )
    assert result.proposals == []
    assert result.shortfalls == [
        Shortfall("TE", ShortfallKind.MONTHLY_AIRINGS, "2023-03", 8, 1, 7),
        Shortfall("TE", ShortfallKind.MONTHLY_MINUTES, "2023-03", 12.5, 1.5, 11.0),
    ]
    assert (
        result.shortfalls[1].message()
        == "Chiến dịch TE, tháng 03/2023: cần 12,5 phút, mới có 1,5 phút, thiếu 11 phút."
    )


def test_nothing_before_now_and_inactive_campaign_ignored() -> None:
    pool = [Candidate(1, "PC", 60.0, None), Candidate(9, "OLD", 60.0, None)]
    now = utc(2023, 3, 16, 11, 0)  # Thursday 18:00 local
    campaigns = [
        campaign("PC", Target(min_airings_per_week=6)),
        campaign("OLD", Target(min_airings_per_week=6), start=date(2022, 1, 1), end=date(2022, 12, 31)),
    ]
    result = fill(make_station(), campaigns, pool, (), (), PLAIN, date(2023, 3, 13), date(2023, 3, 19), now)
    assert starts(result) == [
        utc(2023, 3, 16, 23),
        utc(2023, 3, 17, 10),
        utc(2023, 3, 17, 23),
        utc(2023, 3, 18, 10),
    ]
    assert result.shortfalls == [Shortfall("PC", ShortfallKind.WEEKLY_AIRINGS, "2023-W11", 6, 4, 2)]


def test_allowed_hours_respected_by_fill() -> None:
    late = SessionRule("muon", "Buổi muộn", MON_SAT, time(6, 50), timedelta(minutes=15))
    evening = ScheduleException(
        date(2023, 3, 19), ExceptionKind.EXTRA, start=time(20, 0), max_length=timedelta(minutes=15)
    )
    station = make_station(sessions=(late,), exceptions=(evening,))
    pool = [Candidate(1, "PC", 700.0, None), Candidate(2, "PC", 500.0, utc(2023, 3, 1))]
    result = fill(
        station,
        [campaign("PC", Target(max_gap_days=1), start=date(2023, 3, 13))],
        pool,
        (),
        (),
        PLAIN,
        date(2023, 3, 13),
        date(2023, 3, 19),
        SUNDAY_EVENING,
    )
    # 700 s from 06:50 would run past 07:00, and 20:00 on Sunday is outside the allowed hours.
    assert [p.candidate.bulletin_id for p in result.proposals] == [2] * 6
    assert utc(2023, 3, 19, 13) not in starts(result)
    assert result.shortfalls == [Shortfall("PC", ShortfallKind.MAX_GAP, "2023-03-18/2023-03-20", 1, 2, 1)]


times = st.sampled_from([time(5, 30), time(6, 0), time(6, 50), time(17, 0), time(18, 20), time(20, 0)])


@st.composite
def scenarios(
    draw: st.DrawFn,
) -> tuple[Station, list[Campaign], list[Candidate], list[QueuedItem], ProgrammeShape, datetime]:
    rules = tuple(
        SessionRule(
            f"s{n}",
            f"Buổi {n}",
            frozenset(draw(st.sets(st.integers(0, 6), min_size=1))),
            draw(times),
            timedelta(minutes=draw(st.integers(3, 20))),
        )
        for n in range(draw(st.integers(1, 3)))
    )
    extras = tuple(
        ScheduleException(
            date(2023, 3, draw(st.integers(13, 19))),
            ExceptionKind.EXTRA,
            start=draw(times),
            max_length=timedelta(minutes=10),
        )
        for _ in range(draw(st.integers(0, 2)))
    )
    station = make_station(sessions=rules, exceptions=extras)
    codes = ["A", "B", "C"][: draw(st.integers(1, 3))]
    campaigns = [
        campaign(
            code,
            Target(
                min_airings_per_week=draw(st.none() | st.integers(1, 10)),
                min_minutes_per_month=draw(st.none() | st.floats(1, 30)),
                max_gap_days=draw(st.none() | st.integers(1, 4)),
            ),
        )
        for code in codes
    ]
    candidates = [
        Candidate(n, draw(st.sampled_from(codes)), draw(st.floats(20, 400)), None)
        for n in range(draw(st.integers(0, 6)))
    ]
    sessions = occurrences(station, date(2023, 3, 13), date(2023, 3, 19))
    queued: list[QueuedItem] = []
    if sessions:
        for n, occ in enumerate(draw(st.lists(st.sampled_from(sessions), max_size=4))):
            code = draw(st.sampled_from(codes))
            queued.append(QueuedItem(occ.start, 100 + n, code, draw(st.floats(20, 700)), Priority.NORMAL, n))
    shape = ProgrammeShape(
        signature_s=draw(st.floats(0, 20)),
        ident_s=draw(st.floats(0, 10)),
        closing_s=5,
        gap_s=1,
        repeat=draw(st.integers(1, 2)),
    )
    now = utc(2023, 3, 12, 12) + timedelta(hours=draw(st.integers(0, 24 * 7)))
    return station, campaigns, candidates, queued, shape, now


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_fill_never_overfills_never_past_never_outside_hours(
    scenario: tuple[Station, list[Campaign], list[Candidate], list[QueuedItem], ProgrammeShape, datetime],
) -> None:
    station, campaigns, candidates, queued, shape, now = scenario
    result = fill(
        station, campaigns, candidates, queued, (), shape, date(2023, 3, 13), date(2023, 3, 19), now
    )
    zone = station_zone(station)
    for occ in {p.occurrence for p in result.proposals}:
        added = [p.candidate for p in result.proposals if p.occurrence == occ]
        already = [q.duration_s for q in queued if q.occurrence_start == occ.start]
        length = programme_length(shape, [*already, *(c.duration_s for c in added)])
        assert occ.start > now
        assert length <= occ.max_length.total_seconds() + 1e-6
        assert station.allows(occ.start.astimezone(zone).time(), timedelta(seconds=length))
        ids = [c.bulletin_id for c in added] + [
            q.bulletin_id for q in queued if q.occurrence_start == occ.start
        ]
        assert len(ids) == len(set(ids))
    again = fill(station, campaigns, candidates, queued, (), shape, date(2023, 3, 13), date(2023, 3, 19), now)
    assert again == result
