"""The daemon in real time: on time, re-sync, repaired audio, downtime, one per station, emergency, kill."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from pulse import PulseServer, Recorder, decode_mono, loud_span, similarity
from sqlalchemy import select

from broadcaster.app import App, build_app
from broadcaster.clock import Clock, FakeClock
from broadcaster.config import load_config
from broadcaster.domain import SessionOccurrence
from broadcaster.errors import PlayoutError
from broadcaster.files import file_sha256
from broadcaster.playout.daemon import Daemon
from broadcaster.playout.journal import ON_AIR, OnAirJournal
from broadcaster.schedules import load_schedule
from broadcaster.services import bulletins, media, queue, stations
from broadcaster.store.models import AiringRow, AsRunRow, StationRow

LONG_TEXT = (
    "Ủy ban nhân dân phường thông báo: từ ngày mai, các khu dân cư tổ chức tổng vệ sinh môi trường, "
    "khơi thông cống rãnh, diệt bọ gậy phòng chống sốt xuất huyết; đề nghị bà con tham gia đầy đủ."
)

STATION_TOML = f"""
[station]
code = "thu"
name = "Đài thử"
timezone = "Asia/Ho_Chi_Minh"
ident = "Đài thử."
allowed_hours = ["00:00-24:00"]

[[session]]
code = "sang"
name = "Buổi sáng"
weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
start = "06:00"
max_minutes = 15

[[campaign]]
code = "thu-nghiem"
title = "Chiến dịch thử"
plan_ref = "Kế hoạch thử"
period_start = 2026-01-01
period_end = 2030-12-31
topics = ["Thử"]

[[user]]
name = "lan"
full_name = "Nguyễn Thị Lan"
role = "officer"

[[user]]
name = "khoi"
full_name = "Vũ Văn Khôi"
role = "leader"

[[user]]
name = "hung"
full_name = "Phạm Văn Hùng"
role = "operator"

[[bulletin]]
key = "tin-ngan"
campaign = "thu-nghiem"
title = "Tin ngắn"
agency = "Công an phường"
approved_by = "khoi"
text = "Bà con chú ý giữ gìn vệ sinh."

[[bulletin]]
key = "tin-hai"
campaign = "thu-nghiem"
title = "Tin hai"
agency = "Trạm y tế phường"
approved_by = "khoi"
text = "Trạm y tế phường thông báo lịch tiêm chủng."

[[bulletin]]
key = "tin-dai"
campaign = "thu-nghiem"
title = "Tin dài"
agency = "Ủy ban nhân dân phường"
approved_by = "khoi"
text = "{LONG_TEXT}"

[[bulletin]]
key = "tin-khan"
campaign = "thu-nghiem"
title = "Tin khẩn"
agency = "Ban chỉ huy phòng chống thiên tai"
approved_by = "khoi"
text = "Khẩn cấp: mưa lớn, bà con đề phòng ngập lụt."
"""

SHORT, SECOND, LONG, URGENT = 1, 2, 3, 4
BIN = str(Path(sys.executable).with_name("broadcaster"))

# Tiny timing so the tests run in seconds: prepare 3 s ahead, 10 s grace, re-sync twice a second.
FAST_ENV = {
    "BROADCASTER_SPEECH_ENGINES": "espeak",
    "BROADCASTER_PLAYOUT_PLAYER": "file",
    "BROADCASTER_PROGRAMME_USE_SIGNATURE": "0",
    "BROADCASTER_PROGRAMME_CLOSING": "Hết.",
    "BROADCASTER_PROGRAMME_GAP_S": "0.3",
    "BROADCASTER_PLAYOUT_LEAD_MINUTES": "0.05",
    "BROADCASTER_PLAYOUT_GRACE_S": "10",
    "BROADCASTER_PLAYOUT_RESYNC_S": "0.5",
}


def make_app(monkeypatch: pytest.MonkeyPatch, home: Path, clock: Clock | None = None, **extra: str) -> App:
    """An initialised App on the tiny station with fast daemon timing."""
    for name, value in {**FAST_ENV, **extra}.items():
        monkeypatch.setenv(name, value)
    app = build_app(load_config(), clock)
    app.init()
    toml = home / "thu.toml"
    toml.write_text(STATION_TOML, encoding="utf-8")
    with app.tx() as s:
        stations.import_schedule(s, load_schedule(toml), actor="test", now=app.clock.now(), speak=app.speak)
    return app


@pytest.fixture
def fast_app(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    """The tiny station with the file sink."""
    application = make_app(monkeypatch, clean_env)
    yield application
    application.engine.dispose()


def station(app: App) -> StationRow:
    """The tiny station's row."""
    with app.tx() as s:
        return stations.find_station(s, "thu")


