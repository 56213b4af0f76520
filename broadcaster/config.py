"""Configuration: `$BROADCASTER_HOME/broadcaster.toml` + `BROADCASTER_*` variables → one checked Config."""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

import platformdirs

from broadcaster.config_rules import HOW, RULES, coerce, guess, key_lines, opus_fault
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
    # A new bulletin's voice ("espeak:vi-vn-x-south"; empty: the first engine's) and reading speed.
    voice: str = ""
    speed: float = 1.0
    piper_model: str = ""  # a Piper voice file (.onnx) the station provides; empty: no Piper voice


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
    # Longest wait for a locked database when claiming an airing or writing its rows near air time.
    claim_wait_s: float = 2.0
    # The station's lease: a daemon silent this long is taken for dead and another may take over.
    lease_s: float = 30.0
    # Relays (tiếp sóng): the stream is opened this early; after this much silence from it the filler
    # plays (a file; empty: the signature tune) until the stream returns.
    relay_lead_s: float = 20.0
    relay_silence_s: float = 5.0
    relay_filler: str = ""


@dataclass(frozen=True)
class OffAirSection:
    """The ear on the output: what it records while a programme airs, how it judges, how long it keeps it."""

    # "" = the monitor of the playout output (PulseAudio "<device>.monitor"); a PulseAudio source name;
    # "alsa:<device>" for a capture card wired from the amplifier; "off" = no off-air check.
    capture: str = ""
    silence_s: float = 5.0  # dead air this long in an airing makes it "silent"
    min_similarity: float = 0.6  # below this correlation with the programme, it is "different"
    keep_days: int = 30  # recordings kept as evidence, then pruned
    bitrate: str = "24k"  # Opus bit rate of the kept recordings


@dataclass(frozen=True)
class DoctorSection:
    """Thresholds of the station self-check (`broadcaster doctor`, and `broadcaster run` at start)."""

    min_free_mb: int = 1024
    max_clock_offset_s: float = 5.0


@dataclass(frozen=True)
class DistrictSection:
    """Forwarding to the district server (the link itself is `district.json`, made by `station link`);
    at the district server itself, the name its reports are issued under."""

    sync_s: float = 60.0  # how often the daemon pushes new as-run rows (and its heartbeat)
    poll_s: float = 5.0  # how often it asks for bulletins the district sent (an emergency airs within it)
    # At the district server: the issuing body of its consolidated report ("Quận Cái Răng") and the
    # place of its date line (empty: the name without its unit word, "Cái Răng").
    name: str = ""
    place: str = ""


@dataclass(frozen=True)
class WebSection:
    """The web console (`broadcaster web`): where it listens, the idle sign-out, cookie security."""

    host: str = "127.0.0.1"
    port: int = 8080
    idle_minutes: int = 30
    secure_cookies: str = "auto"  # auto: Secure when the request came over HTTPS; always; never
    workers: int = 0  # server processes; 0: one per core, at most two (a station PC has few users)


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
    doctor: DoctorSection = field(default_factory=DoctorSection)
    offair: OffAirSection = field(default_factory=OffAirSection)
    web: WebSection = field(default_factory=WebSection)
    district: DistrictSection = field(default_factory=DistrictSection)

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
    def offair_dir(self) -> Path:
        """Where the ear keeps its recordings and verdicts."""
        return self.home / "offair"

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
    "doctor": DoctorSection,
    "offair": OffAirSection,
    "web": WebSection,
    "district": DistrictSection,
}


def default_home() -> Path:
    """The platform's user data dir for broadcaster."""
    return Path(platformdirs.user_data_dir("broadcaster", appauthor=False))


def resolve_home(environ: Mapping[str, str]) -> Path:
    """BROADCASTER_HOME if set, else the platform default."""
    raw = environ.get("BROADCASTER_HOME", "").strip()
    return Path(raw).expanduser().resolve() if raw else default_home()


@dataclass(frozen=True)
class _Origin:
    """Where a name or value was set: a key of the file (line 0 when not found) or a variable."""

    key: str = ""
    line: int = 0
    variable: str = ""

    def describe(self, file: str) -> str:
        """'broadcaster.toml:3: playout.player' or 'biến môi trường BROADCASTER_PLAYOUT_PLAYER'."""
        if self.variable:
            return f"biến môi trường {self.variable}"
        return f"{file}:{self.line}: {self.key}" if self.line else f"{file}: {self.key}"


