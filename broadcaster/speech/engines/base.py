"""The `Engine` protocol every TTS engine implements, the render result types and a file helper."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable


@runtime_checkable
class Engine(Protocol):
    """A text-to-speech engine: turns already-spoken text into one complete audio file."""

    @property
    def name(self) -> str:
        """Registry name of the engine, e.g. "gtts" or "espeak"."""
        ...

    @property
    def voice(self) -> str:
        """The voice (or language) the engine speaks with."""
        ...

    @property
    def file_extension(self) -> str:
        """Extension of the files it writes, without the dot ("mp3", "wav")."""
        ...

    def settings_key(self) -> str:
        """A stable string of every setting that changes the audio (part of the cache key)."""
        ...

    def synthesize(self, text: str, dst: Path) -> None:
        """Write the complete audio for `text` to `dst` or raise EngineError / ToolMissingError."""
        ...


@dataclass(frozen=True)
class EngineFailure:
    """Why one engine of the chain did not produce audio."""

    engine: str
    message: str
    retryable: bool
    attempts: int
    tool_missing: bool = False


@dataclass(frozen=True)
class RenderResult:
    """Where a rendered bulletin lives and who made it."""

    path: Path
    sha256: str
    engine: str
    voice: str
    settings_key: str
    cache_hit: bool
    fallback: bool
    failures: tuple[EngineFailure, ...] = ()


@contextlib.contextmanager
def atomic_target(dst: Path) -> Iterator[Path]:
    """Yield a temp path next to `dst`; on success it replaces `dst`, on any error it is removed.

    Writers (gTTS opens its file before the request, espeak-ng writes as it goes) may leave
    a partial or empty file behind; only a complete, non-empty file ever reaches `dst`.
    """
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{dst.stem}.", suffix=f".part{dst.suffix}", dir=dst.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def nonempty_size(path: Path) -> int:
    """Size of `path` in bytes, 0 when it is missing."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
