"""Parse and validate declarative station/campaign files (`schedules/*.toml`) into domain objects.

The file is UTF-8 TOML (a leading BOM from Windows Notepad is accepted; all text is NFC-normalised).
Tables, in any order (`[[x]]` tables repeat; `x[2]` in messages means the second `[[x]]`, counted
from 1):

    [station]       code (a-z, 0-9, '-'), name, timezone (IANA, e.g. "Asia/Ho_Chi_Minh"), ident (the
                    spoken ident), ward (optional, e.g. "Phường Phú Thứ"), allowed_hours = ["05:00-07:30",
                    "16:30-19:00"] (local "HH:MM-HH:MM", end "24:00" allowed)
    [[session]]     code, name (optional), weekdays = ["mon".."sun"] or ["T2".."T7", "CN"], start = "06:00",
                    max_minutes = 15, valid_from / valid_to (optional dates); must fit in allowed_hours;
                    relay (optional) = { source = "http(s)://…" | "device:<capture source>", minutes,
                    place = "first" | "last", filler = "file" }: a relay (tiếp sóng) opening or closing the
                    session, its minutes counted against max_minutes
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

Key lines are found by `schedules.locate`, values are read by `schedules.check`, and the `[station]`,
`[[session]]` and `[[exception]]` tables by `schedules.station`; this module reads the rest and ties it up.
"""

from __future__ import annotations

import difflib
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from broadcaster.domain import BulletinSpec, Campaign, Role, Station, Target
from broadcaster.errors import ScheduleFileError
from broadcaster.schedules.check import MISSING, USER_NAME, Checker, Problem, syntax_problem, tidy
from broadcaster.schedules.locate import Locator
from broadcaster.schedules.station import check_overlaps, read_exception, read_session, read_station

__all__ = [
    "Problem",
    "ScheduleFile",
    "ScheduleValidationError",
    "UserSpec",
    "load_schedule",
    "parse_schedule",
]


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
        raise ScheduleValidationError(source, [syntax_problem(source, text, exc)]) from None
    checker = Checker(source, Locator(text))
    result = _build(checker, data)
    if checker.problems or result is None:
        raise ScheduleValidationError(source, sorted(checker.problems, key=lambda p: p.line))
    return result


# --- the whole file, campaigns, users and bulletins -------------------------------------------------

_ARRAYS = ("session", "exception", "campaign", "bulletin", "user")
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


def _build(c: Checker, data: dict[str, Any]) -> ScheduleFile | None:
    c.keys(data, "", ("station", *_ARRAYS))
    head, windows = read_station(c, data)
    tables = {name: list(c.tables(data, name)) for name in _ARRAYS}
    if "session" not in data:
        c.add("session", "chưa có phiên phát nào", "thêm ít nhất một bảng [[session]]")
    session_codes = _codes(c, tables["session"], "code", "mã phiên")
    sessions = [(p, s) for p, t in tables["session"] if (s := read_session(c, p, t, windows)) is not None]
    check_overlaps(c, sessions)
    by_code = {rule.code: rule for _, rule in sessions}
    exceptions = [
        e for p, t in tables["exception"] if (e := read_exception(c, p, t, windows, by_code, session_codes))
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


def _codes(c: Checker, tables: Tables, key: str, what: str) -> set[str]:
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


def _campaign(c: Checker, path: str, t: Mapping[str, Any], campaign_codes: set[str]) -> Campaign | None:
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


def _target(c: Checker, t: Mapping[str, Any], path: str) -> Target | None:
    raw, path = t.get("target", MISSING), f"{path}.target"
    if raw is MISSING:
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


def _user(c: Checker, path: str, t: Mapping[str, Any]) -> UserSpec | None:
    c.keys(t, path, _USER_KEYS)
    name, full_name = c.code(t, "name", path, pattern=USER_NAME), c.text(t, "full_name", path)
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
    c: Checker,
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
    approver = c.code(t, "approved_by", path, required=False, pattern=USER_NAME)
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
    return BulletinSpec(key, code, title, agency, tidy(text), approver)
