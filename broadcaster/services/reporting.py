"""Proof of airtime from the database: as-run records, corrections, compliance aggregated in SQL.

Printable documents and CSV live in services.documents and the per-day series arithmetic in
reports.series; their public names are re-exported here so existing imports keep working.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, and_, case, cast, func, literal_column, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from broadcaster import airlog
from broadcaster.domain import AsRunRecord, Campaign, Outcome, Priority, Role, Target, Trigger
from broadcaster.errors import InputError, NotFoundError
from broadcaster.reports import compliance as comp
from broadcaster.reports.compliance import ComplianceReport, CountingRules, DueItem
from broadcaster.reports.periods import PeriodKind, local_date
from broadcaster.reports.series import METRICS, DaySeries, Series, record_metrics, report_from_series
from broadcaster.services import audit
from broadcaster.services.users import require_role
from broadcaster.store.models import (
    AiringRow,
    AsRunRow,
    BulletinRow,
    CampaignRow,
    StationRow,
    TargetRow,
)

if TYPE_CHECKING:
    # services.documents builds on the loaders below, so it is imported on first use (see __getattr__).
    from broadcaster.services.documents import (
        COMPLIANCE_CSV_HEADER,
        compliance_csv,
        compliance_document,
        letterhead,
        place_from_ward,
        programme_log_document,
        render_document,
        write_atomic,
        write_compliance_pdf,
    )

__all__ = [
    "COMPLIANCE_CSV_HEADER",
    "METRICS",
    "DaySeries",
    "Series",
    "compliance_csv",
    "compliance_document",
    "compliance_reports",
    "correct",
    "corrections_of",
    "day_series",
    "district_compliance",
    "due_items",
    "letterhead",
    "load_records",
    "place_from_ward",
    "planned_airings",
    "programme_log_document",
    "record_metrics",
    "render_document",
    "report_from_series",
    "select_campaigns",
    "station_campaigns",
    "station_zone",
    "superseded_ids",
    "write_atomic",
    "write_compliance_pdf",
]
_DOCUMENT_NAMES = frozenset(
    {
        "COMPLIANCE_CSV_HEADER",
        "compliance_csv",
        "compliance_document",
        "letterhead",
        "place_from_ward",
        "programme_log_document",
        "render_document",
        "write_atomic",
        "write_compliance_pdf",
    }
)


def __getattr__(name: str) -> object:
    """The names moved to services.documents, loaded on first use (documents imports this module)."""
    if name in _DOCUMENT_NAMES:
        from broadcaster.services import documents

        return getattr(documents, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names including the lazily re-exported ones (for dir() and help())."""
    return sorted({*globals(), *__all__})


_EPS = 1e-9
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
)


def station_zone(station: StationRow) -> ZoneInfo:
    """The station's time zone."""
    return ZoneInfo(station.timezone)


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
    )


def correct(
    session: Session,
    row_id: int,
    outcome: Outcome,
    *,
    reason: str,
    actor: str | None,
    now: datetime,
    played_s: float | None = None,
) -> AsRunRow:
    """Append a correction of one as-run row (operator or leader); reports then use the newest one."""
    user = require_role(session, actor, Role.OPERATOR, Role.LEADER)
    if not reason.strip():
        raise InputError("Thiếu lý do đính chính.", 'Thêm --reason "lý do" (ai, vì sao, căn cứ nào).')
    original = session.get(AsRunRow, row_id)
    if original is None:
        raise NotFoundError(f"Không có dòng nhật ký id={row_id}.", "Xem id bằng 'broadcaster log list'.")
    played_ms = None if played_s is None else round(played_s * 1000)
    entry = airlog.correction_entry(original, outcome, reason=reason.strip(), played_ms=played_ms)
    row = airlog.append(session, original.station_id, entry, recorded_by=user.name, now=now)
    audit.record(
        session,
        actor=user.name,
        action="as_run.correct",
        object_type="as_run",
        object_id=row.id,
        now=now,
        corrects=entry.corrects_id,
        outcome=outcome.value,
        reason=reason.strip(),
    )
    return row


_EPOCH = date(1970, 1, 1).toordinal()


