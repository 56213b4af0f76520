"""The ear on the output, on a real PulseAudio null sink: heard, silent (sink muted), different (other file).

The daemon records the sink's monitor while each programme airs and writes a verdict per as-run row;
the compliance report's "heard only" rule then counts only the airing that was heard.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from pulse import PulseServer
from sqlalchemy import select
from test_daemon import LONG, make_app, queue_at, rows, station

from broadcaster.app import App
from broadcaster.playout.player import Playback, Player
from broadcaster.reports.compliance import CountingRules
from broadcaster.reports.periods import PeriodKind
from broadcaster.services import reporting
from broadcaster.store.models import AsRunRow, OffAirRow

pytestmark = [pytest.mark.pulse, pytest.mark.slow]

OTHER_TEXT = (
    "Đây là một bản tin hoàn toàn khác, phát nhầm vào chỗ của bản tin đã duyệt: hội nghị tổng kết "
    "công tác thi đua khen thưởng năm nay sẽ họp tại hội trường ủy ban vào sáng thứ hai tuần sau, "
    "mời các đồng chí trưởng khu phố đến dự đầy đủ và đúng giờ."
)


@dataclass
class WrongFilePlayer:
    """A real player that plays another file in place of the programme (a wrong file on air)."""

    inner: Player
    other: Path
    name: str = "pacat"

    def prepare(self, path: Path) -> Playback:
        """Prepare `other`, whatever the daemon asks for."""
        return self.inner.prepare(self.other)


@pytest.fixture
def ear_app(clean_env: Path, monkeypatch: pytest.MonkeyPatch, pulse_server: PulseServer) -> Iterator[App]:
    """The tiny station playing through pacat to the test sink, its ear on the sink's monitor."""
    app = make_app(
        monkeypatch,
        clean_env,
        BROADCASTER_PLAYOUT_PLAYER="pacat",
        BROADCASTER_PLAYOUT_DEVICE=pulse_server.sink,
    )
    yield app
    subprocess.run(["pactl", "set-sink-volume", pulse_server.sink, "100%"], check=True)
    app.engine.dispose()


def air_once(app: App) -> AsRunRow:
    """Queue the long bulletin 8 s from now, run the daemon until it aired and was judged; its row."""
    before = {r.id for r in rows(app)}
    queue_at(app, [LONG], 8)
    daemon = app.daemon(station(app))
    daemon.start()
    try:
        time.sleep(0.3)
        assert daemon.wait_idle(60)
    finally:
        daemon.stop()  # waits for the judging
    [row] = [r for r in rows(app) if r.id not in before]
    assert row.outcome == "completed"
    return row


def verdict_of(app: App, row: AsRunRow) -> OffAirRow:
    """The off-air verdict written for `row`."""
    with app.tx() as s:
        found = s.scalars(select(OffAirRow).where(OffAirRow.as_run_id == row.id)).one()
        s.expunge(found)
        return found


def test_heard_silent_and_different_are_told_apart_and_heard_only_counts_the_heard(
    ear_app: App, pulse_server: PulseServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    app = ear_app
    # 1. A normal airing: what left the station is the programme.
    heard_row = air_once(app)
    heard = verdict_of(app, heard_row)
    assert heard.verdict == "heard" and heard.similarity >= 0.9 and heard.dead_air_ms == 0
    assert -100 <= heard.delay_ms < 500
    recording = app.config.home / heard.recording
    assert recording.suffix == ".opus" and recording.stat().st_size > 1000
    [done] = list(recording.parent.glob("*.json"))
    assert not list(recording.parent.glob("*.pending.json"))  # delivered, not waiting
    assert json.loads(done.read_text(encoding="utf-8"))["items"][0]["verdict"] == "heard"

    # 2. The output muted (sink volume 0): dead air, seen within the 5 s window while it aired.
    subprocess.run(["pactl", "set-sink-volume", pulse_server.sink, "0"], check=True)
    silent_row = air_once(app)
    subprocess.run(["pactl", "set-sink-volume", pulse_server.sink, "100%"], check=True)
    silent = verdict_of(app, silent_row)
    assert silent.verdict == "silent"
    assert silent.dead_air_ms >= 5000
    assert silent_row.actual_start is not None and silent_row.actual_end is not None
    assert silent.detected_at < silent_row.actual_end  # the live alarm, before the item ended
    assert silent.detected_at - silent_row.actual_start <= timedelta(seconds=5 + 1.0)

    # 3. Another file played in the programme's place: heard, but not the programme.
    other = tmp_path / "khac.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(other), OTHER_TEXT], check=True, capture_output=True)
    real = app.player()
    monkeypatch.setattr(app, "player", lambda: WrongFilePlayer(real, other))
    different_row = air_once(app)
    different = verdict_of(app, different_row)
    assert different.verdict == "different" and different.similarity < 0.5

    # The report: three completed airings, one heard.
    with app.tx() as s:
        st = station(app)
        [every] = reporting.compliance_reports(s, st, None, PeriodKind.YEAR, now=app.clock.now())
        [only] = reporting.compliance_reports(
            s, st, None, PeriodKind.YEAR, now=app.clock.now(), rules=CountingRules(heard_only=True)
        )
    assert sum(r.airings for r in every.rows) == 3
    assert sum(r.airings for r in only.rows) == 1
    assert sum(r.minutes for r in only.rows) == pytest.approx(heard_row.played_ms / 60000, abs=0.01)
