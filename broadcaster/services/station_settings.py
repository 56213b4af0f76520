"""Edit a station's settings (allowed hours, sessions, campaigns and targets) through the schedule file.

Every edit is made to the station's settings written out as a schedule document, which then goes
through the very parser and validator of `schedule import` (schedules.parse_schedule) and the same
idempotent import: an edit the file would refuse is refused with the same reasons, and nothing is
stored. Problems come back per form field (`SettingsInvalid.fields`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.domain import Role
from broadcaster.errors import InputError, NotFoundError
from broadcaster.schedules import Problem, ScheduleValidationError, parse_schedule
from broadcaster.schedules.check import hhmm
from broadcaster.services import audit, stations
from broadcaster.services.users import require_role
from broadcaster.store.models import (
    AiringRow,
    CampaignRow,
    ExceptionRow,
    SessionRow,
    StationRow,
    TargetRow,
)

WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SOURCE = "cài đặt của đài"
SESSION_FIELDS = (
    "code",
    "name",
    "weekdays",
    "start",
    "max_minutes",
    "valid_from",
    "valid_to",
    "relay_source",
    "relay_minutes",
    "relay_place",
)
# The form's relay fields: given (even empty), they set the session's relay; absent, it is kept.
RELAY_FIELDS = ("relay_source", "relay_minutes", "relay_place")
STATION_FIELDS = ("name", "ident", "allowed_hours")
TARGET_KEYS = ("min_airings_per_week", "min_airings_per_month", "min_minutes_per_month", "max_gap_days")
CAMPAIGN_FIELDS = ("title", "plan_ref", "period_start", "period_end", "topics", "agencies", *TARGET_KEYS)
Speak = Callable[[str], str]


class SettingsInvalid(InputError):
    """An edit the schedule file's rules refuse; `fields`: the message per form field ('form': the rest)."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = dict(fields)
        first = next(iter(self.fields.values()), "Cài đặt không hợp lệ.")
        super().__init__(first, "Sửa các ô được đánh dấu rồi lưu lại.", field=next(iter(self.fields), None))


@dataclass(frozen=True)
class Change:
    """What an edit changed (counts by kind) and a note for the administrator (e.g. airings to move)."""

    changed: bool
    note: str = ""


# --- the station as a schedule document ----------------------------------------------------------


def _minutes(seconds: int) -> int | float:
    return seconds // 60 if seconds % 60 == 0 else seconds / 60


def _window_text(text: str) -> str:
    return text[:-5] + "24:00" if text.endswith("-00:00") else text


def station_document(session: Session, station: StationRow) -> dict[str, Any]:
    """The station's timetable and campaigns shaped as a schedule file (no bulletins, no users)."""
    head: dict[str, Any] = {"code": station.code, "name": station.name, "timezone": station.timezone}
    head["ident"] = station.ident
    if station.ward:
        head["ward"] = station.ward
    head["allowed_hours"] = [_window_text(w) for w in station.allowed_hours]
    rows = session.scalars(
        select(SessionRow).where(SessionRow.station_id == station.id).order_by(SessionRow.id)
    )
    sessions = []
    for r in rows:
        item: dict[str, Any] = {"code": r.code, "name": r.name}
        item["weekdays"] = [WEEKDAY_CODES[int(d)] for d in r.weekdays.split(",") if d]
        item.update(start=r.start_time, max_minutes=_minutes(r.max_seconds))
        item.update({k: v for k, v in (("valid_from", r.valid_from), ("valid_to", r.valid_to)) if v})
        if r.relay:
            relay = {"source": r.relay["source"], "minutes": _minutes(int(r.relay["seconds"]))}
            relay["place"] = r.relay.get("place", "first")
            if r.relay.get("filler"):
                relay["filler"] = r.relay["filler"]
            item["relay"] = relay
        sessions.append(item)
    exceptions = []
    q = select(ExceptionRow).where(ExceptionRow.station_id == station.id).order_by(ExceptionRow.day)
    for e in session.scalars(q.order_by(ExceptionRow.id)):
        ex: dict[str, Any] = {"date": e.day, "kind": e.kind}
        if e.session_code:
            ex["session"] = e.session_code
        if e.start_time:
            ex["start"] = e.start_time
        if e.max_seconds:
            ex["max_minutes"] = _minutes(e.max_seconds)
        if e.reason:
            ex["reason"] = e.reason
        exceptions.append(ex)
    campaigns = []
    query = (
        select(CampaignRow, TargetRow)
        .outerjoin(TargetRow, TargetRow.campaign_id == CampaignRow.id)
        .where(CampaignRow.station_id == station.id)
        .order_by(CampaignRow.id)
    )
    for c, t in session.execute(query):
        campaign: dict[str, Any] = {"code": c.code, "title": c.title, "plan_ref": c.plan_ref}
        campaign.update(period_start=c.period_start, period_end=c.period_end)
        campaign.update(topics=list(c.topics), agencies=list(c.agencies), integrates=list(c.integrates))
        target = {k: getattr(t, k) for k in TARGET_KEYS if t is not None and getattr(t, k) is not None}
        if target:
            campaign["target"] = target
        campaigns.append(campaign)
    return {"station": head, "session": sessions, "exception": exceptions, "campaign": campaigns}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    # A JSON string is a TOML basic string once DEL (allowed raw in JSON, not in TOML) is escaped.
    return json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_table(lines: list[str], header: str, table: Mapping[str, Any]) -> None:
    lines.append(header)
    nested = []
    for key, value in table.items():
        if isinstance(value, dict):
            nested.append((key, value))
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, value in nested:
        name = header.strip("[]")
        _toml_table(lines, f"[{name}.{key}]", value)
    lines.append("")


