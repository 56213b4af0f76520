"""Air audio: gTTS through an HTTP interceptor, espeak-ng fallback, upgrade, cache, recordings."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from google_fake import FakeGoogle
from sqlalchemy import func, select

from broadcaster.app import App, build_app
from broadcaster.audio.loudness import measure
from broadcaster.config import load_config
from broadcaster.errors import AudioError
from broadcaster.files import file_sha256
from broadcaster.services import bulletins, media
from broadcaster.services.stations import find_station
from broadcaster.store.models import BulletinRow, RenderRow

SHORT = "Phường thông báo lịch tiêm vắc-xin sởi vào sáng thứ bảy."


@pytest.fixture
def gapp(seeded: App, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    """The seeded station with the real chain gTTS → espeak-ng (no retries: the fallback is what we test)."""
    monkeypatch.setenv("BROADCASTER_SPEECH_ENGINES", "gtts,espeak")
    monkeypatch.setenv("BROADCASTER_SPEECH_RETRIES", "0")
    application = build_app(load_config())
    yield application
    application.engine.dispose()


def approved_bulletin(app: App, text: str = SHORT) -> int:
    """Officer writes, submits; leader approves. Returns the bulletin id."""
    with app.tx() as s:
        station = find_station(s, None)
        row = bulletins.add(
            s,
            station_id=station.id,
            campaign_code="mai-dam-2023",
            title="Tin ngắn",
            agency="Trạm y tế",
            text=text,
            actor="lan",
            now=app.clock.now(),
            speak=app.speak,
        )
        bulletins.submit(s, row.id, actor="lan", now=app.clock.now())
        bulletins.approve(s, row.id, actor="khoi", now=app.clock.now())
        return row.id


def render(app: App, bulletin_id: int, *, upgrade: bool = False) -> tuple[int, str, str, Path]:
    """ensure_render in its own transaction: (render id, engine, sha256, path)."""
    with app.tx() as s:
        rev = bulletins.approved_revision(bulletins.get(s, bulletin_id))
        row = media.ensure_render(
            s, rev, app.renderer, app.media_settings(), now=app.clock.now(), upgrade=upgrade
        )
        return row.id, row.engine, row.sha256, Path(row.path)


def render_count(app: App) -> int:
    with app.tx() as s:
        return int(s.scalar(select(func.count()).select_from(RenderRow)) or 0)


def test_approved_bulletin_is_rendered_by_gtts_and_reused(gapp: App, fake_google: FakeGoogle) -> None:
    bid = approved_bulletin(gapp)
    render_id, engine, sha, path = render(gapp, bid)
    assert engine == "gtts" and len(fake_google.calls) >= 1
    assert fake_google.calls[0].lang == "vi"
    assert path.suffix == ".mp3" and path.is_relative_to(gapp.config.media_dir)
    assert file_sha256(path) == sha
    assert abs(measure(path).integrated_lufs - gapp.config.audio.target_lufs) < 1.0
    calls = len(fake_google.calls)
    assert render(gapp, bid)[0] == render_id  # the second render reuses the row ...
    assert len(fake_google.calls) == calls  # ... and makes no engine call
    with gapp.tx() as s:
        rev = bulletins.approved_revision(bulletins.get(s, bid))
        assert not media.needs_render(s, rev, gapp.renderer.first_engine, upgrade=True)


@pytest.mark.parametrize(
    "failure",
    [429, requests.Timeout("read timed out"), requests.ConnectionError("connection refused")],
    ids=["http-429", "timeout", "refused"],
)
def test_google_trouble_falls_back_to_espeak_then_upgrades(
    gapp: App, fake_google: FakeGoogle, failure: int | Exception
) -> None:
    bid = approved_bulletin(gapp)
    fake_google.fail_always(failure)
    first_id, engine, _, path = render(gapp, bid)
    assert engine == "espeak" and fake_google.calls and not fake_google.served
    assert path.is_file()
    with gapp.tx() as s:
        row = s.get_one(RenderRow, first_id)
        assert media.on_fallback(row, gapp.renderer.first_engine)
    # An upgrade while Google is still down keeps the fallback audio without adding a row.
    rows = render_count(gapp)
    assert render(gapp, bid, upgrade=True)[:2] == (first_id, "espeak")
    assert render_count(gapp) == rows
    # Without --upgrade, the fallback render is simply reused, even once Google answers again.
    fake_google.fail_always(None)
    assert render(gapp, bid)[:2] == (first_id, "espeak") and not fake_google.served
    upgraded_id, engine, sha, path = render(gapp, bid, upgrade=True)
    assert engine == "gtts" and upgraded_id != first_id and fake_google.served
    assert file_sha256(path) == sha
    assert render(gapp, bid)[0] == upgraded_id  # the newest render is what airs


def test_corrupted_media_file_is_detected_and_rerendered(gapp: App, fake_google: FakeGoogle) -> None:
    bid = approved_bulletin(gapp)
    first_id, _, sha, path = render(gapp, bid)
    calls = len(fake_google.calls)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte: the file still exists, its sha256 no longer matches
    path.write_bytes(bytes(data))
    with gapp.tx() as s:
        assert not media.is_intact(s.get_one(RenderRow, first_id))
    new_id, engine, new_sha, new_path = render(gapp, bid)
    assert engine == "gtts" and new_path == path
    # Made again from the (intact, verified) TTS cache: the same bytes, so the row is valid once more.
    assert file_sha256(path) == new_sha == sha
    assert len(fake_google.calls) == calls  # no new request to Google
    with gapp.tx() as s:
        assert media.is_intact(s.get_one(RenderRow, new_id))


def make_clip(folder: Path, ext: str, seconds: float = 2.0) -> Path:
    """A speech-like clip (pink noise with a tremolo) encoded by ffmpeg into `ext`."""
    dst = folder / f"clip.{ext}"
    source = f"anoisesrc=color=pink:amplitude=0.3:duration={seconds},tremolo=f=4:d=0.8"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", source, "-ac", "1", "-ar", "22050", str(dst)],
        check=True,
        capture_output=True,
    )
    return dst


def add_recording(app: App, src: Path, *, campaign: str = "mai-dam-2023", actor: str = "lan") -> int:
    """What `bulletin add --audio` does: normalise, then store bulletin, revision and render together."""
    settings = app.media_settings()
    max_s = app.config.audio.max_recording_minutes * 60
    with media.import_recording(src, settings, max_duration_s=max_s) as recording, app.tx() as s:
        row = bulletins.add(
            s,
            station_id=find_station(s, None).id,
            campaign_code=campaign,
            title="Thông báo ghi âm",
            agency="UBND phường",
            text="Bản ghi âm: Thông báo ghi âm",
            actor=actor,
            now=app.clock.now(),
            speak=app.speak,
            recording=recording,
        )
        return row.id


def stored_recordings(app: App) -> list[Path]:
    folder = app.config.media_dir / "recordings"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def bulletin_count(app: App) -> int:
    with app.tx() as s:
        return int(s.scalar(select(func.count()).select_from(BulletinRow)) or 0)


@pytest.mark.parametrize("ext", ["wav", "mp3", "m4a", "ogg", "flac"])
def test_recording_is_normalised_and_approved_by_its_audio_hash(
    seeded: App, tmp_path: Path, ext: str
) -> None:
    app = seeded
    bid = add_recording(app, make_clip(tmp_path, ext))
    [stored] = stored_recordings(app)
    sha = file_sha256(stored)
    assert stored.suffix == app.output_format.extension
    assert abs(measure(stored).integrated_lufs - app.config.audio.target_lufs) < 1.0
    with app.tx() as s:
        bulletins.submit(s, bid, actor="lan", now=app.clock.now())
        rev = bulletins.approve(s, bid, actor="khoi", now=app.clock.now())
        assert rev.source_audio == str(stored) and rev.approved_sha256 == sha
    with app.tx() as s:
        rev = bulletins.approved_revision(bulletins.get(s, bid))
        row = media.ensure_render(s, rev, app.renderer, app.media_settings(), now=app.clock.now())
        assert (row.kind, row.engine, row.sha256, row.path) == ("recording", "recording", sha, str(stored))
        assert render_count(app) == 1  # no TTS render was made for it


def test_bad_recordings_store_nothing(seeded: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = seeded
    before = bulletin_count(app)
    fake = tmp_path / "clip.mp3"
    fake.write_text("đây không phải âm thanh", encoding="utf-8")
    with pytest.raises(AudioError, match=r"clip\.mp3"):
        add_recording(app, fake)
    truncated = tmp_path / "cut.m4a"
    truncated.write_bytes(make_clip(tmp_path, "m4a").read_bytes()[:600])
    with pytest.raises(AudioError):
        add_recording(app, truncated)
    monkeypatch.setenv("BROADCASTER_AUDIO_MAX_RECORDING_MINUTES", "0.05")  # 3 seconds
    short_limit = build_app(load_config())
    with pytest.raises(AudioError, match="vượt quá giới hạn"):
        add_recording(short_limit, make_clip(tmp_path, "wav", seconds=6.0))
    short_limit.engine.dispose()
    # A good file with an unknown campaign: the transaction fails, so the normalised file is not kept.
    with pytest.raises(Exception, match="nope"):
        add_recording(app, make_clip(tmp_path, "flac"), campaign="nope")
    assert bulletin_count(app) == before
    assert stored_recordings(app) == []


def test_lost_recording_is_an_error_not_a_tts_render(seeded: App, tmp_path: Path) -> None:
    app = seeded
    bid = add_recording(app, make_clip(tmp_path, "wav"))
    [stored] = stored_recordings(app)
    stored.unlink()
    with app.tx() as s:
        rev = bulletins.latest_revision(bulletins.get(s, bid))
        with pytest.raises(AudioError, match="Bản ghi âm"):
            media.ensure_render(s, rev, app.renderer, app.media_settings(), now=app.clock.now())
