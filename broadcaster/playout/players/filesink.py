"""A player for machines with no audio output: it files each airing's audio and keeps real-time pace."""

from __future__ import annotations

import shutil
import threading
from datetime import datetime, timedelta
from pathlib import Path

from broadcaster.audio.ffmpeg import run_ffmpeg
from broadcaster.clock import Clock
from broadcaster.errors import AudioError, PlayoutError
from broadcaster.files import replacing
from broadcaster.playout.players.base import (
    INTERNAL_WAIT_S,
    PlaybackResult,
    os_reason,
    probe_duration,
    require_binary,
    require_file,
)

# The cause logged when the sink cannot write what it airs.
OUTPUT_UNWRITABLE = "không ghi được đầu ra"


def sink_file_name(started_at: datetime, source: Path) -> str:
    """`<UTC timestamp to the millisecond>-<source name>`, e.g. 20261128T100312.123Z-ban-tin.wav."""
    stamp = started_at.strftime("%Y%m%dT%H%M%S.%f")[:-3]
    return f"{stamp}Z-{source.name}"


class FileSinkPlayback:
    """Copies the audio to the sink folder at start; 'plays' for the clip's duration divided by `pace`."""

    def __init__(self, source: Path, out_dir: Path, clock: Clock, clip_s: float, pace: float) -> None:
        self._source = source
        self._out_dir = out_dir
        self._clock = clock
        self.clip_s = clip_s
        self._pace = pace
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._copier: threading.Thread | None = None
        self._copy_error: str | None = None
        self._start_mono: float | None = None
        self._started_at: datetime | None = None
        self._result: PlaybackResult | None = None
        self.output: Path | None = None

    def start(self) -> datetime:
        """Begin 'playing' now: the copy runs in the background so start returns at once."""
        with self._lock:
            if self._start_mono is not None or self._result is not None:
                raise PlayoutError(
                    "Lượt phát này đã bắt đầu hoặc đã đóng.", "Hãy chuẩn bị (prepare) một lượt phát mới."
                )
            self._start_mono = self._clock.monotonic()
            self._started_at = self._clock.now()
            self.output = self._out_dir / sink_file_name(self._started_at, self._source)
            self._copier = threading.Thread(target=self._copy, name="filesink-copy", daemon=True)
            self._copier.start()
            return self._started_at

    def _copy(self) -> None:
        assert self.output is not None
        try:
            self._out_dir.mkdir(parents=True, exist_ok=True)
            with replacing(self.output) as tmp:  # a reader never sees half a file
                shutil.copyfile(self._source, tmp)
        except OSError as exc:
            # Nothing reaches the output: the airing fails now, and says why (not "completed").
            self._copy_error = f"{OUTPUT_UNWRITABLE} {self._out_dir}: {os_reason(exc)}"
            self._stop_event.set()

    def _remaining_real_s(self) -> float:
        assert self._start_mono is not None
        return self.clip_s / self._pace - (self._clock.monotonic() - self._start_mono)

    def wait(self, timeout: float | None = None) -> PlaybackResult | None:
        """Block until the clip's duration has passed (result) or `timeout` seconds pass (None)."""
        if self._start_mono is None:
            raise PlayoutError("Lượt phát chưa bắt đầu.", "Hãy gọi start() trước khi chờ.")
        if self._result is not None:
            return self._result
        remaining = self._remaining_real_s()
        if timeout is not None and timeout < remaining:
            self._stop_event.wait(timeout)
            if self._copy_error is None:
                return self._result
        else:
            self._stop_event.wait(max(0.0, remaining))
        with self._lock:
            if self._result is None:
                self._join_copier()
                assert self._started_at is not None
                if self._copy_error is not None:  # nothing was filed: nothing played
                    self._result = PlaybackResult(
                        self._started_at, self._clock.now(), 0.0, self.clip_s, False, self._copy_error, None
                    )
                else:
                    ended_at = self._started_at + timedelta(seconds=self.clip_s / self._pace)
                    self._result = PlaybackResult(
                        self._started_at, ended_at, self.clip_s, self.clip_s, True, None, self.output
                    )
            return self._result

    def _join_copier(self) -> None:
        if self._copier is not None:
            self._copier.join(INTERNAL_WAIT_S * 12)
            if self._copier.is_alive():
                self._copy_error = f"Ghi tệp phát {self.output} quá lâu"

    def stop(self) -> PlaybackResult:
        """Cut now; the filed copy is trimmed to the seconds that 'played'."""
        with self._lock:
            if self._result is not None:
                return self._result
            now_mono, now = self._clock.monotonic(), self._clock.now()
            if self._start_mono is None or self._started_at is None:
                self._result = PlaybackResult(now, now, 0.0, self.clip_s, False, None, None)
            else:
                played = min(self.clip_s, max(0.0, (now_mono - self._start_mono) * self._pace))
                self._join_copier()
                if self._copy_error is not None:
                    played = 0.0
                error = self._copy_error or self._trim(played)
                self._result = PlaybackResult(
                    self._started_at, now, played, self.clip_s, False, error, self.output
                )
            self._stop_event.set()
            return self._result

    def _trim(self, played_s: float) -> str | None:
        """Replace the filed copy with its first `played_s` seconds; an error text or None."""
        assert self.output is not None
        try:
            with replacing(self.output) as tmp:
                run_ffmpeg(
                    [
                        "-loglevel",
                        "error",
                        "-y",
                        "-i",
                        str(self.output),
                        "-t",
                        f"{played_s:.3f}",
                        "-map",
                        "0:a",
                        "-c",
                        "copy",
                        str(tmp),
                    ],
                    timeout=120,
                )
        except AudioError as exc:
            return f"Không cắt được tệp phát {self.output}: {exc.message}"
        except OSError as exc:
            return f"Không cắt được tệp phát {self.output}: {os_reason(exc)}"
        return None

    def close(self) -> None:
        """Stop if still 'playing'."""
        if self._start_mono is not None and self._result is None:
            self.stop()
        with self._lock:
            if self._result is None:
                now = self._clock.now()
                self._result = PlaybackResult(now, now, 0.0, self.clip_s, False, None, None)


class FileSinkPlayer:
    """Files every airing under `out_dir` instead of sounding it; `pace` > 1 speeds time up for tests."""

    def __init__(self, out_dir: Path, clock: Clock, *, pace: float = 1.0, name: str = "file") -> None:
        if pace <= 0:
            raise ValueError("pace must be positive")
        self.name = name
        self._out_dir = out_dir
        self._clock = clock
        self._pace = pace
        require_binary("ffmpeg", "ffmpeg")  # missing tools are named now, not at the first airing
        require_binary("ffprobe", "ffmpeg")

    def prepare(self, path: Path) -> FileSinkPlayback:
        """Check the file and read its duration; nothing is written until start()."""
        require_file(path)
        clip_s = probe_duration(path)
        return FileSinkPlayback(path, self._out_dir, self._clock, clip_s, self._pace)
