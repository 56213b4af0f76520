"""Pure fill: propose approved bulletins into free session capacity so campaign targets are met.

Rules (the station's, made exact):

* Only sessions on local dates `start`..`end` that start strictly after `now` receive proposals.
  A proposal must keep the programme (with `shape`) within the session's `max_length` and inside an
  allowed-hours window; a session never holds the same bulletin twice, nor two items of one campaign.
* Airings counted for a campaign: `history` (completed airings, played seconds as logged), queued items
  whose session starts after `now` (duration × shape.repeat seconds), and the proposals made here.
  Queued items of past sessions are ignored: `history` is the truth about the past.
* Weekly (ISO week) and monthly targets apply to every period that overlaps the range. A period's
  requirement is pro-rata: target × (days of the period on which the campaign is active and which are
  on or before `end`) ÷ (days in the period), rounded up for airings. Days before `start` count in
  full, because their airings come from `history`. So a period wholly covered needs its whole target,
  and a period cut by `end` needs its share now; the next run, reaching further, asks for the rest.
* Gaps are counted in local calendar days between consecutive airings (1 = every day). The campaign's
  start counts as an airing on the day before it; an unfinished gap runs to the day after
  min(`end`, campaign end). A gap is checked if it reaches past `start`. `history` must therefore reach
  back at least max_gap_days before `start`.
* Placement is earliest-deadline-first over the sessions in time order, at most one airing of a
  campaign per session. A campaign's deadline is the earliest of: for a gap limit, the first session
  of the last day that keeps the gap within the limit (a second airing on the day of the previous one
  does not shorten a gap, so it is never proposed for that); for each period target, the session
  chosen for the next missing airing when the period was first seen (n missing airings over its r
  sessions go to sessions (k·r) // n, k = 1..n, so they are spread evenly and do not drift later).
  Campaigns whose deadline has come are placed, earliest deadline first, ties by code; one that does
  not fit stays due and goes first at the next session. Bulletins rotate: least recently aired (or
  queued, or proposed) first, never-aired first, ties by id; if one does not fit, the next is tried.
  Campaigns without targets get no proposals.
* Whatever is still short afterwards is reported as a Shortfall; the output is deterministic.
"""

from __future__ import annotations

import bisect
import enum
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from broadcaster import labels
from broadcaster.domain import Campaign, SessionOccurrence, Station
from broadcaster.planning.calendar import (
    iso_week_label,
    local_day,
    month_bounds,
    month_label,
    station_zone,
    week_bounds,
)
from broadcaster.planning.sessions import ProgrammeShape, QueuedItem, occurrences, programme_length

_EPS = 1e-6


@dataclass(frozen=True)
class Candidate:
    """An approved bulletin that may be proposed, with when it last aired (None = never)."""

    bulletin_id: int
    campaign_code: str
    duration_s: float
    last_aired: datetime | None


@dataclass(frozen=True)
class Aired:
    """A completed airing before the range: campaign, actual start (UTC-aware), seconds played."""

    campaign_code: str
    start: datetime
    duration_s: float


class ShortfallKind(enum.StrEnum):
    """Which target a shortfall is about."""

    WEEKLY_AIRINGS = "weekly_airings"
    MONTHLY_AIRINGS = "monthly_airings"
    MONTHLY_MINUTES = "monthly_minutes"
    MAX_GAP = "max_gap"


@dataclass(frozen=True)
class Shortfall:
    """A target the plan cannot meet: airings or minutes missing in a period, or gap days over the limit.

    For MAX_GAP, `period_label` is "last-airing/next-airing" (ISO dates), `needed` the limit in days,
    `planned` the gap and `missing` the days over the limit.
    """

    campaign_code: str
    kind: ShortfallKind
    period_label: str
    needed: float
    planned: float
    missing: float

    def message(self) -> str:
        """The shortfall as one Vietnamese sentence for the operator."""
        code, period = self.campaign_code, labels.period_code_name(self.period_label)
        if self.kind is ShortfallKind.MAX_GAP:
            first, _, last = self.period_label.partition("/")
            first, last = (f"{date.fromisoformat(d):%d/%m/%Y}" for d in (first, last))
            return (
                f"Chiến dịch {code}: từ {first} đến {last} cách nhau {_num(self.planned)} ngày, "
                f"vượt giới hạn {_num(self.needed)} ngày là {_num(self.missing)} ngày."
            )
        if self.kind is ShortfallKind.MONTHLY_MINUTES:
            return (
                f"Chiến dịch {code}, {period}: cần {_num(self.needed)} phút, "
                f"mới có {_num(self.planned)} phút, thiếu {_num(self.missing)} phút."
            )
        return (
            f"Chiến dịch {code}, {period}: cần {_num(self.needed)} lần phát, "
            f"mới có {_num(self.planned)} lần, thiếu {_num(self.missing)} lần."
        )


