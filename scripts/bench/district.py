"""Benchmark: a district server on PostgreSQL with many wards' forwarded logs, against plain SQL peers.

Run: .venv/bin/python scripts/bench/district.py [--stations 200] [--years 3] [--per-day 4.6] [--syncing 30]
Builds a private PostgreSQL server (tests/pg.py), a district database with `--stations` wards (one
campaign each, with targets) and about 1,000,000 forwarded as-run rows (200 × 3 years × 4.6 a day),
hash-chained per ward exactly as a station forwards them, loaded with COPY. Then, best of a few warm runs:

* the district's wards × campaigns table for this month (services.district_intake.compliance_table),
  against a plain `SELECT station_id, campaign_code, count(*), sum(played_ms) ... GROUP BY` over the
  forwarded rows of the same campaigns (the peer);
* one ward's chain checked at the district (district_intake.verify_forwarded), against reading the same
  rows and columns through SQLAlchemy (the peer).

Sync throughput: `--syncing` station homes (SQLite, each with `--backlog` rows not yet forwarded) run
`broadcaster sync` at once against a real `broadcaster web` server on the same database; printed: rows
per second, and p50/p99 of a probe request (the head of a ward) made throughout, beside the same probe
on the idle server (the peer). Goal: each ratio of the first two ≤ 3×.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from pg import postgres_server
from report_scale import best

from broadcaster import airlog
from broadcaster.app import App, build_app
from broadcaster.config import load_config
from broadcaster.domain import AsRunEntry, Outcome, Trigger
from broadcaster.services import district_intake, forwarding, users, web_auth
from broadcaster.store.models import CampaignRow, ForwardedAsRunRow, StationRow, TargetRow

BIN = str(Path(sys.executable).with_name("broadcaster"))
CAMPAIGN = "ma-tuy"
OUTCOMES = ["completed"] * 14 + ["interrupted", "interrupted", "missed", "failed", "skipped"]
COLUMNS = [
    "station_id",
    "seq",
    "prev_hash",
    "row_hash",
    "content",
    "outcome",
    "trigger",
    "campaign_code",
    "title",
    "planned_start",
    "actual_start",
    "played_ms",
    "clip_ms",
    "station_row_id",
    "corrects_id",
    "received_at",
]


def env_for(home: Path, url: str | None = None) -> dict[str, str]:
    """A clean environment for an App or a `broadcaster` process on `home` (and the database `url`)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")}
    env |= {"BROADCASTER_HOME": str(home), "BROADCASTER_SPEECH_ENGINES": "espeak"}
    env |= {"BROADCASTER_PLAYOUT_PLAYER": "file"}
    if url:
        env["BROADCASTER_DATABASE_URL"] = url
    return env


def open_app(home: Path, url: str | None = None) -> App:
    """An App built in this process with the environment `env_for` gives."""
    for name in [n for n in os.environ if n.startswith("BROADCASTER_")]:
        del os.environ[name]
    os.environ.update({k: v for k, v in env_for(home, url).items() if k.startswith("BROADCASTER_")})
    app = build_app(load_config())
    app.init()
    return app


