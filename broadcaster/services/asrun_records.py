"""As-run rows read back from the database as the reports see them, with corrections applied."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVarTuple

from sqlalchemy import CompoundSelect, Select, and_, func, select, union_all
from sqlalchemy.orm import Session, aliased

from broadcaster.domain import AsRunRecord, OffAir, Outcome, Priority, Trigger
from broadcaster.store.models import AsRunRow, BulletinRow, ForwardedAsRunRow, OffAirRow, StationRow

_Ts = TypeVarTuple("_Ts")

_RECORD_COLUMNS = (
    AsRunRow.id,
    AsRunRow.campaign_code,
    AsRunRow.bulletin_id,
    AsRunRow.revision_number,
    AsRunRow.planned_start,
    AsRunRow.actual_start,
    AsRunRow.actual_end,
    AsRunRow.played_ms,
    AsRunRow.clip_ms,
    AsRunRow.outcome,
    AsRunRow.trigger,
    AsRunRow.priority,
    AsRunRow.sha256,
    AsRunRow.title,
    AsRunRow.queued_by,
    AsRunRow.approved_by,
    BulletinRow.agency,
    # The off-air verdict of the row, or of the row it corrects (a correction is about the same airing).
    select(OffAirRow.verdict)
    .where(OffAirRow.as_run_id == func.coalesce(AsRunRow.corrects_id, AsRunRow.id))
    .scalar_subquery()
    .label("heard"),
)


def anchored(q: Select[*_Ts], start: datetime | None, end: datetime | None = None) -> CompoundSelect[*_Ts]:
    """`q` (over as_run, with its station) kept to rows whose actual, else planned, start is in [start, end).

    The same rows as a filter on coalesce(actual_start, planned_start), which no index serves: the aired
    rows are a range of the (station_id, actual_start) index, the rows that never started its NULL part.
    """
    aired, unaired = q.where(AsRunRow.actual_start.is_not(None)), q.where(AsRunRow.actual_start.is_(None))
    if start is not None:
        aired, unaired = (
            aired.where(AsRunRow.actual_start >= start),
            unaired.where(AsRunRow.planned_start >= start),
        )
    if end is not None:
        aired, unaired = aired.where(AsRunRow.actual_start < end), unaired.where(AsRunRow.planned_start < end)
    return union_all(aired, unaired)


def superseded_ids(session: Session, station_ids: Sequence[int] | None = None) -> set[int]:
    """Ids of rows replaced by a newer correction: every corrected original and every older correction."""
    q = select(AsRunRow.id, AsRunRow.corrects_id, AsRunRow.station_id, AsRunRow.seq)
    q = q.where(AsRunRow.corrects_id.is_not(None))
    if station_ids is not None:
        q = q.where(AsRunRow.station_id.in_(station_ids))
    newest: dict[int, tuple[int, int]] = {}
    out: set[int] = set()
    for row_id, target, _station, seq in session.connection().execute(q):
        assert target is not None  # filtered above
        out.add(target)
        best = newest.get(target)
        if best is None or seq > best[0]:
            if best is not None:
                out.add(best[1])
            newest[target] = (seq, row_id)
        else:
            out.add(row_id)
    return out


def load_records(
    session: Session,
    station: StationRow,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    campaign_codes: Sequence[str] | None = None,
    outcomes: Sequence[Outcome] | None = None,
    effective: bool = True,
    ids: Iterable[int] | None = None,
) -> list[AsRunRecord]:
    """A station's as-run rows as report records, dated by actual (else planned) start in [start, end).

    With `effective`, a corrected row is replaced by its newest correction (older ones drop out).
    Only the columns a record needs are read, not ORM objects.
    """
    anchor = func.coalesce(AsRunRow.actual_start, AsRunRow.planned_start)
    q = select(*_RECORD_COLUMNS).outerjoin(BulletinRow, BulletinRow.id == AsRunRow.bulletin_id)
    q = q.where(AsRunRow.station_id == station.id).order_by(anchor, AsRunRow.seq)
    if start is not None:
        q = q.where(anchor >= start)
    if end is not None:
        q = q.where(anchor < end)
    if campaign_codes is not None:
        q = q.where(AsRunRow.campaign_code.in_(campaign_codes))
    if outcomes is not None:
        q = q.where(AsRunRow.outcome.in_([o.value for o in outcomes]))
    if ids is not None:
        q = q.where(AsRunRow.id.in_(list(ids)))
    dropped = superseded_ids(session, [station.id]) if effective else set()
    return [_record(station.code, row) for row in session.connection().execute(q) if row[0] not in dropped]


def _record(station_code: str, r: Any) -> AsRunRecord:
    return AsRunRecord(
        station_code=station_code,
        campaign_code=r.campaign_code,
        bulletin_id=r.bulletin_id,
        revision=r.revision_number,
        planned_start=r.planned_start,
        actual_start=r.actual_start,
        actual_end=r.actual_end,
        played_s=r.played_ms / 1000,
        clip_s=r.clip_ms / 1000,
        outcome=Outcome(r.outcome),
        trigger=Trigger(r.trigger),
        priority=Priority(r.priority),
        sha256=r.sha256,
        title=r.title,
        agency=r.agency or "",
        queued_by=r.queued_by,
        approved_by=r.approved_by,
        row_id=r.id,
        heard=OffAir(r.heard) if r.heard else None,
    )


# -- the logs stations forwarded to a district server ---------------------------------------------------


def forwarded_superseded(session: Session, station_ids: Sequence[int]) -> set[int]:
    """Ids (here) of forwarded rows replaced by a newer correction, as `superseded_ids` for own rows.

    A forwarded correction names the row it corrects by the station's own id (`station_row_id`): the
    rows named are found by joining on (station, that id), not by every row with such an id anywhere.
    """
    f = ForwardedAsRunRow
    q = select(f.id, f.station_id, f.corrects_id, f.seq).where(
        f.station_id.in_(station_ids), f.corrects_id.is_not(None)
    )
    corrections = session.execute(q).all()
    if not corrections:
        return set()
    original = aliased(ForwardedAsRunRow)
    named = and_(original.station_id == f.station_id, original.station_row_id == f.corrects_id)
    out = set(session.scalars(q.with_only_columns(original.id).select_from(f).join(original, named)))
    newest: dict[tuple[int, int], tuple[int, int]] = {}
    for row_id, st, target, seq in corrections:
        assert target is not None  # filtered above
        best = newest.get((st, target))
        if best is None or seq > best[0]:
            if best is not None:
                out.add(best[1])
            newest[(st, target)] = (seq, row_id)
        else:
            out.add(row_id)
    return out


def load_forwarded_records(
    session: Session,
    station: StationRow,
    *,
    campaign_codes: Sequence[str] | None = None,
    ids: Iterable[int] | None = None,
    effective: bool = True,
) -> list[AsRunRecord]:
    """A station's forwarded rows as report records (what the district's reports read)."""
    f = ForwardedAsRunRow
    q = select(f).where(f.station_id == station.id).order_by(f.seq)
    if campaign_codes is not None:
        q = q.where(f.campaign_code.in_(campaign_codes))
    if ids is not None:
        q = q.where(f.id.in_(list(ids)))
    dropped = forwarded_superseded(session, [station.id]) if effective else set()
    return [_forwarded_record(station.code, row) for row in session.scalars(q) if row.id not in dropped]


def _forwarded_record(station_code: str, row: ForwardedAsRunRow) -> AsRunRecord:
    values = json.loads(row.content)

    def instant(key: str) -> datetime | None:
        text = values.get(key)
        return datetime.fromisoformat(text.replace("Z", "+00:00")) if isinstance(text, str) else None

    return AsRunRecord(
        station_code=station_code,
        campaign_code=row.campaign_code,
        bulletin_id=values.get("bulletin_id"),
        revision=values.get("revision_number"),
        planned_start=row.planned_start,
        actual_start=row.actual_start,
        actual_end=instant("actual_end"),
        played_s=row.played_ms / 1000,
        clip_s=row.clip_ms / 1000,
        outcome=Outcome(row.outcome),
        trigger=Trigger(row.trigger),
        priority=Priority(values.get("priority") or "normal"),
        sha256=values.get("sha256"),
        title=row.title,
        queued_by=values.get("queued_by"),
        approved_by=values.get("approved_by"),
        row_id=row.id,
    )
