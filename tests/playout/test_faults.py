"""The fault suite of issue 10: the player dies, the output vanishes, the clock steps, SIGKILL mid-airing.

Each case runs the real daemon in real time with short timings (3 s lead, 10 s grace, 0.5 s re-sync) and
asserts on what it recorded: one as-run row per airing, its outcome, its cause and how much played.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import psutil
import pytest
import time_machine
from pulse import PulseServer
from sqlalchemy.orm import Session
from test_daemon import (
    BIN,
    FAST_ENV,
    SECOND,
    SHORT,
    STATION_TOML,
    queue_at,
    rows,
    station,
)

from broadcaster.app import App, build_app
from broadcaster.clock import Clock
from broadcaster.config import load_config
from broadcaster.playout.daemon import LATE_NOTE, new_holder
from broadcaster.playout.faults import AlreadyTaken
from broadcaster.playout.journal import ON_AIR, JournalRecord, OnAirJournal, item_to_json
from broadcaster.playout.prepare import Preparer
from broadcaster.playout.settle import KILLED_NOTE
from broadcaster.playout.source import DaemonSettings
from broadcaster.schedules import load_schedule
from broadcaster.services import bulletins, stations
from broadcaster.services.programmes import BuiltProgramme
from broadcaster.services.station_playout import StationPlayout
from broadcaster.store.models import AiringRow, AsRunRow

DAEMON_LOG = "broadcaster.daemon"


# -- helpers -----------------------------------------------------------------------------------------
def _wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _planned(app: App, airing_id: int) -> datetime:
    with app.tx() as s:
        return s.get_one(AiringRow, airing_id).planned_start


def _app(monkeypatch: pytest.MonkeyPatch, home: Path, *, clock: Clock | None = None, **extra: str) -> App:
    """`make_app`'s tiny station and timing; a one-word ident and no closing words keep programmes short."""
    for name, value in {**FAST_ENV, "BROADCASTER_PROGRAMME_CLOSING": "", **extra}.items():
        monkeypatch.setenv(name, value)
    app = build_app(load_config(), clock=clock)
    app.init()
    toml = home / "thu.toml"
    toml.write_text(STATION_TOML.replace('ident = "Đài thử."', 'ident = "Đài."'), encoding="utf-8")
    with app.tx() as s:
        stations.import_schedule(s, load_schedule(toml), actor="test", now=app.clock.now(), speak=app.speak)
    return app


def _render(app: App, *bulletin_ids: int) -> None:
    """Render the programme frame and the bulletins now, so that queueing them later takes milliseconds."""
    with app.tx() as s:
        app.programme_shape(s, stations.find_station(s, "thu"))
        for bulletin_id in bulletin_ids:
            app.duration_of(s)(bulletins.approved_revision(bulletins.get(s, bulletin_id)))


def _rows_of(app: App, airing_id: int) -> list[AsRunRow]:
    return [r for r in rows(app) if r.airing_id == airing_id]


def _logged(app: App, airing_id: int) -> Callable[[], bool]:
    return lambda: bool(_rows_of(app, airing_id))


def _on_air(home: Path, planned: datetime, timeout: float, alive: Callable[[], bool]) -> JournalRecord:
    """The programme's journal once it says the programme is on air (started by the player)."""
    journal = OnAirJournal(home)
    path = journal.path_for(planned)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert alive(), "the daemon stopped"
        try:
            record = journal.read(path)
        except (OSError, ValueError, KeyError, TypeError):
            record = None  # not written yet, or replaced under us
        # The staged on-air state carries the planned start; the real one is written after start().
        if record is not None and record.state == ON_AIR and record.started_at != planned:
            return record
        time.sleep(0.01)
    raise AssertionError(f"the programme of {planned.isoformat()} never went on air")


def _seconds(later: datetime, earlier: datetime | None) -> float:
    assert earlier is not None
    return (later - earlier).total_seconds()


def _players() -> list[psutil.Process]:
    """This process's pacat children (the daemon runs in-process), oldest first."""
    found = [p for p in psutil.Process().children() if p.name() == "pacat"]
    return sorted(found, key=lambda p: p.create_time())


class _Log(logging.Handler):
    """Every record of the daemon's logger, and every exception that killed a thread."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.thread_errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def hook(self, args: threading.ExceptHookArgs) -> None:
        self.thread_errors.append(f"{args.thread.name if args.thread else '?'}: {args.exc_value!r}")

    def lines(self, level: int = logging.WARNING) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno >= level]

    def tracebacks(self) -> list[str]:
        return [r.getMessage() for r in self.records if r.exc_info] + self.thread_errors


@pytest.fixture
def daemon_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Log]:
    """Collects the daemon's log lines and any thread that dies with an exception."""
    handler = _Log()
    logger = logging.getLogger(DAEMON_LOG)
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    monkeypatch.setattr(threading, "excepthook", handler.hook)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old_level)


