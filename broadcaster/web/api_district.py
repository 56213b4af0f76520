"""The JSON API a station's daemon talks to at its district server: the head held, and pushes of rows.

Only a station's own token is accepted (services/district_intake.py checks it). Included under /api by
broadcaster.web.api.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from broadcaster import airlog
from broadcaster.services import district_intake
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
