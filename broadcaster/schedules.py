"""Parse and validate declarative station/campaign files (`schedules/*.toml`) into domain objects.

The file is UTF-8 TOML (a leading BOM from Windows Notepad is accepted; all text is NFC-normalised).
Tables, in any order (`[[x]]` tables repeat; `x[2]` in messages means the second `[[x]]`, counted
from 1):

    [station]       code (a-z, 0-9, '-'), name, timezone (IANA, e.g. "Asia/Ho_Chi_Minh"), ident (the
                    spoken ident), ward (optional, e.g. "Phường Phú Thứ"), allowed_hours = ["05:00-07:30",
                    "16:30-19:00"] (local "HH:MM-HH:MM", end "24:00" allowed)
    [[session]]     code, name (optional), weekdays = ["mon".."sun"] or ["T2".."T7", "CN"], start = "06:00",
                    max_minutes = 15, valid_from / valid_to (optional dates); must fit in allowed_hours
    [[exception]]   date, kind = "cancel" | "extra", reason (optional); cancel: session (optional, omitted =
                    every session of that day); extra: start, max_minutes, session (optional code)
    [[campaign]]    code, title, plan_ref, period_start, period_end, topics, agencies, integrates (codes of
                    other campaigns in the file), optional [campaign.target] with min_airings_per_week,
                    min_airings_per_month, min_minutes_per_month, max_gap_days
    [[bulletin]]    key, campaign, title, agency (one of the campaign's agencies when it lists any), text
                    (paragraphs separated by a blank line; line breaks inside a paragraph become spaces),
                    approved_by (optional: the name of a user with role "leader")
    [[user]]        name (login, a-z 0-9 . _ -), full_name, role (officer|leader|operator|admin), title

Dates are TOML dates (2023-03-16) or ISO strings. A file with any problem is rejected whole: every
problem is collected and raised at once as `ScheduleValidationError`, each naming file, line, key path,
the reason and what to do, in Vietnamese.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
import unicodedata
import zoneinfo
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from broadcaster.domain import (
    BulletinSpec,
    Campaign,
    ExceptionKind,
    Role,
    ScheduleException,
    SessionRule,
    Station,
    Target,
    TimeWindow,
)
from broadcaster.errors import ScheduleFileError


@dataclass(frozen=True)
class UserSpec:
    """A station user declared in a schedule file."""

    name: str
    full_name: str
    role: Role
    title: str = ""


@dataclass(frozen=True)
class ScheduleFile:
    """Everything one validated schedule file declares."""

    station: Station
    campaigns: tuple[Campaign, ...]
    bulletins: tuple[BulletinSpec, ...]
    users: tuple[UserSpec, ...]
    ward: str = ""


@dataclass(frozen=True)
class Problem:
    """One problem found in a schedule file, located by line and key path."""

    source: str
    line: int
    path: str
    reason: str
    fix: str

    def __str__(self) -> str:
        key = f"{self.path}: " if self.path else ""
        return f"{self.source}:{self.line}: {key}{self.reason} — {self.fix}"


class ScheduleValidationError(ScheduleFileError):
    """A schedule file was rejected; `problems` lists every problem as one line each."""

    def __init__(self, source: str, details: Sequence[Problem]) -> None:
        self.source = source
        self.details = tuple(details)
        self.problems = [str(p) for p in self.details]
        summary = f"{source}: tệp lịch không hợp lệ ({len(self.problems)} lỗi), không nhập phần nào"
        super().__init__("\n".join([summary, *self.problems]), "sửa các lỗi trên rồi nhập lại cả tệp")

    def one_line(self) -> str:
        """The first problem and how many more there are."""
        if not self.problems:
            return super().one_line()
        more = len(self.problems) - 1
        return self.problems[0] + (f" (+{more} lỗi khác)" if more else "")


_OS_REASONS: dict[type[OSError], str] = {
    FileNotFoundError: "không có tệp này",
    PermissionError: "không có quyền đọc",
    IsADirectoryError: "đây là thư mục, không phải tệp",
}


def load_schedule(path: Path) -> ScheduleFile:
    """Read, parse and validate a schedule file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        why = _OS_REASONS.get(type(exc), exc.strerror or str(exc))
        raise ScheduleFileError(
            f"không đọc được tệp lịch {path}: {why}", "kiểm tra đường dẫn và quyền đọc tệp"
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        fix = "lưu lại tệp với bảng mã UTF-8 (Notepad: Lưu thành… → Mã hóa UTF-8)"
        raise ScheduleValidationError(
            str(path), [Problem(str(path), line, "", "tệp không phải UTF-8", fix)]
        ) from None
    return parse_schedule(text, str(path))


def parse_schedule(text: str, source: str) -> ScheduleFile:
    """Parse and validate schedule TOML; `source` names the file in messages."""
    text = unicodedata.normalize("NFC", text.removeprefix("\ufeff"))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScheduleValidationError(source, [_syntax_problem(source, text, exc)]) from None
    checker = _Checker(source, _Locator(text))
    result = _build(checker, data)
    if checker.problems or result is None:
        raise ScheduleValidationError(source, sorted(checker.problems, key=lambda p: p.line))
    return result


# --- locating keys: tomllib keeps no positions, so we scan the text ourselves ---------------------

_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_DOTTED = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_DOTTED})\s*\]")
_KEY_LINE = re.compile(rf"^\s*({_DOTTED})\s*=(.*)$")