# -- the player process dies mid-airing -----------------------------------------------------------------
@pytest.mark.pulse
@pytest.mark.slow
def test_the_player_dying_mid_airing_fails_that_airing_once_and_the_next_one_airs(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, pulse_server: PulseServer, daemon_log: _Log
) -> None:
    app = _app(
        monkeypatch,
        clean_env,
        BROADCASTER_PLAYOUT_PLAYER="pacat",
        BROADCASTER_PLAYOUT_DEVICE=pulse_server.sink,
    )
    _render(app, SECOND, SHORT)
    [cut] = queue_at(app, [SECOND], 3)  # a 2.5-s bulletin
    [after] = queue_at(app, [SHORT], 8, code="sau")  # 5 s after it: prepared after the kill
    planned = _planned(app, cut)
    daemon = app.daemon(station(app))
    daemon.start()
    try:
        record = _on_air(clean_env, planned, 20, lambda: True)
        assert record.items is not None and record.started_at is not None
        item_start = record.items[0].spans[0][0]
        kill_at = record.started_at + timedelta(seconds=item_start + 1.0)
        time.sleep(max(0.0, _seconds(kill_at, datetime.now(UTC))))
        on_air, *_ = _players()  # the oldest pacat is the one on air
        killed_at = datetime.now(UTC)
        on_air.kill()
        _wait_for(_logged(app, after), 30, "the next airing")
        assert daemon.wait_idle(20)
    finally:
        daemon.stop()
    logged = rows(app)
    app.engine.dispose()

    by_airing = {r.airing_id: r for r in logged}
    assert len(logged) == 2 and set(by_airing) == {cut, after}, "an airing was logged twice or lost"
    row = by_airing[cut]
    assert row.outcome in {"failed", "interrupted"}
    assert "pacat" in row.note and "-9" in row.note  # the cause: the player was killed
    assert 0 < row.played_ms < row.clip_ms
    assert abs(row.played_ms / 1000 - _seconds(killed_at, row.actual_start)) < 1.0
    assert by_airing[after].outcome == "completed" and by_airing[after].player == "pacat"
    assert len([line for line in daemon_log.lines() if "pacat" in line]) == 1, daemon_log.lines()
    assert not daemon_log.tracebacks()


# -- the audio output disappears and comes back ---------------------------------------------------------
@pytest.mark.pulse
@pytest.mark.slow
def test_an_output_that_vanishes_fails_the_airing_in_the_gap_and_the_next_one_airs(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, pulse_server: PulseServer, daemon_log: _Log
) -> None:
    # A sink of this test's own: the session's test sink (and any other) is never unloaded.
    output = PulseServer(f"faults_output_{os.getpid()}")
    output.start()
    try:
        app = _app(
            monkeypatch,
            clean_env,
            BROADCASTER_PLAYOUT_PLAYER="pacat",
            BROADCASTER_PLAYOUT_DEVICE=output.sink,
        )
        _render(app, SHORT, SECOND)
        [before] = queue_at(app, [SHORT], 3)
        daemon = app.daemon(station(app))
        daemon.start()
        try:
            _wait_for(_logged(app, before), 20, "the airing before the gap")
            # No stream left on the sink, so nothing is moved to another sink when it goes.
            _wait_for(lambda: not _players(), 5, "the player to close")
            output.stop()  # `pactl unload-module`: the output is gone
            [gap] = queue_at(app, [SECOND], 3, code="mat")
            _wait_for(_logged(app, gap), 20, "the airing in the gap")
            output.start()  # `pactl load-module module-null-sink`: the output is back
            [back] = queue_at(app, [SHORT], 3, code="lai")
            _wait_for(_logged(app, back), 20, "the airing after the gap")
            assert daemon.wait_idle(20)
        finally:
            daemon.stop()
        logged = rows(app)
        app.engine.dispose()
    finally:
        output.stop()

    by_airing = {r.airing_id: r for r in logged}
    assert len(logged) == 3 and set(by_airing) == {before, gap, back}, "an airing was logged twice or lost"
    assert by_airing[before].outcome == "completed"
    failed = by_airing[gap]
    assert failed.outcome == "failed" and failed.played_ms == 0 and failed.actual_start is None
    assert output.sink in failed.note and "PulseAudio" in failed.note  # the cause names the output
    assert by_airing[back].outcome == "completed" and by_airing[back].player == "pacat"
    assert not daemon_log.tracebacks()


