"""The voices a bulletin may be read with: what the installed engines offer, and the reading speed.

A voice is named `engine:voice` ("gtts:vi", "espeak:vi-vn-x-south", "piper:vi_VN-vais1000-medium").
Only what runs on this PC is offered: espeak-ng's Vietnamese voices when the program is installed,
Google's voice when the station's chain uses gTTS, a Piper voice when the station gave a model file
and the `piper` program is installed. Nothing is downloaded.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from broadcaster import labels
from broadcaster.errors import ConfigError, InputError

SPEED_MIN = 0.8
SPEED_MAX = 1.25
NORMAL_SPEED = 1.0
# The order a person meets them in: north, centre, south (what `espeak-ng --voices=vi` lists).
ESPEAK_ORDER = ("vi", "vi-vn-x-central", "vi-vn-x-south")
_SPEED_HINT = "Chọn tốc độ từ 0,8× đến 1,25× (1× là tốc độ thường)."


@dataclass(frozen=True)
class Voice:
    """One offered voice: its id, the engine that speaks it and that engine's name for it."""

    id: str
    engine: str
    name: str

    @property
    def label(self) -> str:
        """What a person reads: "Giọng nam miền Nam (espeak-ng)"."""
        return labels.voice(self.id)


def voice_id(engine: str, name: str) -> str:
    """The id of `name` spoken by `engine`: "espeak:vi"."""
    return f"{engine}:{name}"


def voice_engine(voice: str) -> str:
    """The engine part of a voice id ("" for the station's chain)."""
    return voice.partition(":")[0] if ":" in voice else ""


def parse_espeak_voices(listing: str) -> list[str]:
    """The Vietnamese voice names in `espeak-ng --voices=vi` output (pure): north, centre, south first."""
    names: list[str] = []
    for line in listing.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 2 and parts[1].lower().startswith("vi") and parts[1].lower() not in names:
            names.append(parts[1].lower())

    def rank(name: str) -> tuple[int, str]:
        return (ESPEAK_ORDER.index(name) if name in ESPEAK_ORDER else len(ESPEAK_ORDER), name)

    return sorted(names, key=rank)


def espeak_voices(binary: str = "espeak-ng") -> list[str]:
    """The Vietnamese voices of the installed espeak-ng ([] when it is not installed)."""
    path = shutil.which(binary)
    if path is None:
        return []
    try:
        proc = subprocess.run([path, "--voices=vi"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return parse_espeak_voices(proc.stdout.decode("utf-8", "replace")) if proc.returncode == 0 else []


def piper_voice(model: Path | None, binary: str = "piper") -> Voice | None:
    """The station's Piper voice: offered only when its model file and the `piper` program are here."""
    if model is None or not model.is_file() or shutil.which(binary) is None:
        return None
    return Voice(voice_id("piper", model.name.removesuffix(".onnx")), "piper", str(model))


def installed_voices(
    *, gtts_lang: str | None, espeak_binary: str = "espeak-ng", piper_model: Path | None = None
) -> tuple[Voice, ...]:
    """Every voice this PC can speak: Google's (when `gtts_lang`), espeak-ng's, the station's Piper voice."""
    offered: list[Voice] = []
    if gtts_lang:
        offered.append(Voice(voice_id("gtts", gtts_lang), "gtts", gtts_lang))
    offered += [Voice(voice_id("espeak", n), "espeak", n) for n in espeak_voices(espeak_binary)]
    piper = piper_voice(piper_model)
    if piper is not None:
        offered.append(piper)
    return tuple(offered)


def parse_speed(text: str | float) -> float:
    """A reading speed as typed ("1,1", "1.1", "1.1x", "1,1×") → 1.1, refusing one outside 0.8–1.25."""
    if isinstance(text, float | int) and not isinstance(text, bool):
        value = float(text)
    else:
        raw = str(text).strip().lower().rstrip("x×").strip().replace(",", ".")
        try:
            value = float(raw)
        except ValueError:
            raise InputError(
                f"Tốc độ đọc «{text}» không phải là một số.", _SPEED_HINT, field="speed"
            ) from None
    if not SPEED_MIN <= value <= SPEED_MAX:  # nan fails both
        shown = labels.speed(value) if value == value else str(text)
        raise InputError(f"Tốc độ đọc {shown} nằm ngoài khoảng cho phép.", _SPEED_HINT, field="speed")
    return round(value, 2)


@dataclass(frozen=True)
class VoiceOffer:
    """The voices offered at this station and its defaults for a new bulletin."""

    voices: tuple[Voice, ...]
    default_voice: str
    default_speed: float = NORMAL_SPEED

    def find(self, voice: str) -> Voice | None:
        """The offered voice with this id, or None."""
        return next((v for v in self.voices if v.id == voice), None)

    def choose(self, voice: str | None, speed: str | float | None) -> tuple[str, float]:
        """The voice and speed of a bulletin: what was chosen (checked) or, when not given, the defaults."""
        chosen_speed = self.default_speed if speed is None or str(speed).strip() == "" else parse_speed(speed)
        wanted = (voice or "").strip()
        if not wanted:
            return self.default_voice, chosen_speed
        if self.find(wanted) is None:
            names = "; ".join(f"{v.id} ({v.label})" for v in self.voices) or "(chưa có giọng nào)"
            raise InputError(
                f"Không có giọng đọc «{wanted}» trên máy của đài.", f"Chọn một trong: {names}.", field="voice"
            )
        return wanted, chosen_speed


def station_offer(voices: Sequence[Voice], configured: str, chain_default: str, speed: float) -> VoiceOffer:
    """The station's offer: its configured default voice (`speech.voice`), else the head of its chain."""
    ids = {v.id for v in voices}
    if configured and configured not in ids:
        names = ", ".join(sorted(ids)) or "(chưa có giọng nào)"
        raise ConfigError(
            f"Giọng mặc định '{configured}' (speech.voice) không có trên máy của đài.",
            f"Chọn một trong: {names}; hoặc để trống để dùng bộ đọc đầu tiên.",
        )
    default = configured or (chain_default if chain_default in ids else (voices[0].id if voices else ""))
    return VoiceOffer(tuple(voices), default, speed)