def _split_key(dotted: str) -> list[str]:
    return [part.strip("\"'") for part in re.findall(_KEY_PART, dotted)]


class _Locator:
    """Maps key paths such as `session[2].start` to 1-based source lines."""

    def __init__(self, text: str) -> None:
        self._lines: dict[str, int] = {}
        counts: dict[str, int] = {}
        table = ""
        closer: str | None = None
        for number, line in enumerate(text.splitlines(), start=1):
            if closer is not None:  # inside a multi-line string: nothing here is a key
                if line.count(closer) % 2:
                    closer = None
                continue
            if header := _HEADER.match(line):
                table = self._resolve(_split_key(header.group(2)), header.group(1) == "[[", counts)
                self._lines.setdefault(table, number)
                self._lines.setdefault(re.sub(r"\[\d+\]$", "", table), number)
            elif key := _KEY_LINE.match(line):
                parts = _split_key(key.group(1))
                for i in range(1, len(parts) + 1):
                    self._lines.setdefault(".".join([p for p in (table, *parts[:i]) if p]), number)
                closer = next((q for q in ('"""', "'''") if key.group(2).count(q) % 2), None)

    @staticmethod
    def _resolve(parts: list[str], is_array: bool, counts: dict[str, int]) -> str:
        path = ""
        for i, part in enumerate(parts):
            path = f"{path}.{part}" if path else part
            if is_array and i == len(parts) - 1:
                counts[path] = counts.get(path, 0) + 1
            if path in counts:
                path = f"{path}[{counts[path]}]"
        return path

    def line(self, path: str) -> int:
        """The line of the key, else of its nearest enclosing key or table, else 1."""
        while path:
            if path in self._lines:
                return self._lines[path]
            shorter = re.sub(r"(\[\d+\]|\.[^.\[\]]+)$", "", path)
            if shorter == path:
                break
            path = shorter
        return 1


_SYNTAX = (
    ("Invalid value", "giá trị không hợp lệ", 'chuỗi chữ đặt trong ngoặc kép "…", ngày viết 2023-03-16'),
    ("Expected newline", "còn ký tự thừa sau giá trị", 'giờ, chữ phải đặt trong ngoặc kép, ví dụ "06:00"'),
    ("Expected '='", "thiếu dấu '=' sau tên khoá", "viết theo dạng tên_khoá = giá_trị"),
    ("Cannot overwrite", "một khoá được khai báo hai lần", "xoá dòng bị lặp"),
    (
        "Cannot declare",
        "một bảng được khai báo hai lần",
        "bảng lặp lại phải viết [[tên]], còn [tên] chỉ một lần",
    ),
    ("Unclosed", "mảng hoặc bảng chưa đóng", "thêm dấu ']' hoặc '}' còn thiếu"),
    ("Unterminated string", "chuỗi chưa đóng ngoặc", 'thêm dấu " (chuỗi nhiều dòng: """ … """)'),
    ("Illegal character", "ký tự điều khiển không hợp lệ trong chuỗi", "xoá ký tự đó hoặc gõ lại dòng"),
    (
        "Invalid statement",
        "dòng sai cú pháp TOML",
        "mỗi dòng là [bảng], [[bảng]], tên_khoá = giá_trị hoặc # chú thích",
    ),
)