def document_toml(doc: Mapping[str, Any]) -> str:
    """A schedule document as TOML text that `schedule import` reads back unchanged."""
    lines = ["# Cài đặt của đài, xuất từ trang Quản trị. Sửa rồi nhập lại bằng trang Quản trị", ""]
    _toml_table(lines, "[station]", doc["station"])
    for name in ("session", "exception", "campaign"):
        for table in doc.get(name, []):
            _toml_table(lines, f"[[{name}]]", table)
    return "\n".join(lines)


# --- form values into the document ----------------------------------------------------------------


def _number(text: str) -> int | float | str | None:
    """A number as typed; what is not one stays text so the schedule check names it."""
    text = text.strip().replace(",", ".")
    if not text:
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text


def _lines(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[\n;]", text) if part.strip()]


def _blank(values: Mapping[str, str], required: Sequence[str]) -> None:
    missing = {name: "Chưa điền ô này." for name in required if not str(values.get(name, "")).strip()}
    if missing:
        raise SettingsInvalid(missing)


def _field_errors(details: Sequence[Problem], prefix: str, fields: Sequence[str]) -> dict[str, str]:
    """Each problem beside its form field; problems of other tables go to 'form' unless a field matches."""
    out: dict[str, str] = {}
    for p in details:
        rest = p.path[len(prefix) + 1 :] if p.path.startswith(prefix + ".") else p.path.rsplit(".", 1)[-1]
        name = re.sub(r"\[\d+\]", "", rest)
        name = name.replace(".", "_") if name.startswith("relay.") else name.split(".")[-1]
        field = name if name in fields else "form"
        message = f"{p.reason[:1].upper()}{p.reason[1:]} — {p.fix}"
        if field == "form" and not (p.path == prefix or p.path.startswith(prefix + ".")):
            message = f"{p.path}: {p.reason} — {p.fix}"
        out[field] = f"{out[field]}; {message}" if field in out else message
    return out


def _apply(
    session: Session,
    station: StationRow,
    doc: dict[str, Any],
    *,
    prefix: str,
    fields: Sequence[str],
    actor: str,
    now: datetime,
    speak: Speak,
) -> bool:
    try:
        parsed = parse_schedule(document_toml(doc), SOURCE)
    except ScheduleValidationError as exc:
        raise SettingsInvalid(_field_errors(exc.details, prefix, fields)) from None
    return stations.import_schedule(session, parsed, actor=actor, now=now, speak=speak).changed


def _station(session: Session, code: str | None, actor: str) -> StationRow:
    require_role(session, actor, Role.ADMIN)
    return stations.find_station(session, code)


def _index(items: list[dict[str, Any]], code: str, what: str) -> int:
    for i, item in enumerate(items):
        if item["code"] == code:
            return i
    raise NotFoundError(f"Không có {what} '{code}'.", "Tải lại trang Quản trị.")


def _airings_left(session: Session, station: StationRow, code: str, start: str | None, now: datetime) -> str:
    """A note when future airings of the session are queued at another time than its (new) start."""
    zone = ZoneInfo(station.timezone)
    q = select(AiringRow.planned_start).where(
        AiringRow.station_id == station.id,
        AiringRow.session_code == code,
        AiringRow.cancelled_at.is_(None),
        AiringRow.planned_start > now,
    )
    wanted = hhmm(start) if start else None
    left = [s for s in session.scalars(q) if wanted is None or s.astimezone(zone).time() != wanted]
    if not left:
        return ""
    return (
        f"Còn {len(left)} lượt phát đã xếp theo giờ cũ của buổi này; chúng vẫn phát đúng giờ đã xếp. "
        "Vào Lịch phát để chuyển hoặc rút."
    )


def _session_table(code: str, values: Mapping[str, Any]) -> dict[str, Any]:
    table: dict[str, Any] = {"code": code}
    if str(values.get("name", "")).strip():
        table["name"] = str(values["name"]).strip()
    table["weekdays"] = list(values.get("weekdays") or [])
    table["start"] = str(values.get("start", "")).strip()
    table["max_minutes"] = _number(str(values.get("max_minutes", "")))
    for key in ("valid_from", "valid_to"):
        if str(values.get(key, "")).strip():
            table[key] = str(values[key]).strip()
    source = str(values.get("relay_source", "")).strip()
    if source:
        minutes = str(values.get("relay_minutes", "")).strip()
        place = str(values.get("relay_place", "")).strip() or "first"
        table["relay"] = {"source": source, "minutes": _number(minutes) if minutes else "", "place": place}
    return table


def _keep_relay(table: dict[str, Any], values: Mapping[str, Any], old: Mapping[str, Any]) -> None:
    """A form without the relay fields (the district's change, say) leaves the session's relay as it was."""
    if not any(k in values for k in RELAY_FIELDS) and "relay" in old:
        table["relay"] = old["relay"]


def update_station(
    session: Session, code: str | None, values: Mapping[str, str], *, actor: str, now: datetime, speak: Speak
) -> Change:
    """Change the station's name, spoken ident and allowed hours ("05:00-07:30", one window a line)."""
    station = _station(session, code, actor)
    _blank(values, ("name", "ident", "allowed_hours"))
    doc = station_document(session, station)
    doc["station"].update(name=values["name"].strip(), ident=values["ident"].strip())
    windows = [w.strip() for line in _lines(values["allowed_hours"]) for w in line.split(",") if w.strip()]
    doc["station"]["allowed_hours"] = windows
    changed = _apply(
        session, station, doc, prefix="station", fields=STATION_FIELDS, actor=actor, now=now, speak=speak
    )
    detail = {"name": doc["station"]["name"], "ident": doc["station"]["ident"], "allowed_hours": windows}
    _audit(session, changed, actor, now, station, "station.edit", detail)
    return Change(changed)


def save_session(
    session: Session,
    code: str | None,
    session_code: str,
    values: Mapping[str, Any],
    *,
    actor: str,
    now: datetime,
    speak: Speak,
    new: bool = False,
) -> Change:
    """Change one recurring session (or add it when `new`): days, start, longest length, valid dates."""
    station = _station(session, code, actor)
    return apply_session(session, station, session_code, values, actor=actor, now=now, speak=speak, new=new)


def apply_session(
    session: Session,
    station: StationRow,
    session_code: str,
    values: Mapping[str, Any],
    *,
    actor: str,
    now: datetime,
    speak: Speak,
    new: bool = False,
) -> Change:
    """`save_session` once the caller has checked who may (a station's admin, or its district's change)."""
    _blank({"code": session_code, **values}, ("code", "start", "max_minutes"))
    doc = station_document(session, station)
    table = _session_table(session_code.strip(), values)
    if new:
        doc["session"].append(table)
        index = len(doc["session"]) - 1
    else:
        index = _index(doc["session"], session_code, "buổi phát")
        _keep_relay(table, values, doc["session"][index])
        doc["session"][index] = table
    changed = _apply(
        session,
        station,
        doc,
        prefix=f"session[{index + 1}]",
        fields=SESSION_FIELDS,
        actor=actor,
        now=now,
        speak=speak,
    )
    _audit(session, changed, actor, now, station, "session.add" if new else "session.edit", table)
    return Change(changed, "" if new else _airings_left(session, station, session_code, table["start"], now))


def check_session(
    session: Session, station: StationRow, session_code: str, values: Mapping[str, Any]
) -> None:
    """Refuse (`SettingsInvalid`, per field) a change to a session that `apply_session` would refuse."""
    _blank({"code": session_code, **values}, ("code", "start", "max_minutes"))
    doc = station_document(session, station)
    index = _index(doc["session"], session_code, "buổi phát")
    table = _session_table(session_code.strip(), values)
    _keep_relay(table, values, doc["session"][index])
    doc["session"][index] = table
    try:
        parse_schedule(document_toml(doc), SOURCE)
    except ScheduleValidationError as exc:
        raise SettingsInvalid(_field_errors(exc.details, f"session[{index + 1}]", SESSION_FIELDS)) from None


def remove_session(
    session: Session, code: str | None, session_code: str, *, actor: str, now: datetime, speak: Speak
) -> Change:
    """Remove a recurring session (refused when an exception of the file still names it)."""
    station = _station(session, code, actor)
    doc = station_document(session, station)
    del doc["session"][_index(doc["session"], session_code, "buổi phát")]
    changed = _apply(session, station, doc, prefix="session", fields=(), actor=actor, now=now, speak=speak)
    _audit(session, changed, actor, now, station, "session.remove", {"code": session_code})
    return Change(changed, _airings_left(session, station, session_code, None, now))


def update_campaign(
    session: Session,
    code: str | None,
    campaign_code: str,
    values: Mapping[str, str],
    *,
    actor: str,
    now: datetime,
    speak: Speak,
) -> Change:
    """Change a campaign's title, plan reference, period, topics, agencies and its targets."""
    station = _station(session, code, actor)
    _blank(values, ("title", "plan_ref", "period_start", "period_end"))
    doc = station_document(session, station)
    index = _index(doc["campaign"], campaign_code, "chiến dịch")
    table = doc["campaign"][index]
    table.update({k: values[k].strip() for k in ("title", "plan_ref", "period_start", "period_end")})
    table.update(topics=_lines(values.get("topics", "")), agencies=_lines(values.get("agencies", "")))
    target = {k: n for k in TARGET_KEYS if (n := _number(values.get(k, ""))) is not None}
    table.pop("target", None)
    if target:
        table["target"] = target
    changed = _apply(
        session,
        station,
        doc,
        prefix=f"campaign[{index + 1}]",
        fields=CAMPAIGN_FIELDS,
        actor=actor,
        now=now,
        speak=speak,
    )
    _audit(session, changed, actor, now, station, "campaign.edit", {"code": campaign_code, **table})
    return Change(changed)


def settings_file(session: Session, code: str | None, *, actor: str) -> tuple[str, str]:
    """The station's settings as a schedule file (name, TOML text) to edit and import again."""
    require_role(session, actor, Role.INSPECTOR)
    station = stations.find_station(session, code)
    return f"{station.code}-cai-dat.toml", document_toml(station_document(session, station))


def _audit(
    session: Session,
    changed: bool,
    actor: str,
    now: datetime,
    station: StationRow,
    action: str,
    detail: Mapping[str, Any],
) -> None:
    """One audit event for an edit that changed something (what the form asked for)."""
    if not changed:
        return
    clean = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in detail.items() if k != "target"}
    if isinstance(detail.get("target"), dict):
        clean["target"] = dict(detail["target"])
    audit.record(
        session,
        actor=actor,
        action=f"settings.{action}",
        object_type="station",
        object_id=station.code,
        now=now,
        **clean,
    )
