"""The `Engine` protocol every TTS engine implements, the render result types and a file helper."""

from __future__ import annotations

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


def nonempty_size(path: Path) -> int:
    """Size of `path` in bytes, 0 when it is missing."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
