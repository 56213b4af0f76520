"""The JSON API a station's daemon talks to at its district server: its log, audit events and heartbeat up;
bulletins and schedule changes down.

Only a station's own token is accepted (services/district_intake.py checks it). Included under /api by
broadcaster.web.api.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from broadcaster import airlog
from broadcaster.services import district_audit, district_changes, district_dispatch, district_intake
from broadcaster.services.district_port import AuditEvent, ChangeReport, Delivery
from broadcaster.web.api_auth import Caller
from broadcaster.web.context import web_of

router = APIRouter()


class LinkIn(BaseModel):
    """One as-run row as the station forwards it: seq, hashes, and the canonical content they cover."""

    seq: int = Field(ge=1)
    prev_hash: str = Field(min_length=64, max_length=64)
    row_hash: str = Field(min_length=64, max_length=64)
    content: str = Field(max_length=20_000)
    row_id: int | None = Field(default=None, description="the station's own id of the row (not hashed)")


class PushIn(BaseModel):
    """A batch of a station's rows in seq order, with the head it signed last (if any)."""

    station: str = Field(description="the station's code")
    links: list[LinkIn] = Field(max_length=district_intake.MAX_BATCH)
    signed_head: dict[str, Any] | None = None


class AckOut(BaseModel):
    """The head the district now holds for the station, what the push added, and any break found."""

    rows: int
    head_hash: str
    accepted: int
    repeated: int
    broken: bool
    reason: str


def _out(ack: district_intake.Ack) -> AckOut:
    return AckOut(
        rows=ack.rows,
        head_hash=ack.head_hash,
        accepted=ack.accepted,
        repeated=ack.repeated,
        broken=ack.broken,
        reason=ack.reason,
    )


@router.get("/district/head", summary="The station's forwarded chain as the district holds it")
def head(request: Request, caller: Caller, station: str = Query(description="the station's code")) -> AckOut:
    """Rows and last hash held here: the station pushes what comes after."""
    web = web_of(request)
    with web.tx() as s:
        return _out(district_intake.held_head(s, caller, station, now=web.now()))


@router.post("/district/asrun", summary="Push a station's as-run rows (its own token only)")
def push(request: Request, caller: Caller, body: PushIn) -> AckOut:
    """Keep the rows that continue the station's chain; flag the first that does not."""
    web = web_of(request)
    links = [airlog.ChainLink(k.seq, k.prev_hash, k.row_hash, k.content, k.row_id) for k in body.links]
    with web.tx() as s:
        ack = district_intake.accept_links(
            s, caller, body.station, links, signed_head=body.signed_head, now=web.now()
        )
    return _out(ack)


class HeartbeatIn(BaseModel):
    """How the station is: daemon state, alerts, last airing, free disk, clock offset (plain values)."""

    station: str
    beat: dict[str, Any]


class Done(BaseModel):
    """An acknowledgement with nothing more to say."""

    ok: bool = True


@router.post("/district/heartbeat", summary="The station's health, as its daemon reports it")
def heartbeat(request: Request, caller: Caller, body: HeartbeatIn) -> Done:
    """Keep the station's last heartbeat beside its forwarded chain."""
    web = web_of(request)
    with web.tx() as s:
        district_intake.accept_heartbeat(s, caller, body.station, body.beat, now=web.now())
    return Done()


class CampaignOut(BaseModel):
    """The campaign of a district bulletin as the district holds it for the ward."""

    code: str
    title: str
    plan_ref: str
    period_start: str
    period_end: str
    target: dict[str, float | int | None]


class IncomingOut(BaseModel):
    """A bulletin the district sent the station (approved there): text, spoken text, audio hash, level."""

    id: int
    title: str
    text: str
    spoken_text: str
    level: str
    valid_until: datetime | None
    audio_sha256: str
    audio_ext: str
    duration_s: float
    approved_by: str
    sent_at: datetime
    campaign: CampaignOut


class InboxOut(BaseModel):
    """What the district sent the station and has not heard back about, oldest first."""

    items: list[IncomingOut]


@router.get("/district/inbox", summary="Bulletins the district sent this station (its own token only)")
def inbox(
    request: Request, caller: Caller, station: str = Query(description="the station's code")
) -> InboxOut:
    """The station polls this every few seconds; an emergency is in it as soon as it is sent."""
    web = web_of(request)
    with web.tx() as s:
        items = district_dispatch.inbox(s, caller, station, now=web.now())
    return InboxOut(
        items=[IncomingOut(**{**asdict(i), "campaign": CampaignOut(**asdict(i.campaign))}) for i in items]
    )