def _syntax_problem(source: str, text: str, exc: tomllib.TOMLDecodeError) -> Problem:
    message = str(exc)
    found = re.search(r"\(at line (\d+), column (\d+)\)", message)
    english = re.sub(r"\s*\(at [^)]*\)$", "", message)
    reason, fix = f"lỗi cú pháp TOML ({english})", "xem lại dòng này theo mẫu schedules/phu-thu-2023.toml"
    for prefix, vi_reason, vi_fix in _SYNTAX:
        if english.startswith(prefix):
            reason, fix = vi_reason, vi_fix
    if found:
        return Problem(source, int(found.group(1)), f"cột {found.group(2)}", reason, fix)
    return Problem(source, max(1, len(text.splitlines())), "cuối tệp", reason, fix)


# --- value checks: each adds a problem and returns None when the value is unusable ----------------

_MISSING: Any = object()
_DAY_MINUTES = 24 * 60
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_USER = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")
_VN_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_WEEKDAYS = {
    **{name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{f"t{i + 2}": i for i in range(6)},
    "cn": 6,
}


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def _hhmm(text: str, *, allow_24: bool = False) -> time | None:
    found = _HHMM.match(text.strip())
    if not found:
        return None
    hour, minute = int(found.group(1)), int(found.group(2))
    if allow_24 and (hour, minute) == (24, 0):
        return time(0)
    return time(hour, minute) if hour < 24 and minute < 60 else None


def _tidy(text: str) -> str:
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def _kind(value: object) -> str:
    names = {bool: "đúng/sai", int: "số", float: "số", str: "chuỗi", list: "mảng", dict: "bảng"}
    return next((v for k, v in names.items() if isinstance(value, k)), type(value).__name__)


class _Checker:
    """Collects problems while reading values out of the parsed TOML."""

    def __init__(self, source: str, locator: _Locator) -> None:
        self.source = source
        self.locator = locator
        self.problems: list[Problem] = []

    def add(self, path: str, reason: str, fix: str) -> None:
        """Record a problem at the line of `path`."""
        self.problems.append(Problem(self.source, self.locator.line(path), path, reason, fix))

    def suggest(self, word: str, choices: Sequence[str], what: str) -> str:
        """A 'did you mean' fix, else the list of valid choices."""
        close = difflib.get_close_matches(word, choices, n=1, cutoff=0.5)
        if close:
            return f"có phải ý bạn là '{close[0]}'?"
        return f"{what} hợp lệ: {', '.join(choices)}" if choices else f"chưa có {what} nào trong tệp"

    def keys(self, table: Mapping[str, Any], path: str, allowed: Sequence[str]) -> None:
        """Report every key of `table` that is not in `allowed`."""
        for key in table:
            if key not in allowed:
                full = f"{path}.{key}" if path else key
                self.add(full, f"khoá lạ '{key}'", self.suggest(key, allowed, "các khoá"))

    def tables(self, data: Mapping[str, Any], name: str) -> Iterator[tuple[str, dict[str, Any]]]:
        """The `[[name]]` tables as (path, table) pairs."""
        value = data.get(name, [])
        if isinstance(value, dict):
            self.add(name, f"[{name}] phải là bảng lặp", f"viết [[{name}]] (hai dấu ngoặc) cho mỗi mục")
            return
        if not isinstance(value, list):
            self.add(name, f"'{name}' phải là các bảng [[{name}]]", f"viết [[{name}]] rồi các khoá bên dưới")
            return
        for i, item in enumerate(value, start=1):
            if isinstance(item, dict):
                yield f"{name}[{i}]", item
            else:
                self.add(f"{name}[{i}]", f"mục thứ {i} không phải bảng", f"viết [[{name}]] rồi các khoá")

    def value(self, table: Mapping[str, Any], key: str, path: str, required: bool) -> Any:
        """The raw value, reporting it when required and missing."""
        value = table.get(key, _MISSING)
        if value is _MISSING and required:
            self.add(f"{path}.{key}", f"thiếu khoá bắt buộc '{key}'", f"thêm dòng {key} = … vào [{path}]")
        return value

    def text(self, table: Mapping[str, Any], key: str, path: str, required: bool = True) -> str | None:
        """A non-empty, stripped string."""
        value = self.value(table, key, path, required)
        if value is _MISSING:
            return None
        if not isinstance(value, str):
            self.add(
                f"{path}.{key}", f"phải là chuỗi, đang là {_kind(value)}", 'đặt giá trị trong ngoặc kép "…"'
            )
            return None
        if not value.strip():
            self.add(
                f"{path}.{key}",
                "đang để trống",
                "điền nội dung" if required else "điền nội dung hoặc xoá dòng",
            )
            return None
        return value.strip()

    def code(
        self,
        table: Mapping[str, Any],
        key: str,
        path: str,
        required: bool = True,
        pattern: re.Pattern[str] = _CODE,
    ) -> str | None:
        """A machine code: lowercase ASCII letters, digits, '-' and '_' (user names also '.')."""
        value = self.text(table, key, path, required)
        if value is not None and not pattern.match(value):
            example = _slug(value) or "mai-dam-2023"
            self.add(
                f"{path}.{key}",
                f"mã '{value}' có ký tự không dùng được",
                f"dùng chữ thường không dấu, số, '-', ví dụ '{example}'",
            )
            return None
        return value

    def clock(self, table: Mapping[str, Any], key: str, path: str, required: bool = True) -> time | None:
        """A local wall-clock time written "HH:MM" (or a TOML local time)."""
        value = self.value(table, key, path, required)
        if value is _MISSING:
            return None
        if isinstance(value, time) and value.tzinfo is None:
            return value
        parsed = _hhmm(value) if isinstance(value, str) else None
        if parsed is None:
            self.add(
                f"{path}.{key}", f"giờ không hợp lệ {value!r}", 'dùng dạng HH:MM, ví dụ "06:00", "17:30"'
            )
        return parsed

    def day(self, table: Mapping[str, Any], key: str, path: str, required: bool = True) -> date | None:
        """A calendar date: TOML date or ISO string."""
        value = self.value(table, key, path, required)
        if value is _MISSING:
            return None
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        fix = "viết ngày dạng năm-tháng-ngày, ví dụ 2023-03-16"
        if isinstance(value, str) and (vn := _VN_DATE.match(value.strip())):
            fix = (
                f"viết ngày dạng năm-tháng-ngày: {vn.group(3)}-{int(vn.group(2)):02d}-{int(vn.group(1)):02d}"
            )
        self.add(f"{path}.{key}", f"ngày không hợp lệ {value!r}", fix)
        return None

    def number(
        self,
        table: Mapping[str, Any],
        key: str,
        path: str,
        *,
        minimum: float,
        maximum: float = 1e9,
        integer: bool = True,
        required: bool = True,
    ) -> float | None:
        """A finite number (an integer unless `integer` is False) within [minimum, maximum]."""
        value = self.value(table, key, path, required)
        if value is _MISSING:
            return None
        numeric = isinstance(value, int) or (not integer and isinstance(value, float))
        if isinstance(value, bool) or not numeric or not math.isfinite(value):
            what = "số nguyên" if integer else "số"
            self.add(
                f"{path}.{key}",
                f"phải là {what}, đang là {value!r}",
                f"viết {what} không có ngoặc kép, ví dụ {key} = 15",
            )
            return None
        if not minimum <= value <= maximum:
            size = "nhỏ" if value < minimum else "lớn"
            upper = f" đến {maximum:g}" if maximum < 1e9 else " trở lên"
            self.add(f"{path}.{key}", f"giá trị {value} quá {size}", f"dùng số từ {minimum:g}{upper}")
            return None
        return float(value)

    def texts(self, table: Mapping[str, Any], key: str, path: str) -> tuple[str, ...] | None:
        """An optional array of non-empty strings."""
        value = self.value(table, key, path, False)
        if value is _MISSING:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.add(f"{path}.{key}", "phải là mảng các chuỗi khác rỗng", f'viết {key} = ["…", "…"]')
            return None
        return tuple(v.strip() for v in value)


# --- the tables --------------------------------------------------------------------------------------

_ARRAYS = ("session", "exception", "campaign", "bulletin", "user")
_STATION = ("code", "name", "ward", "timezone", "ident", "allowed_hours")
_SESSION = ("code", "name", "weekdays", "start", "max_minutes", "valid_from", "valid_to")
_EXCEPTION = ("date", "kind", "session", "start", "max_minutes", "reason")
_CAMPAIGN = (
    "code",
    "title",
    "plan_ref",
    "period_start",
    "period_end",
    "topics",
    "agencies",
    "integrates",
    "target",
)
_TARGET = ("min_airings_per_week", "min_airings_per_month", "min_minutes_per_month", "max_gap_days")
_BULLETIN = ("key", "campaign", "title", "agency", "text", "approved_by")
_USER_KEYS = ("name", "full_name", "role", "title")
_ROLES = "officer (công chức soạn tin), leader (lãnh đạo duyệt tin), operator (nhân viên đài), admin"
Tables = list[tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class _Head:
    code: str
    name: str
    timezone: str
    ident: str
    ward: str


def _build(c: _Checker, data: dict[str, Any]) -> ScheduleFile | None:
    c.keys(data, "", ("station", *_ARRAYS))
    head, windows = _station(c, data)
    tables = {name: list(c.tables(data, name)) for name in _ARRAYS}
    if "session" not in data:
        c.add("session", "chưa có phiên phát nào", "thêm ít nhất một bảng [[session]]")
    session_codes = _codes(c, tables["session"], "code", "mã phiên")
    sessions = [(p, s) for p, t in tables["session"] if (s := _session(c, p, t, windows)) is not None]
    _check_overlaps(c, sessions)
    by_code = {rule.code: rule for _, rule in sessions}
    exceptions = [
        e for p, t in tables["exception"] if (e := _exception(c, p, t, windows, by_code, session_codes))
    ]
    campaign_codes = _codes(c, tables["campaign"], "code", "mã chiến dịch")
    campaigns = [
        (p, k) for p, t in tables["campaign"] if (k := _campaign(c, p, t, campaign_codes)) is not None
    ]
    user_names = _codes(c, tables["user"], "name", "tên người dùng")
    users = {u.name: u for p, t in tables["user"] if (u := _user(c, p, t)) is not None}
    _codes(c, tables["bulletin"], "key", "mã tin")
    known = {k.code: k for _, k in campaigns}
    bulletins = [
        b
        for p, t in tables["bulletin"]
        if (b := _bulletin(c, p, t, known, campaign_codes, users, user_names))
    ]
    if head is None or windows is None:
        return None
    rules = tuple(rule for _, rule in sessions)
    station = Station(head.code, head.name, head.timezone, head.ident, windows, rules, tuple(exceptions))
    return ScheduleFile(
        station, tuple(k for _, k in campaigns), tuple(bulletins), tuple(users.values()), head.ward
    )


def _codes(c: _Checker, tables: Tables, key: str, what: str) -> set[str]:
    """The codes declared under `key`, reporting duplicates."""
    seen: dict[str, str] = {}
    for path, table in tables:
        value = table.get(key)
        if not isinstance(value, str) or not value.strip():
            continue
        if value.strip() in seen:
            c.add(
                f"{path}.{key}",
                f"{what} '{value.strip()}' trùng với {seen[value.strip()]}",
                f"đặt {what} khác",
            )
        else:
            seen[value.strip()] = path
    return set(seen)


def _station(c: _Checker, data: Mapping[str, Any]) -> tuple[_Head | None, tuple[TimeWindow, ...] | None]:
    table = data.get("station", _MISSING)
    if not isinstance(table, dict):
        reason = "thiếu bảng [station]" if table is _MISSING else "[station] phải là một bảng"
        c.add("station", reason, "thêm [station] với code, name, timezone, ident, allowed_hours")
        return None, None
    c.keys(table, "station", _STATION)
    code, name, ident = (
        c.code(table, "code", "station"),
        c.text(table, "name", "station"),
        c.text(table, "ident", "station"),
    )
    ward = c.text(table, "ward", "station", required=False) or ""
    zone = c.text(table, "timezone", "station")
    if zone is not None and not _zone_exists(zone):
        close = difflib.get_close_matches(zone, sorted(zoneinfo.available_timezones()), n=1)
        fix = f"có phải ý bạn là '{close[0]}'?" if close else 'ở Việt Nam dùng "Asia/Ho_Chi_Minh"'
        c.add("station.timezone", f"không có múi giờ '{zone}'", fix)
        zone = None
    windows = _windows(c, table)
    if code is None or name is None or ident is None or zone is None:
        return None, windows
    return _Head(code, name, zone, ident, ward), windows


def _zone_exists(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _windows(c: _Checker, table: Mapping[str, Any]) -> tuple[TimeWindow, ...] | None:
    raw, path = c.value(table, "allowed_hours", "station", True), "station.allowed_hours"
    if raw is _MISSING:
        return None
    if not isinstance(raw, list) or not raw:
        c.add(path, "phải là mảng khung giờ khác rỗng", 'viết allowed_hours = ["05:00-07:30", "16:30-19:00"]')
        return None
    windows: list[TimeWindow] = []
    for i, item in enumerate(raw, start=1):
        parts = re.split(r"\s*[-–]\s*", item.strip()) if isinstance(item, str) else []
        start = _hhmm(parts[0]) if len(parts) == 2 else None
        end = _hhmm(parts[1], allow_24=True) if len(parts) == 2 else None
        if start is None or end is None:
            c.add(
                f"{path}[{i}]",
                f"khung giờ không hợp lệ {item!r}",
                'dùng dạng "HH:MM-HH:MM", ví dụ "05:00-07:30"',
            )
        elif end != time(0) and end <= start:
            fix = 'khung qua nửa đêm hãy tách đôi, ví dụ "22:00-24:00" và "00:00-05:00"'
            c.add(f"{path}[{i}]", f"giờ kết thúc không sau giờ bắt đầu trong {item!r}", fix)
        else:
            windows.append(TimeWindow(start, end))
    return tuple(windows) if len(windows) == len(raw) else None


def _weekdays(c: _Checker, table: Mapping[str, Any], path: str) -> frozenset[int] | None:
    raw = c.value(table, "weekdays", path, True)
    if raw is _MISSING:
        return None
    if not isinstance(raw, list) or not raw:
        c.add(
            f"{path}.weekdays",
            "phải là mảng các thứ khác rỗng",
            'viết weekdays = ["mon", "tue", "wed", "thu", "fri"]',
        )
        return None
    days: list[int] = []
    for i, item in enumerate(raw, start=1):
        day = _WEEKDAYS.get(item.strip().lower()) if isinstance(item, str) else None
        if day is None:
            fix = c.suggest(str(item).strip().lower(), list(_WEEKDAYS), "các thứ")
            c.add(f"{path}.weekdays[{i}]", f"không hiểu thứ {item!r}", fix)
        elif day in days:
            c.add(f"{path}.weekdays[{i}]", f"thứ {item!r} bị lặp", "xoá phần tử lặp")
        days.append(-1 if day is None else day)
    return None if -1 in days or len(set(days)) < len(days) else frozenset(days)


def _fits(c: _Checker, path: str, start: time, length: timedelta, windows: tuple[TimeWindow, ...]) -> None:
    """Report a programme that would run outside the ward's allowed hours."""
    if any(w.contains(start, length) for w in windows):
        return
    end = (datetime.combine(date(2000, 1, 1), start) + length).time()
    hours = ", ".join(
        f"{w.start:%H:%M}-{'24:00' if w.end == time(0) else format(w.end, '%H:%M')}" for w in windows
    )
    fix = "dời giờ bắt đầu hoặc giảm max_minutes cho vừa một khung trong station.allowed_hours"
    c.add(path, f"phát {start:%H:%M}-{end:%H:%M} là ngoài giờ được phép ({hours})", fix)


def _span(start: time, length: timedelta) -> tuple[float, float]:
    begin = start.hour * 3600 + start.minute * 60 + start.second
    return begin, begin + length.total_seconds()


def _session(
    c: _Checker, path: str, t: Mapping[str, Any], windows: tuple[TimeWindow, ...] | None
) -> SessionRule | None:
    before = len(c.problems)
    c.keys(t, path, _SESSION)
    code, name = c.code(t, "code", path), c.text(t, "name", path, required=False)
    days, start = _weekdays(c, t, path), c.clock(t, "start", path)
    minutes = c.number(t, "max_minutes", path, minimum=1, maximum=_DAY_MINUTES)
    valid_from, valid_to = (
        c.day(t, "valid_from", path, required=False),
        c.day(t, "valid_to", path, required=False),
    )
    if valid_from and valid_to and valid_from > valid_to:
        c.add(
            f"{path}.valid_to", f"valid_to {valid_to} trước valid_from {valid_from}", "sửa lại hai ngày này"
        )
    if start is not None and minutes is not None and windows is not None:
        _fits(c, f"{path}.start", start, timedelta(minutes=minutes), windows)
    if code is None or days is None or start is None or minutes is None or len(c.problems) > before:
        return None
    return SessionRule(code, name or code, days, start, timedelta(minutes=minutes), valid_from, valid_to)


def _check_overlaps(c: _Checker, sessions: list[tuple[str, SessionRule]]) -> None:
    for i, (path_a, a) in enumerate(sessions):
        for path_b, b in sessions[i + 1 :]:
            dated = (a.valid_from or date.min) <= (b.valid_to or date.max) and (b.valid_from or date.min) <= (
                a.valid_to or date.max
            )
            (a0, a1), (b0, b1) = _span(a.start, a.max_length), _span(b.start, b.max_length)
            if dated and a.weekdays & b.weekdays and a0 < b1 and b0 < a1:
                fix = "dời giờ bắt đầu hoặc giảm max_minutes để hai phiên không chồng nhau"
                c.add(f"{path_b}.start", f"phiên '{b.code}' trùng giờ với phiên '{a.code}' ({path_a})", fix)


def _exception(
    c: _Checker,
    path: str,
    t: Mapping[str, Any],
    windows: tuple[TimeWindow, ...] | None,
    sessions: Mapping[str, SessionRule],
    session_codes: set[str],
) -> ScheduleException | None:
    before = len(c.problems)
    c.keys(t, path, _EXCEPTION)
    day, kind_text = c.day(t, "date", path), c.text(t, "kind", path)
    reason = c.text(t, "reason", path, required=False) or ""
    code = c.code(t, "session", path, required=False)
    kind = next((k for k in ExceptionKind if kind_text and k.value == kind_text.lower()), None)
    if kind_text is not None and kind is None:
        fix = c.suggest(kind_text.lower(), [k.value for k in ExceptionKind], "các loại")
        c.add(
            f"{path}.kind",
            f"loại ngoại lệ lạ '{kind_text}'",
            fix + ' ("cancel" = huỷ phiên, "extra" = thêm phiên)',
        )
    if kind is ExceptionKind.CANCEL:
        for key in ("start", "max_minutes"):
            if key in t:
                c.add(
                    f"{path}.{key}",
                    f"'{key}' chỉ dùng với kind = \"extra\"",
                    'xoá dòng này hoặc đổi kind thành "extra"',
                )
        if code is not None and code not in session_codes:
            c.add(
                f"{path}.session",
                f"không có phiên '{code}'",
                c.suggest(code, sorted(session_codes), "các phiên"),
            )
        elif day is not None and (code is None or code in sessions):
            rules = [sessions[code]] if code else list(sessions.values())
            if rules and not any(rule.runs_on(day) for rule in rules):
                what = f"phiên '{code}'" if code else "phiên nào"
                c.add(
                    f"{path}.date",
                    f"ngày {day:%d/%m/%Y} không có {what} để huỷ",
                    "kiểm tra lại ngày, thứ và mã phiên",
                )
        if day is None or len(c.problems) > before:
            return None
        return ScheduleException(day, kind, code, reason=reason)
    if kind is not ExceptionKind.EXTRA:
        return None
    start, minutes = (
        c.clock(t, "start", path),
        c.number(t, "max_minutes", path, minimum=1, maximum=_DAY_MINUTES),
    )
    if start is None or minutes is None:
        return None
    length = timedelta(minutes=minutes)
    if windows is not None:
        _fits(c, f"{path}.start", start, length, windows)
    for rule in sessions.values():
        (a0, a1), (b0, b1) = _span(rule.start, rule.max_length), _span(start, length)
        if day is not None and rule.runs_on(day) and a0 < b1 and b0 < a1:
            c.add(
                f"{path}.start",
                f"phiên thêm trùng giờ với phiên '{rule.code}' ngày {day:%d/%m/%Y}",
                "dời giờ bắt đầu",
            )
    if day is None or len(c.problems) > before:
        return None
    return ScheduleException(day, kind, code, start, length, reason)


def _campaign(c: _Checker, path: str, t: Mapping[str, Any], campaign_codes: set[str]) -> Campaign | None:
    before = len(c.problems)
    c.keys(t, path, _CAMPAIGN)
    code, title, plan_ref = c.code(t, "code", path), c.text(t, "title", path), c.text(t, "plan_ref", path)
    start, end = c.day(t, "period_start", path), c.day(t, "period_end", path)
    if start and end and start > end:
        c.add(
            f"{path}.period_end",
            f"kết thúc {end:%d/%m/%Y} trước ngày bắt đầu {start:%d/%m/%Y}",
            "sửa period_start hoặc period_end",
        )
    topics, agencies = c.texts(t, "topics", path), c.texts(t, "agencies", path)
    integrates, target = c.texts(t, "integrates", path), _target(c, t, path)
    for other in integrates or ():
        if other == code:
            c.add(
                f"{path}.integrates",
                "chiến dịch không lồng ghép với chính nó",
                f"xoá '{other}' khỏi integrates",
            )
        elif other not in campaign_codes:
            fix = (
                c.suggest(other, sorted(campaign_codes), "các chiến dịch")
                + "; mỗi mã phải có [[campaign]] riêng"
            )
            c.add(f"{path}.integrates", f"không có chiến dịch '{other}'", fix)
    if code is None or title is None or plan_ref is None or start is None or end is None:
        return None
    if topics is None or agencies is None or integrates is None or target is None or len(c.problems) > before:
        return None
    return Campaign(code, title, plan_ref, start, end, topics, agencies, target, integrates)


def _target(c: _Checker, t: Mapping[str, Any], path: str) -> Target | None:
    raw, path = t.get("target", _MISSING), f"{path}.target"
    if raw is _MISSING:
        return Target()
    if not isinstance(raw, dict):
        c.add(path, "target phải là một bảng", "viết [campaign.target] ngay dưới [[campaign]] của nó")
        return None
    before = len(c.problems)
    c.keys(raw, path, _TARGET)
    week = c.number(raw, "min_airings_per_week", path, minimum=0, required=False)
    month = c.number(raw, "min_airings_per_month", path, minimum=0, required=False)
    minutes = c.number(raw, "min_minutes_per_month", path, minimum=0, integer=False, required=False)
    gap = c.number(raw, "max_gap_days", path, minimum=1, required=False)
    if len(c.problems) > before:
        return None
    return Target(
        None if week is None else int(week),
        None if month is None else int(month),
        minutes,
        None if gap is None else int(gap),
    )


def _user(c: _Checker, path: str, t: Mapping[str, Any]) -> UserSpec | None:
    c.keys(t, path, _USER_KEYS)
    name, full_name = c.code(t, "name", path, pattern=_USER), c.text(t, "full_name", path)
    role_text, title = c.text(t, "role", path), c.text(t, "title", path, required=False) or ""
    role = next((r for r in Role if role_text and r.value == role_text.lower()), None)
    if role_text is not None and role is None:
        close = difflib.get_close_matches(role_text.lower(), [r.value for r in Role], n=1)
        c.add(
            f"{path}.role",
            f"vai trò lạ '{role_text}'",
            (f"có phải ý bạn là '{close[0]}'? " if close else "") + _ROLES,
        )
    if name is None or full_name is None or role is None:
        return None
    return UserSpec(name, full_name, role, title)


def _bulletin(
    c: _Checker,
    path: str,
    t: Mapping[str, Any],
    campaigns: Mapping[str, Campaign],
    campaign_codes: set[str],
    users: Mapping[str, UserSpec],
    user_names: set[str],
) -> BulletinSpec | None:
    before = len(c.problems)
    c.keys(t, path, _BULLETIN)
    key, code = c.code(t, "key", path), c.code(t, "campaign", path)
    title, agency, text = c.text(t, "title", path), c.text(t, "agency", path), c.text(t, "text", path)
    approver = c.code(t, "approved_by", path, required=False, pattern=_USER)
    if code is not None and code not in campaign_codes:
        c.add(
            f"{path}.campaign",
            f"không có chiến dịch '{code}'",
            c.suggest(code, sorted(campaign_codes), "các chiến dịch"),
        )
    campaign = campaigns.get(code or "")
    if agency and campaign and campaign.agencies and agency not in campaign.agencies:
        fix = c.suggest(agency, campaign.agencies, "các cơ quan") + f" (xem agencies của chiến dịch '{code}')"
        c.add(f"{path}.agency", f"cơ quan '{agency}' không có trong kế hoạch của chiến dịch", fix)
    draft = "; hoặc xoá dòng approved_by để nhập dạng bản nháp"
    if approver is not None and approver not in user_names:
        c.add(
            f"{path}.approved_by",
            f"không có người dùng '{approver}'",
            c.suggest(approver, sorted(user_names), "người dùng") + draft,
        )
    elif approver is not None and approver in users and users[approver].role is not Role.LEADER:
        reason = f"'{approver}' có vai trò {users[approver].role.value}, không phải lãnh đạo"
        c.add(f"{path}.approved_by", reason, 'chỉ người dùng role = "leader" được duyệt tin' + draft)
    if (
        key is None
        or code is None
        or title is None
        or agency is None
        or text is None
        or len(c.problems) > before
    ):
        return None
    return BulletinSpec(key, code, title, agency, _tidy(text), approver)
