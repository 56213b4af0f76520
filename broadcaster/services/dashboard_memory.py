"""What the dashboard keeps between views in the process that serves the console.

The as-run chain is verified only when its head (row count, last hash) or the signed head changed since
the last view, or when the last verdict is older than `ChainVerdicts.max_age`; the rows the `report
--due` rule reads are kept until the head moves (rows are only ever appended); the programme frame's
lengths come from renders already made and are read again after a minute.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import airlog, labels, planning
from broadcaster.domain import AsRunRecord
from broadcaster.errors import BroadcasterError
from broadcaster.planning.calendar import local_day, station_zone
from broadcaster.reports import compliance as comp
from broadcaster.reports.compliance import DueItem
from broadcaster.services import chain, reporting
from broadcaster.services.programmes import FrameSettings
from broadcaster.store.models import RenderRow, StationRow
from broadcaster.witness import Witness


@dataclass(frozen=True)
class ChainView:
    """The as-run chain's verdict: rows, head, the first problem found and the station key."""

    ok: bool
    rows: int
    head_hash: str
    problem: str = ""  # "dòng id=12 (số thứ tự 12) — bị sửa: ..."
    signed_rows: int | None = None
    key: str = ""
    checked_at: datetime | None = None
    # Intact but for rows after the last signed head: a leader may check them and sign a new head.
    unsigned: bool = False


class ChainVerdicts:
    """The chain's verdict per station, reused while its head and signed head stay the same."""

    def __init__(self, max_age: timedelta = timedelta(minutes=10)) -> None:
        self.max_age = max_age
        self.verifications = 0  # how many full verifications ran (tests and benches read it)
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[tuple[object, ...], datetime, ChainView]] = {}

    def view(
        self,
        session: Session,
        station: StationRow,
        witness: Witness,
        now: datetime,
        head: tuple[int, str] | None = None,
    ) -> ChainView:
        """The chain's verdict: from memory while nothing moved (`head`: rows and hash, if just read)."""
        rows, head_hash = head or airlog.head_of(session, station.id)
        try:
            signed = witness.last(station.code)
        except BroadcasterError as exc:  # a head file that fails its signature is itself the finding
            return ChainView(False, rows, head_hash, exc.one_line(), checked_at=now)
        key = (rows, head_hash, signed.to_json() if signed else None)
        with self._lock:
            seen = self._seen.get(station.code)
        if seen is not None and seen[0] == key and now - seen[1] < self.max_age:
            return seen[2]
        check = chain.verify_chain(session, station, witness)
        with self._lock:
            self.verifications += 1
        verdict = _chain_view(check, now)
        with self._lock:
            self._seen[station.code] = (key, now, verdict)
        return verdict


def _chain_view(check: chain.ChainCheck, now: datetime) -> ChainView:
    result, problem = check.result, check.result.problem
    text = ""
    if problem is not None:
        text = (
            f"dòng id={problem.row_id} (số thứ tự {problem.seq}) — "
            f"{labels.chain_problem(problem.kind)}: {problem.message}"
        )
    signed = check.signed.rows if check.signed else None
    unsigned = problem is not None and problem.kind == "unsigned"
    return ChainView(result.ok, result.rows, result.head_hash, text, signed, check.key, now, unsigned)


@dataclass
class DashboardMemory:
    """What the dashboard keeps between views in one process: chain verdicts and the frame's lengths."""

    witness: Witness
    frame_of: Callable[[StationRow], FrameSettings]
    speak: Callable[[str], str]
    verdicts: ChainVerdicts = field(default_factory=ChainVerdicts)
    shape_age: timedelta = timedelta(minutes=1)
    _shapes: dict[str, tuple[datetime, planning.ProgrammeShape]] = field(default_factory=dict)
    _signatures: dict[tuple[str, int], float] = field(default_factory=dict)
    _records: dict[str, tuple[tuple[object, ...], list[AsRunRecord]]] = field(default_factory=dict)

    def due(
        self, session: Session, station: StationRow, now: datetime, head: tuple[int, str]
    ) -> list[DueItem]:
        """Campaigns at risk (`reporting.due_items`' rule), its rows kept until the chain's head moves."""
        zone = station_zone(station)
        today = local_day(now, zone)
        campaigns = [c for c in reporting.station_campaigns(session, station) if c.active_on(today)]
        if not campaigns:
            return []
        since = reporting.due_window_start(campaigns, today)
        codes = [c.code for c in campaigns]
        key = (head, since, tuple(codes))
        seen = self._records.get(station.code)
        if seen is None or seen[0] != key:
            start = datetime.combine(since, time(0), zone)
            seen = (key, reporting.load_records(session, station, start=start, campaign_codes=codes))
            self._records[station.code] = seen
        planned = reporting.planned_airings(session, station, now)
        return comp.due(campaigns, seen[1], planned, now=now, zone=zone)

    def shape(self, session: Session, station: StationRow, now: datetime) -> planning.ProgrammeShape:
        """The programme frame's lengths from the renders already made (never renders on a page view)."""
        seen = self._shapes.get(station.code)
        if seen is not None and now - seen[0] < self.shape_age:
            return seen[1]
        frame = self.frame_of(station)
        shape = planning.ProgrammeShape(
            signature_s=self._signature_s(frame.signature),
            ident_s=_frame_seconds(session, "ident", self._spoken(frame.ident_text)),
            closing_s=_frame_seconds(session, "closing", self._spoken(frame.closing_text)),
            gap_s=frame.gap_s,
            repeat=frame.repeat,
        )
        self._shapes[station.code] = (now, shape)
        return shape

    def _spoken(self, text: str) -> str:
        try:
            return self.speak(text) if text.strip() else ""
        except BroadcasterError:
            return ""

    def _signature_s(self, path: Path | None) -> float:
        if path is None or not path.is_file():
            return 0.0
        key = (str(path), path.stat().st_mtime_ns)
        if key not in self._signatures:
            from broadcaster.audio.ffmpeg import probe

            try:
                self._signatures[key] = probe(path).duration_s
            except BroadcasterError:
                self._signatures[key] = 0.0
        return self._signatures[key]


def _frame_seconds(session: Session, kind: str, spoken: str) -> float:
    if not spoken:
        return 0.0
    digest = hashlib.sha256(spoken.encode("utf-8")).hexdigest()
    q = (
        select(RenderRow.duration_s)
        .where(RenderRow.kind == kind, RenderRow.spoken_sha256 == digest, RenderRow.revision_id.is_(None))
        .order_by(RenderRow.id.desc())
        .limit(1)
    )
    return float(session.scalar(q) or 0.0)
