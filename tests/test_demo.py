"""The first airing end to end: `broadcaster demo` on a fresh home, through the file sink."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from english_terms import english_terms

BIN = str(Path(sys.executable).with_name("broadcaster"))


@pytest.mark.slow
def test_demo_airs_on_time_and_logs_what_happened(clean_env: Path) -> None:
    env = {**os.environ, "BROADCASTER_PLAYOUT_PLAYER": "file"}
    done = subprocess.run(
        [BIN, "demo", "--lead", "8"], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "đã phát xong" in done.stdout and "Traceback" not in done.stderr
    assert english_terms(done.stdout + done.stderr, [str(clean_env)]) == []  # every word in Vietnamese
    with sqlite3.connect(clean_env / "broadcaster.db") as db:
        rows = db.execute(
            "SELECT planned_start, actual_start, outcome, played_ms, clip_ms, sha256, trigger,"
            " start_error_ms FROM as_run ORDER BY seq"
        ).fetchall()
        engines = {e for (e,) in db.execute("SELECT engine FROM render WHERE kind = 'speech'")}
    assert len(rows) == 1
    planned, actual, outcome, played_ms, clip_ms, sha, trigger, start_error_ms = rows[0]
    assert outcome == "completed" and trigger == "schedule"
    error = abs((datetime.fromisoformat(actual) - datetime.fromisoformat(planned)).total_seconds())
    assert error < 1.0 and abs(start_error_ms) < 1000
    assert played_ms == clip_ms > 10_000 and len(sha) == 64
    assert engines == {"espeak"}  # Google is unreachable here: the offline fallback made every render
    aired = list((clean_env / "aired").iterdir())
    assert len(aired) == 1 and aired[0].stat().st_size > 100_000
    verify = subprocess.run(
        [BIN, "log", "verify"], capture_output=True, text=True, env=env, timeout=60, check=False
    )
    assert verify.returncode == 0 and "nguyên vẹn" in verify.stdout
