"""The on-air journal: one small file per programme on air, so that a kill mid-airing can be settled later.

Each airing writes `onair-<planned start>.json` when it starts and touches it while it plays (the
heartbeat); the file's mtime therefore bounds how much played if the process dies. Files are per
airing because an emergency may start while the programme it cut is still writing its rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PREFIX = "onair"


@dataclass(frozen=True)
class JournalRecord:
    """A programme that was on air when the daemon died."""

    path: Path
    planned_start: datetime
    started_at: datetime
    died_at: datetime
    session_code: str | None
    priority: str
    player: str
    spans: dict[int, tuple[tuple[float, float], ...]]


class OnAirJournal:
    """Journal files in the station home."""

    def __init__(self, home: Path) -> None:
        self._home = home

    def path_for(self, planned_start: datetime) -> Path:
        """The journal file of the programme planned at `planned_start`."""
        return self._home / f"{PREFIX}-{planned_start.astimezone(UTC):%Y%m%dT%H%M%S%f}.json"

    def write(self, planned_start: datetime, data: dict[str, Any]) -> Path:
        """Write a programme's journal atomically."""
        path = self.path_for(planned_start)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"planned_start": planned_start.isoformat(), **data}), encoding="utf-8")
        tmp.replace(path)
        return path

    def leftovers(self) -> list[JournalRecord]:
        """Journals left by a process that died mid-airing; unreadable ones are removed."""
        found = []
        for path in sorted(self._home.glob(f"{PREFIX}*.json")):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                record = JournalRecord(
                    path=path,
                    planned_start=datetime.fromisoformat(data["planned_start"]),
                    started_at=datetime.fromisoformat(data["started_at"]),
                    # The mtime is the last heartbeat: the last moment we know audio was playing.
                    died_at=datetime.fromtimestamp(path.stat().st_mtime, UTC),
                    session_code=data.get("session_code"),
                    priority=str(data.get("priority", "normal")),
                    player=str(data.get("player", "")),
                    spans={
                        int(k): tuple((float(a), float(b)) for a, b in v)
                        for k, v in data.get("spans", {}).items()
                    },
                )
            except (ValueError, KeyError, TypeError, OSError):
                path.unlink(missing_ok=True)
                continue
            found.append(record)
        return found
