"""Các phường (the district server's console): every ward's state and this month's compliance, one
ward's drill-down (and changes to its sessions), sending a bulletin to chosen wards at a chosen level,
and the district's consolidated report.

District leaders and inspectors read; only a district leader sends (services.district_dispatch checks).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from broadcaster import labels
from broadcaster.domain import Priority
from broadcaster.errors import ConfigError, InputError, NotFoundError
from broadcaster.reports.periods import PeriodKind
from broadcaster.services import district_changes, district_console, district_dispatch, district_report, media
from broadcaster.services.log_view import Download
from broadcaster.services.station_settings import SettingsInvalid
from broadcaster.services.stations import campaigns_of
from broadcaster.store.models import StationRow
from broadcaster.web.context import Web, redirect, render, require_user, web_of
from broadcaster.web.pages.admin import WEEKDAYS
from broadcaster.web.pages.asrun import attachment
from broadcaster.web.pages.schedule import say

router = APIRouter(prefix="/huyen", include_in_schema=False)
LEVELS = [p.value for p in Priority]


@router.get("")
def board_page(request: Request) -> Response:
    """Every ward: contact, alerts, its chain; this month's compliance by campaign, colour-coded; at risk."""
    user = require_user(request)
    web = web_of(request)
    with web.tx() as s:
        board = district_console.board(s, actor=user.name, now=web.now())
    return render(request, "district/board.html", {"board": board, "today": web.now()})


