"""The self-check's real probes, each implementing a protocol of probes.py.

Programs on PATH, the network, fonts, the audio output, the database, the disk, the daemon's lock and
the time service.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from broadcaster.errors import BroadcasterError
from broadcaster.files import existing_parent
from broadcaster.services.probes import (
    ChainState,
    ClockState,
    DatabaseState,
    DiskState,
    FileStat,
    FontReport,
    LockState,
    OutputState,
    Reachability,
    ToneResult,
    ToolInfo,
    VoiceSample,
    parse_chronyc_tracking,
    parse_ntpq_rv,
    parse_timedatectl,
    parse_w32tm_status,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from broadcaster.playout.players.base import Player
    from broadcaster.witness import Witness

# A short sentence with tones and đ: a voice that cannot say it is of no use to the station.
VOICE_TEST_TEXT = "Đây là Đài truyền thanh phường, kiểm tra giọng đọc."
# Folders of the home whose growth is the station's use of the disk.
AUDIO_FOLDERS = ("cache/tts", "media", "aired")
TONE_S = 0.5


def _run(argv: Sequence[str], timeout: float = 10.0) -> subprocess.CompletedProcess[str] | None:
    """Run a small tool; None when it is absent, cannot start or does not answer in time."""
    try:
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError):
        return None


class SystemTools:
    """Programs found on this process's PATH (read at each call, so a changed PATH is honoured)."""

    def find(self, name: str) -> ToolInfo:
        """Path and first `-version` line of `name`."""
        path = shutil.which(name)
        if path is None:
            return ToolInfo(name, None)
        flag = "--version" if name.startswith("espeak") else "-version"
        done = _run([path, flag])
        first = done.stdout.strip().splitlines()[0] if done and done.stdout.strip() else ""
        match = re.search(r"(?:version|:)\s*(\d[\w.+~-]*)", first)
        return ToolInfo(name, path, match.group(1) if match else first[:60])

    def speak(self, voice: str) -> VoiceSample:
        """espeak-ng's WAV for the test sentence in `voice`."""
        path = shutil.which("espeak-ng")
        if path is None:
            return VoiceSample(voice, 0, False, "không tìm thấy espeak-ng")
        try:
            done = subprocess.run(
                [path, "-v", voice, "--stdout", VOICE_TEST_TEXT], capture_output=True, timeout=30, check=False
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return VoiceSample(voice, 0, False, str(exc))
        out = done.stdout
        is_wav = out[:4] == b"RIFF" and out[8:12] == b"WAVE"
        error = "" if done.returncode == 0 else done.stderr.decode("utf-8", "replace").strip()
        return VoiceSample(voice, len(out), is_wav, error)


class SystemNetwork:
    """HTTP HEAD in a worker thread, so a hanging name lookup cannot outlast the timeout."""

    def reach(self, url: str, timeout_s: float) -> Reachability:
        """Any HTTP answer (even 4xx/5xx) means the host is reachable."""
        outcome: list[Reachability] = []

        def attempt() -> None:
            request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "broadcaster-doctor"})
            try:
                with urllib.request.urlopen(request, timeout=timeout_s) as response:
                    outcome.append(Reachability(url, True, f"HTTP {response.status}"))
            except urllib.error.HTTPError as exc:
                outcome.append(Reachability(url, True, f"HTTP {exc.code}"))
            except (urllib.error.URLError, OSError, ValueError) as exc:
                outcome.append(Reachability(url, False, _network_error(exc)))

        worker = threading.Thread(target=attempt, name="doctor-reach", daemon=True)
        worker.start()
        worker.join(timeout_s + 0.5)
        if not outcome:
            waited = f"{timeout_s:g}".replace(".", ",")
            return Reachability(url, False, f"hết thời gian chờ ({waited} s, kể cả tra tên miền)")
        return outcome[0]


def _network_error(exc: BaseException) -> str:
    """The usual network failures in Vietnamese; anything else quoted."""
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, socket.gaierror):
        return "không phân giải được tên máy chủ (không có mạng hoặc DNS)"
    if isinstance(reason, TimeoutError):
        return "hết thời gian chờ"
    if isinstance(reason, ConnectionRefusedError):
        return "máy chủ từ chối kết nối"
    if isinstance(reason, ssl.SSLError):
        return f"lỗi chứng chỉ/SSL: {reason}"
    return f"lỗi mạng: {reason}"


class ReportFonts:
    """The reports' own font search (which checks that the faces cover Vietnamese)."""

    def __init__(self, dirs: Sequence[Path] | None = None) -> None:
        self._dirs = dirs

    def find(self) -> FontReport:
        """Paths of the faces found, or the search's one-line error."""
        from broadcaster.reports import fonts

        try:
            found = fonts.find_serif_fonts() if self._dirs is None else fonts.find_serif_fonts(self._dirs)
        except BroadcasterError as exc:
            return FontReport(error=exc.one_line())
        return FontReport(paths=tuple(str(p) for p in found.faces), family=found.family)


