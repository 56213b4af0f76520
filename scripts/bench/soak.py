"""Benchmark: exactly once under faults — the real daemon through many short airings on a PulseAudio sink.

Run: .venv/bin/python scripts/bench/soak.py [--airings 500] [--spacing 3] [--seed 1] [--quick] [--keep DIR]
     (as root for the read-only bind mounts; --reanalyse DIR decodes and tallies a kept run again)
`broadcaster run` (the installed console script, supervised like the systemd unit: restarted 5 s after
it exits) airs one programme every `spacing` seconds to a null sink: the station ident, then one
operator recording whose two-tone code names its airing (a programme lasts 2.8 s with its 1-s tail).
Every tenth slot is left free for the other process. Faults from a seeded RNG, one after another:
kill -9 and restart after 1-8 s, another process holding BEGIN EXCLUSIVE on the database for 5-90 s,
the daemon's decode folder or programme folder read-only for 5-30 s (durations divided by --scale), a
second daemon with another home on the same database (it must refuse), a kill during a lock; beside
them another process queues and unqueues extra airings. One parec recording of the sink's monitor is
streamed to disk and decoded block by block afterwards; after a last clean start of the daemon (its
journal settles) the as-run rows are compared with what was heard.
Peer measured in the same run: the same daemon, home and sink through --peer-airings airings (default
100, a shorter run) with no fault and no other process. Goal: 0 aired twice, 0 unaccounted.
Other figures printed: programmes on air together (by their own rows), completed rows whose code was
heard cut short, "not running" causes given while the daemon ran, and off-air style verdicts.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from soak_faults import Context, Fault, Supervisor, plan_faults, run_faults, running_spans
from soak_setup import EXTRA_CODE, MAIN_CODE, bench_env, code_fingerprint, queue_plan, set_up
from soak_sink import StreamRecorder, code_count, code_onset_in_file, decode
from soak_tally import ZONE, Airing, Row, Tally, print_table, tally
from sqlalchemy import select

from broadcaster.app import App, build_app
from broadcaster.config import load_config
from broadcaster.store.models import AiringRow, AsRunRow

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from pulse import PulseServer

BENCH = Path(__file__).resolve().parent
BIN = str(Path(sys.executable).with_name("broadcaster"))
FREE_EVERY = 10  # every tenth slot of the faulty run is left for the other process to fill


@dataclass
class Phase:
    """One run: its slots, what happened to the daemon and the faults, and its tally."""

    name: str
    folder: Path
    starts: list[float] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)
    alive: list[tuple[float, float]] = field(default_factory=list)  # a daemon had its jobs scheduled
    planned: list[float] = field(default_factory=list)  # starts of the airings still queued at the end
    queuer: list[dict[str, object]] = field(default_factory=list)
    tracebacks: int = 0
    load: list[float] = field(default_factory=list)  # 1-minute load average at the start and the end
    code: list[str] = field(default_factory=list)  # fingerprint of the package's sources, start and end
    offset_s: float = 0.0
    result: Tally | None = None


def wait_until(instant: float) -> None:
    """Sleep until a wall-clock instant."""
    while (left := instant - time.time()) > 0:
        time.sleep(min(left, 1.0))


def settle_journal(supervisor: Supervisor, home: Path) -> None:
    """A last clean start: the daemon writes what its journal still holds, then stops."""
    supervisor.run()
    deadline = time.time() + 120
    time.sleep(5)
    while time.time() < deadline and any(home.glob("onair-*.json")):
        time.sleep(1)
    supervisor.stop()


def run_phase(
    phase: Phase, app: App, env: dict[str, str], sink: str, bulletin_ids: list[int], args: argparse.Namespace
) -> None:
    """Air one run's plan through the supervised daemon (with faults when the phase has extras)."""
    faulty = phase.name != "no faults"
    home = Path(env["BROADCASTER_HOME"])
    main = bulletin_ids[: args.airings] if faulty else bulletin_ids
    extra = bulletin_ids[args.airings :] if faulty else []
    phase.starts, free = queue_plan(app, main, args.spacing, FREE_EVERY if faulty else 0)
    app.engine.dispose()
    logs = phase.folder / "logs"
    logs.mkdir(parents=True)
    recorder = StreamRecorder(sink, phase.folder)
    supervisor = Supervisor([BIN, "run"], env, logs)
    stop = threading.Event()
    queuer: subprocess.Popen[bytes] | None = None
    injector: threading.Thread | None = None
    recorder.start()
    phase.load.append(os.getloadavg()[0])
    phase.code.append(code_fingerprint())
    try:
        supervisor.run()
        if faulty:
            rng = random.Random(args.seed)
            phase.faults = plan_faults(rng, phase.starts, args.scale, args.lead, args.spacing)
            other = phase.folder.parent / "home-b"
            other_env = env | {"BROADCASTER_HOME": str(other)}
            other_env.setdefault("BROADCASTER_DATABASE_URL", f"sqlite:///{home / 'broadcaster.db'}")
            subprocess.run([BIN, "init"], env=other_env, check=True, capture_output=True, timeout=120)
            ctx = Context(supervisor, home / "broadcaster.db", home, [BIN, "run"], other_env)
            injector = threading.Thread(target=run_faults, args=(phase.faults, ctx, stop), daemon=True)
            injector.start()
            queuer = start_queuer(phase, env, free, extra, args.seed)
        wait_until(phase.starts[-1] + args.grace + 5)
    finally:
        stop.set()
        if injector is not None:
            injector.join(300)
        if queuer is not None:
            queuer.terminate()
            queuer.wait(60)
        supervisor.stop()
        settle_journal(supervisor, home)
        time.sleep(0.5)
        recorder.stop()
    phase.load.append(os.getloadavg()[0])
    phase.code.append(code_fingerprint())
    phase.events = supervisor.events
    phase.tracebacks = sum(p.read_text(errors="replace").count("Traceback") for p in logs.glob("*.log"))
    log_path = phase.folder / "queuer.jsonl"
    if log_path.exists():
        phase.queuer = [json.loads(line) for line in log_path.read_text().splitlines() if line.strip()]


