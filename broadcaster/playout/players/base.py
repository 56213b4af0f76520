"""What every player shares: the Player/Playback protocols, the result record and tool helpers."""

from __future__ import annotations

import contextlib
import errno
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Protocol

from broadcaster.audio.ffmpeg import probe, run_ffmpeg
from broadcaster.errors import AudioError, PlayoutError, ToolMissingError

# A process that claims success this much before the clip's end did not really play it all.
EARLY_END_TOLERANCE_S = 0.25
# How long stop() lets a player process exit on SIGTERM before it is killed.
TERMINATE_GRACE_S = 1.0
# Bound on every internal wait so no call can hang on a wedged process.
INTERNAL_WAIT_S = 5.0
# Players decode into folders named so; a killed daemon's leftovers are found (and removed) by the name.
PLAY_DIR_PREFIX = "broadcaster-play-"

# What an operator can do something about, said in their words (the OS text is English).
_OS_REASONS = {
    errno.EROFS: "ổ đĩa chỉ đọc",
    errno.EACCES: "không có quyền ghi",
    errno.EPERM: "không có quyền ghi",
    errno.ENOSPC: "ổ đĩa đầy",
    errno.EDQUOT: "vượt hạn mức dung lượng",
    errno.EIO: "lỗi đọc ghi ổ đĩa",
    errno.ENOENT: "thư mục không còn",
}


def os_reason(exc: OSError) -> str:
    """Why a file operation failed, in Vietnamese where the cause is a common one."""
    return _OS_REASONS.get(exc.errno or 0, exc.strerror or str(exc))


def play_dir(work_dir: Path | None) -> Path:
    """A new temporary folder for one prepared playback (under `work_dir`, created if missing)."""
    if work_dir is not None:
        work_dir.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=PLAY_DIR_PREFIX, dir=work_dir))


@dataclass(frozen=True)
class PlaybackResult:
    """What actually played: instants (UTC), seconds played out of the clip, and why it ended."""

    started_at: datetime
    ended_at: datetime
    played_s: float
    clip_s: float
    completed: bool
    error: str | None = None
    output: Path | None = None


class Playback(Protocol):
    """One prepared airing: start it at the set instant, wait for it, or cut it at once."""

    def start(self) -> datetime:
        """Begin audio now; return the UTC instant of the start call."""
        ...

    def wait(self, timeout: float | None = None) -> PlaybackResult | None:
        """Block until the audio ends (result) or `timeout` seconds pass (None)."""
        ...

    def stop(self) -> PlaybackResult:
        """Interrupt now (emergency, shutdown) and say how much played."""
        ...

    def close(self) -> None:
        """Release processes and temporary files; stops the audio if still playing."""
        ...


class Player(Protocol):
    """An audio output chosen by name; `prepare` does the slow work ahead of the set time."""

    name: str

    def prepare(self, path: Path) -> Playback:
        """Decode/spawn for `path` so that a later `start()` is immediate."""
        ...


def require_binary(binary: str, package: str) -> str:
    """Full path of `binary`, or ToolMissingError naming the Debian package to install."""
    found = shutil.which(binary)
    if found is None:
        raise ToolMissingError(
            f"Không tìm thấy chương trình '{binary}' cần để phát âm thanh.",
            f"Cài đặt bằng lệnh: apt-get install {package}",
        )
    return found


def require_file(path: Path) -> None:
    """AudioError unless `path` is an existing file."""
    if not path.is_file():
        raise AudioError(
            f"Không tìm thấy tệp âm thanh để phát: {path}",
            "Hãy dựng lại chương trình phát (broadcaster speech render) rồi thử lại.",
        )


def decode(src: Path, dst: Path, *, fmt: str, rate: int, channels: int) -> None:
    """Decode `src` with ffmpeg into `dst` (`fmt` is 's16le' for raw PCM or 'wav')."""
    args = ["-loglevel", "error", "-y", "-i", str(src), "-vn", "-ac", str(channels), "-ar", str(rate)]
    try:
        run_ffmpeg([*args, "-c:a", "pcm_s16le", "-f", fmt, str(dst)], timeout=600)
    except AudioError as exc:
        raise AudioError(
            f"Không giải mã được tệp âm thanh {src}: {exc.message}",
            "Kiểm tra tệp có bị hỏng không, hoặc dựng lại bản tin.",
        ) from exc


def probe_duration(path: Path) -> float:
    """Duration of an audio file in seconds, read by ffprobe."""
    return probe(path).duration_s


class OutputTail:
    """Drains a child's stderr in a thread, keeps its tail, and signals when a marker text appears."""

    def __init__(self, stream: IO[bytes], marker: bytes | None = None, keep: int = 4096) -> None:
        self._stream = stream
        self._marker = marker
        self._keep = keep
        self._buf = b""
        self._lock = threading.Lock()
        self.marker_seen = threading.Event()
        self.closed = threading.Event()
        self._thread = threading.Thread(target=self._run, name="player-stderr", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        read = getattr(self._stream, "read1", self._stream.read)
        try:
            while chunk := read(4096):
                with self._lock:
                    self._buf = (self._buf + chunk)[-self._keep :]
                    if self._marker is not None and self._marker in self._buf:
                        self.marker_seen.set()
        except (OSError, ValueError):
            pass  # the pipe was closed under us at shutdown: nothing left to read
        finally:
            with contextlib.suppress(OSError):
                self._stream.close()
            self.closed.set()

    def text(self) -> str:
        """The meaningful end of the output: progress lines dropped, one line."""
        with self._lock:
            raw = self._buf.decode("utf-8", "replace")
        parts = [p.strip() for p in raw.replace("\r", "\n").split("\n")]
        lines = [p for p in parts if p and not p.startswith("Time:") and "\x1b" not in p]
        return " / ".join(lines[-3:])


def terminate(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after a grace period; never blocks longer than a few seconds."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(TERMINATE_GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        try:
            proc.wait(INTERNAL_WAIT_S)
        except subprocess.TimeoutExpired:
            raise PlayoutError(
                f"Không dừng được tiến trình phát (pid {proc.pid}).",
                "Hãy dừng tiến trình bằng tay (kill -9) và kiểm tra thiết bị âm thanh.",
            ) from None
