"""The station daemon: builds APScheduler jobs from the plan, airs each programme on time, logs what happened.

The database is the source of truth; jobs live in memory and are rebuilt on start and on every re-sync,
so a restart loses nothing. A journal file marks each programme on air, so that a kill mid-airing is
logged as interrupted at the next start. An emergency cuts what is on air; the cut programme's
unfinished items re-air afterwards ("resume"), all of it ("restart") or nothing ("skip").
This is the only module that imports APScheduler.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from filelock import FileLock, Timeout

from broadcaster.airlog import AsRunEntry
from broadcaster.clock import Clock
from broadcaster.domain import Outcome, Priority
from broadcaster.errors import BroadcasterError, PlayoutError
from broadcaster.playout.asrun import (
    Played,
    item_entries,
    missed_entries,
    session_trigger,
    to_resume,
)
from broadcaster.playout.journal import OnAirJournal
from broadcaster.playout.player import Playback, Player
from broadcaster.playout.source import RESUME_POLICIES, Built, DaemonSettings, Planned, Source

__all__ = ["RESUME_POLICIES", "Built", "Daemon", "DaemonSettings", "Planned", "Source"]

log = logging.getLogger("broadcaster.daemon")

# The job fires this early; the last stretch is waited out precisely on the monotonic clock.
EARLY_S = 0.25
# A programme cut by an emergency re-airs this long after the emergency ends (time to assemble it).
RESUME_AFTER = timedelta(seconds=2)
CUT_NOTE = "bị cắt để phát tin khẩn cấp"


@dataclass
class _Prepared:
    signature: tuple[tuple[int, int], ...]
    built: Built
    playback: Playback


@dataclass
class _OnAir:
    planned_start: datetime
    priority: Priority
    playback: Playback
    # Set once the airing's rows are written (and what it leaves to resume is known).
    settled: threading.Event = dataclasses.field(default_factory=threading.Event)


def file_sha256(path: Path) -> str:
    """sha256 of a file, streamed."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _intact(built: Built) -> bool:
    try:
        return built.path.is_file() and file_sha256(built.path) == built.sha256
    except OSError:
        return False


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
        self._journal = OnAirJournal(home)
        self._prepared: dict[datetime, _Prepared] = {}
        self._prep_locks: dict[datetime, threading.Lock] = {}
        self._active: set[datetime] = set()
        self._scheduled: dict[datetime, tuple[tuple[int, int], ...]] = {}
        self._state = threading.Lock()
        self._stopping = threading.Event()
        self._on_air: _OnAir | None = None
        self._preempted: set[datetime] = set()
        self._resume: list[int] = []
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
            on_air = self._on_air
        if on_air is not None:
            on_air.playback.stop()
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
            # An airing job that has fired is past its start check: leave it alone, its rows come soon.
            for when in [w for w in self._scheduled if w not in wanted and w not in active and w > now]:
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

    # -- preparing --------------------------------------------------------------------------------
    def _safe_prepare(self, ps: Planned) -> None:
        try:
            self._prepare(ps)
        except BroadcasterError as exc:
            log.error(
                "CẢNH BÁO: chưa chuẩn bị được buổi %s: %s", ps.planned_start.isoformat(), exc.one_line()
            )
        except Exception:
            log.exception("CẢNH BÁO: chưa chuẩn bị được buổi %s", ps.planned_start.isoformat())

    def _prepare(self, ps: Planned) -> _Prepared:
        with self._state:
            gate = self._prep_locks.setdefault(ps.planned_start, threading.Lock())
        with gate:  # the prepare job and the air job may race: build once
            return self._prepare_locked(ps)

    def _prepare_locked(self, ps: Planned) -> _Prepared:
        with self._state:
            ready = self._prepared.get(ps.planned_start)
        if ready is not None and ready.signature == ps.signature:
            if _intact(ready.built):
                return ready
            # The file changed or vanished since it was built: build (and re-render) again.
            log.warning("Tệp chương trình %s bị thiếu hoặc hỏng, dựng lại.", ready.built.path)
        built = self._source.build(ps.planned_start)
        if built is None:
            raise PlayoutError("Buổi phát không còn tin nào.", "Không cần làm gì.")
        if not _intact(built):
            raise PlayoutError(
                f"Tệp chương trình {built.path} không khớp mã kiểm tra sau khi dựng.",
                "Kiểm tra ổ đĩa và thư mục media của đài.",
            )
        prepared = _Prepared(ps.signature, built, self._player.prepare(built.path))
        with self._state:
            old = self._prepared.pop(ps.planned_start, None)
            self._prepared[ps.planned_start] = prepared
        if old is not None:
            old.playback.close()
        return prepared

    # -- airing -----------------------------------------------------------------------------------
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
                self._prep_locks.pop(ps.planned_start, None)
                if self._scheduled.get(ps.planned_start) == ps.signature:
                    self._scheduled.pop(ps.planned_start, None)

    def _air(self, ps: Planned) -> None:
        if self._stopping.is_set():
            return
        trigger = session_trigger(ps.session_code, ps.priority)
        try:
            prepared = self._prepare(ps)
        except BroadcasterError as exc:
            log.error("CẢNH BÁO: không phát được buổi %s: %s", ps.planned_start.isoformat(), exc.one_line())
            self._log_missed(ps, f"không dựng được chương trình: {exc.one_line()}", Outcome.FAILED)
            return
        built = prepared.built
        self._wait_until(ps.planned_start)
        emergency = ps.priority is Priority.EMERGENCY
        cut = None
        if emergency:
            cut = self._preempt()
        else:
            self._wait_for_air(ps.planned_start)
        now = self._clock.now()
        if not self._allowed(now, built.duration_s, ps.priority):
            self._record(
                missed_entries(
                    built.items,
                    planned_start=ps.planned_start,
                    session_code=ps.session_code,
                    reason="ngoài khung giờ cho phép",
                    outcome=Outcome.SKIPPED,
                    trigger=trigger,
                )
            )
            return
        if (now - ps.planned_start) > self._settings.grace:
            self._log_missed(ps, "quá thời gian cho phép phát muộn")
            return
        with self._state:
            self._prepared.pop(ps.planned_start, None)
            if self._stopping.is_set():
                prepared.playback.close()
                return
            on_air = _OnAir(ps.planned_start, ps.priority, prepared.playback)
            self._on_air = on_air
        try:
            started = prepared.playback.start()
        except BroadcasterError as exc:
            with self._state:
                self._on_air = None
            prepared.playback.close()
            log.error("CẢNH BÁO: không phát được buổi %s: %s", ps.planned_start.isoformat(), exc.one_line())
            self._log_missed(ps, f"bộ phát lỗi: {exc.one_line()}", Outcome.FAILED)
            return
        self._journal.write(
            ps.planned_start,
            {
                "session_code": ps.session_code,
                "started_at": started.isoformat(),
                "priority": ps.priority.value,
                "player": self._player.name,
                "spans": {str(item.airing_id): item.spans for item in built.items},
            },
        )
        journal = self._journal.path_for(ps.planned_start)
        result = None
        while result is None:
            result = prepared.playback.wait(timeout=0.5)
            journal.touch()  # heartbeat: after a kill, its mtime bounds how much played
            if result is None and self._stopping.is_set():
                result = prepared.playback.stop()
        with self._state:
            self._on_air = None
            preempted = ps.planned_start in self._preempted
            self._preempted.discard(ps.planned_start)
        prepared.playback.close()
        played = Played(result.started_at, result.ended_at, result.played_s, result.completed, result.error)
        if result.completed:
            note = self._settings.note
        else:
            note = CUT_NOTE if preempted else (self._settings.note or "bị cắt khi đang phát")
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
        journal.unlink(missing_ok=True)
        if preempted:
            self._keep_for_resume(entries)
        on_air.settled.set()
        if cut is not None:
            self._resume_after(cut)

    def _preempt(self) -> _OnAir | None:
        """An emergency is due: cut what is on air now and wait until the output is free."""
        with self._state:
            on_air = self._on_air
            if on_air is None or on_air.priority is Priority.EMERGENCY:
                return None
            self._preempted.add(on_air.planned_start)
        log.warning("Cắt buổi %s để phát tin khẩn cấp.", on_air.planned_start.isoformat())
        on_air.playback.stop()
        self._wait_for_air(None, timeout=10.0)
        return on_air

    def _wait_for_air(self, planned: datetime | None, timeout: float | None = None) -> None:
        """Wait while another programme is on air (at most the grace window: later counts as missed)."""
        limit = timeout if timeout is not None else self._settings.grace.total_seconds()
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and not self._stopping.is_set():
            with self._state:
                if self._on_air is None:
                    return
            time.sleep(0.005)
        if planned is not None:
            log.warning("Buổi %s: chương trình trước vẫn đang phát quá lâu.", planned.isoformat())

    def _keep_for_resume(self, entries: Sequence[AsRunEntry]) -> None:
        ids = to_resume(entries, self._settings.resume_policy)
        with self._state:
            self._resume.extend(ids)

    def _resume_after(self, cut: _OnAir) -> None:
        """After an emergency: queue the cut programme again (by the resume policy) and re-sync."""
        cut.settled.wait(timeout=30)  # its rows, and what it left to resume, are written by then
        with self._state:
            ids, self._resume = self._resume, []
        if not ids or self._stopping.is_set():
            return
        try:
            now = self._clock.now()
            self._source.requeue(ids, now + RESUME_AFTER, now)
            log.info("Phát lại %d tin bị cắt sau tin khẩn cấp.", len(ids))
        except BroadcasterError as exc:
            log.error("Không xếp lại được các tin bị cắt: %s", exc.one_line())
            return
        self._safe_sync()

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
                trigger=session_trigger(ps.session_code, ps.priority),
            )
        )

    # -- journal: survive kill -9 mid-airing -----------------------------------------------------
    def _recover_journal(self) -> None:
        """A programme was on air when the daemon died: log it as interrupted, played until the kill."""
        for rec in self._journal.leftovers():
            items = [
                dataclasses.replace(item, spans=rec.spans[item.airing_id])
                if item.airing_id in rec.spans
                else item
                for item in self._source.unbuilt(rec.planned_start)
            ]
            played_s = max(0.0, (rec.died_at - rec.started_at).total_seconds())
            played = Played(rec.started_at, rec.died_at, played_s, False, None)
            priority = Priority(rec.priority) if rec.priority in set(Priority) else Priority.NORMAL
            self._record(
                item_entries(
                    items,
                    played,
                    planned_start=rec.planned_start,
                    trigger=session_trigger(rec.session_code, priority),
                    session_code=rec.session_code,
                    player=rec.player,
                    note="trạm phát dừng đột ngột khi đang phát",
                )
            )
            rec.path.unlink(missing_ok=True)
