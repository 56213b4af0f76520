"""Airing for the console's tests: the seed station made to air today, audio for its bulletins, and a real
`broadcaster run` in a subprocess sharing the test's home (PulseAudio null sink, or the file sink)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from pulse import pulse_running
from seedpaths import SEED
from sqlalchemy import select

from broadcaster.app import App
from broadcaster.domain import BulletinStatus
from broadcaster.schedules import load_schedule
from broadcaster.services import bulletins, stations
from broadcaster.store.models import AsRunRow, RenderRow

BIN = str(Path(sys.executable).with_name("broadcaster"))

# Two short bulletins added to the seed so that a programme airs in seconds, not minutes.
SHORT_TITLE = "Nhắc bà con giữ vệ sinh chung"
URGENT_TITLE = "Khẩn cấp: mưa lớn, đề phòng ngập lụt"
_EXTRA_BULLETINS = f'''
[[bulletin]]
key = "thu-tin-ngan"
campaign = "mai-dam-2023"
title = "{SHORT_TITLE}"
agency = "Công chức VH-XH"
approved_by = "khoi"
text = "Bà con chú ý giữ gìn vệ sinh chung."

[[bulletin]]
key = "thu-tin-khan"
campaign = "mai-dam-2023"
title = "{URGENT_TITLE}"
agency = "Đài truyền thanh"
approved_by = "khoi"
text = "Khẩn cấp: mưa lớn, bà con đề phòng ngập lụt."
'''

# The daemon's settings for these tests: no signature tune, short gaps, one daemon line per event.
DAEMON_ENV = {
    "BROADCASTER_PROGRAMME_USE_SIGNATURE": "0",
    "BROADCASTER_PROGRAMME_GAP_S": "0.5",
    "BROADCASTER_PLAYOUT_GRACE_S": "20",
    "BROADCASTER_PLAYOUT_RESUME_POLICY": "skip",
}


def air_today(app: App, folder: Path, *, sessions_until: date | None = None) -> dict[str, int]:
    """Re-import the seed with its campaigns running until 2030, every hour allowed, a one-second ident and
    two short bulletins (and, with `sessions_until`, its two daily sessions ending that day, so that none
    is in the way).

    Returns the short bulletins' ids by title. (The seed's own plan is 2023's: nothing of it could air now.)
    """
    text = SEED.read_text(encoding="utf-8")
    text = text.replace('allowed_hours = ["05:00-07:30", "16:30-19:00"]', 'allowed_hours = ["00:00-24:00"]')
    text = text.replace("period_end = 2023-12-31", "period_end = 2030-12-31") + _EXTRA_BULLETINS
    text = re.sub(r'(?m)^ident = ".*"$', 'ident = "Đài Phú Thứ."', text)
    if sessions_until is not None:
        weekdays = 'weekdays = ["mon", "tue", "wed", "thu", "fri", "sat"]'
        assert text.count(weekdays) == 2
        text = text.replace(weekdays, f"{weekdays}\nvalid_to = {sessions_until.isoformat()}")
    path = folder / "phu-thu-hom-nay.toml"
    path.write_text(text, encoding="utf-8")
    with app.tx() as s:
        stations.import_schedule(s, load_schedule(path), actor="test", now=app.clock.now(), speak=app.speak)
    with app.tx() as s:
        row = stations.find_station(s, "phu-thu")
        found = bulletins.list_bulletins(s, row.id, status=BulletinStatus.APPROVED.value)
        return {b.title: b.id for b in found if b.title in (SHORT_TITLE, URGENT_TITLE)}


def render_now(app: App, bulletin_ids: list[int]) -> None:
    """Render the bulletins' air audio and the frame (as approval does), so no step waits for the TTS."""
    with app.tx() as s:
        row = stations.find_station(s, "phu-thu")
        app.programme_shape(s, row)
        for bulletin_id in bulletin_ids:
            app.duration_of(s)(bulletins.approved_revision(bulletins.get(s, bulletin_id)))


