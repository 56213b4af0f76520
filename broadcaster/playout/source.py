"""The daemon's inputs as protocols (the database-backed Source and Lease are in services/), its policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from broadcaster.domain import AsRunEntry, Priority
from broadcaster.errors import ConfigError, PlayoutError
from broadcaster.playout.asrun import ItemSpan

RESUME_POLICIES = ("resume", "restart", "skip")


class Built(Protocol):
    """What the daemon needs of an assembled programme."""

    @property
    def path(self) -> Path: ...
    @property
    def sha256(self) -> str: ...
    @property
    def duration_s(self) -> float: ...
    @property
    def items(self) -> tuple[ItemSpan, ...]: ...


class Planned(Protocol):
    """A session with queued airings; `signature` changes whenever its content does."""

    @property
    def planned_start(self) -> datetime: ...
    @property
    def session_code(self) -> str: ...
    @property
    def signature(self) -> tuple[tuple[int, int], ...]: ...
    @property
    def priority(self) -> Priority: ...


class Unwritable(PlayoutError):
    """The database cannot be written now (locked past the short wait, unreachable): try again later."""


@dataclass(frozen=True)
class Holder:
    """One running daemon: an id unique to this process, and where it runs."""

    id: str
    host: str
    pid: int
    home: str


class Source(Protocol):
    """Where the daemon reads the plan, claims airings and writes the as-run log."""

    def pending(self, start: datetime, end: datetime, holder: str) -> Sequence[Planned]:
        """Sessions in [start, end) with airings not yet settled and not claimed by another daemon."""
        ...

    def build(self, planned_start: datetime) -> Built | None:
        """Render and assemble one session's programme."""
        ...

    def claim(
        self, airing_ids: Sequence[int], token: str, holder: str, now: datetime, wait_s: float
    ) -> set[int]:
        """Claim all these airings for `token` in one transaction, or none; returns the ids it could not.

        Ids this token held that are not in `airing_ids` are released. Raises Unwritable when the
        database stays locked longer than `wait_s`.
        """
        ...

    def release(self, airing_ids: Sequence[int], token: str, wait_s: float) -> None:
        """Give back unsettled airings claimed by `token` (it never went on air); Unwritable if locked."""
        ...

    def record(
        self, entries: Sequence[AsRunEntry], now: datetime, *, token: str, holder: str, wait_s: float
    ) -> list[int]:
        """Append as-run rows once: an airing already settled is skipped, others are settled under `token`.

        Raises Unwritable when the database stays locked longer than `wait_s`.
        """
        ...

    def unbuilt(self, planned_start: datetime) -> list[ItemSpan]:
        """Describe a session's unsettled items without building it."""
        ...

    def requeue(self, airing_ids: Sequence[int], planned_start: datetime, now: datetime) -> list[int]:
        """Queue these airings' revisions again as one new programme at `planned_start`."""
        ...


@dataclass(frozen=True)
class DaemonStatus:
    """What the heartbeat tells the database: idle or on air, and rows waiting in the journal."""

    state: str
    on_air_start: datetime | None
    backlog: int


class Lease(Protocol):
    """The one daemon of a station, wherever its data home is."""

    def acquire(self, holder: Holder, now: datetime, ttl: timedelta) -> None:
        """Take the station's lease, or raise PlayoutError naming the live holder's host and PID."""
        ...

    def renew(self, holder: Holder, now: datetime, ttl: timedelta, status: DaemonStatus) -> bool:
        """Extend the lease and report status; False when another daemon holds it now."""
        ...

    def release(self, holder: Holder, now: datetime) -> None:
        """Mark the lease stopped so another daemon may start at once."""
        ...


@dataclass(frozen=True)
class DaemonSettings:
    """Timing policy of the daemon."""

    lead: timedelta = timedelta(minutes=5)
    grace: timedelta = timedelta(seconds=60)
    resync_s: float = 3.0
    horizon: timedelta = timedelta(hours=36)
    note: str = ""
    resume_policy: str = "resume"
    # Longest wait for the database when claiming or writing rows near air time (not the 30-s default).
    claim_wait_s: float = 2.0
    # How often rows kept in the journal (database locked when they were due) are written again.
    record_retry_s: float = 5.0
    # A lease whose heartbeat stopped this long ago belongs to a dead daemon and may be taken over.
    lease_ttl: timedelta = timedelta(seconds=30)
    # First and longest pause before preparing again after a failure (doubling in between).
    prepare_retry_s: float = 1.0
    prepare_retry_max_s: float = 60.0

    def __post_init__(self) -> None:
        if self.resume_policy not in RESUME_POLICIES:
            raise ConfigError(
                f"Cách xử lý chương trình bị cắt '{self.resume_policy}' không hợp lệ "
                "(playout.resume_policy).",
                f"Chọn một trong: {', '.join(RESUME_POLICIES)}.",
            )
