"""Loudness: EBU Tech 3341 conformance of the meter, and normalisation judged by ffmpeg's own ebur128."""

from __future__ import annotations

import json
import math
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from broadcaster.audio.ffmpeg import Silence, run_ffmpeg
from broadcaster.audio.loudness import (
    LoudnessTarget,
    OutputFormat,
    content_bounds,
    interpolate_gain,
    measure,
    normalize,
)
from broadcaster.errors import AudioError

RATE = 48000
SPEECH = (
    "Thông báo của Ủy ban nhân dân phường về phòng chống sốt xuất huyết. "
    "Đề nghị các hộ gia đình thu dọn vật dụng chứa nước đọng, ngủ màn kể cả ban ngày. "
    "Khi có dấu hiệu sốt cao, hãy đến ngay trạm y tế phường để được khám và điều trị kịp thời."
)


def _ebu_sine(path: Path, segments: list[tuple[float, float]]) -> Path:
    """Stereo 1 kHz sine at 48 kHz, given as (peak dBFS, seconds) segments, as in EBU Tech 3341."""
    chunks = []
    for dbfs, seconds in segments:
        t = np.arange(round(seconds * RATE)) / RATE
        chunks.append(10 ** (dbfs / 20) * np.sin(2 * np.pi * 1000 * t))
    mono = np.concatenate(chunks)
    sf.write(path, np.stack([mono, mono], axis=1), RATE, subtype="FLOAT")
    return path


@pytest.mark.parametrize(
    ("case", "segments", "expected"),
    [
        ("1", [(-23.0, 20.0)], -23.0),
        ("2", [(-33.0, 20.0)], -33.0),
        ("3", [(-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0)], -23.0),
        ("4", [(-72.0, 10.0), (-36.0, 10.0), (-23.0, 60.0), (-36.0, 10.0), (-72.0, 10.0)], -23.0),
        ("5", [(-26.0, 20.0), (-20.0, 20.1), (-26.0, 20.0)], -23.0),
    ],
)
def test_meter_meets_ebu_tech_3341(
    tmp_path: Path, case: str, segments: list[tuple[float, float]], expected: float
) -> None:
    wav = _ebu_sine(tmp_path / f"seq-3341-{case}.wav", segments)
    result = measure(wav)
    assert result.integrated_lufs == pytest.approx(expected, abs=0.1)
    assert (result.sample_rate, result.channels) == (RATE, 2)
    assert result.duration_s == pytest.approx(sum(s for _, s in segments), abs=0.02)
    loudest = max(db for db, _ in segments)
    assert result.sample_peak_dbfs == pytest.approx(loudest, abs=0.1)
    assert result.true_peak_dbtp == pytest.approx(loudest, abs=0.2)


def test_measurement_json_has_the_documented_keys(tmp_path: Path) -> None:
    wav = _ebu_sine(tmp_path / "tone.wav", [(-23.0, 5.0)])
    data = measure(wav).to_json_dict()
    assert list(data) == [
        "integrated_lufs",
        "loudness_range_lu",
        "true_peak_dbtp",
        "sample_peak_dbfs",
        "duration_s",
        "sample_rate",
        "channels",
    ]
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    silent = _ebu_sine(tmp_path / "silent.wav", [(-math.inf, 2.0)])
    assert measure(silent).to_json_dict()["true_peak_dbtp"] is None


