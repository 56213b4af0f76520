"""The ear's bookkeeping without sound: evidence pruned by age (a given `now`), late verdicts retried."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from broadcaster.clock import FakeClock
from broadcaster.playout.ear import DONE, PENDING, Ear, EarSettings, capture_argv, prune

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def evidence(ear: Ear, planned: datetime) -> tuple[Path, Path]:
    """A recording and a pending verdict file where the ear would write them."""
    recording, verdicts = ear.paths(planned)
    recording.parent.mkdir(parents=True, exist_ok=True)
    recording.write_bytes(b"opus")
    verdicts.write_text(json.dumps({"recording": recording.name, "items": []}), encoding="utf-8")
    return recording, verdicts


def test_evidence_older_than_keep_days_is_pruned_and_the_rest_kept(tmp_path: Path) -> None:
    ear = Ear(EarSettings("x.monitor", keep_days=30), tmp_path / "offair", FakeClock(NOW), lambda _: True)
    old = evidence(ear, NOW - timedelta(days=31))
    edge = evidence(ear, NOW - timedelta(days=29, hours=23))
    new = evidence(ear, NOW - timedelta(hours=1))
    stranger = old[0].parent / "ghi-chu.txt"  # not the ear's: left alone
    stranger.write_text("giữ", encoding="utf-8")
    assert prune(ear.folder, 30, NOW) == 2
    assert not old[0].exists() and not old[1].exists() and stranger.exists()
    assert all(p.exists() for p in (*edge, *new))
    stranger.unlink()
    assert prune(ear.folder, 30, NOW + timedelta(days=1)) == 2  # the edge is now past
    assert not old[0].parent.exists()  # an emptied day's folder goes too
    assert all(p.exists() for p in new)


def test_a_verdict_whose_rows_were_late_is_delivered_by_housekeeping(tmp_path: Path) -> None:
    answers = [False, True]
    seen: list[Path] = []

    def deliver(path: Path) -> bool:
        seen.append(path)
        return answers.pop(0)

    clock = FakeClock(NOW)
    ear = Ear(EarSettings("x.monitor", keep_days=30), tmp_path / "offair", clock, deliver)
    _, pending = evidence(ear, NOW - timedelta(minutes=5))
    ear.housekeep()  # the as-run rows are not in the database yet
    assert pending.exists() and ear.pending() == [pending]
    ear.housekeep()
    assert not pending.exists() and ear.pending() == []
    assert pending.with_name(pending.name.removesuffix(PENDING) + DONE).exists()
    assert seen == [pending, pending]
    clock.advance(timedelta(days=31))
    ear.housekeep()
    assert not any(ear.folder.rglob("*.*"))


def test_the_capture_is_the_pulse_source_or_an_alsa_device() -> None:
    assert capture_argv("bulletin.monitor")[:3] == ["parec", "-d", "bulletin.monitor"]
    alsa = capture_argv("alsa:hw:1,0")
    assert alsa[0] == "ffmpeg" and alsa[alsa.index("-i") + 1] == "hw:1,0" and "s16le" in alsa
