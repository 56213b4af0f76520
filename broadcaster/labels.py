"""The one Vietnamese label of every user-facing value: outcomes, statuses, roles, entities, units.

The CLI, the reports and the web console print codes only in `--json` output and in the code
columns of data files; everywhere a person reads, they print these labels. Tables are keyed by the
code (a plain string), so that a value may be labelled before its enum member exists (the coming
read-only inspector role) and so that codes read back from the database need no conversion.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import date

from broadcaster.domain import BulletinStatus, ExceptionKind, OffAir, Outcome, Priority, Role, Trigger

# What happened to an airing (the as-run log's outcome).
OUTCOMES: Mapping[str, str] = {
    Outcome.COMPLETED: "đã phát xong",
    Outcome.INTERRUPTED: "bị ngắt",
    Outcome.FAILED: "phát lỗi",
    Outcome.MISSED: "bị lỡ",
    Outcome.SKIPPED: "bị bỏ qua",
}

# What the station's ear heard on its output during an airing (the off-air verdict).
OFF_AIR: Mapping[str, str] = {
    OffAir.HEARD: "đã nghe thấy",
    OffAir.SILENT: "mất tiếng",
    OffAir.DIFFERENT: "phát sai nội dung",
}
# The console's report option and the alert texts of the off-air check.
HEARD_ONLY = "chỉ tính lượt đã nghe thấy"
OFF_AIR_ALERT: Mapping[str, str] = {
    OffAir.SILENT: "Mất tiếng trên đường ra loa",
    OffAir.DIFFERENT: "Đường ra loa phát nội dung khác với chương trình",
}

# Thông tư 39/2020/TT-BTTTT: thông thường (fitted in), ưu tiên (ordered by the operator), khẩn cấp.
PRIORITIES: Mapping[str, str] = {
    Priority.NORMAL: "thông thường",
    Priority.PRIORITY: "ưu tiên",
    Priority.EMERGENCY: "khẩn cấp",
}

# What started an airing.
TRIGGERS: Mapping[str, str] = {
    Trigger.SCHEDULE: "theo lịch",
    Trigger.MANUAL: "thủ công",
    Trigger.EMERGENCY: "khẩn cấp",
}

# A bulletin's life cycle.
BULLETIN_STATUSES: Mapping[str, str] = {
    BulletinStatus.DRAFT: "bản nháp",
    BulletinStatus.SUBMITTED: "chờ duyệt",
    BulletinStatus.APPROVED: "đã duyệt",
    BulletinStatus.REJECTED: "bị trả lại",
    BulletinStatus.RETIRED: "ngừng phát",
}

# Who may do what; "inspector" is the read-only reviewer of the district or the ward.
ROLES: Mapping[str, str] = {
    Role.OFFICER: "công chức viết tin",
    Role.LEADER: "lãnh đạo duyệt tin",
    Role.OPERATOR: "nhân viên vận hành đài",
    Role.ADMIN: "quản trị viên",
    "inspector": "kiểm tra viên (chỉ xem)",
}

# The verdict of one row of the station self-check (`broadcaster doctor`), as it prints it.
CHECK_STATUSES: Mapping[str, str] = {"ok": "ĐẠT", "warn": "CẢNH BÁO", "fail": "LỖI"}

# A dated change to the recurring sessions.
EXCEPTION_KINDS: Mapping[str, str] = {
    ExceptionKind.CANCEL: "hủy buổi phát",
    ExceptionKind.EXTRA: "buổi phát thêm",
}

# The approval recorded on one revision of a bulletin (store values, not an enum).
APPROVALS: Mapping[str, str] = {
    "pending": "chưa duyệt",
    "approved": "đã duyệt",
    "rejected": "bị trả lại",
}

# The length of one row of a compliance report (reports.periods.PeriodKind).
PERIOD_KINDS: Mapping[str, str] = {
    "week": "tuần",
    "month": "tháng",
    "quarter": "quý",
    "year": "năm",
}

# What the station holds, for counts such as "12 bản tin, 4 chiến dịch"; in the order counts print.
ENTITIES: Mapping[str, str] = {
    "station": "đài",
    "session": "buổi phát",
    "exception": "ngoại lệ",
    "campaign": "chiến dịch",
    "target": "chỉ tiêu",
    "bulletin": "bản tin",
    "revision": "phiên bản",
    "render": "bản âm thanh",
    "airing": "lượt phát",
    "user": "người dùng",
    "row": "dòng",
}

# Units of measure in sentences and table cells.
UNITS: Mapping[str, str] = {
    "second": "giây",
    "minute": "phút",
    "hour": "giờ",
    "day": "ngày",
    "week": "tuần",
    "month": "tháng",
    "quarter": "quý",
    "year": "năm",
    "airing": "lượt",
    "time": "lần",
}

# Sessions that are not recurring slots of the station file (their codes are set by the playout).
SPECIAL_SESSIONS: Mapping[str, str] = {
    "manual": "Phát ngay",
    "emergency": "Tin khẩn cấp",
    "demo": "Buổi phát thử",
}

# The audio outputs a station plays through (config playout.player).
PLAYERS: Mapping[str, str] = {
    "file": "ghi ra tệp (không phát ra loa)",
    "pacat": "PulseAudio (pacat)",
    "paplay": "PulseAudio (paplay)",
    "aplay": "ALSA (aplay)",
    "ffplay": "ffplay",
}

# How `log verify` found the as-run chain broken (airlog's problem kinds).
CHAIN_PROBLEMS: Mapping[str, str] = {
    "edited": "bị sửa",
    "deleted": "bị xóa",
    "inserted": "bị chèn",
    "reordered": "bị đảo thứ tự",
    "unsigned": "không có chữ ký của đài",
}

# The rule the normaliser used for one rewrite (`speech normalize --explain`).
REWRITE_RULES: Mapping[str, str] = {
    "doc_number": "số hiệu văn bản",
    "number": "số",
    "decimal": "số thập phân",
    "percent": "phần trăm",
    "unit": "đơn vị đo",
    "phone": "số điện thoại",
    "date": "ngày tháng",
    "fraction": "phân số",
    "roman": "số La Mã",
    "ordinal": "số thứ tự",
    "heading": "số đề mục",
    "time": "giờ",
    "range": "khoảng",
    "lexicon": "từ viết tắt",
    "caps": "chữ in hoa",
}

# Monday first, as the ISO week and Vietnamese calendars print them.
WEEKDAYS_SHORT: tuple[str, ...] = ("T2", "T3", "T4", "T5", "T6", "T7", "CN")
WEEKDAYS: tuple[str, ...] = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")

# Log levels of the daemon's console output.
LOG_LEVELS: Mapping[str, str] = {
    "DEBUG": "GỠ LỖI",
    "INFO": "THÔNG TIN",
    "WARNING": "CẢNH BÁO",
    "ERROR": "LỖI",
    "CRITICAL": "NGHIÊM TRỌNG",
}

# What the station daemon is doing, from its heartbeat in the database (the web console's dashboard).
DAEMON_STATES: Mapping[str, str] = {
    "idle": "đang chạy, chờ buổi phát",
    "on_air": "đang phát",
    "stopped": "đã dừng",
    "offline": "mất liên lạc",
    "absent": "chưa chạy lần nào",
}

# What the dashboard warns about.
ALERT_KINDS: Mapping[str, str] = {
    "missing_audio": "thiếu âm thanh",
    "render_failed": "lỗi dựng âm thanh",
    "failed": "phát lỗi",
    "missed": "lượt phát bị lỡ",
    "daemon": "trạm phát",
    "backlog": "nhật ký chờ ghi",
    "chain": "chuỗi nhật ký",
    "silent": "mất tiếng trên loa",
    "different": "loa phát sai nội dung",
}

# What a ward did with a bulletin the district sent it (the district console's delivery column).
DISPATCH_STATES: Mapping[str, str] = {
    "sent": "đã gửi, phường chưa nhận",
    "received": "phường đã nhận",
    "queued": "đã xếp vào buổi phát",
    "on_air": "đang phát khẩn cấp",
    "missed": "bị lỡ (quá hạn phát)",
    "refused": "phường không nhận được",
}

# How a ward × campaign cell of the district's table stands this period (district_console.TONES).
COMPLIANCE_TONES: Mapping[str, str] = {
    "ok": "đạt",
    "pending": "đúng tiến độ",
    "risk": "có nguy cơ không đạt",
    "bad": "không đạt",
    "plain": "không có chỉ tiêu",
    "none": "không diễn ra kỳ này",
}

# What an audit event records (the district reads its wards' events by these).
AUDIT_ACTIONS: Mapping[str, str] = {
    "airing.move": "chuyển lượt phát",
    "airing.queue": "xếp bản tin vào buổi phát",
    "airing.resume": "xếp lại lượt phát bị cắt",
    "airing.unqueue": "rút bản tin khỏi buổi phát",
    "airing.withdraw": "rút lượt phát",
    "api.request": "gọi API",
    "api_token.create": "cấp mã truy cập API",
    "api_token.revoke": "thu hồi mã truy cập API",
    "as_run.correct": "đính chính nhật ký phát sóng",
    "as_run.sign_head": "ký xác nhận nhật ký phát sóng",
    "bulletin.add": "viết bản tin",
    "bulletin.approve": "duyệt bản tin",
    "bulletin.details": "sửa thông tin bản tin",
    "bulletin.edit": "sửa bản tin",
    "bulletin.reject": "trả lại bản tin",
    "bulletin.retire": "ngừng dùng bản tin",
    "bulletin.submit": "gửi duyệt bản tin",
    "dispatch.receive": "nhận bản tin của huyện",
    "dispatch.send": "gửi bản tin xuống phường",
    "district.intake": "huyện nhận nhật ký",
    "exception.add": "thêm ngày nghỉ, buổi phát thêm",
    "exception.remove": "bỏ ngày nghỉ, buổi phát thêm",
    "schedule.change": "huyện thay đổi lịch phát",
    "schedule.import": "nhập tệp lịch",
    "settings.campaign.edit": "sửa chiến dịch",
    "settings.session.add": "thêm buổi phát",
    "settings.session.edit": "sửa buổi phát",
    "settings.session.remove": "bỏ buổi phát",
    "settings.station.edit": "sửa thông tin đài",
    "user.add": "thêm người dùng",
    "user.password": "đặt mật khẩu",
    "user.role": "đổi vai trò",
    "web.sign_in": "đăng nhập",
    "web.sign_in_failed": "đăng nhập sai",
    "web.sign_out": "đăng xuất",
}

# What an audit event is about.
AUDIT_OBJECTS: Mapping[str, str] = {
    "airing": "lượt phát",
    "api_token": "mã truy cập",
    "as_run": "dòng nhật ký",
    "bulletin": "bản tin",
    "dispatch": "bản tin của huyện",
    "exception": "ngày nghỉ, buổi phát thêm",
    "station": "đài",
    "user": "người dùng",
}

# The voices a bulletin may be read with, keyed "engine:voice" (speech/voices.py offers the installed ones).
VOICES: Mapping[str, str] = {
    "gtts:vi": "Giọng nữ miền Bắc (Google)",
    "espeak:vi": "Giọng nam miền Bắc (espeak-ng)",
    "espeak:vi-vn-x-central": "Giọng nam miền Trung (espeak-ng)",
    "espeak:vi-vn-x-south": "Giọng nam miền Nam (espeak-ng)",
}
# A voice id with no "engine:" part: the station's own chain as configured (bulletins written before
# voices could be chosen).
STATION_VOICE = "Giọng mặc định của đài"

# Who acts at a station for its district (the audit trail's and the as-run log's name for it).
DISTRICT_ACTOR_NAME = "Máy chủ huyện"

ENUM_LABELS: Mapping[type[enum.Enum], Mapping[str, str]] = {
    Outcome: OUTCOMES,
    OffAir: OFF_AIR,
    Priority: PRIORITIES,
    Trigger: TRIGGERS,
    BulletinStatus: BULLETIN_STATUSES,
    Role: ROLES,
    ExceptionKind: EXCEPTION_KINDS,
}


def capitalise(text: str) -> str:
    """The text with its first letter in upper case (for a table cell or the start of a sentence)."""
    return text[:1].upper() + text[1:]


def label(value: enum.StrEnum, *, capital: bool = False) -> str:
    """The Vietnamese label of a domain enum value, e.g. Outcome.COMPLETED → "đã phát xong"."""
    table = ENUM_LABELS.get(type(value))
    if table is None:
        raise TypeError(f"no Vietnamese labels for {type(value).__name__}")
    text = table[value.value]
    return capitalise(text) if capital else text


def _lookup(table: Mapping[str, str], code: str, capital: bool) -> str:
    """The label of a code, or the code itself when the table lacks it (never fail a command on a label)."""
    text = table.get(code, code)
    return capitalise(text) if capital else text


def outcome(code: str, *, capital: bool = False) -> str:
    """An outcome code as stored ("completed") → its label."""
    return _lookup(OUTCOMES, code, capital)


def off_air(code: str, *, capital: bool = False) -> str:
    """An off-air verdict code as stored ("heard", "silent", "different") → its label."""
    return _lookup(OFF_AIR, code, capital)


def priority(code: str, *, capital: bool = False) -> str:
    """A priority code ("normal", "priority", "emergency") → its label."""
    return _lookup(PRIORITIES, code, capital)


def trigger(code: str, *, capital: bool = False) -> str:
    """A trigger code ("schedule", "manual", "emergency") → its label."""
    return _lookup(TRIGGERS, code, capital)


def bulletin_status(code: str, *, capital: bool = False) -> str:
    """A bulletin status code ("draft", "approved" ...) → its label."""
    return _lookup(BULLETIN_STATUSES, code, capital)


def check_status(code: str) -> str:
    """A self-check verdict code ("ok", "warn", "fail") → its label, in capitals as the check prints it."""
    return CHECK_STATUSES.get(code, code)


def role(code: str, *, capital: bool = False) -> str:
    """A role code ("officer", "leader", "operator", "admin", "inspector") → its label."""
    return _lookup(ROLES, code, capital)


def approval(code: str, *, capital: bool = False) -> str:
    """A revision's approval ("pending", "approved", "rejected") → its label."""
    return _lookup(APPROVALS, code, capital)


