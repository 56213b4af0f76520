"""The preferred real output: PCM decoded and a `pacat` stream opened ahead of time; start is a pipe write."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import threading
from pathlib import Path

from broadcaster.clock import Clock
from broadcaster.errors import PlayoutError
from broadcaster.playout.players.base import (
    OutputTail,
    decode,
    play_dir,
    require_binary,
    require_file,
    terminate,
)
from broadcaster.playout.players.process import SubprocessPlayback

# pacat prints this once the server has accepted the stream (device found, buffers set up).
_READY_MARKER = b"Stream successfully created"
# Bytes per write to pacat: small enough that a stop leaves little queued in the pipe.
_CHUNK_BYTES = 8192
# Server-side buffer. 50 ms underran (gaps) with both cores busy, 200 ms did not. A big buffer costs no
# start latency (the pipe fills it at once) nor stop latency (killing pacat drops what is buffered).
DEFAULT_LATENCY_MS = 200


class PacatPlayback(SubprocessPlayback):
    """A connected, silent pacat stream and a feeder thread waiting for the start signal."""

    def __init__(
        self,
        clock: Clock,
        clip_s: float,
        tmpdir: Path,
        raw: Path,
        proc: subprocess.Popen[bytes],
        tail: OutputTail,
        bytes_per_s: int,
    ) -> None:
        super().__init__("pacat", clock, clip_s, tmpdir)
        self._raw = raw
        self._prepared = proc
        self._proc = None
        self._tail = tail
        self._bytes_per_s = bytes_per_s
        self._written = 0
        self._go = threading.Event()
        self._abort = threading.Event()
        # The thread exists before start so that start() costs one Event.set(), not a thread spawn.
        self._feeder = threading.Thread(target=self._feed, name="pacat-feed", daemon=True)
        self._feeder.start()

    def _feed(self) -> None:
        self._go.wait()
        stdin = self._prepared.stdin
        assert stdin is not None
        try:
            if self._abort.is_set():
                return
            with self._raw.open("rb") as src:
                while not self._abort.is_set() and (chunk := src.read(_CHUNK_BYTES)):
                    stdin.write(chunk)
                    self._written += len(chunk)
        except (BrokenPipeError, ValueError, OSError):
            pass  # pacat died or was stopped: the watcher reports why
        finally:
            with contextlib.suppress(OSError):
                stdin.close()  # EOF lets pacat drain what it holds and exit 0

    def _launch(self) -> subprocess.Popen[bytes]:
        self._go.set()
        return self._prepared

    def _handed_s(self) -> float:
        return self._written / self._bytes_per_s

    def _before_stop(self) -> None:
        self._abort.set()
        self._go.set()

    def close(self) -> None:
        """Stop if playing, end the prepared pacat, remove the decoded PCM."""
        super().close()
        terminate(self._prepared)
        self._feeder.join(timeout=2.0)


class PacatPlayer:
    """Plays through PulseAudio with pacat; `prepare` decodes and connects, `start` only writes PCM."""

    name = "pacat"

    def __init__(
        self,
        clock: Clock,
        device: str | None = None,
        *,
        rate: int = 48000,
        channels: int = 2,
        latency_ms: int = DEFAULT_LATENCY_MS,
        ready_timeout_s: float = 10.0,
        work_dir: Path | None = None,
    ) -> None:
        self._pacat = require_binary("pacat", "pulseaudio-utils")
        require_binary("ffmpeg", "ffmpeg")  # decodes each programme: named now if missing
        self._clock = clock
        self._device = device
        self._rate = rate
        self._channels = channels
        self._latency_ms = latency_ms
        self._ready_timeout_s = ready_timeout_s
        self._work_dir = work_dir

    def _argv(self) -> list[str]:
        argv = [self._pacat, "--playback", "--verbose", "--raw", "--format=s16le"]
        argv += [f"--rate={self._rate}", f"--channels={self._channels}", f"--latency-msec={self._latency_ms}"]
        argv += ["--client-name=broadcaster", "--stream-name=programme"]
        return argv + (["-d", self._device] if self._device else [])

    def prepare(self, path: Path) -> PacatPlayback:
        """Decode `path` to raw PCM and open a pacat stream that waits, silent, for start()."""
        require_file(path)
        tmpdir = play_dir(self._work_dir)
        try:
            raw = tmpdir / "audio.s16le"
            decode(path, raw, fmt="s16le", rate=self._rate, channels=self._channels)
            bytes_per_s = self._rate * self._channels * 2
            clip_s = raw.stat().st_size / bytes_per_s
            proc = subprocess.Popen(
                self._argv(),
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                bufsize=0,
            )
        except BaseException:
            shutil.rmtree(tmpdir, ignore_errors=True)
            raise
        assert proc.stderr is not None
        tail = OutputTail(proc.stderr, marker=_READY_MARKER)
        self._await_ready(proc, tail, tmpdir)
        return PacatPlayback(self._clock, clip_s, tmpdir, raw, proc, tail, bytes_per_s)

    def _await_ready(self, proc: subprocess.Popen[bytes], tail: OutputTail, tmpdir: Path) -> None:
        """Wait until the server accepted the stream; a dead or silent pacat is a PlayoutError."""
        deadline = self._clock.monotonic() + self._ready_timeout_s
        while not tail.marker_seen.wait(0.02):
            if proc.poll() is not None or self._clock.monotonic() > deadline:
                terminate(proc)
                if proc.stdin is not None:
                    proc.stdin.close()
                tail.closed.wait(2.0)
                shutil.rmtree(tmpdir, ignore_errors=True)
                device = f" '{self._device}'" if self._device else ""
                raise PlayoutError(
                    f"Không mở được đầu ra âm thanh PulseAudio{device}: {tail.text() or 'không có phản hồi'}",
                    "Kiểm tra PulseAudio đang chạy (pactl info) và tên thiết bị (pactl list short sinks).",
                )
