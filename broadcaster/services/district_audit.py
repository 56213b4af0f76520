"""The district server's side of the stations' audit events: each station's events kept once, in order.

A station pushes its events in id order (`forwarding.sync_audit`); its own event id is the stable key,
so a batch sent again after a lost answer adds nothing. Only a station's own token may push its events
or read how far the district holds them. The district console reads them per ward.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broadcaster.domain import Role
from broadcaster.services.api_access import ApiCaller
from broadcaster.services.district_intake import pushing_station, touch
from broadcaster.services.district_port import AuditEvent
from broadcaster.services.users import require_role
from broadcaster.store.models import ForwardedAuditRow, StationRow

# The most events one push carries (the API refuses more), and the longest detail text kept per value.
MAX_AUDIT_BATCH = 500
DETAIL_TEXT = 500


def _held(session: Session, station_id: int) -> int:
    found = session.scalar(
        select(func.max(ForwardedAuditRow.station_event_id)).where(ForwardedAuditRow.station_id == station_id)
    )
    return int(found or 0)


def audit_head(session: Session, caller: ApiCaller, station_code: str) -> int:
    """The highest event id of the station held here (its own token only)."""
    return _held(session, pushing_station(session, caller, station_code).id)


def _detail(detail: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, value in list(detail.items())[:30]:
        if not isinstance(value, int | float | bool | None):
            value = str(value)[:DETAIL_TEXT]
        kept[str(key)[:64]] = value
    return kept


def accept_audit(
    session: Session, caller: ApiCaller, station_code: str, events: Sequence[AuditEvent], *, now: datetime
) -> int:
    """Keep the events not held yet (once each, by the station's id); the highest id held after them."""
    station = pushing_station(session, caller, station_code)
    touch(session, station, now)
    ids = sorted({e.id for e in events})
    have = set(
        session.scalars(
            select(ForwardedAuditRow.station_event_id).where(
                ForwardedAuditRow.station_id == station.id, ForwardedAuditRow.station_event_id.in_(ids)
            )
        )
    )
    fresh = {e.id: e for e in events if e.id not in have}
    session.add_all(
        ForwardedAuditRow(
            station_id=station.id,
            station_event_id=e.id,
            at=e.at,
            actor=e.actor[:64],
            action=e.action[:64],
            object_type=e.object_type[:32],
            object_id=e.object_id[:64],
            detail=_detail(e.detail),
            received_at=now,
        )
        for e in sorted(fresh.values(), key=lambda e: e.id)
    )
    session.flush()
    return _held(session, station.id)


@dataclass(frozen=True)
class WardEvent:
    """One of a ward's audit events as the district console lists it."""

    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    detail: dict[str, Any]


def ward_events(
    session: Session, station: StationRow, *, actor: str | None, limit: int = 50
) -> list[WardEvent]:
    """A ward's latest audit events held here, newest first (district leader or inspector)."""
    require_role(session, actor, Role.INSPECTOR, Role.LEADER)
    rows = session.scalars(
        select(ForwardedAuditRow)
        .where(ForwardedAuditRow.station_id == station.id)
        .order_by(ForwardedAuditRow.station_event_id.desc())
        .limit(limit)
    )
    return [
        WardEvent(r.at, r.actor, r.action, r.object_type, r.object_id, dict(r.detail or {})) for r in rows
    ]