# -- the clock steps forward, then back -------------------------------------------------------------------
class SteppedClock:
    """The process's wall clock, stepped by hand as NTP steps it; the monotonic clock never moves.

    The step goes through time-machine, so the daemon (this Clock) and its scheduler's timer (which
    reads the OS clock) see the same time, as they do on a station PC whose clock is corrected.
    """

    def __init__(self) -> None:
        self._travel = time_machine.travel(datetime.now(UTC), tick=True)
        self._traveller: time_machine.Traveller | None = None

    def __enter__(self) -> SteppedClock:
        self._traveller = self._travel.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._traveller = None
        self._travel.stop()

    def step(self, delta: timedelta) -> None:
        """Move the wall clock by `delta` at once."""
        assert self._traveller is not None
        self._traveller.shift(delta)

    def now(self) -> datetime:
        """The stepped wall clock, UTC."""
        return datetime.now(UTC)

    def monotonic(self) -> float:
        """time.monotonic(), which a step never moves."""
        return time.monotonic()


@pytest.mark.slow
def test_a_clock_stepped_forward_then_back_airs_nothing_twice_and_skips_nothing_silently(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, daemon_log: _Log
) -> None:
    step = timedelta(minutes=5)
    with SteppedClock() as clock:
        app = _app(monkeypatch, clean_env, clock=clock)
        _render(app, SHORT, SECOND)
        [first] = queue_at(app, [SHORT], 3)
        [jumped] = queue_at(app, [SECOND], 13, code="nhay")  # the forward step passes over it
        daemon = app.daemon(station(app))
        daemon.start()
        try:
            _wait_for(_logged(app, first), 20, "the first airing")
            clock.step(step)  # +5 min: `jumped` is now minutes late, far past the 10-s grace
            [stepped] = queue_at(app, [SHORT], 3, code="truoc")
            _on_air(clean_env, _planned(app, stepped), 20, lambda: True)
            time.sleep(0.8)
            clock.step(-step)  # −5 min while `stepped` is on air: both earlier airings are ahead again
            _wait_for(_logged(app, stepped), 20, "the airing after the forward step")
            [after] = queue_at(app, [SHORT], 3, code="sau")
            _wait_for(_logged(app, after), 20, "the airing after the backward step")
            # Past the set time `jumped` has again on the corrected clock: it must not air now.
            jumped_at = _planned(app, jumped)
            _wait_for(lambda: clock.now() > jumped_at + timedelta(seconds=1.5), 30, "the jumped slot")
            assert daemon.wait_idle(10)  # nothing left scheduled: `stepped` is not due again in 5 min
        finally:
            daemon.stop()
    logged = rows(app)
    aired = sorted(app.config.aired_dir.glob("*.mp3"))
    app.engine.dispose()

    by_airing = {r.airing_id: r for r in logged}
    assert len(logged) == 4 and set(by_airing) == {first, jumped, stepped, after}, [
        (r.airing_id, r.outcome, r.note) for r in logged
    ]
    assert len(aired) == 3, "an airing aired twice"
    missed = by_airing[jumped]
    assert missed.outcome == "missed" and missed.played_ms == 0 and missed.actual_start is None
    assert missed.note == LATE_NOTE  # the daemon ran: not "the station was off"
    for airing in (first, stepped, after):
        row = by_airing[airing]
        assert row.outcome == "completed" and row.played_ms == row.clip_ms
        # On time by the clock of the moment (a wrong clock would be 5 min off; a loaded machine a little).
        assert row.planned_start is not None and row.actual_start is not None and row.actual_end is not None
        assert abs(_seconds(row.actual_start, row.planned_start)) < 5.0
        assert abs(_seconds(row.actual_end, row.actual_start) - row.played_ms / 1000) < 0.01
    gap = _seconds(by_airing[stepped].actual_start, by_airing[first].actual_start)
    assert step.total_seconds() < gap < step.total_seconds() + 30
    assert _seconds(by_airing[after].actual_start, by_airing[stepped].actual_start) < 0
    warnings = daemon_log.lines()
    assert len([line for line in warnings if LATE_NOTE in line]) == 1, warnings
    assert not [line for line in warnings if "trạm phát khác" in line], warnings  # no other daemon here
    assert not daemon_log.tracebacks()


# -- SIGKILL at random points of an airing, many times --------------------------------------------------
RUNS = 8


