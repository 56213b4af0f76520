"""Tổng quan: what is on air and next, the daemon's state, alerts, today's sessions, campaigns at risk,
the as-run chain's verdict; and the JSON the page polls to refresh its on-air block."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response

from broadcaster.errors import InputError, InvalidStateError
from broadcaster.services import chain, overview
from broadcaster.services.dashboard_memory import DashboardMemory
from broadcaster.store.models import UserRow
from broadcaster.web.context import Web, district_only, redirect, render, require_user, web_of
from broadcaster.web.pages.schedule import say

router = APIRouter()

# How often the page asks for the on-air block again (the daemon beats every few seconds).
REFRESH_MS = 5000


def memory_of(web: Web) -> DashboardMemory:
    """The dashboard's memory in this console process (chain verdict per head, frame lengths)."""
    memory: DashboardMemory | None = getattr(web, "_dashboard_memory", None)
    if memory is None:
        app = web.app
        memory = DashboardMemory(witness=app.witness, frame_of=app.frame, speak=app.speak_frame)
        web._dashboard_memory = memory  # type: ignore[attr-defined]
    return memory


def _dashboard(
    request: Request, user: UserRow, *, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    web = web_of(request)
    with web.tx() as s:
        data = overview.dashboard(
            s, web.settings.station, actor=user.name, now=web.now(), memory=memory_of(web)
        )
    context = {"d": data, "live": data.live, "refresh_ms": REFRESH_MS, "errors": errors or {}}
    return render(request, "overview/index.html", context, status=status)


@router.get("/", include_in_schema=False)
def dashboard(request: Request) -> Response:
    """The dashboard every signed-in user sees first (at a district server: the wards)."""
    user = require_user(request)
    if district_only(web_of(request)):
        return redirect("/huyen")
    return _dashboard(request, user)


@router.post("/nhat-ky/ky-moc", include_in_schema=False)
def sign_head(request: Request, reason: Annotated[str, Form()] = "") -> Response:
    """A leader, having checked the rows after the last signed head, signs a new head (`log sign`)."""
    user = require_user(request)
    web = web_of(request)
    try:
        with web.tx() as s:
            head = chain.sign_station_head(
                s, web.app.witness, web.settings.station, actor=user.name, reason=reason, now=web.now()
            )
    except (InputError, InvalidStateError) as exc:
        return _dashboard(request, user, errors={"reason": say(exc)}, status=400)
    return redirect("/#chuoi-nhat-ky", f"Đã ký mốc nhật ký: {head.rows} dòng.")


@router.get("/tong-quan/dang-phat", include_in_schema=False)
def live_block(request: Request) -> Response:
    """The on-air block as JSON: its HTML for the page to swap in, and the facts for any other reader."""
    user = require_user(request)
    web = web_of(request)
    with web.tx() as s:
        live = overview.live(s, web.settings.station, actor=user.name, now=web.now(), memory=memory_of(web))
    html = web.templates.get_template("overview/_live.html").render(live=live)
    daemon = live.daemon

    def programme(slot: overview.Slot | None) -> dict[str, object] | None:
        if slot is None:
            return None
        return {
            "start": slot.start.isoformat(),
            "session": slot.name,
            "items": [{"airing": i.airing_id, "title": i.title} for i in slot.items],
        }

    return JSONResponse(
        {
            "html": html,
            "state": daemon.state,
            "state_label": daemon.label,
            "heartbeat_at": daemon.heartbeat_at.isoformat() if daemon.heartbeat_at else None,
            "last_contact": daemon.last_contact,
            "on_air": programme(live.on_air),
            "next": programme(live.next),
        },
        headers={"Cache-Control": "no-store"},
    )
