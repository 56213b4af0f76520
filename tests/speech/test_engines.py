"""Engines: gTTS's own code against the Google interceptor, real espeak-ng, and the registry."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from broadcaster.errors import BroadcasterError, ConfigError, EngineError, InputError, ToolMissingError
from broadcaster.speech.engines import Engine, EspeakEngine, GttsEngine, create_engine, known_engines

LONG_TEXT = (
    "Ủy ban nhân dân phường thông báo: từ ngày 5 tháng 12, bà con vui lòng đưa trẻ dưới năm tuổi "
    "đến trạm y tế để tiêm vắc-xin sởi, rubella miễn phí. Thời gian tiêm từ bảy giờ ba mươi sáng đến "
    "mười một giờ trưa; mang theo sổ tiêm chủng và thẻ bảo hiểm y tế của trẻ. Xin cảm ơn bà con!"
)


def all_files(root: Path) -> list[Path]:
    """Every file under root."""
    return [p for p in root.rglob("*") if p.is_file()]


# --- gTTS against the interceptor -------------------------------------------------------------


def test_gtts_sends_the_text_and_writes_the_mp3_google_returned(
    fake_google: Any, tmp_path: Path, audio_probe: Any
) -> None:
    dst = tmp_path / "out" / "tin.mp3"
    GttsEngine(lang="vi", tld="com.vn").synthesize("Xin chào bà con khu phố 3.", dst)

    assert [c.text for c in fake_google.calls] == ["Xin chào bà con khu phố 3."]
    call = fake_google.calls[0]
    assert call.lang == "vi"
    assert call.speed is None
    assert call.url.startswith("https://translate.google.com.vn/")
    assert call.timeout == 10.0
    assert dst.read_bytes() == fake_google.mp3
    codec, rate, channels, duration = audio_probe(dst)
    assert (codec, rate, channels) == ("mp3", 24000, 1)
    assert duration > 0.3
    assert all_files(tmp_path) == [dst]


def test_gtts_slow_flag_and_timeout_reach_the_request(fake_google: Any, tmp_path: Path) -> None:
    GttsEngine(slow=True, timeout=2.5).synthesize("Chậm thôi.", tmp_path / "a.mp3")

    assert fake_google.calls[0].speed is True
    assert fake_google.calls[0].timeout == 2.5


def test_gtts_long_text_is_chunked_into_several_requests(
    fake_google: Any, tmp_path: Path, audio_probe: Any
) -> None:
    dst = tmp_path / "long.mp3"
    GttsEngine().synthesize(LONG_TEXT, dst)

    texts = [c.text for c in fake_google.calls]
    assert len(texts) >= 3
    assert all(len(t) <= 100 for t in texts)
    # gTTS drops the punctuation it splits on; every word arrives, in order.
    assert re.findall(r"\w+", " ".join(texts)) == re.findall(r"\w+", LONG_TEXT)
    assert dst.read_bytes() == b"".join(fake_google.served)
    assert len(fake_google.served) == len(texts)
    codec, _, _, duration = audio_probe(dst)
    _, _, _, clip = audio_probe_bytes(audio_probe, tmp_path, fake_google.mp3)
    assert codec == "mp3"
    assert duration > clip * (len(texts) - 0.5)


def audio_probe_bytes(audio_probe: Any, folder: Path, data: bytes) -> tuple[str, int, int, float]:
    """Probe raw bytes by writing them to a file first."""
    path = folder / "probe-one.mp3"
    path.write_bytes(data)
    try:
        result: tuple[str, int, int, float] = audio_probe(path)
    finally:
        path.unlink()
    return result


@pytest.mark.parametrize(
    ("outcome", "fragment"),
    [
        (429, "HTTP 429"),
        (503, "HTTP 503"),
        (requests.exceptions.ReadTimeout("read timed out"), "Hết thời gian chờ"),
        (requests.exceptions.ConnectTimeout("connect timed out"), "Hết thời gian chờ"),
        (requests.exceptions.ConnectionError("[Errno 111] Connection refused"), "Không kết nối được"),
    ],
)
def test_gtts_transient_failures_are_retryable_and_leave_no_file(
    fake_google: Any, tmp_path: Path, outcome: Any, fragment: str
) -> None:
    fake_google.fail_next(outcome)
    dst = tmp_path / "x.mp3"
    with pytest.raises(EngineError) as info:
        GttsEngine().synthesize("Thông báo cắt điện.", dst)

    assert info.value.retryable is True
    assert fragment in info.value.message
    assert info.value.hint
    assert all_files(tmp_path) == []


@pytest.mark.parametrize("status", [400, 403, 404])
def test_gtts_client_errors_are_not_retryable(fake_google: Any, tmp_path: Path, status: int) -> None:
    fake_google.fail_next(status)
    with pytest.raises(EngineError) as info:
        GttsEngine().synthesize("Thông báo.", tmp_path / "x.mp3")

    assert info.value.retryable is False
    assert f"HTTP {status}" in info.value.message
    assert all_files(tmp_path) == []


def test_gtts_failure_on_a_later_chunk_leaves_no_partial_file(fake_google: Any, tmp_path: Path) -> None:
    # The first chunk is served, the second throttled: gTTS has already written part of the MP3 by then.
    fake_google.fail_next(None, 429)
    dst = tmp_path / "long.mp3"
    with pytest.raises(EngineError) as info:
        GttsEngine().synthesize(LONG_TEXT, dst)

    assert info.value.retryable is True
    assert len(fake_google.calls) == 2
    assert len(fake_google.served) == 1
    assert all_files(tmp_path) == []


def test_gtts_answer_without_audio_is_not_retryable(fake_google: Any, tmp_path: Path) -> None:
    fake_google.mp3 = b""
    with pytest.raises(EngineError) as info:
        GttsEngine().synthesize("Thông báo.", tmp_path / "x.mp3")

    assert "rỗng" in info.value.message
    assert all_files(tmp_path) == []


def test_gtts_non_mp3_bytes_are_rejected(fake_google: Any, tmp_path: Path) -> None:
    fake_google.mp3 = b"<html>captcha</html>"
    with pytest.raises(EngineError) as info:
        GttsEngine().synthesize("Thông báo.", tmp_path / "x.mp3")

    assert info.value.retryable is False
    assert "MP3" in info.value.message
    assert all_files(tmp_path) == []


def test_gtts_rejects_unknown_language_and_empty_text(fake_google: Any, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        GttsEngine(lang="vn")
    assert "vn" in info.value.message
    with pytest.raises(EngineError):
        GttsEngine().synthesize("   ", tmp_path / "x.mp3")
    assert fake_google.calls == []


def test_gtts_settings_key_covers_what_changes_audio() -> None:
    keys = {
        GttsEngine().settings_key(),
        GttsEngine(tld="com.vn").settings_key(),
        GttsEngine(slow=True).settings_key(),
        GttsEngine(lang="en").settings_key(),
    }
    assert len(keys) == 4
    assert GttsEngine(timeout=3).settings_key() == GttsEngine(timeout=30).settings_key()


# --- espeak-ng (real) -------------------------------------------------------------------------


def test_espeak_writes_a_wav(tmp_path: Path, audio_probe: Any) -> None:
    dst = tmp_path / "tin.wav"
    EspeakEngine().synthesize("Xin chào bà con, hôm nay phường tổ chức tiêm vắc-xin.", dst)

    codec, rate, channels, duration = audio_probe(dst)
    assert (codec, rate, channels) == ("pcm_s16le", 22050, 1)
    assert duration > 1.0
    assert all_files(tmp_path) == [dst]


def test_espeak_text_goes_through_stdin_not_argv(tmp_path: Path, audio_probe: Any) -> None:
    # As argv, "--version" and "-w" would be parsed as options; through stdin they are just words.
    evil = tmp_path / "evil.wav"
    long_text = " ".join([f"--version -w {evil} bà con chú ý."] * 200)
    dst = tmp_path / "dash.wav"
    EspeakEngine(rate=300).synthesize(long_text, dst)

    assert not evil.exists()
    assert audio_probe(dst)[3] > 60.0


def test_espeak_rate_changes_duration(tmp_path: Path, audio_probe: Any) -> None:
    text = "Bà con khu phố hai lưu ý lịch thu gom rác thay đổi từ tuần sau."
    EspeakEngine(rate=100).synthesize(text, tmp_path / "slow.wav")
    EspeakEngine(rate=250).synthesize(text, tmp_path / "fast.wav")

    assert audio_probe(tmp_path / "slow.wav")[3] > audio_probe(tmp_path / "fast.wav")[3] * 1.5
    assert EspeakEngine(rate=100).settings_key() != EspeakEngine(rate=250).settings_key()
    assert EspeakEngine(pitch=30).settings_key() != EspeakEngine().settings_key()


def test_espeak_missing_binary_raises_tool_missing_with_apt_hint(tmp_path: Path) -> None:
    engine = EspeakEngine(binary="espeak-ng-missing")
    with pytest.raises(ToolMissingError) as info:
        engine.synthesize("Xin chào.", tmp_path / "x.wav")

    assert "espeak-ng-missing" in info.value.message
    assert info.value.hint is not None and "apt-get install espeak-ng" in info.value.hint
    assert all_files(tmp_path) == []


def test_espeak_unknown_voice_is_a_non_retryable_error(tmp_path: Path) -> None:
    with pytest.raises(EngineError) as info:
        EspeakEngine(voice="khong-co-giong-nay").synthesize("Xin chào.", tmp_path / "x.wav")

    assert info.value.retryable is False
    assert "khong-co-giong-nay" in info.value.message
    assert all_files(tmp_path) == []


def test_espeak_rejects_bad_settings() -> None:
    with pytest.raises(ConfigError):
        EspeakEngine(rate=10)
    with pytest.raises(ConfigError):
        EspeakEngine(pitch=120)
    with pytest.raises(ConfigError):
        EspeakEngine(voice="-x")


# --- registry ---------------------------------------------------------------------------------


def test_registry_builds_engines_by_name() -> None:
    gtts = create_engine("gtts", lang="vi", tld="com.vn")
    espeak = create_engine("ESPEAK-NG", rate=170)

    assert isinstance(gtts, GttsEngine) and isinstance(gtts, Engine)
    assert isinstance(espeak, EspeakEngine) and isinstance(espeak, Engine)
    assert (gtts.name, gtts.voice, gtts.file_extension) == ("gtts", "vi", "mp3")
    assert (espeak.name, espeak.voice, espeak.file_extension) == ("espeak", "vi", "wav")
    # The installed program's version is part of the key: an espeak-ng upgrade re-renders.
    version = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout.split()[3]
    assert espeak.settings_key() == f"voice=vi;rate=170;pitch=50;version={version}"
    assert {"gtts", "espeak"} <= set(known_engines())


def test_registry_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(InputError) as info:
        create_engine("gtss")

    assert 'Ý bạn là "gtts"?' in info.value.message
    assert info.value.hint is not None and "espeak" in info.value.hint and "gtts" in info.value.hint
    assert isinstance(info.value, BroadcasterError)


def test_registry_unknown_setting_suggests_the_closest() -> None:
    with pytest.raises(InputError) as info:
        create_engine("espeak", rates=150)

    assert '"rates"' in info.value.message
    assert 'Ý bạn là "rate"?' in info.value.message


def test_registry_name_far_from_any_gets_the_list_only() -> None:
    with pytest.raises(InputError) as info:
        create_engine("piper-xyz-123")

    assert "Ý bạn là" not in info.value.message
    assert info.value.hint is not None and "gtts" in info.value.hint
