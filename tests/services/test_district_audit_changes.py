"""Audit events up and schedule changes down, between a real PostgreSQL district server under uvicorn and
ward "thu"'s station PC on SQLite: every event kept once and resumable; a token of one ward cannot push
for another; a change to a session checked at the district, applied at the ward by its own settings
rules (or refused, with why), reported back, and the district's copy then says the same."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from district_world import District, air, sync
from sqlalchemy import func, select

from broadcaster.app import App
from broadcaster.errors import InputError, PermissionDenied
from broadcaster.services import audit, district_changes, forwarding, station_settings, users
from broadcaster.services.district_http import HttpDistrict
from broadcaster.services.district_inbox import DISTRICT_ACTOR, InboxParts, take_changes
from broadcaster.services.district_port import AuditEvent, DistrictUnreachable
from broadcaster.services.station_settings import SettingsInvalid
from broadcaster.services.stations import find_station
from broadcaster.store.models import AuditRow, ForwardedAuditRow, ScheduleChangeRow, SessionRow

pytestmark = pytest.mark.postgres


def port(district: District, code: str = "thu") -> HttpDistrict:
    return HttpDistrict(district.url, district.tokens[code], timeout_s=10)


def held_events(district: District, code: str = "thu") -> list[tuple[int, str]]:
    with district.app.tx() as s:
        station = find_station(s, code)
        q = select(ForwardedAuditRow.station_event_id, ForwardedAuditRow.action).where(
            ForwardedAuditRow.station_id == station.id
        )
        return sorted([(int(a), str(b)) for a, b in s.execute(q)])


def own_events(app: App) -> list[tuple[int, str]]:
    with app.tx() as s:
        return sorted([(int(a), str(b)) for a, b in s.execute(select(AuditRow.id, AuditRow.action))])


def note(app: App, count: int) -> None:
    """`count` audit events at the ward (an officer's edits, say)."""
    with app.tx() as s:
        for n in range(count):
            audit.record(
                s,
                actor="hung",
                action="bulletin.edit",
                object_type="bulletin",
                object_id=n,
                now=app.clock.now(),
            )


def test_audit_events_arrive_once_in_order_and_resume_after_an_outage(ward: App, district: District) -> None:
    note(ward, 7)
    first = forwarding.sync_audit(ward.sessions, "thu", port(district), batch=3)
    assert first.sent == len(own_events(ward)) and held_events(district) == own_events(ward)
    again = forwarding.sync_audit(ward.sessions, "thu", port(district), batch=3)
    assert again.sent == 0 and held_events(district) == own_events(ward)
    # A batch sent again after a lost answer (the district already holds it) adds nothing.
    events = [AuditEvent(i, ward.clock.now(), "hung", a, "bulletin", "1") for i, a in own_events(ward)[-3:]]
    assert port(district).push_audit("thu", events) == own_events(ward)[-1][0]
    district.stop()
    note(ward, 4)
    with pytest.raises(DistrictUnreachable):
        forwarding.sync_audit(ward.sessions, "thu", port(district))
    district.start()
    resumed = forwarding.sync_audit(ward.sessions, "thu", port(district), batch=2)
    assert resumed.sent == 4 and held_events(district) == own_events(ward)
    assert len(held_events(district)) == len(set(held_events(district)))


def test_a_token_of_one_ward_cannot_push_or_read_another_wards_events(ward: App, district: District) -> None:
    other = port(district, "hai")
    with pytest.raises(DistrictUnreachable) as refused:
        other.push_audit("thu", [AuditEvent(1, ward.clock.now(), "x", "bulletin.edit", "bulletin", "1")])
    assert "từ chối" in refused.value.message
    with pytest.raises(DistrictUnreachable):
        other.audit_head("thu")
    assert held_events(district) == []
    assert district.tokens["hai"] not in str(refused.value)


def test_a_station_whose_events_the_district_holds_beyond_its_own_is_stopped(
    ward: App, district: District
) -> None:
    events = [AuditEvent(10_000, ward.clock.now(), "hung", "bulletin.edit", "bulletin", "1")]
    port(district).push_audit("thu", events)
    with pytest.raises(InputError) as stopped:
        forwarding.sync_audit(ward.sessions, "thu", port(district))
    assert "Huyện đã nhận nhật ký thao tác của đài đến số 10000" in stopped.value.message


def _sessions(app: App, code: str = "thu") -> dict[str, tuple[str, int, str]]:
    with app.tx() as s:
        station = find_station(s, code)
        rows = s.scalars(select(SessionRow).where(SessionRow.station_id == station.id))
        return {r.code: (r.start_time, r.max_seconds, r.weekdays) for r in rows}


def _leader(district: District) -> str:
    with district.app.tx() as s:
        users.add_user(s, "minh", "leader", "Nguyễn Văn Minh", actor="test", now=district.app.clock.now())
    return "minh"


def propose(district: District, values: dict[str, object], session_code: str = "sang") -> int:
    with district.app.tx() as s:
        row = district_changes.propose_change(
            s, "thu", session_code, values, actor="minh", now=district.app.clock.now()
        )
        return row.id


def take(ward: App, district: District) -> Sequence[object]:
    parts = InboxParts(ward.config.media_dir, ward, None, ward.speak)
    return take_changes(ward.sessions, "thu", port(district), parts, now=ward.clock.now())


def test_a_session_change_is_applied_at_the_ward_and_at_the_districts_copy(
    ward: App, district: District
) -> None:
    _leader(district)
    change = propose(district, {"start": "06:30", "max_minutes": "20", "weekdays": ["mon", "wed", "fri"]})
    [report] = take(ward, district)
    assert report.state == "applied"  # type: ignore[attr-defined]
    assert _sessions(ward)["sang"] == ("06:30", 1200, "0,2,4")
    assert _sessions(district.app)["sang"] == ("06:30", 1200, "0,2,4")
    with district.app.tx() as s:
        row = s.get(ScheduleChangeRow, change)
        assert row is not None and row.state == "applied" and row.reported_at is not None
    assert take(ward, district) == []  # taken once
    with ward.tx() as s:
        done = s.scalars(select(AuditRow).where(AuditRow.action == "schedule.change")).one()
        assert done.actor == DISTRICT_ACTOR and done.detail["by"] == "minh"


def test_a_change_the_rules_refuse_is_refused_at_the_district_field_by_field(district: District) -> None:
    _leader(district)
    with pytest.raises(SettingsInvalid) as bad:
        propose(district, {"start": "20:00", "max_minutes": "15", "weekdays": ["mon"]})
    assert "start" in bad.value.fields or "form" in bad.value.fields
    with pytest.raises(SettingsInvalid) as blank:
        propose(district, {"start": "", "max_minutes": "15", "weekdays": ["mon"]})
    assert blank.value.fields == {"start": "Chưa điền ô này."}
    with district.app.tx() as s:
        assert s.scalar(select(func.count(ScheduleChangeRow.id))) == 0
    with pytest.raises(PermissionDenied), district.app.tx() as s:
        users.add_user(s, "tra", "inspector", "Lê Thị Tra", actor="test", now=district.app.clock.now())
        district_changes.propose_change(
            s,
            "thu",
            "sang",
            {"start": "06:30", "max_minutes": "15"},
            actor="tra",
            now=district.app.clock.now(),
        )


def test_a_change_the_ward_cannot_take_is_refused_with_why_and_nothing_changes(
    ward: App, district: District
) -> None:
    _leader(district)
    with ward.tx() as s:  # the ward narrowed its hours since the district last saw its schedule
        values = {"name": "Đài phường thu", "ident": "Đài phường.", "allowed_hours": "05:00-06:20"}
        users.add_user(s, "quan", "admin", "Trần Văn Quân", actor="test", now=ward.clock.now())
        station_settings.update_station(
            s, "thu", values, actor="quan", now=ward.clock.now(), speak=ward.speak
        )
    before = _sessions(ward)
    change = propose(district, {"start": "06:30", "max_minutes": "15", "weekdays": ["mon"]})
    [report] = take(ward, district)
    assert report.state == "refused" and report.note  # type: ignore[attr-defined]
    assert _sessions(ward) == before
    with district.app.tx() as s:
        row = s.get(ScheduleChangeRow, change)
        assert row is not None and row.state == "refused" and row.note == report.note  # type: ignore[attr-defined]
    assert _sessions(district.app)["sang"][0] == "06:00"  # the district's copy is left as it was


def test_the_cli_sync_sends_events_and_applies_changes(
    ward: App, district: District, capsys: pytest.CaptureFixture[str]
) -> None:
    from broadcaster.cli.main import main

    air(ward, 2)
    assert sync(ward, district).rows == 2
    _leader(district)
    propose(district, {"start": "06:15", "max_minutes": "15", "weekdays": ["sat", "sun"]})
    main(["sync"])
    out = capsys.readouterr().out
    assert "thao tác mới vào nhật ký thao tác ở huyện" in out
    assert "Thay đổi lịch phát số 1 của huyện: đã áp dụng" in out
    assert _sessions(ward)["sang"][0] == "06:15"
    assert held_events(district) == own_events(ward)[: len(held_events(district))]
