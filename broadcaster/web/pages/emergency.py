"""Phát khẩn cấp: choose an approved bulletin, confirm, and it cuts what is on air within a second; then
follow it (taken by the daemon, its as-run row, the programme it cut)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response

from broadcaster.errors import InputError, InvalidStateError, PlanningError
from broadcaster.services import emergency
from broadcaster.store.models import UserRow
from broadcaster.web.context import redirect, render, require_user, web_of
from broadcaster.web.pages.schedule import say, tools_of

router = APIRouter()

# How often the status page asks whether the daemon has started (and logged) the emergency.
POLL_MS = 400


def _index(
    request: Request,
    user: UserRow,
    *,
    errors: dict[str, str] | None = None,
    chosen: str = "",
    status: int = 200,
) -> Response:
    web = web_of(request)
    with web.tx() as s:
        page = emergency.emergency_page(s, web.settings.station, actor=user.name, now=web.now())
    context = {"page": page, "errors": errors or {}, "chosen": chosen}
    return render(request, "emergency/index.html", context, status=status)


@router.get("/khan-cap", include_in_schema=False)
def emergency_page(request: Request, ban_tin: str | None = None) -> Response:
    """Choose a bulletin; with ?ban_tin=ID, the confirm step showing exactly what will be heard."""
    user = require_user(request)
    if ban_tin is None:
        return _index(request, user)
    web = web_of(request)
    try:
        with web.tx() as s:
            confirm = emergency.confirmation(s, web.settings.station, ban_tin, actor=user.name)
    except (InputError, InvalidStateError) as exc:
        return _index(request, user, errors={"bulletin": say(exc)}, chosen=ban_tin, status=400)
    return render(request, "emergency/confirm.html", {"c": confirm})


@router.post("/khan-cap/phat", include_in_schema=False)
def start(request: Request, bulletin: Annotated[str, Form()] = "") -> Response:
    """Air the bulletin now as an emergency; the daemon is woken as soon as the airing is committed."""
    user = require_user(request)
    web = web_of(request)
    try:
        with web.tx() as s:
            airing = emergency.start_emergency(
                s,
                tools_of(web),
                web.settings.station,
                bulletin,
                actor=user.name,
                now=web.now(),
                wake=web.app.wake_daemon,
            )
            airing_id = airing.id
    except (InputError, InvalidStateError, PlanningError) as exc:
        return _index(request, user, errors={"bulletin": say(exc)}, chosen=bulletin, status=400)
    return redirect(f"/khan-cap/luot/{airing_id}", "Đã gửi lệnh phát khẩn cấp tới trạm phát.", "warn")


@router.post("/khan-cap/phat-ngay", include_in_schema=False)
def play_now(request: Request, bulletin: Annotated[str, Form()] = "") -> Response:
    """Air the bulletin now at priority: after what is on air, within the allowed hours, no cut."""
    user = require_user(request)
    web = web_of(request)
    try:
        with web.tx() as s:
            queued = emergency.start_play_now(
                s,
                tools_of(web),
                web.settings.station,
                bulletin,
                actor=user.name,
                now=web.now(),
                wake=web.app.wake_daemon,
            )
    except (InputError, InvalidStateError, PlanningError) as exc:
        return _index(request, user, errors={"bulletin": say(exc)}, chosen=bulletin, status=400)
    message = f"Đã xếp phát ngay (lượt số {queued.airing_id}); trạm phát sẽ phát trong vài giây."
    return redirect(f"/lich-phat?tuan={queued.day.isoformat()}#luot-{queued.airing_id}", message)


@router.get("/khan-cap/luot/{airing_id}", include_in_schema=False)
def status_page(request: Request, airing_id: int) -> Response:
    """One emergency: waiting for the daemon, on air, or logged with the programme it cut."""
    user = require_user(request)
    web = web_of(request)
    with web.tx() as s:
        status = emergency.emergency_status(
            s, web.settings.station, airing_id, actor=user.name, now=web.now()
        )
    context = {"st": status, "poll_ms": POLL_MS}
    return render(request, "emergency/status.html", context)


@router.get("/khan-cap/luot/{airing_id}/trang-thai", include_in_schema=False)
def status_json(request: Request, airing_id: int) -> Response:
    """The emergency's state as JSON, for the status page to poll until its as-run row is written."""
    user = require_user(request)
    web = web_of(request)
    with web.tx() as s:
        st = emergency.emergency_status(s, web.settings.station, airing_id, actor=user.name, now=web.now())
    row = st.row
    return JSONResponse(
        {
            "airing": st.airing_id,
            "state": st.state,
            "queued_at": st.queued_at.isoformat(),
            "claimed_at": st.claimed_at.isoformat() if st.claimed_at else None,
            "actual_start": row.actual_start.isoformat() if row and row.actual_start else None,
            "outcome": row.outcome if row else None,
            "delay_s": st.delay_s,
            "interrupted": [r.id for r in st.interrupted],
        }
    )
