"""The administrator's work: people and their roles, importing a schedule file, reading the settings.

Administrators change; the inspector (the district's reviewer) may read the people and the
station's settings. Station edits themselves live in services.station_settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broadcaster import labels
from broadcaster.domain import Role
from broadcaster.errors import InputError, InvalidStateError, NotFoundError
from broadcaster.schedules import Problem, ScheduleValidationError, parse_schedule
from broadcaster.services import audit, stations, users, web_auth
from broadcaster.services.station_settings import TARGET_KEYS, WEEKDAY_CODES
from broadcaster.services.stations import ImportSummary
from broadcaster.services.users import get_user, require_role
from broadcaster.store.models import AuditRow, CampaignRow, ExceptionRow, SessionRow, StationRow, UserRow

MAX_SCHEDULE_BYTES = 2 * 1024 * 1024
Speak = Callable[[str], str]


# --- people -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """A user as the administrator's list shows them."""

    name: str
    full_name: str
    title: str
    role: str
    has_password: bool
    password_changed_at: datetime | None


def list_people(session: Session, *, actor: str) -> list[Person]:
    """Everyone who can act, by name (administrators; the inspector may read)."""
    require_role(session, actor, Role.INSPECTOR)
    return [
        Person(u.name, u.full_name, u.title, u.role, bool(u.password_hash), u.password_changed_at)
        for u in users.list_users(session)
    ]


def add_person(
    session: Session, name: str, role: str, full_name: str, *, title: str = "", actor: str, now: datetime
) -> UserRow:
    """An administrator adds a user with a role (the password is set next, or by `user passwd`)."""
    require_role(session, actor, Role.ADMIN)
    if not full_name.strip():
        raise InputError("Chưa điền họ và tên.", "Điền họ và tên đầy đủ, có dấu.", field="full_name")
    return users.add_user(session, name, role, full_name.strip(), actor=actor, now=now, title=title)


def reset_password(session: Session, name: str, password: str, *, actor: str, now: datetime) -> UserRow:
    """An administrator sets or resets anyone's password (a user changes their own proving the old one)."""
    require_role(session, actor, Role.ADMIN)
    return web_auth.set_password(session, name, password, actor=actor, now=now)


def change_role(session: Session, name: str, role: str, *, actor: str, now: datetime) -> UserRow:
    """An administrator gives a user another role; the station always keeps one administrator."""
    require_role(session, actor, Role.ADMIN)
    try:
        new = Role(role)
    except ValueError:
        raise InputError(
            f"Vai trò '{role}' không hợp lệ.", "Chọn một vai trò trong danh sách.", field="role"
        ) from None
    user = get_user(session, name)
    if user.role == new:
        return user
    if user.role == Role.ADMIN:
        admins = session.scalar(select(func.count()).select_from(UserRow).where(UserRow.role == Role.ADMIN))
        if (admins or 0) <= 1:
            raise InvalidStateError(
                f"'{user.name}' là quản trị viên duy nhất; đổi vai trò thì không ai quản trị được nữa.",
                "Thêm hoặc chỉ định một quản trị viên khác trước.",
            )
    was, user.role = user.role, new.value
    audit.record(
        session,
        actor=actor,
        action="user.role",
        object_type="user",
        object_id=user.name,
        now=now,
        previous=was,
        role=new.value,
    )
    return user


@dataclass(frozen=True)
class TokensOverview:
    """The API tokens and whom a new one may belong to: a user or a station."""

    tokens: list[web_auth.TokenView]
    people: list[Person]
    stations: list[tuple[str, str]]


def tokens_overview(session: Session, *, actor: str) -> TokensOverview:
    """Every API token (never a secret) and the possible owners of a new one (administrators)."""
    tokens = web_auth.list_api_tokens(session, actor=actor)
    rows = session.execute(select(StationRow.code, StationRow.name).order_by(StationRow.code))
    return TokensOverview(tokens, list_people(session, actor=actor), [(c, n) for c, n in rows])


