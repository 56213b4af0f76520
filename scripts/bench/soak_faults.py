"""Soak bench, the faults: a systemd-like supervisor of `broadcaster run`, and the faults it suffers.

Faults (planned up front from a seeded RNG, injected from outside the daemon): kill -9 and restart
after a pause; another process holding `BEGIN EXCLUSIVE` on the SQLite file; a folder the daemon
writes before air (its decode folder HOME/tmp or media/programmes) made read-only by a bind mount; a
second `broadcaster run` with another home on the same database (it must refuse); a kill during a
lock (the rows it kept in its journal must reach the database after the restart). Concurrent
queueing runs beside them as its own process (`soak_queuer.py`).
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

RESTART_S = 5.0  # RestartSec of scripts/broadcaster.service (Restart=on-failure)
KINDS = ("kill", "dblock", "readonly", "second", "kill-in-lock")
_LOCK_CODE = """
import sqlite3, sys, time
from datetime import datetime, UTC
con = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=120)
con.execute("BEGIN EXCLUSIVE")
print("taken", datetime.now(UTC).isoformat(), flush=True)
time.sleep(float(sys.argv[2]))
con.execute("COMMIT")
print("released", datetime.now(UTC).isoformat(), flush=True)
"""


@dataclass
class Fault:
    """One planned fault: kind, wall-clock start, how long it lasts; `what` says what happened."""

    kind: str
    start: float
    seconds: float
    pause: float = 0.0  # kill: seconds before the restart; kill-in-lock: seconds into the lock
    target: str = ""  # readonly: which folder
    what: list[str] = field(default_factory=list)
    end: float = 0.0
    killed_at: float | None = None  # when the kill -9 was sent

    def label(self) -> str:
        """A short description for the table."""
        detail = {
            "kill": f"pause {self.pause:.1f} s",
            "dblock": f"{self.seconds:.0f} s",
            "readonly": f"{self.target} {self.seconds:.0f} s",
            "second": "",
            "kill-in-lock": f"lock {self.seconds:.0f} s, kill at +{self.pause:.0f} s",
        }[self.kind]
        return f"{self.kind} {detail}".strip()


def plan_faults(
    rng: random.Random, starts: Sequence[float], scale: float, lead_s: float, spacing: float
) -> list[Fault]:
    """Faults one after another over the airings' starts, every kind in each shuffled round."""
    faults: list[Fault] = []
    t = starts[0] + 3 * spacing
    end = starts[-1] - 4 * spacing
    bag: list[str] = []
    while True:
        if not bag:
            bag = list(KINDS)
            rng.shuffle(bag)
        kind = bag.pop()
        fault = _one(rng, kind, t, scale, starts, lead_s)
        if fault.start + fault.seconds + fault.pause > end:
            break
        faults.append(fault)
        t = fault.start + fault.seconds + fault.pause + rng.uniform(15, 40) / scale + spacing
    return faults


def _one(
    rng: random.Random, kind: str, t: float, scale: float, starts: Sequence[float], lead_s: float
) -> Fault:
    if kind == "kill":
        # Aim at the moments that matter: mid-programme, between claim and air, or anywhere.
        near = min((s for s in starts if s > t), default=t)
        at = rng.choice([near + rng.uniform(0.2, 1.3), near - rng.uniform(0.3, lead_s), t])
        return Fault(kind, at, 0.0, pause=rng.uniform(1, 8))
    if kind == "dblock":
        return Fault(kind, t, rng.uniform(5, 90) / scale)
    if kind == "readonly":
        return Fault(kind, t, rng.uniform(5, 30) / scale, target=rng.choice(["tmp", "media/programmes"]))
    if kind == "second":
        return Fault(kind, t, 0.0)
    seconds = rng.uniform(20, 90) / scale
    return Fault(kind, t, seconds, pause=seconds * rng.uniform(0.2, 0.6))


