"""The composition root: the frame follows the config, and an App's clock is the one its parts read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from seedpaths import SEED

from broadcaster.app import App, build_app
from broadcaster.clock import FakeClock
from broadcaster.config import load_config
from broadcaster.schedules import load_schedule
from broadcaster.services import bulletins, media
from broadcaster.services.stations import find_station, import_schedule
from broadcaster.speech.render import RenderCache


def test_empty_closing_is_left_out(seeded: App, monkeypatch: pytest.MonkeyPatch) -> None:
    with seeded.tx() as s:
        full = seeded.programme_shape(s, find_station(s, None))
    monkeypatch.setenv("BROADCASTER_PROGRAMME_CLOSING", "")
    monkeypatch.setenv("BROADCASTER_PROGRAMME_USE_SIGNATURE", "false")
    bare = build_app(load_config())
    with bare.tx() as s:
        shape = bare.programme_shape(s, find_station(s, None))
    assert full.closing_s > 1.0 and full.signature_s > 1.0
    assert shape.closing_s == 0.0 and shape.signature_s == 0.0
    assert shape.ident_s == pytest.approx(full.ident_s)
    bare.engine.dispose()


def test_a_fake_clock_drives_the_render_cache_and_the_player(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROADCASTER_SPEECH_ENGINES", "espeak")
    monkeypatch.setenv("BROADCASTER_PLAYOUT_PLAYER", "file")
    clock = FakeClock(datetime(2023, 3, 20, 6, 0, 1, 250000, tzinfo=UTC))
    app = build_app(load_config(), clock)
    app.init()
    with app.tx() as s:
        import_schedule(s, load_schedule(SEED), actor="test", now=clock.now(), speak=app.speak)
    clock.advance(timedelta(days=3, seconds=7))  # nothing below may read the wall clock instead
    with app.tx() as s:
        station = find_station(s, None)
        revision = bulletins.approved_revision(bulletins.list_bulletins(s, station.id, status="approved")[0])
        seconds = app.duration_of(s)(revision)  # renders it now, through the App's renderer
        render = media.current_render(s, revision)
        assert render is not None and render.created_at == clock.now() and render.duration_s == seconds
        spoken, path = revision.spoken_text, Path(render.path)
    espeak = app.renderer.engines[0]
    cached = RenderCache(clean_env / "cache" / "tts").lookup(
        app.renderer.cache_key(spoken, espeak), espeak.file_extension
    )
    assert cached is not None and datetime.fromisoformat(cached.created) == clock.now()

    playback = app.player().prepare(path)
    started = playback.start()
    clock.advance(1.5)
    result = playback.stop()
    playback.close()
    assert started == clock.now() - timedelta(seconds=1.5) and result.ended_at == clock.now()
    assert result.played_s == pytest.approx(1.5) and result.output is not None
    assert result.output.name.startswith("20230323T060008.250Z-")  # the sink names its file by that clock
    app.engine.dispose()
