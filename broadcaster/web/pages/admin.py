"""Quản trị: people and roles, API tokens, importing a schedule file, the station's sessions and campaigns,
the station self-check.

Administrators change; the inspector may read the people and the station's settings. Every change
goes through services.admin, services.station_settings or services.web_auth, which check the role.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from broadcaster.domain import Role
from broadcaster.errors import InputError, InvalidStateError
from broadcaster.services import admin, doctor, station_settings, web_auth
from broadcaster.services.station_settings import SettingsInvalid
from broadcaster.web.context import SESSION_COOKIE, redirect, render, require_user, web_of

router = APIRouter(prefix="/quan-tri", include_in_schema=False)  # HTML pages: not in the API document
ROLES = [r.value for r in Role]
WEEKDAYS = list(zip(station_settings.WEEKDAY_CODES, ("T2", "T3", "T4", "T5", "T6", "T7", "CN"), strict=True))


# --- people ------------------------------------------------------------------------------------------


def _people(request: Request, form: dict[str, Any] | None = None, status: int = 200) -> Response:
    user = require_user(request)
    web = web_of(request)
    with web.tx() as s:
        people = admin.list_people(s, actor=user.name)
    context = {"people": people, "roles": ROLES, "form": form or {}, "tab": "people"}
    return render(request, "admin/people.html", context, status=status)


@router.get("")
def people_page(request: Request) -> Response:
    """Users and their roles (administrators change; the inspector reads)."""
    return _people(request)


@router.post("/nguoi-dung")
def add_person(
    request: Request,
    name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "",
    full_name: Annotated[str, Form()] = "",
    title: Annotated[str, Form()] = "",
) -> Response:
    """Add a user with a role."""
    user = require_user(request)
    web = web_of(request)
    try:
        with web.tx() as s:
            row = admin.add_person(s, name, role, full_name, title=title, actor=user.name, now=web.now())
            added = row.name
    except InputError as exc:
        values = {"name": name, "role": role, "full_name": full_name, "title": title}
        form = {"kind": "add", "errors": {exc.field or "name": exc.one_line()}, "values": values}
        return _people(request, form, status=400)
    return redirect("/quan-tri", f"Đã thêm người dùng {added}. Đặt mật khẩu để người đó đăng nhập.")


@router.post("/nguoi-dung/{name}/vai-tro")
def change_role(request: Request, name: str, role: Annotated[str, Form()] = "") -> Response:
    """Give a user another role."""
    user = require_user(request)
    web = web_of(request)
    try:
        with web.tx() as s:
            admin.change_role(s, name, role, actor=user.name, now=web.now())
    except (InputError, InvalidStateError) as exc:
        form = {"kind": "role", "name": name, "errors": {"role": exc.one_line()}}
        return _people(request, form, status=400)
    return redirect("/quan-tri", f"Đã đổi vai trò của {name}.")


@router.post("/nguoi-dung/{name}/mat-khau")
def set_password(
    request: Request,
    name: str,
    password: Annotated[str, Form()] = "",
    again: Annotated[str, Form()] = "",
) -> Response:
    """Set (or reset) a user's password; their signed-in browsers are signed out."""
    user = require_user(request)
    web = web_of(request)
    errors: dict[str, str] = {}
    if password != again:
        errors["again"] = "Hai lần nhập mật khẩu không giống nhau."
    else:
        try:
            with web.tx() as s:
                admin.reset_password(s, name, password, actor=user.name, now=web.now())
        except InputError as exc:
            errors["password"] = exc.one_line()
    if errors:
        return _people(request, {"kind": "password", "name": name, "errors": errors}, status=400)
    if name == user.name:
        response = redirect("/dang-nhap", "Đã đặt mật khẩu mới. Đăng nhập lại bằng mật khẩu mới.")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response
    return redirect("/quan-tri", f"Đã đặt mật khẩu cho {name}; người đó đăng nhập bằng mật khẩu này.")


# --- API tokens ----------------------------------------------------------------------------------------


def _tokens(
    request: Request, form: dict[str, Any] | None = None, new: Any = None, status: int = 200
) -> Response:
    user = require_user(request)
    web = web_of(request)
    with web.tx() as s:
        overview = admin.tokens_overview(s, actor=user.name)
    context = {"overview": overview, "form": form or {}, "new": new, "tab": "tokens"}
    response = render(request, "admin/tokens.html", context, status=status)
    response.headers["Cache-Control"] = "no-store"  # a new token's secret is on this page once
    return response


@router.get("/ma-truy-cap")
def tokens_page(request: Request) -> Response:
    """API tokens: issue, list with last use, revoke."""
    return _tokens(request)


