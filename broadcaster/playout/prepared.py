"""What the daemon holds per programme: the prepared playback and its claim, and the programme on air."""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from datetime import datetime

from broadcaster.domain import Priority
from broadcaster.files import file_sha256
from broadcaster.playout.players.base import Playback
from broadcaster.playout.source import Built


def intact(built: Built) -> bool:
    """The assembled file is still there and still the one that was built."""
    try:
        return built.path.is_file() and file_sha256(built.path) == built.sha256
    except OSError:
        return False


@dataclass
class Prepared:
    """A built programme, its player ready to start, and whether its airings are claimed in the database."""

    signature: tuple[tuple[int, int], ...]
    built: Built
    playback: Playback
    claimed: bool = False

    @property
    def airing_ids(self) -> list[int]:
        """The airings this programme carries, in air order."""
        return [i.airing_id for i in self.built.items if i.airing_id is not None]


@dataclass
class OnAir:
    """The programme on air now."""

    planned_start: datetime
    priority: Priority
    playback: Playback
    # Set once the airing's rows are written (and what it leaves to resume is known).
    settled: threading.Event = dataclasses.field(default_factory=threading.Event)
