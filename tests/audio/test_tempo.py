"""A reading speed changes how long a bulletin lasts by the factor and keeps the voice's pitch (measured)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from broadcaster.audio.loudness import LoudnessTarget, OutputFormat, normalize_source
from broadcaster.audio.tempo import tempo_source
from broadcaster.errors import AudioError

TEXT = (
    "Ủy ban nhân dân phường thông báo: từ thứ hai tuần sau, xe thu gom rác sẽ đi qua các khu phố "
    "vào lúc sáu giờ sáng và năm giờ chiều. Đề nghị bà con để rác đúng nơi quy định."
)
RATE = 16000


def decoded(path: Path) -> np.ndarray:
    """The file as mono float samples at 16 kHz (ffmpeg decodes it)."""
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(RATE), "-f", "f32le", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, dtype=np.float32)


def fundamental_hz(samples: np.ndarray) -> float:
    """The median fundamental of the voiced frames, by autocorrelation (60–300 Hz, a man's voice)."""
    frame, hop = int(0.04 * RATE), int(0.01 * RATE)
    lo, hi = RATE // 300, RATE // 60
    frames = [samples[i : i + frame] for i in range(0, len(samples) - frame, hop)]
    loudest = max(float(np.sqrt(np.mean(f**2))) for f in frames)
    pitches = []
    for f in frames:
        if np.sqrt(np.mean(f**2)) < 0.3 * loudest:
            continue  # silence and unvoiced sounds
        f = f - f.mean()
        corr = np.correlate(f, f, mode="full")[frame - 1 :]
        if corr[0] <= 0:
            continue
        lag = lo + int(np.argmax(corr[lo:hi]))
        if corr[lag] / corr[0] > 0.5:  # clearly periodic: a voiced frame
            pitches.append(RATE / lag)
    assert len(pitches) > 50, len(pitches)
    return float(np.median(pitches))


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About eight seconds of real espeak-ng speech."""
    wav = tmp_path_factory.mktemp("tempo") / "speech.wav"
    subprocess.run(
        ["espeak-ng", "-v", "vi", "-b", "1", "--stdin", "-w", str(wav)], input=TEXT.encode(), check=True
    )
    return wav


def _at(speech: Path, factor: float, out: Path) -> tuple[float, float]:
    """Normalise the speech at `factor` as air audio is made; its length (s) and fundamental (Hz)."""
    measured = normalize_source(tempo_source(speech, factor), out, LoudnessTarget(), OutputFormat())
    return measured.duration_s, fundamental_hz(decoded(out))


def test_a_faster_or_slower_reading_keeps_the_pitch_and_scales_the_length(
    speech: Path, tmp_path: Path
) -> None:
    normal_s, normal_hz = _at(speech, 1.0, tmp_path / "1.mp3")
    for factor in (1.2, 0.8, 1.25):
        seconds, hz = _at(speech, factor, tmp_path / f"{factor}.mp3")
        assert normal_s / seconds == pytest.approx(factor, rel=0.03), (factor, normal_s, seconds)
        assert hz == pytest.approx(normal_hz, rel=0.04), (factor, normal_hz, hz)
    assert 70 < normal_hz < 200  # a man's voice: the measure finds the voice, not a harmonic


def test_resampling_would_have_changed_the_pitch(speech: Path, tmp_path: Path) -> None:
    """The measure sees a pitch change when there is one (playing 1.2× faster by resampling)."""
    normal_hz = fundamental_hz(decoded(speech))
    chipmunk = tmp_path / "resampled.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(speech), "-af", "asetrate=26400,aresample=22050", str(chipmunk)],
        check=True,
    )  # espeak-ng writes 22050 Hz: 26400 is 1.2× as fast and 1.2× as high
    assert fundamental_hz(decoded(chipmunk)) == pytest.approx(normal_hz * 1.2, rel=0.04)


def test_speeds_far_outside_a_reading_speed_are_refused(speech: Path) -> None:
    assert tempo_source(speech, 1.0).graph == "[0:a:0]anull[src]"
    with pytest.raises(AudioError):
        tempo_source(speech, 3.0)
