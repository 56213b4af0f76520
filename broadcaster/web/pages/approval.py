"""Duyệt tin: the leader reads each submitted revision, its spoken text and listens to the audio that
will air, then approves exactly that (the render is made as the CLI makes it) or returns it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from broadcaster.errors import BroadcasterError, InputError, InvalidStateError
from broadcaster.services import approval_queue, bulletin_audio, bulletin_forms
from broadcaster.services.stations import find_station
from broadcaster.web.context import redirect, render, require_user, web_of

router = APIRouter()


def _queue_page(
    request: Request,
    *,
    errors: dict[str, str] | None = None,
    reasons: dict[int, str] | None = None,
    status: int = 200,
) -> Response:
    """The approval queue; `errors` keyed "ID" (the decision) or "ID-reason" (the reason field)."""
    user = require_user(request)
    web = web_of(request)
    app = web.app
    with web.tx() as s:
        station = find_station(s, web.settings.station)
        queue = approval_queue.approval_queue(
            s,
            station.id,
            actor=user.name,
            normalizer=app.normalizer,
            renderer=app.renderer,
            settings=app.media_settings(),
            now=web.now(),
        )
    context = {"queue": queue, "errors": errors or {}, "reasons": reasons or {}}
    return render(request, "approval/queue.html", context, status=status)


@router.get("/duyet", include_in_schema=False)
def queue_page(request: Request) -> Response:
    """Every revision waiting for approval (leaders decide; inspectors read)."""
    return _queue_page(request)


@router.post("/duyet/{bulletin_id:int}/duyet", include_in_schema=False)
def approve(request: Request, bulletin_id: int, seen: Annotated[str, Form()] = "") -> Response:
    """Approve the spoken text the leader saw (its hash), then make the air audio."""
    user = require_user(request)
    web = web_of(request)
    app = web.app
    try:
        with web.tx() as s:
            rev = bulletin_forms.approve_seen(s, bulletin_id, seen, actor=user.name, now=web.now())
            title, number = rev.bulletin.title, rev.number
    except InvalidStateError as exc:
        return _queue_page(request, errors={str(bulletin_id): exc.one_line()}, status=400)
    message = f"Đã duyệt «{title}», phiên bản {number}."
    try:
        # Its own transaction, as `bulletin approve` does: a failed render leaves the approval standing.
        with web.tx() as s:
            audio = bulletin_audio.render_approved(
                s, bulletin_id, app.renderer, app.media_settings(), now=web.now()
            )
    except BroadcasterError as exc:
        note = f" Chưa tạo được âm thanh ({exc.one_line()}); đài sẽ tạo lại trước giờ phát."
        return redirect("/duyet", message + note, "warn")
    voice = "bản ghi âm" if audio.kind == "recording" else f"giọng {audio.engine}"
    message += f" Âm thanh {audio.duration_s:.0f} giây, {voice}."
    if audio.fallback:
        message += " Lưu ý: đang dùng giọng dự phòng."
    return redirect("/duyet", message)


@router.post("/duyet/{bulletin_id:int}/tra-lai", include_in_schema=False)
def send_back(request: Request, bulletin_id: int, reason: Annotated[str, Form()] = "") -> Response:
    """Return the bulletin to its writer with the reason (shown on the bulletin's page)."""
    user = require_user(request)
    web = web_of(request)
    try:
        with web.tx() as s:
            row = bulletin_forms.send_back(s, bulletin_id, reason, actor=user.name, now=web.now())
            title = row.title
    except (InputError, InvalidStateError) as exc:
        key = f"{bulletin_id}-reason" if isinstance(exc, InputError) else str(bulletin_id)
        return _queue_page(request, errors={key: exc.one_line()}, reasons={bulletin_id: reason}, status=400)
    return redirect("/duyet", f"Đã trả lại «{title}» kèm lý do.")
