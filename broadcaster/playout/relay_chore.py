"""The daemon's relays: each one opened ahead of its start, started on the second, logged when it ends.

A chore run every second by the daemon looks at the relays due soon (`RelaySource.upcoming`, the
sessions' relays not yet logged); each is opened `lead_s` ahead in its own thread (the stream starts
buffering), begins at its start instant, ends at its length, and is logged through
`RelaySource.log` with what was received, each drop-out and the filler. A relay whose start passed
more than `grace_s` ago without airing (the daemon was down) is logged missed; one outside the allowed
hours is never started and is logged as skipped, with why.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from broadcaster.clock import Clock
from broadcaster.domain import AsRunEntry, Outcome, RelayOccurrence, Trigger
from broadcaster.errors import BroadcasterError
from broadcaster.playout.relay import PcmSink, Relay, RelayResult, RelaySpec

log = logging.getLogger("broadcaster.daemon")


class RelaySource(Protocol):
    """Where the relays come from and where their as-run rows go (the database, in services/)."""

    def upcoming(self, start: datetime, end: datetime) -> Sequence[RelayOccurrence]:
        """Relays starting in [start, end) that the as-run log does not hold yet."""
        ...

    def allowed(self, relay: RelayOccurrence) -> str:
        """Empty if the relay may air (within the allowed hours), else why not (one Vietnamese line)."""
        ...

    def log(self, entry: AsRunEntry) -> None:
        """Append the relay's as-run row."""
        ...

    def emergency_since(self, start: datetime, until: datetime) -> bool:
        """Whether an emergency was started for [start, until) (it cuts a relay on air)."""
        ...


@dataclass(frozen=True)
class RelaySettings:
    """How early a relay's source is opened, how late a missed one still starts, the filler's cue."""

    lead_s: float = 20.0
    grace_s: float = 60.0
    silence_s: float = 5.0
    filler: Path | None = None


def vn_seconds(value: float) -> str:
    """Seconds with a decimal comma ("3,4")."""
    return f"{value:.1f}".replace(".", ",")


def relay_note(relay: RelayOccurrence, result: RelayResult) -> str:
    """What the as-run row says of a relay: received of planned, each drop-out, the filler."""
    got, planned = vn_seconds(result.received_s), vn_seconds(result.duration_s)
    parts = [f"Tiếp sóng {relay.source}: nhận được {got}/{planned} giây"]
    if result.dropouts:
        each = "; ".join(
            f"lúc {vn_seconds(d.at_s)} giây, dài {vn_seconds(d.length_s)} giây" for d in result.dropouts
        )
        parts.append(f"{len(result.dropouts)} lần mất tín hiệu ({each})")
    else:
        parts.append("không mất tín hiệu lần nào")
    if result.filler_s:
        parts.append(f"phát âm thanh thay thế {vn_seconds(result.filler_s)} giây")
    if result.stopped:
        parts.append("bị dừng trước giờ kết thúc")
    if result.error and not result.received_s:
        parts.append(f"lỗi: {result.error}")
    return "; ".join(parts) + "."


def relay_entry(relay: RelayOccurrence, result: RelayResult, player: str) -> AsRunEntry:
    """The as-run row of a relay that aired (played_ms: the stream received; clip_ms: the planned length)."""
    if not result.received_s:
        outcome = Outcome.FAILED
    elif result.stopped:
        outcome = Outcome.INTERRUPTED
    else:
        outcome = Outcome.COMPLETED
    error_ms = round((result.started_at - relay.start).total_seconds() * 1000)
    return AsRunEntry(
        outcome,
        Trigger.SCHEDULE,
        planned_start=relay.start,
        actual_start=result.started_at,
        actual_end=result.ended_at,
        played_ms=round(result.received_s * 1000),
        clip_ms=round(result.duration_s * 1000),
        start_error_ms=error_ms,
        session_code=relay.session_code,
        title=f"Tiếp sóng: {relay.name}",
        player=f"relay/{player}",
        note=relay_note(relay, result),
    )