def queue_at(app: App, bulletin_ids: list[int], in_s: float, code: str = "thu") -> list[int]:
    """Render the bulletins, then queue them into an ad-hoc session `in_s` seconds from now."""
    with app.tx() as s:
        row = stations.find_station(s, "thu")
        domain = stations.station_domain(s, row)
        shape = app.programme_shape(s, row)
        for b in bulletin_ids:  # rendering first, so the daemon gets all of in_s to build the programme
            app.duration_of(s)(bulletins.approved_revision(bulletins.get(s, b)))
    with app.tx() as s:
        occ = SessionOccurrence(code, "Buổi thử", soon(in_s), timedelta(minutes=15))
        return [
            queue.queue(
                s,
                row,
                domain,
                occ,
                b,
                actor="hung",
                now=app.clock.now(),
                lengths=queue.Lengths(shape, app.duration_of(s)),
            ).id
            for b in bulletin_ids
        ]


def play_now(app: App, bulletin_id: int, *, emergency: bool) -> int:
    """The operator's play-now, as the CLI calls it."""
    with app.tx() as s:
        row = stations.find_station(s, "thu")
        return queue.play_now(
            s,
            row,
            stations.station_domain(s, row),
            bulletin_id,
            actor="hung",
            now=app.clock.now(),
            lengths=app.lengths(s, row),
            emergency=emergency,
        ).id


def rows(app: App) -> list[AsRunRow]:
    """Every as-run row, in log order."""
    with app.tx() as s:
        found = list(s.scalars(select(AsRunRow).order_by(AsRunRow.seq)))
        s.expunge_all()
        return found


