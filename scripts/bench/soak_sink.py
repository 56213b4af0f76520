"""Soak bench, the sink side: two-tone code clips, a parec recording streamed to disk, and its decoder.

Each airing's clip is two simultaneous sine tones (CODE_S long) picked from FREQS; the pair is the
airing's code. The recording of the sink's monitor goes to a raw file (mono s16le) with a second file
of arrival stamps (wall clock, samples so far) per chunk, so memory stays flat however long the run.
The decoder reads the raw file in blocks (memory-mapped), labels every 10-ms frame with the code whose
two tones dominate its spectrum, and turns runs of one label into heard codes with their onset instant.
"""

from __future__ import annotations

import os
import struct
import subprocess
import threading
import time
import wave
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np
import numpy.typing as npt

RATE = 48000
FREQS = tuple(500.0 + 60.0 * k for k in range(48))
# Pairs of tones at least two steps apart (adjacent tones blur in a short window): 1081 codes.
PAIRS = tuple((a, b) for a, b in combinations(range(len(FREQS)), 2) if b - a >= 2)
CODE_S = 0.6
HOP = 480  # 10 ms frames
WINDOW = 4096  # 85 ms: 11.7 Hz bins, tones 60 Hz apart are 5 bins apart
LOUD = 600  # int16 units: sound vs the null sink's digital silence (as tests/pulse.py)
_MARK = struct.Struct("<dq")  # wall-clock stamp on arrival, samples received including this chunk
_BLOCK_FRAMES = 2000  # 20 s of frames per decoding block
_TONAL = 0.6  # share of the 300-4000 Hz power in the two strongest code tones
_MIN_FRAMES = 5  # shortest run counted as a (partial) code: about 0.13 s of tone
_COMPLETE_FRAMES = 45  # a 0.6-s code gives ~52 labelled frames; fewer means it was cut
MERGE_S = 2.0  # a programme (ident, gap, code, tail) lasts 2.8 s


def code_count() -> int:
    """How many distinct codes exist."""
    return len(PAIRS)


def write_code_clip(index: int, path: Path) -> None:
    """A WAV (48 kHz mono) with code `index`: its two tones together, 5-ms fades so the onset is clean."""
    a, b = PAIRS[index]
    t = np.arange(int(CODE_S * RATE)) / RATE
    signal = 0.3 * np.sin(2 * np.pi * FREQS[a] * t) + 0.3 * np.sin(2 * np.pi * FREQS[b] * t)
    fade = int(0.005 * RATE)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, fade))
    signal[:fade] *= ramp
    signal[-fade:] *= ramp[::-1]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes((signal * 32767).astype("<i2").tobytes())


