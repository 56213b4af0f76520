"""Compliance of aired (not planned) airings against campaign targets, per week, month, quarter or year.

Rules (stated here because inspectors will ask):

* Only what aired counts. A COMPLETED row counts as one airing and its played minutes. An INTERRUPTED
  row always adds its played minutes, and counts as an airing only if at least
  `CountingRules.min_played_fraction` of the clip played (default 0.5, i.e. half of the bulletin was
  heard). FAILED, MISSED and SKIPPED rows add nothing; failed and missed are reported in their columns.
  With `CountingRules.heard_only`, a row counts (airing and minutes) only if the station's ear heard it
  as planned (its off-air verdict, or that of the row it corrects, is "heard").
* Rows are placed in periods by the local date (in the station's zone, passed in) of their actual start,
  or of their planned start when they never started. Weeks are ISO weeks (Monday first).
* Targets in a period are judged over the days the campaign is active in it. A period cut by the
  campaign's start or end (e.g. a campaign starting on a Wednesday) is flagged `partial` and its
  targets are pro-rata: weekly target × active days / 7 and monthly targets × active days / days in
  the month, airings rounded up. A month, quarter or year must also hold the weekly target for every
  whole ISO week inside it (weekly target × whole weeks), so meeting every week and month implies
  meeting the longer period.
* Gaps are counted in calendar days between consecutive counted airings, continuously across period
  boundaries, including from the campaign's first day to the first airing and from the last airing to
  min(campaign end, today). A gap is reported, with its whole length, in every period it spans: a gap
  after an airing on day A that ends on day B spans the days A+1..B (the first gap spans its first day).
* A period still running is "met" once its targets are reached; until then it is undecided (None),
  except that a gap beyond the allowed length is final.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from itertools import pairwise

from broadcaster.domain import AsRunRecord, Campaign, OffAir, Outcome, Target
from broadcaster.errors import InputError
from broadcaster.planning.calendar import local_day
from broadcaster.reports.periods import (
    Period,
    PeriodKind,
    full_iso_weeks,
    months_overlapping,
    period_containing,
    periods_overlapping,
)

_EPS = 1e-9


@dataclass(frozen=True)
class CountingRules:
    """How interrupted airings count: as an airing only if this fraction of the clip played.

    `heard_only`: only airings the station's ear heard as planned count (airings and minutes); the
    missed, failed and interrupted columns are unchanged.
    """

    min_played_fraction: float = 0.5
    heard_only: bool = False


@dataclass(frozen=True)
class PeriodTargets:
    """Targets for one period after pro-rating; None means no target of that kind."""

    airings: int | None
    minutes: float | None


@dataclass(frozen=True)
class PeriodCompliance:
    """One row of a compliance report."""

    period: Period
    active_from: date
    active_to: date
    partial: bool
    in_progress: bool
    airings: int
    minutes: float
    interrupted: int
    target_airings: int | None
    target_minutes: float | None
    longest_gap_days: int
    allowed_gap_days: int | None
    missed: int
    failed: int
    skipped: int
    met: bool | None


@dataclass(frozen=True)
class ComplianceReport:
    """A campaign's compliance, one row per period, computed at `now` in `zone_name`."""

    campaign_code: str
    campaign_title: str
    plan_ref: str
    kind: PeriodKind
    zone_name: str
    now: datetime
    rules: CountingRules
    rows: tuple[PeriodCompliance, ...]


def counts_as_airing(record: AsRunRecord, rules: CountingRules) -> bool:
    """True if the row counts as one airing under the stated rule."""
    if rules.heard_only and record.heard is not OffAir.HEARD:
        return False
    if record.outcome is Outcome.COMPLETED:
        return True
    if record.outcome is Outcome.INTERRUPTED and record.clip_s > 0:
        return record.played_s / record.clip_s + _EPS >= rules.min_played_fraction
    return False


def counted_minutes(record: AsRunRecord, rules: CountingRules | None = None) -> float:
    """Minutes of airtime the row contributes (completed and interrupted rows only; heard, if asked)."""
    if rules is not None and rules.heard_only and record.heard is not OffAir.HEARD:
        return 0.0
    if record.outcome in (Outcome.COMPLETED, Outcome.INTERRUPTED):
        return max(0.0, record.played_s) / 60.0
    return 0.0


def record_day(record: AsRunRecord, zone: tzinfo) -> date | None:
    """The local date a row belongs to: actual start, else planned start, else None."""
    instant = record.actual_start or record.planned_start
    return local_day(instant, zone) if instant is not None else None