class SystemOutput:
    """The configured player, its server or card, and (on request) a short tone through it."""

    def __init__(self, configured: str, resolve: Callable[[], str], device: str, aired_dir: Path) -> None:
        self._configured = configured
        self._resolve = resolve
        self._device = device
        self._aired_dir = aired_dir

    def inspect(self, play_test: bool) -> OutputState:
        """Build the player as the daemon would; check its output answers; play the tone if asked."""
        from broadcaster.playout.player import create_player

        resolved = self._resolve()
        state = OutputState(self._configured, resolved, self._device, False, "")
        try:
            player = create_player(resolved, self._device or None, out_dir=self._aired_dir)
        except BroadcasterError as exc:
            return replace(state, detail=exc.one_line())
        available, detail = self._answers(resolved)
        state = replace(state, available=available, detail=detail)
        if play_test and available:
            state = replace(state, tone=_play_tone(player))
        return state

    def _answers(self, name: str) -> tuple[bool, str]:
        if name in ("pacat", "paplay"):
            return _pulse_answers(self._device)
        if name == "aplay":
            done = _run(["aplay", "-l"])
            if done is None or "card " not in done.stdout:
                return False, "ALSA không thấy card âm thanh nào (aplay -l)"
            return True, "ALSA thấy card âm thanh (aplay -l)"
        if name == "file":
            folder = self._aired_dir if self._aired_dir.exists() else self._aired_dir.parent
            while not folder.exists() and folder != folder.parent:
                folder = folder.parent
            if not os.access(folder, os.W_OK):
                return False, f"không ghi được vào {self._aired_dir}"
            return True, f"ghi các lượt phát vào {self._aired_dir}"
        return True, f"{name} có sẵn; đầu ra do hệ thống chọn"


def _pulse_answers(device: str) -> tuple[bool, str]:
    info = _run(["pactl", "info"])
    if info is None or info.returncode != 0:
        return False, "máy chủ PulseAudio không trả lời (pactl info)"
    sinks = _run(["pactl", "list", "short", "sinks"])
    names = [line.split("\t")[1] for line in (sinks.stdout if sinks else "").splitlines() if "\t" in line]
    if device and device not in names:
        return False, f"PulseAudio không có thiết bị '{device}' (có: {', '.join(names) or 'không có'})"
    default = next(
        (ln.split(":", 1)[1].strip() for ln in info.stdout.splitlines() if ln.startswith("Default Sink:")), ""
    )
    return True, f"PulseAudio trả lời; thiết bị: {device or default or 'mặc định'}"


def _play_tone(player: Player) -> ToneResult:
    """A 0.5 s 440 Hz tone through `player`; a file sink's copy is removed afterwards."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return ToneResult(False, 0.0, "không tạo được tiếng thử: thiếu ffmpeg")
    with tempfile.TemporaryDirectory(prefix="broadcaster-tone-") as tmp:
        tone = Path(tmp) / "tieng-thu.wav"
        argv = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-f", "lavfi"]
        argv += ["-i", f"sine=frequency=440:duration={TONE_S}", "-ar", "48000", str(tone)]
        made = _run(argv, timeout=30)
        if made is None or made.returncode != 0:
            return ToneResult(False, 0.0, "không tạo được tiếng thử bằng ffmpeg")
        try:
            playback = player.prepare(tone)
            try:
                playback.start()
                result = playback.wait(TONE_S + 10.0) or playback.stop()
            finally:
                playback.close()
        except BroadcasterError as exc:
            return ToneResult(False, 0.0, exc.one_line())
        if result.output is not None:
            Path(result.output).unlink(missing_ok=True)
        return ToneResult(result.completed, result.played_s, result.error or "")


class StoreProbe:
    """The database at `url`: opened without creating it, its migration, each station's chain verified."""

    def __init__(self, url: str, witness: Witness | None = None) -> None:
        self._url = url
        self._witness = witness  # the station key and signed heads: the chain must end at the signed head

    def inspect(self) -> DatabaseState:
        """Open, read the revision, and verify the as-run chains when the schema is current."""
        from sqlalchemy import make_url
        from sqlalchemy.exc import SQLAlchemyError

        from broadcaster.store import db

        head = db.head_revision()
        try:
            parsed = make_url(self._url)
        except SQLAlchemyError:
            return DatabaseState(self._url, False, head, error="địa chỉ cơ sở dữ liệu không hợp lệ")
        sqlite = parsed.get_backend_name() == "sqlite"
        shown = f"SQLite {db.database_label(parsed)}" if sqlite else db.database_label(parsed)
        file = parsed.database if sqlite else None
        if file not in (None, "", ":memory:") and not Path(str(file)).is_file():
            return DatabaseState(shown, False, head, error=f"chưa có tệp {file}")
        try:
            engine = db.make_engine(self._url)
        except BroadcasterError as exc:
            return DatabaseState(shown, False, head, error=exc.one_line())
        try:
            try:
                with db.database_errors(engine.url):
                    current = db.current_revision(engine)
            except (BroadcasterError, SQLAlchemyError) as exc:
                return DatabaseState(shown, False, head, error=_one_line(exc))
            if current != head:
                return DatabaseState(shown, True, head, current)
            try:
                with db.database_errors(engine.url):
                    chains = _chains(engine, self._witness)
            except (BroadcasterError, SQLAlchemyError) as exc:
                return DatabaseState(shown, True, head, current, chain_error=_one_line(exc))
            return DatabaseState(shown, True, head, current, chains=chains)
        finally:
            engine.dispose()


