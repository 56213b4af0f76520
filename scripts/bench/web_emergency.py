"""Web bench, the emergency: a real `broadcaster run` on a PulseAudio null sink, timed from the confirm click.

Each try is what the operator does on /khan-cap: open the confirm step of one approved 1-s recording
(GET /khan-cap?ban_tin=ID, not timed), then post its form (POST /khan-cap/phat with the form's CSRF token
and the bulletin id) — the click, t0 — and follow the redirect to the emergency's status page. The time
to audio is from t0 to the first sample of the tone at the sink: one parec recording of the sink's monitor
runs through all tries and each chunk is stamped on arrival (tests/pulse.py Recorder, about ±10 ms).
The next try waits until the daemon logged the previous one (its as-run row) and a second of silence.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pulse import PulseServer, Recorder
from web_client import Client, csrf_of, stats_ms
from web_setup import bench_env

BIN = str(Path(sys.executable).with_name("broadcaster"))
SINK = "web_bench"
GOAL_S = 1.0
# Silence between tries (the recorder splits sounds at 0.5 s of silence).
GAP_S = 1.0
# Longest wait for a try's as-run row.
LOGGED_WITHIN_S = 30.0


@dataclass
class Try:
    """One emergency: when it was clicked and answered (monotonic), its airing, what the daemon logged."""

    bulletin_id: int
    clicked: float
    answered: float
    airing_id: int
    outcome: str | None = None
    daemon_delay_s: float | None = None  # as-run actual start − the airing's commit, as the page shows it
    heard: float | None = None  # first audio at the sink (monotonic)


@dataclass
class EmergencyRun:
    """Every try of one run, and anything that went wrong."""

    tries: list[Try] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _ready(home: Path, log: Path) -> bool:
    return (home / "daemon.wake").exists() and "Tự kiểm tra xong" in log.read_text(encoding="utf-8")


@contextmanager
def station_daemon(home: Path, *, pulse: bool) -> Iterator[str | None]:
    """`broadcaster run` on the home (pacat to a warm null sink when `pulse`, else the file sink) until the
    block ends, then SIGTERM as a service manager does; yields the sink's name (None: no sink)."""
    server: PulseServer | None = None
    if pulse:
        server = PulseServer(SINK)
        try:
            server.start()
        except RuntimeError as exc:
            print(f"  (no PulseAudio here: {exc}; the daemon plays to the file sink)")
            server = None
    env = bench_env(home)
    if server is not None:
        env |= {"BROADCASTER_PLAYOUT_PLAYER": "pacat", "BROADCASTER_PLAYOUT_DEVICE": server.sink}
    log = home.parent / "daemon.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([BIN, "run", "-v"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not _ready(home, log):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the daemon did not start:\n{log.read_text(encoding='utf-8')[-3000:]}")
            time.sleep(0.1)
        yield server.sink if server is not None else None
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if server is not None:
            server.stop()
        said = log.read_text(encoding="utf-8")
        if "Traceback" in said:
            print(f"  (the daemon logged a traceback; see {log})\n{said[-2000:]}")


def _one(client: Client, bulletin_id: int, run: EmergencyRun) -> Try | None:
    """Confirm one emergency as the operator does, then wait until the daemon logged it."""
    status, _, page = client.request("GET", f"/khan-cap?ban_tin={bulletin_id}")
    if status != 200:
        run.problems.append(f"confirm page of {bulletin_id}: {status}")
        return None
    form = {"csrf": csrf_of(page), "bulletin": str(bulletin_id)}
    clicked = time.monotonic()
    status, headers, body = client.request("POST", "/khan-cap/phat", form)
    answered = time.monotonic()
    where = headers.get("location", "")
    if status != 303 or "/khan-cap/luot/" not in where:
        run.problems.append(f"emergency {bulletin_id}: {status} {body[:200]!r}")
        return None
    one = Try(bulletin_id, clicked, answered, int(where.rsplit("/", 1)[1]))
    client.request("GET", where)  # the browser follows the redirect to the status page
    deadline = time.monotonic() + LOGGED_WITHIN_S
    while time.monotonic() < deadline:
        _, _, data = client.request("GET", f"/khan-cap/luot/{one.airing_id}/trang-thai")
        state = json.loads(data)
        if state["state"] == "done":
            one.outcome, one.daemon_delay_s = state["outcome"], state["delay_s"]
            break
        time.sleep(0.1)
    else:
        run.problems.append(f"emergency {bulletin_id}: not logged within {LOGGED_WITHIN_S:.0f} s")
    return one


def run_emergencies(client: Client, sink: str, bulletin_ids: list[int]) -> EmergencyRun:
    """Every try in turn while parec records the sink; then each try's first audio from the recording."""
    run = EmergencyRun()
    with Recorder(sink, latency_ms=20) as recorder:
        time.sleep(GAP_S)
        for bulletin_id in bulletin_ids:
            one = _one(client, bulletin_id, run)
            if one is not None:
                run.tries.append(one)
            time.sleep(GAP_S)
        recorder.stop()
        onsets = [recorder.monotonic_of(seg.start) for seg in recorder.segments(min_gap_s=0.5)]
    for one in run.tries:
        after = [t for t in onsets if one.clicked - 0.05 < t < one.clicked + LOGGED_WITHIN_S]
        one.heard = after[0] if after else None
        if one.heard is None:
            run.problems.append(f"emergency {one.bulletin_id}: no audio heard at the sink")
    return run


def report_emergency(run: EmergencyRun) -> None:
    """p50/p99/max from the click to audio at the sink, the page's answer, the daemon's own figure."""
    heard = [t.heard - t.clicked for t in run.tries if t.heard is not None]
    print(
        f"emergency: confirm click (POST /khan-cap/phat) → first audio at the null sink,"
        f" {len(run.tries)} tries"
    )
    if not heard:
        print(f"  nothing heard; problems: {run.problems[:5]}")
        return
    rows = [
        ("click → audio at the sink", heard),
        ("click → 303 answer", [t.answered - t.clicked for t in run.tries]),
        ("daemon: commit → start", [t.daemon_delay_s for t in run.tries if t.daemon_delay_s is not None]),
    ]
    print(f"  {'':<30}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}   n")
    for name, values in rows:
        if values:
            p50, p99, worst = stats_ms(values)
            print(f"  {name:<30}{p50:9.0f}{p99:9.0f}{worst:9.0f}   {len(values)}")
    outcomes = sorted({t.outcome or "not logged" for t in run.tries})
    print(f"  as-run outcomes: {outcomes}; problems: {len(run.problems)} {run.problems[:3]}")
    p99 = float(np.percentile(np.array(heard), 99))
    ok = p99 < GOAL_S and len(heard) == len(run.tries) and not run.problems
    print(f"  goal p99 < {GOAL_S * 1000:.0f} ms: {'met' if ok else 'NOT met'} ({p99 * 1000:.0f} ms)")