def period_targets(target: Target, kind: PeriodKind, first: date, last: date) -> PeriodTargets:
    """Targets over the active days [first, last] of one period, pro-rata as the module states."""
    if kind is PeriodKind.WEEK:
        weekly = target.min_airings_per_week
        airings = _ceil(weekly * ((last - first).days + 1) / 7) if weekly is not None else None
        return PeriodTargets(airings, None)
    months = months_overlapping(first, last)
    candidates: list[int] = []
    if target.min_airings_per_month is not None:
        per_month = target.min_airings_per_month
        candidates.append(sum(_ceil(per_month * inside / total) for inside, total in months))
    if target.min_airings_per_week is not None:
        candidates.append(target.min_airings_per_week * full_iso_weeks(first, last))
    minutes = None
    if target.min_minutes_per_month is not None:
        per_month_min = target.min_minutes_per_month
        minutes = round(sum(per_month_min * inside / total for inside, total in months), 2)
    return PeriodTargets(max(candidates) if candidates else None, minutes)


def gaps(airing_days: Iterable[date], start: date, cap: date) -> list[tuple[date, date]]:
    """Gaps (from, to) between consecutive airing days, from `start` to the first and the last to `cap`."""
    points = sorted({d for d in airing_days if start <= d <= cap})
    edges = [start, *points, cap] if cap >= start else []
    return list(pairwise(edges))


def report_range(campaign: Campaign, first: date | None, last: date | None, today: date) -> tuple[date, date]:
    """The days a report covers: [first, last] within the campaign and not after today (else InputError)."""
    first = max(first or campaign.period_start, campaign.period_start)
    last = min(last or campaign.period_end, campaign.period_end, today)
    if first > last:
        raise InputError(
            f"Khoảng báo cáo trống cho chiến dịch {campaign.code}: từ {first:%d/%m/%Y} đến {last:%d/%m/%Y}.",
            "Chọn khoảng thời gian nằm trong thời hạn chiến dịch và không sau ngày hôm nay.",
        )
    return first, last


def compliance_report(
    campaign: Campaign,
    records: Iterable[AsRunRecord],
    kind: PeriodKind,
    *,
    now: datetime,
    first: date | None = None,
    last: date | None = None,
    zone: tzinfo,
    rules: CountingRules | None = None,
) -> ComplianceReport:
    """Per-period compliance of one campaign over [first, last] (default: its whole period up to now)."""
    rules = rules or CountingRules()
    today = local_day(now, zone)
    first, last = report_range(campaign, first, last, today)
    own = [r for r in records if r.campaign_code == campaign.code]
    dated = [(d, r) for r in own if (d := record_day(r, zone)) is not None]
    counted_days = [d for d, r in dated if counts_as_airing(r, rules)]
    all_gaps = gaps(counted_days, campaign.period_start, min(campaign.period_end, today))
    rows = tuple(
        _row(campaign, period, dated, all_gaps, today, rules)
        for period in periods_overlapping(kind, first, last)
    )
    return ComplianceReport(
        campaign_code=campaign.code,
        campaign_title=campaign.title,
        plan_ref=campaign.plan_ref,
        kind=kind,
        zone_name=str(zone),
        now=now,
        rules=rules,
        rows=rows,
    )


def _row(
    campaign: Campaign,
    period: Period,
    dated: Sequence[tuple[date, AsRunRecord]],
    all_gaps: Sequence[tuple[date, date]],
    today: date,
    rules: CountingRules,
) -> PeriodCompliance:
    active_from = max(period.start, campaign.period_start)
    active_to = min(period.end, campaign.period_end)
    inside = [r for d, r in dated if active_from <= d <= active_to]
    airings = sum(1 for r in inside if counts_as_airing(r, rules))
    minutes = round(sum(counted_minutes(r, rules) for r in inside), 2)
    targets = period_targets(campaign.target, period.kind, active_from, active_to)
    longest = max(
        ((b - a).days for i, (a, b) in enumerate(all_gaps) if _spans(i, a, b, active_from, active_to)),
        default=0,
    )
    in_progress = active_from <= today <= active_to
    allowed = campaign.target.max_gap_days
    return PeriodCompliance(
        period=period,
        active_from=active_from,
        active_to=active_to,
        partial=(active_from, active_to) != (period.start, period.end),
        in_progress=in_progress,
        airings=airings,
        minutes=minutes,
        interrupted=sum(1 for r in inside if r.outcome is Outcome.INTERRUPTED),
        target_airings=targets.airings,
        target_minutes=targets.minutes,
        longest_gap_days=longest,
        allowed_gap_days=allowed,
        missed=sum(1 for r in inside if r.outcome is Outcome.MISSED),
        failed=sum(1 for r in inside if r.outcome is Outcome.FAILED),
        skipped=sum(1 for r in inside if r.outcome is Outcome.SKIPPED),
        met=verdict(airings, minutes, targets, longest, allowed, in_progress),
    )


def _spans(index: int, a: date, b: date, first: date, last: date) -> bool:
    # The first gap starts on the campaign's first day, which had no airing; later ones start after one.
    begin = a if index == 0 else a + timedelta(days=1)
    return begin <= last and b >= first


