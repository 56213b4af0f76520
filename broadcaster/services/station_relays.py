"""The station's relays for the daemon (`playout.relay_chore.RelaySource`): the sessions' relays not yet in
the as-run log, the allowed-hours rule, and the log itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import airlog, planning
from broadcaster.domain import AsRunEntry, Priority, RelayOccurrence
from broadcaster.errors import PlanningError
from broadcaster.planning.calendar import local_day, station_zone
from broadcaster.services.stations import station_domain
from broadcaster.store.db import transaction
from broadcaster.store.models import AiringRow, AsRunRow, StationRow

RELAY_TITLE = "Tiếp sóng: "


class StationRelays:
    """One station's relays, read from its sessions; as-run rows written like the daemon's own."""

    def __init__(self, sessions: sessionmaker[Session], station_id: int, now: Callable[[], datetime]) -> None:
        self._sessions = sessions
        self._station_id = station_id
        self._now = now

    def upcoming(self, start: datetime, end: datetime) -> list[RelayOccurrence]:
        """Relays starting in [start, end) that the as-run log does not hold yet."""
        with transaction(self._sessions) as session:
            station = session.get(StationRow, self._station_id)
            assert station is not None
            domain = station_domain(session, station)
            zone = station_zone(domain)
            first = local_day(start, zone) - timedelta(days=1)
            found = [
                r
                for r in planning.relay_occurrences(domain, first, local_day(end, zone))
                if start <= r.start < end
            ]
            if not found:
                return []
            logged = set(
                session.execute(
                    select(AsRunRow.session_code, AsRunRow.planned_start).where(
                        AsRunRow.station_id == self._station_id,
                        AsRunRow.bulletin_id.is_(None),
                        AsRunRow.title.startswith(RELAY_TITLE),
                        AsRunRow.planned_start.in_([r.start for r in found]),
                    )
                ).all()
            )
        return [r for r in found if (r.session_code, r.start) not in logged]

    def allowed(self, relay: RelayOccurrence) -> str:
        """Empty if the relay lies within the station's allowed hours, else why not."""
        with transaction(self._sessions) as session:
            station = session.get(StationRow, self._station_id)
            assert station is not None
            domain = station_domain(session, station)
        try:
            planning.check_allowed(domain, relay.start, relay.length, Priority.NORMAL)
        except PlanningError as exc:
            return exc.message
        return ""

    def emergency_since(self, start: datetime, until: datetime) -> bool:
        """Whether an emergency airing (not withdrawn) is planned in [start, until)."""
        with transaction(self._sessions) as session:
            found = session.scalar(
                select(AiringRow.id)
                .where(
                    AiringRow.station_id == self._station_id, AiringRow.priority == Priority.EMERGENCY.value
                )
                .where(AiringRow.cancelled_at.is_(None))
                .where(AiringRow.planned_start >= start, AiringRow.planned_start < until)
                .limit(1)
            )
        return found is not None

    def log(self, entry: AsRunEntry) -> None:
        """Append the relay's as-run row (signed and chained like every other)."""
        with transaction(self._sessions) as session:
            airlog.append(session, self._station_id, entry, recorded_by="daemon", now=self._now())