@router.post("/ma-truy-cap")
def create_token(
    request: Request, name: Annotated[str, Form()] = "", owner: Annotated[str, Form()] = ""
) -> Response:
    """Issue a token for a user or a station; its secret is shown on this answer only."""
    user = require_user(request)
    web = web_of(request)
    kind, _, who = owner.partition(":")
    try:
        with web.tx() as s:
            made = web_auth.create_api_token(
                s,
                actor=user.name,
                name=name,
                now=web.now(),
                user_name=who if kind == "user" and who else None,
                station_code=who if kind == "station" and who else None,
            )
            new = {"secret": made.token, "name": made.row.name, "id": made.row.id}
    except InputError as exc:
        form = {"errors": {exc.field or "name": exc.one_line()}, "values": {"name": name, "owner": owner}}
        return _tokens(request, form, status=400)
    return _tokens(request, new=new)


@router.post("/ma-truy-cap/{token_id}/thu-hoi")
def revoke_token(request: Request, token_id: int) -> Response:
    """Revoke a token: it stops working at once."""
    user = require_user(request)
    web = web_of(request)
    with web.tx() as s:
        row = web_auth.revoke_api_token(s, token_id, actor=user.name, now=web.now())
        name = row.name
    return redirect("/quan-tri/ma-truy-cap", f"Đã thu hồi mã truy cập “{name}”.")


# --- importing a schedule file -------------------------------------------------------------------------


def _import(request: Request, rejected: Any = None, error: str = "", status: int = 200) -> Response:
    user = require_user(request)
    web = web_of(request)
    with web.tx() as s:
        history = admin.past_imports(s, actor=user.name)
    context = {"history": history, "rejected": rejected, "error": error, "tab": "import"}
    return render(request, "admin/import.html", context, status=status)


@router.get("/nhap-lich")
def import_page(request: Request) -> Response:
    """Upload a schedule file (TOML)."""
    return _import(request)


@router.post("/nhap-lich")
def import_file(request: Request, file: Annotated[UploadFile | None, File()] = None) -> Response:
    """Check the whole file, then import it whole; each problem is shown at its line and nothing is stored."""
    user = require_user(request)
    web = web_of(request)
    data = file.file.read(admin.MAX_SCHEDULE_BYTES + 1) if file is not None else b""
    filename = (file.filename if file is not None else "") or "tệp lịch"
    try:
        with web.tx() as s:
            done = admin.import_schedule_file(
                s,
                data,
                filename,
                station_code=web.settings.station,
                actor=user.name,
                now=web.now(),
                speak=web.app.speak,
            )
    except admin.ScheduleRejected as exc:
        return _import(request, rejected=exc, status=400)
    except InputError as exc:
        return _import(request, error=exc.one_line(), status=400)
    return redirect("/quan-tri/nhap-lich", done.message)


# --- the station's settings -----------------------------------------------------------------------------


def _station(request: Request, form: dict[str, Any] | None = None, status: int = 200) -> Response:
    user = require_user(request)
    web = web_of(request)
    with web.tx() as s:
        settings = admin.station_settings(s, web.settings.station, actor=user.name)
    context = {"st": settings, "form": form or {}, "weekdays": WEEKDAYS, "tab": "station"}
    return render(request, "admin/station.html", context, status=status)


def _saved(change: station_settings.Change) -> Response:
    message = "Đã lưu." if change.changed else "Không có gì thay đổi."
    if change.note:
        return redirect("/quan-tri/dai", f"{message} {change.note}", "warn")
    return redirect("/quan-tri/dai", message)


def _refused(request: Request, kind: str, code: str, exc: InputError, values: dict[str, Any]) -> Response:
    errors = exc.fields if isinstance(exc, SettingsInvalid) else {exc.field or "form": exc.one_line()}
    form = {"kind": kind, "code": code, "errors": errors, "values": values}
    return _station(request, form, status=400)


@router.get("/dai")
def station_page(request: Request) -> Response:
    """Allowed hours, sessions, exceptions, campaigns and targets."""
    return _station(request)


@router.get("/dai/tep-lich.toml")
def settings_download(request: Request) -> Response:
    """The station's settings as a schedule file, to edit and import again."""
    user = require_user(request)
    web = web_of(request)
    with web.tx() as s:
        name, text = station_settings.settings_file(s, web.settings.station, actor=user.name)
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(text.encode("utf-8"), media_type="application/toml; charset=utf-8", headers=headers)


@router.post("/dai")
def save_station(
    request: Request,
    name: Annotated[str, Form()] = "",
    ident: Annotated[str, Form()] = "",
    allowed_hours: Annotated[str, Form()] = "",
) -> Response:
    """Change the station's name, spoken ident and allowed hours."""
    user = require_user(request)
    web = web_of(request)
    values = {"name": name, "ident": ident, "allowed_hours": allowed_hours}
    try:
        with web.tx() as s:
            change = station_settings.update_station(
                s, web.settings.station, values, actor=user.name, now=web.now(), speak=web.app.speak
            )
    except InputError as exc:
        return _refused(request, "station", "", exc, values)
    return _saved(change)