def verdict(
    airings: int,
    minutes: float,
    targets: PeriodTargets,
    longest_gap: int,
    allowed_gap: int | None,
    in_progress: bool,
) -> bool | None:
    """A period's "met": None without targets, False past the gap limit, undecided while short and running."""
    if targets.airings is None and targets.minutes is None and allowed_gap is None:
        return None
    if allowed_gap is not None and longest_gap > allowed_gap:
        return False
    reached = (targets.airings is None or airings >= targets.airings) and (
        targets.minutes is None or minutes + _EPS >= targets.minutes
    )
    if reached:
        return True
    return None if in_progress else False


def _ceil(value: float) -> int:
    return math.ceil(value - _EPS)


@dataclass(frozen=True)
class DueItem:
    """A campaign that still needs airings before a deadline (end of this week or month, or a gap)."""

    campaign_code: str
    campaign_title: str
    reason: str  # "week", "month" or "gap"
    deadline: datetime
    airings: int
    target_airings: int
    needed: int
    planned: int
    time_left: timedelta

    @property
    def at_risk(self) -> bool:
        """True if fewer airings are planned than are still needed."""
        return self.planned < self.needed

    def describe(self) -> str:
        """One Vietnamese line for the operator."""
        what = {"week": "tuần này", "month": "tháng này", "gap": "để không vượt khoảng cách cho phép"}
        line = (
            f"{self.campaign_title}: cần thêm {self.needed} lượt phát {what[self.reason]} "
            f"trong {format_duration_vi(self.time_left)}; đã lên lịch {self.planned}"
        )
        return line + (" — có nguy cơ không đạt" if self.at_risk else "")


def due(
    campaigns: Sequence[Campaign],
    records: Iterable[AsRunRecord],
    planned: Mapping[str, Sequence[datetime]],
    *,
    now: datetime,
    zone: tzinfo,
    rules: CountingRules | None = None,
) -> list[DueItem]:
    """Campaigns still short of this week's or month's target, or close to their gap limit, at `now`.

    `planned` maps a campaign code to the start instants of its planned future airings.
    At-risk items (fewer planned than needed) come first, then the nearest deadline.
    """
    rules = rules or CountingRules()
    today = local_day(now, zone)
    rows = list(records)
    items: list[DueItem] = []
    for campaign in campaigns:
        if not campaign.active_on(today):
            continue
        days = [
            d
            for r in rows
            if r.campaign_code == campaign.code and counts_as_airing(r, rules)
            if (d := record_day(r, zone)) is not None
        ]
        future = [t for t in planned.get(campaign.code, ()) if t > now]
        for kind, reason in ((PeriodKind.WEEK, "week"), (PeriodKind.MONTH, "month")):
            period = period_containing(kind, today)
            first, last = max(period.start, campaign.period_start), min(period.end, campaign.period_end)
            # The month item uses the monthly target only: the week item already covers weekly ones.
            own = (
                campaign.target
                if kind is PeriodKind.WEEK
                else replace(campaign.target, min_airings_per_week=None)
            )
            target = period_targets(own, kind, first, last).airings
            done = sum(1 for d in days if first <= d <= last)
            if target is None or done >= target:
                continue
            end = Period(kind, first, last).end_instant(zone)
            items.append(
                DueItem(
                    campaign.code,
                    campaign.title,
                    reason,
                    end,
                    done,
                    target,
                    target - done,
                    sum(1 for t in future if t < end),
                    end - now,
                )
            )
        gap_item = _gap_item(campaign, days, future, now, today, zone)
        if gap_item is not None:
            items.append(gap_item)
    return sorted(items, key=lambda i: (not i.at_risk, i.deadline, i.campaign_code))


def _gap_item(
    campaign: Campaign,
    days: Sequence[date],
    future: Sequence[datetime],
    now: datetime,
    today: date,
    zone: tzinfo,
) -> DueItem | None:
    allowed = campaign.target.max_gap_days
    if allowed is None:
        return None
    past = [d for d in days if campaign.period_start <= d <= today]
    last_day = max(past) if past else campaign.period_start
    deadline_day = last_day + timedelta(days=allowed)
    horizon = period_containing(PeriodKind.MONTH, today).end
    # A gap that runs into the campaign's end is within the limit; one already exceeded is the
    # compliance report's business; a deadline after this month is not yet due.
    if deadline_day >= campaign.period_end or deadline_day < today or deadline_day > horizon:
        return None
    end = Period(PeriodKind.WEEK, deadline_day, deadline_day).end_instant(zone)
    return DueItem(
        campaign.code, campaign.title, "gap", end, 0, 1, 1, sum(1 for t in future if t < end), end - now
    )


def format_duration_vi(delta: timedelta) -> str:
    """A time left in Vietnamese, e.g. "2 ngày 5 giờ" or "3 giờ 20 phút"."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} ngày {hours} giờ"
    return f"{hours} giờ {mins} phút"