@dataclass(frozen=True)
class _Setting:
    """One raw value and where it came from."""

    value: Any
    origin: _Origin

    @property
    def from_env(self) -> bool:
        """A variable's text, still to be parsed as the field's type."""
        return bool(self.origin.variable)


@dataclass(frozen=True)
class _Problem:
    """One bad name or value: where it was set, what is wrong, what to do."""

    origin: _Origin
    reason: str
    fix: str


def load_config(environ: Mapping[str, str] | None = None, home: Path | None = None) -> Config:
    """Read the home's config file (if any) and the environment into one frozen Config.

    Every problem (unknown name, wrong type, value out of range or not in its set) is collected and
    raised as one ConfigError that names the file line and key, or the variable, of each.
    """
    env = os.environ if environ is None else environ
    home = home or resolve_home(env)
    explicit = env.get("BROADCASTER_CONFIG", "")
    path = Path(explicit).expanduser() if explicit else home / CONFIG_NAME
    problems: list[_Problem] = []
    settings = _read_file(path, problems, required=bool(explicit))
    _read_env(env, settings, problems)
    sections = {name: _build_section(name, values, problems) for name, values in settings.items()}
    _check_format(sections, settings, problems)
    if problems:
        raise _one_error(problems, path)
    return Config(home=home, **{name: SECTIONS[name](**kwargs) for name, kwargs in sections.items()})


def _one_error(problems: list[_Problem], path: Path) -> ConfigError:
    """Every problem in one error: the file's in line order, then the variables'; the file named once."""
    problems = sorted(problems, key=lambda p: (bool(p.origin.variable), p.origin.line))
    if len(problems) == 1:
        only = problems[0]
        return ConfigError(f"{only.origin.describe(str(path))}: {only.reason}", only.fix)
    file = f" (tệp {path})" if any(not p.origin.variable for p in problems) else ""
    listed = "; ".join(f"{p.origin.describe(path.name)}: {p.reason} — {p.fix}" for p in problems)
    return ConfigError(
        f"Cấu hình có {len(problems)} lỗi{file}: {listed}", "Sửa tất cả các mục trên rồi chạy lại."
    )


def _parse_file(path: Path, *, required: bool) -> tuple[dict[str, Any], str]:
    """The parsed file and its text; a missing default file is empty, an unreadable one an error."""
    if not path.exists():
        if required:
            raise ConfigError(
                f"Không thấy tệp cấu hình {path} (BROADCASTER_CONFIG).",
                "Sửa đường dẫn trong biến BROADCASTER_CONFIG hoặc bỏ biến này.",
            )
        return {}, ""
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except OSError as exc:
        raise ConfigError(
            f"Không đọc được tệp cấu hình {path}.", "Kiểm tra đó là một tệp thường và tài khoản có quyền đọc."
        ) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"Tệp cấu hình {path} không phải văn bản UTF-8.", "Lưu lại tệp với mã UTF-8."
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"at line (\d+), column (\d+)", str(exc))
        place = f"{path}:{at.group(1)} (cột {at.group(2)})" if at else str(path)
        raise ConfigError(
            f"{place}: tệp cấu hình sai cú pháp TOML.",
            "Sửa dòng này: mỗi dòng là [mục], khóa = giá_trị hoặc # chú thích; chuỗi đặt trong ngoặc kép.",
        ) from exc
    return raw, text


