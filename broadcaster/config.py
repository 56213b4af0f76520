"""Configuration: `$BROADCASTER_HOME/broadcaster.toml` + `BROADCASTER_*` variables → one frozen Config."""

from __future__ import annotations

import dataclasses
import difflib
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

import platformdirs

from broadcaster.errors import ConfigError

CONFIG_NAME = "broadcaster.toml"
ENV_PREFIX = "BROADCASTER_"
# Variables that are not config keys: where the home is, and who is acting.
SPECIAL_ENV = {"BROADCASTER_HOME", "BROADCASTER_USER", "BROADCASTER_CONFIG", "BROADCASTER_DEBUG"}


@dataclass(frozen=True)
class StationSection:
    """Which station this PC serves and how it names itself in reports."""

    code: str = ""
    place: str = ""


@dataclass(frozen=True)
class DatabaseSection:
    """Where the data lives; empty url means SQLite in the home."""

    url: str = ""


@dataclass(frozen=True)
class SpeechSection:
    """Text normalisation and TTS engines."""

    engines: tuple[str, ...] = ("gtts", "espeak")
    gtts_lang: str = "vi"
    gtts_tld: str = "com.vn"
    gtts_timeout_s: float = 10.0
    espeak_voice: str = "vi"
    espeak_rate: int = 150
    espeak_pitch: int = 50
    retries: int = 2
    max_chars: int = 5000
    doc_number_rule: str = "natural"


@dataclass(frozen=True)
class AudioSection:
    """Loudness target and output format for air."""

    target_lufs: float = -16.0
    true_peak_dbtp: float = -1.5
    trim_silence: bool = True
    format: str = "mp3"
    sample_rate: int = 44100
    channels: int = 1
    bitrate: str = "128k"
    max_recording_minutes: float = 30.0


@dataclass(frozen=True)
class ProgrammeSection:
    """How a programme is built: signature tune, ident, gaps, repeats, closing words."""

    signature: str = ""
    use_signature: bool = True
    gap_s: float = 1.0
    repeat: int = 1
    closing: str = "Chương trình phát thanh của đài đến đây là kết thúc. Xin cảm ơn quý vị đã lắng nghe."


@dataclass(frozen=True)
class PlayoutSection:
    """Which output plays the programmes and how the daemon treats time."""

    player: str = "auto"
    device: str = ""
    lead_minutes: float = 5.0
    grace_s: float = 60.0
    resync_s: float = 3.0
    resume_policy: str = "resume"


@dataclass(frozen=True)
class Config:
    """The whole configuration, passed explicitly to whoever needs it."""

    home: Path
    station: StationSection = field(default_factory=StationSection)
    database: DatabaseSection = field(default_factory=DatabaseSection)
    speech: SpeechSection = field(default_factory=SpeechSection)
    audio: AudioSection = field(default_factory=AudioSection)
    programme: ProgrammeSection = field(default_factory=ProgrammeSection)
    playout: PlayoutSection = field(default_factory=PlayoutSection)

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL: configured, or SQLite in the home."""
        return self.database.url or f"sqlite:///{self.home / 'broadcaster.db'}"

    @property
    def config_path(self) -> Path:
        """The config file in the home."""
        return self.home / CONFIG_NAME

    @property
    def media_dir(self) -> Path:
        """Rendered and imported audio."""
        return self.home / "media"

    @property
    def aired_dir(self) -> Path:
        """Where the file sink writes what it aired."""
        return self.home / "aired"


SECTIONS: dict[str, type[Any]] = {
    "station": StationSection,
    "database": DatabaseSection,
    "speech": SpeechSection,
    "audio": AudioSection,
    "programme": ProgrammeSection,
    "playout": PlayoutSection,
}


def default_home() -> Path:
    """The platform's user data dir for broadcaster."""
    return Path(platformdirs.user_data_dir("broadcaster", appauthor=False))


def resolve_home(environ: Mapping[str, str]) -> Path:
    """BROADCASTER_HOME if set, else the platform default."""
    raw = environ.get("BROADCASTER_HOME", "").strip()
    return Path(raw).expanduser().resolve() if raw else default_home()


def load_config(environ: Mapping[str, str] | None = None, home: Path | None = None) -> Config:
    """Read the home's config file (if any) and the environment into one frozen Config."""
    env = os.environ if environ is None else environ
    home = home or resolve_home(env)
    path = Path(env["BROADCASTER_CONFIG"]) if env.get("BROADCASTER_CONFIG") else home / CONFIG_NAME
    raw: dict[str, Any] = {}
    if path.exists():
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"Tệp cấu hình {path} không đọc được: {exc}", "Sửa lỗi cú pháp TOML trong tệp rồi chạy lại."
            ) from exc
    merged = _merge_env(raw, env)
    return _build(home, merged, str(path))


