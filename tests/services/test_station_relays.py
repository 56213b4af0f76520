"""The daemon's relay chore on a real station database: a session's relay from a local Icecast server
opened ahead, started on the second, logged once with what was received; one whose time passed while
no daemon ran is logged missed; the session's bulletins part is what is left of it."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from icecast import IcecastServer
from sqlalchemy import select

from broadcaster.app import App, build_app
from broadcaster.config import load_config
from broadcaster.domain import AsRunEntry, Outcome, RelayOccurrence
from broadcaster.playout.relay import WavSink
from broadcaster.playout.relay_chore import RelayChore, RelaySettings
from broadcaster.schedules import load_schedule
from broadcaster.services.station_relays import StationRelays
from broadcaster.services.stations import find_station, import_schedule
from broadcaster.store.models import AsRunRow

WARD = """
[station]
code = "thu"
name = "Đài phường thu"
timezone = "Asia/Ho_Chi_Minh"
ident = "Đài phường."
allowed_hours = ["00:00-24:00"]

[[session]]
code = "sang"
name = "Buổi sáng"
weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
start = "06:00"
max_minutes = 15
relay = {{ source = "{source}", minutes = 0.1, place = "first" }}
"""
# The relay of 06:00 local on 02/03/2026 (23:00 UTC the day before): six seconds of the stream.
RELAY_AT = datetime(2026, 3, 1, 23, 0, tzinfo=UTC)


class ShiftedClock:
    """Real time, moved so that "now" is a chosen instant when it is made (the relay runs in real time)."""

    def __init__(self, now: datetime) -> None:
        self._offset = now - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def monotonic(self) -> float:
        return time.monotonic()


@pytest.fixture
def station(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    for name in [n for n in os.environ if n.startswith("BROADCASTER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("BROADCASTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BROADCASTER_SPEECH_ENGINES", "espeak")
    monkeypatch.setenv("BROADCASTER_PLAYOUT_PLAYER", "file")
    app = build_app(load_config())
    app.init()
    return app


def _import(app: App, source: str, folder: Path) -> int:
    path = folder / "thu.toml"
    path.write_text(WARD.format(source=source), encoding="utf-8")
    with app.tx() as s:
        import_schedule(s, load_schedule(path), actor="test", now=app.clock.now(), speak=app.speak)
        return find_station(s, "thu").id


def _rows(app: App) -> list[AsRunRow]:
    with app.tx() as s:
        rows = list(s.scalars(select(AsRunRow).order_by(AsRunRow.seq)))
        s.expunge_all()
        return rows


def test_a_relay_is_opened_ahead_started_on_time_and_logged_once(station: App, tmp_path: Path) -> None:
    with IcecastServer() as ice:
        station_id = _import(station, ice.mount_url, tmp_path)
        clock = ShiftedClock(RELAY_AT - timedelta(seconds=4))
        out = tmp_path / "relay.wav"
        chore = RelayChore(
            StationRelays(station.sessions, station_id, clock.now),
            lambda relay: WavSink(out),
            clock,
            RelaySettings(lead_s=20, grace_s=60, silence_s=1.0),
            "file",
        )
        chore()
        chore()  # a second tick while it is opening does not open it twice
        deadline = time.monotonic() + 30
        while not _rows(station) and time.monotonic() < deadline:
            time.sleep(0.2)
        chore()  # logged: never again
    [row] = _rows(station)
    assert row.outcome == "completed" and row.session_code == "sang" and row.title == "Tiếp sóng: Buổi sáng"
    assert row.planned_start == RELAY_AT and row.clip_ms == 6000 and row.played_ms > 5000
    assert row.start_error_ms is not None and abs(row.start_error_ms) < 100  # on the second
    assert "không mất tín hiệu lần nào" in row.note and ice.mount_url in row.note
    assert out.stat().st_size > 6 * 48000 * 2 * 0.95


def test_a_relay_whose_time_passed_unaired_is_logged_missed(station: App, tmp_path: Path) -> None:
    station_id = _import(station, "http://127.0.0.1:9/vov.mp3", tmp_path)
    clock = ShiftedClock(RELAY_AT + timedelta(seconds=90))
    relays = StationRelays(station.sessions, station_id, clock.now)
    RelayChore(relays, lambda relay: WavSink(tmp_path / "x.wav"), clock, RelaySettings(grace_s=60))()
    [row] = _rows(station)
    assert row.outcome == "missed" and row.planned_start == RELAY_AT and row.played_ms == 0
    assert "không chạy vào giờ tiếp sóng" in row.note
    assert relays.upcoming(RELAY_AT - timedelta(hours=1), RELAY_AT + timedelta(hours=1)) == []


class Recorded:
    """A RelaySource with one relay due and an emergency from a chosen instant (the real protocol)."""

    def __init__(self, relay: RelayOccurrence, emergency_at: datetime) -> None:
        self.relay, self.emergency_at = relay, emergency_at
        self.rows: list[AsRunEntry] = []

    def upcoming(self, start: datetime, end: datetime) -> list[RelayOccurrence]:
        return [self.relay] if start <= self.relay.start < end and not self.rows else []

    def allowed(self, relay: RelayOccurrence) -> str:
        return ""

    def log(self, entry: AsRunEntry) -> None:
        self.rows.append(entry)

    def emergency_since(self, start: datetime, until: datetime) -> bool:
        return start <= self.emergency_at < until


def test_an_emergency_cuts_a_relay_on_air(tmp_path: Path) -> None:
    with IcecastServer() as ice:
        clock = ShiftedClock(RELAY_AT - timedelta(seconds=2))
        relay = RelayOccurrence("sang", "Buổi sáng", RELAY_AT, timedelta(seconds=30), ice.mount_url)
        source = Recorded(relay, RELAY_AT + timedelta(seconds=3))
        chore = RelayChore(source, lambda r: WavSink(tmp_path / "r.wav"), clock, RelaySettings(), "file")
        deadline = time.monotonic() + 20
        while not source.rows and time.monotonic() < deadline:
            chore()  # the daemon's tick: every second
            time.sleep(0.5)
    [row] = source.rows
    assert row.outcome is Outcome.INTERRUPTED and "bị dừng trước giờ kết thúc" in row.note
    assert row.actual_end is not None and row.actual_start is not None
    assert (row.actual_end - row.actual_start).total_seconds() < 8
