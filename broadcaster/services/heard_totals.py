"""Day totals under the counting rules, the "heard only" rule included, from the SQL aggregate.

With `CountingRules.heard_only` the aggregate runs twice: over the rows the ear heard (their airings and
minutes) and over every row (interrupted, missed, failed, skipped, which the rule leaves alone).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from broadcaster.domain import Campaign
from broadcaster.reports.compliance import CountingRules
from broadcaster.reports.series import DaySeries, Series
from broadcaster.services.day_totals import day_series
from broadcaster.store.models import StationRow

# The columns of METRICS that "heard only" changes: airings and played_ms.
_COUNTED = 2


def counted_series(
    session: Session,
    stations: Sequence[StationRow],
    campaigns: Sequence[Campaign],
    *,
    now: datetime,
    rules: CountingRules,
) -> Series:
    """day_series under `rules`; with `heard_only`, airings and minutes only of the rows heard."""
    if not rules.heard_only:
        return day_series(session, stations, campaigns, now=now, rules=rules)
    every = day_series(
        session, stations, campaigns, now=now, rules=dataclasses.replace(rules, heard_only=False)
    )
    heard = day_series(session, stations, campaigns, now=now, rules=rules)
    out: Series = {}
    for key, series in every.items():
        by_day = series.to_map()
        kept = heard.get(key, DaySeries()).to_map()
        for day, values in by_day.items():
            counted = kept.get(day, [0] * len(values))
            values[:_COUNTED] = counted[:_COUNTED]
        out[key] = DaySeries.from_map(by_day)
    return out
