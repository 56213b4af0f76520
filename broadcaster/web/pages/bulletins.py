"""Bản tin: the list with filters, the editor with its spoken preview and *Nghe thử*, recordings
(uploaded or from the browser's microphone), submitting, retiring, and one bulletin's page."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse, Response

from broadcaster.errors import AudioError, InputError, InvalidStateError
from broadcaster.services import bulletin_audio, bulletin_forms, bulletin_text, bulletin_views, bulletins
from broadcaster.services.media import Recording
from broadcaster.services.stations import find_station
from broadcaster.web.context import Web, redirect, render, require_user, web_of

router = APIRouter()
# Content-addressed files never change under their name; a revision's audio can (a better voice later).
_FOREVER = "private, max-age=31536000, immutable"
_REVALIDATE = "private, no-cache"


def _station_id(web: Web) -> int:
    with web.tx() as s:
        return find_station(s, web.settings.station).id


def _error(exc: InputError | InvalidStateError | AudioError, default: str) -> dict[str, str]:
    name = exc.field if isinstance(exc, InputError) and exc.field else default
    return {name: exc.one_line()}


@router.get("/ban-tin", include_in_schema=False)
def list_page(request: Request, chien_dich: str = "", trang_thai: str = "", tac_gia: str = "") -> Response:
    """Every bulletin of the station, filtered by campaign, status and author."""
    user = require_user(request)
    web = web_of(request)
    station_id = _station_id(web)
    chosen = {"campaign": chien_dich, "status": trang_thai, "author": tac_gia}
    errors: dict[str, str] = {}
    with web.tx() as s:
        try:
            page = bulletin_views.bulletin_list(s, station_id, actor=user.name, **chosen)
        except InputError as exc:
            errors = _error(exc, "campaign")
            page = bulletin_views.bulletin_list(s, station_id, actor=user.name)
    context = {"page": page, "chosen": chosen, "errors": errors}
    return render(request, "bulletins/list.html", context, status=400 if errors else 200)


def _editor_page(
    request: Request,
    bulletin_id: int | None,
    values: dict[str, str] | None = None,
    *,
    errors: dict[str, str] | None = None,
    preview: bulletin_text.SpokenPreview | None = None,
    listening: bulletin_audio.Listening | None = None,
    status: int = 200,
) -> Response:
    """The editor (new or existing bulletin), with what the officer typed kept."""
    user = require_user(request)
    web = web_of(request)
    station_id = _station_id(web)
    offer = web.app.voices
    with web.tx() as s:
        form = bulletin_views.editor(s, station_id, actor=user.name, bulletin_id=bulletin_id, offer=offer)
    typed = values or {
        "title": form.title,
        "campaign": form.campaign,
        "agency": form.agency,
        "text": form.text,
        "voice": form.voice,
        "speed": form.speed,
    }
    # What was typed stays chosen, even a voice the list does not hold (its error says so beside it).
    voices = bulletin_views.voice_choices(offer, typed.get("voice", form.voice))
    if preview is None and typed["text"].strip():
        app = web.app
        preview = bulletin_text.spoken_preview(typed["text"], app.normalizer, app.config.speech.max_chars)
    context: dict[str, Any] = {
        "form": form,
        "values": typed,
        "errors": errors or {},
        "preview": preview,
        "listening": listening,
        "voices": voices,
        "action": f"/ban-tin/{bulletin_id}/sua" if bulletin_id else "/ban-tin/moi",
    }
    return render(request, "bulletins/editor.html", context, status=status)


def _listen(web: Web, text: str, voice: str, speed: str) -> bulletin_audio.Listening:
    app = web.app
    return bulletin_audio.preview_text(
        text,
        speak=app.speak,
        renderer=app.renderer,
        settings=app.media_settings(),
        voice=voice,
        speed=speed,
        offer=app.voices,
    )


def _preview_or_listen(
    request: Request, bulletin_id: int | None, values: dict[str, str], action: str
) -> Response:
    """The editor's 'Xem lời đọc' and 'Nghe thử' buttons without JavaScript: nothing is stored."""
    web = web_of(request)
    app = web.app
    preview = bulletin_text.spoken_preview(values["text"], app.normalizer, app.config.speech.max_chars)
    if preview.error:
        return _editor_page(
            request, bulletin_id, values, errors={"text": preview.error}, preview=preview, status=400
        )
    listening = None
    if action == "listen":
        try:
            listening = _listen(web, values["text"], values["voice"], values["speed"])
        except (InputError, AudioError) as exc:
            return _editor_page(request, bulletin_id, values, errors=_error(exc, "text"), status=400)
    return _editor_page(request, bulletin_id, values, preview=preview, listening=listening)


