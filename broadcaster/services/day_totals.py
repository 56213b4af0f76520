"""Per-day totals of the as-run log per (station, campaign), aggregated in SQL (or numpy on SQLite).

services.reporting re-exports day_series; the record loaders it falls back on live there.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from itertools import groupby
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, and_, case, cast, func, literal_column, or_, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from broadcaster.domain import AsRunRecord, Campaign
from broadcaster.reports import compliance as comp
from broadcaster.reports.compliance import CountingRules
from broadcaster.reports.series import METRICS, DaySeries, Series, record_metrics
from broadcaster.services.asrun_records import (
    forwarded_superseded,
    load_forwarded_records,
    load_records,
    superseded_ids,
)
from broadcaster.services.offair import heard_ids
from broadcaster.store.models import AsRunRow, ForwardedAsRunRow, StationRow

# The station's own log, or (at a district server) the logs its stations forwarded: the same columns.
LogTable = type[AsRunRow] | type[ForwardedAsRunRow]

__all__ = ["day_series"]

_EPS = 1e-9
_EPOCH = date(1970, 1, 1).toordinal()


def _fixed_offset(zone: tzinfo, first: date, last: date) -> timedelta | None:
    """The zone's UTC offset if it is the same on every day of [first, last] (Vietnam: +7 since 1975)."""
    offsets = {
        datetime.combine(first + timedelta(days=n), time(0), zone).utcoffset()
        for n in range(0, (last - first).days + 1)
    }
    return offsets.pop() if len(offsets) == 1 else None


def _local_day(
    session: Session, zone: tzinfo, first: date, last: date, t: LogTable = AsRunRow
) -> ColumnElement[Any] | None:
    """SQL for a row's local day (actual, else planned start): a date on PostgreSQL, else days since 1970."""
    anchor = func.coalesce(t.actual_start, t.planned_start)
    if session.get_bind().dialect.name == "postgresql":
        return cast(func.timezone(str(zone), anchor), Date)
    offset = _fixed_offset(zone, first, last)
    if offset is None:
        return None
    # SQLite stores naive UTC text; a fixed shift gives the local day exactly, as an integer (cheap to read).
    # Literals, not bound parameters: SQLite then sees GROUP BY and ORDER BY as the same expression and
    # sorts once.
    shift: ColumnElement[str] = literal_column(f"'{int(offset.total_seconds() // 60):+d} minutes'")
    return cast(func.julianday(anchor, shift) - literal_column("2440587.5"), Integer)


def day_series(
    session: Session,
    stations: Sequence[StationRow],
    campaigns: Sequence[Campaign],
    *,
    now: datetime,
    rules: CountingRules,
    forwarded: bool = False,
    since: date | None = None,
    few: bool = False,
) -> Series:
    """Per (station id, campaign code), the totals of every local day, aggregated in SQL (GROUP BY).

    Rows replaced by a correction are taken away afterwards, by the same aggregate over them alone
    (corrections are rare: it runs only when the aggregate saw one). A zone whose offset changes over
    the campaigns' span on SQLite falls back to reading the rows. `forwarded`: the logs the stations
    forwarded to this district server, not the stations' own. `since`: only the local days from then
    on (each exactly as without it), reading only the rows from the day before on (an index range).
    `few`: the stations are a few of those with rows, so filter on them rather than on the codes alone.
    """
    out: Series = {}
    codes = sorted({c.code for c in campaigns})
    if not stations or not codes:
        return out
    first = (since or min(c.period_start for c in campaigns)) - timedelta(days=2)
    last = max(max(c.period_end for c in campaigns), now.date()) + timedelta(days=2)
    span = _Span(ForwardedAsRunRow if forwarded else AsRunRow, codes, first, last, since, few)
    corrected, exact = _collect(session, out, stations, span, rules)
    # A window may hold a replaced row whose correction it does not (one dated otherwise): always look.
    if corrected or since is not None:
        ids = [st.id for st in stations]
        dropped = forwarded_superseded(session, ids) if forwarded else superseded_ids(session, ids)
        rest = [st for st in stations if st.id not in exact]
        if dropped and rest:
            replaced: Series = {}
            _collect(session, replaced, rest, span, rules, sorted(dropped))
            _subtract(out, replaced)
    if since is not None:  # the day before `since` was read in part
        out = {key: _from_day(series, since.toordinal()) for key, series in out.items()}
    return out