def _session_values(
    name: str,
    weekdays: list[str] | None,
    start: str,
    max_minutes: str,
    valid_from: str,
    valid_to: str,
    relay: tuple[str, str, str] = ("", "", ""),
) -> dict[str, Any]:
    source, minutes, place = relay
    return {
        "name": name,
        "weekdays": weekdays or [],
        "start": start,
        "max_minutes": max_minutes,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "relay_source": source,
        "relay_minutes": minutes,
        "relay_place": place,
    }


@router.post("/dai/buoi")
def add_session(
    request: Request,
    code: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    weekdays: Annotated[list[str] | None, Form()] = None,
    start: Annotated[str, Form()] = "",
    max_minutes: Annotated[str, Form()] = "",
    valid_from: Annotated[str, Form()] = "",
    valid_to: Annotated[str, Form()] = "",
    relay_source: Annotated[str, Form()] = "",
    relay_minutes: Annotated[str, Form()] = "",
    relay_place: Annotated[str, Form()] = "",
) -> Response:
    """Add a recurring session (with its relay, if any)."""
    relay = (relay_source, relay_minutes, relay_place)
    values = _session_values(name, weekdays, start, max_minutes, valid_from, valid_to, relay)
    return _save_session(request, code, values, new=True)


@router.post("/dai/buoi/{code}")
def edit_session(
    request: Request,
    code: str,
    name: Annotated[str, Form()] = "",
    weekdays: Annotated[list[str] | None, Form()] = None,
    start: Annotated[str, Form()] = "",
    max_minutes: Annotated[str, Form()] = "",
    valid_from: Annotated[str, Form()] = "",
    valid_to: Annotated[str, Form()] = "",
    relay_source: Annotated[str, Form()] = "",
    relay_minutes: Annotated[str, Form()] = "",
    relay_place: Annotated[str, Form()] = "",
) -> Response:
    """Change a recurring session's days, start time, longest length, valid dates or relay."""
    relay = (relay_source, relay_minutes, relay_place)
    values = _session_values(name, weekdays, start, max_minutes, valid_from, valid_to, relay)
    return _save_session(request, code, values, new=False)


def _save_session(request: Request, code: str, values: dict[str, Any], *, new: bool) -> Response:
    user = require_user(request)
    web = web_of(request)
    try:
        with web.tx() as s:
            change = station_settings.save_session(
                s,
                web.settings.station,
                code,
                values,
                actor=user.name,
                now=web.now(),
                speak=web.app.speak,
                new=new,
            )
    except InputError as exc:
        return _refused(request, "new-session" if new else "session", code, exc, {"code": code, **values})
    return _saved(change)


@router.post("/dai/buoi/{code}/xoa")
def remove_session(request: Request, code: str) -> Response:
    """Remove a recurring session."""
    user = require_user(request)
    web = web_of(request)
    try:
        with web.tx() as s:
            change = station_settings.remove_session(
                s, web.settings.station, code, actor=user.name, now=web.now(), speak=web.app.speak
            )
    except InputError as exc:
        return _refused(request, "session", code, exc, {})
    return _saved(change)


@router.post("/dai/chien-dich/{code}")
def edit_campaign(
    request: Request,
    code: str,
    title: Annotated[str, Form()] = "",
    plan_ref: Annotated[str, Form()] = "",
    period_start: Annotated[str, Form()] = "",
    period_end: Annotated[str, Form()] = "",
    topics: Annotated[str, Form()] = "",
    agencies: Annotated[str, Form()] = "",
    min_airings_per_week: Annotated[str, Form()] = "",
    min_airings_per_month: Annotated[str, Form()] = "",
    min_minutes_per_month: Annotated[str, Form()] = "",
    max_gap_days: Annotated[str, Form()] = "",
) -> Response:
    """Change a campaign (title, plan reference, period, topics, agencies) and its targets."""
    user = require_user(request)
    web = web_of(request)
    values = {
        "title": title,
        "plan_ref": plan_ref,
        "period_start": period_start,
        "period_end": period_end,
        "topics": topics,
        "agencies": agencies,
        "min_airings_per_week": min_airings_per_week,
        "min_airings_per_month": min_airings_per_month,
        "min_minutes_per_month": min_minutes_per_month,
        "max_gap_days": max_gap_days,
    }
    try:
        with web.tx() as s:
            change = station_settings.update_campaign(
                s, web.settings.station, code, values, actor=user.name, now=web.now(), speak=web.app.speak
            )
    except InputError as exc:
        return _refused(request, "campaign", code, exc, values)
    return _saved(change)


# --- the station self-check --------------------------------------------------------------------------


@router.get("/kiem-tra")
def self_check_page(request: Request) -> Response:
    """`broadcaster doctor` in the console: tools, voice, fonts, output, database, disk, daemon, clock."""
    user = require_user(request)
    web = web_of(request)
    app = web.app
    with web.tx() as s:
        result = doctor.console_self_check(
            s, user.name, app.doctor_probes(), app.doctor_settings(), now=web.now()
        )
    return render(request, "admin/self_check.html", {"result": result, "tab": "doctor"})
