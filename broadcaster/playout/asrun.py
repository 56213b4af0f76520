"""Pure: turn one programme's playback result into as-run entries, one per item, by what actually played."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from broadcaster.domain import EMERGENCY_SESSION, MANUAL_SESSION, AsRunEntry, Outcome, Priority, Trigger

# An item counts as completed when no more than this much of it was cut.
COMPLETE_TOLERANCE_S = 0.05


def session_trigger(session_code: str | None, priority: Priority) -> Trigger:
    """What started an airing: an emergency, an operator's play-now, or the schedule."""
    if priority is Priority.EMERGENCY or session_code == EMERGENCY_SESSION:
        return Trigger.EMERGENCY
    if session_code == MANUAL_SESSION:
        return Trigger.MANUAL
    return Trigger.SCHEDULE


@dataclass(frozen=True)
class ItemSpan:
    """Where one item's readings sit in the programme, and what to log about it."""

    spans: tuple[tuple[float, float], ...]
    airing_id: int | None
    bulletin_id: int | None
    revision_id: int | None
    revision_number: int | None
    campaign_code: str | None
    title: str
    sha256: str | None
    priority: Priority
    queued_by: str | None
    approved_by: str | None

    @property
    def clip_s(self) -> float:
        """Seconds of this item in the programme (all readings)."""
        return sum(end - start for start, end in self.spans)

    def logged(self) -> dict[str, Any]:
        """The as-run fields that come from the item itself, whatever happened to it."""
        return {
            "clip_ms": round(self.clip_s * 1000),
            "priority": self.priority,
            "airing_id": self.airing_id,
            "bulletin_id": self.bulletin_id,
            "revision_id": self.revision_id,
            "revision_number": self.revision_number,
            "campaign_code": self.campaign_code,
            "title": self.title,
            "sha256": self.sha256,
            "queued_by": self.queued_by,
            "approved_by": self.approved_by,
        }


@dataclass(frozen=True)
class Played:
    """What the player reported: when it started and stopped, how much played, and why it ended."""

    started_at: datetime
    ended_at: datetime
    played_s: float
    completed: bool
    error: str | None


def start_error_ms(actual: datetime, planned: datetime | None) -> int | None:
    """How late (positive) or early the programme started, in whole milliseconds."""
    return None if planned is None else round((actual - planned).total_seconds() * 1000)


def item_entries(
    items: Sequence[ItemSpan],
    played: Played,
    *,
    planned_start: datetime | None,
    trigger: Trigger,
    session_code: str | None,
    player: str,
    note: str = "",
    uncertain_s: float = 0.0,
) -> list[AsRunEntry]:
    """One entry per item: completed, interrupted (partly played), skipped (cut before it) or failed.

    `uncertain_s`: how long after `played_s` sound may still have reached the output unseen (a daemon
    killed mid-programme: its player's buffers drain after the last heartbeat). An item starting in that
    window is logged interrupted, never skipped: part of it may have been heard.
    """
    entries = []
    for item in items:
        first, last = item.spans[0][0], item.spans[-1][1]
        heard = sum(max(0.0, min(end, played.played_s) - start) for start, end in item.spans)
        maybe_heard = first < played.played_s + uncertain_s
        if (played.completed and played.error is None) or heard >= item.clip_s - COMPLETE_TOLERANCE_S:
            outcome, heard = Outcome.COMPLETED, item.clip_s
        elif heard <= 0 and not (maybe_heard and uncertain_s > 0):
            outcome = Outcome.FAILED if played.error else Outcome.SKIPPED
        else:
            outcome = Outcome.FAILED if played.error else Outcome.INTERRUPTED
        actual_start = played.started_at + timedelta(seconds=first) if heard > 0 else None
        actual_end = played.started_at + timedelta(seconds=min(last, played.played_s)) if heard > 0 else None
        entries.append(
            AsRunEntry(
                outcome=outcome,
                trigger=trigger,
                planned_start=planned_start + timedelta(seconds=first) if planned_start else None,
                actual_start=actual_start,
                actual_end=actual_end,
                start_error_ms=start_error_ms(played.started_at, planned_start) if heard > 0 else None,
                played_ms=round(heard * 1000),
                session_code=session_code,
                player=player,
                note=played.error or note,
                **item.logged(),
            )
        )
    return entries


def missed_entries(
    items: Sequence[ItemSpan],
    *,
    planned_start: datetime,
    session_code: str | None,
    reason: str,
    outcome: Outcome = Outcome.MISSED,
    trigger: Trigger = Trigger.SCHEDULE,
) -> list[AsRunEntry]:
    """Entries for a programme that never started (station off, outside hours, audio missing)."""
    return [
        AsRunEntry(
            outcome=outcome,
            trigger=trigger,
            planned_start=planned_start + timedelta(seconds=item.spans[0][0])
            if item.spans
            else planned_start,
            session_code=session_code,
            note=reason,
            **item.logged(),
        )
        for item in items
    ]


def unfinished(entries: Sequence[AsRunEntry]) -> list[int]:
    """Airing ids of the items a cut programme did not complete (to re-air them after an emergency)."""
    return [e.airing_id for e in entries if e.airing_id is not None and e.outcome is not Outcome.COMPLETED]


def to_resume(entries: Sequence[AsRunEntry], policy: str) -> list[int]:
    """What re-airs after an emergency cut: unfinished items (resume), all of them (restart), none (skip)."""
    if policy == "resume":
        return unfinished(entries)
    if policy == "restart":
        return [e.airing_id for e in entries if e.airing_id is not None]
    return []