def period_kind(code: str, *, capital: bool = False) -> str:
    """A report period kind ("week", "month", "quarter", "year") → "tuần", "tháng", "quý", "năm"."""
    return _lookup(PERIOD_KINDS, code, capital)


def entity(kind: str, *, capital: bool = False) -> str:
    """What the station holds ("bulletin", "campaign" ...) → "bản tin", "chiến dịch" ..."""
    return _lookup(ENTITIES, kind, capital)


def unit(name: str) -> str:
    """A unit of measure ("minute", "second", "airing" ...) → "phút", "giây", "lượt" ..."""
    return UNITS.get(name, name)


def amount(value: float | int, unit_name: str) -> str:
    """A number and its unit, decimal comma as Vietnamese writes it: "12 phút", "2,5 giây"."""
    number = str(value) if isinstance(value, int) else f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{number.replace('.', ',')} {unit(unit_name)}"


def count_phrase(counts: Mapping[str, int]) -> str:
    """Counts of entities as one phrase, "1 đài, 2 buổi phát, 12 bản tin", in ENTITIES order."""
    order = {kind: n for n, kind in enumerate(ENTITIES)}
    kinds = sorted(counts, key=lambda k: (order.get(k, len(order)), k))
    return ", ".join(f"{counts[k]} {entity(k)}" for k in kinds)


