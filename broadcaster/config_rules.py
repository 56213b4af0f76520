"""What each config setting may hold (names, ranges, formats) and how raw text becomes a value: pure.

config.py sits above speech, audio and playout, so the names those layers register are listed here;
tests/test_config.py checks each list against the registry it mirrors.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

PLAYER_NAMES = ("auto", "pacat", "paplay", "ffplay", "aplay", "file")
ENGINE_NAMES = ("gtts", "espeak", "espeak-ng")
DOC_NUMBER_RULES = ("natural", "slash", "number")
RESUME_POLICIES = ("resume", "restart", "skip")
AUDIO_FORMATS = ("mp3", "ogg", "opus", "aac", "flac", "wav")
SAMPLE_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
DATABASE_KINDS = ("sqlite", "postgresql")

Fault: TypeAlias = tuple[str, str]  # (what is wrong, what to do), both Vietnamese
Check: TypeAlias = Callable[[Any], Fault | None]


def _num(value: float) -> str:
    return str(value) if isinstance(value, int) else f"{value:g}"


def guess(word: str, options: Sequence[str]) -> str:
    """'có phải ý bạn là …? ' for the nearest option, or ''."""
    close = difflib.get_close_matches(word.lower(), list(options), n=1, cutoff=0.6)
    return f"có phải ý bạn là '{close[0]}'? " if close else ""


def _range(label: str, lo: float, hi: float, unit: str = "", *, above: bool = False) -> Check:
    """Between lo and hi inclusive (strictly above lo when `above`)."""

    def check(value: float) -> Fault | None:
        if (lo < value if above else lo <= value) and value <= hi:
            return None
        bound = f"lớn hơn {_num(lo)} và không quá" if above else f"từ {_num(lo)} đến"
        return (
            f"{label} là {_num(value)}{unit}, nằm ngoài khoảng cho phép",
            f"đặt một số {bound} {_num(hi)}{unit}",
        )

    return check


def _choice(label: str, options: Sequence[Any]) -> Check:
    """One of `options`."""

    def check(value: Any) -> Fault | None:
        if value in options:
            return None
        names = [str(o) for o in options]
        hint = guess(value, names) if isinstance(value, str) else ""  # 44000 is not "near" 48000
        return (
            f"{label} '{value}' không hợp lệ",
            f"{hint}chọn một trong: {', '.join(names)}",
        )

    return check


def _engines(value: tuple[str, ...]) -> Fault | None:
    """Known engine names, at least one, none twice."""
    names = ", ".join(ENGINE_NAMES)
    unknown = [f"'{name}'" for name in value if name not in ENGINE_NAMES]
    twice = sorted({name for name in value if value.count(name) > 1})
    if not value:
        return "danh sách bộ đọc (TTS) đang trống", f'ghi ít nhất một bộ đọc, ví dụ ["espeak"]; có: {names}'
    if unknown:
        hint = guess(unknown[0].strip("'"), ENGINE_NAMES)
        return f"không có bộ đọc (TTS) {', '.join(unknown)}", f"{hint}các bộ đọc hiện có: {names}"
    if twice:
        return f"bộ đọc '{twice[0]}' được ghi hai lần", "mỗi bộ đọc ghi một lần, theo thứ tự dùng thử"
    return None


def _database_url(value: str) -> Fault | None:
    """Empty (SQLite in the home), or a SQLite or PostgreSQL URL."""
    if not value:
        return None
    scheme, sep, _ = value.partition("://")
    kind = scheme.split("+", 1)[0].lower()
    usage = (
        "dùng sqlite:////đường/dẫn/tệp.db hoặc postgresql://người_dùng@máy/tên_csdl, "
        "hoặc để trống để dùng SQLite trong thư mục dữ liệu"
    )
    if not sep or not kind:
        return "địa chỉ cơ sở dữ liệu thiếu loại (sqlite:// hoặc postgresql://)", usage
    if kind == "postgres":
        return "loại 'postgres://' không được hỗ trợ", "viết postgresql://… thay cho postgres://…"
    if kind not in DATABASE_KINDS:  # only the scheme is shown: the rest of a URL may hold a password
        return f"cơ sở dữ liệu loại '{scheme}' không được hỗ trợ: chỉ hỗ trợ SQLite và PostgreSQL", usage
    return None


def _bitrate(value: str) -> Fault | None:
    """Empty (the encoder's default) or 8k … 320k."""
    found = re.fullmatch(r"(\d+)k", value.strip())
    if not value or (found and 8 <= int(found.group(1)) <= 320):
        return None
    return f"tốc độ bit '{value}' không hợp lệ", "đặt dạng 64k, 96k, 128k … 320k (hoặc để trống)"


# The unit words a district-level name begins with (Nghị định 30/2020 prints it in the heading block).
DISTRICT_UNITS = ("Quận", "Huyện", "Thị xã", "Thành phố")


def _district_name(value: str) -> Fault | None:
    """Empty (no consolidated report yet), or a name that begins with its unit: "Quận Cái Răng"."""
    text = " ".join(value.split())
    if not text or any(text.startswith(unit + " ") and len(text) > len(unit) + 1 for unit in DISTRICT_UNITS):
        return None
    return (
        f"tên quận/huyện '{value}' thiếu cấp hành chính ở đầu",
        f'ghi cả cấp ({", ".join(DISTRICT_UNITS)}), ví dụ "Quận Cái Răng"',
    )


VOICE_ENGINES = ("gtts", "espeak", "piper")


def _voice(value: str) -> Fault | None:
    """Empty (the first engine's voice), or "engine:voice" of an engine that has voices."""
    engine, sep, name = value.partition(":")
    if not value or (sep and name.strip() and engine in VOICE_ENGINES):
        return None
    return (
        f"giọng đọc '{value}' không đúng dạng",
        'ghi "bộ đọc:giọng", ví dụ "espeak:vi-vn-x-south" hoặc "gtts:vi"; để trống để dùng bộ đọc đầu tiên',
    )


# "section.key" → its check; a key without a rule is only type-checked.
RULES: dict[str, Check] = {
    "database.url": _database_url,
    "speech.engines": _engines,
    "speech.gtts_timeout_s": _range("thời gian chờ gTTS", 0, 120, " giây", above=True),
    "speech.espeak_rate": _range("tốc độ đọc của espeak", 80, 450, " từ/phút"),
    "speech.espeak_pitch": _range("cao độ giọng espeak", 0, 99),
    "speech.retries": _range("số lần thử lại", 0, 10),
    "speech.max_chars": _range("số ký tự tối đa của một bản tin", 1, 100_000),
    "speech.doc_number_rule": _choice("cách đọc số văn bản", DOC_NUMBER_RULES),
    "speech.voice": _voice,
    "speech.speed": _range("tốc độ đọc", 0.8, 1.25, " lần"),
    "audio.target_lufs": _range("độ lớn mục tiêu", -40, -5, " LUFS"),
    "audio.true_peak_dbtp": _range("đỉnh thực tối đa", -9, 0, " dBTP"),
    "audio.format": _choice("định dạng âm thanh", AUDIO_FORMATS),
    "audio.sample_rate": _choice("tần số lấy mẫu (Hz)", SAMPLE_RATES),
    "audio.channels": _choice("số kênh (1 mono, 2 stereo)", (1, 2)),
    "audio.bitrate": _bitrate,
    "audio.max_recording_minutes": _range("thời lượng tối đa của bản ghi âm", 0, 180, " phút", above=True),
    "programme.gap_s": _range("khoảng lặng giữa các phần", 0, 30, " giây"),
    "programme.repeat": _range("số lần đọc mỗi bản tin", 1, 5),
    "playout.player": _choice("bộ phát âm thanh", PLAYER_NAMES),
    "playout.lead_minutes": _range("thời gian chuẩn bị trước giờ phát", 0, 120, " phút"),
    "playout.grace_s": _range("thời gian cho phép phát trễ", 0, 3600, " giây"),
    "playout.resync_s": _range("chu kỳ đọc lại lịch phát", 0, 3600, " giây", above=True),
    "playout.resume_policy": _choice("cách xử lý chương trình bị cắt", RESUME_POLICIES),
    "playout.claim_wait_s": _range("thời gian chờ cơ sở dữ liệu khi nhận phát", 0.1, 30, " giây"),
    "playout.lease_s": _range("thời hạn quyền phát của trạm phát", 5, 600, " giây"),
    "playout.relay_lead_s": _range("thời gian mở trước luồng tiếp sóng", 1, 300, " giây"),
    "playout.relay_silence_s": _range(
        "thời gian im lặng trước khi phát âm thanh thay thế", 0.5, 120, " giây"
    ),
    "offair.silence_s": _range("thời gian mất tiếng để báo", 0.5, 600, " giây"),
    "offair.min_similarity": _range("độ giống tối thiểu với chương trình", 0.05, 0.99),
    "offair.keep_days": _range("số ngày giữ bản ghi đường ra loa", 1, 3660, " ngày"),
    "offair.bitrate": _bitrate,
    "doctor.min_free_mb": _range("dung lượng trống tối thiểu", 0, 1_000_000, " MB"),
    "doctor.max_clock_offset_s": _range("độ lệch đồng hồ cho phép", 0, 3600, " giây", above=True),
    "web.port": _range("cổng của trang quản lý", 1, 65535),
    "district.sync_s": _range("chu kỳ gửi nhật ký lên huyện", 5, 86400, " giây"),
    "district.poll_s": _range("chu kỳ nhận bản tin của huyện", 1, 3600, " giây"),
    "district.name": _district_name,
    "web.idle_minutes": _range("thời gian tự đăng xuất khi không dùng", 1, 24 * 60, " phút"),
    "web.workers": _range("số tiến trình của trang quản lý (0: tự chọn)", 0, 16),
    "web.secure_cookies": _choice("cờ Secure của cookie", ("auto", "always", "never")),
}

# How to write a value of each type: in the file, and in a variable.
HOW: dict[Any, tuple[str, str]] = {
    bool: ("ghi true hoặc false, không có ngoặc kép", "đặt 1/0, true/false hoặc yes/no"),
    int: ("ghi một số nguyên, không có ngoặc kép", "đặt một số nguyên"),
    float: ("ghi một số, không có ngoặc kép, ví dụ -16.5", "đặt một số với dấu chấm thập phân, ví dụ -16.5"),
    str: ('ghi một chuỗi trong ngoặc kép, ví dụ "file"', "đặt một chuỗi"),
    tuple[str, ...]: (
        'ghi một mảng chuỗi, ví dụ ["gtts", "espeak"]',
        "đặt các tên cách nhau bằng dấu phẩy, ví dụ gtts,espeak",
    ),
}


def opus_fault(codec: str, rate: int) -> Fault | None:
    """Opus encodes only some sample rates; the other codecs take every rate in SAMPLE_RATES."""
    if codec != "opus" or rate in OPUS_RATES:
        return None
    return (
        f"Opus không hỗ trợ tần số {rate} Hz",
        f"đặt sample_rate là một trong: {', '.join(map(str, OPUS_RATES))}",
    )


_HEADER = re.compile(r"^\s*\[\s*([A-Za-z0-9_-]+)\s*\]")
_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+(?:\s*\.\s*[A-Za-z0-9_-]+)*)\s*=(.*)$")


