"""Relays (tiếp sóng): a live stream (HTTP/Icecast/HLS, or a capture device) played out for a set time.

The source is opened ahead of time and buffered; at the start instant the output begins, and it ends
at the set length whatever the stream does. A stream that stalls or drops is reconnected with
back-off; while it is gone the output plays silence, and after `silence_s` the local filler (the
signature tune, or a chosen file) in a loop until the stream returns. Everything is measured in
output time: how much of the relay was the stream, each drop-out (when, how long), how long the filler
played. The output is a PCM sink: `pacat` into PulseAudio, or a WAV file (the file player).
"""

from __future__ import annotations

import contextlib
import queue
import subprocess
import threading
import time
import wave
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from broadcaster.clock import Clock
from broadcaster.errors import PlayoutError
from broadcaster.playout.players.base import require_binary, terminate

RATE = 48000
CHANNELS = 1
BYTES_PER_S = RATE * CHANNELS * 2
CHUNK_S = 0.02
CHUNK = int(BYTES_PER_S * CHUNK_S)
# Gaps shorter than this are jitter, not a drop-out (the output played silence for them all the same).
MIN_DROPOUT_S = 0.2
# The most stream audio held ahead of the output (a live stream arrives in real time, after a burst).
MAX_BUFFER_S = 8.0
BUFFER_CHUNKS = int(MAX_BUFFER_S / CHUNK_S)
# A decoder that has given no audio this long is taken for stalled: killed and reconnected (its first
# audio may take longer: it probes the stream's format first).
STALL_S = 2.0
FIRST_AUDIO_S = 10.0
BACKOFF_S = (0.5, 1.0, 2.0, 4.0, 8.0)


@dataclass(frozen=True)
class RelaySpec:
    """What to relay and how: the source, the length, when the filler comes in, the filler itself."""

    source: str  # an http(s) URL, or "device:<pulse source>" for a capture device (line-in)
    duration_s: float
    silence_s: float = 5.0
    filler: Path | None = None
    backoff_s: Sequence[float] = BACKOFF_S


@dataclass(frozen=True)
class Dropout:
    """One stretch without the stream: seconds into the relay it began, and how long it lasted."""

    at_s: float
    length_s: float


@dataclass(frozen=True)
class RelayResult:
    """What the relay actually put out."""

    started_at: datetime
    ended_at: datetime
    duration_s: float
    received_s: float
    filler_s: float
    dropouts: tuple[Dropout, ...]
    reconnects: int
    stopped: bool = False
    error: str | None = None

    @property
    def played_s(self) -> float:
        """Seconds the output ran (stream, silence or filler)."""
        return (self.ended_at - self.started_at).total_seconds()


class PcmSink(Protocol):
    """Where the relay's PCM (s16le, 48 kHz, mono) goes."""

    def write(self, data: bytes) -> None:
        """Queue `data` for output (may block while the output's buffer is full)."""
        ...

    def close(self) -> None:
        """Let the output drain and end."""
        ...


_OUTPUT_CLOSED = ("Đầu ra PulseAudio đã đóng giữa lúc tiếp sóng.", "Kiểm tra PulseAudio (pactl info).")


class PacatSink:
    """PulseAudio through `pacat` (raw PCM on its stdin), opened before the relay starts."""

    def __init__(self, device: str | None = None, latency_ms: int = 200) -> None:
        pacat = require_binary("pacat", "pulseaudio-utils")
        argv = [pacat, "--playback", "--raw", "--format=s16le", f"--rate={RATE}", f"--channels={CHANNELS}"]
        argv += [f"--latency-msec={latency_ms}", "--client-name=broadcaster", "--stream-name=relay"]
        argv += ["-d", device] if device else []
        self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)

    def write(self, data: bytes) -> None:
        stdin = self._proc.stdin
        if stdin is None or self._proc.poll() is not None:
            raise PlayoutError(
                "Đầu ra PulseAudio đã đóng giữa lúc tiếp sóng.", "Kiểm tra PulseAudio (pactl info)."
            )
        try:
            stdin.write(data)
        except (BrokenPipeError, ValueError):
            raise PlayoutError(*_OUTPUT_CLOSED) from None

    def close(self) -> None:
        if self._proc.stdin is not None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
        try:
            self._proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            terminate(self._proc)