def start_queuer(
    phase: Phase, env: dict[str, str], free: list[float], extra: list[int], seed: int
) -> subprocess.Popen[bytes]:
    """The other process that queues and unqueues while the daemon runs."""
    pairs = [(phase.starts[k - 1], t) for k, t in enumerate(phase.starts) if t in set(free) and k > 0]
    plan = {
        "seed": seed + 1,
        "free": free,
        "appendable": pairs,
        "bulletins": extra,
        "until": phase.starts[-1] - 10,
        "main_code": MAIN_CODE,
        "extra_code": EXTRA_CODE,
    }
    plan_path = phase.folder / "queuer-plan.json"
    plan_path.write_text(json.dumps(plan))
    argv = [sys.executable, str(BENCH / "soak_queuer.py"), str(plan_path), str(phase.folder / "queuer.jsonl")]
    out = (phase.folder / "queuer.log").open("wb")
    proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    out.close()
    return proc


def read_back(app: App, phase: Phase) -> tuple[list[Airing], list[Row]]:
    """The phase's airings and their as-run rows, from the database."""
    lo = datetime.fromtimestamp(phase.starts[0] - 1, UTC)
    hi = datetime.fromtimestamp(phase.starts[-1] + 1, UTC)

    def epoch(value: datetime | None) -> float | None:
        return value.timestamp() if value is not None else None

    with app.tx() as s:
        found = list(
            s.scalars(select(AiringRow).where(AiringRow.planned_start >= lo, AiringRow.planned_start <= hi))
        )
        airings = [
            Airing(a.id, a.bulletin_id, a.planned_start.timestamp(), a.position, a.cancelled_at is not None)
            for a in found
        ]
        ids = [a.id for a in airings]
        rows = [
            Row(
                r.airing_id,
                r.outcome,
                r.note,
                epoch(r.actual_start),
                epoch(r.actual_end),
                r.start_error_ms,
                r.corrects_id,
            )
            for r in s.scalars(select(AsRunRow).where(AsRunRow.airing_id.in_(ids)))
        ]
    return airings, rows


