"""The station daemon: builds APScheduler jobs from the plan, airs each programme once, logs what happened.

The database is the source of truth; jobs live in memory and are rebuilt on start and on every re-sync,
so a restart loses nothing. Exactly once: one daemon per station (a lease in the database as well as
the home's file lock); a programme is prepared and its airings claimed in the database (one conditional
UPDATE, with a short wait) ahead of the set time, and a programme whose claim cannot be written does not
air. Its journal file keeps what happened until the as-run rows are in the database (`settle.py`).
An emergency cuts what is on air; the cut programme's unfinished items re-air afterwards ("resume"),
all of it ("restart") or nothing ("skip"). This is the only module that imports APScheduler.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from filelock import FileLock, Timeout

from broadcaster.clock import Clock, SystemClock
from broadcaster.domain import AsRunEntry, Outcome, Priority
from broadcaster.errors import BroadcasterError, PlayoutError
from broadcaster.playout.asrun import (
    ItemSpan,
    Played,
    item_entries,
    missed_entries,
    session_trigger,
    to_resume,
)
from broadcaster.playout.ear import Ear, Ears
from broadcaster.playout.faults import AlreadyTaken, ClaimLost, fault_cause
from broadcaster.playout.journal import ON_AIR, OnAirJournal, item_to_json
from broadcaster.playout.player import Player
from broadcaster.playout.players.base import PLAY_DIR_PREFIX
from broadcaster.playout.prepare import Preparer
from broadcaster.playout.prepared import OnAir, Prepared
from broadcaster.playout.settle import Settler
from broadcaster.playout.source import (
    RESUME_POLICIES,
    Built,
    DaemonSettings,
    DaemonStatus,
    Holder,
    Lease,
    Planned,
    Source,
    Unwritable,
)
from broadcaster.playout.wake import Waker

__all__ = ["RESUME_POLICIES", "Built", "Daemon", "DaemonSettings", "Planned", "Source"]

log = logging.getLogger("broadcaster.daemon")

# The job fires this early; the last stretch is waited out precisely on the monotonic clock.
EARLY_S = 0.25
# A programme cut by an emergency re-airs this long after the emergency ends (time to assemble it).
RESUME_AFTER = timedelta(seconds=2)
CUT_NOTE = "bị cắt để phát tin khẩn cấp"
# "Missed" means the daemon was not running at the set time: nothing else is logged with this cause.
DOWN_NOTE = "trạm phát không chạy vào giờ phát (máy tắt hoặc lỗi)"
# Missed although this daemon had scheduled it ahead of time: the set time was jumped over while it ran.
LATE_NOTE = "đã quá giờ phát dù trạm phát vẫn chạy (đồng hồ máy bị chỉnh tới trước, hoặc máy ngủ, bị treo)"
NO_CLAIM_NOTE = "không ghi được cơ sở dữ liệu để nhận phát nên không phát (tránh phát hai lần)"
# Players decode into HOME/tmp, so a killed daemon's leftovers are found and removed at the next start.
SCRATCH_DIR = "tmp"


def new_holder(home: Path) -> Holder:
    """An id for this daemon process: host, PID and a random part (a PID is reused after a restart)."""
    host, pid = socket.gethostname(), os.getpid()
    return Holder(f"{host}/{pid}/{uuid4().hex[:12]}", host, pid, str(home))


def clean_scratch(folder: Path) -> int:
    """Remove the play folders a killed daemon left in `folder`; returns how many."""
    stale = list(folder.glob(f"{PLAY_DIR_PREFIX}*")) if folder.is_dir() else []
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return len(stale)


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
        lease: Lease | None = None,
        wakers: Sequence[Waker] = (),
        chores: Sequence[tuple[float, Callable[[], None]]] = (),
        ear: Ear | None = None,
    ) -> None:
        self._source = source
        self._player = player
        self._clock = clock
        self._wall = SystemClock()  # APScheduler's own time base: only to translate run dates into it
        self._settings = settings
        self._allowed = allowed
        self._lease = lease
        self.holder = new_holder(home)
        self._lock = FileLock(str(home / "daemon.lock"))
        self._pidfile = home / "daemon.pid"
        self._scratch = home / SCRATCH_DIR
        self._journal = OnAirJournal(home)
        self._settler = Settler(source, self._journal, clock, self.holder, settings.claim_wait_s)
        self._preparer = Preparer(source, player, clock, self._journal, self.holder, settings)
        self._active: set[datetime] = set()
        self._scheduled: dict[datetime, tuple[tuple[int, int], ...]] = {}
        self._state = threading.Lock()
        self._stopping = threading.Event()
        self._on_air: OnAir | None = None
        self._preempted: set[datetime] = set()
        self._resume: list[int] = []
        self._threads: set[threading.Thread] = set()
        self._wakers = tuple(wakers)
        self._chores = tuple(chores)  # (every seconds, job): background work beside the airing
        self.ears = Ears(ear, clock)  # the off-air check: records the output while a programme airs
        self._wake = threading.Event()
        self._sync_thread: threading.Thread | None = None
        self._scheduler = BackgroundScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    @property
    def aired(self) -> list[int]:
        """Ids of the as-run rows this daemon wrote."""
        return self._settler.recorded

    # -- life cycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Take the home's lock and the station's lease, settle what an earlier run left, start the jobs."""
        try:
            self._lock.acquire(timeout=0.5)
        except Timeout:
            holder = self._pidfile.read_text().strip() if self._pidfile.exists() else "?"
            raise PlayoutError(
                f"Đài này đã có một tiến trình phát đang chạy (PID {holder}).",
                "Dừng tiến trình đó trước, hoặc dùng nó — mỗi đài chỉ chạy một tiến trình phát.",
            ) from None
        try:
            self._pidfile.write_text(str(os.getpid()))
            if removed := clean_scratch(self._scratch):
                log.info("Đã xóa %d thư mục tạm do lần chạy trước để lại.", removed)
            if self._lease is not None:
                self._acquire_lease(self._lease)
            self._settler.recover(self._journal.leftovers(), self._source.unbuilt)
        except BaseException:
            self._release_home()
            raise
        self._scheduler.start()
        self.sync()
        self._sync_thread = threading.Thread(target=self._sync_loop, name="daemon-sync", daemon=True)
        self._sync_thread.start()
        for waker in self._wakers:
            try:
                waker.start(self.wake)
            except OSError as exc:  # the re-sync still runs every resync_s
                log.warning("Không bật được cách đánh thức trạm phát tức thì: %s", exc)
        retry = self._settings.record_retry_s
        self._scheduler.add_job(self._safe_flush, "interval", seconds=retry, id="flush")
        if self._lease is not None:
            beat = max(0.5, self._settings.lease_ttl.total_seconds() / 3)
            self._scheduler.add_job(self._heartbeat, "interval", seconds=beat, id="lease")
        for n, (every_s, chore) in enumerate(self._chores):
            self._scheduler.add_job(
                self._safe_chore, "interval", seconds=every_s, args=[chore], id=f"chore-{n}"
            )
            self._scheduler.add_job(self._safe_chore, "date", args=[chore], id=f"chore-{n}-first")

    @staticmethod
    def _safe_chore(chore: Callable[[], None]) -> None:
        try:
            chore()
        except Exception:  # background work never stops the airing
            log.exception("Việc nền của trạm phát thất bại")

    def _acquire_lease(self, lease: Lease) -> None:
        """Take the station's lease, waiting while the database is locked (until `request_stop`)."""
        waited = False
        while True:
            try:
                lease.acquire(self.holder, self._clock.now(), self._settings.lease_ttl)
            except Unwritable as exc:
                if not waited:
                    log.warning("Cơ sở dữ liệu đang bận (%s); chờ để nhận quyền phát của đài.", exc.message)
                    waited = True
                if self._stopping.wait(1.0):
                    raise PlayoutError(
                        "Trạm phát dừng trước khi nhận được quyền phát (cơ sở dữ liệu vẫn bận).",
                        "Kiểm tra tiến trình nào đang khóa cơ sở dữ liệu rồi chạy lại.",
                    ) from None
                continue
            if waited:
                log.info("Đã nhận quyền phát của đài.")
            return

    def request_stop(self) -> None:
        """Ask a daemon still starting (waiting for the database) to give up; `stop` does the rest."""
        self._stopping.set()

    def stop(self) -> None:
        """Cut what is on air (logged as interrupted), give back unused claims, release the lease and lock."""
        self._stopping.set()
        for waker in self._wakers:
            waker.stop()
        self._wake.set()
        if self._sync_thread is not None:
            self._sync_thread.join(timeout=10)
        with self._state:
            on_air = self._on_air
        if on_air is not None:
            on_air.playback.stop()
        self._scheduler.shutdown(wait=True)
        for thread in list(self._threads):
            thread.join(timeout=10)
        self.ears.wait(timeout=60)  # the last programme's off-air verdicts are written before the end
        for when, prepared, token in self._preparer.close_all():  # prepared, never aired: give it back
            self._settler.release(when, prepared.airing_ids, token)
        if left := self._settler.flush():
            log.warning(
                "Còn %d chương trình chưa ghi được vào nhật ký phát sóng; đã giữ trong nhật ký trực tiếp, "
                "sẽ ghi khi trạm phát chạy lại.",
                left,
            )
        if self._lease is not None:
            try:
                self._lease.release(self.holder, self._clock.now())
            except BroadcasterError as exc:
                log.warning("Không trả được quyền phát của đài: %s", exc.one_line())
        self._release_home()

    def _release_home(self) -> None:
        self._pidfile.unlink(missing_ok=True)
        self._lock.release()

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is scheduled, preparing, on air or waiting to be logged (the demo uses it)."""
        deadline = self._clock.monotonic() + timeout
        while self._clock.monotonic() < deadline:
            with self._state:
                busy = bool(self._scheduled) or self._on_air is not None or bool(self._threads)
            if not busy and not self._settler.waiting():
                return True
            time.sleep(0.05)
        return False

    def _safe_flush(self) -> None:
        try:
            self._settler.flush()
        except Exception:  # the retry loop keeps running whatever one round does
            log.exception("Ghi bù nhật ký phát sóng thất bại")

    def _heartbeat(self) -> None:
        """Renew the station's lease and tell the database what this daemon is doing."""
        assert self._lease is not None
        with self._state:
            on_air = self._on_air
        status = DaemonStatus(
            "on_air" if on_air else "idle",
            on_air.planned_start if on_air else None,
            len(self._settler.waiting()),
        )
        try:
            held = self._lease.renew(self.holder, self._clock.now(), self._settings.lease_ttl, status)
        except BroadcasterError as exc:
            log.debug("Chưa gia hạn được quyền phát: %s", exc.one_line())
            return
        if not held and not self._preparer.lease_lost:
            log.error("Một trạm phát khác đã nhận quyền phát đài này; trạm này không nhận phát buổi nào nữa.")
        self._preparer.lease_lost = not held

    # -- planning ---------------------------------------------------------------------------------
    def wake(self) -> None:
        """Re-read the plan now (a change was committed, e.g. an emergency), not at the next re-sync."""
        self._wake.set()

    def _sync_loop(self) -> None:
        """Re-sync every `resync_s`, or at once when woken."""
        while not self._stopping.is_set():
            self._wake.wait(self._settings.resync_s)
            self._wake.clear()
            if not self._stopping.is_set():
                self._safe_sync()

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
        pending = self._source.pending(now - timedelta(days=7), now + self._settings.horizon, self.holder.id)
        waiting = self._settler.waiting()
        with self._state:
            # On air, being settled, or with rows waiting in the journal: not to be scheduled again.
            busy = self._active | waiting
        wanted: dict[datetime, Planned] = {}
        for ps in pending:
            if ps.planned_start in busy:
                continue
            if (now - ps.planned_start) > grace:
                self._settle_missed(ps)
            else:
                wanted[ps.planned_start] = ps
        released: list[tuple[datetime, Prepared, str]] = []
        with self._state:
            # An airing job that has fired is past its start check: leave it alone, its rows come soon.
            for when in [w for w in self._scheduled if w not in wanted and w not in busy and w > now]:
                released.extend(self._drop(when, forget=True))
            for when, ps in wanted.items():
                if self._scheduled.get(when) == ps.signature:
                    continue
                self._drop(when, forget=False)
                self._scheduled[when] = ps.signature
                prepare_at = max(now, when - self._settings.lead)
                self._scheduler.add_job(
                    self._safe_prepare,
                    "date",
                    run_date=self._run_date(prepare_at),
                    args=[ps],
                    id=f"prep-{when.isoformat()}",
                )
                fire = max(now, when - timedelta(seconds=EARLY_S))
                self._scheduler.add_job(
                    self._run_air,
                    "date",
                    run_date=self._run_date(fire),
                    args=[ps],
                    id=f"air-{when.isoformat()}",
                )
                log.info("Đã lên lịch buổi %s lúc %s", ps.session_code, when.isoformat())
        for when, prepared, token in released:  # taken out of the plan after its claim: give it back
            self._settler.release(when, prepared.airing_ids, token)

    def _run_date(self, instant: datetime) -> datetime:
        """When APScheduler, which runs on the wall clock, should fire for `instant` on the daemon's clock.

        The same instant with the system clock; with any other clock, the same delay from now.
        """
        return self._wall.now() + (instant - self._clock.now())

    def _settle_missed(self, ps: Planned) -> None:
        """Log a session whose set time passed beyond the grace: the daemon was down, or ran but too late."""
        when = ps.planned_start
        with self._state:
            ran = when in self._scheduled  # scheduled by this daemon before its time: it was running
        if not ran:
            self._settle_unaired(ps, DOWN_NOTE, Outcome.MISSED)
            return
        log.warning("Bỏ lỡ buổi %s: %s", when.isoformat(), LATE_NOTE)
        self._settle_unaired(ps, LATE_NOTE, Outcome.MISSED)
        with self._state:  # its jobs would only build it again and find it settled
            if when not in self._active:
                self._drop(when, forget=False)
                self._preparer.done(when)

    def _drop(self, when: datetime, *, forget: bool) -> list[tuple[datetime, Prepared, str]]:
        """Remove a session's jobs and prepared playback; returns the claim to give back if `forget`."""
        self._scheduled.pop(when, None)
        for prefix in ("prep", "air"):
            job = self._scheduler.get_job(f"{prefix}-{when.isoformat()}")
            if job is not None:
                job.remove()
        claim = self._preparer.drop(when, forget=forget)
        return [(when, *claim)] if claim is not None else []

    # -- preparing and claiming -------------------------------------------------------------------
    def _safe_prepare(self, ps: Planned) -> None:
        with self._state:
            if self._stopping.is_set() or self._scheduled.get(ps.planned_start) != ps.signature:
                return  # the plan changed since this job was added: its successor prepares
        try:
            self._preparer.prepare(ps)
        except AlreadyTaken:
            return  # the air job got there first: it is on air or logged
        except ClaimLost as exc:
            log.warning("Buổi %s: %s", ps.planned_start.isoformat(), exc.message)
        except (BroadcasterError, OSError) as exc:
            self._retry_prepare(ps, self._preparer.failed(ps, fault_cause(exc)))
        except Exception as exc:
            if not self._preparer.has_failed(ps.planned_start):
                log.exception("Chưa chuẩn bị được buổi %s", ps.planned_start.isoformat())
            self._retry_prepare(ps, self._preparer.failed(ps, fault_cause(exc), logged=True))
        else:
            self._preparer.succeeded(ps.planned_start)

    def _retry_prepare(self, ps: Planned, delay: float) -> None:
        """Prepare again after `delay` seconds if that is still before air (the air job tries last anyway)."""
        when = ps.planned_start
        retry_at = self._clock.now() + timedelta(seconds=delay)
        if retry_at >= when - timedelta(seconds=EARLY_S + self._settings.claim_wait_s):
            return
        with self._state:
            if self._scheduled.get(when) == ps.signature and not self._stopping.is_set():
                self._scheduler.add_job(
                    self._safe_prepare,
                    "date",
                    run_date=self._run_date(retry_at),
                    args=[ps],
                    id=f"prep-{when.isoformat()}",
                    replace_existing=True,
                )

    # -- airing -----------------------------------------------------------------------------------
    def _run_air(self, ps: Planned) -> None:
        thread = threading.current_thread()
        with self._state:
            self._threads.add(thread)
            self._active.add(ps.planned_start)
        self.ears.open(ps.planned_start)
        try:
            self._air(ps)
        except Exception as exc:
            log.exception("Lỗi khi phát buổi %s", ps.planned_start.isoformat())
            # Airings already settled are skipped by the database: this only covers what was not.
            try:
                self._settle_unaired(ps, f"lỗi trong trạm phát: {fault_cause(exc)}", Outcome.FAILED)
            except Exception:
                log.exception("Không ghi được nhật ký buổi %s", ps.planned_start.isoformat())
        finally:
            self.ears.close(ps.planned_start)
            self._preparer.done(ps.planned_start)
            with self._state:
                self._threads.discard(thread)
                self._active.discard(ps.planned_start)
                if self._scheduled.get(ps.planned_start) == ps.signature:
                    self._scheduled.pop(ps.planned_start, None)

    def _air(self, ps: Planned) -> None:
        if self._stopping.is_set():
            return
        when = ps.planned_start
        try:
            prepared = self._preparer.prepare(ps)
        except ClaimLost as exc:
            log.warning("Không phát buổi %s: %s", when.isoformat(), exc.message)
            return
        except Unwritable as exc:
            log.error("Không phát buổi %s: %s (%s)", when.isoformat(), NO_CLAIM_NOTE, exc.message)
            self._settle_unaired(ps, f"{NO_CLAIM_NOTE}: {exc.message}", Outcome.FAILED)
            return
        except (BroadcasterError, OSError) as exc:
            cause = fault_cause(exc)
            log.error("Không phát được buổi %s: %s", when.isoformat(), cause)
            self._settle_unaired(ps, f"không dựng được chương trình: {cause}", Outcome.FAILED)
            return
        # The on-air state is written now and put in place by a rename at the start (no write then).
        token = self._preparer.token(when)
        items = [item_to_json(i) for i in prepared.built.items]
        on_air_record = {**self._preparer.meta(ps), "state": ON_AIR, "token": token, "items": items}
        self._journal.stage(when, {**on_air_record, "started_at": when.isoformat()})
        self._wait_until(when)
        on_air = OnAir(when, ps.priority, prepared.playback)
        # An emergency cuts what is on air (unless it is another emergency: that one ends first).
        cut = self._preempt() if ps.priority is Priority.EMERGENCY else None
        if not self._take_air(on_air, timeout=self._settings.grace.total_seconds()):
            log.warning("Buổi %s: chương trình trước vẫn đang phát quá lâu.", when.isoformat())
        try:
            now = self._clock.now()
            reason = None
            if not self._allowed(now, prepared.built.duration_s, ps.priority):
                reason, outcome = "ngoài khung giờ cho phép", Outcome.SKIPPED
            elif (now - when) > self._settings.grace or not self._holds_air(on_air):
                reason, outcome = "quá thời gian cho phép phát muộn", Outcome.MISSED
            if self._stopping.is_set():
                self._journal.discard_staged(when)
                return  # stop() closes it and gives the claim back
            if reason is not None:
                self._journal.discard_staged(when)
                self._free_air(on_air)  # the next programme need not wait for this one's rows
                self._settle_unaired(ps, reason, outcome)
                return
            self._preparer.take(when)
            self._play(ps, prepared, on_air_record, on_air)
        finally:
            self._free_air(on_air)
            on_air.settled.set()
        if cut is not None:
            self._resume_after(cut)

    def _take_air(self, on_air: OnAir, timeout: float) -> bool:
        """Become the programme on air as soon as the output is free (checked and taken in one step)."""
        deadline = self._clock.monotonic() + timeout
        while not self._stopping.is_set():
            with self._state:
                if self._on_air is None:
                    self._on_air = on_air
                    return True
            if self._clock.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return False

    def _holds_air(self, on_air: OnAir) -> bool:
        with self._state:
            return self._on_air is on_air

    def _free_air(self, on_air: OnAir) -> None:
        """Give the output back, if this programme still holds it (never another programme's)."""
        with self._state:
            if self._on_air is on_air:
                self._on_air = None

    def _play(self, ps: Planned, prepared: Prepared, on_air_record: dict[str, Any], on_air: OnAir) -> None:
        """Start the player, wait for it, and settle what played (the journal marks it on air first)."""
        when, built = ps.planned_start, prepared.built
        trigger = session_trigger(ps.session_code, ps.priority)
        # In place before the start: a kill from here on is logged as interrupted, never aired again.
        self._journal.activate(when)
        try:
            started = prepared.playback.start()
        except BroadcasterError as exc:
            prepared.playback.close()
            log.error("Không phát được buổi %s: %s", when.isoformat(), exc.one_line())
            self._settle_unaired(ps, f"bộ phát lỗi: {exc.one_line()}", Outcome.FAILED, built.items)
            return
        self.ears.began(when)
        journal = self._journal.write(when, {**on_air_record, "started_at": started.isoformat()})
        result = None
        try:
            while result is None:
                result = prepared.playback.wait(timeout=0.5)
                journal.touch()  # heartbeat: after a kill, its mtime bounds how much played
                if result is None and self._stopping.is_set():
                    result = prepared.playback.stop()
        finally:
            if result is None:  # the player itself raised: cut it and log what it reports
                result = prepared.playback.stop()
            prepared.playback.close()
        self._free_air(on_air)  # the output is free: an emergency waiting for it starts now
        with self._state:
            preempted = when in self._preempted
            self._preempted.discard(when)
        if result.error:
            log.error("Buổi %s: %s", when.isoformat(), result.error)
        played = Played(result.started_at, result.ended_at, result.played_s, result.completed, result.error)
        if result.completed:
            note = self._settings.note
        else:
            note = CUT_NOTE if preempted else (self._settings.note or "bị cắt khi đang phát")
        entries = item_entries(
            built.items,
            played,
            planned_start=when,
            trigger=trigger,
            session_code=ps.session_code,
            player=self._player.name,
            note=note,
        )
        self._settle(ps, entries)
        self.ears.ended(when, built.path, built.items, entries, result.played_s)
        if preempted:
            self._keep_for_resume(entries)

    def _settle(self, ps: Planned, entries: Sequence[AsRunEntry]) -> None:
        when = ps.planned_start
        self._settler.settle(when, entries, self._preparer.token(when), self._preparer.meta(ps))

    def _settle_unaired(
        self, ps: Planned, reason: str, outcome: Outcome, items: Sequence[ItemSpan] | None = None
    ) -> None:
        """Log a programme that did not air (missed, skipped, failed) with its true cause."""
        prepared = self._preparer.take(ps.planned_start)
        if prepared is not None:
            prepared.playback.close()
            items = items or prepared.built.items
        if items is None:
            try:
                items = self._source.unbuilt(ps.planned_start)
            except BroadcasterError as exc:
                log.error(
                    "Không đọc được buổi %s để ghi nhật ký: %s", ps.planned_start.isoformat(), exc.one_line()
                )
                return
        trigger = session_trigger(ps.session_code, ps.priority)
        entries = missed_entries(
            items,
            planned_start=ps.planned_start,
            session_code=ps.session_code,
            reason=reason,
            outcome=outcome,
            trigger=trigger,
        )
        self._settle(ps, entries)

    def _preempt(self) -> OnAir | None:
        """An emergency is due: cut what is on air now and wait until the output is free."""
        with self._state:
            on_air = self._on_air
            if on_air is None or on_air.priority is Priority.EMERGENCY:
                return None
            self._preempted.add(on_air.planned_start)
        log.warning("Cắt buổi %s để phát tin khẩn cấp.", on_air.planned_start.isoformat())
        on_air.playback.stop()
        return on_air

    def _keep_for_resume(self, entries: Sequence[AsRunEntry]) -> None:
        ids = to_resume(entries, self._settings.resume_policy)
        with self._state:
            self._resume.extend(ids)

    def _resume_after(self, cut: OnAir) -> None:
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