def soon(seconds: float) -> datetime:
    """A whole-millisecond instant `seconds` from now (UTC)."""
    now = datetime.now().astimezone()
    return (now + timedelta(seconds=seconds)).replace(microsecond=(now.microsecond // 1000) * 1000)


def run_until_idle(daemon: Daemon, timeout: float = 40) -> None:
    """Start the daemon, let it air everything scheduled, stop it."""
    daemon.start()
    try:
        time.sleep(0.3)
        assert daemon.wait_idle(timeout)
    finally:
        daemon.stop()


def start_error_s(row: AsRunRow) -> float:
    """Seconds between the programme's planned and actual start (item offsets cancel out)."""
    assert row.actual_start is not None and row.planned_start is not None
    return (row.actual_start - row.planned_start).total_seconds()


def test_airs_on_time_and_picks_up_a_plan_change(fast_app: App) -> None:
    first = queue_at(fast_app, [SHORT], 5)
    daemon = fast_app.daemon(station(fast_app))
    daemon.start()
    try:
        time.sleep(1.0)
        # Queued while the daemon runs: the next re-sync (0.5 s) must schedule it.
        second = queue_at(fast_app, [SECOND], 11, code="them")  # after the first programme ends
        assert daemon.wait_idle(40)
    finally:
        daemon.stop()

    logged = {r.airing_id: r for r in rows(fast_app)}
    assert set(logged) == {*first, *second}
    for row in logged.values():
        assert row.outcome == "completed" and row.trigger == "schedule" and row.player == "file"
        assert row.played_ms == row.clip_ms > 1000
        assert abs(start_error_s(row)) < 0.05
    aired = sorted(fast_app.config.aired_dir.iterdir())
    assert len(aired) == 2 and all(p.stat().st_size > 10_000 for p in aired)


def test_damaged_render_and_programme_are_rebuilt_before_air(fast_app: App) -> None:
    [airing] = queue_at(fast_app, [SHORT], 6)
    with fast_app.tx() as s:
        rev = bulletins.approved_revision(bulletins.get(s, SHORT))
        render = media.current_render(s, rev)
        assert render is not None
        render_path, old_sha = Path(render.path), render.sha256
    render_path.write_bytes(b"not audio any more")  # damaged after it was queued
    daemon = fast_app.daemon(station(fast_app))
    daemon.start()
    try:
        programmes = fast_app.config.media_dir / "programmes"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(programmes.glob("thu-*")):
            time.sleep(0.02)
        [built] = list(programmes.glob("thu-*"))
        time.sleep(0.1)
        built.write_bytes(b"\0" * 1000)  # the assembled programme is damaged after preparing, before air
        assert daemon.wait_idle(40)
    finally:
        daemon.stop()

    [row] = rows(fast_app)
    assert row.airing_id == airing and row.outcome == "completed"
    assert row.sha256 == old_sha  # re-rendered from the same text: the same audio again
    assert file_sha256(render_path) == old_sha
    [aired] = list(fast_app.config.aired_dir.iterdir())
    assert aired.stat().st_size > 10_000


def test_downtime_is_logged_as_missed_and_a_second_daemon_refuses(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast_app = make_app(monkeypatch, clean_env, BROADCASTER_PLAYOUT_GRACE_S="1")
    missed = queue_at(fast_app, [SHORT, SECOND], 1)
    time.sleep(2.5)  # the station is off at the set time and past the 1 s grace
    row = station(fast_app)
    daemon = fast_app.daemon(row)
    daemon.start()
    try:
        other = fast_app.daemon(row)
        with pytest.raises(PlayoutError) as refused:
            other.start()
        assert "PID" in refused.value.message and str(os.getpid()) in refused.value.message
        assert daemon.wait_idle(10)
    finally:
        daemon.stop()

    logged = rows(fast_app)
    fast_app.engine.dispose()
    assert [r.airing_id for r in logged] == missed
    assert all(r.outcome == "missed" and r.played_ms == 0 and r.actual_start is None for r in logged)
    assert all("không chạy" in r.note for r in logged)


@pytest.mark.slow
def test_emergency_cuts_the_programme_and_the_rest_resumes(fast_app: App) -> None:
    normal = queue_at(fast_app, [LONG, SECOND], 5)
    daemon = fast_app.daemon(station(fast_app))
    daemon.start()
    try:
        time.sleep(7.0)  # the long bulletin is on air
        emergency = play_now(fast_app, URGENT, emergency=True)
        time.sleep(2.0)
        assert daemon.wait_idle(60)
    finally:
        daemon.stop()

    logged = rows(fast_app)
    by_airing = {r.airing_id: r for r in logged}
    cut, skipped = by_airing[normal[0]], by_airing[normal[1]]
    assert cut.outcome == "interrupted" and 0 < cut.played_ms < cut.clip_ms
    assert cut.note == "bị cắt để phát tin khẩn cấp"
    assert skipped.outcome == "skipped" and skipped.played_ms == 0
    urgent = by_airing[emergency]
    assert urgent.outcome == "completed" and urgent.trigger == "emergency" and urgent.priority == "emergency"
    assert urgent.actual_start is not None and cut.actual_end is not None
    assert urgent.actual_start >= cut.actual_end
    # resume: both unfinished items air again afterwards, as a new programme, in their order
    resumed = [r for r in logged if r.airing_id not in {*normal, emergency}]
    assert [r.bulletin_id for r in resumed] == [LONG, SECOND]
    assert all(r.outcome == "completed" and r.actual_start > urgent.actual_start for r in resumed)  # type: ignore[operator]


def _wait_for(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.slow
def test_kill_mid_airing_then_restart_loses_no_row_and_sigterm_stops_cleanly(fast_app: App) -> None:
    [killed] = queue_at(fast_app, [LONG], 6)
    [after] = queue_at(fast_app, [SHORT], 16, code="sau")
    [cut] = queue_at(fast_app, [LONG], 21, code="cuoi")
    aired_dir = fast_app.config.aired_dir

    def aired() -> int:
        return len(list(aired_dir.glob("*.mp3"))) if aired_dir.exists() else 0

    first = subprocess.Popen([BIN, "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: aired() == 1, 20)
        second = subprocess.run([BIN, "run"], capture_output=True, text=True, timeout=60, check=False)
        assert second.returncode == 1
        assert second.stderr.strip().splitlines() == [second.stderr.strip()]
        assert second.stderr.startswith("Lỗi") and f"PID {first.pid}" in second.stderr
        journal = OnAirJournal(fast_app.config.home)
        with fast_app.tx() as s:
            planned_start = s.get_one(AiringRow, killed).planned_start
        record = journal.read(journal.path_for(planned_start))  # read only: the daemon owns the folder
        assert record.state == ON_AIR and record.items is not None and record.started_at is not None
        # Two seconds into the bulletin, well past the journal's first heartbeat inside it.
        kill_at = record.started_at + timedelta(seconds=record.items[0].spans[0][0] + 2.0)
        time.sleep(max(0.0, (kill_at - datetime.now(UTC)).total_seconds()))
    finally:
        first.kill()  # kill -9 while the long bulletin is on air
        first.communicate(timeout=20)
    restarted = subprocess.Popen([BIN, "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(lambda: aired() == 3, 40)
        time.sleep(1.5)
    finally:
        restarted.send_signal(signal.SIGTERM)  # mid-airing again, but a clean stop this time
        out, err = restarted.communicate(timeout=30)
    assert restarted.returncode == 0, err
    assert "Đã dừng trạm phát" in out and "Traceback" not in err

    logged = {r.airing_id: r for r in rows(fast_app)}
    assert len(rows(fast_app)) == 3 and set(logged) == {killed, after, cut}
    assert logged[killed].outcome == "interrupted" and logged[killed].played_ms > 0
    assert logged[killed].note == "trạm phát dừng đột ngột khi đang phát"
    assert logged[after].outcome == "completed"
    assert logged[cut].outcome == "interrupted" and 0 < logged[cut].played_ms < logged[cut].clip_ms
    assert logged[cut].note == "bị cắt khi đang phát"


@pytest.mark.pulse
def test_daemon_plays_to_a_real_sink_on_time(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, pulse_server: PulseServer, recorder: Recorder
) -> None:
    app = make_app(
        monkeypatch,
        clean_env,
        BROADCASTER_PLAYOUT_PLAYER="pacat",
        BROADCASTER_PLAYOUT_DEVICE=pulse_server.sink,
    )
    [airing] = queue_at(app, [SHORT], 8)
    with app.tx() as s:
        planned = s.get_one(AiringRow, airing).planned_start
    planned_mono = time.monotonic() - (datetime.now(UTC) - planned).total_seconds()
    run_until_idle(app.daemon(station(app)))
    time.sleep(0.2)  # the tail reaches the recorder
    recorded = recorder.stop()
    app.engine.dispose()

    [row] = rows(app)
    assert row.airing_id == airing and row.outcome == "completed" and row.player == "pacat"
    [programme] = list((app.config.media_dir / "programmes").glob("thu-*"))
    reference = decode_mono(programme)
    ref_first, ref_end = loud_span(reference)
    rec_first, rec_end = loud_span(recorded)
    # Intact to within 0.1 s (a busy second test worker can stretch the monitor's capture a few tens of
    # ms); what was heard is checked sample by sample just below.
    assert rec_end - rec_first == pytest.approx(ref_end - ref_first, abs=0.1 * 48000)
    window = recorded[max(0, rec_first - 4800) : rec_end + 4800].astype(np.float64)
    assert similarity(reference, window) >= 0.95
    onset = recorder.monotonic_of(rec_first) - ref_first / 48000 - planned_mono
    assert -0.03 <= onset <= 0.15


def test_programmes_waiting_for_the_output_go_on_air_one_after_another(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two programmes due while a long one plays: each takes the output in turn, never two at once
    (the first one's end used to free the output a second time, under the programme that took it)."""
    app = make_app(monkeypatch, clean_env, BROADCASTER_PLAYOUT_GRACE_S="60")
    try:
        first = queue_at(app, [LONG], 5, code="dai")
        waiting = queue_at(app, [SHORT], 6, code="cho1") + queue_at(app, [SECOND], 6.5, code="cho2")
        run_until_idle(app.daemon(station(app)), timeout=90)
        logged = rows(app)
    finally:
        app.engine.dispose()
    assert sorted(r.airing_id for r in logged) == sorted(first + waiting)
    assert all(r.outcome == "completed" for r in logged), [(r.outcome, r.note) for r in logged]
    spans = sorted((r.actual_start, r.actual_end) for r in logged if r.actual_start and r.actual_end)
    assert len(spans) == 3
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start >= end - timedelta(milliseconds=50), (start, end)


def test_a_daemon_built_with_a_fake_clock_airs_by_that_clock(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Planned, prepared, started and logged on the App's clock: by the wall clock this 2028 programme is
    more than a year away and would not air at all."""
    clock = FakeClock(datetime(2028, 3, 20, 6, 0, 0, tzinfo=UTC))
    app = make_app(monkeypatch, clean_env, clock)
    ticking = threading.Event()

    def tick() -> None:  # the fake clock moves at about real speed, in 5-ms steps
        while not ticking.wait(0.005):
            clock.advance(0.005)

    ticker = threading.Thread(target=tick, daemon=True)
    try:
        with app.tx() as s:
            row = stations.find_station(s, "thu")
            domain = stations.station_domain(s, row)
            planned = clock.now() + timedelta(seconds=2)
            occ = SessionOccurrence("gia", "Buổi thử", planned, timedelta(minutes=15))
            [airing] = [
                queue.queue(
                    s, row, domain, occ, SHORT, actor="hung", now=clock.now(), lengths=app.lengths(s, row)
                )
            ]
            airing_id = airing.id
        ticker.start()
        run_until_idle(app.daemon(station(app)), timeout=40)
        [logged] = rows(app)
    finally:
        ticking.set()
        app.engine.dispose()
    assert logged.airing_id == airing_id and logged.outcome == "completed", logged.note
    assert logged.actual_start is not None and logged.actual_start.year == 2028
    assert abs(start_error_s(logged)) < 0.5
    assert logged.recorded_at.year == 2028