def _fixed_offset(zone: tzinfo, first: date, last: date) -> timedelta | None:
    """The zone's UTC offset if it is the same on every day of [first, last] (Vietnam: +7 since 1975)."""
    offsets = {
        datetime.combine(first + timedelta(days=n), time(0), zone).utcoffset()
        for n in range(0, (last - first).days + 1)
    }
    return offsets.pop() if len(offsets) == 1 else None


def _local_day(session: Session, zone: tzinfo, first: date, last: date) -> ColumnElement[Any] | None:
    """SQL for a row's local day (actual, else planned start): a date on PostgreSQL, else days since 1970."""
    anchor = func.coalesce(AsRunRow.actual_start, AsRunRow.planned_start)
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
) -> Series:
    """Per (station id, campaign code), the totals of every local day, aggregated in SQL (GROUP BY).

    Rows replaced by a correction are taken away afterwards (corrections are rare, so this costs one
    small extra query only when the aggregate saw a correction). A zone whose offset changes over the
    campaigns' span on SQLite falls back to reading the rows.
    """
    out: Series = {}
    codes = sorted({c.code for c in campaigns})
    if not stations or not codes:
        return out
    first = min(c.period_start for c in campaigns) - timedelta(days=2)
    last = max(max(c.period_end for c in campaigns), now.date()) + timedelta(days=2)
    by_zone: dict[str, list[StationRow]] = {}
    for st in stations:
        by_zone.setdefault(st.timezone, []).append(st)
    corrected = False
    for zone_name, group in by_zone.items():
        zone = ZoneInfo(zone_name)
        day = _local_day(session, zone, first, last)
        ids = [st.id for st in group]
        if day is not None and session.get_bind().dialect.name != "sqlite":
            corrected |= _aggregate(session, out, ids, codes, day, rules)
            continue
        streamed = _stream(session, out, ids, codes, day, rules) if day is not None else None
        if streamed is not None:
            corrected |= streamed
            continue
        for st in group:  # the exact, slower path: read the records
            maps: dict[str, dict[int, list[int]]] = {}
            for rec in load_records(session, st, campaign_codes=codes):
                _add(maps, rec, zone, rules, 1)
            out.update({(st.id, code): DaySeries.from_map(m) for code, m in maps.items()})
    if corrected:
        _take_superseded(session, out, stations, codes, rules)
    return out


_DAY_SPAN = 2_000_000  # day numbers (days since 1970, shifted by 1,000,000) fit below this
_BITS = 28  # bits for one packed duration in milliseconds
_CAP = (1 << _BITS) - 2  # the largest duration packed as itself (about 74 hours)


def _stream(
    session: Session,
    out: Series,
    station_ids: list[int],
    codes: list[str],
    day: ColumnElement[Any],
    rules: CountingRules,
) -> bool | None:
    """SQLite: one pass over the rows, two integers each, summed per day with numpy; None: use records.

    SQLite has no hash aggregation: a GROUP BY on the local day sorts every row (measured 3.3× a
    plain COUNT/SUM over the same rows at 250,000 rows, before any Python work), while reading two
    integers per row and summing with numpy costs about 2.2× (scripts/bench/report_scale.py).
    """
    import numpy as np  # only large reports need it; keeps the CLI's start-up light

    outcome = AsRunRow.outcome

    def bit(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return type_coerce(condition, Integer)  # SQLite comparisons are already 0 or 1: no CAST per row

    code_index: Any = (
        case({code: n for n, code in enumerate(codes)}, value=AsRunRow.campaign_code, else_=-1)
        if len(codes) > 1
        else literal_column("0")
    )
    key = (AsRunRow.station_id * 64 + code_index) * _DAY_SPAN + func.ifnull(day + 1_000_000, 0)
    flags = (
        bit(outcome == "completed")
        + 2 * bit(outcome == "interrupted")
        + 4 * bit(outcome == "missed")
        + 8 * bit(outcome == "failed")
        + 16 * bit(outcome == "skipped")
        + 32 * bit(AsRunRow.corrects_id.is_not(None))
    )
    # Two integers per row instead of four: the DB-API builds one Python object per value, which is
    # most of the cost. Durations are clamped to [-1, _CAP] and shifted by one to pack them; a row at
    # either bound (never seen in a real log: 74 hours) sends the caller to the exact path.
    shifted_played = func.min(func.max(AsRunRow.played_ms, -1), _CAP) + 1
    shifted_clip = func.min(func.max(AsRunRow.clip_ms, -1), _CAP) + 1
    packed = flags + 64 * shifted_played + (64 << _BITS) * shifted_clip
    q = select(key, packed).where(AsRunRow.campaign_code.in_(codes))
    if len(station_ids) == 1:
        q = q.where(AsRunRow.station_id == station_ids[0])
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
    codes: list[str],
    day: ColumnElement[Any],
    rules: CountingRules,
) -> bool:
    outcome, played, clip = AsRunRow.outcome, AsRunRow.played_ms, AsRunRow.clip_ms

    def count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.sum(case((condition, 1), else_=0))

    # The same rule as compliance.counts_as_airing: played / clip + eps >= fraction, multiplied out.
    counted = (outcome == "completed") | and_(
        outcome == "interrupted", clip > 0, played + _EPS * clip >= rules.min_played_fraction * clip
    )
    q = select(
        AsRunRow.station_id,
        AsRunRow.campaign_code,
        day,
        count(counted),
        func.sum(case((outcome.in_(("completed", "interrupted")), played), else_=0)),
        count(outcome == "interrupted"),
        count(outcome == "missed"),
        count(outcome == "failed"),
        count(outcome == "skipped"),
        count(AsRunRow.corrects_id.is_not(None)),
    ).where(AsRunRow.campaign_code.in_(codes))
    # Filters cost per row: one station is worth filtering on; for many, the campaign code already
    # selects (nearly) only their rows and the rest are dropped below. Undated rows are dropped below too.
    if len(station_ids) == 1:
        q = q.where(AsRunRow.station_id == station_ids[0])
    keys = (AsRunRow.station_id, AsRunRow.campaign_code, day)
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