@dataclass(frozen=True)
class _Span:
    """What one day_series call reads: which log, the campaigns' codes, the days, and from when."""

    t: LogTable
    codes: list[str]
    first: date
    last: date
    since: date | None
    few: bool


def _collect(
    session: Session,
    out: Series,
    stations: Sequence[StationRow],
    span: _Span,
    rules: CountingRules,
    only: list[int] | None = None,
) -> tuple[bool, set[int]]:
    """Add the stations' day totals (of the rows with ids `only`, if given) to `out`, zone by zone.

    Returns whether a correction was among the rows aggregated, and the stations whose records were
    read instead (with corrections already applied).
    """
    t, codes = span.t, span.codes
    load = load_forwarded_records if t is ForwardedAsRunRow else load_records
    by_zone: dict[str, list[StationRow]] = {}
    for st in stations:
        by_zone.setdefault(st.timezone, []).append(st)
    corrected, exact = False, set()
    for zone_name, group in by_zone.items():
        zone = ZoneInfo(zone_name)
        day = _local_day(session, zone, span.first, span.last, t)
        ids = [st.id for st in group]
        # A day early, so that every row of a local day from `since` on is read whatever the zone.
        filtered = ids if span.few or len(ids) == 1 else None
        rows = _Rows(t, codes, filtered, _midnight(span.since, zone), only, rules.heard_only)
        if day is not None and session.get_bind().dialect.name != "sqlite":
            corrected |= _aggregate(session, out, ids, rows, day, rules)
            continue
        streamed = _stream(session, out, ids, codes, rows, day, rules) if day is not None else None
        if streamed is not None:
            corrected |= streamed
            continue
        for st in group:  # the exact, slower path: read the records
            maps: dict[str, dict[int, list[int]]] = {}
            # Corrections applied as read (or, for `only`, the replaced rows themselves).
            for rec in load(session, st, campaign_codes=codes, effective=only is None, ids=only):
                _add(maps, rec, zone, rules)
            out.update({(st.id, code): DaySeries.from_map(m) for code, m in maps.items()})
            exact.add(st.id)
    return corrected, exact


def _subtract(out: Series, taken: Series) -> None:
    """Take the day totals `taken` (rows that `out` counted) away from `out`."""
    for key, minus in taken.items():
        found = out.get(key)
        if found is None:
            continue
        by_day = found.to_map()
        for day, values in minus.to_map().items():
            kept = by_day.get(day)
            if kept is not None:
                by_day[day] = [a - b for a, b in zip(kept, values, strict=True)]
        out[key] = DaySeries.from_map(by_day)


def _midnight(day: date | None, zone: tzinfo) -> datetime | None:
    """The start of the local day before `day` (None: None)."""
    return None if day is None else datetime.combine(day - timedelta(days=1), time(0), zone)


def _from_day(series: DaySeries, ordinal: int) -> DaySeries:
    """The series without its days before `ordinal`."""
    cut = bisect_left(series.days, ordinal)
    return DaySeries(series.days[cut:], [column[cut:] for column in series.columns]) if cut else series


