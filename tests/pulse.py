"""Test helper: a user-mode PulseAudio with a null sink, and a parec recorder that maps samples to clock time.

Usage::

    with PulseServer("bulletin_test") as server, Recorder(server.sink) as rec:
        ...play to server.sink...
    onset = rec.segments()[0].start          # sample index of the first audio
    rec.monotonic_of(onset)                  # when it reached the sink, on time.monotonic()

Facts this relies on (measured with PulseAudio 16.1): as root, `pulseaudio -D --exit-idle-time=-1`
works in user mode; an idle null sink runs with 2 s buffers, so the first stream that connects waits
up to ~2 s. The server therefore keeps one low-latency parec attached to the monitor for its whole
life, after which new recorders and players connect in ~10 ms.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np
import numpy.typing as npt

_WARMUP_TIMEOUT_S = 10.0


def _pactl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=15, check=check)


def pulse_running() -> bool:
    """True when a PulseAudio server answers this user's clients."""
    if shutil.which("pactl") is None:
        return False
    return _pactl("info", check=False).returncode == 0


class PulseServer:
    """Ensures a PulseAudio server and a warm null sink named `sink`; undoes only what it did."""

    def __init__(self, sink: str = "bulletin_test") -> None:
        self.sink = sink
        self._started_daemon = False
        self._module_id: str | None = None
        self._keepalive: subprocess.Popen[bytes] | None = None
        self._drainer: threading.Thread | None = None

    def __enter__(self) -> PulseServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start the daemon if none answers, load the null sink if missing, and warm it."""
        for tool in ("pulseaudio", "pactl", "parec", "pacat"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} is not installed: apt-get install pulseaudio pulseaudio-utils")
        if not pulse_running():
            self._start_daemon()
        sinks = _pactl("list", "short", "sinks").stdout.split()
        if self.sink not in sinks:
            loaded = _pactl("load-module", "module-null-sink", f"sink_name={self.sink}")
            self._module_id = loaded.stdout.strip()
        self._warm()

    def _start_daemon(self) -> None:
        # As root with no session bus or XDG_RUNTIME_DIR, user mode still works; a private runtime
        # folder is the fallback when the default one is unusable (e.g. a stale XDG_RUNTIME_DIR).
        attempts: list[dict[str, str]] = [{}, {"PULSE_RUNTIME_PATH": tempfile.mkdtemp(prefix="pulse-test-")}]
        errors: list[str] = []
        for extra in attempts:
            os.environ.update(extra)
            argv = ["pulseaudio", "-D", "--exit-idle-time=-1", "--system=false", "--disallow-exit"]
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if pulse_running():
                    self._started_daemon = True
                    return
                time.sleep(0.1)
            errors.append(done.stderr.strip())
        raise RuntimeError(f"could not start PulseAudio: {' | '.join(errors)}")

    def _warm(self) -> None:
        """Attach a low-latency recorder for good so the sink leaves its idle 2 s buffering."""
        self._keepalive = subprocess.Popen(
            ["parec", "-d", f"{self.sink}.monitor", "--raw", "--latency-msec=20"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert self._keepalive.stdout is not None
        fd = self._keepalive.stdout.fileno()
        first = _read_with_timeout(fd, _WARMUP_TIMEOUT_S)
        if not first:
            raise RuntimeError(f"null sink {self.sink} gave no audio within {_WARMUP_TIMEOUT_S} s")
        self._drainer = threading.Thread(target=_drain, args=(fd,), daemon=True)
        self._drainer.start()

    def stop(self) -> None:
        """Detach the warm-up recorder, unload our sink, stop the daemon if we started it."""
        if self._keepalive is not None:
            self._keepalive.terminate()
            self._keepalive.wait(5)
            if self._drainer is not None:
                self._drainer.join(5)
            assert self._keepalive.stdout is not None
            self._keepalive.stdout.close()
            self._keepalive = None
        if self._module_id:
            _pactl("unload-module", self._module_id, check=False)
            self._module_id = None
        # Another test run on this machine may have come to share the daemon we started: leave it then.
        if self._started_daemon and not _other_clients():
            subprocess.run(["pulseaudio", "--kill"], capture_output=True, timeout=15, check=False)
        self._started_daemon = False


def _other_clients() -> bool:
    """True when clients other than the asking pactl stay connected to the server (1 s to disconnect)."""
    deadline = time.monotonic() + 1.0
    while True:
        listed = _pactl("list", "short", "clients", check=False).stdout.splitlines()
        if all("pactl" in line for line in listed if line.strip()):
            return False
        if time.monotonic() > deadline:
            return True
        time.sleep(0.05)


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        return  # the pipe was closed at stop


def _read_with_timeout(fd: int, timeout: float) -> bytes:
    box: list[bytes] = []

    def read() -> None:
        try:
            box.append(os.read(fd, 65536))
        except OSError:
            return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout)
    return box[0] if box else b""


def _read_or_eof(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except OSError:
        return b""


@dataclass(frozen=True)
class Segment:
    """A stretch of sound between silences, as sample indices [start, end)."""

    start: int
    end: int


class Recorder:
    """Records a sink's monitor with parec and knows, for each sample, when it reached the sink.

    Each chunk read from parec is stamped with time.monotonic(); a chunk cannot arrive before its
    last sample was rendered, so `stamp - samples_before_end / rate` bounds that sample's instant
    from above, and the smallest such bound over nearby chunks is the estimate (within ~10 ms).
    """

    def __init__(self, sink: str, *, rate: int = 48000, latency_ms: int = 10) -> None:
        self.sink = sink
        self.rate = rate
        self._latency_ms = latency_ms
        self._proc: subprocess.Popen[bytes] | None = None
        self._chunks: list[bytes] = []
        self._marks: list[tuple[float, int]] = []  # (monotonic stamp, total samples after the chunk)
        self._reader: threading.Thread | None = None
        self._lock = threading.Lock()
        self._samples: npt.NDArray[np.int16] | None = None

    def __enter__(self) -> Recorder:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start parec and return once audio frames flow (the warm-up is over)."""
        argv = ["parec", "-d", f"{self.sink}.monitor", "--raw", "--format=s16le"]
        argv += [f"--rate={self.rate}", "--channels=1", f"--latency-msec={self._latency_ms}"]
        self._proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + _WARMUP_TIMEOUT_S
        while not self._marks:
            if time.monotonic() > deadline or self._proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"parec on {self.sink}.monitor recorded nothing")
            time.sleep(0.005)

    def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        total, odd = 0, b""
        fd = self._proc.stdout.fileno()
        while chunk := _read_or_eof(fd):
            stamp = time.monotonic()
            chunk = odd + chunk
            usable = len(chunk) - len(chunk) % 2
            chunk, odd = chunk[:usable], chunk[usable:]
            total += usable // 2
            with self._lock:
                self._chunks.append(chunk)
                self._marks.append((stamp, total))

    def stop(self) -> npt.NDArray[np.int16]:
        """Stop recording and return every sample recorded (mono int16)."""
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.terminate()
            proc.wait(5)
        if self._reader is not None:
            self._reader.join(5)
            self._reader = None
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()
        return self.samples()

    def samples(self) -> npt.NDArray[np.int16]:
        """Every sample recorded so far (mono int16)."""
        with self._lock:
            data = b"".join(self._chunks)
        return np.frombuffer(data, dtype=np.int16)

    def monotonic_of(self, index: int, window_s: float = 1.0) -> float:
        """time.monotonic() at which sample `index` was rendered by the sink."""
        horizon = index + int(window_s * self.rate)
        with self._lock:
            marks = [(t, n) for t, n in self._marks if index < n <= horizon] or [
                m for m in self._marks if m[1] > index
            ][:1]
        if not marks:
            raise ValueError(f"sample {index} was not recorded")
        return min(t - (n - index) / self.rate for t, n in marks)

    def segments(self, *, threshold: int = 600, min_gap_s: float = 0.3) -> list[Segment]:
        """Stretches of sound louder than `threshold` separated by at least `min_gap_s` of silence."""
        loud = np.flatnonzero(np.abs(self.samples().astype(np.int32)) > threshold)
        if loud.size == 0:
            return []
        breaks = np.flatnonzero(np.diff(loud) > int(min_gap_s * self.rate))
        starts = np.concatenate(([loud[0]], loud[breaks + 1]))
        ends = np.concatenate((loud[breaks], [loud[-1]])) + 1
        return [Segment(int(s), int(e)) for s, e in zip(starts, ends, strict=True)]