def _add(
    maps: dict[str, dict[int, list[int]]], rec: AsRunRecord, zone: tzinfo, rules: CountingRules, sign: int
) -> None:
    day = comp.record_day(rec, zone)
    if day is None or rec.campaign_code is None:
        return
    values = maps.setdefault(rec.campaign_code, {}).setdefault(day.toordinal(), [0] * len(METRICS))
    for i, v in enumerate(record_metrics(rec, rules)):
        values[i] += sign * v


def _take_superseded(
    session: Session, out: Series, stations: Sequence[StationRow], codes: list[str], rules: CountingRules
) -> None:
    dropped = superseded_ids(session, [st.id for st in stations])
    for st in stations:
        records = load_records(session, st, campaign_codes=codes, effective=False, ids=dropped)
        if not records:
            continue
        maps = {code: series.to_map() for (sid, code), series in out.items() if sid == st.id}
        for rec in records:
            _add(maps, rec, station_zone(st), rules, -1)
        out.update({(st.id, code): DaySeries.from_map(m) for code, m in maps.items()})


def _campaign(row: CampaignRow, t: TargetRow | None) -> Campaign:
    target = (
        Target(t.min_airings_per_week, t.min_airings_per_month, t.min_minutes_per_month, t.max_gap_days)
        if t
        else Target()
    )
    return Campaign(
        code=row.code,
        title=row.title,
        plan_ref=row.plan_ref,
        period_start=row.period_start,
        period_end=row.period_end,
        topics=tuple(row.topics),
        agencies=tuple(row.agencies),
        target=target,
        integrates=tuple(row.integrates),
    )


def _campaigns(
    session: Session, station_ids: Sequence[int], code: str | None = None
) -> list[tuple[int, Campaign]]:
    """(station id, campaign) with targets, in one query (not one per station and campaign)."""
    q = select(CampaignRow, TargetRow).outerjoin(TargetRow, TargetRow.campaign_id == CampaignRow.id)
    q = q.where(CampaignRow.station_id.in_(station_ids)).order_by(CampaignRow.station_id, CampaignRow.code)
    if code is not None:
        q = q.where(CampaignRow.code == code)
    return [(c.station_id, _campaign(c, t)) for c, t in session.execute(q)]


def station_campaigns(session: Session, station: StationRow) -> list[Campaign]:
    """Every campaign of the station with its targets (possibly none), in one query."""
    return [c for _, c in _campaigns(session, [station.id])]


