"""The district server as a station sees it: what goes up and comes down, independent of the transport.

`DistrictPort` is implemented over HTTP(S) by `district_http.HttpDistrict` (a fake implements it in
tests). Up: the station's as-run chain (`forwarding.sync_up`), its audit events
(`forwarding.sync_audit`) and its heartbeat. Down: the bulletins the district sent it
(`district_inbox.take_incoming`), their audio by content hash, the schedule changes the district made
for it (`district_inbox.take_changes`), and the station's report of what it did with each.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from broadcaster import airlog
from broadcaster.errors import BroadcasterError

log = logging.getLogger("broadcaster.daemon")


class DistrictUnreachable(BroadcasterError):
    """The district server did not answer, or refused the station; nothing is lost, the next sync retries."""


@dataclass(frozen=True)
class DistrictHead:
    """The head of the station's chain that the district holds (its answer to every push)."""

    rows: int
    head_hash: str
    accepted: int = 0
    repeated: int = 0
    broken: bool = False
    reason: str = ""


@dataclass(frozen=True)
class CampaignNote:
    """The campaign a district bulletin belongs to, as the district holds it for the ward.

    A ward that lacks the campaign creates it from this (district campaigns and targets flow down).
    """

    code: str
    title: str
    plan_ref: str = ""
    period_start: str = ""
    period_end: str = ""
    target: dict[str, float | int | None] = field(default_factory=dict)


@dataclass(frozen=True)
class Incoming:
    """A bulletin the district sent this station (approved there), not yet reported on."""

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
    campaign: CampaignNote


@dataclass(frozen=True)
class Delivery:
    """What the station did with one district bulletin: its report to the district."""

    dispatch_id: int
    state: str  # received | queued | on_air | missed | refused
    note: str = ""
    planned_start: datetime | None = None


@dataclass(frozen=True)
class AuditEvent:
    """One audit event as the station forwards it: its own id (the stable key), when, who, what."""

    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ScheduleChange:
    """A change the district made to one of the station's recurring sessions (days, start, length)."""

    id: int
    session_code: str
    values: dict[str, Any]
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class ChangeReport:
    """What the station did with one schedule change: applied, or refused with the reason."""

    change_id: int
    state: str  # applied | refused
    note: str = ""


class DistrictPort(Protocol):
    """The district server as the station sees it."""

    url: str  # where it is (kept beside each acknowledged head)

    def head(self, station_code: str) -> DistrictHead:
        """The head the district holds for this station."""
        ...

    def push(
        self, station_code: str, links: Sequence[airlog.ChainLink], signed_head: dict[str, Any] | None
    ) -> DistrictHead:
        """Send rows; the district answers with the head it now holds."""
        ...

    def heartbeat(self, station_code: str, beat: dict[str, Any]) -> None:
        """Tell the district how the station is (daemon state, alerts, last airing, disk, clock)."""
        ...

    def inbox(self, station_code: str) -> list[Incoming]:
        """The bulletins the district sent this station that it has not reported on yet."""
        ...

    def audio(self, sha256: str) -> bytes:
        """The audio of a bulletin sent to this station, by its content hash (checked by the caller)."""
        ...

    def report(self, station_code: str, deliveries: Sequence[Delivery]) -> None:
        """Tell the district what the station did with its bulletins."""
        ...

    def audit_head(self, station_code: str) -> int:
        """The highest audit event id of this station that the district holds (0: none)."""
        ...

    def push_audit(self, station_code: str, events: Sequence[AuditEvent]) -> int:
        """Send audit events (in id order); the district answers with the highest id it now holds."""
        ...

    def changes(self, station_code: str) -> list[ScheduleChange]:
        """The schedule changes the district made for this station that it has not reported on yet."""
        ...

    def report_changes(self, station_code: str, reports: Sequence[ChangeReport]) -> None:
        """Tell the district what the station did with its schedule changes."""
        ...


class DistrictChore:
    """A daemon chore that talks to the district: skipped while the last run still goes, and a failure
    logged once (as `failing`, with the error's one line) until a run succeeds (`recovered`, if any)."""

    failing = "Chưa liên lạc được với huyện: %s"
    recovered: str | None = None

    def __init__(self) -> None:
        self._failing: str | None = None
        self._busy = threading.Lock()

    def __call__(self) -> None:
        """One run; a BroadcasterError (the district unreachable, a refusal) waits for the next one."""
        if not self._busy.acquire(blocking=False):
            return
        try:
            try:
                self.run()
            except BroadcasterError as exc:
                if exc.message != self._failing:
                    log.warning(self.failing, exc.one_line())
                self._failing = exc.message
                return
            if self._failing is not None and self.recovered:
                log.info(self.recovered)
            self._failing = None
        finally:
            self._busy.release()

    def run(self) -> None:
        """The chore's work (raises BroadcasterError when the district cannot be reached)."""
        raise NotImplementedError
