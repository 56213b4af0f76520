"""The daemon's inputs as protocols (the database-backed Source lives in services/) and its timing policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from broadcaster.airlog import AsRunEntry
from broadcaster.domain import Priority
from broadcaster.errors import ConfigError
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


class Source(Protocol):
    """Where the daemon reads the plan and writes the as-run log."""

    def pending(self, start: datetime, end: datetime) -> Sequence[Planned]:
        """Sessions in [start, end) with airings not yet logged."""
        ...

    def build(self, planned_start: datetime) -> Built | None:
        """Render and assemble one session's programme."""
        ...

    def record(self, entries: Sequence[AsRunEntry], now: datetime) -> list[int]:
        """Append as-run rows."""
        ...

    def unbuilt(self, planned_start: datetime) -> list[ItemSpan]:
        """Describe a session's items without building it."""
        ...

    def requeue(self, airing_ids: Sequence[int], planned_start: datetime, now: datetime) -> list[int]:
        """Queue these airings' revisions again as one new programme at `planned_start`."""
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

    def __post_init__(self) -> None:
        if self.resume_policy not in RESUME_POLICIES:
            raise ConfigError(
                f"Cách xử lý chương trình bị cắt '{self.resume_policy}' không hợp lệ "
                "(playout.resume_policy).",
                f"Chọn một trong: {', '.join(RESUME_POLICIES)}.",
            )