def _day(raw: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise InputError(f"Ngày «{raw}» không hợp lệ.", "Chọn ngày trong lịch.", field="ngay") from None


def _ward(
    request: Request,
    code: str,
    ngay: str = "",
    *,
    errors: dict[str, str] | None = None,
    editing: str = "",
    typed: dict[str, Any] | None = None,
) -> Response:
    user = require_user(request)
    web = web_of(request)
    errors = dict(errors or {})
    try:
        day = _day(ngay)
    except InputError as exc:
        errors["ngay"], day = say(exc), None
    with web.tx() as s:
        detail = district_console.ward_detail(s, code, actor=user.name, now=web.now(), day=day)
    context = {
        "d": detail,
        "errors": errors,
        "typed_day": ngay,
        "editing": editing,
        "typed": typed or {},
        "weekdays": WEEKDAYS,
        "may_change": user.role in ("leader", "admin"),
    }
    return render(request, "district/ward.html", context, status=400 if errors else 200)


@router.get("/phuong/{code}")
def ward_page(request: Request, code: str, ngay: str = "") -> Response:
    """One ward: state and heartbeat, monthly reports from its forwarded log, the log, the sends, its
    sessions (with the changes the district sent) and its audit events."""
    return _ward(request, code, ngay)


@router.post("/phuong/{code}/buoi/{session_code}")
def change_session(
    request: Request,
    code: str,
    session_code: str,
    start: Annotated[str, Form()] = "",
    max_minutes: Annotated[str, Form()] = "",
    weekdays: Annotated[list[str] | None, Form()] = None,
) -> Response:
    """Send the ward a change to one of its sessions (district leader); the ward applies it and reports."""
    user = require_user(request)
    web = web_of(request)
    values: dict[str, Any] = {"start": start.strip(), "max_minutes": max_minutes.strip()}
    values["weekdays"] = list(weekdays or [])
    try:
        with web.tx() as s:
            row = district_changes.propose_change(
                s, code, session_code, values, actor=user.name, now=web.now()
            )
            number = row.id
    except SettingsInvalid as exc:
        return _ward(request, code, errors=exc.fields, editing=session_code, typed=values)
    except InputError as exc:
        return _ward(request, code, errors={"form": say(exc)}, editing=session_code, typed=values)
    done = f"Đã gửi thay đổi lịch phát số {number} xuống phường; phường áp dụng trong vài giây khi có mạng."
    return redirect(f"/huyen/phuong/{code}#lich-phat", done)


def _choices(web: Web) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The wards (code, name) and the campaigns (code, title) the form offers."""
    from sqlalchemy import select

    with web.tx() as s:
        stations = list(s.scalars(select(StationRow).order_by(StationRow.code)))
        campaigns: dict[str, str] = {}
        for _, c in campaigns_of(s, [st.id for st in stations]):
            campaigns.setdefault(c.code, c.title)
    return [(st.code, st.name) for st in stations], sorted(campaigns.items())


def _send_page(
    request: Request, *, form: dict[str, Any] | None = None, errors: dict[str, str] | None = None
) -> Response:
    user = require_user(request)
    web = web_of(request)
    with web.tx() as s:
        sent = district_dispatch.recent_dispatches(s, actor=user.name)
    wards, campaigns = _choices(web)
    typed = form or {"level": Priority.NORMAL.value, "wards": [], "valid_minutes": ""}
    context = {
        "sent": sent,
        "wards": wards,
        "campaigns": campaigns,
        "levels": LEVELS,
        "form": typed,
        "errors": errors or {},
        "minutes": district_dispatch.EMERGENCY_MINUTES,
        "minutes_range": district_dispatch.EMERGENCY_MINUTES_RANGE,
        "may_send": user.role in ("leader", "admin"),
    }
    return render(request, "district/send.html", context, status=400 if errors else 200)


@router.get("/ban-tin")
def send_page(request: Request) -> Response:
    """The send form (district leader) and what was sent, with each ward's state."""
    return _send_page(request)


@router.post("/ban-tin")
def send(
    request: Request,
    title: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    level: Annotated[str, Form()] = "",
    campaign: Annotated[str, Form()] = "",
    wards: Annotated[list[str] | None, Form()] = None,
    valid_minutes: Annotated[str, Form()] = "",
    all_wards: Annotated[str, Form()] = "",
) -> Response:
    """Send a bulletin, approved by the district leader who sends it, to the chosen wards at its level."""
    user = require_user(request)
    web = web_of(request)
    app = web.app
    chosen = tuple(code for code, _ in _choices(web)[0]) if all_wards else tuple(wards or ())
    draft = district_dispatch.DispatchDraft(title, text, level, campaign, chosen, valid_minutes)
    try:
        with web.tx() as s:
            row = district_dispatch.send_dispatch(
                s,
                draft,
                actor=user.name,
                speak=app.speak,
                render=lambda spoken: media.render_spoken(spoken, app.renderer, app.media_settings()),
                now=web.now(),
            )
            level_label, count = labels.priority(row.level), len(row.targets)
    except InputError as exc:
        form = {
            "title": title,
            "text": text,
            "level": level,
            "campaign": campaign,
            "wards": list(chosen),
            "valid_minutes": valid_minutes,
            "all_wards": all_wards,
        }
        key = exc.field or "form"
        return _send_page(request, form=form, errors={key: say(exc)})
    done = f"Đã gửi bản tin mức {level_label} tới {count} phường. Các phường nhận trong vài giây."
    return redirect("/huyen/ban-tin", done)


REPORT_KINDS = [k.value for k in (PeriodKind.MONTH, PeriodKind.QUARTER, PeriodKind.YEAR, PeriodKind.WEEK)]
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@router.get("/bao-cao-tong-hop")
def consolidated_page(
    request: Request, ky: str = "month", ngay: str = "", so: str = "", dinh_dang: str = ""
) -> Response:
    """The district's consolidated report (báo cáo tổng hợp): choose the period, download PDF or DOCX."""
    user = require_user(request)
    web = web_of(request)
    typed = {"ky": ky, "ngay": ngay, "so": so}
    errors: dict[str, str] = {}
    if dinh_dang:
        try:
            kind = PeriodKind(ky)
        except ValueError:
            kind, errors["ky"] = PeriodKind.MONTH, "Chọn kỳ báo cáo trong danh sách."
        try:
            day = _day(ngay)
        except InputError as exc:
            day, errors["ngay"] = None, say(exc)
        if not errors:
            settings = web.app.config.district
            try:
                with web.tx() as s:
                    document = district_report.consolidated_document(
                        s,
                        actor=user.name,
                        now=web.now(),
                        name=settings.name,
                        place=settings.place,
                        kind=kind,
                        period=day,
                        number=so,
                    )
                data = district_report.render_consolidated(document, dinh_dang)
            except (InputError, ConfigError, NotFoundError) as exc:
                errors["ngay" if isinstance(exc, InputError) else "form"] = say(exc)
            else:
                name = f"bao-cao-tong-hop-{kind.value}-{document.period.start}.{dinh_dang}"
                return attachment(
                    Download(name, MEDIA_TYPES.get(dinh_dang, "application/octet-stream"), data)
                )
    context = {"typed": typed, "errors": errors, "kinds": REPORT_KINDS}
    return render(request, "district/report.html", context, status=400 if errors else 200)
