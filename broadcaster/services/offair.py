"""The off-air verdicts: written beside the as-run rows the daemon's ear judged, read for alerts and reports.

A verdict is a new fact about a row, in its own append-only table (`off_air`), never an edit of the
row: the hash chain is untouched and a verdict can be added after the row (its rows may reach the
database later than the ear finishes, when the database was locked at air time).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from broadcaster import labels
from broadcaster.clock import Clock
from broadcaster.domain import OffAir, Outcome
from broadcaster.errors import AirLogError
from broadcaster.store.db import transaction
from broadcaster.store.models import AsRunRow, OffAirRow

PLAYED = (Outcome.COMPLETED.value, Outcome.INTERRUPTED.value)


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, _ctx: Any, _instances: Any) -> None:
    """Verdicts are facts: added once, never changed or removed (as the as-run rows they speak of)."""
    for obj in session.dirty:
        if isinstance(obj, OffAirRow) and session.is_modified(obj):
            raise AirLogError(
                "Kết quả nghe đường ra loa không được sửa.", "Mỗi lượt phát có một kết quả, ghi một lần."
            )
    for obj in session.deleted:
        if isinstance(obj, OffAirRow):
            raise AirLogError(
                "Kết quả nghe đường ra loa không được xóa.", "Mỗi lượt phát có một kết quả, ghi một lần."
            )


def _aired_row(session: Session, station_id: int, airing_id: int) -> AsRunRow | None:
    """The as-run row of one airing that played (its original, not a correction)."""
    q = (
        select(AsRunRow)
        .where(AsRunRow.station_id == station_id, AsRunRow.airing_id == airing_id)
        .where(AsRunRow.corrects_id.is_(None), AsRunRow.outcome.in_(PLAYED))
        .order_by(AsRunRow.seq.desc())
        .limit(1)
    )
    return session.scalars(q).first()


def record_verdicts(
    session: Session, station_id: int, doc: dict[str, Any], *, recording: str, now: datetime
) -> bool:
    """Write the verdicts of one programme (the ear's file, parsed); False while a row is not logged yet.

    Idempotent: a row that already has its verdict is left as it is.
    """
    complete = True
    for item in doc.get("items", []):
        row = _aired_row(session, station_id, int(item["airing_id"]))
        if row is None:
            complete = False
            continue
        if session.scalar(select(OffAirRow.id).where(OffAirRow.as_run_id == row.id)) is not None:
            continue
        session.add(
            OffAirRow(
                station_id=station_id,
                as_run_id=row.id,
                verdict=OffAir(item["verdict"]).value,
                similarity=float(item["similarity"]),
                dead_air_ms=round(float(item["dead_air_s"]) * 1000),
                delay_ms=round(float(item.get("delay_s", 0.0)) * 1000),
                detected_at=datetime.fromisoformat(item["detected_at"]),
                recording=recording,
                recorded_at=now,
            )
        )
    session.flush()
    return complete


@dataclass
class VerdictWriter:
    """The ear's `deliver`: one transaction per verdict file; True once every verdict is in."""

    sessions: sessionmaker[Session]
    station_id: int
    clock: Clock
    home: Path

    def __call__(self, path: Path) -> bool:
        """Write the verdicts in `path` (the ear's JSON file)."""
        doc = json.loads(path.read_text(encoding="utf-8"))
        try:
            recording = str((path.parent / doc["recording"]).relative_to(self.home))
        except ValueError:
            recording = str(path.parent / doc["recording"])
        with transaction(self.sessions) as session:
            return record_verdicts(session, self.station_id, doc, recording=recording, now=self.clock.now())


def heard_ids() -> ColumnElement[bool]:
    """SQL: the as-run row was heard (it, or the row it corrects, has a 'heard' verdict)."""
    heard = select(OffAirRow.as_run_id).where(OffAirRow.verdict == OffAir.HEARD.value)
    return AsRunRow.id.in_(heard) | AsRunRow.corrects_id.in_(heard)


def verdicts_of(session: Session, row_ids: Sequence[int]) -> dict[int, OffAir]:
    """The verdict of each of these as-run rows that has one."""
    if not row_ids:
        return {}
    q = select(OffAirRow.as_run_id, OffAirRow.verdict).where(OffAirRow.as_run_id.in_(list(row_ids)))
    return {row_id: OffAir(verdict) for row_id, verdict in session.execute(q)}


@dataclass(frozen=True)
class OffAirAlert:
    """An airing that was not heard as planned."""

    verdict: OffAir
    at: datetime | None
    title: str
    detail: str


def off_air_alerts(session: Session, rows: Sequence[Any]) -> list[OffAirAlert]:
    """The alerts of these as-run rows (the dashboard's day) whose ear heard silence or something else."""
    by_id = {r.id: r for r in rows}
    if not by_id:
        return []
    q = (
        select(OffAirRow)
        .where(OffAirRow.as_run_id.in_(list(by_id)), OffAirRow.verdict != OffAir.HEARD.value)
        .order_by(OffAirRow.detected_at)
    )
    out = []
    for v in session.scalars(q):
        row = by_id[v.as_run_id]
        verdict = OffAir(v.verdict)
        if verdict is OffAir.SILENT:
            detail = f"{labels.OFF_AIR_ALERT[verdict]}: lặng {v.dead_air_ms / 1000:.0f} giây khi đang phát."
        else:
            detail = f"{labels.OFF_AIR_ALERT[verdict]} (độ giống {v.similarity:.2f})."
        detail += " Kiểm tra bộ khuếch đại, dây loa và âm lượng; bản ghi: " + v.recording
        out.append(OffAirAlert(verdict, row.actual_start or row.planned_start, row.title, detail))
    return out


def beat_alerts(session: Session, station_id: int, now: datetime) -> list[str]:
    """The heartbeat's lines: airings not heard as planned in the last 24 hours."""
    q = (
        select(OffAirRow.verdict, func.count(OffAirRow.id))
        .where(OffAirRow.station_id == station_id, OffAirRow.detected_at >= now - timedelta(hours=24))
        .where(OffAirRow.verdict != OffAir.HEARD.value)
        .group_by(OffAirRow.verdict)
        .order_by(OffAirRow.verdict)
    )
    return [
        f"{labels.OFF_AIR_ALERT[OffAir(v)]}: {n} lượt trong 24 giờ qua" for v, n in session.execute(q).all()
    ]
