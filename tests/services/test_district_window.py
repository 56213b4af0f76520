"""The district's wards × campaigns table reads only a window before the current periods: its rows are
the same as the whole-span report's, for gaps across the window's start, corrections dated anywhere,
interrupted and never-started rows, silent wards, every kind of period, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.app import App, build_app
from broadcaster.config import load_config
from broadcaster.planning.calendar import local_day
from broadcaster.reports.compliance import CountingRules, PeriodCompliance, compliance_report
from broadcaster.reports.periods import PeriodKind, period_containing
from broadcaster.reports.series import DaySeries
from broadcaster.services import district_intake, users
from broadcaster.services.asrun_records import load_forwarded_records
from broadcaster.services.stations import campaigns_of
from broadcaster.store.models import CampaignRow, ForwardedAsRunRow, StationRow, TargetRow

HANOI = "Asia/Ho_Chi_Minh"
NOWS = [
    datetime(2026, 3, 20, 3, 0, tzinfo=UTC),
    datetime(2026, 3, 31, 18, 30, tzinfo=UTC),  # already 1 April in Hanoi, still 31 March in Berlin
    datetime(2026, 4, 2, 9, 0, tzinfo=UTC),
    datetime(2026, 6, 29, 23, 0, tzinfo=UTC),
]


class Ward:
    """One ward's forwarded log, written row by row as a station would have forwarded it."""

    def __init__(self, station: StationRow, zone: str) -> None:
        self.station, self.zone, self.seq = station, ZoneInfo(zone), 0
        self.rows: list[ForwardedAsRunRow] = []

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), self.zone).astimezone(UTC)

    def add(
        self,
        day: date,
        outcome: str = "completed",
        *,
        hour: int = 7,
        minute: int = 0,
        played: int = 60_000,
        clip: int = 60_000,
        code: str | None = "ma-tuy",
        started: bool | None = None,
        corrects: ForwardedAsRunRow | None = None,
    ) -> ForwardedAsRunRow:
        self.seq += 1
        start = self.at(day, hour, minute)
        aired = outcome in ("completed", "interrupted") if started is None else started
        row = ForwardedAsRunRow(
            station_id=self.station.id,
            seq=self.seq,
            prev_hash="0" * 64,
            row_hash=f"{self.station.id:032d}{self.seq:032d}",
            content="{}",
            outcome=outcome,
            trigger="schedule",
            campaign_code=code,
            title=f"Bản tin {self.seq}",
            planned_start=start,
            actual_start=start + timedelta(seconds=1) if aired else None,
            played_ms=played if outcome in ("completed", "interrupted") else 0,
            clip_ms=clip,
            station_row_id=1000 + self.seq,
            corrects_id=None if corrects is None else corrects.station_row_id,
            received_at=start + timedelta(hours=1),
        )
        self.rows.append(row)
        return row


