"""Lịch phát: a week of sessions with their programmes and capacity; queue, unqueue, move; automatic fill
(a proposal first, then applied); dated exceptions (no broadcast, extra session)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from broadcaster import planning
from broadcaster.errors import BroadcasterError, InputError, InvalidStateError, PlanningError
from broadcaster.services import (
    fill_proposals,
    form_fields,
    plan_tools,
    queue,
    schedule_edits,
    schedule_views,
)
from broadcaster.store.models import UserRow
from broadcaster.web.context import Web, redirect, render, require_user, web_of

router = APIRouter()

# The refusals a planning form shows beside itself (400, nothing stored); anything else is an error page.
REFUSED = (InputError, PlanningError, InvalidStateError)


def tools_of(web: Web) -> plan_tools.ShapeMemory:
    """The App's planning tools, with each station's programme shape kept for a while in this process."""
    tools: plan_tools.ShapeMemory | None = getattr(web, "_plan_tools", None)
    if tools is None:
        tools = plan_tools.ShapeMemory(web.app, web.app.clock.monotonic)
        web._plan_tools = tools  # type: ignore[attr-defined]
    return tools


def weeks_of(web: Web) -> schedule_views.WeekMemory:
    """The week views this console process keeps until the plan changes."""
    memory: schedule_views.WeekMemory | None = getattr(web, "_weeks", None)
    if memory is None:
        memory = schedule_views.WeekMemory()
        web._weeks = memory  # type: ignore[attr-defined]
    return memory


def _back(week: str, anchor: str = "") -> str:
    query = f"?{urlencode({'tuan': week})}" if week else ""
    return f"/lich-phat{query}{'#' + anchor if anchor else ''}"


def _week_page(
    request: Request,
    user: UserRow,
    week: str | None,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    web = web_of(request)
    day = form_fields.parse_day(week, "tuan") if week else None
    with web.tx() as s:
        plan = weeks_of(web).week(s, tools_of(web), web.settings.station, day, actor=user.name, now=web.now())
    context = {
        "w": plan,
        "errors": errors or {},
        "form": form or {},
        "mmss": planning.mmss,
        "week": plan.monday.isoformat(),
        "prev_week": (plan.monday - timedelta(days=7)).isoformat(),
        "next_week": (plan.monday + timedelta(days=7)).isoformat(),
    }
    return render(request, "schedule/week.html", context, status=status)


def say(exc: BroadcasterError) -> str:
    """A refusal as the page shows it: the message, and the hint unless it is a command line."""
    if not exc.hint or "broadcaster " in exc.hint or "--" in exc.hint:
        return exc.message
    return exc.one_line()


def _refused(exc: BroadcasterError, default: str) -> dict[str, str]:
    """The message keyed by the form field it belongs to, else by the form's own key."""
    field = exc.field if isinstance(exc, InputError) and exc.field else default
    return {field: say(exc)}


@router.get("/lich-phat", include_in_schema=False)
def week_page(request: Request, tuan: str | None = None, buoi: str = "") -> Response:
    """The week view (Monday first); ?tuan=YYYY-MM-DD moves to the week holding that day."""
    user = require_user(request)
    return _week_page(request, user, tuan, form={"session": buoi})


@router.post("/lich-phat/xep", include_in_schema=False)
def queue_bulletin(
    request: Request,
    bulletin: Annotated[str, Form()] = "",
    session: Annotated[str, Form()] = "",
    priority: Annotated[str, Form()] = "normal",
    tuan: Annotated[str, Form()] = "",
) -> Response:
    """Queue an approved bulletin into a session of the week."""
    user = require_user(request)
    web = web_of(request)
    try:
        with web.tx() as s:
            airing = schedule_edits.queue_bulletin(
                s,
                tools_of(web),
                web.settings.station,
                bulletin,
                session,
                priority,
                actor=user.name,
                now=web.now(),
            )
            airing_id = airing.id
    except REFUSED as exc:
        form = {"bulletin": bulletin, "session": session, "priority": priority}
        errors = _refused(exc, "queue")
        return _week_page(request, user, tuan or None, errors=errors, form=form, status=400)
    return redirect(_back(tuan, f"luot-{airing_id}"), f"Đã xếp bản tin vào buổi phát (lượt số {airing_id}).")


@router.post("/lich-phat/rut/{airing_id}", include_in_schema=False)
def unqueue(request: Request, airing_id: int, tuan: Annotated[str, Form()] = "") -> Response:
    """Take a queued airing out of its session."""
    user = require_user(request)
    web = web_of(request)
    try:
        with web.tx() as s:
            queue.unqueue(s, airing_id, actor=user.name, now=web.now())
    except REFUSED as exc:
        errors = {f"item-{airing_id}": say(exc)}
        return _week_page(request, user, tuan or None, errors=errors, status=400)
    return redirect(_back(tuan), f"Đã rút lượt phát số {airing_id} khỏi buổi phát.")


def _move_page(
    request: Request, user: UserRow, airing_id: int, *, error: str = "", chosen: str = "", status: int = 200
) -> Response:
    web = web_of(request)
    with web.tx() as s:
        choice = schedule_views.move_choice(
            s, weeks_of(web), tools_of(web), web.settings.station, airing_id, actor=user.name, now=web.now()
        )
    context = {"m": choice, "error": error, "chosen": chosen, "week": choice.monday.isoformat()}
    return render(request, "schedule/move.html", context, status=status)


