"""Pure planning: sessions and their capacity, the calendar and zone helpers, and target-meeting fill.

`sessions` holds recurrence, allowed hours, capacity and `ProgrammeShape`; `calendar` the one set of
zone, week and month helpers; `fill` the proposals (import it as `broadcaster.planning.fill`). The
names callers use as `planning.X` are re-exported here from `sessions` and `calendar`.
"""

from __future__ import annotations

from broadcaster.planning.calendar import (
    END_BEFORE_START,
    check_day_order,
    in_order,
    iso_week_label,
    local_day,
    local_window,
    month_bounds,
    month_label,
    station_zone,
    to_utc,
    week_bounds,
)
from broadcaster.planning.sessions import (
    EXTRA_SESSION_NAME,
    NEXT_SEARCH_DAYS,
    ProgrammeShape,
    QueuedItem,
    check_allowed,
    check_capacity,
    find_occurrence,
    free_seconds,
    max_gap_days,
    mmss,
    next_occurrence,
    occurrences,
    programme_length,
    relay_occurrences,
)

__all__ = [
    "END_BEFORE_START",
    "EXTRA_SESSION_NAME",
    "NEXT_SEARCH_DAYS",
    "ProgrammeShape",
    "QueuedItem",
    "check_allowed",
    "check_capacity",
    "check_day_order",
    "find_occurrence",
    "free_seconds",
    "in_order",
    "iso_week_label",
    "local_day",
    "local_window",
    "max_gap_days",
    "mmss",
    "month_bounds",
    "month_label",
    "next_occurrence",
    "occurrences",
    "programme_length",
    "relay_occurrences",
    "station_zone",
    "to_utc",
    "week_bounds",
]