# --- importing a schedule file ------------------------------------------------------------------------


class ScheduleRejected(InputError):
    """An uploaded schedule file with problems: nothing was imported; `problems` locate each one."""

    def __init__(self, problems: tuple[Problem, ...], lines: list[str]) -> None:
        self.problems = problems
        self.lines = lines
        super().__init__(
            f"Tệp lịch có {len(problems)} lỗi, chưa nhập phần nào.",
            "Sửa từng dòng được chỉ ra rồi tải tệp lên lại.",
            field="file",
        )

    def around(self, problem: Problem, before: int = 1, after: int = 1) -> list[tuple[int, str]]:
        """The file's lines around a problem (number, text) to show beside its message."""
        first, last = max(1, problem.line - before), min(len(self.lines), problem.line + after)
        return [(n, self.lines[n - 1]) for n in range(first, last + 1)]


@dataclass(frozen=True)
class Imported:
    """What a schedule import changed."""

    station_code: str
    summary: ImportSummary

    @property
    def message(self) -> str:
        """A sentence for the administrator."""
        s = self.summary
        if not s.changed:
            return "Tệp lịch hợp lệ; không có gì thay đổi."
        parts = [f"thêm {labels.count_phrase(s.created)}"] if s.created else []
        parts += [f"cập nhật {labels.count_phrase(s.updated)}"] if s.updated else []
        return "Đã nhập tệp lịch: " + "; ".join(parts) + "."


