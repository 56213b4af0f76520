"""The operator's queue and the fill service on the seed station: hours, capacity, moves, day view."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import planning
from broadcaster.app import App
from broadcaster.domain import BulletinStatus, Priority, SessionOccurrence, Station
from broadcaster.errors import InvalidStateError, PlanningError
from broadcaster.services import bulletins, filling, queue, stations
from broadcaster.services.queue import Lengths
from broadcaster.services.schedule_views import sessions_between
from broadcaster.store.models import AiringRow, RevisionRow, StationRow

# Sunday 19/03/2023 evening in Hà Nội; the week's sessions lie ahead.
NOW = datetime(2023, 3, 19, 13, 0, tzinfo=UTC)
MONDAY = date(2023, 3, 20)
SHAPE = planning.ProgrammeShape(ident_s=5.0, gap_s=1.0)


def minutes(n: float) -> queue.DurationOf:
    """Every revision lasts n minutes (a plain function: capacity arithmetic without rendering)."""

    def duration(_rev: RevisionRow) -> float:
        return n * 60

    return duration


def context(s: Session) -> tuple[StationRow, Station, list[int]]:
    row = stations.find_station(s, "phu-thu")
    approved = bulletins.list_bulletins(s, row.id, status=BulletinStatus.APPROVED.value)
    return row, stations.station_domain(s, row), [b.id for b in approved]


def put(s: Session, bulletin_id: int, occ: SessionOccurrence, length: float = 1.0, **kw: object) -> AiringRow:
    row, domain, _ = context(s)
    return queue.queue(
        s,
        row,
        domain,
        occ,
        bulletin_id,
        actor="hung",
        now=NOW,
        lengths=Lengths(SHAPE, minutes(length)),
        **kw,  # type: ignore[arg-type]
    )


def session_at(domain: Station, day: date, hhmm: str) -> SessionOccurrence:
    return planning.find_occurrence(domain, day, time.fromisoformat(hhmm))


def test_outside_allowed_hours_only_an_emergency_is_queued(seeded: App) -> None:
    with seeded.tx() as s:
        _, domain, ids = context(s)
        noon = planning.to_utc(planning.station_zone(domain), MONDAY, time(12, 0))
        occ = SessionOccurrence("extra", "Buổi trưa", noon, timedelta(minutes=15))
        with pytest.raises(PlanningError) as refused:
            put(s, ids[0], occ)
        assert "ngoài khung giờ" in refused.value.message
        assert put(s, ids[0], occ, priority=Priority.EMERGENCY).priority == "emergency"


def test_an_overfull_session_is_refused_with_how_much_is_over(seeded: App) -> None:
    with seeded.tx() as s:
        _, domain, ids = context(s)
        occ = session_at(domain, MONDAY, "06:00")
        put(s, ids[0], occ, 5.0)
        put(s, ids[1], occ, 5.0)  # 5 s ident + 10 min + 2 gaps = 10:07 of 15:00
        with pytest.raises(PlanningError) as refused:
            put(s, ids[2], occ, 5.0)  # 5 + 900 + 3 gaps = 15:08: eight seconds over
        assert "vượt 00:08 (8 giây)" in refused.value.message


def test_only_approved_bulletins_are_queued(seeded: App) -> None:
    with seeded.tx() as s:
        row, domain, ids = context(s)
        pending = [b.id for b in bulletins.list_bulletins(s, row.id) if b.id not in ids]
        with pytest.raises(InvalidStateError):
            put(s, pending[0], session_at(domain, MONDAY, "06:00"))


def test_move_reorders_and_changes_sessions_and_the_day_view_adds_up(seeded: App) -> None:
    with seeded.tx() as s:
        row, domain, ids = context(s)
        morning, evening = session_at(domain, MONDAY, "06:00"), session_at(domain, MONDAY, "17:00")
        a, b, c = (put(s, i, morning, 2.0) for i in ids[:3])
        kw = {"actor": "hung", "now": NOW, "lengths": Lengths(SHAPE, minutes(2.0))}
        queue.move(s, row, domain, c.id, morning, position=1, **kw)  # type: ignore[arg-type]
        assert [x.id for x in queue.session_airings(s, row.id, morning.start)] == [c.id, a.id, b.id]
        queue.move(s, row, domain, a.id, evening, position=None, **kw)  # type: ignore[arg-type]
        assert [(x.id, x.position) for x in queue.session_airings(s, row.id, morning.start)] == [
            (c.id, 0),
            (b.id, 1),
        ]
        put(s, ids[1], evening, 2.0)  # b's bulletin now in the evening too
        with pytest.raises(InvalidStateError):
            queue.move(s, row, domain, b.id, evening, position=None, **kw)  # type: ignore[arg-type]

        views = sessions_between(s, row, domain, MONDAY, MONDAY, shape=SHAPE, duration_of=minutes(2.0))
        assert [(v.session_code, [i.airing_id for i in v.items]) for v in views] == [
            ("sang", [c.id, b.id]),
            ("chieu", [a.id, s.scalars(select(AiringRow.id).order_by(AiringRow.id.desc())).first()]),
        ]
        assert views[0].total_s == pytest.approx(5 + 240 + 2) and views[0].max_s == 900
        assert views[0].over_s == 0 and all(i.duration_s == 120 for i in views[0].items)


def test_a_past_airing_cannot_be_moved(seeded: App) -> None:
    with seeded.tx() as s:
        row, domain, ids = context(s)
        airing = put(s, ids[0], session_at(domain, MONDAY, "06:00"))
        later = airing.planned_start + timedelta(minutes=1)
        with pytest.raises(InvalidStateError):
            queue.move(
                s, row, domain, airing.id, session_at(domain, MONDAY, "17:00"),
                position=None, actor="hung", now=later, lengths=Lengths(SHAPE, minutes(1)),
            )  # fmt: skip


def test_play_now_emergency_at_any_hour_priority_only_within_hours(seeded: App) -> None:
    night = datetime(2023, 3, 20, 15, 0, tzinfo=UTC)  # 22:00 in Hà Nội
    with seeded.tx() as s:
        row, domain, ids = context(s)
        kw = {"actor": "hung", "now": night, "lengths": Lengths(SHAPE, minutes(1))}
        urgent = queue.play_now(s, row, domain, ids[0], emergency=True, **kw)  # type: ignore[arg-type]
        assert (urgent.session_code, urgent.priority) == ("emergency", "emergency")
        assert urgent.planned_start == night + queue.PLAY_NOW_LEAD
        with pytest.raises(PlanningError):
            queue.play_now(s, row, domain, ids[1], emergency=False, **kw)  # type: ignore[arg-type]
        evening = datetime(2023, 3, 20, 10, 0, tzinfo=UTC)  # 17:00
        manual = queue.play_now(s, row, domain, ids[1], **{**kw, "now": evening})  # type: ignore[arg-type]
        assert (manual.session_code, manual.priority) == ("manual", "priority")


def test_fill_proposes_applies_and_then_has_nothing_left_to_do(seeded: App) -> None:
    kw = {"actor": "hung", "now": NOW, "lengths": Lengths(SHAPE, minutes(1.5))}
    with seeded.tx() as s:
        row = stations.find_station(s, "phu-thu")
        proposed = filling.fill_range(s, row, MONDAY, MONDAY + timedelta(days=6), **kw)  # type: ignore[arg-type]
        assert proposed.queued == [] and proposed.result.shortfalls == []
        campaigns = {p.candidate.campaign_code for p in proposed.result.proposals}
        assert campaigns == {"mai-dam-2023", "ma-tuy-2023", "hiv-aids-2023", "mua-ban-nguoi-2023"}
        assert s.scalars(select(AiringRow)).first() is None  # proposing queues nothing
        applied = filling.fill_range(s, row, MONDAY, MONDAY + timedelta(days=6), apply=True, **kw)  # type: ignore[arg-type]
        assert len(applied.queued) == len(proposed.result.proposals)
        queued = s.scalars(select(AiringRow))
        assert sorted((a.planned_start, a.bulletin_id) for a in queued) == sorted(
            (p.occurrence.start, p.candidate.bulletin_id) for p in proposed.result.proposals
        )
        again = filling.fill_range(s, row, MONDAY, MONDAY + timedelta(days=6), **kw)  # type: ignore[arg-type]
        assert again.result.proposals == [] and again.result.shortfalls == []


def test_fill_says_which_targets_cannot_be_met_and_by_how_much(seeded: App) -> None:
    kw = {"actor": "hung", "now": NOW, "lengths": Lengths(SHAPE, minutes(20))}  # longer than any session
    with seeded.tx() as s:
        row = stations.find_station(s, "phu-thu")
        outcome = filling.fill_range(s, row, MONDAY, MONDAY + timedelta(days=6), **kw)  # type: ignore[arg-type]
    assert outcome.result.proposals == []
    messages = [f.message() for f in outcome.result.shortfalls]
    assert any("mai-dam-2023, tuần 12/2023: cần 1 lần phát, mới có 0 lần, thiếu 1 lần" in m for m in messages)
