"""Players that run an external program per airing (paplay, ffplay, aplay), and their shared lifecycle."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import wave
from datetime import datetime
from pathlib import Path

from broadcaster.clock import Clock
from broadcaster.errors import AudioError, PlayoutError
from broadcaster.playout.players.base import (
    EARLY_END_TOLERANCE_S,
    INTERNAL_WAIT_S,
    OutputTail,
    PlaybackResult,
    decode,
    play_dir,
    require_binary,
    require_file,
    terminate,
)

# wait(None) gives up on a player this long past the clip's end, so a wedged process cannot hang the daemon.
HANG_MARGIN_S = 30.0


class SubprocessPlayback:
    """Lifecycle shared by every process-backed playback; subclasses say how audio begins.

    Played seconds of an interrupted playback are the time from the start call to the stop call,
    capped at the clip length and at the audio actually handed to the output (`_handed_s`).
    Audio begins within milliseconds of start() and a stop drops whatever the output still buffers, so
    this is what was heard, give or take the start latency (an upper bound: nothing is subtracted).
    """

    def __init__(self, label: str, clock: Clock, clip_s: float, tmpdir: Path | None) -> None:
        self._label = label
        self._clock = clock
        self.clip_s = clip_s
        self._tmpdir = tmpdir
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None
        self._tail: OutputTail | None = None
        self._start_mono: float | None = None
        self._started_at: datetime | None = None
        self._stop_mono: float | None = None
        self._stopped_at: datetime | None = None
        self._result: PlaybackResult | None = None
        self._closed = False

    def _launch(self) -> subprocess.Popen[bytes]:
        """Make audio begin now and return the process that plays it."""
        raise NotImplementedError

    def _handed_s(self) -> float:
        """Seconds of audio given to the output so far (infinite when the program reads the file)."""
        return float("inf")

    def _before_stop(self) -> None:
        """Hook run under the lock when stop() is called (e.g. stop feeding)."""

    def start(self) -> datetime:
        """Begin audio now; return the UTC instant of the start call."""
        with self._lock:
            if self._closed or self._start_mono is not None:
                raise PlayoutError(
                    "Lượt phát này đã bắt đầu hoặc đã đóng.", "Hãy chuẩn bị (prepare) một lượt phát mới."
                )
            self._start_mono = self._clock.monotonic()
            self._started_at = self._clock.now()
            try:
                proc = self._launch()
            except OSError as exc:
                self._finish_locked(None, f"Không khởi động được {self._label}: {exc}")
                return self._started_at
            self._proc = proc
        threading.Thread(target=self._watch, args=(proc,), name=f"{self._label}-watch", daemon=True).start()
        return self._started_at

    def _watch(self, proc: subprocess.Popen[bytes]) -> None:
        rc = proc.wait()
        if self._tail is not None:
            self._tail.closed.wait(INTERNAL_WAIT_S)  # let the last error line arrive before it is quoted
        with self._lock:
            self._finish_locked(rc, None)

    def _finish_locked(self, rc: int | None, error: str | None) -> None:
        if self._result is not None:
            return
        assert self._start_mono is not None and self._started_at is not None
        if self._stop_mono is not None and self._stopped_at is not None:
            end_mono, ended_at = self._stop_mono, self._stopped_at
        else:
            end_mono, ended_at = self._clock.monotonic(), self._clock.now()
        elapsed = max(0.0, end_mono - self._start_mono)
        played = min(elapsed, self.clip_s, self._handed_s())
        completed = False
        if error is None and self._stop_mono is None:
            if rc == 0 and elapsed >= self.clip_s - EARLY_END_TOLERANCE_S:
                completed, played = True, self.clip_s
            else:
                detail = self._tail.text() if self._tail is not None else ""
                if rc == 0:
                    error = f"{self._label} kết thúc sớm sau {elapsed:.2f} s / {self.clip_s:.2f} s. {detail}"
                else:
                    error = f"{self._label} dừng bất thường (mã {rc}). {detail}"
                error = error.strip()
        self._result = PlaybackResult(self._started_at, ended_at, played, self.clip_s, completed, error)
        self._done.set()

    def wait(self, timeout: float | None = None) -> PlaybackResult | None:
        """Block until the audio ends (result) or `timeout` seconds pass (None)."""
        if self._start_mono is None:
            raise PlayoutError("Lượt phát chưa bắt đầu.", "Hãy gọi start() trước khi chờ.")
        if timeout is not None:
            return self._result if self._done.wait(timeout) else None
        limit = self._start_mono + self.clip_s + HANG_MARGIN_S - self._clock.monotonic()
        if self._done.wait(max(0.0, limit)):
            return self._result
        result = self.stop()  # the player overran its clip by far: treat as hung, cut it
        return PlaybackResult(
            result.started_at,
            result.ended_at,
            result.played_s,
            result.clip_s,
            False,
            f"{self._label} không kết thúc đúng hạn; đã buộc dừng",
        )

    def stop(self) -> PlaybackResult:
        """Interrupt now and say how much played; safe to call at any time, more than once."""
        with self._lock:
            if self._result is not None:
                return self._result
            now_mono, now = self._clock.monotonic(), self._clock.now()
            never_started = self._start_mono is None
            if never_started:
                self._start_mono, self._started_at = now_mono, now
            self._stop_mono, self._stopped_at = now_mono, now
            self._before_stop()
            proc = self._proc
        if proc is not None:
            terminate(proc)
        if never_started or not self._done.wait(INTERNAL_WAIT_S):
            with self._lock:
                self._finish_locked(None, None)
        assert self._result is not None
        return self._result

    def close(self) -> None:
        """Stop if playing, end any prepared process, remove temporary files."""
        if self._start_mono is not None and not self._done.is_set():
            self.stop()
        with self._lock:
            self._closed = True
            self._before_stop()
            proc = self._proc
        if proc is not None:
            terminate(proc)
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)


class ProcessPlayback(SubprocessPlayback):
    """Spawns the player program at start(): simple, but start latency includes process start-up."""

    def __init__(
        self, label: str, clock: Clock, clip_s: float, tmpdir: Path, argv: list[str], env: dict[str, str]
    ) -> None:
        super().__init__(label, clock, clip_s, tmpdir)
        self._argv = argv
        self._env = env

    def _launch(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            self._argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=self._env,
        )
        assert proc.stderr is not None
        self._tail = OutputTail(proc.stderr)
        return proc


# name → (binary, Debian package)
PROCESS_PLAYERS: dict[str, tuple[str, str]] = {
    "paplay": ("paplay", "pulseaudio-utils"),
    "ffplay": ("ffplay", "ffmpeg"),
    "aplay": ("aplay", "alsa-utils"),
}


class ProcessPlayer:
    """paplay / ffplay / aplay: the file is decoded to WAV ahead of time, the program spawned at start."""

    def __init__(
        self,
        name: str,
        clock: Clock,
        device: str | None = None,
        *,
        rate: int = 48000,
        channels: int = 2,
        work_dir: Path | None = None,
    ) -> None:
        if name not in PROCESS_PLAYERS:
            raise ValueError(f"not a process player: {name}")
        binary, package = PROCESS_PLAYERS[name]
        self.name = name
        self._binary = require_binary(binary, package)
        require_binary("ffmpeg", "ffmpeg")  # decodes each programme: named now if missing
        self._clock = clock
        self._device = device
        self._rate = rate
        self._channels = channels
        self._work_dir = work_dir

    def _argv(self, wav: Path) -> list[str]:
        if self.name == "paplay":
            device = ["-d", self._device] if self._device else []
            return [self._binary, "--client-name=broadcaster", *device, str(wav)]
        if self.name == "ffplay":
            return [self._binary, "-nodisp", "-autoexit", "-loglevel", "error", str(wav)]
        return [self._binary, "-q", str(wav)]

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self._device:
            env["PULSE_SINK"] = self._device  # honoured by SDL (ffplay) and ALSA's pulse plugin (aplay)
        if self.name == "ffplay":
            # SDL asks PulseAudio for ~40 ms of buffer, which underruns (audible gaps) when both cores
            # are busy; libpulse lets this variable raise it. 200 ms played clean under full load.
            env.setdefault("PULSE_LATENCY_MSEC", "200")
        return env

    def prepare(self, path: Path) -> SubprocessPlayback:
        """Decode `path` to a WAV in a temporary folder; the program starts only at start()."""
        require_file(path)
        tmpdir = play_dir(self._work_dir)
        try:
            wav = tmpdir / "audio.wav"
            decode(path, wav, fmt="wav", rate=self._rate, channels=self._channels)
            clip_s = wav_duration(wav)
        except BaseException:
            shutil.rmtree(tmpdir, ignore_errors=True)
            raise
        return ProcessPlayback(self.name, self._clock, clip_s, tmpdir, self._argv(wav), self._env())


def wav_duration(path: Path) -> float:
    """Length in seconds of a PCM WAV file."""
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() / wav.getframerate()
    except (wave.Error, EOFError) as exc:
        raise AudioError(f"Tệp WAV hỏng: {path} ({exc})", "Hãy dựng lại bản tin.") from None