def select_campaigns(session: Session, station: StationRow, codes: Sequence[str] | None) -> list[Campaign]:
    """The station's campaigns named by `codes` (None, [] or ["all"]: every campaign)."""
    campaigns = [c for _, c in _campaigns(session, [station.id])]
    if not codes or list(codes) == ["all"]:
        if not campaigns:
            raise NotFoundError(f"Đài {station.code} chưa có chiến dịch nào.", "Nhập lịch có [[campaign]].")
        return campaigns
    known = {c.code: c for c in campaigns}
    missing = [c for c in codes if c not in known]
    if missing:
        raise NotFoundError(
            f"Không có chiến dịch '{missing[0]}' ở đài {station.code}.",
            "Các mã có: " + ", ".join(sorted(known)) + " (hoặc --campaign all).",
        )
    return [known[c] for c in codes]


def compliance_reports(
    session: Session,
    station: StationRow,
    campaign_codes: Sequence[str] | None,
    kind: PeriodKind,
    *,
    now: datetime,
    first: date | None = None,
    last: date | None = None,
    rules: CountingRules | None = None,
) -> list[ComplianceReport]:
    """Compliance of the station's named campaigns (all when None or ["all"]), from aired rows only."""
    rules = rules or CountingRules()
    campaigns = select_campaigns(session, station, campaign_codes)
    series = day_series(session, [station], campaigns, now=now, rules=rules)
    zone = station_zone(station)
    return [
        report_from_series(
            c,
            series.get((station.id, c.code), DaySeries()),
            kind,
            now=now,
            zone=zone,
            first=first,
            last=last,
            rules=rules,
        )
        for c in campaigns
    ]


def district_compliance(
    session: Session,
    campaign_code: str,
    kind: PeriodKind,
    *,
    now: datetime,
    rules: CountingRules | None = None,
) -> list[tuple[StationRow, ComplianceReport]]:
    """One campaign code across every station that runs it: one aggregate query, one report per station."""
    rules = rules or CountingRules()
    stations = {st.id: st for st in session.scalars(select(StationRow).order_by(StationRow.code))}
    campaigns = dict(_campaigns(session, list(stations), campaign_code))
    running = [st for st in stations.values() if st.id in campaigns]
    series = day_series(session, running, list(campaigns.values()), now=now, rules=rules)
    return [
        (
            st,
            report_from_series(
                campaigns[st.id],
                series.get((st.id, campaign_code), DaySeries()),
                kind,
                now=now,
                zone=station_zone(st),
                rules=rules,
            ),
        )
        for st in running
    ]


def planned_airings(session: Session, station: StationRow, now: datetime) -> dict[str, list[datetime]]:
    """Future airings per campaign code: queued, not cancelled, not yet in the as-run log."""
    logged = select(AsRunRow.id).where(AsRunRow.airing_id == AiringRow.id).exists()
    q = (
        select(CampaignRow.code, AiringRow.planned_start)
        .join(BulletinRow, BulletinRow.id == AiringRow.bulletin_id)
        .join(CampaignRow, CampaignRow.id == BulletinRow.campaign_id)
        .where(AiringRow.station_id == station.id, AiringRow.cancelled_at.is_(None))
        .where(AiringRow.planned_start > now, ~logged)
        .order_by(AiringRow.planned_start)
    )
    out: dict[str, list[datetime]] = {}
    for code, start in session.execute(q):
        out.setdefault(code, []).append(start)
    return out


def due_items(
    session: Session, station: StationRow, *, now: datetime, rules: CountingRules | None = None
) -> list[DueItem]:
    """Campaigns at risk of missing this week's or month's target, or their gap limit, at `now`."""
    zone = station_zone(station)
    today = local_date(now, zone)
    campaigns = [c for c in station_campaigns(session, station) if c.active_on(today)]
    if not campaigns:
        return []
    records = load_records(session, station, campaign_codes=[c.code for c in campaigns])
    return comp.due(
        campaigns, records, planned_airings(session, station, now), now=now, zone=zone, rules=rules
    )


def corrections_of(session: Session, station: StationRow) -> dict[int, int]:
    """Correction row id → the id of the row it corrects, for one station."""
    q = select(AsRunRow.id, AsRunRow.corrects_id).where(
        AsRunRow.station_id == station.id, AsRunRow.corrects_id.is_not(None)
    )
    return {row_id: target for row_id, target in session.execute(q) if target is not None}