def _read_file(path: Path, problems: list[_Problem], *, required: bool) -> dict[str, dict[str, _Setting]]:
    """The file's keys by section, each with its line; problems of names are added to `problems`."""
    raw, text = _parse_file(path, required=required)
    lines = key_lines(text)

    def where(key: str) -> _Origin:
        return _Origin(key, lines.get(key, 0))

    settings: dict[str, dict[str, _Setting]] = {}
    for name, table in raw.items():
        owner = _owner(name)
        if not isinstance(table, dict):
            fix = (
                f"đặt dòng này dưới tiêu đề [{owner}]"
                if owner
                else "đặt khóa dưới tiêu đề mục, ví dụ [playout]"
            )
            problems.append(_Problem(where(name), f"khóa '{name}' nằm ngoài mọi mục", fix))
        elif name not in SECTIONS:
            fix = guess(name, list(SECTIONS)) or f"các mục hợp lệ: {', '.join(SECTIONS)}; "
            problems.append(
                _Problem(where(name), f"mục [{name}] không tồn tại", f"{fix}sửa tên hoặc xóa mục này")
            )
        else:
            known = _field_names(SECTIONS[name])
            for key, value in table.items():
                if key in known:
                    settings.setdefault(name, {})[key] = _Setting(value, where(f"{name}.{key}"))
                    continue
                other = _owner(key)
                fix = (
                    f"khóa này thuộc mục [{other}]; chuyển dòng xuống dưới [{other}]"
                    if other
                    else (guess(key, known) or f"các khóa hợp lệ của [{name}]: {', '.join(known)}")
                )
                problems.append(
                    _Problem(where(f"{name}.{key}"), f"khóa '{name}.{key}' không tồn tại", fix.strip())
                )
    return settings


def _owner(key: str) -> str:
    """The section that has a key of this name, or ''."""
    return next((s for s, cls in SECTIONS.items() if key in _field_names(cls)), "")


def _read_env(
    env: Mapping[str, str], settings: dict[str, dict[str, _Setting]], problems: list[_Problem]
) -> None:
    """Lay the BROADCASTER_<SECTION>_<KEY> variables over the file's values (the environment wins)."""
    for name, value in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or name in SPECIAL_ENV:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition("_")
        if section in SECTIONS and key in _field_names(SECTIONS[section]):
            settings.setdefault(section, {})[key] = _Setting(value, _Origin(variable=name))
            continue
        options = [
            f"{ENV_PREFIX}{s.upper()}_{f.upper()}" for s, c in SECTIONS.items() for f in _field_names(c)
        ]
        close = difflib.get_close_matches(name, options + sorted(SPECIAL_ENV), n=1, cutoff=0.6)
        fix = (
            f"có phải ý bạn là '{close[0]}'?" if close else "xóa biến hoặc sửa tên: BROADCASTER_<MỤC>_<KHÓA>"
        )
        problems.append(_Problem(_Origin(variable=name), "không có khóa cấu hình nào mang tên này", fix))


def _field_names(cls: type[Any]) -> list[str]:
    return [f.name for f in fields(cls)]


def _build_section(name: str, values: dict[str, _Setting], problems: list[_Problem]) -> dict[str, Any]:
    """Each value converted to its field's type and checked against its rule; bad ones become problems."""
    hints = get_type_hints(SECTIONS[name])
    kwargs: dict[str, Any] = {}
    for key, setting in values.items():
        hint = hints[key]
        try:
            value = coerce(hint, setting.value, setting.from_env)
        except (ValueError, TypeError):
            how = HOW.get(hint, ("báo cho người phát triển", "báo cho người phát triển"))[
                int(setting.from_env)
            ]
            shown = f"'{setting.value}'" if setting.from_env else _toml_value(_plain(setting.value))
            problems.append(_Problem(setting.origin, f"giá trị {shown} sai kiểu", how))
            continue
        fault = RULES[f"{name}.{key}"](value) if f"{name}.{key}" in RULES else None
        if fault:
            problems.append(_Problem(setting.origin, *fault))
        else:
            kwargs[key] = value
    return kwargs


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    return "{…}" if isinstance(value, dict) else value


def _check_format(
    sections: dict[str, dict[str, Any]], settings: dict[str, dict[str, _Setting]], problems: list[_Problem]
) -> None:
    """Format and sample rate together; a mismatch is blamed on whichever of the two was set."""
    audio, given = sections.get("audio", {}), settings.get("audio", {})
    if not given or any(key in given and key not in audio for key in ("format", "sample_rate")):
        return  # nothing set here, or one of the two is already reported
    defaults = AudioSection()
    fault = opus_fault(audio.get("format", defaults.format), audio.get("sample_rate", defaults.sample_rate))
    blamed = given.get("sample_rate") or given.get("format")
    if fault and blamed:
        problems.append(_Problem(blamed.origin, *fault))


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