@router.get("/ban-tin/moi", include_in_schema=False)
def new_page(request: Request) -> Response:
    """The form for a new bulletin (officers)."""
    return _editor_page(request, None)


@router.post("/ban-tin/moi", include_in_schema=False)
def create(
    request: Request,
    title: Annotated[str, Form()] = "",
    campaign: Annotated[str, Form()] = "",
    agency: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    voice: Annotated[str, Form()] = "",
    speed: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "save",
    audio: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Save a new bulletin as a draft, from its text (read in the voice and at the speed chosen) or
    (action "upload") from a recording."""
    user = require_user(request)
    web = web_of(request)
    values = {"title": title, "campaign": campaign, "agency": agency, "text": text, "voice": voice}
    values["speed"] = speed
    if action in ("preview", "listen"):
        return _preview_or_listen(request, None, values, action)
    station_id = _station_id(web)
    upload = action == "upload"
    try:
        with _uploaded(web, audio, upload) as recording, web.tx() as s:
            row = bulletin_forms.write(
                s,
                station_id,
                campaign=campaign,
                title=title,
                agency=agency,
                text=text,
                actor=user.name,
                now=web.now(),
                speak=web.app.speak,
                recording=recording,
                voice=voice,
                speed=speed,
                offer=web.app.voices,
            )
            new_id = row.id
    except (InputError, AudioError) as exc:
        errors = _error(exc, "audio" if upload else "text")
        return _editor_page(request, None, values, errors=errors, status=400)
    kind = "bản ghi âm" if upload else "bản nháp"
    return redirect(f"/ban-tin/{new_id}", f"Đã lưu {kind}. Nghe lại rồi gửi duyệt.")


@contextmanager
def _uploaded(web: Web, audio: UploadFile | None, wanted: bool) -> Iterator[Recording | None]:
    """The uploaded recording, normalised, when the form asked for it (placed only if the block succeeds)."""
    if not wanted:
        yield None
        return
    app = web.app
    with bulletin_audio.uploaded(
        audio.file if audio is not None else io.BytesIO(),
        (audio.filename or "") if audio is not None else "",
        app.media_settings(),
        scratch=app.config.home / "tmp" / "uploads",
        max_duration_s=app.config.audio.max_recording_minutes * 60,
    ) as recording:
        yield recording


@router.post("/ban-tin/doc-thu", include_in_schema=False)
def spoken_json(request: Request, text: Annotated[str, Form()] = "") -> Response:
    """The editor's live preview: the spoken text, marked rewrites as HTML, and the rewrites."""
    require_user(request)
    web = web_of(request)
    app = web.app
    preview = bulletin_text.spoken_preview(text, app.normalizer, app.config.speech.max_chars)
    html = web.templates.get_template("bulletins/spoken.html").render(preview=preview)
    return JSONResponse(
        {
            "spoken": preview.spoken,
            "error": preview.error,
            "html": html,
            "rewrites": [
                {"original": o, "spoken": sp, "rule": rule} for o, sp, rule in preview.explained.rewrites
            ],
        }
    )


@router.post("/ban-tin/nghe-thu", include_in_schema=False)
def listen_json(
    request: Request,
    text: Annotated[str, Form()] = "",
    voice: Annotated[str, Form()] = "",
    speed: Annotated[str, Form()] = "",
) -> Response:
    """*Nghe thử* for the text being written, in the voice and at the speed chosen beside it: renders
    the air audio and says where to fetch it."""
    require_user(request)
    web = web_of(request)
    try:
        heard = _listen(web, text, voice, speed)
    except (InputError, AudioError) as exc:
        field = exc.field if isinstance(exc, InputError) else None
        return JSONResponse({"error": exc.one_line(), "field": field or "text"}, status_code=400)
    return JSONResponse(
        {
            "url": f"/ban-tin/nghe-thu/{heard.key}",
            "duration_s": round(heard.duration_s, 2),
            "engine": heard.engine,
            "fallback": heard.fallback,
        }
    )


@router.get("/ban-tin/nghe-thu/{key}", include_in_schema=False)
def preview_file(request: Request, key: str) -> Response:
    """A preview render, by its content hash."""
    require_user(request)
    path = bulletin_audio.preview_file(web_of(request).app.media_settings(), key)
    media_type = bulletin_audio.media_type(path)
    return FileResponse(path, media_type=media_type, headers={"Cache-Control": _FOREVER})


@router.get("/ban-tin/{bulletin_id:int}", include_in_schema=False)
def detail_page(request: Request, bulletin_id: int) -> Response:
    """One bulletin: text, spoken text, audio, status, airings and its history with differences."""
    user = require_user(request)
    web = web_of(request)
    with web.tx() as s:
        page = bulletin_views.detail(
            s, bulletin_id, actor=user.name, now=web.now(), normalizer=web.app.normalizer
        )
    return render(request, "bulletins/detail.html", {"b": page, "errors": {}})


@router.get("/ban-tin/{bulletin_id:int}/am-thanh/{number:int}", include_in_schema=False)
def revision_audio(request: Request, bulletin_id: int, number: int) -> Response:
    """The air audio of one revision (made now if it has none yet)."""
    user = require_user(request)
    web = web_of(request)
    app = web.app
    with web.tx() as s:
        heard = bulletin_audio.revision_audio(
            s,
            bulletin_id,
            number,
            actor=user.name,
            renderer=app.renderer,
            settings=app.media_settings(),
            now=web.now(),
        )
    return FileResponse(heard.path, media_type=heard.media_type, headers={"Cache-Control": _REVALIDATE})


@router.get("/ban-tin/{bulletin_id:int}/sua", include_in_schema=False)
def edit_page(request: Request, bulletin_id: int) -> Response:
    """The editor for an existing bulletin (officers)."""
    return _editor_page(request, bulletin_id)


@router.post("/ban-tin/{bulletin_id:int}/sua", include_in_schema=False)
def save(
    request: Request,
    bulletin_id: int,
    title: Annotated[str, Form()] = "",
    campaign: Annotated[str, Form()] = "",
    agency: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    voice: Annotated[str, Form()] = "",
    speed: Annotated[str, Form()] = "",
    action: Annotated[str, Form()] = "save",
    audio: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Save the edit: a new revision when the text, voice or speed changed, or (action "upload") from
    a recording."""
    user = require_user(request)
    web = web_of(request)
    values = {"title": title, "campaign": campaign, "agency": agency, "text": text, "voice": voice}
    values["speed"] = speed
    if action in ("preview", "listen"):
        return _preview_or_listen(request, bulletin_id, values, action)
    upload = action == "upload"
    try:
        with _uploaded(web, audio, upload) as recording, web.tx() as s:
            if recording is not None:
                edited = bulletin_forms.record(
                    s, bulletin_id, recording, actor=user.name, now=web.now(), speak=web.app.speak
                )
                saved = bulletin_forms.Saved(edited.revision.number, False, edited.withdrawn)
            else:
                saved = bulletin_forms.save(
                    s,
                    bulletin_id,
                    campaign=campaign,
                    title=title,
                    agency=agency,
                    text=text,
                    actor=user.name,
                    now=web.now(),
                    speak=web.app.speak,
                    voice=voice,
                    speed=speed,
                    offer=web.app.voices,
                )
    except (InputError, InvalidStateError, AudioError) as exc:
        errors = _error(exc, "audio" if upload else "text")
        return _editor_page(request, bulletin_id, values, errors=errors, status=400)
    message = (
        f"Đã lưu phiên bản {saved.revision}; cần gửi duyệt lại." if saved.revision else "Đã lưu thay đổi."
    )
    if saved.withdrawn:
        message += f" Đã gỡ {len(saved.withdrawn)} lượt phát sắp tới khỏi lịch."
    return redirect(f"/ban-tin/{bulletin_id}", message)


@router.post("/ban-tin/{bulletin_id:int}/gui-duyet", include_in_schema=False)
def submit(request: Request, bulletin_id: int) -> Response:
    """Send the latest revision to the leader."""
    user = require_user(request)
    web = web_of(request)
    try:
        with web.tx() as s:
            bulletins.submit(s, bulletin_id, actor=user.name, now=web.now())
    except InvalidStateError as exc:
        return redirect(f"/ban-tin/{bulletin_id}", exc.one_line(), "bad")
    return redirect(f"/ban-tin/{bulletin_id}", "Đã gửi lãnh đạo duyệt.")


@router.post("/ban-tin/{bulletin_id:int}/ngung", include_in_schema=False)
def retire(request: Request, bulletin_id: int) -> Response:
    """Stop the bulletin: it is never queued again and its future airings leave the plan."""
    user = require_user(request)
    web = web_of(request)
    try:
        with web.tx() as s:
            done = bulletins.retire(s, bulletin_id, actor=user.name, now=web.now())
            withdrawn = len(done.withdrawn)
    except InvalidStateError as exc:
        return redirect(f"/ban-tin/{bulletin_id}", exc.one_line(), "bad")
    extra = f" Đã gỡ {withdrawn} lượt phát sắp tới khỏi lịch." if withdrawn else ""
    return redirect(f"/ban-tin/{bulletin_id}", "Đã ngừng phát bản tin." + extra)
