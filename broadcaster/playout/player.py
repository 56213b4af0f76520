"""Audio outputs chosen by name: real PulseAudio/ALSA players and a file sink, behind one Player protocol.

The daemon calls `player.prepare(path)` ahead of the set time, `playback.start()` at it, then
`wait(timeout)` or `stop()`, and finally `close()`. How much an interrupted airing played is the time
from start to stop, capped at the clip length (and, for pacat, at the PCM already handed over).
"""

from __future__ import annotations

import difflib
from pathlib import Path

from broadcaster.clock import Clock, SystemClock
from broadcaster.errors import ConfigError
from broadcaster.playout.players.base import Playback, PlaybackResult, Player
from broadcaster.playout.players.filesink import FileSinkPlayback, FileSinkPlayer
from broadcaster.playout.players.process import PROCESS_PLAYERS, ProcessPlayer
from broadcaster.playout.players.pulse import DEFAULT_LATENCY_MS, PacatPlayer

__all__ = [
    "PLAYER_NAMES",
    "FileSinkPlayback",
    "FileSinkPlayer",
    "PacatPlayer",
    "Playback",
    "PlaybackResult",
    "Player",
    "ProcessPlayer",
    "create_player",
]

PLAYER_NAMES: tuple[str, ...] = ("pacat", *PROCESS_PLAYERS, "file")


def create_player(
    name: str,
    device: str | None = None,
    *,
    clock: Clock | None = None,
    out_dir: Path | None = None,
    rate: int = 48000,
    channels: int = 2,
    latency_ms: int = DEFAULT_LATENCY_MS,
    pace: float = 1.0,
    work_dir: Path | None = None,
) -> Player:
    """The player called `name` (pacat, paplay, ffplay, aplay, file) for PulseAudio sink `device`.

    Raises ConfigError for an unknown name (with the closest match) or a file sink without
    `out_dir`, and ToolMissingError when the player's program is not installed.
    """
    clock = clock or SystemClock()
    key = name.strip().lower()
    if key == "pacat":
        return PacatPlayer(
            clock, device, rate=rate, channels=channels, latency_ms=latency_ms, work_dir=work_dir
        )
    if key in PROCESS_PLAYERS:
        return ProcessPlayer(key, clock, device, rate=rate, channels=channels, work_dir=work_dir)
    if key == "file":
        if out_dir is None:
            raise ConfigError(
                "Bộ phát 'file' cần thư mục để ghi các lượt phát.",
                "Hãy đặt thư mục đầu ra (out_dir) trong cấu hình.",
            )
        return FileSinkPlayer(out_dir, clock, pace=pace)
    close = difflib.get_close_matches(key, PLAYER_NAMES, n=1)
    guess = f"Có phải ý bạn là '{close[0]}'? " if close else ""
    raise ConfigError(
        f"Không có bộ phát âm thanh tên '{name}'.",
        f"{guess}Các bộ phát có sẵn: {', '.join(PLAYER_NAMES)}.",
    )