def fake_audio(app: App, folder: Path, seconds: float = 60.0) -> None:
    """Intact (but silent, not decodable) air audio for every approved bulletin and the frame: for page
    tests that never play, so that queueing does not wait for the TTS."""
    folder.mkdir(parents=True, exist_ok=True)
    now = app.clock.now()
    with app.tx() as s:
        row = stations.find_station(s, "phu-thu")
        for b in bulletins.list_bulletins(s, row.id, status=BulletinStatus.APPROVED.value):
            rev = bulletins.approved_revision(b)
            path = folder / f"rev-{rev.id}.mp3"
            path.write_bytes(f"audio of revision {rev.id}".encode())
            s.add(_render(rev.id, "speech", path, seconds, rev.spoken_sha256, now))
        frame = app.frame(row)
        for kind, words, length in (("ident", frame.ident_text, 7.0), ("closing", frame.closing_text, 5.0)):
            spoken = app.speak_frame(words)
            if spoken:
                path = folder / f"{kind}.mp3"
                path.write_bytes(spoken.encode())
                s.add(_render(None, kind, path, length, hashlib.sha256(spoken.encode()).hexdigest(), now))


def _render(
    revision_id: int | None, kind: str, path: Path, seconds: float, spoken_sha: str, now: object
) -> RenderRow:
    return RenderRow(
        revision_id=revision_id,
        kind=kind,
        path=str(path),
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        duration_s=seconds,
        engine="espeak",
        spoken_sha256=spoken_sha,
        created_at=now,
    )


def asrun(app: App) -> list[AsRunRow]:
    """Every as-run row, in log order (detached)."""
    with app.tx() as s:
        rows = list(s.scalars(select(AsRunRow).order_by(AsRunRow.seq)))
        s.expunge_all()
        return rows


def heard_from(record: dict[str, Any], item: int) -> datetime:
    """When item `item` of the on-air programme has surely been heard for a while: its offset, with room
    for an output that a loaded machine feeds slower than real time (the daemon counts what it handed)."""
    began = datetime.fromisoformat(str(record["started_at"]))
    offset = float(record["items"][item]["spans"][0][0])
    return began + timedelta(seconds=2.5 * offset + 2.0)


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    """Poll until `predicate()` is true; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@contextmanager
def daemon(home: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """`broadcaster run` on the test's home until the block ends (then SIGTERM, as a service manager does).

    Its output goes to HOME/../daemon.log (a pipe could fill up and stall it); a traceback fails the test.
    """
    full = {**os.environ, **DAEMON_ENV, **env}
    log = home.parent / "daemon.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([BIN, "run", "-v"], env=full, stdout=out, stderr=subprocess.STDOUT)
    try:
        # ready as a station PC is ready: the wake-up port is open and the start-up self-check is done
        wait_for(lambda: _ready(home, log) or proc.poll() is not None, 60, "the daemon to start")
        assert proc.poll() is None, log.read_text(encoding="utf-8")
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        said = log.read_text(encoding="utf-8")
        assert "Traceback" not in said, said[-3000:]


def _ready(home: Path, log: Path) -> bool:
    return (home / "daemon.wake").exists() and "Tự kiểm tra xong" in log.read_text(encoding="utf-8")


def output_env(sink: str | None) -> dict[str, str]:
    """The daemon plays to the null sink with pacat, or (no PulseAudio here) to the file sink."""
    if sink is None or not pulse_running():
        return {"BROADCASTER_PLAYOUT_PLAYER": "file"}
    return {"BROADCASTER_PLAYOUT_PLAYER": "pacat", "BROADCASTER_PLAYOUT_DEVICE": sink}


def on_air_programme(home: Path) -> dict[str, Any] | None:
    """The daemon's on-air journal record (start, items with their spans) while a programme is on air."""
    for path in home.glob("onair-*.json"):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and record.get("state") == "on_air":
            return record
    return None