@dataclass(frozen=True)
class FillProposal:
    """Put `candidate` into `occurrence`; `reason` (Vietnamese) names the target that asked for it."""

    occurrence: SessionOccurrence
    candidate: Candidate
    reason: str


@dataclass(frozen=True)
class FillResult:
    """Proposals in time order, then shortfalls by campaign, kind and period."""

    proposals: list[FillProposal]
    shortfalls: list[Shortfall]


@dataclass
class _Slot:
    occ: SessionOccurrence
    day: date
    local_start: time
    durations: list[float] = field(default_factory=list)
    bulletins: set[int] = field(default_factory=set)
    campaigns: set[str] = field(default_factory=set)


@dataclass
class _Plan:
    """Mutable working state of one fill run."""

    station: Station
    shape: ProgrammeShape
    start: date
    end: date
    slots: list[_Slot]
    aired: dict[str, list[tuple[date, float]]]
    last_use: dict[int, datetime]
    proposals: list[FillProposal] = field(default_factory=list)
    # Per (campaign, target, period): airings missing when first seen, and the sessions chosen for them.
    spreads: dict[tuple[str, str], tuple[int, list[int]]] = field(default_factory=dict)


def fill(
    station: Station,
    campaigns: Sequence[Campaign],
    candidates: Sequence[Candidate],
    queued: Sequence[QueuedItem],
    history: Sequence[Aired],
    shape: ProgrammeShape,
    start: date,
    end: date,
    now: datetime,
) -> FillResult:
    """Propose bulletins for the sessions of local dates start..end after `now`; report what stays short."""
    zone = station_zone(station)
    plan = _initial_plan(station, queued, history, shape, start, end, now, zone)
    ordered = sorted(campaigns, key=lambda c: c.code)
    pools = {c.code: [k for k in candidates if k.campaign_code == c.code] for c in ordered}
    eligible = {c.code: [i for i, s in enumerate(plan.slots) if c.active_on(s.day)] for c in ordered}
    for index, slot in enumerate(plan.slots):
        due: list[tuple[int, str, str, Campaign]] = []
        for campaign in ordered:
            if (
                not pools[campaign.code]
                or not campaign.active_on(slot.day)
                or campaign.code in slot.campaigns
            ):
                continue
            deadline = _deadline(plan, campaign, eligible[campaign.code], index, pools[campaign.code])
            if deadline is not None and deadline[0] <= index:
                due.append((deadline[0], campaign.code, deadline[1], campaign))
        for _, _, reason, campaign in sorted(due, key=lambda d: (d[0], d[1])):
            _place(plan, slot, campaign, pools[campaign.code], reason)
    shortfalls = [s for c in ordered for s in _shortfalls(plan, c)]
    return FillResult(plan.proposals, shortfalls)


def _initial_plan(
    station: Station,
    queued: Sequence[QueuedItem],
    history: Sequence[Aired],
    shape: ProgrammeShape,
    start: date,
    end: date,
    now: datetime,
    zone: ZoneInfo,
) -> _Plan:
    slots = [
        _Slot(o, local_day(o.start, zone), o.start.astimezone(zone).time())
        for o in occurrences(station, start, end)
        if o.start > now
    ]
    by_start = {s.occ.start: s for s in slots}
    aired: dict[str, list[tuple[date, float]]] = {}
    last_use: dict[int, datetime] = {}
    for past in history:
        aired.setdefault(past.campaign_code, []).append((local_day(past.start, zone), past.duration_s))
    for item in sorted(queued, key=lambda q: (q.occurrence_start, q.position)):
        if item.occurrence_start <= now:
            continue
        aired.setdefault(item.campaign_code, []).append(
            (local_day(item.occurrence_start, zone), item.duration_s * shape.repeat)
        )
        last_use[item.bulletin_id] = max(
            last_use.get(item.bulletin_id, item.occurrence_start), item.occurrence_start
        )
        slot = by_start.get(item.occurrence_start)
        if slot is not None:
            slot.durations.append(item.duration_s)
            slot.bulletins.add(item.bulletin_id)
            slot.campaigns.add(item.campaign_code)
    return _Plan(station, shape, start, end, slots, aired, last_use)