def _merge_env(raw: dict[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    merged = {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name in SPECIAL_ENV:
            continue
        key = name[len(ENV_PREFIX) :].lower()
        section, _, sub = key.partition("_")
        if section not in SECTIONS or sub not in _field_names(SECTIONS[section]):
            options = [
                f"{ENV_PREFIX}{s.upper()}_{f.upper()}" for s, c in SECTIONS.items() for f in _field_names(c)
            ]
            raise ConfigError(
                f"Biến môi trường không hợp lệ: {name}",
                _suggest(name, options + sorted(SPECIAL_ENV), "Xóa hoặc sửa tên biến."),
            )
        merged.setdefault(section, {})[sub] = _EnvString(value)
    return merged


class _EnvString(str):
    """A value that came from the environment, converted by the field's type."""


def _field_names(cls: type[Any]) -> list[str]:
    return [f.name for f in fields(cls)]


def _suggest(word: str, options: list[str], fallback: str) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f"Có phải ý bạn là '{close[0]}'?" if close else fallback


def _build(home: Path, raw: dict[str, Any], source: str) -> Config:
    sections: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in SECTIONS:
            raise ConfigError(
                f"{source}: mục [{name}] không tồn tại", _suggest(name, list(SECTIONS), "Xóa mục này.")
            )
        if not isinstance(value, dict):
            raise ConfigError(
                f"{source}: '{name}' phải là một mục [{name}]", "Đặt các khóa dưới tiêu đề mục."
            )
        sections[name] = _build_section(name, SECTIONS[name], value, source)
    return Config(home=home, **sections)


def _build_section(name: str, cls: type[Any], values: dict[str, Any], source: str) -> Any:
    hints = get_type_hints(cls)
    known = _field_names(cls)
    kwargs: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise ConfigError(
                f"{source}: khóa '{name}.{key}' không tồn tại",
                _suggest(key, known, f"Các khóa hợp lệ: {', '.join(known)}."),
            )
        kwargs[key] = _coerce(f"{name}.{key}", hints[key], value, source)
    return cls(**kwargs)


def _coerce(key: str, hint: Any, value: Any, source: str) -> Any:
    from_env = isinstance(value, _EnvString)
    try:
        if hint is bool:
            if from_env:
                lowered = value.strip().lower()
                if lowered not in {"1", "0", "true", "false", "yes", "no"}:
                    raise ValueError(value)
                return lowered in {"1", "true", "yes"}
            if not isinstance(value, bool):
                raise ValueError(value)
            return value
        if hint is int:
            if isinstance(value, bool):
                raise ValueError(value)
            return int(value) if from_env or isinstance(value, int) else _fail(value)
        if hint is float:
            if isinstance(value, bool):
                raise ValueError(value)
            return float(value) if from_env or isinstance(value, int | float) else _fail(value)
        if hint is str:
            return str(value) if isinstance(value, str) else _fail(value)
        if hint == tuple[str, ...]:
            items = [v.strip() for v in value.split(",") if v.strip()] if from_env else value
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise ValueError(value)
            return tuple(items)
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"{source}: giá trị '{value}' không hợp lệ cho '{key}'",
            f"Cần kiểu {getattr(hint, '__name__', hint)}.",
        ) from exc
    raise ConfigError(f"{source}: khóa '{key}' có kiểu không hỗ trợ", "Báo cho người phát triển.")


def _fail(value: Any) -> Any:
    raise ValueError(value)


def default_config_text() -> str:
    """The commented default config written by `broadcaster init`."""
    lines = [
        "# Cấu hình broadcaster (broadcaster configuration).",
        "# Mỗi khóa cũng đặt được bằng biến môi trường BROADCASTER_<MỤC>_<KHÓA>,",
        "# ví dụ BROADCASTER_PLAYOUT_PLAYER=file. Bỏ dấu # để thay đổi giá trị mặc định.",
        "",
    ]
    for name, cls in SECTIONS.items():
        lines.append(f"[{name}]")
        defaults = cls()
        for f in fields(cls):
            lines.append(f"# {f.name} = {_toml_value(getattr(defaults, f.name))}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def replace(config: Config, **sections: Any) -> Config:
    """A copy of `config` with whole sections replaced (tests and the demo use it)."""
    return dataclasses.replace(config, **sections)
