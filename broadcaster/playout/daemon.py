"""The station daemon: builds APScheduler jobs from the plan, airs each programme on time, logs what happened.

The database is the source of truth; jobs live in memory and are rebuilt on start and on every re-sync,
so a restart loses nothing. A journal file marks the programme on air, so that a kill mid-airing is
logged as interrupted at the next start. This is the only module that imports APScheduler.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from filelock import FileLock, Timeout

from broadcaster.airlog import AsRunEntry
from broadcaster.clock import Clock
from broadcaster.domain import Outcome, Priority, Trigger
from broadcaster.errors import BroadcasterError, PlayoutError
from broadcaster.playout.asrun import ItemSpan, Played, item_entries, missed_entries
from broadcaster.playout.player import Playback, Player

log = logging.getLogger("broadcaster.daemon")

# The job fires this early; the last stretch is waited out precisely on the monotonic clock.
EARLY_S = 0.25


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


@dataclass(frozen=True)
class DaemonSettings:
    """Timing policy of the daemon."""

    lead: timedelta = timedelta(minutes=5)
    grace: timedelta = timedelta(seconds=60)
    resync_s: float = 3.0
    horizon: timedelta = timedelta(hours=36)
    note: str = ""


@dataclass
class _Prepared:
    signature: tuple[tuple[int, int], ...]
    built: Built
    playback: Playback


class Daemon:
    """Airs one station's plan through one player."""

    def __init__(
        self,
        source: Source,
        player: Player,
        clock: Clock,
        *,
        settings: DaemonSettings,
        home: Path,
        allowed: Callable[[datetime, float, Priority], bool],
    ) -> None:
        self._source = source
        self._player = player
        self._clock = clock
        self._settings = settings
        self._allowed = allowed
        self._lock = FileLock(str(home / "daemon.lock"))
        self._pidfile = home / "daemon.pid"
        self._journal = home / "onair.json"
        self._prepared: dict[datetime, _Prepared] = {}
        self._prep_locks: dict[datetime, threading.Lock] = {}
        self._active: set[datetime] = set()
        self._scheduled: dict[datetime, tuple[tuple[int, int], ...]] = {}
        self._state = threading.Lock()
        self._stopping = threading.Event()
        self._on_air: Playback | None = None
        self._on_air_priority = Priority.NORMAL
        self._threads: set[threading.Thread] = set()
        self.aired: list[int] = []
        self._scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    # -- life cycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Take the station lock, settle what happened while down, build the jobs and start the scheduler."""
        try:
            self._lock.acquire(timeout=0.5)
        except Timeout:
            holder = self._pidfile.read_text().strip() if self._pidfile.exists() else "?"
            raise PlayoutError(
                f"Đài này đã có một tiến trình phát đang chạy (PID {holder}).",
                "Dừng tiến trình đó trước, hoặc dùng nó — mỗi đài chỉ chạy một tiến trình phát.",
            ) from None
        self._pidfile.write_text(str(os.getpid()))
        self._recover_journal()
        self._scheduler.start()
        self.sync()
        self._scheduler.add_job(self._safe_sync, "interval", seconds=self._settings.resync_s, id="sync")

    def stop(self) -> None:
        """Cut what is on air (logged as interrupted), stop the scheduler, release the lock."""
        self._stopping.set()
        with self._state:
            playing = self._on_air
        if playing is not None:
            playing.stop()
        self._scheduler.shutdown(wait=True)
        for thread in list(self._threads):
            thread.join(timeout=10)
        for prepared in self._prepared.values():
            prepared.playback.close()
        self._prepared.clear()
        self._pidfile.unlink(missing_ok=True)
        self._lock.release()

    def wait_idle(self, timeout: float) -> bool:
        """Block until no programme is scheduled, preparing or on air (the demo uses it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._state:
                busy = bool(self._scheduled) or self._on_air is not None or bool(self._threads)
            if not busy:
                return True
            time.sleep(0.05)
        return False

    # -- planning ---------------------------------------------------------------------------------
    def _safe_sync(self) -> None:
        try:
            self.sync()
        except BroadcasterError as exc:
            log.error("Đồng bộ lịch thất bại: %s", exc.one_line())
        except Exception:  # the daemon keeps running whatever one sync does
            log.exception("Đồng bộ lịch thất bại")

    def sync(self) -> None:
        """Make the jobs match the plan: add new or changed sessions, drop removed ones, log missed ones."""
        now = self._clock.now()
        grace = self._settings.grace
        pending = self._source.pending(now - timedelta(days=7), now + self._settings.horizon)
        wanted: dict[datetime, Planned] = {}
        with self._state:
            active = set(self._active)
        for ps in pending:
            if ps.planned_start in active:
                continue  # on air or being settled right now: its rows are not written yet
            late = (now - ps.planned_start).total_seconds()
            if late > grace.total_seconds():
                self._log_missed(ps, "trạm phát không chạy vào giờ phát (máy tắt hoặc lỗi)")
            else:
                wanted[ps.planned_start] = ps
        with self._state:
            for when in [w for w in self._scheduled if w not in wanted and w > now]:
                self._drop(when)
            for when, ps in wanted.items():
                if self._scheduled.get(when) == ps.signature:
                    continue
                self._drop(when)
                self._scheduled[when] = ps.signature
                prepare_at = max(now, when - self._settings.lead)
                self._scheduler.add_job(
                    self._safe_prepare, "date", run_date=prepare_at, args=[ps], id=f"prep-{when.isoformat()}"
                )
                fire = max(now, when - timedelta(seconds=EARLY_S))
                self._scheduler.add_job(
                    self._run_air, "date", run_date=fire, args=[ps], id=f"air-{when.isoformat()}"
                )
                log.info("Đã lên lịch buổi %s lúc %s", ps.session_code, when.isoformat())

    def _drop(self, when: datetime) -> None:
        self._scheduled.pop(when, None)
        for prefix in ("prep", "air"):
            job = self._scheduler.get_job(f"{prefix}-{when.isoformat()}")
            if job is not None:
                job.remove()
        prepared = self._prepared.pop(when, None)
        if prepared is not None:
            prepared.playback.close()

    # -- airing -----------------------------------------------------------------------------------
    def _safe_prepare(self, ps: Planned) -> None:
        try:
            self._prepare(ps)
        except BroadcasterError as exc:
            log.error("Chưa chuẩn bị được buổi %s: %s", ps.planned_start.isoformat(), exc.one_line())
        except Exception:
            log.exception("Chưa chuẩn bị được buổi %s", ps.planned_start.isoformat())

    def _prepare(self, ps: Planned) -> _Prepared:
        with self._state:
            gate = self._prep_locks.setdefault(ps.planned_start, threading.Lock())
        with gate:  # the prepare job and the air job may race: build once
            return self._prepare_locked(ps)

    def _prepare_locked(self, ps: Planned) -> _Prepared:
        with self._state:
            ready = self._prepared.get(ps.planned_start)
            if ready is not None and ready.signature == ps.signature and ready.built.path.exists():
                return ready
        built = self._source.build(ps.planned_start)
        if built is None:
            raise PlayoutError("Buổi phát không còn tin nào.", "Không cần làm gì.")
        prepared = _Prepared(ps.signature, built, self._player.prepare(built.path))
        with self._state:
            old = self._prepared.pop(ps.planned_start, None)
            self._prepared[ps.planned_start] = prepared
        if old is not None:
            old.playback.close()
        return prepared

    def _run_air(self, ps: Planned) -> None:
        thread = threading.current_thread()
        with self._state:
            self._threads.add(thread)
            self._active.add(ps.planned_start)
        try:
            self._air(ps)
        except Exception:
            log.exception("Lỗi khi phát buổi %s", ps.planned_start.isoformat())
        finally:
            with self._state:
                self._threads.discard(thread)
                self._active.discard(ps.planned_start)
                if self._scheduled.get(ps.planned_start) == ps.signature:
                    self._scheduled.pop(ps.planned_start, None)

    def _air(self, ps: Planned) -> None:
        if self._stopping.is_set():
            return
        try:
            prepared = self._prepare(ps)
        except BroadcasterError as exc:
            self._log_missed(ps, f"không dựng được chương trình: {exc.one_line()}", Outcome.FAILED)
            return
        built = prepared.built
        self._wait_until(ps.planned_start)
        now = self._clock.now()
        if not self._allowed(now, built.duration_s, ps.priority):
            self._record(
                missed_entries(
                    built.items,
                    planned_start=ps.planned_start,
                    session_code=ps.session_code,
                    reason="ngoài khung giờ cho phép",
                    outcome=Outcome.SKIPPED,
                )
            )
            return
        if (now - ps.planned_start) > self._settings.grace:
            self._log_missed(ps, "quá thời gian cho phép phát muộn")
            return
        with self._state:
            self._prepared.pop(ps.planned_start, None)
            self._on_air, self._on_air_priority = prepared.playback, ps.priority
        started = prepared.playback.start()
        self._write_journal(ps, built, started)
        result = None
        while result is None:
            result = prepared.playback.wait(timeout=0.5)
            self._journal.touch()  # heartbeat: after a kill, its mtime bounds how much played
            if result is None and self._stopping.is_set():
                result = prepared.playback.stop()
        with self._state:
            self._on_air = None
        prepared.playback.close()
        played = Played(result.started_at, result.ended_at, result.played_s, result.completed, result.error)
        trigger = Trigger.EMERGENCY if ps.priority is Priority.EMERGENCY else Trigger.SCHEDULE
        note = self._settings.note if result.completed else (self._settings.note or "bị cắt khi đang phát")
        entries = item_entries(
            built.items,
            played,
            planned_start=ps.planned_start,
            trigger=trigger,
            session_code=ps.session_code,
            player=self._player.name,
            note=note,
        )
        self._record(entries)
        self._journal.unlink(missing_ok=True)

    def _wait_until(self, instant: datetime) -> None:
        remaining = (instant - self._clock.now()).total_seconds()
        if remaining <= 0:
            return
        deadline = self._clock.monotonic() + remaining
        if remaining > 0.003:
            time.sleep(remaining - 0.003)
        while self._clock.monotonic() < deadline:
            pass  # the last few milliseconds on the monotonic clock, not the scheduler's

    def _record(self, entries: Sequence[AsRunEntry]) -> None:
        if entries:
            self.aired.extend(self._source.record(entries, self._clock.now()))

    def _log_missed(self, ps: Planned, reason: str, outcome: Outcome = Outcome.MISSED) -> None:
        items = self._source.unbuilt(ps.planned_start)
        self._record(
            missed_entries(
                items,
                planned_start=ps.planned_start,
                session_code=ps.session_code,
                reason=reason,
                outcome=outcome,
            )
        )

    # -- journal: survive kill -9 mid-airing -----------------------------------------------------
    def _write_journal(self, ps: Planned, built: Built, started: datetime) -> None:
        data: dict[str, Any] = {
            "planned_start": ps.planned_start.isoformat(),
            "session_code": ps.session_code,
            "started_at": started.isoformat(),
            "priority": ps.priority.value,
            "player": self._player.name,
            "spans": {str(item.airing_id): item.spans for item in built.items},
        }
        tmp = self._journal.with_suffix(".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        tmp.replace(self._journal)

    def _recover_journal(self) -> None:
        """A programme was on air when the daemon died: log it as interrupted, played until the kill."""
        if not self._journal.exists():
            return
        try:
            data = json.loads(self._journal.read_text(encoding="utf-8"))
            planned = datetime.fromisoformat(data["planned_start"])
            started = datetime.fromisoformat(data["started_at"])
        except (ValueError, KeyError):
            self._journal.unlink(missing_ok=True)
            return
        # The journal's mtime is the last sign of life we have; played time is bounded by it.
        died = datetime.fromtimestamp(self._journal.stat().st_mtime, UTC)
        spans = {int(k): tuple(tuple(p) for p in v) for k, v in data.get("spans", {}).items()}
        items = [
            dataclasses.replace(item, spans=spans[item.airing_id]) if item.airing_id in spans else item
            for item in self._source.unbuilt(planned)
        ]
        played = Played(started, died, max(0.0, (died - started).total_seconds()), False, None)
        self._record(
            item_entries(
                items,
                played,
                planned_start=planned,
                trigger=Trigger.SCHEDULE,
                session_code=data.get("session_code"),
                player=str(data.get("player", "")),
                note="trạm phát dừng đột ngột khi đang phát",
            )
        )
        self._journal.unlink(missing_ok=True)
