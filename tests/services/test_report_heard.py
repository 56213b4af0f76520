"""Compliance counting only the airings heard: the SQL aggregate, the pure report and the CLI agree.

Verdicts are added beside the as-run rows (never edits of them); a correction of a heard row stays heard.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from test_reporting import CAMPAIGN, NOW, ZONE, C, M, entry, random_log, seeded_db

from broadcaster import airlog
from broadcaster.app import App
from broadcaster.domain import OffAir
from broadcaster.errors import AirLogError
from broadcaster.reports.compliance import CountingRules, compliance_report
from broadcaster.reports.periods import PeriodKind
from broadcaster.services import reporting
from broadcaster.services.offair import record_verdicts
from broadcaster.services.stations import campaigns_domain, find_station
from broadcaster.store.models import AsRunRow, OffAirRow

__all__ = ["seeded_db"]  # the fixture, shared with test_reporting

HEARD_ONLY = CountingRules(heard_only=True)
BIN = str(Path(sys.executable).with_name("broadcaster"))


def add_verdict(s: Session, row: AsRunRow, verdict: OffAir, at: datetime) -> None:
    """The ear's verdict on one row, as the daemon's writer adds it."""
    s.add(
        OffAirRow(
            station_id=row.station_id,
            as_run_id=row.id,
            verdict=verdict.value,
            similarity=0.97 if verdict is OffAir.HEARD else 0.1,
            dead_air_ms=6000 if verdict is OffAir.SILENT else 0,
            delay_ms=40,
            detected_at=at,
            recording="offair/x.opus",
            recorded_at=at,
        )
    )


def test_heard_only_counts_the_heard_in_sql_as_in_the_pure_report(seeded_db: App) -> None:
    now = datetime(2023, 8, 20, 9, 0, tzinfo=ZONE)
    rng = random.Random(11)
    with seeded_db.tx() as s:
        station = find_station(s, "phu-thu")
        rows = [
            airlog.append(s, station.id, entry(d, o, p, c, code), recorded_by="daemon", now=now)
            for d, o, p, c, code in random_log(5)
        ]
        heard: set[int] = set()
        for row in rows:
            choice = rng.choice([OffAir.HEARD, OffAir.HEARD, OffAir.SILENT, OffAir.DIFFERENT, None])
            if choice is not None and row.outcome in ("completed", "interrupted"):
                add_verdict(s, row, choice, now)
                heard |= {row.id} if choice is OffAir.HEARD else set()
        s.flush()
        for row in rows[::13]:  # a correction keeps the verdict of the row it corrects
            reporting.correct(s, row.id, C, reason="đối chiếu sổ trực", actor="hung", now=now)
    with seeded_db.tx() as s:
        station = find_station(s, "phu-thu")
        records = reporting.load_records(s, station)
        assert {r.row_id for r in records if r.heard is OffAir.HEARD} - heard  # corrections carry it
        campaigns = campaigns_domain(s, station.id)
        for kind in (PeriodKind.WEEK, PeriodKind.MONTH):
            every = reporting.compliance_reports(s, station, None, kind, now=now)
            fast = reporting.compliance_reports(s, station, None, kind, now=now, rules=HEARD_ONLY)
            pure = [
                compliance_report(c, records, kind, now=now, zone=ZONE, rules=HEARD_ONLY) for c in campaigns
            ]
            for a, b, all_rows in zip(fast, pure, every, strict=True):
                assert [r.airings for r in a.rows] == [r.airings for r in b.rows]
                assert [r.minutes for r in a.rows] == pytest.approx([r.minutes for r in b.rows], abs=0.011)
                # Only airings and minutes change: the missed, failed and interrupted columns do not.
                assert [(r.missed, r.failed, r.interrupted) for r in a.rows] == [
                    (r.missed, r.failed, r.interrupted) for r in all_rows.rows
                ]
                assert sum(r.airings for r in a.rows) <= sum(r.airings for r in all_rows.rows)
            total = sum(r.airings for rep in every for r in rep.rows)
            assert 0 < sum(r.airings for rep in fast for r in rep.rows) < total


def test_a_verdict_is_written_once_and_never_changed(seeded_db: App) -> None:
    day = date(2023, 4, 3)
    with seeded_db.tx() as s:
        station = find_station(s, "phu-thu")
        row = airlog.append(s, station.id, entry(day, C, 60, 60), recorded_by="daemon", now=NOW)
        row_id = row.id
    with seeded_db.tx() as s:
        # The writer finds the row by its airing: a row without one is left to the operator.
        assert record_verdicts(s, station.id, {"items": []}, recording="", now=NOW)
        add_verdict(s, s.get_one(AsRunRow, row_id), OffAir.SILENT, NOW)
    with pytest.raises(AirLogError, match="không được sửa"), seeded_db.tx() as s:
        s.query(OffAirRow).one().verdict = "heard"
    with pytest.raises(AirLogError, match="không được xóa"), seeded_db.tx() as s:
        s.delete(s.query(OffAirRow).one())
    with seeded_db.tx() as s:
        assert s.query(OffAirRow).one().verdict == "silent"
        assert airlog.verify(s, station.id).ok  # the chain is untouched by the new fact


def test_the_cli_counts_heard_only(seeded_db: App) -> None:
    with seeded_db.tx() as s:
        station = find_station(s, "phu-thu")
        first = airlog.append(s, station.id, entry(date(2023, 4, 3), C, 60, 60), recorded_by="d", now=NOW)
        airlog.append(s, station.id, entry(date(2023, 4, 5), C, 60, 60), recorded_by="d", now=NOW)
        airlog.append(s, station.id, entry(date(2023, 4, 6), M, 0, 60), recorded_by="d", now=NOW)
        add_verdict(s, first, OffAir.HEARD, NOW)
    args = [BIN, "report", "--campaign", CAMPAIGN, "--from", "2023-04-01", "--to", "2023-04-30"]
    env = {**os.environ, "BROADCASTER_DATABASE_URL": str(seeded_db.engine.url.render_as_string(False))}

    def april(*extra: str) -> tuple[int, float, int]:
        done = subprocess.run(
            [*args, "--format", "json", *extra],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        [report] = json.loads(done.stdout)["reports"]
        [row] = [r for r in report["rows"] if r["label"] == "Tháng 04/2023"]
        return row["airings"], row["minutes"], row["missed"]

    assert april() == (2, 2.0, 1)
    assert april("--heard-only") == (1, 1.0, 1)
    table = subprocess.run(
        [*args, "--heard-only"], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert table.returncode == 0, table.stderr
    assert "Tháng 04/2023" in table.stdout


def test_the_heartbeat_to_the_district_names_silence_and_mismatch(seeded_db: App, tmp_path: Path) -> None:
    from broadcaster.services.district_inbox import station_beat

    with seeded_db.tx() as s:
        station = find_station(s, "phu-thu")
        for n, verdict in enumerate((OffAir.SILENT, OffAir.SILENT, OffAir.DIFFERENT, OffAir.HEARD)):
            row = airlog.append(
                s, station.id, entry(date(2023, 4, 20 + n), C, 60, 60), recorded_by="d", now=NOW
            )
            add_verdict(s, row, verdict, NOW - timedelta(hours=n))
        s.flush()
        beat = station_beat(s, station, home=tmp_path, now=NOW, clock_offset_s=0.0)
    assert "Mất tiếng trên đường ra loa: 2 lượt trong 24 giờ qua" in beat["alerts"]
    assert "Đường ra loa phát nội dung khác với chương trình: 1 lượt trong 24 giờ qua" in beat["alerts"]
    assert not any("nghe thấy" in a for a in beat["alerts"])
