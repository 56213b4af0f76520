"""The district server's side of the as-run forwarding: each station's chain received, checked, kept.

A station pushes its rows in seq order with their hashes and canonical content (`airlog.ChainLink`);
the district checks every link itself (`airlog.take_links`), keeps the new ones once, answers with
the head it now holds (the station's witness), and flags a chain that does not continue: a row sent
again but different, a gap, a rewritten link. A flagged station is shown, never silently merged:
nothing more of it is taken until the district looks into it.

Only a station's own token may push its rows or read its head (`api_access.ApiCaller`).
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from broadcaster import airlog
from broadcaster.domain import Campaign, Role
from broadcaster.errors import InputError, PermissionDenied
from broadcaster.planning.calendar import local_day, station_zone
from broadcaster.reports.compliance import CountingRules, PeriodCompliance
from broadcaster.reports.periods import PeriodKind, period_containing
from broadcaster.reports.series import DaySeries, Series, report_from_series
from broadcaster.services import audit
from broadcaster.services.api_access import ApiCaller
from broadcaster.services.day_totals import day_series
from broadcaster.services.stations import campaigns_of
from broadcaster.services.users import require_role
from broadcaster.store.models import ForwardedAsRunRow, ForwardStateRow, StationRow

# The most links one push may carry (the station sends batches of this size).
MAX_BATCH = 1000


@dataclass(frozen=True)
class Ack:
    """The district's answer: the head it holds for the station, what this push added, any break."""

    rows: int
    head_hash: str
    accepted: int = 0
    repeated: int = 0
    broken: bool = False
    reason: str = ""


def pushing_station(session: Session, caller: ApiCaller, station_code: str) -> StationRow:
    """The station a push is for: it must be the station the token belongs to."""
    if caller.station_id is None:
        raise PermissionDenied(
            "Chỉ mã truy cập của đài mới gửi được nhật ký phát sóng lên huyện.",
            "Dùng mã truy cập do huyện cấp cho đài (trang Quản trị → Mã truy cập API).",
        )
    station = session.get_one(StationRow, caller.station_id)
    if station.code != station_code:
        raise PermissionDenied(
            f"Mã truy cập này là của đài {station.code}, không gửi được nhật ký của đài {station_code}.",
            "Mỗi đài dùng mã truy cập của chính mình.",
        )
    return station


def _state(session: Session, station: StationRow) -> ForwardStateRow:
    if session.get_bind().dialect.name == "postgresql":  # one push per station at a time
        session.execute(select(StationRow.id).where(StationRow.id == station.id).with_for_update())
    state = session.get(ForwardStateRow, station.id, populate_existing=True)
    if state is None:
        state = ForwardStateRow(station_id=station.id, rows=0, head_hash=airlog.GENESIS, broken_reason="")
        session.add(state)
        session.flush()
    return state


def touch(session: Session, station: StationRow, now: datetime) -> ForwardStateRow:
    """Note that the station was heard from now (every call it makes counts as contact)."""
    state = _state(session, station)
    state.last_contact_at = now
    return state


# The heartbeat fields kept (anything else a station sends is dropped), and the longest text kept.
BEAT_FIELDS = (
    "daemon",
    "alerts",
    "at_risk",
    "last_aired_at",
    "disk_free_mb",
    "clock_offset_s",
    "version",
    "queued",
)
BEAT_TEXT = 500


def accept_heartbeat(
    session: Session, caller: ApiCaller, station_code: str, beat: dict[str, Any], *, now: datetime
) -> None:
    """Keep the station's heartbeat (its state as it reports it) beside its forwarded chain."""
    station = pushing_station(session, caller, station_code)
    state = touch(session, station, now)
    kept: dict[str, Any] = {}
    for key in BEAT_FIELDS:
        value = beat.get(key)
        if isinstance(value, str):
            value = value[:BEAT_TEXT]
        elif isinstance(value, list):
            value = [str(v)[:BEAT_TEXT] for v in value[:20]]
        elif value is not None and not isinstance(value, int | float | bool):
            value = str(value)[:BEAT_TEXT]
        kept[key] = value
    state.heartbeat, state.heartbeat_at = kept, now


def held_head(session: Session, caller: ApiCaller, station_code: str, *, now: datetime) -> Ack:
    """Where the station's forwarded chain stands here (the station pushes what comes after it)."""
    state = touch(session, pushing_station(session, caller, station_code), now)
    return Ack(state.rows, state.head_hash, broken=state.broken_at is not None, reason=state.broken_reason)


def _parse(link: airlog.ChainLink) -> dict[str, Any]:
    try:
        values = json.loads(link.content)
        if not isinstance(values, dict):
            raise ValueError("not an object")
        return values
    except ValueError:
        return {}


