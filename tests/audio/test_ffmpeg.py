"""The ffmpeg wrapper: pure parsers on captured ffmpeg/ffprobe text, and the real tools."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from broadcaster.audio.ffmpeg import (
    ProbeResult,
    Silence,
    parse_decoded_duration,
    parse_ebur128,
    parse_ebur128_all,
    parse_probe_json,
    parse_silences,
    probe,
    require_tools,
    run_ffmpeg,
    run_ffmpeg_concurrently,
)
from broadcaster.errors import AudioError, ToolMissingError

# Captured from ffmpeg 5.1.9 measuring an MP3 (`-filter_complex aformat,silencedetect,ebur128`).
# ffmpeg configured the graph twice, so a dummy summary of the discarded instance comes first.
CAPTURED_MP3 = """\
Input #0, mp3, from 'out/sp.mp3':
  Duration: 00:00:12.98, start: 0.025057, bitrate: 128 kb/s
  Stream #0:0: Audio: mp3, 44100 Hz, mono, fltp, 128 kb/s
[Parsed_ebur128_2 @ 0x55d0c0ffee00] Summary:

  Integrated loudness:
    I:         -70.0 LUFS
    Threshold:   0.0 LUFS

  Loudness range:
    LRA:         0.0 LU
    Threshold:   0.0 LUFS
    LRA low:     0.0 LUFS
    LRA high:    0.0 LUFS

  Sample peak:
    Peak:       -inf dBFS

  True peak:
    Peak:       -inf dBFS
Stream mapping:
  Stream #0:0 (mp3float) -> aformat:default
  ebur128:out0 -> Stream #0:0 (pcm_s16le)
[silencedetect @ 0x55d0c0ffee00] silence_start: 3.76197
[silencedetect @ 0x55d0c0ffee00] silence_end: 4.07406 | silence_duration: 0.312086
[silencedetect @ 0x55d0c0ffee00] silence_start: 9.39206
[silencedetect @ 0x55d0c0ffee00] silence_end: 9.71703 | silence_duration: 0.324966
size=N/A time=00:00:12.94 bitrate=N/A speed= 115x
video:0kB audio:1115kB subtitle:0kB other streams:0kB global headers:0kB muxing overhead: unknown
[Parsed_ebur128_2 @ 0x55d0c0ffee00] Summary:

  Integrated loudness:
    I:         -16.0 LUFS
    Threshold: -26.1 LUFS

  Loudness range:
    LRA:         1.0 LU
    Threshold: -36.3 LUFS
    LRA low:   -16.9 LUFS
    LRA high:  -15.8 LUFS

  Sample peak:
    Peak:       -2.4 dBFS

  True peak:
    Peak:       -2.4 dBFS
"""

# Captured: ebur128 on 3 s of digital silence, without peak measurement lines cut.
CAPTURED_SILENCE = """\
[Parsed_ebur128_0 @ 0x558575e6a900] Summary:

  Integrated loudness:
    I:         -70.0 LUFS
    Threshold:   0.0 LUFS

  Loudness range:
    LRA:         0.0 LU
    Threshold:   0.0 LUFS
    LRA low:     0.0 LUFS
    LRA high:    0.0 LUFS

  Sample peak:
    Peak:       -inf dBFS

  True peak:
    Peak:       -inf dBFS
