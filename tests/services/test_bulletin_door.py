"""Validation at the door and a bulletin leaving the plan (issue 10.2 and 10.6), on the seed station.

Unspeakable text is refused on add and edit; a campaign's period bounds where its bulletins may be
queued; retiring or editing a bulletin takes its future airings out of the plan (and out of what the
daemon is given to play), says who had queued them, and keeps them only when a leader or operator asks.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import planning
from broadcaster.app import App
from broadcaster.domain import BulletinStatus, Priority, Role, SessionOccurrence, Station
from broadcaster.errors import InputError, InvalidStateError, PermissionDenied, PlanningError
from broadcaster.services import bulletins, queue, stations, users
from broadcaster.services.queue import Lengths
from broadcaster.services.schedule_views import sessions_between
from broadcaster.services.withdrawals import REASON_EDITED, REASON_RETIRED
from broadcaster.store.models import AiringRow, AuditRow, CampaignRow, RevisionRow, StationRow

NOW = datetime(2023, 3, 19, 13, 0, tzinfo=UTC)  # Sunday evening in Hà Nội
MONDAY = date(2023, 3, 20)
SHAPE = planning.ProgrammeShape(ident_s=5.0, gap_s=1.0)
TEXT = "Phường tổ chức tổng vệ sinh vào sáng Chủ nhật."


def one_minute(_rev: RevisionRow) -> float:
    """Every revision lasts a minute (capacity is not what these tests are about)."""
    return 60.0


def _station(s: Session) -> tuple[StationRow, Station]:
    row = stations.find_station(s, "phu-thu")
    return row, stations.station_domain(s, row)


def _add(app: App, s: Session, text: str) -> int:
    return bulletins.add(
        s,
        station_id=stations.find_station(s, "phu-thu").id,
        campaign_code="mai-dam-2023",
        title="Tin thử",
        agency="VH-XH",
        text=text,
        actor="lan",
        now=NOW,
        speak=app.speak,
    ).id


def _approved(s: Session) -> list[int]:
    row = stations.find_station(s, "phu-thu")
    return [b.id for b in bulletins.list_bulletins(s, row.id, status=BulletinStatus.APPROVED.value)]


def _put(
    s: Session,
    bulletin_id: int,
    occ: SessionOccurrence,
    actor: str = "hung",
    now: datetime = NOW,
    priority: Priority = Priority.NORMAL,
) -> AiringRow:
    row, domain = _station(s)
    return queue.queue(
        s, row, domain, occ, bulletin_id,
        actor=actor, now=now, lengths=Lengths(SHAPE, one_minute), priority=priority,
    )  # fmt: skip


def _session(s: Session, day: date, hhmm: str) -> SessionOccurrence:
    return planning.find_occurrence(_station(s)[1], day, time.fromisoformat(hhmm))


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "trống"),
        ("   \n\t  \n", "trống"),
        ("😀🎉🙏", "không có chữ nào để đọc"),
        ("... !!! ??? — …", "không có chữ nào để đọc"),
        ("🔊 ➡️ ✅ !!!", "không có chữ nào để đọc"),
    ],
)
def test_unspeakable_text_is_refused_on_add_and_nothing_is_stored(
    seeded: App, text: str, needle: str
) -> None:
    with seeded.tx() as s:
        before = len(bulletins.list_bulletins(s, stations.find_station(s, "phu-thu").id))
    with pytest.raises(InputError) as refused, seeded.tx() as s:
        _add(seeded, s, text)
    assert needle in refused.value.message and "\n" not in refused.value.one_line()
    with seeded.tx() as s:
        assert len(bulletins.list_bulletins(s, stations.find_station(s, "phu-thu").id)) == before


def test_unspeakable_text_is_refused_on_edit_and_the_revision_stays(seeded: App) -> None:
    with seeded.tx() as s:
        bid = _add(seeded, s, TEXT)
    for text in ("", "  ", "🎉🎉", "?!"):
        with pytest.raises(InputError), seeded.tx() as s:
            bulletins.edit(s, bid, text, actor="lan", now=NOW, speak=seeded.speak)
    with seeded.tx() as s:
        assert [r.number for r in bulletins.get(s, bid).revisions] == [1]
        # Numbers and abbreviations are speakable: they are read out as words.
        assert (
            bulletins.edit(s, bid, "UBND 2023", actor="lan", now=NOW, speak=seeded.speak).revision.number == 2
        )


def test_a_campaign_cannot_be_queued_outside_its_period(seeded: App) -> None:
    with seeded.tx() as s:
        bid = _approved(s)[0]
        campaign = bulletins.get(s, bid).campaign
        campaign.period_start, campaign.period_end = date(2023, 3, 21), date(2023, 3, 25)
        with pytest.raises(PlanningError) as early:
            _put(s, bid, _session(s, MONDAY, "06:00"))
        assert f"Chiến dịch {campaign.code} chỉ bắt đầu từ ngày 21/03/2023" in early.value.message
        assert "20/03/2023" in early.value.message
        with pytest.raises(PlanningError) as late:
            _put(s, bid, _session(s, date(2023, 3, 27), "06:00"))
        assert "đã kết thúc ngày 25/03/2023" in late.value.message and "27/03/2023" in late.value.message
        assert "từ 21/03/2023 đến 25/03/2023" in (late.value.hint or "")
        assert _put(s, bid, _session(s, date(2023, 3, 21), "06:00")).bulletin_id == bid  # inside: fine
        airing = _put(s, bid, _session(s, date(2023, 3, 22), "06:00"))
        row, domain = _station(s)
        with pytest.raises(PlanningError, match="đã kết thúc"):  # nor moved out of it
            queue.move(
                s, row, domain, airing.id, _session(s, date(2023, 3, 27), "06:00"),
                position=None, actor="hung", now=NOW, lengths=Lengths(SHAPE, one_minute),
            )  # fmt: skip


def test_an_ended_campaign_still_lets_an_emergency_through(seeded: App) -> None:
    night = datetime(2024, 1, 8, 15, 0, tzinfo=UTC)  # 22:00, long after every 2023 campaign ended
    with seeded.tx() as s:
        row, domain = _station(s)
        bid = _approved(s)[0]
        with pytest.raises(PlanningError, match="đã kết thúc ngày 31/12/2023"):
            queue.play_now(s, row, domain, bid, actor="hung", now=night, lengths=Lengths(SHAPE, one_minute))
        urgent = queue.play_now(
            s, row, domain, bid, actor="hung", now=night, lengths=Lengths(SHAPE, one_minute), emergency=True
        )
        assert urgent.priority == "emergency"


def _plan(seeded: App) -> tuple[int, list[AiringRow], AiringRow]:
    """An approved bulletin queued by two operators into three future sessions and one already past."""
    with seeded.tx() as s:
        users.add_user(s, "mai", Role.OPERATOR.value, "Lê Thị Mai", actor="test", now=NOW)
        bid = _approved(s)[0]
        past = _put(s, bid, _session(s, MONDAY, "06:00"), now=NOW)
        later = NOW + timedelta(days=1)  # Monday evening: the morning session has gone
        future = [
            _put(s, bid, _session(s, MONDAY + timedelta(days=1), "06:00"), "hung", now=later),
            _put(s, bid, _session(s, MONDAY + timedelta(days=1), "17:00"), "mai", now=later),
            _put(s, bid, _session(s, MONDAY + timedelta(days=2), "06:00"), "hung", now=later),
        ]
        _put(s, _approved(s)[1], _session(s, MONDAY + timedelta(days=1), "06:00"), now=later)
    return bid, future, past


def test_retiring_withdraws_the_future_airings_and_says_who_queued_them(seeded: App) -> None:
    bid, future, past = _plan(seeded)
    later = NOW + timedelta(days=1)
    with seeded.tx() as s:
        result = bulletins.retire(s, bid, actor="khoi", now=later)
    assert [w.airing_id for w in result.withdrawn] == [a.id for a in future]
    assert sorted({w.queued_by for w in result.withdrawn}) == ["hung", "mai"]
    with seeded.tx() as s:
        rows = {a.id: a for a in s.scalars(select(AiringRow))}
        assert {(rows[a.id].cancel_reason, rows[a.id].cancelled_by) for a in future} == {
            (REASON_RETIRED, "khoi")
        }
        assert rows[past.id].cancelled_at is None  # what was due before the retire is history, not plan
        audited = s.scalars(select(AuditRow.object_id).where(AuditRow.action == "airing.withdraw")).all()
        assert sorted(audited) == sorted(str(a.id) for a in future)
        row, domain = _station(s)
        day = MONDAY + timedelta(days=1)
        shown = sessions_between(s, row, domain, day, day, shape=SHAPE, duration_of=one_minute)
        assert [i.bulletin_id for v in shown for i in v.items] == [_approved(s)[0]]  # the other bulletin only
        # The query the daemon's Source (StationPlayout.pending) plays from no longer holds them either.
        playable = queue.active_airings(s, row.id, later, later + timedelta(days=7))
        assert {a.id for a in playable}.isdisjoint({a.id for a in future}) and playable
    with pytest.raises(InvalidStateError, match="đã ngừng phát"), seeded.tx() as s:
        bulletins.retire(s, bid, actor="khoi", now=later)
    with pytest.raises(InvalidStateError), seeded.tx() as s:
        _put(s, bid, _session(s, MONDAY + timedelta(days=3), "06:00"), now=later)


def test_editing_an_approved_bulletin_withdraws_its_future_airings(seeded: App) -> None:
    bid, future, _ = _plan(seeded)
    later = NOW + timedelta(days=1)
    with seeded.tx() as s:
        result = bulletins.edit(s, bid, TEXT, actor="lan", now=later, speak=seeded.speak)
    assert result.revision.number == 2 and result.kept == 0
    assert [w.airing_id for w in result.withdrawn] == [a.id for a in future]
    with seeded.tx() as s:
        ids = [a.id for a in future]
        reasons = {a.cancel_reason for a in s.scalars(select(AiringRow).where(AiringRow.id.in_(ids)))}
        assert reasons == {REASON_EDITED}
        assert bulletins.get(s, bid).status == BulletinStatus.DRAFT


def test_only_a_leader_or_operator_keeps_the_airings_on_the_approved_revision(seeded: App) -> None:
    bid, future, _ = _plan(seeded)
    later = NOW + timedelta(days=1)
    with pytest.raises(PermissionDenied, match="lan"), seeded.tx() as s:
        bulletins.edit(s, bid, TEXT, actor="lan", now=later, speak=seeded.speak, keep_airings=True)
    with seeded.tx() as s:
        first = bulletins.approved_revision(bulletins.get(s, bid)).id
        result = bulletins.edit(s, bid, TEXT, actor="khoi", now=later, speak=seeded.speak, keep_airings=True)
    assert result.withdrawn == [] and result.kept == len(future)
    with seeded.tx() as s:
        kept = s.scalars(select(AiringRow).where(AiringRow.id.in_([a.id for a in future]))).all()
        assert all(a.cancelled_at is None and a.revision_id == first for a in kept)
        assert s.get_one(RevisionRow, first).approval == "approved"  # the words that will air were approved


def test_a_campaign_row_period_is_what_the_queue_reads(seeded: App) -> None:
    """The period check reads the campaign as stored (a schedule re-import that shortens it counts)."""
    with seeded.tx() as s:
        bid = _approved(s)[0]
        campaign = s.get_one(CampaignRow, bulletins.get(s, bid).campaign_id)
        campaign.period_end = MONDAY
    with pytest.raises(PlanningError, match="đã kết thúc"), seeded.tx() as s:
        _put(s, bid, _session(s, MONDAY + timedelta(days=1), "06:00"))
    with seeded.tx() as s:
        assert _put(s, bid, _session(s, MONDAY, "17:00"), priority=Priority.PRIORITY).priority == "priority"