def _spawn(log: IO[str]) -> subprocess.Popen[str]:
    return subprocess.Popen([BIN, "run"], stdout=log, stderr=subprocess.STDOUT, text=True)


def _running(proc: subprocess.Popen[str]) -> Callable[[], bool]:
    return lambda: proc.poll() is None


@pytest.mark.slow
def test_sigkill_at_random_points_of_an_airing_leaves_exactly_one_interrupted_row_each_time(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    app = _app(monkeypatch, clean_env, BROADCASTER_PLAYOUT_GRACE_S="30")  # a slow restart airs late
    _render(app, SECOND)
    rng = random.Random(20261201)
    kills: dict[int, datetime] = {}
    log_path = tmp_path / "daemon.log"
    with log_path.open("w", encoding="utf-8") as log:
        for run in range(RUNS):
            proc = _spawn(log)  # also settles the airing the previous run was killed in
            try:
                [airing] = queue_at(app, [SECOND], 2, code=f"lan{run}")
                record = _on_air(clean_env, _planned(app, airing), 30, _running(proc))
                assert record.items is not None and record.started_at is not None
                start, end = record.items[0].spans[0]
                # Somewhere inside the bulletin, past its first heartbeat (a kill sooner may log it skipped:
                # the journal only proves what played up to its last heartbeat, every 0.5 s).
                delay = rng.uniform(start + 0.8, end - 0.3)
                kill_at = record.started_at + timedelta(seconds=delay)
                time.sleep(max(0.0, _seconds(kill_at, datetime.now(UTC))))
                kills[airing] = datetime.now(UTC)
            finally:
                proc.kill()
                proc.wait(20)
            assert len(rows(app)) == run, log_path.read_text()  # the killed one is settled at restart
        proc = _spawn(log)
        try:
            _wait_for(lambda: len(rows(app)) == RUNS, 30, "the last killed airing to be settled")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    assert proc.returncode == 0, log_path.read_text()
    logged = rows(app)
    app.engine.dispose()

    assert sorted(r.airing_id for r in logged if r.airing_id is not None) == sorted(kills)
    for row in logged:
        assert row.airing_id is not None
        assert row.outcome == "interrupted" and row.note == KILLED_NOTE, (row.outcome, row.note)
        assert 0 < row.played_ms < row.clip_ms
        # Played until the last heartbeat before the kill.
        heard = _seconds(kills[row.airing_id], row.actual_start)
        assert abs(row.played_ms / 1000 - heard) <= 1.0, (row.played_ms, heard)
    verify = subprocess.run([BIN, "log", "verify"], capture_output=True, text=True, timeout=60, check=False)
    assert verify.returncode == 0, verify.stderr
    assert f"{RUNS} dòng" in verify.stdout
    assert "Traceback" not in log_path.read_text()


def test_a_prepare_job_that_runs_after_the_air_job_leaves_the_programme_on_air_alone(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the SIGKILL runs found on a loaded machine: a prepare job run late rebuilt the programme on air
    and wrote its journal back to "claimed"; killed then, the restart gave the claim back (aired twice)."""
    app = _app(monkeypatch, clean_env)
    queue_at(app, [SHORT], 60)
    row = station(app)
    build = app.builder(row)
    builds: list[datetime] = []

    def counting_build(session: Session, planned_start: datetime) -> BuiltProgramme | None:
        builds.append(planned_start)
        return build(session, planned_start)

    source = StationPlayout(app.sessions, row.id, counting_build)
    journal = OnAirJournal(app.config.home)
    holder = new_holder(app.config.home)
    preparer = Preparer(source, app.player(), app.clock, journal, holder, DaemonSettings())
    now = app.clock.now()
    [ps] = source.pending(now, now + timedelta(hours=1), holder.id)
    when = ps.planned_start
    prepared = preparer.prepare(ps)  # the air job: built and claimed
    assert preparer.prepare(ps) is prepared  # a prepare job in time finds it ready
    assert preparer.take(when) is prepared  # on air now, as the daemon marks it:
    items = [item_to_json(i) for i in prepared.built.items]
    on_air = {**preparer.meta(ps), "state": ON_AIR, "token": preparer.token(when), "items": items}
    journal.write(when, {**on_air, "started_at": now.isoformat()})
    try:
        with contextlib.suppress(AlreadyTaken):
            preparer.prepare(ps)  # the prepare job, run late
    finally:
        prepared.playback.close()
        app.engine.dispose()
    assert journal.read(journal.path_for(when)).state == ON_AIR
    assert builds == [when]