class WavSink:
    """A WAV file (the file player: what would have gone to the loudspeakers, kept for checking)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._wav = wave.open(str(path), "wb")  # noqa: SIM115 (closed by close())
        self._wav.setnchannels(CHANNELS)
        self._wav.setsampwidth(2)
        self._wav.setframerate(RATE)

    def write(self, data: bytes) -> None:
        self._wav.writeframes(data)

    def close(self) -> None:
        self._wav.close()


# Stream content types ffmpeg is told outright: probing a live MP3 stream for its format takes ~7 s.
FORMATS = {
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/aac": "aac",
    "audio/aacp": "aac",
    "audio/ogg": "ogg",
    "application/ogg": "ogg",
    "audio/opus": "ogg",
    "application/vnd.apple.mpegurl": "hls",
    "application/x-mpegurl": "hls",
}


def stream_format(source: str, timeout_s: float = 3.0) -> str | None:
    """The ffmpeg demuxer of an HTTP stream from its Content-Type (None: unknown, let ffmpeg probe)."""
    if source.startswith("device:"):
        return None
    import requests

    try:
        with requests.get(source, stream=True, timeout=timeout_s) as answer:
            kind = answer.headers.get("Content-Type", "").split(";")[0].strip().lower()
    except requests.RequestException:
        return None
    return FORMATS.get(kind)


def decoder_argv(ffmpeg: str, source: str, fmt: str | None = None) -> list[str]:
    """ffmpeg decoding the source to the relay's PCM on stdout; a stalled network read ends it."""
    head = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error"]
    if source.startswith("device:"):
        inp = ["-f", "pulse", "-i", source.removeprefix("device:")]
    else:
        inp = ["-rw_timeout", str(int(STALL_S * 1_000_000))] + (["-f", fmt] if fmt else []) + ["-i", source]
    return head + inp + ["-vn", "-f", "s16le", "-ac", str(CHANNELS), "-ar", str(RATE), "pipe:1"]


