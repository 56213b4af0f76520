"""The station daemon as the console sees it: its heartbeat row read as a state and a last contact."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import labels
from broadcaster.store.models import DaemonLeaseRow, StationRow


@dataclass(frozen=True)
class DaemonView:
    """The station daemon as its heartbeat row tells it; `state` is "offline" once the lease expired."""

    state: str  # "idle", "on_air", "stopped", "offline" or "absent" (no daemon ever ran for the station)
    host: str = ""
    pid: int | None = None
    started_at: datetime | None = None
    heartbeat_at: datetime | None = None
    on_air_start: datetime | None = None
    backlog: int = 0
    seconds_since: float | None = None

    @property
    def online(self) -> bool:
        """True while the heartbeat is fresh (idle or on air)."""
        return self.state in ("idle", "on_air")

    @property
    def label(self) -> str:
        """The state in Vietnamese."""
        return labels.daemon_state(self.state, capital=True)

    @property
    def last_contact(self) -> str:
        """ "cách đây 5 giây", or empty when the daemon never ran."""
        return "" if self.seconds_since is None else labels.ago(self.seconds_since)


def daemon_view(session: Session, station: StationRow, now: datetime) -> DaemonView:
    """The daemon's heartbeat row read as a state; an expired lease is "offline"."""
    row = session.scalar(select(DaemonLeaseRow).where(DaemonLeaseRow.station_id == station.id))
    if row is None:
        return DaemonView("absent")
    state = row.state
    if state != "stopped" and row.expires_at <= now:
        state = "offline"
    return DaemonView(
        state=state,
        host=row.host,
        pid=row.pid,
        started_at=row.started_at,
        heartbeat_at=row.heartbeat_at,
        on_air_start=row.on_air_start if state == "on_air" else None,
        backlog=row.backlog,
        seconds_since=max(0.0, (now - row.heartbeat_at).total_seconds()),
    )