@router.get("/lich-phat/chuyen/{airing_id}", include_in_schema=False)
def move_page(request: Request, airing_id: int) -> Response:
    """The move form of one queued airing: the sessions of its week still to come."""
    return _move_page(request, require_user(request), airing_id)


@router.post("/lich-phat/chuyen/{airing_id}", include_in_schema=False)
def move(
    request: Request,
    airing_id: int,
    session: Annotated[str, Form()] = "",
    tuan: Annotated[str, Form()] = "",
) -> Response:
    """Move a queued airing to another session."""
    user = require_user(request)
    web = web_of(request)
    try:
        with web.tx() as s:
            schedule_edits.move_airing(
                s, tools_of(web), web.settings.station, airing_id, session, actor=user.name, now=web.now()
            )
    except REFUSED as exc:
        return _move_page(request, user, airing_id, error=say(exc), chosen=session, status=400)
    return redirect(_back(tuan, f"luot-{airing_id}"), f"Đã chuyển lượt phát số {airing_id} sang buổi khác.")


@router.get("/lich-phat/xep-tu-dong", include_in_schema=False)
def fill_proposal(request: Request, tu: str = "", den: str = "", tuan: str = "") -> Response:
    """*Tự động xếp lịch*: what the planner proposes for the dates; nothing is queued yet."""
    user = require_user(request)
    web = web_of(request)
    try:
        with web.tx() as s:
            proposal = fill_proposals.fill_proposal(
                s, tools_of(web), web.settings.station, tu, den, actor=user.name, now=web.now()
            )
    except REFUSED as exc:
        form = {"tu": tu, "den": den}
        return _week_page(request, user, tuan or None, errors=_refused(exc, "fill"), form=form, status=400)
    context = {"p": proposal, "mmss": planning.mmss, "tuan": tuan, "errors": {}}
    return render(request, "schedule/fill.html", context)


@router.post("/lich-phat/xep-tu-dong", include_in_schema=False)
def fill_apply(
    request: Request,
    tu: Annotated[str, Form()] = "",
    den: Annotated[str, Form()] = "",
    fingerprint: Annotated[str, Form()] = "",
    tuan: Annotated[str, Form()] = "",
) -> Response:
    """Apply exactly the proposal the operator saw (refused, with nothing queued, if the plan changed)."""
    user = require_user(request)
    web = web_of(request)
    try:
        with web.tx() as s:
            outcome = fill_proposals.apply_fill(
                s, tools_of(web), web.settings.station, tu, den, fingerprint, actor=user.name, now=web.now()
            )
            count = len(outcome.queued)
    except REFUSED as exc:
        form = {"tu": tu, "den": den}
        return _week_page(
            request, user, tuan or tu or None, errors=_refused(exc, "fill"), form=form, status=400
        )
    return redirect(_back(tuan or tu), f"Đã tự động xếp {count} lượt phát.")


@router.post("/lich-phat/ngoai-le", include_in_schema=False)
def add_exception(
    request: Request,
    kind: Annotated[str, Form()] = "",
    day: Annotated[str, Form()] = "",
    session_code: Annotated[str, Form()] = "",
    start: Annotated[str, Form()] = "",
    minutes: Annotated[str, Form()] = "15",
    reason: Annotated[str, Form()] = "",
    tuan: Annotated[str, Form()] = "",
) -> Response:
    """Add a dated exception: no broadcast in a session (or a whole day), or an extra session."""
    user = require_user(request)
    web = web_of(request)
    try:
        with web.tx() as s:
            schedule_edits.add_exception(
                s,
                web.settings.station,
                kind=kind,
                day=day,
                session_code=session_code,
                start=start,
                minutes=minutes,
                reason=reason,
                actor=user.name,
                now=web.now(),
            )
    except REFUSED as exc:
        form = {
            "kind": kind,
            "day": day,
            "session_code": session_code,
            "start": start,
            "minutes": minutes,
            "reason": reason,
        }
        return _week_page(
            request, user, tuan or None, errors=_refused(exc, "exception"), form=form, status=400
        )
    shown = form_fields.parse_day(day, "day").isoformat()  # stored, so it reads as a date
    message = "Đã thêm buổi phát thêm." if kind == "extra" else "Đã ghi ngày không phát."
    return redirect(_back(shown, f"ngay-{shown}"), message)


@router.post("/lich-phat/ngoai-le/{exception_id}/xoa", include_in_schema=False)
def remove_exception(request: Request, exception_id: int, tuan: Annotated[str, Form()] = "") -> Response:
    """Take back a dated exception that has not passed."""
    user = require_user(request)
    web = web_of(request)
    try:
        with web.tx() as s:
            schedule_edits.remove_exception(
                s, web.settings.station, exception_id, actor=user.name, now=web.now()
            )
    except REFUSED as exc:
        return _week_page(request, user, tuan or None, errors={"exceptions": say(exc)}, status=400)
    return redirect(_back(tuan, "ngoai-le"), "Đã bỏ ngoại lệ.")
