"""The on-air journal: one small file per programme, from its claim until its as-run rows are in the database.

`onair-<planned start>.json` goes through three states. *claimed*: written before the daemon claims
the airings in the database, so a crash before air gives the claim back at the next start. *on_air*:
written just before the player starts and touched while it plays (the heartbeat); after a kill its
mtime bounds how much played. *ended*: the as-run entries of what happened, kept until the database
takes them (a long lock, a full disk) and removed only then. Files are per programme because an
emergency may start while the programme it cut is still writing its rows.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from broadcaster.domain import AsRunEntry, Outcome, Priority, Trigger
from broadcaster.files import write_atomic
from broadcaster.playout.asrun import ItemSpan

PREFIX = "onair"
CLAIMED, ON_AIR, ENDED = "claimed", "on_air", "ended"
_INSTANTS = ("planned_start", "actual_start", "actual_end")


def item_to_json(item: ItemSpan) -> dict[str, Any]:
    """An item as plain JSON values."""
    data = dataclasses.asdict(item)
    data["priority"] = item.priority.value
    return data


def item_from_json(data: dict[str, Any]) -> ItemSpan:
    """The item `item_to_json` wrote."""
    values = dict(data)
    values["spans"] = tuple((float(a), float(b)) for a, b in values["spans"])
    values["priority"] = Priority(values["priority"])
    return ItemSpan(**values)


def entry_to_json(entry: AsRunEntry) -> dict[str, Any]:
    """An as-run entry as plain JSON values (instants in ISO 8601 with their offset)."""
    data = dataclasses.asdict(entry)
    for key in ("outcome", "trigger", "priority"):
        data[key] = data[key].value
    for key in _INSTANTS:
        data[key] = data[key].isoformat() if data[key] is not None else None
    return data


def entry_from_json(data: dict[str, Any]) -> AsRunEntry:
    """The entry `entry_to_json` wrote."""
    values = dict(data)
    values["outcome"] = Outcome(values["outcome"])
    values["trigger"] = Trigger(values["trigger"])
    values["priority"] = Priority(values["priority"])
    for key in _INSTANTS:
        values[key] = datetime.fromisoformat(values[key]) if values[key] is not None else None
    return AsRunEntry(**values)


@dataclass(frozen=True)
class JournalRecord:
    """One journal file as read back at start or by the retry loop."""

    path: Path
    planned_start: datetime
    state: str
    token: str | None
    session_code: str | None
    priority: str
    player: str
    # None for a file written before items were kept: its items come from the database then.
    items: tuple[ItemSpan, ...] | None
    started_at: datetime | None
    # The mtime is the last heartbeat: the last moment we know audio was playing.
    died_at: datetime
    entries: tuple[AsRunEntry, ...]
    # Where each item sat in the programme (files from before items were kept).
    spans: dict[int, tuple[tuple[float, float], ...]]

    @property
    def airing_ids(self) -> list[int]:
        """The airings this programme carries (known from its items or its entries)."""
        source: Sequence[ItemSpan | AsRunEntry] = self.items if self.items is not None else self.entries
        return [i.airing_id for i in source if i.airing_id is not None]


class OnAirJournal:
    """Journal files in the station home."""

    def __init__(self, home: Path) -> None:
        self._home = home

    def path_for(self, planned_start: datetime) -> Path:
        """The journal file of the programme planned at `planned_start`."""
        return self._home / f"{PREFIX}-{planned_start.astimezone(UTC):%Y%m%dT%H%M%S%f}.json"

    def write(self, planned_start: datetime, data: dict[str, Any], *, sync: bool = False) -> Path:
        """Write a programme's journal atomically; `sync` also flushes it to the disk (rows to keep)."""
        return self._write(self.path_for(planned_start), planned_start, data, sync=sync)

    def stage(self, planned_start: datetime, data: dict[str, Any]) -> Path:
        """Write the next state beside the journal ahead of time; `activate` puts it in place."""
        return self._write(self._staged(planned_start), planned_start, data, sync=False)

    def activate(self, planned_start: datetime) -> Path:
        """Put the staged state in place with one rename, so that the moment of the start costs no write."""
        path = self.path_for(planned_start)
        self._staged(planned_start).replace(path)
        return path

    def discard_staged(self, planned_start: datetime) -> None:
        """Remove a staged state that will not be used."""
        self._staged(planned_start).unlink(missing_ok=True)

    def _staged(self, planned_start: datetime) -> Path:
        return self.path_for(planned_start).with_suffix(".next")

    @staticmethod
    def _write(path: Path, planned_start: datetime, data: dict[str, Any], *, sync: bool) -> Path:
        text = json.dumps({"planned_start": planned_start.isoformat(), **data}, ensure_ascii=False)
        return write_atomic(path, text.encode("utf-8"), fsync=sync)

    def read(self, path: Path) -> JournalRecord:
        """One journal file; ValueError/KeyError/TypeError/OSError when it is not one."""
        data = json.loads(path.read_text(encoding="utf-8"))
        started = data.get("started_at")
        # A file from before states were written was always on air.
        state = str(data.get("state", ON_AIR))
        if state not in (CLAIMED, ON_AIR, ENDED):
            raise ValueError(f"unknown journal state {state!r}")
        items = data.get("items")
        return JournalRecord(
            path=path,
            planned_start=datetime.fromisoformat(data["planned_start"]),
            state=state,
            token=data.get("token"),
            session_code=data.get("session_code"),
            priority=str(data.get("priority", "normal")),
            player=str(data.get("player", "")),
            items=tuple(item_from_json(i) for i in items) if items is not None else None,
            started_at=datetime.fromisoformat(started) if started else None,
            died_at=datetime.fromtimestamp(path.stat().st_mtime, UTC),
            entries=tuple(entry_from_json(e) for e in data.get("entries", [])),
            spans={
                int(k): tuple((float(a), float(b)) for a, b in v) for k, v in data.get("spans", {}).items()
            },
        )

    def leftovers(self) -> list[JournalRecord]:
        """Journals left by an earlier run (killed, or stopped with rows unwritten); unreadable ones go."""
        for stale in self._home.glob(f"{PREFIX}-*.next"):  # staged for a start that never came
            stale.unlink(missing_ok=True)
        found = []
        for path in sorted(self._home.glob(f"{PREFIX}*.json")):
            try:
                record = self.read(path)
                if record.state == ON_AIR and record.started_at is None:
                    raise ValueError("on air without a start")
            except (ValueError, KeyError, TypeError, OSError):
                path.unlink(missing_ok=True)
                continue
            found.append(record)
        return found
