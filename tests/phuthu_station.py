"""The Phú Thứ station as pure domain values, shared by the planning and fill tests."""

from __future__ import annotations

from datetime import time, timedelta

from broadcaster.domain import ScheduleException, SessionRule, Station, TimeWindow

ZONE = "Asia/Ho_Chi_Minh"
MON_SAT = frozenset(range(6))


def make_station(
    sessions: tuple[SessionRule, ...] | None = None, exceptions: tuple[ScheduleException, ...] = ()
) -> Station:
    """Phú Thứ: two 15-minute sessions Monday to Saturday, allowed 05:00–07:00 and 16:30–18:30."""
    if sessions is None:
        sessions = (
            SessionRule("sang", "Buổi sáng", MON_SAT, time(6, 0), timedelta(minutes=15)),
            SessionRule("chieu", "Buổi chiều", MON_SAT, time(17, 0), timedelta(minutes=15)),
        )
    return Station(
        code="phu-thu",
        name="Đài truyền thanh phường Phú Thứ",
        timezone=ZONE,
        ident="Đây là Đài truyền thanh phường Phú Thứ",
        allowed_hours=(TimeWindow(time(5, 0), time(7, 0)), TimeWindow(time(16, 30), time(18, 30))),
        sessions=sessions,
        exceptions=exceptions,
    )