def _judge(path: Path) -> tuple[float, float]:
    """Integrated loudness and true peak as ffmpeg's ebur128 reports them, read independently here."""
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-i", str(path), "-af", "ebur128=peak=true:framelog=verbose"]
    text = subprocess.run([*cmd, "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    summary = text[text.rindex("Summary:") :]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))  # type: ignore[union-attr]
    peak = re.search(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS", summary).group(1)  # type: ignore[union-attr]
    return integrated, float(peak)


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 17 s of Vietnamese speech from espeak-ng, with 1.5 s of silence either side."""
    folder = tmp_path_factory.mktemp("speech")
    raw = folder / "raw.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(raw), SPEECH], check=True)
    padded = folder / "speech.wav"
    run_ffmpeg(["-i", str(raw), "-af", "adelay=1500:all=1,apad=pad_dur=1.5", "-y", str(padded)])
    return padded


def _variant(speech: Path, tmp_path: Path, name: str) -> Path:
    if name == "wav":
        return speech
    out = tmp_path / f"{name}.{'mp3' if name == 'mp3' else 'wav'}"
    if name == "mp3":  # stands in for gTTS output
        run_ffmpeg(["-i", str(speech), "-c:a", "libmp3lame", "-b:a", "64k", "-y", str(out)])
    elif name == "quiet":  # an operator recording at -40 LUFS
        gain = -40.0 - measure(speech).integrated_lufs
        run_ffmpeg(["-i", str(speech), "-af", f"volume={gain:.2f}dB", "-y", str(out)])
    else:  # "hot": +20 dB into 16-bit PCM, hard-clipped
        run_ffmpeg(["-i", str(speech), "-af", "volume=20dB", "-c:a", "pcm_s16le", "-y", str(out)])
    return out


@pytest.mark.parametrize("name", ["wav", "mp3", "quiet", "hot"])
def test_normalize_reaches_target_under_the_ceiling(speech: Path, tmp_path: Path, name: str) -> None:
    src = _variant(speech, tmp_path, name)
    dst = tmp_path / "out" / "bulletin.mp3"
    result = normalize(src, dst, LoudnessTarget(), OutputFormat())
    integrated, peak = _judge(dst)
    assert integrated == pytest.approx(-16.0, abs=0.5)
    assert peak <= -1.5
    assert result.integrated_lufs == pytest.approx(integrated, abs=0.05)
    assert (result.sample_rate, result.channels) == (44100, 1)
    assert sorted(p.name for p in dst.parent.iterdir()) == ["bulletin.mp3"]


def test_normalize_trims_leading_and_trailing_silence(speech: Path, tmp_path: Path) -> None:
    keep = LoudnessTarget(trim_silence=False)
    untrimmed = normalize(speech, tmp_path / "untrimmed.wav", keep, OutputFormat(codec="wav"))
    trimmed = normalize(speech, tmp_path / "trimmed.wav", LoudnessTarget(), OutputFormat(codec="wav"))
    # 1.5 s of padding each side is cut to at most keep_silence_s (0.2 s) plus espeak's own tail.
    assert untrimmed.duration_s - trimmed.duration_s == pytest.approx(3.0, abs=0.5)
    assert trimmed.integrated_lufs == pytest.approx(-16.0, abs=0.5)


def test_normalize_to_another_format_and_target(speech: Path, tmp_path: Path) -> None:
    fmt = OutputFormat(codec="ogg", sample_rate=48000, channels=2, bitrate="96k")
    target = LoudnessTarget(integrated_lufs=-23.0, true_peak_dbtp=-2.0)
    dst = tmp_path / "bản tin [1] | số 2: sáng.ogg"  # characters that mean something to ffmpeg
    result = normalize(speech, dst, target, fmt)
    assert [p.name for p in tmp_path.iterdir()] == [dst.name]
    integrated, peak = _judge(dst)
    assert integrated == pytest.approx(-23.0, abs=0.5)
    assert peak <= -2.0
    assert (result.sample_rate, result.channels) == (48000, 2)


def test_silent_input_is_refused_and_nothing_written(tmp_path: Path) -> None:
    src = _ebu_sine(tmp_path / "silence.wav", [(-math.inf, 5.0)])
    dst = tmp_path / "out" / "x.mp3"
    with pytest.raises(AudioError, match="im lặng"):
        normalize(src, dst)
    assert not dst.parent.exists() or list(dst.parent.iterdir()) == []


def test_corrupt_input_is_refused_and_nothing_written(tmp_path: Path) -> None:
    src = tmp_path / "bulletin.mp3"
    src.write_bytes(b"ID3" + bytes(range(256)) * 40)
    dst = tmp_path / "out.mp3"
    with pytest.raises(AudioError) as caught:
        normalize(src, dst)
    assert "bulletin.mp3" in caught.value.message
    assert caught.value.hint
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bulletin.mp3"]


def test_too_long_input_is_refused(speech: Path, tmp_path: Path) -> None:
    dst = tmp_path / "out.mp3"
    with pytest.raises(AudioError, match="vượt quá giới hạn"):
        normalize(speech, dst, max_duration_s=5.0)
    assert not dst.exists()


def test_existing_output_survives_a_failed_normalisation(tmp_path: Path) -> None:
    dst = tmp_path / "bulletin.mp3"
    dst.write_bytes(b"previous good render")
    silent = _ebu_sine(tmp_path / "silence.wav", [(-math.inf, 3.0)])
    with pytest.raises(AudioError):
        normalize(silent, dst)
    assert dst.read_bytes() == b"previous good render"


def test_content_bounds_keeps_a_little_silence_at_each_end() -> None:
    silences = [Silence(0.0, 1.5), Silence(4.0, 4.3), Silence(9.0, 10.0)]
    assert content_bounds(silences, 10.0, 0.2) == pytest.approx((1.3, 9.2))
    assert content_bounds([Silence(4.0, 4.3)], 10.0, 0.2) == (0.0, 10.0)
    assert content_bounds([Silence(8.0, None)], 10.0, 0.2) == pytest.approx((0.0, 8.2))
    assert content_bounds([], 10.0, 0.2) == (0.0, 10.0)


def test_interpolate_gain_between_and_beyond_measured_points() -> None:
    points = [(3.0, -17.0), (5.0, -16.0), (8.0, -15.0)]
    gain, slope = interpolate_gain(points, -16.5)
    assert gain == pytest.approx(4.0)
    assert slope == pytest.approx(0.5)
    gain, slope = interpolate_gain(points, -14.0)  # extrapolated with the outermost slope
    assert gain == pytest.approx(11.0)
    assert interpolate_gain([(2.0, -18.0)], -16.0) == (4.0, 1.0)
    assert math.isfinite(interpolate_gain([(0.0, -20.0), (5.0, -20.0)], -10.0)[0])


def test_output_format_rejects_unknown_codec() -> None:
    with pytest.raises(AudioError, match="không hỗ trợ"):
        OutputFormat(codec="wma")


@pytest.mark.parametrize("name", ["wav", "hot"])
def test_a_wrong_first_guess_is_corrected_by_re_measuring(
    speech: Path, tmp_path: Path, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Pretend the codec loses -2.5 LU, so the first render comes out ~2.5 LU too quiet.
    fmt = OutputFormat(codec="wav", encoder_loss_lu=-2.5)
    dst = tmp_path / "bulletin.wav"
    with caplog.at_level("DEBUG", logger="broadcaster.audio.loudness"):
        normalize(_variant(speech, tmp_path, name), dst, LoudnessTarget(), fmt)
    passes = [r for r in caplog.records if r.getMessage().startswith("pass ")]
    assert len(passes) >= 2
    integrated, peak = _judge(dst)
    assert integrated == pytest.approx(-16.0, abs=0.5)
    assert peak <= -1.5