class Supervisor:
    """Keeps one `broadcaster run` going like systemd (Restart=always): restarts it after it exits."""

    def __init__(self, argv: list[str], env: dict[str, str], logs: Path) -> None:
        self._argv = argv
        self._env = env
        self._logs = logs
        self._proc: subprocess.Popen[bytes] | None = None
        self._want = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self.events: list[tuple[float, str]] = []
        self.starts = 0

    def run(self) -> None:
        """Start the daemon and watch it."""
        with self._lock:
            self._want = True
            self._spawn()
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="soak-supervisor", daemon=True)
            self._thread.start()

    def _spawn(self) -> None:
        self.starts += 1
        log = (self._logs / f"daemon-{self.starts:03d}.log").open("wb")
        self._proc = subprocess.Popen(self._argv, env=self._env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.events.append((time.time(), f"start #{self.starts} pid {self._proc.pid}"))

    def _watch(self) -> None:
        while not self._done.wait(0.2):
            with self._lock:
                proc = self._proc
                if not self._want or proc is None or proc.poll() is None:
                    continue
                self.events.append(
                    (time.time(), f"exit {proc.returncode} (#{self.starts}): {self.last_line()}")
                )
                self._proc = None
            time.sleep(RESTART_S)
            with self._lock:
                if self._want and self._proc is None:
                    self._spawn()

    def last_line(self) -> str:
        """The last line the current (or last) daemon printed."""
        path = self._logs / f"daemon-{self.starts:03d}.log"
        lines = path.read_text(errors="replace").strip().splitlines() if path.exists() else []
        return lines[-1][:200] if lines else ""

    def kill9(self) -> float | None:
        """kill -9 the daemon (not restarted until `run`); returns when, None if none was running."""
        with self._lock:
            self._want = False
            proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return None
        at = time.time()
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        self.events.append((at, f"kill -9 pid {proc.pid}"))
        return at

    def stop(self) -> int | None:
        """SIGTERM, as systemd stops it; returns its exit code."""
        with self._lock:
            self._want = False
            proc, self._proc = self._proc, None
        self._done.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        self._done.clear()
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        self.events.append((time.time(), f"stopped, exit {proc.returncode}"))
        return proc.returncode


@dataclass
class Context:
    """What the injectors act on."""

    supervisor: Supervisor
    db_path: Path
    home: Path
    second_argv: list[str]
    second_env: dict[str, str]


@contextlib.contextmanager
def held_lock(db_path: Path, seconds: float, what: list[str]) -> Iterator[None]:
    """Another process holds BEGIN EXCLUSIVE on the database for `seconds` (entered once it holds it)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _LOCK_CODE, str(db_path), f"{seconds:.3f}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    began = time.time()
    line = proc.stdout.readline().strip()
    what.append(
        f"lock taken after {time.time() - began:.1f} s" if line.startswith("taken") else f"lock: {line!r}"
    )
    try:
        yield
    finally:
        _out, err = proc.communicate(timeout=seconds + 150)
        if proc.returncode != 0:
            what.append(f"lock holder exit {proc.returncode}: {err.strip()[-200:]}")


@contextlib.contextmanager
def read_only(folder: Path, what: list[str]) -> Iterator[None]:
    """The folder read-only for real: a read-only bind mount as root (root ignores modes), else chmod."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        done = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True, text=True)
        if done.returncode != 0:
            what.append(f"not injected: mount failed: {done.stderr.strip()}")
            yield
            return
        try:
            subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], check=True, capture_output=True)
            yield
        finally:
            # A programme playing from the folder keeps a file open there (EBUSY): detach it lazily then.
            if subprocess.run(["umount", str(folder)], check=False, capture_output=True).returncode != 0:
                what.append("busy at the end: lazy unmount")
                subprocess.run(["umount", "-l", str(folder)], check=True, capture_output=True)
        return
    mode = folder.stat().st_mode
    folder.chmod(0o555)
    try:
        yield
    finally:
        folder.chmod(mode)


def second_daemon(ctx: Context, what: list[str]) -> None:
    """Start `broadcaster run` in another home on the same database; it must exit 1 at once."""
    proc = subprocess.Popen(
        ctx.second_argv, env=ctx.second_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        _out, err = proc.communicate(timeout=45)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
        what.append(f"NOT REFUSED: second daemon ran for 45 s (exit {proc.returncode} after SIGTERM)")
        return
    line = err.strip().splitlines()[-1][:160] if err.strip() else ""
    verdict = "refused" if proc.returncode == 1 else f"exit {proc.returncode}"
    what.append(f"{verdict}: {line}")


def inject(fault: Fault, ctx: Context) -> None:
    """Carry out one fault (blocking until it is over)."""
    what = fault.what
    if fault.kind == "kill":
        fault.killed_at = ctx.supervisor.kill9()
        time.sleep(fault.pause)
        ctx.supervisor.run()
    elif fault.kind == "dblock":
        with held_lock(ctx.db_path, fault.seconds, what):
            pass
    elif fault.kind == "readonly":
        with read_only(ctx.home / fault.target, what):
            time.sleep(fault.seconds)
    elif fault.kind == "second":
        second_daemon(ctx, what)
    elif fault.kind == "kill-in-lock":
        with held_lock(ctx.db_path, fault.seconds, what):
            time.sleep(fault.pause)
            fault.killed_at = ctx.supervisor.kill9()
            time.sleep(2.0)
            ctx.supervisor.run()  # starts while the database is still locked
    fault.end = time.time()


def run_faults(faults: Sequence[Fault], ctx: Context, stop: threading.Event) -> None:
    """Inject the planned faults at their times, one after another."""
    for fault in faults:
        delay = fault.start - time.time()
        if delay > 0 and stop.wait(delay):
            return
        fault.start = time.time()
        try:
            inject(fault, ctx)
        except Exception as exc:  # a fault that could not be injected is reported, not fatal
            fault.what.append(f"injector error: {exc!r}")
            fault.end = time.time()


_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) .*Tự kiểm tra")


def running_spans(events: Sequence[tuple[float, str]], logs: Path) -> list[tuple[float, float]]:
    """Spans in which a daemon had scheduled its jobs: from its first self-check line to its end."""
    # The self-check is logged after Daemon.start returned (jobs scheduled): a conservative start.
    spans: list[tuple[float, float]] = []
    ready: float | None = None
    for at, what in events:
        if what.startswith("start #"):
            number = int(what.split()[1][1:])
            ready = _first_check(logs / f"daemon-{number:03d}.log")
        elif ready is not None:
            if ready < at:
                spans.append((ready, at))
            ready = None
    return spans


def _first_check(path: Path) -> float | None:
    if not path.exists():
        return None
    for line in path.read_text(errors="replace").splitlines():
        if found := _STAMP.match(line):  # the daemon logs in the local time of this machine
            return datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
    return None