def build(
    app: App, stations: int, first: date, days: int, per_day: float, seed: int = 1, corrected: float = 0.0
) -> int:
    """Wards with one campaign each, then their forwarded rows, chained per ward, loaded with COPY.

    `corrected`: the share of rows followed by a correction (to missed) as the next link of the chain.
    """
    rng = random.Random(seed)
    with app.tx() as s:
        for n in range(stations):
            st = StationRow(code=f"p{n:03d}", name=f"Đài phường {n}", timezone="Asia/Ho_Chi_Minh")
            s.add(st)
            s.flush()
            camp = CampaignRow(
                station_id=st.id,
                code=CAMPAIGN,
                title="Phòng, chống ma túy",
                period_start=first,
                period_end=first + timedelta(days=days + 60),
            )
            s.add(camp)
            s.flush()
            s.add(
                TargetRow(
                    campaign_id=camp.id, min_airings_per_week=1, min_airings_per_month=4, max_gap_days=7
                )
            )
        ids = list(s.scalars(select(StationRow.id).order_by(StationRow.id)))
    per_station = int(days * per_day)
    raw = app.engine.raw_connection()
    total = 0
    heads: list[tuple[int, int, str]] = []
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY forwarded_as_run ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for station_id in ids:
                prev = airlog.GENESIS
                seq = 0
                for n in range(1, per_station + 1):
                    day = first + timedelta(days=(n - 1) * days // per_station)
                    start = datetime(day.year, day.month, day.day, 23 if n % 2 else 10, tzinfo=UTC)
                    outcome = rng.choice(OUTCOMES)
                    clip = rng.choice((45_000, 60_000, 90_000))
                    played = (
                        clip if outcome == "completed" else (clip // 3 if outcome == "interrupted" else 0)
                    )
                    started = outcome in ("completed", "interrupted")
                    actual = start + timedelta(milliseconds=250) if started else None
                    links: list[tuple[str, int, int | None]] = [(outcome, played, None)]
                    if corrected and rng.random() < corrected:  # its times kept (airlog.correction_entry)
                        links.append(("missed", 0, seq + 1))  # the row's own id at the station: its seq
                    for link in links:
                        seq += 1
                        prev = _link(copy, station_id, seq, prev, start, actual, clip, *link)
                        total += 1
                heads.append((station_id, seq, prev))
        for station_id, rows, head in heads:
            cursor.execute(
                "INSERT INTO forward_state (station_id, rows, head_hash, broken_reason)"
                " VALUES (%s, %s, %s, '')",
                (station_id, rows, head),
            )
        raw.commit()
        cursor.execute("ANALYZE forwarded_as_run")
        raw.commit()
    finally:
        raw.close()
    return total


def _link(
    copy: Any,
    station_id: int,
    seq: int,
    prev: str,
    start: datetime,
    actual: datetime | None,
    clip: int,
    outcome: str,
    played: int,
    corrects: int | None,
) -> str:
    """Write one forwarded row, hashed as the station hashed it; its hash (the next row's prev)."""
    values: dict[str, Any] = dict.fromkeys(airlog.HASHED_FIELDS)
    values.update(
        seq=seq,
        station_id=7,
        corrects_id=corrects,
        planned_start=start,
        actual_start=actual,
        actual_end=actual + timedelta(milliseconds=played) if actual else None,
        start_error_ms=250 if actual else None,
        played_ms=played,
        clip_ms=clip,
        outcome=outcome,
        trigger="schedule",
        priority="normal",
        campaign_code=CAMPAIGN,
        title=f"Bản tin số {seq % 97}",
        player="pacat",
        note="",
        recorded_by="daemon",
        recorded_at=start + timedelta(minutes=20),
    )
    content = airlog.canonical_content(values)
    row_hash = airlog.content_digest(prev, content)
    row = (station_id, seq, prev, row_hash, content, outcome, "schedule", CAMPAIGN, values["title"])
    copy.write_row((*row, start, actual, played, clip, seq, corrects, start + timedelta(hours=1)))
    return row_hash


def time_queries(app: App, now: datetime, repeat: int) -> None:
    """The wards × campaigns table and one ward's verify, each beside its plain SQL peer."""
    with app.tx() as s:
        users.add_user(s, "tra", "inspector", "Lê Thị Tra", actor="bench", now=now)
    f = ForwardedAsRunRow
    with app.tx() as s:
        rows = s.scalar(select(func.count(f.id))) or 0
        stations = s.scalar(select(func.count(StationRow.id))) or 0
        station_id = 1
        station_rows = s.scalar(select(func.count(f.id)).where(f.station_id == station_id)) or 0

        def plain_aggregate() -> object:
            q = select(f.station_id, f.campaign_code, func.count(), func.sum(f.played_ms))
            q = q.where(f.campaign_code == CAMPAIGN).group_by(f.station_id, f.campaign_code)
            return s.execute(q).all()

        def table() -> object:
            cells = district_intake.compliance_table(s, actor="tra", now=now)
            assert len(cells) == stations and all(c.row is not None for c in cells)
            return cells

        def read_rows() -> object:
            q = (
                select(f.seq, f.prev_hash, f.row_hash, f.content)
                .where(f.station_id == station_id)
                .order_by(f.seq)
            )
            return s.execute(q).all()

        def verify() -> object:
            result = district_intake.verify_forwarded(s, station_id)
            assert result.problem is None and result.rows == station_rows, result.problem
            return result

        t_sql, t_table = best(plain_aggregate, repeat), best(table, repeat)
        t_read, t_verify = best(read_rows, repeat), best(verify, repeat)
    print(f"district table: {stations} wards × 1 campaign, this month, over {rows:,} forwarded rows:")
    print(f"  plain SQL count/sum by ward (peer) {t_sql * 1000:8.1f} ms")
    ratio = t_table / t_sql
    print(f"  wards × campaigns compliance       {t_table * 1000:8.1f} ms   ratio {ratio:5.2f}× (goal ≤ 3×)")
    print(f"one ward's chain at the district, {station_rows:,} rows:")
    print(f"  read the rows (peer)               {t_read * 1000:8.1f} ms")
    ratio = t_verify / t_read
    print(f"  verify the chain                   {t_verify * 1000:8.1f} ms   ratio {ratio:5.2f}× (goal ≤ 3×)")
    print(f"(best of {repeat} warm runs each)")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def time_sync(app: App, folder: Path, url: str, syncing: int, backlog: int, now: datetime) -> None:
    """`syncing` stations push `backlog` rows each at once to a real `broadcaster web`; rows/s and latency."""
    import requests

    with app.tx() as s:
        users.add_user(s, "quan", "admin", "Trần Văn Quân", actor="bench", now=now)
        codes = [f"s{n:02d}" for n in range(syncing)]
        for code in codes:
            s.add(StationRow(code=code, name=f"Đài gửi {code}", timezone="Asia/Ho_Chi_Minh"))
        s.flush()
        tokens = {
            c: web_auth.create_api_token(s, actor="quan", name=c, now=now, station_code=c).token
            for c in codes
        }
        probe_token = web_auth.create_api_token(
            s, actor="quan", name="probe", now=now, station_code="p000"
        ).token
    port = _free_port()
    district_home = Path(str(app.config.home))
    server = subprocess.Popen(
        [BIN, "web", "--port", str(port)],
        env=env_for(district_home, url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    homes = []
    try:
        for code in codes:  # each ward's PC: its own SQLite home with rows not yet forwarded
            home = folder / code
            ward = open_app(home)
            with ward.tx() as s:
                st = StationRow(code=code, name=f"Đài gửi {code}", timezone="Asia/Ho_Chi_Minh")
                s.add(st)
                s.flush()
                for n in range(backlog):
                    start = now - timedelta(days=7) + timedelta(minutes=140 * n)
                    entry = AsRunEntry(
                        Outcome.COMPLETED,
                        Trigger.SCHEDULE,
                        planned_start=start,
                        actual_start=start,
                        actual_end=start + timedelta(seconds=60),
                        played_ms=60_000,
                        clip_ms=60_000,
                        campaign_code=CAMPAIGN,
                        title=f"Bản tin {n}",
                    )
                    airlog.append(s, st.id, entry, recorded_by="daemon", now=start)
            ward.engine.dispose()
            forwarding.save_link(home, base, tokens[code])
            homes.append(home)
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/dang-nhap", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, (
                server.stderr.read() if server.stderr else "server did not start"
            )
            time.sleep(0.2)
        probe = requests.Session()
        probe.headers["Authorization"] = f"Bearer {probe_token}"

        def ask() -> float:
            t0 = time.perf_counter()
            assert (
                probe.get(f"{base}/api/district/head", params={"station": "p000"}, timeout=30).status_code
                == 200
            )
            return (time.perf_counter() - t0) * 1000

        idle = [ask() for _ in range(50)]
        busy: list[float] = []
        stop = threading.Event()

        def probing() -> None:
            while not stop.is_set():
                busy.append(ask())

        thread = threading.Thread(target=probing, daemon=True)
        thread.start()
        t0 = time.perf_counter()
        procs = [
            subprocess.Popen(
                [BIN, "sync"], env=env_for(h), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
            for h in homes
        ]
        outs = [p.communicate(timeout=600) for p in procs]
        took = time.perf_counter() - t0
        stop.set()
        thread.join(timeout=30)
        failed = [err for p, (_out, err) in zip(procs, outs, strict=True) if p.returncode != 0]
        assert not failed, failed[:3]
    finally:
        server.terminate()
        server.wait(timeout=30)
    with app.tx() as s:
        arrived = s.scalar(
            select(func.count(ForwardedAsRunRow.id))
            .join(StationRow, StationRow.id == ForwardedAsRunRow.station_id)
            .where(StationRow.code.in_(codes))
        )
    assert arrived == syncing * backlog, (arrived, syncing * backlog)
    print(f"sync: {syncing} stations × {backlog} rows pushed at once ({arrived:,} rows, each once):")
    print(f"  {arrived / took:,.0f} rows/s ({took:.1f} s in all, process start-up included)")
    for label, values in (("idle server (peer)", idle), ("during the sync", busy)):
        cut = statistics.quantiles(values, n=100)
        p50 = statistics.median(values)
        print(f"  probe request, {label:<18} p50 {p50:6.1f} ms  p99 {cut[98]:6.1f} ms  (n={len(values)})")


def main() -> None:
    """Build the district, time the table, the verify and the sync, print the ratios."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stations", type=int, default=200)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--per-day", type=float, default=4.6, help="forwarded rows per ward per day")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--syncing", type=int, default=30)
    parser.add_argument("--backlog", type=int, default=70, help="rows per syncing station (a week)")
    parser.add_argument("--corrected", type=float, default=0.0, help="share of rows corrected afterwards")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="district-bench-"))
    now = datetime(2026, 3, 20, 3, 0, tzinfo=UTC)
    days = int(args.years * 365)
    first = (now - timedelta(days=days)).date()
    try:
        with postgres_server() as server:
            name = "district_bench"
            admin = create_engine(server, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f"CREATE DATABASE {name}"))
            admin.dispose()
            url = server.replace("/postgres?", f"/{name}?")
            app = open_app(folder / "district", url)
            t0 = time.perf_counter()
            rows = build(app, args.stations, first, days, args.per_day, corrected=args.corrected)
            print(
                f"built {rows:,} forwarded rows for {args.stations} wards in {time.perf_counter() - t0:.0f} s"
            )
            time_queries(app, now, args.repeat)
            if args.syncing > 0:  # --syncing 0: the table and the verify only
                time_sync(app, folder, url, args.syncing, args.backlog, now)
            app.engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
