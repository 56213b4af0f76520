"""Compliance report and `log verify` on a large synthetic as-run log (SQLite), against plain SQL peers.

Builds N as-run rows (default 1,000,000) for 100 stations over three years, hash-chained per station
exactly as airlog.append would, bulk-inserted with executemany. Then times, best of a few warm runs:

* a monthly compliance report of one campaign code across every station
  (services.reporting.district_compliance), against a plain `SELECT count(*), sum(played_ms)` over the
  same rows;
* `airlog.verify` of one station's chain, against reading the same rows and columns (no hashing)
  through SQLAlchemy, and against a raw DB-API fetch of them (the floor).

Usage: .venv/bin/python scripts/bench/report_scale.py [--rows N] [--stations S] [--keep]
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from broadcaster import airlog
from broadcaster.reports.periods import PeriodKind
from broadcaster.services import reporting
from broadcaster.store import db
from broadcaster.store.models import AsRunRow, CampaignRow, StationRow, TargetRow

CAMPAIGNS = ("mai-dam", "ma-tuy", "hiv-aids", "mua-ban-nguoi")
FIRST_DAY = date(2023, 1, 1)
DAYS = 3 * 365
OUTCOMES = ["completed"] * 14 + ["interrupted", "interrupted", "missed", "failed", "skipped"]
NOW = datetime(2026, 1, 5, 3, 0, tzinfo=UTC)


def build(engine: Engine, rows: int, stations: int, seed: int = 1) -> None:
    """Stations with four campaigns each, then `rows` as-run rows chained per station."""
    rng = random.Random(seed)
    with db.transaction(db.session_factory(engine)) as s:
        for n in range(stations):
            st = StationRow(
                code=f"st-{n:03d}", name=f"Đài truyền thanh phường {n}", timezone="Asia/Ho_Chi_Minh"
            )
            s.add(st)
            s.flush()
            for code in CAMPAIGNS:
                camp = CampaignRow(
                    station_id=st.id,
                    code=code,
                    title=f"Chiến dịch {code}",
                    period_start=FIRST_DAY,
                    period_end=FIRST_DAY + timedelta(days=DAYS - 1),
                )
                s.add(camp)
                s.flush()
                s.add(
                    TargetRow(
                        campaign_id=camp.id, min_airings_per_week=1, min_airings_per_month=4, max_gap_days=7
                    )
                )
    table = AsRunRow.__table__
    per_station = rows // stations
    next_id = 1
    with engine.begin() as conn:
        for station_id in range(1, stations + 1):
            prev, batch = airlog.GENESIS, []
            # Spread the station's rows over three years, in time order, at 06:00 and 17:00 local.
            for seq in range(1, per_station + 1):
                day = FIRST_DAY + timedelta(days=(seq - 1) * DAYS // per_station)
                hour = 23 if seq % 2 else 10  # 06:00 next day / 17:00 local, in UTC
                start = datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC) + timedelta(
                    seconds=seq % 50
                )
                outcome = rng.choice(OUTCOMES)
                clip = rng.choice((45_000, 60_000, 90_000))
                played = clip if outcome == "completed" else (clip // 3 if outcome == "interrupted" else 0)
                started = outcome in ("completed", "interrupted")
                values: dict[str, Any] = {k: None for k in airlog.HASHED_FIELDS}
                values.update(
                    seq=seq,
                    station_id=station_id,
                    planned_start=start,
                    actual_start=start + timedelta(milliseconds=250) if started else None,
                    actual_end=start + timedelta(milliseconds=250 + played) if started else None,
                    start_error_ms=250 if started else None,
                    played_ms=played,
                    clip_ms=clip,
                    outcome=outcome,
                    trigger="schedule",
                    priority="normal",
                    campaign_code=CAMPAIGNS[rng.randrange(len(CAMPAIGNS))],
                    title=f"Bản tin số {seq % 97}",
                    sha256="ab" * 32,
                    player="file",
                    queued_by="hung",
                    approved_by="khoi",
                    note="",
                    recorded_by="daemon",
                    recorded_at=start + timedelta(minutes=20),
                )
                row_hash = airlog.row_digest(prev, values)
                batch.append({**values, "id": next_id, "prev_hash": prev, "row_hash": row_hash})
                prev, next_id = row_hash, next_id + 1
            conn.execute(insert(table), batch)


def best(func_: Callable[[], object], repeat: int) -> float:
    """Best wall time of `repeat` runs after one warm-up run."""
    func_()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        func_()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    """Build the log, time the report and verify against their peers, print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--stations", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the temporary database")
    parser.add_argument("--dir", type=Path, help="keep the database here and reuse it when it exists")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp(prefix="report-scale-"))
    existing = (folder / "bench.db").exists()
    engine = db.make_engine(f"sqlite:///{folder / 'bench.db'}")
    try:
        if existing:
            print(f"reusing {folder / 'bench.db'}")
        else:
            db.migrate(engine)
            t0 = time.perf_counter()
            build(engine, args.rows, args.stations)
            took = time.perf_counter() - t0
            print(f"built {args.rows:,} rows for {args.stations} stations in {took:.1f} s ({folder})")
        campaign, station_id = CAMPAIGNS[0], 1
        with Session(engine) as s:
            campaign_rows = s.scalar(select(func.count()).where(AsRunRow.campaign_code == campaign))
            station_rows = airlog.count_rows(s, station_id)

            def plain_aggregate() -> object:
                q = select(func.count(), func.sum(AsRunRow.played_ms)).where(
                    AsRunRow.campaign_code == campaign
                )
                return s.execute(q).one()

            def report() -> object:
                return reporting.district_compliance(s, campaign, PeriodKind.MONTH, now=NOW)

            def read_rows() -> object:
                cols = [getattr(AsRunRow, name) for name in airlog.VERIFY_COLUMNS]
                q = select(*cols).where(AsRunRow.station_id == station_id).order_by(AsRunRow.seq)
                return [row._asdict() for row in s.connection().execute(q.execution_options(yield_per=5000))]

            def read_raw() -> object:
                sql = (
                    f"SELECT {', '.join(airlog.VERIFY_COLUMNS)} FROM as_run WHERE station_id = ? ORDER BY seq"
                )
                return s.connection().exec_driver_sql(sql, (station_id,)).fetchall()

            def verify() -> object:
                result = airlog.verify(s, station_id)
                assert result.ok, result.problem
                return result

            reports = report()
            assert isinstance(reports, list) and len(reports) == args.stations
            t_sql, t_report = best(plain_aggregate, args.repeat), best(report, args.repeat)
            t_read, t_verify = best(read_rows, args.repeat), best(verify, args.repeat)
            t_raw = best(read_raw, args.repeat)
        months = len(reports[0][1].rows)
        print(
            f"monthly report, campaign {campaign!r}, {args.stations} stations × {months} months,",
            f"{campaign_rows:,} rows:",
        )
        print(f"  plain SQL count/sum (peer) {t_sql * 1000:8.1f} ms")
        print(
            f"  compliance report          {t_report * 1000:8.1f} ms   ratio {t_report / t_sql:5.2f}×",
            "(goal ≤ 3×)",
        )
        print(f"log verify, station {station_id}, {station_rows:,} rows:")
        print(f"  read the rows (peer)       {t_read * 1000:8.1f} ms")
        print(
            f"  verify the chain           {t_verify * 1000:8.1f} ms   ratio {t_verify / t_read:5.2f}×",
            "(goal ≤ 3×)",
        )
        print(f"  read them raw (DB-API)     {t_raw * 1000:8.1f} ms   verify / raw {t_verify / t_raw:5.2f}×")
        print(f"(best of {args.repeat} warm runs each)")
    finally:
        engine.dispose()
        if not (args.keep or args.dir):
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
