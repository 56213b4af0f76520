"""Value checks for schedule files: each reads one value, or records a located `Problem` and returns None."""

from __future__ import annotations

import difflib
import math
import re
import tomllib
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Protocol


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


# --- syntax errors: tomllib reports them in English, the station reads Vietnamese -----------------

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


def syntax_problem(source: str, text: str, exc: tomllib.TOMLDecodeError) -> Problem:
    """The tomllib syntax error as a Vietnamese problem at its line and column."""
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

MISSING: Any = object()  # sentinel for a key absent from its table
_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
USER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")
_VN_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


class LineFinder(Protocol):
    """Maps a key path such as `session[2].start` to its 1-based source line."""

    def line(self, path: str) -> int:
        """The line of the key, else of its nearest enclosing key or table, else 1."""
        ...


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def hhmm(text: str, *, allow_24: bool = False) -> time | None:
    """A local time written "HH:MM" ("24:00" as midnight when `allow_24`), else None."""
    found = _HHMM.match(text.strip())
    if not found:
        return None
    hour, minute = int(found.group(1)), int(found.group(2))
    if allow_24 and (hour, minute) == (24, 0):
        return time(0)
    return time(hour, minute) if hour < 24 and minute < 60 else None


def tidy(text: str) -> str:
    """Bulletin text: paragraphs split by blank lines, whitespace inside a paragraph collapsed."""
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def _kind(value: object) -> str:
    names = {bool: "đúng/sai", int: "số", float: "số", str: "chuỗi", list: "mảng", dict: "bảng"}
    return next((v for k, v in names.items() if isinstance(value, k)), type(value).__name__)


class Checker:
    """Collects problems while reading values out of the parsed TOML."""

    def __init__(self, source: str, locator: LineFinder) -> None:
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
        value = table.get(key, MISSING)
        if value is MISSING and required:
            self.add(f"{path}.{key}", f"thiếu khoá bắt buộc '{key}'", f"thêm dòng {key} = … vào [{path}]")
        return value

    def text(self, table: Mapping[str, Any], key: str, path: str, required: bool = True) -> str | None:
        """A non-empty, stripped string."""
        value = self.value(table, key, path, required)
        if value is MISSING:
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
        if value is MISSING:
            return None
        if isinstance(value, time) and value.tzinfo is None:
            return value
        parsed = hhmm(value) if isinstance(value, str) else None
        if parsed is None:
            self.add(
                f"{path}.{key}", f"giờ không hợp lệ {value!r}", 'dùng dạng HH:MM, ví dụ "06:00", "17:30"'
            )
        return parsed

    def day(self, table: Mapping[str, Any], key: str, path: str, required: bool = True) -> date | None:
        """A calendar date: TOML date or ISO string."""
        value = self.value(table, key, path, required)
        if value is MISSING:
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
        if value is MISSING:
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
        if value is MISSING:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.add(f"{path}.{key}", "phải là mảng các chuỗi khác rỗng", f'viết {key} = ["…", "…"]')
            return None
        return tuple(v.strip() for v in value)