def unaired_entry(relay: RelayOccurrence, outcome: Outcome, why: str) -> AsRunEntry:
    """The as-run row of a relay that did not air: missed (the daemon was not running) or skipped."""
    return AsRunEntry(
        outcome,
        Trigger.SCHEDULE,
        planned_start=relay.start,
        clip_ms=round(relay.length.total_seconds() * 1000),
        session_code=relay.session_code,
        title=f"Tiếp sóng: {relay.name}",
        note=why,
    )


class RelayChore:
    """Called every second by the daemon: opens, starts and logs the relays due."""

    def __init__(
        self,
        source: RelaySource,
        sink_factory: Callable[[RelayOccurrence], PcmSink],
        clock: Clock,
        settings: RelaySettings,
        player: str = "",
    ) -> None:
        self._source = source
        self._sink_factory = sink_factory
        self._clock = clock
        self._settings = settings
        self._player = player
        self._taken: set[tuple[str, datetime]] = set()
        self._running: dict[tuple[str, datetime], Relay] = {}
        self._lock = threading.Lock()

    def __call__(self) -> None:
        now = self._clock.now()
        grace = timedelta(seconds=self._settings.grace_s)
        with self._lock:
            on_air = [(key, relay) for key, relay in self._running.items() if key[1] <= now]
        for (_, start), running in on_air:  # an emergency cuts the relay (it airs alone)
            if self._source.emergency_since(start, now + timedelta(seconds=5)):
                log.warning("Dừng tiếp sóng: có tin khẩn cấp.")
                running.stop()
        for relay in self._source.upcoming(now - grace * 10, now + timedelta(seconds=self._settings.lead_s)):
            key = (relay.session_code, relay.start)
            with self._lock:
                if key in self._taken:
                    continue
                self._taken.add(key)
            if now > relay.start + grace:
                why = "Trạm phát không chạy vào giờ tiếp sóng."
                self._source.log(unaired_entry(relay, Outcome.MISSED, why))
                log.warning("Lỡ tiếp sóng %s lúc %s.", relay.name, relay.start)
                continue
            refused = self._source.allowed(relay)
            if refused:
                self._source.log(unaired_entry(relay, Outcome.SKIPPED, refused))
                log.warning("Không tiếp sóng %s: %s", relay.name, refused)
                continue
            threading.Thread(
                target=self._air, args=(relay,), name=f"relay-{relay.session_code}", daemon=True
            ).start()

    def stop_all(self) -> None:
        """End every relay on air now (the daemon stops, an emergency cuts in)."""
        with self._lock:
            running = list(self._running.values())
        for relay in running:
            relay.stop()

    def _air(self, occ: RelayOccurrence) -> None:
        key = (occ.session_code, occ.start)
        filler = Path(occ.filler) if occ.filler else self._settings.filler
        # Started late (the daemon came up during it): only what is left of it, ending on time.
        length = min(occ.length, occ.end - self._clock.now()).total_seconds()
        spec = RelaySpec(occ.source, max(0.0, length), self._settings.silence_s, filler)
        try:
            relay = Relay(spec, lambda: self._sink_factory(occ), self._clock)
            with self._lock:
                self._running[key] = relay
            relay.open()
            wait = (occ.start - self._clock.now()).total_seconds()
            if wait > 0:
                time.sleep(wait)
            result = relay.run()
            self._source.log(relay_entry(occ, result, self._player))
            log.info("Đã tiếp sóng %s: %s", occ.name, relay_note(occ, result))
        except BroadcasterError as exc:
            self._source.log(unaired_entry(occ, Outcome.FAILED, exc.one_line()))
            log.error("Không tiếp sóng được %s: %s", occ.name, exc.one_line())
        finally:
            with self._lock:
                self._running.pop(key, None)
