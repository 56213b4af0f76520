"""Writing the as-run log through the on-air journal: rows stay on disk until the database has them, once.

Every programme's outcome is first written to its journal file, then to the database in one transaction
that also settles its airings (`Source.record`), so a retry after a lock, a crash between the commit
and the file's removal, or a restart never writes a row twice. Rows that cannot be written now (the
database locked or unreachable) are retried in the background by `flush`, with their real times.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

from broadcaster.clock import Clock
from broadcaster.domain import AsRunEntry, Priority
from broadcaster.errors import BroadcasterError
from broadcaster.playout.asrun import ItemSpan, Played, item_entries, session_trigger
from broadcaster.playout.journal import CLAIMED, ENDED, JournalRecord, OnAirJournal, entry_to_json
from broadcaster.playout.source import Holder, Source, Unwritable

log = logging.getLogger("broadcaster.daemon")

KILLED_NOTE = "trạm phát dừng đột ngột khi đang phát"
# After a kill, sound may still reach the speakers past the journal's last heartbeat: up to one
# heartbeat (0.5 s) plus what the player had handed on (pacat: its pipe and the server's buffer,
# about 0.6 s at 48 kHz stereo). Items starting in that window are logged interrupted, not skipped.
KILL_TAIL_S = 1.5


@dataclass
class _Task:
    """Rows to write (`entries`) or a claim to give back (`release`), and the journal file that keeps it."""

    path: Path | None
    token: str
    entries: tuple[AsRunEntry, ...] = ()
    release: tuple[int, ...] = ()


class Settler:
    """Writes each programme's rows once, from its journal, now or as soon as the database allows."""

    def __init__(
        self, source: Source, journal: OnAirJournal, clock: Clock, holder: Holder, wait_s: float
    ) -> None:
        self._source = source
        self._journal = journal
        self._clock = clock
        self._holder = holder
        self._wait_s = wait_s
        self._lock = threading.Lock()  # the task table: never held while the database is asked
        self._io = threading.Lock()  # one writer at a time
        self._tasks: dict[datetime, _Task] = {}
        self._outage: str | None = None
        self._made_up = 0
        self.recorded: list[int] = []

    def waiting(self) -> set[datetime]:
        """Planned starts whose rows (or claim release) have not reached the database yet."""
        with self._lock:
            return set(self._tasks)

    def settle(
        self, planned_start: datetime, entries: Sequence[AsRunEntry], token: str | None, meta: dict[str, Any]
    ) -> None:
        """Keep the entries in the journal (flushed to disk), then try to write them to the database."""
        token = token or uuid4().hex
        path: Path | None = None
        if entries:
            data = {**meta, "state": ENDED, "token": token, "entries": [entry_to_json(e) for e in entries]}
            try:
                path = self._journal.write(planned_start, data, sync=True)
            except OSError as exc:  # the home itself is unwritable: keep the rows in memory and go on
                log.error("Không ghi được nhật ký trực tiếp %s: %s", planned_start.isoformat(), exc)
        else:
            self._journal.path_for(planned_start).unlink(missing_ok=True)
            return
        with self._lock:
            self._tasks[planned_start] = _Task(path, token, tuple(entries))
        self._run(planned_start)

    def release(self, planned_start: datetime, airing_ids: Sequence[int], token: str) -> None:
        """Give back a claim whose programme never went on air (stopped, dropped from the plan)."""
        path = self._journal.path_for(planned_start)
        with self._lock:
            self._tasks[planned_start] = _Task(path if path.exists() else None, token, (), tuple(airing_ids))
        self._run(planned_start)

    def flush(self) -> int:
        """Try every waiting task once, oldest first; returns how many still wait."""
        for when in sorted(self.waiting()):
            if not self._run(when):
                break  # the database is still not writable: the rest can wait for the next round
        with self._lock:
            left = len(self._tasks)
        if not left and self._made_up:
            log.info("Đã ghi bù %d dòng nhật ký phát sóng giữ trong nhật ký trực tiếp.", self._made_up)
            self._made_up = 0
        return left

    def _run(self, when: datetime) -> bool:
        """Write one task; False while the database refuses (the task stays for the next round)."""
        with self._io:
            with self._lock:
                task = self._tasks.get(when)
            return True if task is None else self._write(when, task)

    def _write(self, when: datetime, task: _Task) -> bool:
        try:
            if task.release:
                self._source.release(task.release, task.token, self._wait_s)
            else:
                ids = self._source.record(
                    task.entries,
                    self._clock.now(),
                    token=task.token,
                    holder=self._holder.id,
                    wait_s=self._wait_s,
                )
                self.recorded.extend(ids)
                if self._outage is not None:
                    self._made_up += len(ids)
        except BroadcasterError as exc:
            cause = exc.message if isinstance(exc, Unwritable) else exc.one_line()
            if self._outage is None:
                log.warning(
                    "Chưa ghi được nhật ký phát sóng vào cơ sở dữ liệu (%s); đã giữ trong nhật ký trực tiếp, "
                    "sẽ ghi lại khi cơ sở dữ liệu ghi được.",
                    cause,
                )
            self._outage = cause
            return False
        self._outage = None
        with self._lock:
            if self._tasks.get(when) is task:
                del self._tasks[when]
                if task.path is not None:
                    task.path.unlink(missing_ok=True)
        return True

    def recover(
        self, records: Sequence[JournalRecord], unbuilt: Callable[[datetime], list[ItemSpan]]
    ) -> None:
        """Settle what an earlier run left: give back unused claims, log cut airings, write kept rows."""
        for rec in records:
            if rec.state == CLAIMED:
                if rec.token is None or not rec.airing_ids:
                    rec.path.unlink(missing_ok=True)
                else:
                    self.release(rec.planned_start, rec.airing_ids, rec.token)
                continue
            meta = {"session_code": rec.session_code, "priority": rec.priority, "player": rec.player}
            entries = rec.entries if rec.state == ENDED else tuple(self._killed_entries(rec, unbuilt))
            self.settle(rec.planned_start, entries, rec.token, meta)

    @staticmethod
    def _killed_entries(
        rec: JournalRecord, unbuilt: Callable[[datetime], list[ItemSpan]]
    ) -> list[AsRunEntry]:
        """A programme was on air when the daemon died: interrupted, played until its last heartbeat."""
        items = (
            list(rec.items)
            if rec.items is not None
            else [
                dataclasses.replace(item, spans=rec.spans[item.airing_id])
                if item.airing_id in rec.spans
                else item
                for item in unbuilt(rec.planned_start)
            ]
        )
        assert rec.started_at is not None
        played_s = max(0.0, (rec.died_at - rec.started_at).total_seconds())
        played = Played(rec.started_at, rec.died_at, played_s, False, None)
        priority = Priority(rec.priority) if rec.priority in set(Priority) else Priority.NORMAL
        return item_entries(
            items,
            played,
            planned_start=rec.planned_start,
            trigger=session_trigger(rec.session_code, priority),
            session_code=rec.session_code,
            player=rec.player,
            note=KILLED_NOTE,
            uncertain_s=KILL_TAIL_S,
        )