class StreamRecorder:
    """parec on a sink's monitor, written to `folder/sink.s16` with arrival stamps in `folder/marks.bin`."""

    def __init__(self, sink: str, folder: Path, *, latency_ms: int = 20) -> None:
        self.raw_path = folder / "sink.s16"
        self.marks_path = folder / "marks.bin"
        self._argv = ["parec", "-d", f"{sink}.monitor", "--raw", "--format=s16le"]
        self._argv += [f"--rate={RATE}", "--channels=1", f"--latency-msec={latency_ms}"]
        self._proc: subprocess.Popen[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()

    def start(self) -> None:
        """Start recording; returns once samples flow."""
        self._proc = subprocess.Popen(self._argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._thread = threading.Thread(target=self._read, name="soak-recorder", daemon=True)
        self._thread.start()
        if not self._started.wait(10):
            self.stop()
            raise RuntimeError("parec recorded nothing within 10 s")

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        fd = self._proc.stdout.fileno()
        total, odd = 0, b""
        with self.raw_path.open("wb") as raw, self.marks_path.open("wb") as marks:
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                stamp = time.time()
                chunk = odd + chunk
                usable = len(chunk) - len(chunk) % 2
                chunk, odd = chunk[:usable], chunk[usable:]
                raw.write(chunk)
                total += usable // 2
                marks.write(_MARK.pack(stamp, total))
                self._started.set()

    def stop(self) -> None:
        """Stop parec and close the files."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.terminate()
            proc.wait(5)
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()


@dataclass(frozen=True)
class Heard:
    """One code heard at the sink: its index, the wall-clock instant of its first sound, how long."""

    code: int
    onset: float
    seconds: float

    @property
    def complete(self) -> bool:
        """True when (nearly) all of the clip was heard."""
        return self.seconds * 100 >= _COMPLETE_FRAMES


class SampleClock:
    """Maps sample indices of a recording to wall-clock instants from its arrival stamps."""

    def __init__(self, marks_path: Path, rate: int = RATE) -> None:
        data = np.fromfile(marks_path, dtype=np.dtype([("stamp", "<f8"), ("total", "<i8")]))
        if data.size == 0:
            raise RuntimeError("the recording has no samples")
        self._rate = rate
        self._totals = data["total"]
        # A chunk cannot arrive before its last sample was rendered: stamp - samples/rate bounds the
        # instant of sample 0 from above; the least bound over the next second of chunks is the estimate.
        bound = data["stamp"] - data["total"] / rate
        per_s = max(1, int(rate / max(1.0, float(np.median(np.diff(self._totals, prepend=0))))))
        padded = np.concatenate([bound, np.full(per_s - 1, np.inf)])
        self._zero = np.lib.stride_tricks.sliding_window_view(padded, per_s).min(axis=1)

    @property
    def samples(self) -> int:
        """How many samples were recorded."""
        return int(self._totals[-1])

    def wall(self, index: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Wall-clock instants (seconds since the epoch) of these sample indices."""
        idx = np.asarray(index, dtype=np.int64)
        k = np.minimum(np.searchsorted(self._totals, idx, side="right"), self._totals.size - 1)
        return np.asarray(idx / self._rate + self._zero[k], dtype=np.float64)


@dataclass
class Decoded:
    """What the recording holds: the codes heard and a 10-ms peak envelope for silence checks."""

    heard: list[Heard]
    envelope: npt.NDArray[np.uint16]
    clock: SampleClock

    def loud_between(self, start: float, end: float) -> bool:
        """True when anything louder than digital silence reached the sink between two wall instants."""
        first = self._frame_at(start)
        last = self._frame_at(end)
        return bool(last > first and self.envelope[first:last].max(initial=0) > LOUD)

    def _frame_at(self, instant: float) -> int:
        # Frame k starts at sample k*HOP; invert the (monotonic) sample clock by bisection on frames.
        lo, hi = 0, len(self.envelope)
        while lo < hi:
            mid = (lo + hi) // 2
            if float(self.clock.wall([mid * HOP])[0]) < instant:
                lo = mid + 1
            else:
                hi = mid
        return lo


def _labels_of(
    block: npt.NDArray[np.float32], bins: npt.NDArray[np.int64], band: slice
) -> npt.NDArray[np.int16]:
    """Code index per frame (-1: no code) for frames of WINDOW samples."""
    spectrum = np.abs(np.fft.rfft(block * np.hanning(WINDOW).astype(np.float32), axis=1)) ** 2
    near = spectrum[:, bins[:, None] + np.arange(-1, 2)[None, :]].sum(axis=2)  # (frames, tones)
    total = spectrum[:, band].sum(axis=1) + 1e-9
    order = np.argsort(near, axis=1)
    top, second = order[:, -1], order[:, -2]
    rows = np.arange(len(block))
    p1, p2 = near[rows, top], near[rows, second]
    tonal = ((p1 + p2) / total > _TONAL) & (p2 > 0.1 * p1)
    lo, hi = np.minimum(top, second), np.maximum(top, second)
    lookup = np.full((len(FREQS), len(FREQS)), -1, dtype=np.int16)
    for index, (a, b) in enumerate(PAIRS):
        lookup[a, b] = index
    return np.where(tonal, lookup[lo, hi], -1).astype(np.int16)


def decode(raw_path: Path, marks_path: Path) -> Decoded:
    """Every code heard in a recording, and its envelope, reading the file block by block."""
    clock = SampleClock(marks_path)
    samples = np.memmap(raw_path, dtype="<i2", mode="r")
    n = min(len(samples), clock.samples)
    frames = max(0, (n - WINDOW) // HOP + 1)
    labels = np.full(frames, -1, dtype=np.int16)
    envelope = np.zeros(n // HOP, dtype=np.uint16)
    bin_hz = RATE / WINDOW
    bins = np.array([round(f / bin_hz) for f in FREQS], dtype=np.int64)
    band = slice(round(300 / bin_hz), round(4000 / bin_hz))
    for first in range(0, frames, _BLOCK_FRAMES):
        count = min(_BLOCK_FRAMES, frames - first)
        chunk = np.asarray(samples[first * HOP : first * HOP + (count - 1) * HOP + WINDOW], dtype=np.float32)
        view = np.lib.stride_tricks.sliding_window_view(chunk, WINDOW)[::HOP][:count]
        labels[first : first + count] = _labels_of(view, bins, band)
    for first in range(0, len(envelope), _BLOCK_FRAMES * 10):
        last = min(len(envelope), first + _BLOCK_FRAMES * 10)
        part = np.abs(np.asarray(samples[first * HOP : last * HOP], dtype=np.int32))
        envelope[first:last] = np.minimum(part.reshape(-1, HOP).max(axis=1), 65535)
    heard = [
        Heard(code, float(clock.wall([_onset(samples, start)])[0]), length / 100)
        for code, start, length in _runs(labels)
    ]
    return Decoded(_merged(heard), envelope, clock)


def _merged(heard: list[Heard]) -> list[Heard]:
    """One detection per airing: pieces of one code closer than a programme's length are one hearing.

    Another programme mixed over a code (two on air at once) can break its run in two; a real second
    airing of the same clip starts a whole programme later.
    """
    out: list[Heard] = []
    last: dict[int, int] = {}
    for h in sorted(heard, key=lambda h: h.onset):
        i = last.get(h.code)
        if i is not None and h.onset - out[i].onset < MERGE_S:
            first = out[i]
            out[i] = Heard(h.code, first.onset, first.seconds + h.seconds)
            continue
        last[h.code] = len(out)
        out.append(h)
    return out


def _runs(labels: npt.NDArray[np.int16]) -> list[tuple[int, int, int]]:
    """(code, first frame, frames) for each run of one code, bridging short dropouts of that code."""
    runs: list[tuple[int, int, int]] = []
    valid = np.flatnonzero(labels >= 0)
    current: list[int] | None = None  # [code, first, last]
    for frame in valid:
        code = int(labels[frame])
        if current is not None and code == current[0] and frame - current[2] <= 30:
            current[2] = int(frame)
            continue
        if current is not None and current[2] - current[1] + 1 >= _MIN_FRAMES:
            runs.append((current[0], current[1], current[2] - current[1] + 1))
        current = [code, int(frame), int(frame)]
    if current is not None and current[2] - current[1] + 1 >= _MIN_FRAMES:
        runs.append((current[0], current[1], current[2] - current[1] + 1))
    return runs


def _onset(samples: npt.NDArray[np.int16], first_frame: int) -> int:
    """The first loud sample near a run's first frame (the frame may start up to a window early)."""
    lo = max(0, first_frame * HOP - 5 * HOP)
    hi = min(len(samples), first_frame * HOP + WINDOW + HOP)
    loud = np.flatnonzero(np.abs(np.asarray(samples[lo:hi], dtype=np.int32)) > LOUD)
    return lo + int(loud[0]) if loud.size else first_frame * HOP + WINDOW // 2


def code_onset_in_file(path: Path) -> float:
    """Seconds from the start of an audio file to the first code's onset (decoded by ffmpeg, 48 kHz mono)."""
    argv = [
        "ffmpeg",
        "-nostdin",
        "-v",
        "error",
        "-i",
        str(path),
        "-ac",
        "1",
        "-ar",
        str(RATE),
        "-f",
        "s16le",
        "-",
    ]
    raw = subprocess.run(argv, check=True, capture_output=True, timeout=60).stdout
    samples = np.frombuffer(raw, dtype="<i2")
    frames = max(0, (len(samples) - WINDOW) // HOP + 1)
    view = np.lib.stride_tricks.sliding_window_view(samples.astype(np.float32), WINDOW)[::HOP][:frames]
    bin_hz = RATE / WINDOW
    bins = np.array([round(f / bin_hz) for f in FREQS], dtype=np.int64)
    runs = _runs(_labels_of(view, bins, slice(round(300 / bin_hz), round(4000 / bin_hz))))
    if not runs:
        raise RuntimeError(f"no code found in {path}")
    return _onset(samples, runs[0][1]) / RATE
