"""What reading and changing the plan needs from the composition root (the App, or a cache in front of it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlalchemy.orm import Session

from broadcaster import planning
from broadcaster.store.models import RevisionRow, StationRow


class PlanTools(Protocol):
    """What reading and changing the plan needs from the composition root (the App satisfies it)."""

    def programme_shape(self, session: Session, station: StationRow) -> planning.ProgrammeShape:
        """Durations of the frame around a programme's items."""
        ...

    def duration_of(self, session: Session) -> Callable[[RevisionRow], float]:
        """Seconds of a revision's air audio (rendered if missing)."""
        ...


class ShapeMemory:
    """PlanTools that keep each station's programme shape a while (probing the tune costs ~80 ms a request).

    The shape depends on the configured frame and the station's ident, which change rarely; a changed
    ident is a new key at once, and anything else is read again after `ttl_s`.
    """

    def __init__(self, tools: PlanTools, monotonic: Callable[[], float], ttl_s: float = 300.0) -> None:
        self._tools = tools
        self._monotonic = monotonic
        self._ttl_s = ttl_s
        self._shapes: dict[tuple[int, str], tuple[float, planning.ProgrammeShape]] = {}

    def programme_shape(self, session: Session, station: StationRow) -> planning.ProgrammeShape:
        """The station's programme shape, measured at most once per `ttl_s`."""
        key, now = (station.id, station.ident), self._monotonic()
        kept = self._shapes.get(key)
        if kept is not None and now - kept[0] < self._ttl_s:
            return kept[1]
        shape = self._tools.programme_shape(session, station)
        self._shapes[key] = (now, shape)
        return shape

    def duration_of(self, session: Session) -> Callable[[RevisionRow], float]:
        """Seconds of a revision's air audio (rendered if missing), as the wrapped tools say."""
        return self._tools.duration_of(session)
