"""Proof of airtime from the database: compliance from a stored log (SQLite, PostgreSQL), corrections, due."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from seedpaths import SEED
from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import airlog
from broadcaster.app import App, build_app
from broadcaster.config import load_config
from broadcaster.domain import AsRunEntry, Outcome, Trigger
from broadcaster.errors import InputError, PermissionDenied
from broadcaster.reports.compliance import compliance_report
from broadcaster.reports.periods import PeriodKind
from broadcaster.schedules import load_schedule
from broadcaster.services import documents, reporting
from broadcaster.services.stations import campaigns_domain, find_station, import_schedule
from broadcaster.store.models import AiringRow, AsRunRow, BulletinRow, CampaignRow, RevisionRow

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
CAMPAIGN = "mai-dam-2023"
NOW = datetime(2023, 4, 30, 18, 0, tzinfo=ZONE)
C, INTR, M, F = Outcome.COMPLETED, Outcome.INTERRUPTED, Outcome.MISSED, Outcome.FAILED

# (day, outcome, played seconds, clip seconds): the log of mai-dam-2023 from 16 March to 30 April 2023.
LOG = [
    (date(2023, 3, 17), C, 90, 90),
    (date(2023, 3, 20), C, 120, 120),
    (date(2023, 3, 24), INTR, 60, 90),  # 2/3 heard: counts as an airing
    (date(2023, 3, 28), F, 0, 90),
    (date(2023, 3, 29), INTR, 30, 90),  # 1/3 heard: minutes only
    (date(2023, 3, 30), C, 60, 60),
    (date(2023, 3, 31), M, 0, 60),
    (date(2023, 4, 3), C, 60, 60),
    (date(2023, 4, 5), C, 60, 60),
    (date(2023, 4, 12), C, 60, 60),
    (date(2023, 4, 19), C, 60, 60),
    (date(2023, 4, 26), C, 60, 60),
    (date(2023, 4, 28), M, 0, 60),
]


@pytest.fixture
def seeded_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    """The seed schedule imported into a fresh SQLite or PostgreSQL database."""
    monkeypatch.setenv("BROADCASTER_DATABASE_URL", db_url)
    monkeypatch.setenv("BROADCASTER_SPEECH_ENGINES", "espeak")
    app = build_app(load_config())
    app.init()
    with app.tx() as s:
        import_schedule(s, load_schedule(SEED), actor="test", now=NOW, speak=app.speak)
    yield app
    app.engine.dispose()


def entry(
    day: date, outcome: Outcome, played_s: float, clip_s: float, campaign: str = CAMPAIGN
) -> AsRunEntry:
    """One as-run entry at 06:00 local on `day`; rows that never started have only a planned start."""
    planned = datetime.combine(day, time(6), ZONE)
    started = outcome in (C, INTR)
    start = planned + timedelta(seconds=1)
    return AsRunEntry(
        outcome,
        Trigger.SCHEDULE,
        planned_start=planned,
        actual_start=start if started else None,
        actual_end=start + timedelta(seconds=played_s) if started else None,
        played_ms=round(played_s * 1000),
        clip_ms=round(clip_s * 1000),
        campaign_code=campaign,
        title=f"Bản tin ngày {day:%d/%m}",
        queued_by="hung",
        approved_by="khoi",
    )


def store_log(app: App, rows: list[tuple[date, Outcome, float, float]]) -> dict[date, int]:
    """Append the rows through airlog.append; returns the row id of each day."""
    ids = {}
    with app.tx() as s:
        station = find_station(s, "phu-thu")
        for day, outcome, played, clip in rows:
            row = airlog.append(
                s, station.id, entry(day, outcome, played, clip), recorded_by="daemon", now=NOW
            )
            ids[day] = row.id
    return ids


def monthly(app: App, now: datetime = NOW) -> list[tuple[object, ...]]:
    """The month rows of mai-dam-2023 from 16 March to 30 April via the service."""
    with app.tx() as s:
        station = find_station(s, "phu-thu")
        (report,) = reporting.compliance_reports(
            s, station, [CAMPAIGN], PeriodKind.MONTH, now=now, last=date(2023, 4, 30)
        )
    return [
        (
            r.period.label,
            r.airings,
            r.minutes,
            r.interrupted,
            r.target_airings,
            r.target_minutes,
            r.longest_gap_days,
            r.missed,
            r.failed,
            r.met,
        )
        for r in report.rows
    ]


MARCH = ("Tháng 03/2023", 4, 6.0, 2, 3, 2.58, 6, 1, 1, True)
APRIL = ("Tháng 04/2023", 5, 5.0, 0, 4, 5.0, 7, 1, 0, True)


def test_monthly_compliance_from_the_stored_log(seeded_db: App) -> None:
    store_log(seeded_db, LOG)
    assert monthly(seeded_db) == [MARCH, APRIL]


def test_corrections_change_the_report_and_the_newest_wins(seeded_db: App) -> None:
    ids = store_log(seeded_db, LOG)
    with seeded_db.tx() as s:
        fix = reporting.correct(
            s, ids[date(2023, 4, 26)], M, reason="Mất điện cả phường", actor="hung", now=NOW
        )
        assert fix.corrects_id == ids[date(2023, 4, 26)] and fix.recorded_by == "hung"
    # One airing fewer, one minute less, and 19 → 30 April is now an 11-day gap: the month fails.
    assert monthly(seeded_db)[1] == ("Tháng 04/2023", 4, 4.0, 0, 4, 5.0, 11, 2, 0, False)
    with seeded_db.tx() as s:  # correcting the correction still points at the original row
        again = reporting.correct(s, fix.id, C, reason="Đã phát bù lúc 17h00", actor="khoi", now=NOW)
        assert again.corrects_id == ids[date(2023, 4, 26)]
    assert monthly(seeded_db) == [MARCH, APRIL]
    with seeded_db.tx() as s:
        assert airlog.verify(s, find_station(s, "phu-thu").id).ok


def test_only_operators_and_leaders_correct_and_a_reason_is_required(seeded_db: App) -> None:
    ids = store_log(seeded_db, LOG[:1])
    row_id = ids[LOG[0][0]]
    with pytest.raises(PermissionDenied), seeded_db.tx() as s:
        reporting.correct(s, row_id, M, reason="thử", actor="lan", now=NOW)
    with pytest.raises(InputError, match="lý do"), seeded_db.tx() as s:
        reporting.correct(s, row_id, M, reason="  ", actor="hung", now=NOW)


def random_log(seed: int) -> list[tuple[date, Outcome, float, float, str]]:
    """A varied log over two campaigns, including days with several rows and days before the campaign."""
    rng = random.Random(seed)
    rows = []
    for _ in range(160):
        day = date(2023, 3, 10) + timedelta(days=rng.randrange(0, 200))
        outcome = rng.choice([C, C, C, INTR, INTR, M, F, Outcome.SKIPPED])
        clip = rng.choice([45.0, 60.0, 90.5])
        played = clip if outcome is C else (rng.uniform(0, clip) if outcome is INTR else 0.0)
        rows.append((day, outcome, round(played, 3), clip, rng.choice([CAMPAIGN, "ma-tuy-2023"])))
    return rows


@pytest.mark.parametrize("extreme", [False, True], ids=["usual", "80-hour-airing"])
def test_the_sql_aggregate_equals_the_pure_report(seeded_db: App, extreme: bool) -> None:
    now = datetime(2023, 8, 20, 9, 0, tzinfo=ZONE)
    log = random_log(7)
    if extreme:  # beyond what the packed SQLite path carries: it must fall back to the exact one
        log.append((date(2023, 5, 2), C, 80 * 3600.0, 80 * 3600.0, CAMPAIGN))
    with seeded_db.tx() as s:
        station = find_station(s, "phu-thu")
        ids = [
            airlog.append(s, station.id, entry(d, o, p, c, code), recorded_by="daemon", now=now).id
            for d, o, p, c, code in log
        ]
        for row_id in ids[::17]:
            reporting.correct(s, row_id, M, reason="đối chiếu sổ trực", actor="hung", now=now)
    with seeded_db.tx() as s:
        station = find_station(s, "phu-thu")
        records = reporting.load_records(s, station)
        assert len(records) == len(ids)  # every correction replaced its row
        campaigns = campaigns_domain(s, station.id)
        for kind in PeriodKind:
            fast = reporting.compliance_reports(s, station, None, kind, now=now)
            pure = [compliance_report(c, records, kind, now=now, zone=ZONE) for c in campaigns]
            for a, b in zip(fast, pure, strict=True):
                assert [r.minutes for r in a.rows] == pytest.approx([r.minutes for r in b.rows], abs=0.011)
                strip = [(r.period, r.airings, r.longest_gap_days, r.met, r.missed, r.failed) for r in a.rows]
                assert strip == [
                    (r.period, r.airings, r.longest_gap_days, r.met, r.missed, r.failed) for r in b.rows
                ]
                assert [r.interrupted for r in a.rows] == [r.interrupted for r in b.rows]


def test_due_counts_planned_airings_from_the_queue(seeded_db: App) -> None:
    now = datetime(2023, 4, 11, 8, 0, tzinfo=ZONE)
    ids = store_log(seeded_db, [row for row in LOG if row[0] < now.date()])
    with seeded_db.tx() as s:
        station = find_station(s, "phu-thu")
        bulletin_id, revision_id = s.execute(
            select(BulletinRow.id, RevisionRow.id)
            .join(RevisionRow, RevisionRow.bulletin_id == BulletinRow.id)
            .join(CampaignRow, CampaignRow.id == BulletinRow.campaign_id)
            .where(CampaignRow.code == CAMPAIGN, RevisionRow.approval == "approved")
            .limit(1)
        ).one()

        def airing(day: int, **extra: object) -> AiringRow:
            start = datetime(2023, 4, day, 17, 0, tzinfo=ZONE)
            return AiringRow(
                station_id=station.id,
                session_code="chieu",
                planned_start=start,
                bulletin_id=bulletin_id,
                revision_id=revision_id,
                queued_by="hung",
                queued_at=now,
                **extra,
            )

        kept, logged = airing(12), airing(13)
        s.add_all([kept, logged, airing(14, cancelled_at=now, cancelled_by="hung")])
        s.flush()
        done = entry(date(2023, 4, 10), M, 0, 60)  # an as-run row for the airing: no longer planned
        done = AsRunEntry(**{**done.__dict__, "airing_id": logged.id})
        airlog.append(s, station.id, done, recorded_by="daemon", now=now)
        assert reporting.planned_airings(s, station, now) == {CAMPAIGN: [kept.planned_start]}
        items = reporting.due_items(s, station, now=now)
    mine = {
        (i.reason, i.airings, i.target_airings, i.needed, i.planned, i.at_risk)
        for i in items
        if i.campaign_code == CAMPAIGN
    }
    # This week: 0 of 1 aired, 1 planned. April: 2 of 4 aired, 1 planned → at risk. Gap: last airing 5 April.
    assert mine == {("week", 0, 1, 1, 1, False), ("month", 2, 4, 2, 1, True), ("gap", 0, 1, 1, 1, False)}
    assert {i.campaign_code for i in items} >= {"ma-tuy-2023", "hiv-aids-2023"}
    assert ids


def test_letterhead_comes_from_the_station_and_the_leader(seeded_db: App) -> None:
    with seeded_db.tx() as s:
        station = find_station(s, "phu-thu")
        head = documents.letterhead(s, station, issued_on=date(2023, 5, 2), number="12")
    assert (head.issuing_body, head.place, head.signer_name, head.number) == (
        "PHƯỜNG PHÚ THỨ",
        "Phú Thứ",
        "Vũ Văn Khôi",
        "12",
    )
    assert documents.place_from_ward("Xã An Phụ") == "An Phụ"


def test_the_weekly_programme_log_applies_corrections(seeded_db: App) -> None:
    ids = store_log(seeded_db, LOG)
    with seeded_db.tx() as s:
        reporting.correct(
            s, ids[date(2023, 4, 5)], INTR, reason="Loa cụm 3 hỏng", actor="hung", now=NOW, played_s=20
        )
        station = find_station(s, "phu-thu")
        doc = documents.programme_log_document(s, station, date(2023, 4, 6), now=NOW)
        count = s.scalar(select(AsRunRow.id).order_by(AsRunRow.id.desc()).limit(1))
    assert (doc.week.start, doc.week.end) == (date(2023, 4, 3), date(2023, 4, 9))
    assert [(r.actual_start or r.planned_start, r.outcome, r.played_s) for r in doc.records] == [
        (datetime(2023, 4, 3, 6, 0, 1, tzinfo=ZONE), C, 60.0),
        (datetime(2023, 4, 5, 6, 0, 1, tzinfo=ZONE), INTR, 20.0),
    ]
    assert count is not None


def test_a_range_after_today_is_a_clear_error(seeded_db: App) -> None:
    with Session(seeded_db.engine) as s:
        station = find_station(s, "phu-thu")
        with pytest.raises(InputError, match="Khoảng báo cáo trống"):
            reporting.compliance_reports(
                s, station, [CAMPAIGN], PeriodKind.WEEK, now=NOW, first=date(2023, 6, 1)
            )
