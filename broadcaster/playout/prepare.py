"""Preparing a programme ahead of its set time: build it, make its player ready, claim its airings.

The claim is one conditional UPDATE per airing (`Source.claim`), taken after the programme is built and
its journal file written, so a crash between the two gives the claim back at the next start. A failure
is logged once per cause; the daemon prepares again after a pause that doubles each time.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

from broadcaster.clock import Clock
from broadcaster.errors import PlayoutError
from broadcaster.playout.faults import AlreadyTaken, ClaimLost
from broadcaster.playout.journal import CLAIMED, OnAirJournal, item_to_json
from broadcaster.playout.player import Player
from broadcaster.playout.prepared import Prepared, intact
from broadcaster.playout.source import DaemonSettings, Holder, Planned, Source

log = logging.getLogger("broadcaster.daemon")


class Preparer:
    """The prepared programmes of one daemon, their claim tokens and their failures."""

    def __init__(
        self,
        source: Source,
        player: Player,
        clock: Clock,
        journal: OnAirJournal,
        holder: Holder,
        settings: DaemonSettings,
    ) -> None:
        self._source = source
        self._player = player
        self._clock = clock
        self._journal = journal
        self._holder = holder
        self._settings = settings
        self._lock = threading.Lock()
        self._prepared: dict[datetime, Prepared] = {}
        self._gates: dict[datetime, threading.Lock] = {}
        self._tokens: dict[datetime, str] = {}
        self._failures: dict[datetime, tuple[str, float]] = {}
        # Programmes taken for air (or to be logged as not aired), kept a day: never prepared again.
        self._taken: set[datetime] = set()
        self.lease_lost = False

    def meta(self, ps: Planned) -> dict[str, Any]:
        """What the journal keeps about a programme besides its items."""
        return {"session_code": ps.session_code, "priority": ps.priority.value, "player": self._player.name}

    def token(self, when: datetime) -> str | None:
        """The claim token of the programme planned at `when`, if it was claimed or tried."""
        with self._lock:
            return self._tokens.get(when)

    def prepare(self, ps: Planned) -> Prepared:
        """Build (or reuse) the programme and claim its airings; raises on failure."""
        with self._lock:
            gate = self._gates.setdefault(ps.planned_start, threading.Lock())
        with gate:  # the prepare job and the air job may race: build and claim once
            prepared = self._build(ps)
            if not prepared.claimed:
                self._claim(ps, prepared)
            return prepared

    def failed(self, ps: Planned, cause: str, *, logged: bool = False) -> float:
        """Note a failure (logged once per cause); returns the pause before the next try."""
        when = ps.planned_start
        with self._lock:
            last = self._failures.get(when)
            delay = (
                self._settings.prepare_retry_s
                if last is None
                else min(2 * last[1], self._settings.prepare_retry_max_s)
            )
            self._failures[when] = (cause, delay)
        if not logged and (last is None or last[0] != cause):
            log.warning("Chưa chuẩn bị được buổi %s: %s (sẽ thử lại)", when.isoformat(), cause)
        return delay

    def has_failed(self, when: datetime) -> bool:
        """True when preparing this programme failed at least once."""
        with self._lock:
            return when in self._failures

    def succeeded(self, when: datetime) -> None:
        """Preparing worked: the next failure is logged again."""
        with self._lock:
            self._failures.pop(when, None)

    def take(self, when: datetime) -> Prepared | None:
        """Remove the prepared programme (it goes on air, or is logged as not aired)."""
        with self._lock:
            self._taken.add(when)
            return self._prepared.pop(when, None)

    def drop(self, when: datetime, *, forget: bool) -> tuple[Prepared, str] | None:
        """Close a prepared playback; with `forget`, also return its claim to give back."""
        with self._lock:
            prepared = self._prepared.pop(when, None)
            token = self._tokens.pop(when, None) if forget else None
            if forget:
                self._failures.pop(when, None)
        if prepared is not None:
            prepared.playback.close()
        if prepared is not None and prepared.claimed and token is not None:
            return prepared, token
        return None

    def done(self, when: datetime) -> None:
        """The programme has aired or been logged: forget its gate and failures."""
        with self._lock:
            self._gates.pop(when, None)
            self._failures.pop(when, None)
            self._taken = {t for t in self._taken if t > when - timedelta(days=1)}

    def close_all(self) -> list[tuple[datetime, Prepared, str]]:
        """At stop: close every prepared playback; returns the claims to give back."""
        with self._lock:
            held = list(self._prepared.items())
            self._prepared.clear()
            tokens = dict(self._tokens)
        for _when, prepared in held:
            prepared.playback.close()
        return [(w, p, tokens[w]) for w, p in held if p.claimed and w in tokens]

    def _build(self, ps: Planned) -> Prepared:
        with self._lock:
            # A prepare job that ran late (after the air job took the programme) would build it again
            # and overwrite its on-air journal with "claimed": a kill then would air it a second time.
            if ps.planned_start in self._taken:
                raise AlreadyTaken("Buổi phát đã lên sóng hoặc đã ghi nhật ký.", "Không cần làm gì.")
            ready = self._prepared.get(ps.planned_start)
        if ready is not None and ready.signature == ps.signature:
            if intact(ready.built):
                return ready
            # The file changed or vanished since it was built: build (and re-render) again.
            log.warning("Tệp chương trình %s bị thiếu hoặc hỏng, dựng lại.", ready.built.path)
        built = self._source.build(ps.planned_start)
        if built is None:
            raise PlayoutError("Buổi phát không còn tin nào.", "Không cần làm gì.")
        if not intact(built):
            raise PlayoutError(
                f"Tệp chương trình {built.path} không khớp mã kiểm tra sau khi dựng.",
                "Kiểm tra ổ đĩa và thư mục media của đài.",
            )
        prepared = Prepared(ps.signature, built, self._player.prepare(built.path))
        log.debug("Đã dựng buổi %s: %s", ps.planned_start.isoformat(), built.path.name)
        # Rebuilt from the same airings: the claim already taken still covers it.
        prepared.claimed = ready is not None and ready.claimed and ready.airing_ids == prepared.airing_ids
        with self._lock:
            old = self._prepared.pop(ps.planned_start, None)
            self._prepared[ps.planned_start] = prepared
        if old is not None:
            old.playback.close()
        return prepared

    def _claim(self, ps: Planned, prepared: Prepared) -> None:
        """Claim the programme's airings in the database: journal first, so a crash gives the claim back."""
        when = ps.planned_start
        if self.lease_lost:
            raise ClaimLost("Trạm phát này đã mất quyền phát đài.", "Dừng trạm phát này hoặc trạm phát kia.")
        with self._lock:
            token = self._tokens.setdefault(when, uuid4().hex)
        items = [item_to_json(i) for i in prepared.built.items]
        self._journal.write(when, {**self.meta(ps), "state": CLAIMED, "token": token, "items": items})
        lost = self._source.claim(
            prepared.airing_ids, token, self._holder.id, self._clock.now(), self._settings.claim_wait_s
        )
        if lost:
            raise ClaimLost(
                f"lượt phát {', '.join(map(str, sorted(lost)))} đã được trạm phát khác nhận "
                "hoặc đã gỡ khỏi lịch.",
                "Không cần làm gì: lịch được đồng bộ lại.",
            )
        prepared.claimed = True
        log.debug("Đã nhận phát buổi %s (lượt %s)", when.isoformat(), prepared.airing_ids)