def import_schedule_file(
    session: Session,
    data: bytes,
    filename: str,
    *,
    station_code: str | None,
    actor: str,
    now: datetime,
    speak: Speak,
) -> Imported:
    """An administrator imports a schedule file: checked whole, then imported whole, or nothing at all."""
    require_role(session, actor, Role.ADMIN)
    name = filename.strip() or "tệp lịch"
    if not data.strip():
        raise InputError("Chưa chọn tệp lịch, hoặc tệp rỗng.", "Chọn tệp .toml rồi tải lên.", field="file")
    if len(data) > MAX_SCHEDULE_BYTES:
        raise InputError("Tệp lịch quá lớn.", "Tệp lịch chỉ là chữ, thường nhỏ hơn 100 KB.", field="file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        fix = "lưu lại tệp với bảng mã UTF-8 (Notepad: Lưu thành… → Mã hóa UTF-8)"
        raise ScheduleRejected((Problem(name, line, "", "tệp không phải UTF-8", fix),), []) from None
    try:
        parsed = parse_schedule(text, name)
    except ScheduleValidationError as exc:
        raise ScheduleRejected(exc.details, text.removeprefix("\ufeff").splitlines()) from None
    served = _served_code(session, station_code)
    if served is not None and parsed.station.code != served:
        raise InputError(
            f"Tệp này là lịch của đài '{parsed.station.code}', trang này quản lý đài '{served}'.",
            "Chọn đúng tệp lịch của đài (khoá code trong bảng [station]).",
            field="file",
        )
    summary = stations.import_schedule(session, parsed, actor=actor, now=now, speak=speak)
    return Imported(parsed.station.code, summary)


def _served_code(session: Session, code: str | None) -> str | None:
    if code:
        return code
    try:
        return stations.find_station(session, None).code
    except NotFoundError:  # no station yet (first import) or several (a district): any file may come
        return None


@dataclass(frozen=True)
class PastImport:
    """One earlier import of a schedule file."""

    at: datetime
    actor: str
    message: str


def past_imports(session: Session, *, actor: str, limit: int = 5) -> list[PastImport]:
    """The latest schedule imports and settings edits, newest first (administrators)."""
    require_role(session, actor, Role.ADMIN)
    q = select(AuditRow).where(AuditRow.action == "schedule.import").order_by(AuditRow.id.desc()).limit(limit)
    out = []
    for row in session.scalars(q):
        created, updated = row.detail.get("created") or {}, row.detail.get("updated") or {}
        parts = [f"thêm {labels.count_phrase(created)}"] if created else []
        parts += [f"cập nhật {labels.count_phrase(updated)}"] if updated else []
        out.append(PastImport(row.at, row.actor, "; ".join(parts) or "không thay đổi"))
    return out


# --- reading the station's settings ---------------------------------------------------------------------


@dataclass(frozen=True)
class SessionSetting:
    """A recurring session as the settings page shows and edits it."""

    code: str
    name: str
    weekdays: tuple[int, ...]
    start: str
    max_minutes: int | float
    valid_from: date | None
    valid_to: date | None
    relay: dict[str, Any] | None = None  # {"source", "seconds", "place", "filler"} when it relays

    @property
    def relay_minutes(self) -> int | float | None:
        """The relay's length in minutes (None without a relay)."""
        return _plain(self.relay["seconds"] / 60) if self.relay else None

    @property
    def days_text(self) -> str:
        """The weekdays as "T2, T3, …"."""
        return ", ".join(labels.WEEKDAYS_SHORT[d] for d in self.weekdays)

    @property
    def weekday_codes(self) -> list[str]:
        """The weekdays as the schedule file writes them ("mon" … "sun")."""
        return [WEEKDAY_CODES[d] for d in self.weekdays]


def _plain(value: float | None) -> int | float | None:
    """A whole number without its ".0" (30.0 minutes reads 30)."""
    return int(value) if value is not None and float(value).is_integer() else value


@dataclass(frozen=True)
class CampaignSetting:
    """A campaign with its targets."""

    code: str
    title: str
    plan_ref: str
    period_start: date
    period_end: date
    topics: tuple[str, ...]
    agencies: tuple[str, ...]
    target: dict[str, int | float | None]


@dataclass(frozen=True)
class StationSettings:
    """What the station's file declares, as stored: allowed hours, sessions, exceptions, campaigns."""

    code: str
    name: str
    timezone: str
    ident: str
    allowed_hours: tuple[str, ...]
    sessions: list[SessionSetting] = field(default_factory=list)
    exceptions: list[ExceptionRow] = field(default_factory=list)
    campaigns: list[CampaignSetting] = field(default_factory=list)

    def session_name(self, code: str | None) -> str:
        """A session's name by its code ("" for none)."""
        return next((s.name for s in self.sessions if s.code == code), "")


def station_settings(session: Session, code: str | None, *, actor: str) -> StationSettings:
    """The served station's settings (administrators; the inspector may read)."""
    require_role(session, actor, Role.INSPECTOR)
    st: StationRow = stations.find_station(session, code)
    q = select(SessionRow).where(SessionRow.station_id == st.id).order_by(SessionRow.start_time)
    sessions = [
        SessionSetting(
            r.code,
            r.name,
            tuple(int(d) for d in r.weekdays.split(",") if d),
            r.start_time,
            _plain(r.max_seconds / 60) or 0,
            r.valid_from,
            r.valid_to,
            dict(r.relay) if r.relay else None,
        )
        for r in session.scalars(q)
    ]
    eq = select(ExceptionRow).where(ExceptionRow.station_id == st.id).order_by(ExceptionRow.day)
    campaigns = []
    for c in session.scalars(
        select(CampaignRow).where(CampaignRow.station_id == st.id).order_by(CampaignRow.id)
    ):
        t = c.target
        target = {key: _plain(getattr(t, key)) if t else None for key in TARGET_KEYS}
        campaigns.append(
            CampaignSetting(
                c.code,
                c.title,
                c.plan_ref,
                c.period_start,
                c.period_end,
                tuple(c.topics),
                tuple(c.agencies),
                target,
            )
        )
    return StationSettings(
        st.code,
        st.name,
        st.timezone,
        st.ident,
        tuple(st.allowed_hours),
        sessions,
        list(session.scalars(eq)),
        campaigns,
    )
