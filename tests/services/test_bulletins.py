"""Bulletin life cycle with role checks; approval records the spoken text's hash; the audit trail."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from broadcaster import airlog
from broadcaster.app import App
from broadcaster.domain import AsRunEntry, Outcome, Trigger
from broadcaster.errors import InvalidStateError, NotFoundError, PermissionDenied
from broadcaster.files import file_sha256
from broadcaster.services import bulletins, media
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
        now = app.clock.now()
        edited = bulletins.edit(s, bid, TEXT + " Xin cảm ơn.", actor="lan", now=now, speak=app.speak)
        assert edited.revision.number == 2
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


def test_recent_airings_are_that_bulletins_newest_twenty(seeded: App) -> None:
    app = seeded
    start = datetime(2023, 3, 20, 23, 0, tzinfo=UTC)
    with app.tx() as s:
        station = find_station(s, None)
        seqs = []
        for n in range(25):
            for bid in (1, 2):  # interleaved with another bulletin's airings
                entry = AsRunEntry(
                    Outcome.COMPLETED if n % 4 else Outcome.INTERRUPTED,
                    Trigger.SCHEDULE,
                    actual_start=start + timedelta(days=n),
                    played_ms=60_000,
                    session_code="sang",
                    bulletin_id=bid,
                )
                row = airlog.append(s, station.id, entry, recorded_by="daemon", now=start + timedelta(days=n))
                if bid == 1:
                    seqs.append(row.seq)
    with app.tx() as s:
        rows = bulletins.recent_airings(s, 1)
        assert [r.seq for r in rows] == sorted(seqs, reverse=True)[:20]
        assert {r.bulletin_id for r in rows} == {1}
        assert bulletins.recent_airings(s, 3) == []


def test_a_recording_revision_is_approved_by_the_hash_of_its_audio(seeded: App, tmp_path: Path) -> None:
    app = seeded
    clip = tmp_path / "clip.ogg"
    source = "anoisesrc=color=pink:amplitude=0.3:duration=1.5,tremolo=f=4:d=0.8"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", source, str(clip)], check=True)
    with media.import_recording(clip, app.media_settings(), max_duration_s=60) as recording, app.tx() as s:
        bid = bulletins.add(
            s,
            station_id=find_station(s, None).id,
            campaign_code="mai-dam-2023",
            title="Lời kêu gọi của Chủ tịch phường",
            agency="UBND phường",
            text="Bản ghi âm: Lời kêu gọi của Chủ tịch phường",
            actor="lan",
            now=app.clock.now(),
            speak=app.speak,
            recording=recording,
        ).id
    with app.tx() as s:
        rev = bulletins.latest_revision(bulletins.get(s, bid))
        assert rev.spoken_text == "Bản ghi âm: Lời kêu gọi của Chủ tịch phường"  # a description, not spoken
        assert rev.spoken_sha256 == file_sha256(Path(str(rev.source_audio))) == recording.sha256
        bulletins.submit(s, bid, actor="lan", now=app.clock.now())
        assert (
            bulletins.approve(s, bid, actor="khoi", now=app.clock.now()).approved_sha256 == recording.sha256
        )
    with app.tx() as s:
        detail = s.scalars(select(AuditRow.detail).where(AuditRow.action == "bulletin.add")).all()[-1]
        assert detail["recording_sha256"] == recording.sha256