@dataclass(frozen=True)
class _Rows:
    """Which rows an aggregate reads: the campaigns' (and, if given, the stations'), from `start` on."""

    t: LogTable
    codes: list[str]
    station_ids: list[int] | None
    start: datetime | None
    row_ids: list[int] | None = None
    heard_only: bool = False  # only rows the ear heard (services.heard_totals merges in the rest)

    def where(self) -> list[ColumnElement[bool]]:
        """The filters, each served by an index on (campaign_code or station_id, actual_start), or ids."""
        t, ids, start = self.t, self.station_ids, self.start
        found: list[ColumnElement[bool]] = [t.campaign_code.in_(self.codes)]
        if self.row_ids is not None:
            found.append(t.id.in_(self.row_ids))
        if ids is not None:
            found.append(t.station_id == ids[0] if len(ids) == 1 else t.station_id.in_(ids))
        if start is not None:  # coalesce(actual_start, planned_start) >= start, split for the index
            unaired = and_(t.actual_start.is_(None), t.planned_start >= start)
            found.append(or_(t.actual_start >= start, unaired))
        if self.heard_only and t is AsRunRow:
            found.append(heard_ids())
        return found


_DAY_SPAN = 2_000_000  # day numbers (days since 1970, shifted by 1,000,000) fit below this
_BITS = 28  # bits for one packed duration in milliseconds
_CAP = (1 << _BITS) - 2  # the largest duration packed as itself (about 74 hours)


def _stream(
    session: Session,
    out: Series,
    station_ids: list[int],
    codes: list[str],
    rows_read: _Rows,
    day: ColumnElement[Any],
    rules: CountingRules,
) -> bool | None:
    """SQLite: one pass over the rows, two integers each, summed per day with numpy; None: use records.

    SQLite has no hash aggregation: a GROUP BY on the local day sorts every row (measured 3.3× a
    plain COUNT/SUM over the same rows at 250,000 rows, before any Python work), while reading two
    integers per row and summing with numpy costs about 2.2× (scripts/bench/report_scale.py).
    """
    import numpy as np  # only large reports need it; keeps the CLI's start-up light

    t = rows_read.t
    outcome = t.outcome

    def bit(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return type_coerce(condition, Integer)  # SQLite comparisons are already 0 or 1: no CAST per row

    code_index: Any = (
        case({code: n for n, code in enumerate(codes)}, value=t.campaign_code, else_=-1)
        if len(codes) > 1
        else literal_column("0")
    )
    key = (t.station_id * 64 + code_index) * _DAY_SPAN + func.ifnull(day + 1_000_000, 0)
    flags = (
        bit(outcome == "completed")
        + 2 * bit(outcome == "interrupted")
        + 4 * bit(outcome == "missed")
        + 8 * bit(outcome == "failed")
        + 16 * bit(outcome == "skipped")
        + 32 * bit(t.corrects_id.is_not(None))
    )
    # Two integers per row instead of four: the DB-API builds one Python object per value, which is
    # most of the cost. Durations are clamped to [-1, _CAP] and shifted by one to pack them; a row at
    # either bound (never seen in a real log: 74 hours) sends the caller to the exact path.
    shifted_played = func.min(func.max(t.played_ms, -1), _CAP) + 1
    shifted_clip = func.min(func.max(t.clip_ms, -1), _CAP) + 1
    packed = flags + 64 * shifted_played + (64 << _BITS) * shifted_clip
    q = select(key, packed).where(*rows_read.where())
    # The DB-API cursor of the session's own connection: plain tuples, which numpy reads in C.
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(_compiled(session, q))
        rows = cursor.fetchall()
    finally:
        cursor.close()
    if not rows:
        return False
    data = np.array(rows, dtype=np.int64)
    flag = data[:, 1] & 63
    played = ((data[:, 1] >> 6) & ((1 << _BITS) - 1)) - 1
    clip = (data[:, 1] >> (6 + _BITS)) - 1
    if (played < 0).any() or (clip < 0).any() or (played >= _CAP).any() or (clip >= _CAP).any():
        return None
    completed, interrupted = (flag & 1) > 0, (flag & 2) > 0
    # compliance.counts_as_airing, vectorised: played / clip + eps >= fraction, multiplied out.
    heard = played + _EPS * clip >= rules.min_played_fraction * clip
    counted = completed | (interrupted & (clip > 0) & heard)
    keys, where = np.unique(data[:, 0], return_inverse=True)

    def total(weights: Any) -> Any:
        return np.bincount(where, weights=weights, minlength=len(keys))

    sums = [total(counted), total(np.where(completed | interrupted, played, 0))]
    sums += [total((flag >> b) & 1) for b in (1, 2, 3, 4)]
    groups, offsets = np.divmod(keys, _DAY_SPAN)
    dated = offsets > 0  # 0: neither an actual nor a planned start
    wanted = set(station_ids)
    for group in np.unique(groups[dated]).tolist():
        station_id, code_at = divmod(group, 64)
        if station_id not in wanted or not 0 <= code_at < len(codes):
            continue
        mask = dated & (groups == group)
        day_array = offsets[mask] - 1_000_000 + _EPOCH
        columns = [col[mask].astype(np.int64) for col in sums]
        out[(station_id, codes[code_at])] = DaySeries(
            day_array.tolist(),
            [c.tolist() for c in columns],
            [np.concatenate(([0], np.cumsum(c))).tolist() for c in columns],
            day_array[columns[0] > 0].tolist(),
        )
    return bool(((flag >> 5) & 1).any())


def _compiled(session: Session, q: Any) -> str:
    """SQL text with the values inlined (codes and numbers, escaped by SQLAlchemy), for the DB-API cursor."""
    return str(q.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}))