def key_lines(text: str) -> dict[str, int]:
    """`section.key` (and `section`) → the 1-based line that sets it; tomllib keeps no positions."""
    lines: dict[str, int] = {}
    table, closer = "", ""
    for number, line in enumerate(text.splitlines(), start=1):
        if closer:  # inside a multi-line string
            closer = "" if line.count(closer) % 2 else closer
        elif header := _HEADER.match(line):
            table = header.group(1)
            lines.setdefault(table, number)
        elif key := _KEY.match(line):
            dotted = ".".join(part.strip() for part in key.group(1).split("."))
            lines.setdefault(f"{table}.{dotted}" if table else dotted, number)
            closer = next((q for q in ('"""', "'''") if key.group(2).count(q) % 2), "")
    return lines


def coerce(hint: Any, value: Any, from_env: bool) -> Any:
    """The value as the field's type; a variable's text is parsed, a file's value must already match."""
    if from_env:
        text = str(value).strip()
        if hint is bool:
            lowered = text.lower()
            if lowered not in {"1", "0", "true", "false", "yes", "no"}:
                raise ValueError(value)
            return lowered in {"1", "true", "yes"}
        if hint is int or hint is float:
            return hint(text)
        if hint == tuple[str, ...]:
            return tuple(item.strip() for item in text.split(",") if item.strip())
        if hint is str:
            return str(value)
        raise TypeError(hint)
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint == tuple[str, ...] and isinstance(value, list) and all(isinstance(i, str) for i in value):
        return tuple(value)
    if hint in (bool, int, str) and type(value) is hint:
        return value
    raise TypeError(hint)