@router.get("/district/audio/{sha256}", summary="A district bulletin's audio by its hash")
def audio(request: Request, caller: Caller, sha256: str) -> FileResponse:
    """Only for a station the bulletin was sent to; the station checks the bytes against the hash."""
    web = web_of(request)
    with web.tx() as s:
        path = district_dispatch.audio_file(s, caller, sha256)
    return FileResponse(path, media_type="application/octet-stream")


class DeliveryIn(BaseModel):
    """What the station did with one bulletin."""

    dispatch_id: int
    state: str
    note: str = Field(default="", max_length=4000)
    planned_start: datetime | None = None


class ReportIn(BaseModel):
    """The station's reports on the bulletins it took in."""

    station: str
    deliveries: list[DeliveryIn] = Field(max_length=district_dispatch.INBOX_LIMIT * 5)


@router.post("/district/inbox/report", summary="What the station did with the district's bulletins")
def report(request: Request, caller: Caller, body: ReportIn) -> Done:
    """Only the station's own bulletins change; anything addressed to another ward is left alone."""
    web = web_of(request)
    deliveries = [Delivery(d.dispatch_id, d.state, d.note, d.planned_start) for d in body.deliveries]
    with web.tx() as s:
        district_dispatch.report(s, caller, body.station, deliveries, now=web.now())
    return Done()


class Held(BaseModel):
    """The highest audit event id of the station the district holds."""

    held: int


class AuditEventIn(BaseModel):
    """One audit event as the station keeps it."""

    id: int
    at: datetime
    actor: str = Field(max_length=64)
    action: str = Field(max_length=64)
    object_type: str = Field(max_length=32)
    object_id: str = Field(default="", max_length=64)
    detail: dict[str, Any] = Field(default_factory=dict)


class AuditIn(BaseModel):
    """A batch of the station's audit events, in id order."""

    station: str
    events: list[AuditEventIn] = Field(max_length=district_audit.MAX_AUDIT_BATCH)


@router.get("/district/audit", summary="How far the district holds the station's audit events")
def audit_head(
    request: Request, caller: Caller, station: str = Query(description="the station's code")
) -> Held:
    """The station sends the events after this id."""
    web = web_of(request)
    with web.tx() as s:
        return Held(held=district_audit.audit_head(s, caller, station))


@router.post("/district/audit", summary="Push a station's audit events (its own token only)")
def push_audit(request: Request, caller: Caller, body: AuditIn) -> Held:
    """Kept once each by the station's own event id; a batch sent again adds nothing."""
    web = web_of(request)
    events = [
        AuditEvent(e.id, e.at, e.actor, e.action, e.object_type, e.object_id, e.detail) for e in body.events
    ]
    with web.tx() as s:
        return Held(held=district_audit.accept_audit(s, caller, body.station, events, now=web.now()))


class ChangeOut(BaseModel):
    """A change the district made to one of the station's sessions."""

    id: int
    session_code: str
    values: dict[str, Any]
    created_by: str
    created_at: datetime


class ChangesOut(BaseModel):
    """The schedule changes sent to the station and not reported on yet."""

    items: list[ChangeOut]


@router.get("/district/changes", summary="Schedule changes the district made for this station")
def changes(
    request: Request, caller: Caller, station: str = Query(description="the station's code")
) -> ChangesOut:
    """The station applies each through its own settings and reports back."""
    web = web_of(request)
    with web.tx() as s:
        items = district_changes.pending_changes(s, caller, station)
    return ChangesOut(items=[ChangeOut(**asdict(c)) for c in items])


class ChangeReportIn(BaseModel):
    """What the station did with one change."""

    change_id: int
    state: str
    note: str = Field(default="", max_length=4000)


class ChangeReportsIn(BaseModel):
    """The station's reports on the schedule changes it took in."""

    station: str
    reports: list[ChangeReportIn] = Field(max_length=200)


@router.post("/district/changes/report", summary="What the station did with the district's schedule changes")
def report_changes(request: Request, caller: Caller, body: ChangeReportsIn) -> Done:
    """An applied change is made to the district's copy of the station's schedule too."""
    web = web_of(request)
    reports = [ChangeReport(r.change_id, r.state, r.note) for r in body.reports]
    with web.tx() as s:
        district_changes.report_changes(s, caller, body.station, reports, speak=web.app.speak, now=web.now())
    return Done()
