"""The voices offered are those the installed engines have, each with a Vietnamese label, and each renders."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from google_fake import FakeGoogle

from broadcaster import labels
from broadcaster.app import App, build_app
from broadcaster.config import load_config
from broadcaster.errors import ConfigError, InputError
from broadcaster.services import media
from broadcaster.speech.render import RenderCache
from broadcaster.speech.voices import (
    VoiceOffer,
    installed_voices,
    parse_espeak_voices,
    parse_speed,
    piper_voice,
    station_offer,
)

# `espeak-ng --voices=vi` as Debian's espeak-ng 1.51 prints it.
LISTING = """Pty Language       Age/Gender VoiceName          File                 Other Languages
 5  vi              --/M      Vietnamese_(Northern) aav/vi
 5  vi-vn-x-central --/M      Vietnamese_(Central) aav/vi-VN-x-central
 5  vi-vn-x-south   --/M      Vietnamese_(Southern) aav/vi-VN-x-south
"""
SPOKEN = "Ủy ban nhân dân phường thông báo lịch tiêm chủng cho trẻ em vào sáng thứ bảy."


def test_the_espeak_listing_gives_north_centre_south() -> None:
    assert parse_espeak_voices(LISTING) == ["vi", "vi-vn-x-central", "vi-vn-x-south"]
    shuffled = LISTING.splitlines()
    assert parse_espeak_voices("\n".join([shuffled[0], shuffled[3], shuffled[1]])) == ["vi", "vi-vn-x-south"]
    assert parse_espeak_voices("Pty Language\n") == []


def test_this_pc_offers_what_espeak_ng_really_has_with_vietnamese_labels() -> None:
    real = subprocess.run(["espeak-ng", "--voices=vi"], capture_output=True, text=True, check=True).stdout
    assert parse_espeak_voices(real) == ["vi", "vi-vn-x-central", "vi-vn-x-south"]
    # espeak-ng's Vietnamese voices are male (the listing's M); Google's Vietnamese voice is female.
    assert all(line.split()[2] == "--/M" for line in real.splitlines()[1:])
    offered = installed_voices(gtts_lang="vi")
    assert [(v.id, v.label) for v in offered] == [
        ("gtts:vi", "Giọng nữ miền Bắc (Google)"),
        ("espeak:vi", "Giọng nam miền Bắc (espeak-ng)"),
        ("espeak:vi-vn-x-central", "Giọng nam miền Trung (espeak-ng)"),
        ("espeak:vi-vn-x-south", "Giọng nam miền Nam (espeak-ng)"),
    ]
    assert installed_voices(gtts_lang=None)[0].id == "espeak:vi"  # offline: no Google voice
    assert installed_voices(gtts_lang=None, espeak_binary="espeak-ng-missing") == ()


def test_a_piper_voice_is_not_offered_without_its_program_or_model(tmp_path: Path) -> None:
    model = tmp_path / "vi_VN-vais1000-medium.onnx"
    assert piper_voice(model) is None  # no model file
    model.write_bytes(b"onnx")
    assert piper_voice(model, binary="piper-not-installed") is None  # no program
    assert piper_voice(None) is None
    assert all(v.engine != "piper" for v in installed_voices(gtts_lang="vi", piper_model=tmp_path / "x.onnx"))
    assert (
        labels.voice("piper:vi_VN-vais1000-medium")
        == "Giọng Piper «vi_VN-vais1000-medium» (tệp giọng của đài)"
    )


def test_an_app_with_a_piper_model_but_no_piper_program_offers_no_piper_voice(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = clean_env.parent / "vi_VN-vais1000-medium.onnx"
    model.write_bytes(b"onnx")
    monkeypatch.setenv("BROADCASTER_SPEECH_ENGINES", "espeak")
    monkeypatch.setenv("BROADCASTER_SPEECH_PIPER_MODEL", str(model))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # Debian has no piper package: the program is absent
    app = build_app(load_config())
    assert [v.id for v in app.voices.voices] == [
        "espeak:vi",
        "espeak:vi-vn-x-central",
        "espeak:vi-vn-x-south",
    ]
    assert app.voice_engine("piper:vi_VN-vais1000-medium") is None


@pytest.mark.parametrize(
    ("typed", "value"), [("1", 1.0), ("1,1", 1.1), ("1.25", 1.25), ("0,8×", 0.8), ("1.2x", 1.2), (0.9, 0.9)]
)
def test_speeds_are_read_as_typed(typed: str | float, value: float) -> None:
    assert parse_speed(typed) == value


@pytest.mark.parametrize("typed", ["2", 2.0, "0,5", "1.3", "nhanh", "", "nan"])
def test_a_speed_outside_the_range_is_one_vietnamese_line_beside_the_field(typed: str | float) -> None:
    with pytest.raises(InputError) as info:
        parse_speed(typed)
    assert info.value.field == "speed"
    line = info.value.one_line()
    assert "\n" not in line and "Tốc độ đọc" in line and "0,8× đến 1,25×" in line


def test_an_unknown_voice_is_refused_with_the_voices_there_are() -> None:
    offer = VoiceOffer(installed_voices(gtts_lang=None), "espeak:vi", 1.0)
    assert offer.choose(None, None) == ("espeak:vi", 1.0)
    assert offer.choose("espeak:vi-vn-x-south", "1,1") == ("espeak:vi-vn-x-south", 1.1)
    with pytest.raises(InputError) as info:
        offer.choose("espeak:vi-vn-x-hue", None)
    assert info.value.field == "voice"
    assert "Không có giọng đọc «espeak:vi-vn-x-hue»" in info.value.message
    assert info.value.hint is not None and "Giọng nam miền Nam (espeak-ng)" in info.value.hint
    with pytest.raises(ConfigError, match=r"speech\.voice"):
        station_offer(offer.voices, "gtts:vi", "espeak:vi", 1.0)  # this station's chain has no Google
    assert station_offer(offer.voices, "", "espeak:vi", 1.1).default_voice == "espeak:vi"


@pytest.fixture
def voiced(clean_env: Path, monkeypatch: pytest.MonkeyPatch, fake_google: FakeGoogle) -> Iterator[App]:
    """An App with the chain gTTS → espeak-ng, Google intercepted at the HTTP layer."""
    monkeypatch.setenv("BROADCASTER_SPEECH_ENGINES", "gtts,espeak")
    monkeypatch.setenv("BROADCASTER_SPEECH_RETRIES", "0")
    yield build_app(load_config())


def test_each_offered_voice_renders_in_its_own_engine(voiced: App, fake_google: FakeGoogle) -> None:
    offered = voiced.voices.voices
    assert len(offered) == 4 and voiced.voices.default_voice == "gtts:vi"
    heard: dict[str, str] = {}
    for voice in offered:
        path, sha, engine, name, seconds, lufs, _peak = media.render_spoken(
            SPOKEN, voiced.renderer, voiced.media_settings(), voice=voice.id
        )
        assert (engine, name) == (voice.engine, voice.name), voice
        assert path.is_file() and seconds > 1.0 and abs(lufs - (-16.0)) < 1.0, voice
        heard[voice.id] = sha
    assert len(set(heard.values())) == 4  # four different voices, four different files
    assert [c.lang for c in fake_google.calls] == ["vi"]  # only the Google voice asked Google


def test_the_cache_key_holds_the_voice_and_the_espeak_version(voiced: App) -> None:
    south = voiced.renderer.for_voice("espeak:vi-vn-x-south")
    north = voiced.renderer.for_voice("espeak:vi")
    assert [e.name for e in south.engines] == ["espeak", "gtts"]  # the chosen voice first, then the chain
    assert south.engines[0].voice == "vi-vn-x-south" and voiced.renderer.for_voice("") is voiced.renderer
    assert south.cache_key(SPOKEN, south.engines[0]) != north.cache_key(SPOKEN, north.engines[0])
    version = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout.split()[3]
    key = south.engines[0].settings_key()
    assert key.endswith(f";version={version}")
    # Another espeak-ng version is another key: its audio is made afresh, never taken from the cache.
    older = key.replace(f"version={version}", "version=1.50")
    assert RenderCache.key(SPOKEN, "espeak", "vi-vn-x-south", older, "n1") != RenderCache.key(
        SPOKEN, "espeak", "vi-vn-x-south", key, "n1"
    )


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("BROADCASTER_SPEECH_SPEED", "2", "tốc độ đọc là 2 lần, nằm ngoài khoảng cho phép"),
        ("BROADCASTER_SPEECH_VOICE", "miền nam", "giọng đọc 'miền nam' không đúng dạng"),
    ],
)
def test_the_station_defaults_are_checked_when_the_config_is_read(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, needle: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        load_config()
    assert needle in info.value.one_line() and "\n" not in info.value.one_line()


def test_a_configured_default_voice_and_speed_are_what_a_new_bulletin_gets(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROADCASTER_SPEECH_ENGINES", "espeak")
    monkeypatch.setenv("BROADCASTER_SPEECH_VOICE", "espeak:vi-vn-x-central")
    monkeypatch.setenv("BROADCASTER_SPEECH_SPEED", "0.9")
    offer = build_app(load_config()).voices
    assert offer.choose(None, None) == ("espeak:vi-vn-x-central", 0.9)
    monkeypatch.setenv("BROADCASTER_SPEECH_VOICE", "gtts:vi")  # Google is not in this station's chain
    with pytest.raises(ConfigError, match=r"speech\.voice"):
        _ = build_app(load_config()).voices
