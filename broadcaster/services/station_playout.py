"""The daemon's view of the database: upcoming sessions, building programmes, and writing as-run rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import airlog
from broadcaster.airlog import AsRunEntry
from broadcaster.domain import Priority
from broadcaster.playout.asrun import ItemSpan
from broadcaster.services import audit
from broadcaster.services.programmes import BuiltProgramme, unbuilt_items
from broadcaster.services.queue import active_airings
from broadcaster.store.db import transaction
from broadcaster.store.models import AiringRow, AsRunRow


@dataclass(frozen=True)
class PlannedSession:
    """A session start with queued airings; `signature` changes whenever its content changes."""

    planned_start: datetime
    session_code: str
    signature: tuple[tuple[int, int], ...]
    priority: Priority


class StationPlayout:
    """Database-backed source of programmes for one station's daemon."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        station_id: int,
        builder: Callable[[Session, datetime], BuiltProgramme | None],
        recorded_by: str = "daemon",
    ) -> None:
        self._sessions = sessions
        self.station_id = station_id
        self._builder = builder
        self._recorded_by = recorded_by

    def pending(self, start: datetime, end: datetime) -> list[PlannedSession]:
        """Sessions in [start, end) that have queued airings not yet in the as-run log."""
        with transaction(self._sessions) as session:
            airings = active_airings(session, self.station_id, start, end)
            done = self._logged(session, [a.id for a in airings])
        grouped: dict[datetime, list[AiringRow]] = {}
        for a in airings:
            if a.id not in done:
                grouped.setdefault(a.planned_start, []).append(a)
        out = []
        for when, rows in sorted(grouped.items()):
            top = max((Priority(r.priority) for r in rows), key=list(Priority).index)
            out.append(
                PlannedSession(when, rows[0].session_code, tuple((r.id, r.revision_id) for r in rows), top)
            )
        return out

    @staticmethod
    def _logged(session: Session, airing_ids: Sequence[int]) -> set[int]:
        if not airing_ids:
            return set()
        q = select(AsRunRow.airing_id).where(AsRunRow.airing_id.in_(airing_ids))
        return {i for i in session.scalars(q) if i is not None}

    def build(self, planned_start: datetime) -> BuiltProgramme | None:
        """Render what is missing and assemble the programme of one session."""
        with transaction(self._sessions) as session:
            return self._builder(session, planned_start)

    def record(self, entries: Sequence[AsRunEntry], now: datetime) -> list[int]:
        """Append as-run rows (one transaction); returns their ids."""
        with transaction(self._sessions) as session:
            rows = [
                airlog.append(session, self.station_id, e, recorded_by=self._recorded_by, now=now)
                for e in entries
            ]
            return [r.id for r in rows]

    def requeue(self, airing_ids: Sequence[int], planned_start: datetime, now: datetime) -> list[int]:
        """Queue these airings' revisions again, in the same order, as one programme at `planned_start`."""
        with transaction(self._sessions) as session:
            made = []
            for position, airing_id in enumerate(airing_ids):
                old = session.get_one(AiringRow, airing_id)
                row = AiringRow(
                    station_id=old.station_id,
                    session_code=old.session_code,
                    planned_start=planned_start,
                    bulletin_id=old.bulletin_id,
                    revision_id=old.revision_id,
                    priority=old.priority,
                    position=position,
                    queued_by=old.queued_by,
                    queued_at=now,
                )
                session.add(row)
                session.flush()
                audit.record(
                    session,
                    actor=self._recorded_by,
                    action="airing.resume",
                    object_type="airing",
                    object_id=row.id,
                    now=now,
                    resumes=old.id,
                    planned_start=planned_start.isoformat(),
                )
                made.append(row.id)
            return made

    def unbuilt(self, planned_start: datetime) -> list[ItemSpan]:
        """The not-yet-logged items of a session, described without building it (to log it as missed)."""
        with transaction(self._sessions) as session:
            rows = active_airings(
                session, self.station_id, planned_start, planned_start + timedelta(microseconds=1)
            )
            done = self._logged(session, [a.id for a in rows])
            return unbuilt_items(session, [r for r in rows if r.id not in done])
