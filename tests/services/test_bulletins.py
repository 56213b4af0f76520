"""Bulletin life cycle with role checks; approval records the spoken text's hash; the audit trail."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from broadcaster.app import App
from broadcaster.errors import InvalidStateError, NotFoundError, PermissionDenied
from broadcaster.services import bulletins
from broadcaster.services.stations import find_station
from broadcaster.store.models import AuditRow

TEXT = "Thực hiện Kế hoạch số 61/KH-UBND ngày 03/03/2023, phường tuyên truyền lúc 17h30."


def _add(app: App, actor: str = "lan") -> int:
    with app.tx() as s:
        station = find_station(s, None)
        row = bulletins.add(
            s,
            station_id=station.id,
            campaign_code="mai-dam-2023",
            title="Tin thử",
            agency="VH-XH",
            text=TEXT,
            actor=actor,
            now=app.clock.now(),
            speak=app.speak,
        )
        return row.id


def test_officer_writes_leader_approves_exactly_the_spoken_text(seeded: App) -> None:
    app = seeded
    bid = _add(app)
    with app.tx() as s:
        rev = bulletins.latest_revision(bulletins.get(s, bid))
        assert "sáu mươi mốt" in rev.spoken_text and "mười bảy giờ ba mươi" in rev.spoken_text
        assert "61" not in rev.spoken_text
        spoken_sha = rev.spoken_sha256
        bulletins.submit(s, bid, actor="lan", now=app.clock.now())
    with app.tx() as s:
        rev = bulletins.approve(s, bid, actor="khoi", now=app.clock.now(), seen_sha256=spoken_sha[:12])
        assert rev.approved_sha256 == spoken_sha and rev.approved_by == "khoi"
        assert bulletins.approved_revision(bulletins.get(s, bid)).id == rev.id
    with app.tx() as s:
        actions = [a.action for a in s.scalars(select(AuditRow).where(AuditRow.object_id == str(bid)))]
    assert actions == ["bulletin.add", "bulletin.submit", "bulletin.approve"]


def test_roles_are_enforced(seeded: App) -> None:
    app = seeded
    with pytest.raises(PermissionDenied, match="hung"):
        _add(app, actor="hung")  # the operator may not write
    bid = _add(app)
    with app.tx() as s:
        bulletins.submit(s, bid, actor="lan", now=app.clock.now())
    with pytest.raises(PermissionDenied, match="lãnh đạo"), app.tx() as s:
        bulletins.approve(s, bid, actor="lan", now=app.clock.now())
    with pytest.raises(PermissionDenied, match="BROADCASTER_USER"), app.tx() as s:
        bulletins.approve(s, bid, actor=None, now=app.clock.now())
    with pytest.raises(NotFoundError, match="ai"), app.tx() as s:
        bulletins.approve(s, bid, actor="ai", now=app.clock.now())


def test_editing_an_approved_bulletin_needs_approval_again(seeded: App) -> None:
    app = seeded
    bid = _add(app)
    with app.tx() as s:
        bulletins.submit(s, bid, actor="lan", now=app.clock.now())
        bulletins.approve(s, bid, actor="khoi", now=app.clock.now())
    with app.tx() as s:
        rev = bulletins.edit(s, bid, TEXT + " Xin cảm ơn.", actor="lan", now=app.clock.now(), speak=app.speak)
        assert rev.number == 2
    with pytest.raises(InvalidStateError, match="chưa được duyệt"), app.tx() as s:
        bulletins.approved_revision(bulletins.get(s, bid))


def test_approval_refused_when_spoken_text_changed_since_seen(seeded: App) -> None:
    app = seeded
    bid = _add(app)
    with app.tx() as s:
        bulletins.submit(s, bid, actor="lan", now=app.clock.now())
    with pytest.raises(InvalidStateError, match="thay đổi"), app.tx() as s:
        bulletins.approve(s, bid, actor="khoi", now=app.clock.now(), seen_sha256="deadbeef")
    with app.tx() as s:
        assert bulletins.get(s, bid).status == "submitted"  # nothing changed


def test_reject_needs_a_reason_and_allows_resubmission(seeded: App) -> None:
    app = seeded
    bid = _add(app)
    with app.tx() as s:
        bulletins.submit(s, bid, actor="lan", now=app.clock.now())
        bulletins.reject(s, bid, "Sai số điện thoại", actor="khoi", now=app.clock.now())
    with app.tx() as s:
        assert bulletins.get(s, bid).status == "rejected"
        bulletins.submit(s, bid, actor="lan", now=app.clock.now())
        assert bulletins.get(s, bid).status == "submitted"


def test_unknown_campaign_is_a_clear_error_and_nothing_is_stored(seeded: App) -> None:
    app = seeded
    with pytest.raises(NotFoundError, match="mai-dam-2023"), app.tx() as s:
        station = find_station(s, None)
        bulletins.add(
            s,
            station_id=station.id,
            campaign_code="khong-co",
            title="T",
            agency="",
            text=TEXT,
            actor="lan",
            now=app.clock.now(),
            speak=app.speak,
        )
    with app.tx() as s:
        assert len(bulletins.list_bulletins(s, find_station(s, None).id)) == 12
