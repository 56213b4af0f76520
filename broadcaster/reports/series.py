"""Compliance from per-day totals: a campaign's day series and the report computed from it (pure)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from functools import lru_cache
from itertools import accumulate, pairwise

from broadcaster.domain import AsRunRecord, Campaign, Outcome, Target
from broadcaster.planning.calendar import local_day
from broadcaster.reports import compliance as comp
from broadcaster.reports.compliance import ComplianceReport, CountingRules, PeriodCompliance
from broadcaster.reports.periods import Period, PeriodKind, periods_overlapping

# Per-day metrics, in this order, in a DaySeries and in the SQL aggregate of services.reporting.
METRICS = ("airings", "played_ms", "interrupted", "missed", "failed", "skipped")


@dataclass
class DaySeries:
    """One campaign at one station: sorted local-day ordinals and, per METRICS entry, that day's total."""

    days: list[int] = field(default_factory=list)
    columns: list[list[int]] = field(default_factory=lambda: [[] for _ in METRICS])
    _prefix: list[list[int]] | None = field(default=None, repr=False, compare=False)
    _counted: list[int] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_map(cls, by_day: dict[int, list[int]]) -> DaySeries:
        """From {day ordinal: metrics}, dropping days left empty."""
        days = sorted(d for d, values in by_day.items() if any(values))
        return cls(days, [[by_day[d][m] for d in days] for m in range(len(METRICS))])

    def to_map(self) -> dict[int, list[int]]:
        """{day ordinal: metrics}, for merging."""
        return {d: [col[i] for col in self.columns] for i, d in enumerate(self.days)}

    def prefix(self) -> list[list[int]]:
        """Running totals per metric, with a leading 0 (period sums are two lookups)."""
        if self._prefix is None:
            self._prefix = [list(accumulate(column, initial=0)) for column in self.columns]
        return self._prefix

    def counted_days(self) -> list[int]:
        """The days with at least one counted airing, in order."""
        if self._counted is None:
            self._counted = [d for d, n in zip(self.days, self.columns[0], strict=True) if n > 0]
        return self._counted


Series = dict[tuple[int, str], DaySeries]


def record_metrics(record: AsRunRecord, rules: CountingRules) -> list[int]:
    """The contribution of one record in METRICS order, by the rules of reports.compliance."""
    return [
        int(comp.counts_as_airing(record, rules)),
        round(comp.counted_minutes(record, rules) * 60000),
        int(record.outcome is Outcome.INTERRUPTED),
        int(record.outcome is Outcome.MISSED),
        int(record.outcome is Outcome.FAILED),
        int(record.outcome is Outcome.SKIPPED),
    ]


@dataclass(frozen=True)
class _Frame:
    """One period of a report as a campaign sees it: the same for every station running the campaign."""

    period: Period
    active_from: date
    active_to: date
    lo: int  # ordinals of active_from and active_to
    hi: int
    partial: bool
    in_progress: bool
    targets: comp.PeriodTargets


@lru_cache(maxsize=512)
def _frames(
    kind: PeriodKind, first: date, last: date, c_start: date, c_end: date, target: Target, today: date
) -> tuple[_Frame, ...]:
    frames = []
    for period in periods_overlapping(kind, first, last):
        active_from, active_to = max(period.start, c_start), min(period.end, c_end)
        frames.append(
            _Frame(
                period,
                active_from,
                active_to,
                active_from.toordinal(),
                active_to.toordinal(),
                (active_from, active_to) != (period.start, period.end),
                active_from <= today <= active_to,
                comp.period_targets(target, kind, active_from, active_to),
            )
        )
    return tuple(frames)


def report_from_series(
    campaign: Campaign,
    series: DaySeries,
    kind: PeriodKind,
    *,
    now: datetime,
    zone: tzinfo,
    first: date | None = None,
    last: date | None = None,
    rules: CountingRules | None = None,
) -> ComplianceReport:
    """The same report as compliance.compliance_report, computed from per-day totals (tested equal)."""
    rules = rules or CountingRules()
    today = local_day(now, zone)
    first, last = comp.report_range(campaign, first, last, today)
    days, prefix = series.days, series.prefix()
    # Gaps as in compliance.gaps: between counted days, from the campaign's first day to min(end, today).
    start, cap = campaign.period_start.toordinal(), min(campaign.period_end, today).toordinal()
    counted = series.counted_days()
    points = counted[bisect_left(counted, start) : bisect_right(counted, cap)]
    edges = [start, *points, cap] if cap >= start else []
    lengths = [b - a for a, b in pairwise(edges)]
    # A gap (a, b) is reported in every period it spans: a..b for the first gap, a+1..b after.
    begins = [a if i == 0 else a + 1 for i, a in enumerate(edges[:-1])]
    ends = edges[1:]
    allowed = campaign.target.max_gap_days
    rows = []
    frames = _frames(kind, first, last, campaign.period_start, campaign.period_end, campaign.target, today)
    for f in frames:
        lo, hi = bisect_left(days, f.lo), bisect_right(days, f.hi)
        airings, played_ms, interrupted, missed, failed, skipped = (p[hi] - p[lo] for p in prefix)
        longest = max(lengths[bisect_left(ends, f.lo) : bisect_right(begins, f.hi)], default=0)
        minutes = round(played_ms / 60000, 2)
        rows.append(
            PeriodCompliance(
                period=f.period,
                active_from=f.active_from,
                active_to=f.active_to,
                partial=f.partial,
                in_progress=f.in_progress,
                airings=airings,
                minutes=minutes,
                interrupted=interrupted,
                target_airings=f.targets.airings,
                target_minutes=f.targets.minutes,
                longest_gap_days=longest,
                allowed_gap_days=allowed,
                missed=missed,
                failed=failed,
                skipped=skipped,
                # Shared with the pure path so both judge a period the same way.
                met=comp.verdict(airings, minutes, f.targets, longest, allowed, f.in_progress),
            )
        )
    return ComplianceReport(
        campaign.code, campaign.title, campaign.plan_ref, kind, str(zone), now, rules, tuple(rows)
    )