def _deadline(
    plan: _Plan, campaign: Campaign, eligible: list[int], index: int, pool: list[Candidate]
) -> tuple[int, str] | None:
    """The slot index by which the campaign must next air, and why; None if nothing is needed yet."""
    day = plan.slots[index].day
    ahead = eligible[bisect.bisect_left(eligible, index) :]
    target = campaign.target
    options: list[tuple[int, str]] = []
    checks: list[tuple[int | None, tuple[date, date], str]] = [
        (target.min_airings_per_week, week_bounds(day), f"chỉ tiêu {labels.week_name(day)}"),
        (target.min_airings_per_month, month_bounds(day), f"chỉ tiêu {labels.month_name(day)}"),
    ]
    for wanted, bounds, label in checks:
        if wanted is not None:
            missing = _required(plan, campaign, bounds, wanted, whole=True) - _count(plan, campaign, bounds)
            reason = f"{label}: còn thiếu {_num(missing)} lần"
            _spread(plan, (campaign.code, label), ahead, bounds, math.ceil(missing), reason, options)
    if target.min_minutes_per_month is not None:
        bounds = month_bounds(day)
        need_s = 60 * _required(plan, campaign, bounds, target.min_minutes_per_month, whole=False)
        missing_s = need_s - _seconds(plan, campaign, bounds)
        average = math.fsum(k.duration_s for k in pool) / len(pool) * plan.shape.repeat
        count = math.ceil(missing_s / average - _EPS) if missing_s > _EPS and average > 0 else 0
        reason = f"chỉ tiêu {labels.month_name(day)}: còn thiếu {_num(missing_s / 60)} phút"
        _spread(plan, (campaign.code, f"phút {month_label(day)}"), ahead, bounds, count, reason, options)
    if target.max_gap_days is not None:
        gap = _gap_deadline(plan, campaign, ahead, day, target.max_gap_days)
        if gap is not None:
            options.append(gap)
    return min(options) if options else None