"""

# Captured: silencedetect on espeak-ng speech at 22.05 kHz; the trailing silence ends at EOF.
CAPTURED_TRAILING = """\
[silencedetect @ 0x558e7a28c300] silence_start: 3.76
[silencedetect @ 0x558e7a28c300] silence_end: 4.0741 | silence_duration: 0.314104
[silencedetect @ 0x558e7a28c300] silence_start: 12.7458
size=N/A time=00:00:13.09 bitrate=N/A speed= 239x
[silencedetect @ 0x558e7a28c300] silence_end: 13.0958 | silence_duration: 0.350068
"""

# Captured (trimmed of keys the parser ignores): ffprobe -print_format json -show_format -show_streams.
PROBE_MP3 = """{
    "streams": [
        {"index": 0, "codec_name": "mp3", "codec_type": "audio", "sample_fmt": "fltp",
         "sample_rate": "44100", "channels": 1, "channel_layout": "mono", "time_base": "1/14112000",
         "start_pts": 353600, "start_time": "0.025057", "duration_ts": 183214080,
         "duration": "12.982857", "bit_rate": "128000"}
    ],
    "format": {"filename": "sp.mp3", "nb_streams": 1, "format_name": "mp3", "start_time": "0.025057",
               "duration": "12.982857", "size": "208338", "bit_rate": "128378", "probe_score": 51}
}"""
PROBE_PNG = """{
    "streams": [{"index": 0, "codec_name": "png", "codec_type": "video", "width": 320, "height": 240}],
    "format": {"filename": "img.png", "nb_streams": 1, "format_name": "png_pipe", "probe_score": 99}
}"""


def test_parse_ebur128_takes_the_final_summary_of_each_instance() -> None:
    summary = parse_ebur128(CAPTURED_MP3)
    assert summary.integrated_lufs == -16.0
    assert summary.loudness_range_lu == 1.0
    assert summary.sample_peak_dbfs == -2.4
    assert summary.true_peak_dbtp == -2.4
    assert len(parse_ebur128_all(CAPTURED_MP3)) == 1


def test_parse_ebur128_reads_minus_infinity_peaks_of_silence() -> None:
    summary = parse_ebur128(CAPTURED_SILENCE)
    assert summary.integrated_lufs == -70.0
    assert summary.true_peak_dbtp == -math.inf
    assert summary.sample_peak_dbfs == -math.inf


def test_parse_ebur128_orders_several_instances_by_filter_index() -> None:
    second = CAPTURED_SILENCE.replace("Parsed_ebur128_0", "Parsed_ebur128_7")
    first = CAPTURED_MP3.replace("Parsed_ebur128_2", "Parsed_ebur128_3")
    summaries = parse_ebur128_all(second + first)
    assert [s.integrated_lufs for s in summaries] == [-16.0, -70.0]


def test_parse_ebur128_without_summary_is_an_audio_error() -> None:
    with pytest.raises(AudioError):
        parse_ebur128("Stream #0:0: Audio: mp3, 44100 Hz, mono\n")


def test_parse_silences_pairs_starts_and_ends() -> None:
    assert parse_silences(CAPTURED_MP3) == [Silence(3.76197, 4.07406), Silence(9.39206, 9.71703)]
    assert parse_silences(CAPTURED_TRAILING)[-1] == Silence(12.7458, 13.0958)
    assert parse_silences("[silencedetect @ 0x1] silence_start: 2.5\n") == [Silence(2.5, None)]


def test_parse_decoded_duration_reads_the_last_time_report() -> None:
    assert parse_decoded_duration(CAPTURED_MP3) == pytest.approx(12.94)
    assert parse_decoded_duration("size=N/A time=01:02:03.50 bitrate=N/A\n") == pytest.approx(3723.5)
    assert parse_decoded_duration(CAPTURED_SILENCE) is None


def test_parse_probe_json_reads_the_audio_stream() -> None:
    assert parse_probe_json(PROBE_MP3) == ProbeResult(12.982857, 44100, 1, "mp3")


def test_parse_probe_json_refuses_files_without_audio() -> None:
    with pytest.raises(AudioError, match="không có luồng âm thanh"):
        parse_probe_json(PROBE_PNG)
    with pytest.raises(AudioError):
        parse_probe_json("not json")


def _tone(path: Path, seconds: float, rate: int = 48000, channels: int = 2) -> Path:
    layout = "stereo" if channels == 2 else "mono"
    src = f"sine=frequency=440:sample_rate={rate}:duration={seconds}"
    run_ffmpeg(["-f", "lavfi", "-i", src, "-af", f"aformat=channel_layouts={layout}", "-y", str(path)])
    return path


def test_probe_real_files_of_several_formats(tmp_path: Path) -> None:
    require_tools()
    wav = _tone(tmp_path / "tone.wav", 2.0)
    assert probe(wav) == ProbeResult(2.0, 48000, 2, "pcm_s16le")
    for ext, codec in ((".mp3", "mp3"), (".ogg", "vorbis"), (".flac", "flac"), (".m4a", "aac")):
        out = tmp_path / f"tone{ext}"
        run_ffmpeg(["-i", str(wav), "-ac", "1", "-ar", "44100", "-y", str(out)])
        info = probe(out)
        assert (info.codec, info.sample_rate, info.channels) == (codec, 44100, 1)
        assert info.duration_s == pytest.approx(2.0, abs=0.1)


def test_probe_refuses_corrupt_missing_and_non_audio_files(tmp_path: Path) -> None:
    garbage = tmp_path / "bulletin.mp3"
    garbage.write_bytes(b"\x00\x01 this is not audio " * 50)
    with pytest.raises(AudioError, match=r"bulletin\.mp3"):
        probe(garbage)
    with pytest.raises(AudioError, match="Không tìm thấy"):
        probe(tmp_path / "missing.wav")
    image = tmp_path / "img.png"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc=d=1", "-frames:v", "1", "-y", str(image)])
    with pytest.raises(AudioError, match="không có luồng âm thanh"):
        probe(image)


def test_run_ffmpeg_failure_is_an_audio_error_with_the_cause(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="No such file"):
        run_ffmpeg(["-i", str(tmp_path / "nothing.wav"), "-f", "null", "-"])


def test_run_ffmpeg_timeout_is_an_audio_error() -> None:
    with pytest.raises(AudioError, match="quá"):
        run_ffmpeg(["-re", "-f", "lavfi", "-i", "anullsrc", "-t", "30", "-f", "null", "-"], timeout=0.5)


def test_missing_tools_raise_tool_missing_with_install_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissingError, match="apt-get install ffmpeg"):
        require_tools()
    with pytest.raises(ToolMissingError):
        run_ffmpeg(["-version"])


def test_run_ffmpeg_returns_stderr_with_the_summary(tmp_path: Path) -> None:
    # A 1 kHz stereo sine with -20 dBFS peaks reads -20 LUFS (the EBU Tech 3341 calibration point).
    tone = "aevalsrc=0.1*sin(2*PI*1000*t)|0.1*sin(2*PI*1000*t):s=48000:d=3"
    stderr = run_ffmpeg(["-f", "lavfi", "-i", tone, "-af", "ebur128=framelog=verbose", "-f", "null", "-"])
    assert parse_ebur128(stderr).integrated_lufs == pytest.approx(-20.0, abs=0.1)


def test_concurrent_pipeline_feeds_each_stage_into_the_next(tmp_path: Path) -> None:
    tone = "aevalsrc=0.1*sin(2*PI*1000*t)|0.1*sin(2*PI*1000*t):s=48000:d=3"
    produce = ["-f", "lavfi", "-i", tone, "-f", "wav", "pipe:1"]
    encode = ["-f", "wav", "-i", "pipe:0", "-c:a", "flac", "-f", "flac", "pipe:1"]
    meter = ["-f", "flac", "-i", "pipe:0", "-af", "ebur128=framelog=verbose", "-f", "null", "-"]
    stderrs = run_ffmpeg_concurrently([produce, encode, meter], piped=True, cwd=tmp_path)
    assert parse_ebur128(stderrs[-1]).integrated_lufs == pytest.approx(-20.0, abs=0.1)


def test_concurrent_jobs_report_the_failing_one(tmp_path: Path) -> None:
    ok = ["-f", "lavfi", "-i", "anullsrc", "-t", "1", "-f", "null", "-"]
    bad = ["-i", str(tmp_path / "absent.wav"), "-f", "null", "-"]
    with pytest.raises(AudioError, match="absent"):
        run_ffmpeg_concurrently([ok, bad], piped=False)
    with pytest.raises(AudioError, match="absent"):
        run_ffmpeg_concurrently([bad, ["-f", "wav", "-i", "pipe:0", "-f", "null", "-"]], piped=True)
    slow = ["-re", "-f", "lavfi", "-i", "anullsrc", "-t", "30", "-f", "null", "-"]
    with pytest.raises(AudioError, match="quá"):
        run_ffmpeg_concurrently([slow, ok], piped=False, timeout=0.5)