def code_offset(home: Path) -> float:
    """Where the code starts in an assembled programme (ident, gap, then the recording): seconds."""
    programmes = sorted((home / "media" / "programmes").glob("thu-*"), key=lambda p: p.stat().st_mtime)
    if not programmes:
        raise RuntimeError("no programme was assembled")
    offsets = sorted(code_onset_in_file(p) for p in programmes[-3:])
    return offsets[len(offsets) // 2]


def analyse(phase: Phase, app: App, code_of: dict[int, int], args: argparse.Namespace) -> None:
    """Decode the phase's recording and tally it against its rows."""
    phase.offset_s = code_offset(Path(app.config.home))
    decoded = decode(phase.folder / "sink.s16", phase.folder / "marks.bin")
    airings, rows = read_back(app, phase)
    phase.alive = running_spans(phase.events, phase.folder / "logs")
    phase.planned = sorted({a.planned for a in airings if not a.cancelled})
    phase.result = tally(
        phase.name,
        airings,
        rows,
        code_of,
        decoded,
        phase.offset_s,
        phase.faults,
        phase.alive,
        lead_s=args.lead,
        grace_s=args.grace,
    )


def report(peer: Phase, faulty: Phase, args: argparse.Namespace, verify: str) -> None:
    """Print the table, the faults and what the daemon and the other process did."""
    assert peer.result is not None and faulty.result is not None
    print()
    print(
        f"exactly-once soak: spacing {args.spacing:g} s, lead {args.lead:g} s, grace {args.grace:g} s, "
        f"re-sync {args.resync:g} s, seed {args.seed}, fault durations ÷{args.scale:g}; pacat to a null sink"
    )
    print(f"code onset in each programme (after the ident): {faulty.offset_s * 1000:.0f} ms")
    loads = ", ".join(f"{p.name} {p.load[0]:.1f} → {p.load[-1]:.1f}" for p in (peer, faulty) if p.load)
    print(f"machine load (1-min load average on {os.cpu_count()} cores, start → end): {loads}")
    codes = " → ".join(dict.fromkeys(c for p in (peer, faulty) for c in p.code))
    changed = " (CHANGED during the runs: restarts loaded other code)" if "→" in codes else ""
    print(f"package sources (sha256 prefix): {codes}{changed}")
    print_table(peer.result, faulty.result)
    t0 = faulty.starts[0]
    print(f"faults injected ({len(faulty.faults)}), seconds from the first airing:")
    for f in faulty.faults:
        said = list(f.what)
        if f.killed_at is not None:
            said.insert(0, _kill_moment(f.killed_at, faulty.planned, args.lead))
        print(f"  {f.start - t0:7.1f}  {f.label():<36} {' | '.join(said)}")
    exits = [e for e in faulty.events if e[1].startswith("exit")]
    starts = [e for e in faulty.events if e[1].startswith("start")]
    print(
        f"daemon: {len(starts)} starts, {len(exits)} exits on its own, "
        f"{faulty.tracebacks} tracebacks in its output"
    )
    for when, what in exits[:12]:
        print(f"  {when - t0:7.1f}  {what}")
    acts = [str(q["action"]) for q in faulty.queuer]
    counts = {a: acts.count(a) for a in ("queue", "append", "unqueue", "refused")}
    print(f"the other process: {counts}")
    for q in faulty.queuer:
        if q["action"] == "refused":
            print(f"  refused at {float(str(q['t'])) - t0:.1f} s: {q['error']}")
    print(f"no-faults run: {len(peer.events)} daemon events, {peer.tracebacks} tracebacks")
    print(f"log verify after both runs: {verify}")
    for phase in (peer, faulty):
        assert phase.result is not None
        for line in phase.result.problems + phase.result.unqueued_aired + phase.result.notes:
            print(f"[{phase.name}] {line}")
    bad = faulty.result.counts["aired twice"] + faulty.result.counts["unaccounted"]
    bad += faulty.result.counts["logged twice"]
    print(f"goal 0 aired twice, 0 logged twice, 0 unaccounted: {'met' if bad == 0 else 'NOT met'}")


def _kill_moment(at: float, planned: list[float], lead_s: float) -> str:
    """Where in the plan a kill landed (the plan, not what was on air then: a fault may have delayed it)."""
    before = max((t for t in planned if t <= at), default=None)
    after = min((t for t in planned if t > at), default=None)
    local = datetime.fromtimestamp(at, UTC).astimezone(ZONE).strftime("%H:%M:%S.%f")[:-3]
    if before is not None and at - before < 2.8:
        return f"kill -9 at {local}, {at - before:.2f} s after the planned start of a programme"
    if after is not None and after - at <= lead_s:
        return f"kill -9 at {local}, {after - at:.2f} s before a planned start (prepared and claimed)"
    return f"kill -9 at {local}, between programmes"


def main() -> None:
    """Set up one home, run the fault-free peer, then the faulty run, and print both."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--airings", type=int, default=500, help="airings queued for the faulty run (500)")
    parser.add_argument(
        "--peer-airings", type=int, default=100, help="airings of the run without faults (100)"
    )
    parser.add_argument(
        "--spacing", type=float, default=3.0, help="seconds between airings (3; a programme is 2.8 s)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the fault plan (1)")
    parser.add_argument("--scale", type=float, default=1.0, help="divide fault durations by this (1)")
    parser.add_argument("--lead", type=float, default=8.0, help="daemon's prepare lead, seconds (8)")
    parser.add_argument(
        "--grace", type=float, default=5.0, help="daemon's grace for a late start, seconds (5)"
    )
    parser.add_argument("--resync", type=float, default=0.5, help="daemon's re-sync period, seconds (0.5)")
    parser.add_argument(
        "--busy-timeout", type=float, default=0.0, help="SQLite busy timeout (default: the daemon's)"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 40 airings, 20 without faults, ÷6")
    parser.add_argument("--keep", type=Path, help="keep homes, recordings and logs in this folder")
    parser.add_argument("--reanalyse", type=Path, help="only decode and tally again a run kept with --keep")
    args = parser.parse_args()
    if args.reanalyse:
        reanalyse(args.reanalyse)
        return
    if args.quick:
        args.airings, args.peer_airings, args.scale = 40, 20, 6.0
    extras = args.airings // (FREE_EVERY - 1)
    needed = args.peer_airings + args.airings + extras
    if needed > code_count():
        raise SystemExit(f"{needed} airings need more codes than the {code_count()} there are")
    signal.signal(signal.SIGTERM, _interrupt)
    root = args.keep or Path(tempfile.mkdtemp(prefix="broadcaster-soak-"))
    root.mkdir(parents=True, exist_ok=True)
    home = root / "home"
    try:
        with PulseServer(f"bulletin_soak_{os.getpid()}") as server:
            env = bench_env(home, server.sink, args)
            os.environ.update(env)
            began = time.time()
            app, ids, code_of = set_up(home, needed)
            print(f"set-up: {needed} approved recordings in {time.time() - began:.0f} s")
            kept = {k: getattr(args, k) for k in _KEPT_ARGS}
            (root / "bench.json").write_text(json.dumps({"args": kept, "code_of": code_of}))
            peer = Phase("no faults", root / "peer")
            faulty = Phase("faults", root / "faults")
            for phase, share in ((peer, ids[: args.peer_airings]), (faulty, ids[args.peer_airings :])):
                print(f"run '{phase.name}': {len(share)} bulletins ...", flush=True)
                run_phase(phase, app, env, server.sink, share, args)
                save_phase(phase)
                analyse(phase, app, code_of, args)
            report(peer, faulty, args, verify_log(env))
            app.engine.dispose()
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


_KEPT_ARGS = (
    "airings",
    "peer_airings",
    "spacing",
    "seed",
    "scale",
    "lead",
    "grace",
    "resync",
    "busy_timeout",
)


def verify_log(env: dict[str, str]) -> str:
    """`broadcaster log verify` on the home: its exit code and last line."""
    done = subprocess.run([BIN, "log", "verify"], env=env, capture_output=True, text=True, timeout=300)
    said = (done.stdout + done.stderr).strip().splitlines()
    return f"exit {done.returncode}: {said[-1] if said else ''}"


def save_phase(phase: Phase) -> None:
    """What the run did (plan, faults, daemon events), beside its recording, for --reanalyse."""
    data = {
        "starts": phase.starts,
        "faults": [dataclasses.asdict(f) for f in phase.faults],
        "events": phase.events,
        "queuer": phase.queuer,
        "tracebacks": phase.tracebacks,
        "load": phase.load,
        "code": phase.code,
    }
    (phase.folder / "phase.json").write_text(json.dumps(data, ensure_ascii=False))


def load_phase(name: str, folder: Path) -> Phase:
    """A phase saved by save_phase."""
    data = json.loads((folder / "phase.json").read_text())
    return Phase(
        name,
        folder,
        starts=data["starts"],
        faults=[Fault(**f) for f in data["faults"]],
        events=[(float(t), str(w)) for t, w in data["events"]],
        queuer=data["queuer"],
        tracebacks=data["tracebacks"],
        load=data["load"],
        code=data.get("code", []),
    )


def reanalyse(root: Path) -> None:
    """Decode and tally a kept run again (the daemon is not started)."""
    saved = json.loads((root / "bench.json").read_text())
    args = argparse.Namespace(**saved["args"])
    code_of = {int(k): int(v) for k, v in saved["code_of"].items()}
    env = bench_env(root / "home", "", args)
    os.environ.update(env)
    app = build_app(load_config())
    peer, faulty = load_phase("no faults", root / "peer"), load_phase("faults", root / "faults")
    for phase in (peer, faulty):
        analyse(phase, app, code_of, args)
    report(peer, faulty, args, verify_log(env))
    app.engine.dispose()


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