@pytest.fixture
def district(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    """A district database (SQLite, then PostgreSQL) with an inspector and no ward yet."""
    monkeypatch.setenv("BROADCASTER_DATABASE_URL", db_url)
    monkeypatch.setenv("BROADCASTER_SPEECH_ENGINES", "espeak")
    app = build_app(load_config())
    app.init()
    with app.tx() as s:
        users.add_user(s, "tra", "inspector", "Lê Thị Tra", actor="test", now=NOWS[0])
    yield app
    app.engine.dispose()


def ward(s: Session, code: str, zone: str, campaigns: list[tuple[str, date, date, dict[str, Any]]]) -> Ward:
    station = StationRow(code=code, name=f"Đài phường {code}", timezone=zone)
    s.add(station)
    s.flush()
    for campaign_code, start, end, target in campaigns:
        row = CampaignRow(
            station_id=station.id, code=campaign_code, title=campaign_code, period_start=start, period_end=end
        )
        s.add(row)
        s.flush()
        s.add(TargetRow(campaign_id=row.id, **target))
    return Ward(station, zone)


MONTHLY = {"min_airings_per_month": 8, "min_minutes_per_month": 6.0, "max_gap_days": 5}
WEEKLY = {"min_airings_per_week": 2, "max_gap_days": 4}


def build(app: App) -> None:
    """Wards whose logs cross the table's window in every way that changes a current period's row."""
    with app.tx() as s:
        # Gaps that start before the window and end inside it; corrections; interrupted rows.
        a = ward(s, "a", HANOI, [("ma-tuy", date(2025, 1, 1), date(2026, 12, 31), MONTHLY)])
        for n in range(0, 360, 3):  # to 24 January 2026
            a.add(date(2025, 2, 1) + timedelta(days=n), hour=6 + n % 12)
        a.add(date(2026, 2, 3))  # then nothing until 14 March: a 39-day gap into March
        a.add(date(2026, 3, 14), "interrupted", played=30_000, clip=60_000)  # half: counts
        a.add(date(2026, 3, 15), "interrupted", played=29_999, clip=60_000)  # under half: does not
        a.add(date(2026, 3, 16), "missed")
        a.add(date(2026, 3, 17), "failed", hour=0, minute=5)  # just after local midnight
        a.add(date(2026, 3, 18), "skipped", hour=23, minute=55)
        a.add(date(2026, 3, 19), "completed", started=False)  # counted by its planned start
        early = a.add(date(2026, 3, 19), hour=8)
        a.add(date(2026, 3, 19), "missed", hour=8, corrects=early)  # corrected: no longer an airing
        a.add(date(2026, 4, 1), hour=0, minute=1)
        a.add(date(2026, 4, 1), "interrupted", hour=1, played=70_000, clip=60_000)
        for n in range(0, 90, 2):
            a.add(date(2026, 4, 3) + timedelta(days=n), hour=5 + n % 14)
        # Daily airings with a correction dated before the window of a row inside it (and the reverse).
        b = ward(
            s,
            "b",
            HANOI,
            [
                ("ma-tuy", date(2024, 6, 1), date(2026, 12, 31), WEEKLY),
                ("lua-dao", date(2026, 3, 11), date(2026, 5, 9), MONTHLY),  # starts inside the window
            ],
        )
        for n in range(660):
            day = date(2024, 6, 1) + timedelta(days=n)
            b.add(day, hour=7 + n % 3, played=45_000, clip=45_000)
            if n % 5 == 0:
                b.add(day, "skipped", hour=11)
        inside = b.add(date(2026, 3, 2), hour=9)
        b.add(date(2026, 1, 5), "failed", hour=9, corrects=inside)  # dated far before the window
        outside = b.add(date(2025, 12, 1), "missed", hour=9)
        b.add(date(2026, 3, 3), hour=9, corrects=outside)  # dated inside it
        twice = b.add(date(2026, 3, 10), hour=13)
        b.add(date(2026, 3, 10), "missed", hour=13, corrects=twice)
        b.add(date(2026, 3, 10), "interrupted", hour=13, played=50_000, corrects=twice)  # the newest wins
        for n in range(0, 60, 9):
            b.add(date(2026, 3, 11) + timedelta(days=n), code="lua-dao", hour=20)
        b.add(date(2026, 3, 12), code=None)  # no campaign
        # Silent since long before the window: the gap into this period starts a year back.
        c = ward(s, "c", HANOI, [("ma-tuy", date(2024, 1, 1), date(2027, 1, 1), MONTHLY)])
        for n in range(0, 120, 4):
            c.add(date(2024, 1, 10) + timedelta(days=n))
        c.add(date(2026, 3, 5), "missed")
        # Silent for seven weeks until it airs again this month: the gap into it starts in January.
        h = ward(s, "h", HANOI, [("ma-tuy", date(2025, 5, 1), date(2026, 12, 31), MONTHLY)])
        for n in range(0, 260, 2):
            h.add(date(2025, 5, 1) + timedelta(days=n))
        h.add(date(2026, 3, 8))
        h.add(date(2026, 3, 12))
        # No rows at all; a campaign not started yet; one that ended.
        ward(
            s,
            "d",
            HANOI,
            [
                ("ma-tuy", date(2025, 1, 1), date(2026, 12, 31), MONTHLY),
                ("sau", date(2026, 9, 1), date(2026, 12, 1), WEEKLY),
            ],
        )
        e = ward(s, "e", HANOI, [("ma-tuy", date(2025, 3, 1), date(2026, 3, 25), WEEKLY)])
        # A zone with summer time (SQLite reads its rows, PostgreSQL converts them), random airings.
        f = ward(s, "f", "Europe/Berlin", [("ma-tuy", date(2025, 6, 1), date(2026, 12, 31), MONTHLY)])
        rng = random.Random(7)
        for n in range(400):
            if rng.random() < 0.35 or 270 <= n <= 300:  # and a month of silence from late February
                continue
            outcome = rng.choice(["completed", "completed", "interrupted", "missed", "failed"])
            day = date(2025, 6, 1) + timedelta(days=n)
            for who in (e, f):
                who.add(
                    day,
                    outcome,
                    hour=rng.choice([0, 1, 12, 22, 23]),
                    played=rng.choice([20_000, 30_000, 40_000]),
                    clip=60_000,
                )
        aired = f.add(date(2026, 3, 10), hour=9)  # read as records on SQLite: corrected once only
        f.add(date(2026, 3, 10), "missed", hour=9, corrects=aired)
        s.add_all([r for w in (a, b, c, e, f, h) for r in w.rows])


def expected(app: App, now: datetime, kind: PeriodKind) -> dict[tuple[str, str], PeriodCompliance | None]:
    """The current period's row of the whole-span report, from every record (the pure path)."""
    rules = CountingRules()
    out: dict[tuple[str, str], PeriodCompliance | None] = {}
    with app.tx() as s:
        stations = list(s.scalars(select(StationRow)))
        by_id = {st.id: st for st in stations}
        for station_id, campaign in campaigns_of(s, list(by_id)):
            st = by_id[station_id]
            zone = ZoneInfo(st.timezone)
            today = local_day(now, zone)
            row = None
            # Running in the current period: started, and not ended before the period began (a campaign
            # that ended earlier in the period has that period's row, up to its last day).
            begun = period_containing(kind, today).start
            if campaign.period_start <= today and campaign.period_end >= begun:
                records = load_forwarded_records(s, st, campaign_codes=[campaign.code])
                report = compliance_report(campaign, records, kind, now=now, zone=zone, rules=rules)
                row = report.rows[-1]
                assert row.active_from <= min(today, campaign.period_end) <= row.active_to
            out[(st.code, campaign.code)] = row
    return out


@pytest.mark.postgres
def test_the_windowed_table_equals_the_whole_span_report(
    district: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(district)
    calls: list[dict[str, Any]] = []
    real = district_intake.day_series

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(district_intake, "day_series", spy)
    for now in NOWS:
        for kind in PeriodKind:
            calls.clear()
            with district.tx() as s:
                table = district_intake.compliance_table(s, actor="tra", now=now, kind=kind)
            got = {(c.station_code, c.campaign_code): c.row for c in table}
            assert got == expected(district, now, kind), (now, kind)
            assert calls[0]["since"] is not None  # a window, not the whole span
    # At 20 March: wards c and h (silent since before the window) and d (no rows) are read whole.
    calls.clear()
    with district.tx() as s:
        table = district_intake.compliance_table(s, actor="tra", now=NOWS[0])
    assert [c.get("few") for c in calls] == [None, True]
    cells = {(c.station_code, c.campaign_code): c.row for c in table}
    assert cells[("d", "sau")] is None and cells[("c", "ma-tuy")] is not None
    row_a = cells[("a", "ma-tuy")]
    assert row_a is not None and row_a.longest_gap_days == 39 and row_a.airings == 2
    row_h = cells[("h", "ma-tuy")]
    assert row_h is not None and row_h.longest_gap_days == 53 and row_h.airings == 2


@pytest.mark.postgres
def test_a_row_in_the_window_replaced_by_a_correction_dated_before_it_is_not_counted(district: App) -> None:
    with district.tx() as s:
        g = ward(s, "g", HANOI, [("ma-tuy", date(2026, 1, 1), date(2026, 12, 31), WEEKLY)])
        for n in range(77):  # to 18 March
            g.add(date(2026, 1, 1) + timedelta(days=n))
        inside = g.add(date(2026, 3, 16), hour=9)
        g.add(date(2025, 12, 20), "missed", corrects=inside)  # the window's only correction
        s.add_all(g.rows)
    with district.tx() as s:
        [cell] = district_intake.compliance_table(s, actor="tra", now=NOWS[0], kind=PeriodKind.WEEK)
    assert cell.row == expected(district, NOWS[0], PeriodKind.WEEK)[("g", "ma-tuy")]
    assert cell.row is not None and cell.row.airings == 3  # 16 to 18 March, the corrected one not


@pytest.mark.postgres
def test_a_series_since_a_day_is_the_whole_series_from_that_day(district: App) -> None:
    from broadcaster.services.day_totals import day_series

    build(district)
    rules, now = CountingRules(), NOWS[-1]
    with district.tx() as s:
        stations = list(s.scalars(select(StationRow).order_by(StationRow.code)))
        campaigns = [c for _, c in campaigns_of(s, [st.id for st in stations])]
        whole = day_series(s, stations, campaigns, now=now, rules=rules, forwarded=True)
        for since in (date(2026, 1, 29), date(2026, 3, 1), date(2026, 3, 17), date(2026, 3, 29)):
            part = day_series(s, stations, campaigns, now=now, rules=rules, forwarded=True, since=since)
            for key in whole.keys() | part.keys():
                days, columns = whole[key].days, whole[key].columns
                kept = [i for i, d in enumerate(days) if d >= since.toordinal()]
                got = part.get(key, DaySeries())
                assert got.days == [days[i] for i in kept], (since, key)
                assert got.columns == [[c[i] for i in kept] for c in columns], (since, key)
