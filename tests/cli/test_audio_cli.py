"""`broadcaster audio measure|normalize` on generated audio, judged by ffmpeg's own ebur128."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BIN = str(Path(sys.executable).with_name("broadcaster"))


def _tone(path: Path, level_dbfs: float) -> None:
    """A stereo 1 kHz sine whose peak is `level_dbfs` (EBU Tech 3341 case 1 at -23 dBFS reads -23.0 LUFS)."""
    amplitude = 10 ** (level_dbfs / 20)
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"aevalsrc={amplitude}*sin(2*PI*1000*t)|{amplitude}*sin(2*PI*1000*t):s=48000:d=6",
            "-c:a",
            "pcm_s24le",
            str(path),
        ],
        check=True,
    )


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BIN, *args], capture_output=True, text=True, timeout=120, check=False)


def test_measure_json_has_the_documented_keys(tmp_path: Path) -> None:
    tone = tmp_path / "tone.wav"
    _tone(tone, -23.0)
    result = _run("audio", "measure", str(tone), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {
        "integrated_lufs",
        "loudness_range_lu",
        "true_peak_dbtp",
        "sample_peak_dbfs",
        "duration_s",
        "sample_rate",
        "channels",
    }
    assert data["channels"] == 2 and data["sample_rate"] == 48000
    assert abs(data["duration_s"] - 6.0) < 0.05
    assert abs(data["integrated_lufs"] - (-23.0)) <= 0.1
    assert abs(data["sample_peak_dbfs"] - (-23.0)) <= 0.1


def test_normalize_reaches_the_requested_target(tmp_path: Path) -> None:
    tone, out = tmp_path / "tone.wav", tmp_path / "out.mp3"
    _tone(tone, -30.0)
    result = _run("audio", "normalize", str(tone), str(out), "--target", "-20", "--true-peak", "-2", "--json")
    assert result.returncode == 0, result.stderr
    judge = subprocess.run(
        ["ffmpeg", "-nostats", "-i", str(out), "-filter_complex", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    summary = judge.stderr.rsplit("Summary:", 1)[1]
    integrated = float(summary.split("I:")[1].split("LUFS")[0])
    peak = float(summary.split("Peak:")[1].split("dBFS")[0])
    assert abs(integrated - (-20.0)) <= 0.5 and peak <= -2.0


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp3"
    junk.write_text("không phải âm thanh", encoding="utf-8")
    for result in (
        _run("audio", "measure", str(junk)),
        _run("audio", "measure", str(tmp_path / "none.wav")),
        _run("audio", "normalize", str(junk), str(tmp_path / "o.mp3")),
    ):
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o.mp3").exists()


def _judge(path: Path) -> tuple[float, float]:
    """Integrated loudness and true peak of `path` by a separate ffmpeg ebur128 run."""
    judge = subprocess.run(
        ["ffmpeg", "-nostats", "-i", str(path), "-filter_complex", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=True,
    )
    summary = judge.stderr.rsplit("Summary:", 1)[1]
    return float(summary.split("I:")[1].split("LUFS")[0]), float(summary.split("Peak:")[1].split("dBFS")[0])


def _codec(path: Path) -> str:
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return probe.stdout.strip()


def test_output_name_chooses_the_format(tmp_path: Path) -> None:
    tone = tmp_path / "tone.wav"
    _tone(tone, -30.0)
    for name, codec in (("out.wav", "pcm_s16le"), ("out.flac", "flac"), ("out.mp3", "mp3")):
        out = tmp_path / name
        result = _run("audio", "normalize", str(tone), str(out))
        assert result.returncode == 0, result.stderr
        assert _codec(out) == codec
        integrated, peak = _judge(out)
        assert abs(integrated - (-16.0)) <= 0.5, (name, integrated)
        assert peak <= -1.5, (name, peak)


def test_an_output_suffix_it_cannot_write_is_refused(tmp_path: Path) -> None:
    tone = tmp_path / "tone.wav"
    _tone(tone, -30.0)
    result = _run("audio", "normalize", str(tone), str(tmp_path / "out.xyz"))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert ".flac" in result.stderr and "out.xyz" in result.stderr
    assert not list(tmp_path.glob("out.*"))