def _chains(engine: Engine, witness: Witness | None) -> tuple[ChainState, ...]:
    """Verify every station's as-run chain (against its signed head, when the key is known), by code."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from broadcaster import airlog
    from broadcaster.services.chain import verify_chain
    from broadcaster.store.models import StationRow

    chains = []
    with Session(engine) as session:
        for station in session.scalars(select(StationRow).order_by(StationRow.code)):
            if witness is None:
                result = airlog.verify(session, station.id)
            else:
                result = verify_chain(session, station, witness).result
            p = result.problem
            chains.append(
                ChainState(station.code, result.rows, True)
                if p is None
                else ChainState(station.code, result.rows, False, p.kind, p.row_id, p.seq, p.message)
            )
    return tuple(chains)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, BroadcasterError):
        return exc.one_line()
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


class SystemDisk:
    """Free space where the home lives, and the stored audio under it."""

    def __init__(self, home: Path) -> None:
        self._home = home

    def inspect(self) -> DiskState:
        """shutil.disk_usage of the home (or its nearest existing parent) and the audio files' stats."""
        usage = shutil.disk_usage(existing_parent(self._home))
        files: list[FileStat] = []
        for folder in AUDIO_FOLDERS:
            root = self._home / folder
            if not root.is_dir():
                continue
            for dirpath, _dirs, names in os.walk(root):
                for name in names:
                    try:
                        st = os.stat(os.path.join(dirpath, name))
                    except OSError:
                        continue  # removed while walking
                    files.append(FileStat(folder, datetime.fromtimestamp(st.st_mtime, UTC), st.st_size))
        return DiskState(str(self._home), usage.total, usage.free, tuple(files))


class SystemLock:
    """Tries the daemon's `daemon.lock` without waiting and reads `daemon.pid` beside it."""

    def __init__(self, home: Path) -> None:
        self._home = home

    def inspect(self) -> LockState:
        """Held or free, and whether the recorded PID is a running process."""
        import psutil
        from filelock import FileLock, Timeout

        lock_path = self._home / "daemon.lock"
        pid_path = self._home / "daemon.pid"
        held = False
        if lock_path.exists():  # a daemon creates it; never create it here
            lock = FileLock(str(lock_path))
            try:
                lock.acquire(blocking=False)
            except Timeout:
                held = True
            else:
                lock.release()
        pid: int | None = None
        try:
            pid = int(pid_path.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            pid = None
        alive = bool(psutil.pid_exists(pid)) if pid is not None else None
        return LockState(str(lock_path), held, pid, alive, os.getpid())


class SystemClockProbe:
    """chrony, then ntpd, then systemd-timesyncd, then the Windows time service: the first that answers."""

    def read(self) -> ClockState:
        """The first time service that gives a readable answer; an unknown state if none does."""
        tried: list[str] = []
        if shutil.which("chronyc"):
            tried.append("chronyc")
            done = _run(["chronyc", "tracking"], timeout=5)
            if done and done.returncode == 0 and (state := parse_chronyc_tracking(done.stdout)):
                return state
        if shutil.which("ntpq"):
            tried.append("ntpq")
            done = _run(["ntpq", "-c", "rv"], timeout=5)
            if done and done.returncode == 0 and (state := parse_ntpq_rv(done.stdout)):
                return state
        if shutil.which("timedatectl"):
            tried.append("timedatectl")
            show = _run(["timedatectl", "show"], timeout=5)
            if show and show.returncode == 0:
                timesync = _run(["timedatectl", "timesync-status"], timeout=5)
                text = timesync.stdout if timesync and timesync.returncode == 0 else ""
                if state := parse_timedatectl(show.stdout, text):
                    return state
        if shutil.which("w32tm"):
            tried.append("w32tm")
            done = _run(["w32tm", "/query", "/status"], timeout=5)
            if done and done.returncode == 0 and (state := parse_w32tm_status(done.stdout)):
                return state
        detail = f"đã thử {', '.join(tried)} nhưng không đọc được" if tried else "không có công cụ nào"
        return ClockState(None, None, None, detail)