def session_name(code: str, name: str = "") -> str:
    """The name a person knows a session by: its own name, else that of a special session, else the code."""
    return name or SPECIAL_SESSIONS.get(code, code)


def player(name: str) -> str:
    """A player name ("file", "pacat" ...) → what the operator reads."""
    return PLAYERS.get(name, name)


def chain_problem(kind: str) -> str:
    """How the as-run chain is broken ("edited" ...) → "bị sửa" ..."""
    return CHAIN_PROBLEMS.get(kind, kind)


def voice(voice_id: str) -> str:
    """A voice id ("espeak:vi-vn-x-south") → "Giọng nam miền Nam (espeak-ng)"; Piper: its model's name."""
    if voice_id in VOICES:
        return VOICES[voice_id]
    engine, _, name = voice_id.partition(":")
    if engine == "piper" and name:
        return f"Giọng Piper «{name}» (tệp giọng của đài)"
    if engine in ("espeak", "gtts") and name:
        return f"Giọng {name} ({'espeak-ng' if engine == 'espeak' else 'Google'})"
    return STATION_VOICE


def speed(factor: float) -> str:
    """A reading speed → "1,1×" (Vietnamese decimal comma; "1×" for normal speed)."""
    return f"{factor:g}".replace(".", ",") + "×"