def filler_pcm(path: Path | None, ffmpeg: str) -> bytes:
    """The filler decoded once to the relay's PCM (empty: no filler, silence is played instead)."""
    if path is None:
        return b""
    argv = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(path)]
    argv += ["-f", "s16le", "-ac", str(CHANNELS), "-ar", str(RATE), "pipe:1"]
    done = subprocess.run(argv, capture_output=True, timeout=60, check=False)
    if done.returncode != 0 or not done.stdout:
        raise PlayoutError(
            f"Không đọc được tệp phát thay thế khi mất tín hiệu: {path}",
            "Chọn tệp âm thanh khác cho [relay] filler, hoặc để trống để dùng nhạc hiệu.",
        )
    pcm = done.stdout[: len(done.stdout) - len(done.stdout) % 2]
    return pcm * (CHUNK // len(pcm) + 1) if len(pcm) < CHUNK else pcm


@dataclass
class _Feed:
    """The stream side: decoder processes (reconnected with back-off) feeding a byte queue."""

    spec: RelaySpec
    ffmpeg: str
    chunks: queue.Queue[bytes] = field(
        default_factory=lambda: queue.Queue(maxsize=int(MAX_BUFFER_S / CHUNK_S))
    )
    stop: threading.Event = field(default_factory=threading.Event)
    connects: int = 0
    last_error: str = ""
    fmt: str | None = None

    def run(self) -> None:
        failures = 0
        while not self.stop.is_set():
            self.connects += 1
            self.fmt = self.fmt or stream_format(self.spec.source)
            got = self._one_connection()
            if self.stop.is_set():
                return
            failures = 0 if got > BYTES_PER_S * 5 else failures + 1
            delay = self.spec.backoff_s[min(max(failures - 1, 0), len(self.spec.backoff_s) - 1)]
            self.stop.wait(delay if failures else self.spec.backoff_s[0])

    def _one_connection(self) -> int:
        proc = subprocess.Popen(
            decoder_argv(self.ffmpeg, self.spec.source, self.fmt),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            bufsize=0,
        )
        got = 0
        pending = b""
        assert proc.stdout is not None
        watchdog = _Watchdog(proc, STALL_S)
        try:
            while not self.stop.is_set():
                data = proc.stdout.read(CHUNK)
                if not data:
                    break
                watchdog.fed()
                got += len(data)
                pending += data
                while len(pending) >= CHUNK:
                    piece, pending = pending[:CHUNK], pending[CHUNK:]
                    if self.chunks.full():  # more ahead than a live stream should be: drop the oldest
                        with contextlib.suppress(queue.Empty):
                            self.chunks.get_nowait()
                    self.chunks.put_nowait(piece)
        finally:
            watchdog.done()
            terminate(proc)
            with contextlib.suppress(OSError, ValueError):
                self.last_error = (proc.stderr.read() if proc.stderr else b"").decode("utf-8", "replace")[
                    -300:
                ]
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
        return got


class _Watchdog:
    """Kills a decoder that gives nothing for `stall_s` (a read that would otherwise hang)."""

    def __init__(self, proc: subprocess.Popen[bytes], stall_s: float) -> None:
        self._proc, self._stall_s = proc, stall_s
        self._last = time.monotonic() + FIRST_AUDIO_S - stall_s
        self._over = threading.Event()
        threading.Thread(target=self._watch, name="relay-watchdog", daemon=True).start()

    def fed(self) -> None:
        self._last = time.monotonic()

    def done(self) -> None:
        self._over.set()

    def _watch(self) -> None:
        while not self._over.wait(0.2):
            if time.monotonic() - self._last > self._stall_s:
                terminate(self._proc)
                return


class Relay:
    """One relay: `open()` ahead of time (the stream starts buffering), `run()` at the start instant.

    `run` blocks for the relay's length (or until `stop()`), writing 20 ms chunks to the sink at the
    output's pace, and returns what went out.
    """

    def __init__(self, spec: RelaySpec, sink_factory: Callable[[], PcmSink], clock: Clock) -> None:
        self._spec = spec
        self._sink_factory = sink_factory
        self._clock = clock
        self._ffmpeg = require_binary("ffmpeg", "ffmpeg")
        self._filler = filler_pcm(spec.filler, self._ffmpeg)
        self._feed = _Feed(spec, self._ffmpeg)
        self._thread: threading.Thread | None = None
        self._sink: PcmSink | None = None
        self._halt = threading.Event()

    def open(self) -> None:
        """Connect to the source and the output now; nothing is heard until run()."""
        self._sink = self._sink_factory()
        self._thread = threading.Thread(target=self._feed.run, name="relay-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the relay now (an emergency cuts in, the daemon stops)."""
        self._halt.set()

    def run(self) -> RelayResult:
        """Play the relay for its length; the result says how much was the stream."""
        if self._sink is None:
            self.open()
        sink = self._sink
        assert sink is not None
        total = round(self._spec.duration_s / CHUNK_S)
        silence = bytes(CHUNK)
        started_at = self._clock.now()
        t0 = time.monotonic()
        received = filler = 0
        dropouts: list[Dropout] = []
        gap_from: int | None = None
        filler_pos = 0
        error: str | None = None
        n = 0
        try:
            while n < total and not self._halt.is_set():
                try:
                    piece = self._feed.chunks.get_nowait()
                except queue.Empty:
                    piece = None
                if piece is not None:
                    if gap_from is not None:
                        if (n - gap_from) * CHUNK_S >= MIN_DROPOUT_S:
                            dropouts.append(Dropout(gap_from * CHUNK_S, (n - gap_from) * CHUNK_S))
                        gap_from = None
                    received += 1
                else:
                    if gap_from is None:
                        gap_from = n
                    if self._filler and (n - gap_from) * CHUNK_S >= self._spec.silence_s:
                        piece = (self._filler[filler_pos:] + self._filler)[:CHUNK]
                        filler_pos = (filler_pos + CHUNK) % len(self._filler)
                        filler += 1
                    else:
                        piece = silence
                sink.write(piece)
                n += 1
                ahead = t0 + n * CHUNK_S - time.monotonic()
                if ahead > 0:
                    self._halt.wait(ahead)
            if gap_from is not None and (n - gap_from) * CHUNK_S >= MIN_DROPOUT_S:
                dropouts.append(Dropout(gap_from * CHUNK_S, (n - gap_from) * CHUNK_S))
        except PlayoutError as exc:
            error = exc.one_line()
        finally:
            self._feed.stop.set()
            sink.close()
            if self._thread is not None:
                self._thread.join(timeout=5.0)
        ended_at = started_at + timedelta(seconds=n * CHUNK_S)
        return RelayResult(
            started_at,
            ended_at,
            self._spec.duration_s,
            received * CHUNK_S,
            filler * CHUNK_S,
            tuple(dropouts),
            max(0, self._feed.connects - 1),
            stopped=self._halt.is_set(),
            error=error or (None if received else self._feed.last_error or "không nhận được tín hiệu"),
        )
