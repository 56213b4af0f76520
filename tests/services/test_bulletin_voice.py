"""A bulletin's voice and speed: chosen per bulletin (station defaults otherwise), stored with the revision,
part of what the leader approves and of the audio's identity; bad choices store nothing."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from broadcaster.app import App
from broadcaster.audio.loudness import measure
from broadcaster.errors import InputError, InvalidStateError
from broadcaster.services import bulletin_audio, bulletins, media
from broadcaster.services.stations import find_station
from broadcaster.speech.engines import EspeakEngine
from broadcaster.store.models import AuditRow, BulletinRow, RenderRow, RevisionRow

TEXT = "Ủy ban nhân dân phường thông báo lịch tiêm chủng mở rộng cho trẻ em vào sáng thứ bảy tuần này."
SOUTH = "espeak:vi-vn-x-south"


def _add(app: App, voice: str | None = None, speed: str | float | None = None) -> int:
    with app.tx() as s:
        row = bulletins.add(
            s,
            station_id=find_station(s, None).id,
            campaign_code="mai-dam-2023",
            title="Tin tiêm chủng",
            agency="Trạm y tế",
            text=TEXT,
            actor="lan",
            now=app.clock.now(),
            speak=app.speak,
            voice=voice,
            speed=speed,
            offer=app.voices,
        )
        return row.id


def _approve(app: App, bid: int) -> RevisionRow:
    with app.tx() as s:
        bulletins.submit(s, bid, actor="lan", now=app.clock.now())
        seen = bulletins.latest_revision(bulletins.get(s, bid)).spoken_sha256
        return bulletins.approve(s, bid, actor="khoi", now=app.clock.now(), seen_sha256=seen)


def _heard(app: App, bid: int) -> bulletin_audio.Listening:
    with app.tx() as s:
        return bulletin_audio.render_approved(s, bid, app.renderer, app.media_settings(), now=app.clock.now())


def _counts(app: App) -> tuple[int, int, int]:
    with app.tx() as s:
        return (
            s.scalar(select(func.count()).select_from(BulletinRow)) or 0,
            s.scalar(select(func.count()).select_from(RevisionRow)) or 0,
            s.scalar(select(func.count()).select_from(AuditRow)) or 0,
        )


def test_a_new_bulletin_takes_the_station_defaults_or_the_choice(seeded: App) -> None:
    plain, chosen = _add(seeded), _add(seeded, SOUTH, "1,1")
    with seeded.tx() as s:
        first = bulletins.latest_revision(bulletins.get(s, plain))
        second = bulletins.latest_revision(bulletins.get(s, chosen))
        assert (first.voice, first.speed) == ("espeak:vi", 1.0)  # the head of this station's chain
        assert (second.voice, second.speed) == (SOUTH, 1.1)
        # What the leader approves covers how it is read: same words, another voice, another hash.
        assert first.spoken_text == second.spoken_text and first.spoken_sha256 != second.spoken_sha256
        assert second.spoken_sha256 == bulletins.spoken_hash(second.spoken_text, SOUTH, 1.1)
        assert bulletins.spoken_hash("a") == hashlib.sha256(b"a").hexdigest()  # the chain at 1×: as before
        audit = s.scalars(select(AuditRow).where(AuditRow.object_id == str(chosen))).one()
        assert audit.detail["voice"] == SOUTH and audit.detail["speed"] == 1.1


@pytest.mark.parametrize(
    ("voice", "speed", "field", "needle"),
    [
        (None, 2.0, "speed", "Tốc độ đọc 2× nằm ngoài khoảng cho phép"),
        (None, "0,5", "speed", "Tốc độ đọc 0,5× nằm ngoài khoảng cho phép"),
        ("espeak:vi-vn-x-hue", None, "voice", "Không có giọng đọc «espeak:vi-vn-x-hue»"),
        ("gtts:vi", None, "voice", "Không có giọng đọc «gtts:vi»"),  # this station's chain is offline
    ],
)
def test_a_bad_voice_or_speed_is_one_vietnamese_line_and_stores_nothing(
    seeded: App, voice: str | None, speed: str | float | None, field: str, needle: str
) -> None:
    before = _counts(seeded)
    with pytest.raises(InputError) as info:
        _add(seeded, voice, speed)
    assert info.value.field == field and needle in info.value.message
    assert "\n" not in info.value.one_line()
    assert _counts(seeded) == before


def test_changing_the_voice_or_speed_after_approval_needs_a_new_approval(seeded: App) -> None:
    app = seeded
    bid = _add(app)
    approved = _approve(app, bid)
    old = _heard(app, bid)
    assert old.engine == "espeak" and not old.fallback

    with app.tx() as s:  # the officer only changes the voice: a new revision, back to draft
        edited = bulletins.edit(
            s, bid, TEXT, actor="lan", now=app.clock.now(), speak=app.speak, voice=SOUTH, offer=app.voices
        )
        assert (edited.revision.number, edited.revision.voice, edited.revision.speed) == (2, SOUTH, 1.0)
        assert edited.revision.approval == "pending" and bulletins.get(s, bid).status == "draft"
        assert edited.revision.spoken_sha256 != approved.spoken_sha256
    with pytest.raises(InvalidStateError, match="chưa được duyệt"), app.tx() as s:
        bulletins.approved_revision(bulletins.get(s, bid))  # nothing of it may air now

    with app.tx() as s:
        bulletins.submit(s, bid, actor="lan", now=app.clock.now())
    with pytest.raises(InvalidStateError, match="thay đổi"), app.tx() as s:
        # The leader's page still showed the old voice: that approval is refused, not applied to the new one.
        bulletins.approve(s, bid, actor="khoi", now=app.clock.now(), seen_sha256=approved.spoken_sha256)
    second = _approve_submitted(app, bid)
    assert second.number == 2 and second.approved_sha256 == second.spoken_sha256
    new = _heard(app, bid)
    assert new.sha256 != old.sha256 and new.path != old.path  # the old approved audio is not the new choice

    with app.tx() as s:  # then only the speed: a new revision again
        edited = bulletins.edit(
            s, bid, TEXT, actor="lan", now=app.clock.now(), speak=app.speak, speed="1,2", offer=app.voices
        )
        assert (edited.revision.voice, edited.revision.speed) == (SOUTH, 1.2)
        assert bulletins.get(s, bid).status == "draft"
    _approve(app, bid)
    faster = _heard(app, bid)
    assert new.duration_s / faster.duration_s == pytest.approx(1.2, rel=0.03)
    assert measure(faster.path).duration_s == pytest.approx(faster.duration_s, abs=0.05)


def _approve_submitted(app: App, bid: int) -> RevisionRow:
    with app.tx() as s:
        seen = bulletins.latest_revision(bulletins.get(s, bid)).spoken_sha256
        return bulletins.approve(s, bid, actor="khoi", now=app.clock.now(), seen_sha256=seen)


def test_an_edit_changing_nothing_heard_is_refused_and_a_bad_speed_keeps_the_revision(
    seeded: App,
) -> None:
    app = seeded
    bid = _add(app, SOUTH, 1.1)
    with pytest.raises(InputError, match="không thay đổi"), app.tx() as s:
        bulletins.edit(
            s, bid, TEXT, actor="lan", now=app.clock.now(), speak=app.speak, voice=SOUTH, offer=app.voices
        )
    before = _counts(app)
    with pytest.raises(InputError) as info, app.tx() as s:
        bulletins.edit(
            s, bid, TEXT + " Xin cảm ơn.", actor="lan", now=app.clock.now(), speak=app.speak, speed="3"
        )
    assert info.value.field == "speed" and _counts(app) == before
    with app.tx() as s:  # a text edit keeps the voice and speed chosen before
        rev = bulletins.edit(
            s, bid, TEXT + " Xin cảm ơn.", actor="lan", now=app.clock.now(), speak=app.speak, offer=app.voices
        ).revision
        assert (rev.number, rev.voice, rev.speed) == (2, SOUTH, 1.1)


def test_an_espeak_upgrade_re_renders_the_approved_audio(seeded: App) -> None:
    app = seeded
    bid = _add(app, SOUTH)
    _approve(app, bid)
    first = _heard(app, bid)
    engine = app.renderer.for_voice(SOUTH).engines[0]
    assert isinstance(engine, EspeakEngine)
    installed = engine.version
    with app.tx() as s:
        row = s.scalars(select(RenderRow).where(RenderRow.path == str(first.path))).one()
        assert row.settings_key == engine.settings_key() and row.settings_key.startswith(
            "voice=vi-vn-x-south;"
        )
        assert installed and row.settings_key.endswith(f";version={installed}")
    # The station upgrades espeak-ng: the program now reports another version (read once per engine).
    engine.__dict__["version"] = "9.99"
    again = _heard(app, bid)
    with app.tx() as s:
        rows = s.scalars(select(RenderRow).where(RenderRow.revision_id == row.revision_id)).all()
        assert [r.settings_key.rsplit("version=", 1)[1] for r in rows] == [installed, "9.99"]
    assert again.engine == "espeak" and again.path != first.path and again.path.is_file()
    assert _heard(app, bid).path == again.path  # the new one stands: no re-render without an upgrade


def test_a_bulletin_written_before_voices_keeps_the_stations_chain(seeded: App) -> None:
    app = seeded
    with app.tx() as s:
        row = bulletins.add(
            s,
            station_id=find_station(s, None).id,
            campaign_code="mai-dam-2023",
            title="Tin cũ",
            agency="",
            text=TEXT,
            actor="lan",
            now=app.clock.now(),
            speak=app.speak,
        )
        rev = bulletins.latest_revision(row)
        assert (rev.voice, rev.speed) == ("", 1.0) and rev.spoken_sha256 == bulletins.spoken_hash(
            rev.spoken_text
        )
        bid = row.id
    _approve(app, bid)
    heard = _heard(app, bid)
    assert heard.engine == "espeak" and not heard.fallback
    with app.tx() as s:
        edited = bulletins.edit(
            s, bid, TEXT + " Xin cảm ơn.", actor="lan", now=app.clock.now(), speak=app.speak, offer=app.voices
        )
        assert (edited.revision.voice, edited.revision.speed) == ("", 1.0)
    assert media.preferred_engine("", "espeak") == "espeak"