def rewrite_rule(rule: str) -> str:
    """The normaliser's rule name ("doc_number", "date" ...) → what a reader calls it."""
    return REWRITE_RULES.get(rule, rule)


def weekday_short(day: date) -> str:
    """ "T2" … "T7", "CN" for a date (Monday = T2)."""
    return WEEKDAYS_SHORT[day.weekday()]


def weekday(day: date) -> str:
    """ "thứ Hai" … "Chủ nhật" for a date."""
    return WEEKDAYS[day.weekday()]


def week_name(day: date) -> str:
    """The ISO week holding `day` as Vietnamese writes it: "tuần 11/2023"."""
    year, week, _ = day.isocalendar()
    return f"tuần {week}/{year}"


def month_name(day: date) -> str:
    """The month holding `day` as Vietnamese writes it: "tháng 03/2023"."""
    return f"tháng {day:%m/%Y}"


def period_code_name(code: str) -> str:
    """A period code of the plans ("2023-W11", "2023-03") → "tuần 11/2023", "tháng 03/2023"."""
    year, sep, rest = code.partition("-")
    if not (sep and year.isdigit()):
        return code
    if rest.startswith("W") and rest[1:].isdigit():
        return f"tuần {int(rest[1:])}/{year}"
    return f"tháng {rest}/{year}" if rest.isdigit() else code


