"""The station's ear: records what leaves it while a programme airs, judges every item, keeps the evidence.

The daemon asks `Ear.listen` as an airing job fires (before the set time), tells the listening when the
player started (after `start()` returned, so the start is never delayed) and hands it the programme
and its as-run entries once they are settled. The recording runs in its own process (parec on a
PulseAudio source — by default the output's monitor — or ffmpeg on an ALSA capture device) read by its
own thread; the judging runs in another thread after the airing, so nothing here holds up the next one.

Each programme leaves, under HOME/offair/<local date>/, its recording (Opus) and a verdict file;
`deliver` (the services' writer, given by the App) puts the verdicts in the database beside the
as-run rows. A verdict file still named `*.pending.json` is retried by `housekeep`, which also
prunes the evidence older than `keep_days`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from broadcaster import labels
from broadcaster.audio.offair import EAR_RATE, EarRules, decode_pcm, encode_evidence, judge_item
from broadcaster.clock import Clock
from broadcaster.domain import AsRunEntry, OffAir, Outcome
from broadcaster.errors import BroadcasterError
from broadcaster.files import write_atomic
from broadcaster.playout.asrun import ItemSpan

log = logging.getLogger("broadcaster.ear")

EAR_DIR = "offair"
PENDING = ".pending.json"
DONE = ".json"
# After the player ends, sound still in the output's buffers reaches the monitor: record this long more.
TAIL_S = 0.8
# A chunk quieter than this (RMS, int16 units; about −50 dBFS) is dead air for the live alarm.
_DEAD_RMS = 32768 * 10 ** (-50 / 20)
_STAMP = "%Y%m%dT%H%M%S%fZ"

Deliver = Callable[[Path], bool]


@dataclass(frozen=True)
class EarSettings:
    """Where the ear listens and how it judges and keeps what it heard."""

    capture: str  # a PulseAudio source ("<sink>.monitor") or "alsa:<device>"
    rules: EarRules = field(default_factory=EarRules)
    keep_days: int = 30
    bitrate: str = "24k"


def capture_argv(capture: str, rate: int = EAR_RATE) -> list[str]:
    """The recording command for `capture`: mono s16le at `rate` on stdout."""
    out = ["-ac", "1", "-ar", str(rate), "-f", "s16le", "-"]
    if capture.startswith("alsa:"):
        return ["ffmpeg", "-nostdin", "-v", "error", "-f", "alsa", "-i", capture.removeprefix("alsa:"), *out]
    return [
        "parec",
        "-d",
        capture,
        "--raw",
        "--format=s16le",
        f"--rate={rate}",
        "--channels=1",
        "--latency-msec=50",
    ]


class Capture:
    """One recording process and the thread that reads it, stamping each chunk on the clock's monotonic."""

    def __init__(self, argv: list[str], clock: Clock, rate: int, silence_s: float) -> None:
        self.rate = rate
        self._clock = clock
        self._silence_s = silence_s
        self._proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._chunks: list[bytes] = []
        self._marks: list[tuple[float, int]] = []  # (monotonic when read, samples read by then)
        self._lock = threading.Lock()
        self._armed_at: float | None = None
        self._dead_since: float | None = None
        self.alarms: list[float] = []  # monotonic instants the live alarm rang (dead air for silence_s)
        self._reader = threading.Thread(target=self._read, name="ear-read", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        fd, total, odd = self._proc.stdout.fileno(), 0, b""
        while True:
            try:
                chunk = os.read(fd, 16384)
            except OSError:
                return
            if not chunk:
                return
            stamp = self._clock.monotonic()
            chunk = odd + chunk
            usable = len(chunk) - len(chunk) % 2
            chunk, odd = chunk[:usable], chunk[usable:]
            total += usable // 2
            with self._lock:
                self._chunks.append(chunk)
                self._marks.append((stamp, total))
            self._watch(chunk, stamp)

    def _watch(self, chunk: bytes, stamp: float) -> None:
        """The live alarm: dead air for `silence_s` while armed is logged at once (the verdict follows)."""
        if self._armed_at is None or not chunk:
            return
        level = float(np.sqrt(np.mean(np.frombuffer(chunk, dtype=np.int16).astype(np.float64) ** 2)))
        if level >= _DEAD_RMS:
            self._dead_since = None
            return
        if self._dead_since is None:
            self._dead_since = max(stamp - len(chunk) / 2 / self.rate, self._armed_at)
        if stamp - self._dead_since >= self._silence_s and (
            not self.alarms or self.alarms[-1] < self._dead_since
        ):
            self.alarms.append(stamp)
            log.error("Mất tiếng trên đường ra loa đã %.0f giây.", stamp - self._dead_since)

    def arm(self, mono: float) -> None:
        """Audio is expected from `mono` on: the live alarm watches from then."""
        self._armed_at = mono

    def index_at(self, mono: float) -> int | None:
        """The index of the sample recorded at monotonic `mono` (None if nothing was read after it)."""
        with self._lock:
            later = [(t, n) for t, n in self._marks if t >= mono][:8]
        if not later:
            return None
        # A chunk is read after its last sample was recorded: each mark bounds the index from below.
        return max(0, max(int(n - (t - mono) * self.rate) for t, n in later))

    def stop(self) -> bytes:
        """End the recording; every sample read (mono s16le)."""
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(5)
        self._reader.join(5)
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        with self._lock:
            return b"".join(self._chunks)


class Listening:
    """The ear on one programme: begun with the player, judged once the programme's rows are settled."""

    def __init__(self, ear: Ear, planned_start: datetime, capture: Capture) -> None:
        self._ear = ear
        self.planned_start = planned_start
        self._capture = capture
        self._began: float | None = None
        self._handed = False
        self.thread: threading.Thread | None = None

    def began(self, mono: float) -> None:
        """The player started at monotonic `mono`."""
        self._began = mono
        self._capture.arm(mono)

    def ended(
        self, programme: Path, items: Sequence[ItemSpan], entries: Sequence[AsRunEntry], played_s: float
    ) -> None:
        """Judge the programme in the background: stop after the output's tail, compare, keep, deliver.

        `played_s`: how much of the programme played (an interrupted one is judged up to there).
        """
        if self._began is None or self._handed:
            self.close()  # nothing to judge: the recording still ends
            return
        self._handed = True
        self.thread = threading.Thread(
            target=self._judge,
            args=(programme, tuple(items), tuple(entries), played_s),
            name="ear-judge",
            daemon=True,
        )
        self.thread.start()

    def close(self) -> None:
        """Stop recording if the programme never aired (nothing to judge)."""
        if not self._handed:
            self._handed = True
            self._capture.stop()

    def _judge(
        self, programme: Path, items: tuple[ItemSpan, ...], entries: tuple[AsRunEntry, ...], played_s: float
    ) -> None:
        try:
            self._ear.clock_sleep(TAIL_S)
            pcm = self._capture.stop()
            self._ear.keep(self, programme, items, entries, pcm, played_s)
        except Exception:  # the ear never stops the station: the airing itself is logged already
            log.exception("Không kiểm tra được âm thanh phát ra của buổi %s", self.planned_start.isoformat())

    @property
    def began_at(self) -> float | None:
        """The player's start on the monotonic clock."""
        return self._began

    @property
    def capture(self) -> Capture:
        """The recording."""
        return self._capture


class Ear:
    """Listens to the station's output for each programme and writes what it heard."""

    def __init__(self, settings: EarSettings, folder: Path, clock: Clock, deliver: Deliver) -> None:
        self.settings = settings
        self.folder = folder
        self._clock = clock
        self._deliver = deliver
        self._lock = threading.Lock()

    def listen(self, planned_start: datetime) -> Listening | None:
        """Start recording now for the programme due at `planned_start` (None: the capture cannot start)."""
        argv = capture_argv(self.settings.capture)
        if shutil.which(argv[0]) is None:
            log.warning("Không có chương trình %s để nghe đường ra loa; bỏ qua kiểm tra.", argv[0])
            return None
        try:
            capture = Capture(argv, self._clock, EAR_RATE, self.settings.rules.silence_s)
        except OSError as exc:
            log.warning("Không bật được ghi âm đường ra loa (%s); bỏ qua kiểm tra.", exc)
            return None
        return Listening(self, planned_start, capture)

    @staticmethod
    def clock_sleep(seconds: float) -> None:
        """Wait real time (sound takes real time to leave the buffers, whatever the daemon's clock)."""
        threading.Event().wait(seconds)

    def paths(self, planned_start: datetime) -> tuple[Path, Path]:
        """Where one programme's recording and verdicts go (by UTC date, then instant)."""
        instant = planned_start.astimezone(UTC)
        day = self.folder / instant.strftime("%Y-%m-%d")
        stem = instant.strftime(_STAMP)
        return day / f"{stem}.opus", day / f"{stem}{PENDING}"

    def keep(
        self,
        listening: Listening,
        programme: Path,
        items: Sequence[ItemSpan],
        entries: Sequence[AsRunEntry],
        pcm: bytes,
        played_s: float,
    ) -> Path:
        """Judge every played item against the programme, keep the recording and verdicts, deliver them."""
        recording, verdicts = self.paths(listening.planned_start)
        began = listening.began_at
        assert began is not None
        capture = listening.capture
        offset = capture.index_at(began)
        recorded = np.frombuffer(pcm, dtype=np.int16)
        reference = decode_pcm(programme, capture.rate)
        now = self._clock.now()
        mono_now = self._clock.monotonic()
        rows: list[dict[str, Any]] = []
        for item, entry in zip(items, entries, strict=False):
            if entry.outcome not in (Outcome.COMPLETED, Outcome.INTERRUPTED) or entry.airing_id is None:
                continue
            judged = (
                judge_item(
                    reference, recorded, offset, item.spans, played_s, capture.rate, self.settings.rules
                )
                if offset is not None
                else None
            )
            if judged is None:
                continue
            detected = now
            if judged.verdict is OffAir.SILENT:
                first, last = began + item.spans[0][0], began + item.spans[-1][1]
                rung = [a for a in capture.alarms if first <= a <= last + TAIL_S]
                if rung:
                    detected = now - timedelta(seconds=mono_now - rung[0])
            rows.append(
                {
                    "airing_id": entry.airing_id,
                    "planned_start": entry.planned_start.isoformat() if entry.planned_start else None,
                    "actual_start": entry.actual_start.isoformat() if entry.actual_start else None,
                    "verdict": judged.verdict.value,
                    "similarity": judged.similarity,
                    "dead_air_s": judged.dead_air_s,
                    "delay_s": judged.delay_s,
                    "detected_at": detected.isoformat(),
                }
            )
            if judged.verdict is not OffAir.HEARD:
                log.error(
                    "Buổi %s, mục '%s': %s (giống %.2f, lặng %.1f s).",
                    listening.planned_start.isoformat(),
                    item.title,
                    labels.off_air(judged.verdict),
                    judged.similarity,
                    judged.dead_air_s,
                )
        encode_evidence(pcm, capture.rate, recording, self.settings.bitrate)
        doc = {
            "planned_start": listening.planned_start.isoformat(),
            "recording": recording.name,
            "decided_at": now.isoformat(),
            "items": rows,
        }
        write_atomic(verdicts, json.dumps(doc, ensure_ascii=False, indent=1).encode())
        self._try_deliver(verdicts)
        return verdicts

    def _try_deliver(self, path: Path) -> bool:
        with self._lock:
            if not path.exists():
                return True
            try:
                done = self._deliver(path)
            except BroadcasterError as exc:
                log.warning("Chưa ghi được kết quả nghe đường ra loa: %s", exc.one_line())
                return False
            if done:
                path.rename(path.with_name(path.name.removesuffix(PENDING) + DONE))
            return done

    def pending(self) -> list[Path]:
        """Verdict files not yet in the database, oldest first."""
        return sorted(self.folder.glob(f"*/*{PENDING}")) if self.folder.is_dir() else []

    def housekeep(self) -> None:
        """Deliver what waits (its as-run rows may have been late), then prune old evidence."""
        for path in self.pending():
            if not self._try_deliver(path):
                break
        self.prune(self._clock.now())

    def prune(self, now: datetime) -> int:
        """Remove recordings and verdict files of days older than `keep_days` before `now`; how many."""
        return prune(self.folder, self.settings.keep_days, now)


def prune(folder: Path, keep_days: int, now: datetime) -> int:
    """Remove the evidence files under `folder` made more than `keep_days` days before `now`."""
    if not folder.is_dir():
        return 0
    cutoff = now.astimezone(UTC) - timedelta(days=keep_days)
    removed = 0
    for day in sorted(p for p in folder.iterdir() if p.is_dir()):
        for path in day.iterdir():
            stamp = path.name.split(".", 1)[0]
            try:
                made = datetime.strptime(stamp, _STAMP).replace(tzinfo=UTC)
            except ValueError:
                continue  # not ours
            if made < cutoff:
                path.unlink(missing_ok=True)
                removed += 1
        if not any(day.iterdir()):
            day.rmdir()
    return removed


class Ears:
    """The daemon's side of the ear: one listening per programme airing, each call a line in the daemon."""

    def __init__(self, ear: Ear | None, clock: Clock) -> None:
        self.ear = ear
        self._clock = clock
        self._lock = threading.Lock()
        self._open: dict[datetime, Listening] = {}
        self.judging: list[threading.Thread] = []

    def open(self, planned_start: datetime) -> None:
        """An airing job fired: start recording before the set time (the capture needs a moment)."""
        if self.ear is None:
            return
        listening = self.ear.listen(planned_start)
        if listening is not None:
            with self._lock:
                self._open[planned_start] = listening

    def began(self, planned_start: datetime) -> None:
        """The player has started (called after `start()` returned: the start is never delayed)."""
        with self._lock:
            listening = self._open.get(planned_start)
        if listening is not None:
            listening.began(self._clock.monotonic())

    def ended(
        self,
        planned_start: datetime,
        programme: Path,
        items: Sequence[ItemSpan],
        entries: Sequence[AsRunEntry],
        played_s: float,
    ) -> None:
        """The programme's rows are settled: judge what was heard, in the background."""
        with self._lock:
            listening = self._open.pop(planned_start, None)
        if listening is None:
            return
        listening.ended(programme, items, entries, played_s)
        if listening.thread is not None:
            with self._lock:
                self.judging = [t for t in self.judging if t.is_alive()] + [listening.thread]

    def close(self, planned_start: datetime) -> None:
        """The airing job is over: stop a recording that was never handed on (nothing aired)."""
        with self._lock:
            listening = self._open.pop(planned_start, None)
        if listening is not None:
            listening.close()

    def wait(self, timeout: float) -> bool:
        """Block until every judging in progress is done (tests and `stop`); False on timeout."""
        with self._lock:
            threads = list(self.judging)
        deadline = self._clock.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - self._clock.monotonic()))
        return not any(t.is_alive() for t in threads)