def similarity(reference: npt.NDArray[np.float64], recorded: npt.NDArray[np.float64]) -> float:
    """Peak normalised cross-correlation of two mono signals (1.0 = identical up to delay and gain)."""
    ref = reference - reference.mean()
    rec = recorded - recorded.mean()
    n = len(ref) + len(rec) - 1
    size = 1 << (n - 1).bit_length()
    spectrum = np.fft.rfft(rec, size) * np.conj(np.fft.rfft(ref, size))
    corr = np.fft.irfft(spectrum, size)
    denom = float(np.sqrt(np.sum(ref**2) * np.sum(rec**2)))
    return float(np.max(np.abs(corr)) / denom) if denom else 0.0


def decode_mono(path: Path, rate: int = 48000) -> npt.NDArray[np.float64]:
    """`path` decoded by ffmpeg to mono samples at `rate`, in int16 units, as a recorder would see it."""
    argv = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(rate)]
    raw = subprocess.run([*argv, "-f", "s16le", "-"], check=True, capture_output=True, timeout=120).stdout
    return np.frombuffer(raw, dtype=np.int16).astype(np.float64)


def loud_span(
    samples: npt.NDArray[np.float64] | npt.NDArray[np.int16], threshold: int = 600
) -> tuple[int, int]:
    """Indices [first, last+1) of the samples louder than `threshold`; (0, 0) for silence."""
    loud = np.flatnonzero(np.abs(samples.astype(np.float64)) > threshold)
    return (int(loud[0]), int(loud[-1]) + 1) if loud.size else (0, 0)
