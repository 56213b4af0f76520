"""Players against a real PulseAudio null sink: audio arrives intact and on time, stops cut, errors clear."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
from pulse import PulseServer, Recorder, decode_mono, loud_span, similarity

from broadcaster.clock import SystemClock
from broadcaster.errors import AudioError, BroadcasterError, ConfigError, PlayoutError, ToolMissingError
from broadcaster.playout.player import FileSinkPlayer, create_player

pytestmark = pytest.mark.pulse

REAL_PLAYERS = ["pacat", "paplay", "ffplay", "aplay"]
BINARIES = {"pacat": "pacat", "paplay": "paplay", "ffplay": "ffplay", "aplay": "aplay"}
# Audio must reach the sink this soon after start(). Generous behaviour bounds, not benchmarks:
# pacat is prepared ahead; paplay/aplay start a small process; ffplay's start-up alone takes ~0.1 s.
ONSET_BOUND_S = {"pacat": 0.15, "paplay": 0.15, "aplay": 0.15, "ffplay": 0.5}
# The recorder's sample clock may lead the start call slightly (the sink renders ahead of time).
ONSET_LEAD_S = 0.03


def _available(name: str) -> None:
    if shutil.which(BINARIES[name]) is None:
        pytest.skip(f"{BINARIES[name]} is not installed on this machine")


@pytest.mark.parametrize("name", REAL_PLAYERS)
def test_real_player_plays_speech_intact_and_on_time(
    name: str, pulse_server: PulseServer, recorder: Recorder, clips: dict[str, Path]
) -> None:
    _available(name)
    source = clips["speech"]
    playback = create_player(name, pulse_server.sink).prepare(source)
    try:
        called = time.monotonic()
        playback.start()
        result = playback.wait(timeout=15)
    finally:
        playback.close()
    time.sleep(0.1)  # let the tail of the audio reach the recorder
    recorded = recorder.stop()

    reference = decode_mono(source)
    assert result is not None and result.completed and result.error is None
    assert result.played_s == pytest.approx(len(reference) / 48000, abs=0.01)
    ref_first, ref_end = loud_span(reference)
    rec_first, rec_end = loud_span(recorded)
    assert rec_end - rec_first == pytest.approx(ref_end - ref_first, abs=0.05 * 48000)
    window = recorded[max(0, rec_first - 4800) : rec_end + 4800].astype(np.float64)
    assert similarity(reference, window) >= 0.98
    onset = recorder.monotonic_of(rec_first) - ref_first / 48000 - called
    assert -ONSET_LEAD_S <= onset <= ONSET_BOUND_S[name]


@pytest.mark.parametrize("name", ["pacat", "paplay"])
def test_stop_mid_play_reports_elapsed_and_silences_the_sink(
    name: str, pulse_server: PulseServer, recorder: Recorder, clips: dict[str, Path]
) -> None:
    playback = create_player(name, pulse_server.sink).prepare(clips["tone"])
    try:
        called = time.monotonic()
        playback.start()
        assert playback.wait(timeout=1.0) is None
        result = playback.stop()
        stopped = time.monotonic()
        assert playback.stop() == result
    finally:
        playback.close()
    time.sleep(0.3)
    first, end = loud_span(recorder.stop())

    assert not result.completed and result.error is None
    assert result.clip_s == pytest.approx(4.0, abs=0.01)
    assert result.played_s == pytest.approx(stopped - called, abs=0.05)
    assert (end - first) / 48000 == pytest.approx(result.played_s, abs=0.15)
    assert (result.ended_at - result.started_at).total_seconds() == pytest.approx(result.played_s, abs=0.01)


def test_pacat_holds_silent_stream_until_start(
    pulse_server: PulseServer, recorder: Recorder, clips: dict[str, Path]
) -> None:
    playback = create_player("pacat", pulse_server.sink).prepare(clips["short"])
    time.sleep(0.5)
    result = playback.stop()
    playback.close()
    time.sleep(0.1)
    assert loud_span(recorder.stop()) == (0, 0)
    assert result.played_s == 0.0 and not result.completed
    assert not [p for p in psutil.Process().children() if p.name() == "pacat"]


def test_killed_player_process_is_reported_as_error(
    pulse_server: PulseServer, clips: dict[str, Path]
) -> None:
    playback = create_player("pacat", pulse_server.sink).prepare(clips["tone"])
    try:
        playback.start()
        assert playback.wait(timeout=0.5) is None
        (pacat,) = [p for p in psutil.Process().children() if p.name() == "pacat"]
        pacat.kill()
        result = playback.wait(timeout=5)
    finally:
        playback.close()
    assert result is not None and not result.completed
    assert result.error is not None and "pacat" in result.error
    assert 0.3 < result.played_s < 2.0


def test_pacat_to_missing_device_fails_at_prepare(pulse_server: PulseServer, clips: dict[str, Path]) -> None:
    player = create_player("pacat", "khong_co_thiet_bi")
    with pytest.raises(PlayoutError, match="khong_co_thiet_bi") as info:
        player.prepare(clips["short"])
    assert info.value.hint and "pactl" in info.value.hint


def test_paplay_to_missing_device_returns_error_result(
    pulse_server: PulseServer, clips: dict[str, Path]
) -> None:
    playback = create_player("paplay", "khong_co_thiet_bi").prepare(clips["short"])
    try:
        playback.start()
        result = playback.wait(timeout=10)
    finally:
        playback.close()
    assert result is not None and not result.completed
    assert result.error is not None and "paplay" in result.error


def test_playback_lifecycle_misuse_is_refused(pulse_server: PulseServer, clips: dict[str, Path]) -> None:
    playback = create_player("paplay", pulse_server.sink).prepare(clips["short"])
    try:
        with pytest.raises(PlayoutError):
            playback.wait(timeout=0.1)
        playback.start()
        with pytest.raises(PlayoutError):
            playback.start()
        result = playback.wait(timeout=10)
        assert result is not None and result.completed
    finally:
        playback.close()


def test_file_sink_files_the_audio_and_paces_in_real_time(tmp_path: Path, clips: dict[str, Path]) -> None:
    source = clips["short"]
    playback = FileSinkPlayer(tmp_path / "out", SystemClock()).prepare(source)
    started = playback.start()
    assert playback.wait(timeout=0.3) is None
    result = playback.wait()
    assert result is not None and result.completed and result.error is None
    assert result.output is not None and result.output.parent == tmp_path / "out"
    assert result.output.name == started.strftime("%Y%m%dT%H%M%S.%f")[:-3] + "Z-tone-1s.mp3"
    assert result.output.read_bytes() == source.read_bytes()
    assert result.played_s == result.clip_s == pytest.approx(1.0, abs=0.06)
    assert [p.name for p in (tmp_path / "out").iterdir()] == [result.output.name]


def test_file_sink_stop_trims_the_filed_audio(tmp_path: Path, clips: dict[str, Path]) -> None:
    playback = create_player("file", out_dir=tmp_path, pace=4.0).prepare(clips["tone"])
    playback.start()
    assert playback.wait(timeout=0.4) is None
    result = playback.stop()
    playback.close()
    assert not result.completed and result.error is None and result.output is not None
    assert result.played_s == pytest.approx(1.6, abs=0.2)
    trimmed = decode_mono(result.output)
    assert len(trimmed) / 48000 == pytest.approx(result.played_s, abs=0.05)
    assert [p.name for p in tmp_path.iterdir()] == [result.output.name]


def test_unknown_player_name_suggests_the_closest(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        create_player("paply")
    assert "paply" in info.value.message
    assert info.value.hint is not None and "'paplay'" in info.value.hint
    with pytest.raises(ConfigError, match="thư mục"):
        create_player("file")


@pytest.mark.parametrize(("name", "package"), [("pacat", "pulseaudio-utils"), ("aplay", "alsa-utils")])
def test_missing_player_binary_names_the_package(
    name: str, package: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissingError) as info:
        create_player(name)
    assert isinstance(info.value, BroadcasterError)
    assert info.value.hint == f"Cài đặt bằng lệnh: apt-get install {package}"


def test_missing_or_undecodable_audio_is_an_audio_error(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    player = create_player("paplay", work_dir=work)
    with pytest.raises(AudioError, match="Không tìm thấy"):
        player.prepare(tmp_path / "khong-co.wav")
    broken = tmp_path / "hong.wav"
    broken.write_bytes(b"RIFF\x00\x00 not audio")
    with pytest.raises(AudioError, match="giải mã"):
        player.prepare(broken)
    assert list(work.iterdir()) == []  # the failed prepare left no temporary files behind