def _instant(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _kept(station: StationRow, link: airlog.ChainLink, now: datetime) -> ForwardedAsRunRow:
    values = _parse(link)
    return ForwardedAsRunRow(
        station_id=station.id,
        seq=link.seq,
        prev_hash=link.prev_hash,
        row_hash=link.row_hash,
        content=link.content,
        outcome=str(values.get("outcome") or ""),
        trigger=str(values.get("trigger") or ""),
        campaign_code=values.get("campaign_code"),
        title=str(values.get("title") or "")[:300],
        planned_start=_instant(values.get("planned_start")),
        actual_start=_instant(values.get("actual_start")),
        played_ms=int(values.get("played_ms") or 0),
        clip_ms=int(values.get("clip_ms") or 0),
        station_row_id=link.row_id,
        corrects_id=values.get("corrects_id") if isinstance(values.get("corrects_id"), int) else None,
        received_at=now,
    )


def accept_links(
    session: Session,
    caller: ApiCaller,
    station_code: str,
    links: Sequence[airlog.ChainLink],
    *,
    signed_head: dict[str, Any] | None,
    now: datetime,
) -> Ack:
    """Take a push: keep the links that continue the station's chain here, flag the first that does not."""
    if len(links) > MAX_BATCH:
        raise InputError(
            f"Gửi quá {MAX_BATCH} dòng một lần.", f"Chia thành các lần gửi tối đa {MAX_BATCH} dòng."
        )
    station = pushing_station(session, caller, station_code)
    state = touch(session, station, now)
    if state.broken_at is not None:
        return Ack(state.rows, state.head_hash, broken=True, reason=state.broken_reason)
    ordered = sorted(links, key=lambda link: link.seq)
    earlier = [link.seq for link in ordered if link.seq <= state.rows]
    held: dict[int, str] = {}
    if earlier:
        q = select(ForwardedAsRunRow.seq, ForwardedAsRunRow.row_hash).where(
            ForwardedAsRunRow.station_id == station.id, ForwardedAsRunRow.seq.in_(earlier)
        )
        held = {seq: row_hash for seq, row_hash in session.execute(q)}
    intake = airlog.take_links((state.rows, state.head_hash), held, ordered)
    session.add_all([_kept(station, link, now) for link in intake.new])
    state.rows, state.head_hash = intake.rows, intake.head_hash
    if signed_head is not None:
        state.signed_head = signed_head
    if intake.problem is not None:
        state.broken_at, state.broken_reason = now, intake.problem
    audit.record(
        session,
        actor=caller.label,
        action="district.intake",
        object_type="station",
        object_id=station.code,
        now=now,
        accepted=len(intake.new),
        repeated=intake.repeated,
        rows=intake.rows,
        problem=intake.problem or "",
    )
    return Ack(
        intake.rows,
        intake.head_hash,
        accepted=len(intake.new),
        repeated=intake.repeated,
        broken=intake.problem is not None,
        reason=intake.problem or "",
    )


def verify_forwarded(session: Session, station_id: int) -> airlog.Intake:
    """Check a station's chain as the district holds it, from the first row (the district's own verify)."""
    q = (
        select(
            ForwardedAsRunRow.seq,
            ForwardedAsRunRow.prev_hash,
            ForwardedAsRunRow.row_hash,
            ForwardedAsRunRow.content,
        )
        .where(ForwardedAsRunRow.station_id == station_id)
        .order_by(ForwardedAsRunRow.seq)
    )
    links = [airlog.ChainLink(*row) for row in session.execute(q)]
    return airlog.take_links((0, airlog.GENESIS), {}, links)


# A station heard from within this long is online (its daemon forwards every minute by default).
ONLINE_WITHIN = timedelta(minutes=10)


@dataclass(frozen=True)
class WardView:
    """One station as the district sees it: its forwarded log, last contact, and a break if flagged."""

    code: str
    name: str
    rows: int
    last_contact_at: datetime | None
    online: bool
    broken_at: datetime | None
    reason: str
    last_aired_at: datetime | None
    heartbeat: dict[str, Any] | None = None
    heartbeat_at: datetime | None = None
    timezone: str = "Asia/Ho_Chi_Minh"

    @property
    def alerts(self) -> list[str]:
        """What the station's last heartbeat warned about (its daemon, today's failed airings)."""
        beat = self.heartbeat or {}
        found = beat.get("alerts")
        return [str(a) for a in found] if isinstance(found, list) else []


def wards_overview(session: Session, *, actor: str | None, now: datetime) -> list[WardView]:
    """Every station known here with what it has forwarded (the district's administrator or inspector)."""
    require_role(session, actor, Role.INSPECTOR, Role.LEADER)
    states = {st.station_id: st for st in session.scalars(select(ForwardStateRow))}
    last_aired = dict(
        session.execute(
            select(ForwardedAsRunRow.station_id, func.max(ForwardedAsRunRow.actual_start)).group_by(
                ForwardedAsRunRow.station_id
            )
        ).all()
    )
    out = []
    for station in session.scalars(select(StationRow).order_by(StationRow.code)):
        state = states.get(station.id)
        contact = state.last_contact_at if state else None
        out.append(
            WardView(
                station.code,
                station.name,
                state.rows if state else 0,
                contact,
                contact is not None and now - contact <= ONLINE_WITHIN,
                state.broken_at if state else None,
                state.broken_reason if state else "",
                last_aired.get(station.id),
                state.heartbeat if state else None,
                state.heartbeat_at if state else None,
                station.timezone,
            )
        )
    return out


@dataclass(frozen=True)
class WardCompliance:
    """One ward × campaign cell of the district's table: this period's figures against the target."""

    station_code: str
    station_name: str
    campaign_code: str
    campaign_title: str
    row: PeriodCompliance | None  # None: the campaign does not run in this period


def compliance_table(
    session: Session,
    *,
    actor: str | None,
    now: datetime,
    kind: PeriodKind = PeriodKind.MONTH,
    rules: CountingRules | None = None,
) -> list[WardCompliance]:
    """Every ward × campaign with the current period's compliance, from the logs the wards forwarded.

    One aggregate over the forwarded rows of every ward (no query per row or per ward), from a little
    before the current periods only; the same rules and arithmetic as a ward's own report, so the two
    agree row for row.
    """
    require_role(session, actor, Role.INSPECTOR, Role.LEADER)
    rules = rules or CountingRules()
    stations = list(session.scalars(select(StationRow).order_by(StationRow.code)))
    by_station: dict[int, list[Campaign]] = {}
    for station_id, campaign in campaigns_of(session, [st.id for st in stations]):
        by_station.setdefault(station_id, []).append(campaign)
    # The cells whose campaign runs in the current period (started, and not ended before the period
    # began): their row is the period's, up to today or to the campaign's last day if that came first.
    running: list[_Cell] = []
    for st in stations:
        zone = station_zone(st)
        today = local_day(now, zone)
        begun = period_containing(kind, today).start
        for n, c in enumerate(by_station.get(st.id, [])):
            if c.period_start <= today and c.period_end >= begun:
                running.append(_Cell(st, n, zone, min(today, c.period_end), c))
    series = _current_series(session, running, kind, now=now, rules=rules)
    current = {
        (cell.station.id, cell.n): report_from_series(
            cell.campaign,
            series.get((cell.station.id, cell.campaign.code), DaySeries()),
            kind,
            now=now,
            zone=cell.zone,
            first=cell.today,  # the current period's row only
            last=cell.today,
            rules=rules,
        ).rows[-1]
        for cell in running
    }
    return [
        WardCompliance(st.code, st.name, c.code, c.title, current.get((st.id, n)))
        for st in stations
        for n, c in enumerate(by_station.get(st.id, []))
    ]


@dataclass(frozen=True)
class _Cell:
    """A ward × campaign running in the current period: its n-th campaign, its zone, and the day its row
    runs to (today, or the campaign's last day if it ended earlier in the period)."""

    station: StationRow
    n: int
    zone: tzinfo
    today: date
    campaign: Campaign


# Days read before the earliest current period, to find each cell's last counted day before its
# period (where the gap into it starts). A cell with none in them (a ward silent that long) reads its
# ward's whole span instead, in one more aggregate over the few such wards.
LOOKBACK = timedelta(days=31)


def _current_series(
    session: Session,
    running: Sequence[_Cell],
    kind: PeriodKind,
    *,
    now: datetime,
    rules: CountingRules,
) -> Series:
    """Day totals exact for every day each cell's current period row depends on (tested equal).

    That row needs the days of its period and the gaps that reach into it: from the last counted day
    before the period (or the campaign's first day) on. Earlier days are left out.
    """
    if not running:
        return {}
    starts = [max(period_containing(kind, cell.today).start, cell.campaign.period_start) for cell in running]
    since = min(starts) - LOOKBACK
    stations = list({cell.station.id: cell.station for cell in running}.values())
    campaigns = [cell.campaign for cell in running]
    series = day_series(session, stations, campaigns, now=now, rules=rules, forwarded=True, since=since)
    stale: dict[int, StationRow] = {}
    for cell, start in zip(running, starts, strict=True):
        counted = series.get((cell.station.id, cell.campaign.code), DaySeries()).counted_days()
        # Exact if every day from the campaign's start is here, or a counted day before the period is.
        if cell.campaign.period_start < since and bisect_left(counted, start.toordinal()) == 0:
            stale[cell.station.id] = cell.station
    if not stale:
        return series
    wanted = [cell.campaign for cell in running if cell.station.id in stale]
    whole = day_series(session, list(stale.values()), wanted, now=now, rules=rules, forwarded=True, few=True)
    kept = {key: found for key, found in series.items() if key[0] not in stale}
    return kept | {key: found for key, found in whole.items() if key[0] in stale}
