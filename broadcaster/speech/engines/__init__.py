"""TTS engines looked up by name: `create_engine("gtts", lang="vi")`, with "did you mean" on a typo."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from broadcaster.errors import InputError
from broadcaster.speech.engines.base import Engine, EngineFailure, RenderResult
from broadcaster.speech.engines.espeak import EspeakEngine
from broadcaster.speech.engines.gtts_engine import GttsEngine

__all__ = [
    "ENGINE_FACTORIES",
    "Engine",
    "EngineFailure",
    "EspeakEngine",
    "GttsEngine",
    "RenderResult",
    "create_engine",
    "known_engines",
]

# Read-only: adding an engine means adding a line here, not mutating state at run time.
ENGINE_FACTORIES: Mapping[str, Callable[..., Engine]] = MappingProxyType(
    {
        "gtts": GttsEngine,
        "espeak": EspeakEngine,
        "espeak-ng": EspeakEngine,
    }
)


def known_engines() -> list[str]:
    """The registered engine names, sorted."""
    return sorted(ENGINE_FACTORIES)


def _suggest(word: str, choices: list[str]) -> str:
    """A ' Ý bạn là "x"?' suffix when a close match exists, else ''."""
    close = difflib.get_close_matches(word.lower(), choices, n=1, cutoff=0.5)
    return f' Ý bạn là "{close[0]}"?' if close else ""


def create_engine(name: str, **settings: Any) -> Engine:
    """Build the engine registered under `name` with its settings; unknown names or settings → InputError."""
    key = name.strip().lower()
    factory = ENGINE_FACTORIES.get(key)
    names = known_engines()
    if factory is None:
        raise InputError(
            f'Không có bộ đọc (TTS) tên "{name}".{_suggest(key, names)}',
            f"Các bộ đọc hiện có: {', '.join(names)}.",
        )
    accepted = [p for p in inspect.signature(factory).parameters if p != "self"]
    for setting in settings:
        if setting not in accepted:
            raise InputError(
                f'Bộ đọc "{key}" không có tùy chọn "{setting}".{_suggest(setting, accepted)}',
                f"Các tùy chọn hợp lệ: {', '.join(accepted)}.",
            )
    return factory(**settings)
