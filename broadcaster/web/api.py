"""The JSON API under /api/, over the same services as the pages, for machines and the district sync.

Every request carries `Authorization: Bearer bc_...`. A user's token acts with that user's role (the
services check it, as for the pages); a station's token reads its own station's bulletins, schedule
and log and changes nothing. Errors are JSON {"error": "...", "status": N} (server.py's handlers).
A change made through the API is audited twice: by the service (with the user) and as an
`api.request` naming the token by its id, never its secret.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request

from broadcaster.errors import BroadcasterError
from broadcaster.services import api_access, bulletins, media
from broadcaster.web import api_district, api_plan
from broadcaster.web.api_auth import Caller, change_as, local, read_as, zone_of
from broadcaster.web.api_models import (
    ApprovedOut,
    ApproveIn,
    BulletinDetailOut,
    BulletinIn,
    BulletinOut,
    ErrorOut,
)

if TYPE_CHECKING:
    from broadcaster.store.models import BulletinRow

_ERRORS = {code: {"model": ErrorOut} for code in (400, 401, 403, 404)}
router = APIRouter(prefix="/api", tags=["api"], responses=_ERRORS)  # type: ignore[arg-type]


def _bulletin(row: BulletinRow, zone: ZoneInfo) -> BulletinOut:
    rev = bulletins.latest_revision(row)
    return BulletinOut(
        id=row.id,
        title=row.title,
        campaign=row.campaign.code,
        campaign_title=row.campaign.title,
        agency=row.agency,
        status=row.status,  # type: ignore[arg-type]
        revision=rev.number,
        created_by=row.created_by,
        created_at=row.created_at.astimezone(zone),
    )


def _detail(row: BulletinRow, zone: ZoneInfo) -> BulletinDetailOut:
    rev = bulletins.latest_revision(row)
    revisions = [
        {
            "number": r.number,
            "author": r.author,
            "created_at": r.created_at.astimezone(zone),
            "approval": r.approval,
            "approved_by": r.approved_by,
            "approved_at": local(r.approved_at, zone),
            "spoken_sha256": r.spoken_sha256,
            "reject_reason": r.reject_reason,
            "recording": bool(r.source_audio),
            "voice": r.voice,
            "speed": r.speed,
        }
        for r in row.revisions
    ]
    return BulletinDetailOut.model_validate(
        {
            **_bulletin(row, zone).model_dump(),
            "text": rev.text,
            "spoken_text": rev.spoken_text,
            "spoken_sha256": rev.spoken_sha256,
            "revisions": revisions,
        }
    )


# --- bulletins -----------------------------------------------------------------------------------------


@router.get("/bulletins", summary="Bulletins of the station")
def list_bulletins(
    request: Request,
    caller: Caller,
    campaign: str | None = None,
    status: Literal["draft", "submitted", "approved", "rejected", "retired"] | None = None,
) -> list[BulletinOut]:
    """Bulletins, optionally of one campaign (code) and one status."""
    with read_as(request, caller) as (s, station, _):
        rows = bulletins.list_bulletins(s, station.id, campaign=campaign, status=status)
        return [_bulletin(r, zone_of(station)) for r in rows]


@router.get("/bulletins/{bulletin_id}", summary="One bulletin with its revisions")
def get_bulletin(request: Request, caller: Caller, bulletin_id: int) -> BulletinDetailOut:
    """A bulletin: the latest text, the spoken text and every revision."""
    with read_as(request, caller) as (s, station, _):
        return _detail(api_access.station_bulletin(s, station, bulletin_id), zone_of(station))


@router.post("/bulletins", status_code=201, summary="Write a bulletin (officer)")
def add_bulletin(request: Request, caller: Caller, body: BulletinIn) -> BulletinDetailOut:
    """An officer writes a new bulletin; it is a draft until submitted."""
    with change_as(request, caller) as (s, station, web, actor):
        row = bulletins.add(
            s,
            station_id=station.id,
            campaign_code=body.campaign,
            title=body.title,
            agency=body.agency,
            text=body.text,
            actor=actor,
            now=web.now(),
            speak=web.app.speak,
            voice=body.voice,
            speed=body.speed,
            offer=web.app.voices,
        )
        return _detail(row, zone_of(station))


@router.post("/bulletins/{bulletin_id}/submit", summary="Send a bulletin for approval (officer)")
def submit_bulletin(request: Request, caller: Caller, bulletin_id: int) -> BulletinDetailOut:
    """The officer sends the latest revision to the leader."""
    with change_as(request, caller) as (s, station, web, actor):
        api_access.station_bulletin(s, station, bulletin_id)
        row = bulletins.submit(s, bulletin_id, actor=actor, now=web.now())
        return _detail(row, zone_of(station))


@router.post("/bulletins/{bulletin_id}/approve", summary="Approve what will be heard (leader)")
def approve_bulletin(
    request: Request, caller: Caller, bulletin_id: int, body: ApproveIn | None = None
) -> ApprovedOut:
    """The leader approves the latest revision's spoken text; the air audio is made at once."""
    seen = body.spoken_sha256 if body else None
    with change_as(request, caller) as (s, station, web, actor):
        api_access.station_bulletin(s, station, bulletin_id)
        bulletins.approve(s, bulletin_id, actor=actor, now=web.now(), seen_sha256=seen)
    app, note, seconds = web.app, "", None
    try:
        with app.tx() as s:
            rev = bulletins.approved_revision(bulletins.get(s, bulletin_id))
            seconds = media.ensure_render(
                s, rev, app.renderer, app.media_settings(), now=web.now()
            ).duration_s
    except BroadcasterError as exc:
        note = f"Chưa tạo được âm thanh ({exc.one_line()}); việc duyệt vẫn có hiệu lực."
    with read_as(request, caller) as (s, station, _):
        detail = _detail(bulletins.get(s, bulletin_id), zone_of(station))
    return ApprovedOut(bulletin=detail, audio_ready=seconds is not None, audio_s=seconds, note=note)


router.include_router(api_plan.router)
router.include_router(api_district.router)