def _aggregate(
    session: Session,
    out: Series,
    station_ids: list[int],
    rows_read: _Rows,
    day: ColumnElement[Any],
    rules: CountingRules,
) -> bool:
    t = rows_read.t
    outcome, played, clip = t.outcome, t.played_ms, t.clip_ms

    def count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.sum(case((condition, 1), else_=0))

    # The same rule as compliance.counts_as_airing: played / clip + eps >= fraction, multiplied out.
    counted = (outcome == "completed") | and_(
        outcome == "interrupted", clip > 0, played + _EPS * clip >= rules.min_played_fraction * clip
    )
    q = select(
        t.station_id,
        t.campaign_code,
        day,
        count(counted),
        func.sum(case((outcome.in_(("completed", "interrupted")), played), else_=0)),
        count(outcome == "interrupted"),
        count(outcome == "missed"),
        count(outcome == "failed"),
        count(outcome == "skipped"),
        count(t.corrects_id.is_not(None)),
    ).where(*rows_read.where())
    # Filters cost per row: one station (or a few) is worth filtering on; for many, the campaign code
    # already selects (nearly) only their rows and the rest are dropped below. Undated rows too.
    keys = (t.station_id, t.campaign_code, day)
    q = q.group_by(*keys).order_by(*keys)
    wanted, corrected = set(station_ids), False
    rows = session.connection().execute(q).fetchall()  # in C, not row by row
    for (station_id, code), group in groupby(rows, key=itemgetter(0, 1)):
        if station_id not in wanted:
            continue
        # Transpose the day rows in C (zip) rather than row by row: this is the hot loop of large reports.
        _, _, days, *columns, corrections = zip(*group, strict=True)
        if days[0] is None or days[-1] is None:  # rows with neither an actual nor a planned start
            keep = [i for i, d in enumerate(days) if d is not None]
            if not keep:
                continue
            days = tuple(days[i] for i in keep)
            columns = [tuple(c[i] for i in keep) for c in columns]
            corrections = tuple(corrections[i] for i in keep)
        ordinals = [d.toordinal() for d in days] if isinstance(days[0], date) else [d + _EPOCH for d in days]
        out[(station_id, code)] = DaySeries(ordinals, [list(c) for c in columns])
        corrected |= any(corrections)
    return corrected


def _add(maps: dict[str, dict[int, list[int]]], rec: AsRunRecord, zone: tzinfo, rules: CountingRules) -> None:
    day = comp.record_day(rec, zone)
    if day is None or rec.campaign_code is None:
        return
    values = maps.setdefault(rec.campaign_code, {}).setdefault(day.toordinal(), [0] * len(METRICS))
    for i, v in enumerate(record_metrics(rec, rules)):
        values[i] += v
