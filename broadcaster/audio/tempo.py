"""Reading speed without a change of pitch: ffmpeg's `atempo` (time-stretch) as a normalisation source."""

from __future__ import annotations

from pathlib import Path

from broadcaster.audio.ffmpeg import AudioSource, single_file
from broadcaster.errors import AudioError

# atempo keeps its quality in one stage over this range; speech speeds stay well inside it.
_MIN, _MAX = 0.5, 2.0


def tempo_source(path: Path, factor: float) -> AudioSource:
    """The first audio stream of `path` played `factor` times as fast at the same pitch (1.0: as is)."""
    if factor == 1.0:
        return single_file(path)
    if not _MIN <= factor <= _MAX:
        raise AudioError(
            f"Không đổi được tốc độ âm thanh {factor:g} lần.", "Chọn tốc độ đọc từ 0,8× đến 1,25×."
        )
    return AudioSource(inputs=(path,), graph=f"[0:a:0]atempo={factor:.4f}[src]")