def log_level(levelname: str) -> str:
    """A logging level name ("INFO", "WARNING" ...) → its Vietnamese label."""
    return LOG_LEVELS.get(levelname, levelname)


def daemon_state(code: str, *, capital: bool = False) -> str:
    """The daemon's state ("idle", "on_air", "stopped", "offline", "absent") → what the operator reads."""
    return _lookup(DAEMON_STATES, code, capital)


def dispatch_state(code: str, *, capital: bool = False) -> str:
    """A district bulletin's state at one ward ("sent", "queued" ...) → its label."""
    return _lookup(DISPATCH_STATES, code, capital)


def audit_action(code: str, *, capital: bool = False) -> str:
    """An audit event's action ("bulletin.approve" ...) → what it records."""
    return _lookup(AUDIT_ACTIONS, code, capital)


def audit_object(code: str, *, capital: bool = False) -> str:
    """What an audit event is about ("bulletin", "airing" ...) → its label."""
    return _lookup(AUDIT_OBJECTS, code, capital)


def compliance_tone(code: str, *, capital: bool = False) -> str:
    """A district table cell's standing ("ok", "risk" ...) → its label."""
    return _lookup(COMPLIANCE_TONES, code, capital)


def alert_kind(code: str, *, capital: bool = False) -> str:
    """A dashboard alert's kind ("missing_audio", "missed" ...) → its label."""
    return _lookup(ALERT_KINDS, code, capital)


def ago(seconds: float) -> str:
    """How long ago, as Vietnamese says it: "cách đây 5 giây", "cách đây 3 phút", "cách đây 2 ngày"."""
    whole = max(0, int(seconds))
    for size, name in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if whole >= size:
            return f"cách đây {whole // size} {unit(name)}"
    return f"cách đây {whole} {unit('second')}"