def _spread(
    plan: _Plan,
    key: tuple[str, str],
    ahead: list[int],
    bounds: tuple[date, date],
    missing: int,
    reason: str,
    out: list[tuple[int, str]],
) -> None:
    """Deadline that spreads the missing airings evenly over the period's sessions.

    The sessions are chosen once, when the period is first seen, so that deadlines do not slip later
    as the sweep advances; the k-th airing still missing is due by the k-th chosen session.
    """
    if missing <= 0:
        return
    if key not in plan.spreads:
        inside = [i for i in ahead if bounds[0] <= plan.slots[i].day <= bounds[1]]
        if not inside:
            return
        chosen = [inside[max(0, (j + 1) * len(inside) // missing - 1)] for j in range(missing)]
        plan.spreads[key] = (missing, chosen)
    first_missing, chosen = plan.spreads[key]
    done = min(max(0, first_missing - missing), len(chosen) - 1)
    out.append((chosen[done], reason))


def _gap_deadline(
    plan: _Plan, campaign: Campaign, ahead: list[int], day: date, limit: int
) -> tuple[int, str] | None:
    days = [d for d, _ in plan.aired.get(campaign.code, [])]
    anchor = campaign.period_start - timedelta(days=1)
    previous = max([anchor, *(d for d in days if d <= day)])
    latest = previous + timedelta(days=limit)
    if latest > min(plan.end, campaign.period_end) or any(day < d <= latest for d in days):
        return None
    since = "chưa phát lần nào" if previous == anchor else f"lần trước {previous:%d/%m/%Y}"
    reason = f"giãn cách tối đa {limit} ngày ({since})"
    # A second airing on the day of the previous one does not shorten a gap counted in days.
    later = [i for i in ahead if plan.slots[i].day > previous]
    in_time = [i for i in later if plan.slots[i].day <= latest]
    if not in_time:
        return (later[0], reason) if later else None
    # The first session of the last day that keeps the limit leaves the day's later sessions as slack.
    last_day = plan.slots[in_time[-1]].day
    return next(i for i in in_time if plan.slots[i].day == last_day), reason


def _place(plan: _Plan, slot: _Slot, campaign: Campaign, pool: list[Candidate], reason: str) -> bool:
    """Put the campaign's least recently used bulletin that fits into the slot; False if none fits."""

    def recency(k: Candidate) -> tuple[int, float, int]:
        uses = [t for t in (k.last_aired, plan.last_use.get(k.bulletin_id)) if t is not None]
        return (1, max(uses).timestamp(), k.bulletin_id) if uses else (0, 0.0, k.bulletin_id)

    for cand in sorted(pool, key=recency):
        if cand.bulletin_id in slot.bulletins:
            continue
        length = programme_length(plan.shape, [*slot.durations, cand.duration_s])
        if length > slot.occ.max_length.total_seconds() + _EPS:
            continue
        if not plan.station.allows(slot.local_start, timedelta(seconds=length)):
            continue
        slot.durations.append(cand.duration_s)
        slot.bulletins.add(cand.bulletin_id)
        slot.campaigns.add(campaign.code)
        plan.aired.setdefault(campaign.code, []).append((slot.day, cand.duration_s * plan.shape.repeat))
        plan.last_use[cand.bulletin_id] = slot.occ.start
        plan.proposals.append(FillProposal(slot.occ, cand, reason))
        return True
    return False


def _required(
    plan: _Plan, campaign: Campaign, bounds: tuple[date, date], wanted: float, *, whole: bool
) -> float:
    """Pro-rata requirement of a period: active days up to `end` over all its days (see module doc)."""
    first, last = bounds
    days = (last - first).days + 1
    counted = sum(
        1
        for n in range(days)
        if campaign.active_on(first + timedelta(days=n)) and first + timedelta(days=n) <= plan.end
    )
    share = wanted * counted / days
    return float(math.ceil(share - _EPS)) if whole else share


def _count(plan: _Plan, campaign: Campaign, bounds: tuple[date, date]) -> int:
    return sum(1 for d, _ in plan.aired.get(campaign.code, []) if bounds[0] <= d <= bounds[1])


def _seconds(plan: _Plan, campaign: Campaign, bounds: tuple[date, date]) -> float:
    return math.fsum(s for d, s in plan.aired.get(campaign.code, []) if bounds[0] <= d <= bounds[1])


def _shortfalls(plan: _Plan, campaign: Campaign) -> list[Shortfall]:
    """Every target of the campaign still unmet over the range once the proposals are in."""
    first = max(plan.start, campaign.period_start)
    last = min(plan.end, campaign.period_end)
    if last < first:
        return []
    target = campaign.target
    found: list[Shortfall] = []
    weeks = sorted({week_bounds(first + timedelta(days=n)) for n in range((last - first).days + 1)})
    months = sorted({month_bounds(first + timedelta(days=n)) for n in range((last - first).days + 1)})
    if target.min_airings_per_week is not None:
        for bounds in weeks:
            needed = _required(plan, campaign, bounds, target.min_airings_per_week, whole=True)
            have = float(_count(plan, campaign, bounds))
            if have < needed:
                label = iso_week_label(bounds[0])
                found.append(
                    Shortfall(campaign.code, ShortfallKind.WEEKLY_AIRINGS, label, needed, have, needed - have)
                )
    for bounds in months:
        label = month_label(bounds[0])
        if target.min_airings_per_month is not None:
            needed = _required(plan, campaign, bounds, target.min_airings_per_month, whole=True)
            have = float(_count(plan, campaign, bounds))
            if have < needed:
                found.append(
                    Shortfall(
                        campaign.code, ShortfallKind.MONTHLY_AIRINGS, label, needed, have, needed - have
                    )
                )
        if target.min_minutes_per_month is not None:
            minutes = round(_required(plan, campaign, bounds, target.min_minutes_per_month, whole=False), 1)
            have_min = round(_seconds(plan, campaign, bounds) / 60, 1)
            if have_min < minutes:
                kind = ShortfallKind.MONTHLY_MINUTES
                found.append(
                    Shortfall(campaign.code, kind, label, minutes, have_min, round(minutes - have_min, 1))
                )
    if target.max_gap_days is not None:
        found.extend(_gap_shortfalls(plan, campaign, first, last, target.max_gap_days))
    return found


def _gap_shortfalls(plan: _Plan, campaign: Campaign, first: date, last: date, limit: int) -> list[Shortfall]:
    anchor = campaign.period_start - timedelta(days=1)
    days = sorted({d for d, _ in plan.aired.get(campaign.code, []) if anchor < d <= last})
    points = [anchor, *days, last + timedelta(days=1)]
    found: list[Shortfall] = []
    for a, b in itertools.pairwise(points):
        gap = (b - a).days
        if gap > limit and b > first:
            label = f"{a.isoformat()}/{b.isoformat()}"
            found.append(Shortfall(campaign.code, ShortfallKind.MAX_GAP, label, limit, gap, gap - limit))
    return found


def _num(value: float) -> str:
    """A number the Vietnamese way: integers plain, otherwise one decimal with a decimal comma."""
    if abs(value - round(value)) < 1e-9:
        return str(round(value))
    return f"{value:.1f}".replace(".", ",")
