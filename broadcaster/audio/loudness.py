"""BS.1770 loudness measurement and normalisation (gain + oversampled true-peak limiter) via ffmpeg."""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from broadcaster.audio.ffmpeg import (
    AudioSource,
    Ebur128Summary,
    Silence,
    parse_decoded_duration,
    parse_ebur128,
    parse_silences,
    probe,
    run_ffmpeg,
    run_ffmpeg_concurrently,
    single_file,
)
from broadcaster.errors import AudioError
from broadcaster.files import replacing

_log = logging.getLogger(__name__)

# ebur128 prints -70.0 LUFS when nothing passes the absolute gate, i.e. for silence.
SILENCE_FLOOR_LUFS = -70.0
_ANALYSIS_RATE = 48000  # ebur128 works at 48 kHz; resampling once up front saves one per branch.
_CANDIDATE_STEPS_DB = (0.0, 5.0)  # limited loudness is smooth in gain: two points interpolate well
_MAX_EXTRA_GAIN_DB = 12.0
_INTERSAMPLE_ALLOWANCE_DB = 1.0  # how far a true peak may sit above the sample peak, for planning


@dataclass(frozen=True)
class LoudnessMeasurement:
    """Loudness of one file as ffmpeg's ebur128 filter measures it (BS.1770-4, EBU R128 gating)."""

    integrated_lufs: float
    loudness_range_lu: float
    true_peak_dbtp: float
    sample_peak_dbfs: float
    duration_s: float
    sample_rate: int
    channels: int

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-safe dict; -inf (silence) becomes None because JSON has no infinities."""

        def finite(value: float) -> float | None:
            return round(value, 3) if math.isfinite(value) else None

        return {
            "integrated_lufs": finite(self.integrated_lufs),
            "loudness_range_lu": finite(self.loudness_range_lu),
            "true_peak_dbtp": finite(self.true_peak_dbtp),
            "sample_peak_dbfs": finite(self.sample_peak_dbfs),
            "duration_s": finite(self.duration_s),
            "sample_rate": self.sample_rate,
            "channels": self.channels,
        }


@dataclass(frozen=True)
class LoudnessTarget:
    """What normalisation aims for and how hard it tries."""

    integrated_lufs: float = -16.0
    true_peak_dbtp: float = -1.5
    trim_silence: bool = True
    silence_threshold_dbfs: float = -50.0
    keep_silence_s: float = 0.2  # silence left at each end after trimming, so words are not clipped
    tolerance_lu: float = 0.3  # beyond this the output is corrected once more
    min_input_lufs: float = SILENCE_FLOOR_LUFS  # quieter input is refused rather than amplified
    limiter_oversample: int = 4  # limiter runs at this multiple of the output rate: true-peak limiting
    limiter_margin_db: float = 0.5  # limiter ceiling below the target, headroom for resampling and codec
    limiter_attack_ms: float = 5.0  # also the look-ahead of ffmpeg's alimiter
    limiter_release_ms: float = 50.0
    max_corrections: int = 2


_CODECS: dict[str, tuple[str, str, str, float, str]] = {
    # codec: (ffmpeg encoder, muxer, extension, typical loudness lost in encoding (LU), pipeable muxer)
    "mp3": ("libmp3lame", "mp3", ".mp3", 0.4, "mp3"),
    "ogg": ("libvorbis", "ogg", ".ogg", 0.1, "ogg"),
    "opus": ("libopus", "ogg", ".opus", 0.1, "ogg"),
    "aac": ("aac", "ipod", ".m4a", 0.1, "adts"),
    "flac": ("flac", "flac", ".flac", 0.0, "flac"),
    "wav": ("pcm_s16le", "wav", ".wav", 0.0, "wav"),
}


@dataclass(frozen=True)
class OutputFormat:
    """Encoding of a normalised file; default MP3 44.1 kHz mono 128 kb/s."""

    codec: str = "mp3"
    sample_rate: int = 44100
    channels: int = 1
    bitrate: str | None = "128k"
    encoder_loss_lu: float | None = None  # None: the codec's typical loss, pre-compensated

    def __post_init__(self) -> None:
        if self.codec not in _CODECS:
            raise AudioError(
                f"Định dạng âm thanh không hỗ trợ: {self.codec}", f"Chọn một trong: {', '.join(_CODECS)}."
            )
        if self.codec == "opus" and self.sample_rate not in (8000, 12000, 16000, 24000, 48000):
            raise AudioError(f"Opus không hỗ trợ tần số {self.sample_rate} Hz.", "Dùng 48000 Hz cho Opus.")
        if self.channels not in (1, 2):
            raise AudioError(f"Số kênh không hỗ trợ: {self.channels}", "Chọn 1 (mono) hoặc 2 (stereo).")

    @property
    def extension(self) -> str:
        """File name suffix, e.g. '.mp3'."""
        return _CODECS[self.codec][2]

    @property
    def expected_loss_lu(self) -> float:
        """Loudness the encoder is expected to take away, added as extra gain up front."""
        return self.encoder_loss_lu if self.encoder_loss_lu is not None else _CODECS[self.codec][3]

    def encoder_args(self) -> list[str]:
        """ffmpeg output options for this format."""
        args = ["-c:a", _CODECS[self.codec][0], "-ar", str(self.sample_rate), "-ac", str(self.channels)]
        if self.bitrate and self.codec not in ("wav", "flac"):
            args += ["-b:a", self.bitrate]
        return args

    @property
    def muxer(self) -> str:
        """ffmpeg container format of the written file."""
        return _CODECS[self.codec][1]

    @property
    def stream_muxer(self) -> str:
        """A container for the same encoded stream that works on a pipe."""
        return _CODECS[self.codec][4]

    @property
    def layout(self) -> str:
        """ffmpeg channel layout name."""
        return "mono" if self.channels == 1 else "stereo"


# File name suffixes a user may give an output, and the codec each one names.
_SUFFIX_CODECS = {
    ".mp3": "mp3",
    ".wav": "wav",
    ".flac": "flac",
    ".ogg": "ogg",
    ".opus": "opus",
    ".m4a": "aac",
}


def format_for_path(path: Path, base: OutputFormat) -> OutputFormat:
    """The output format that `path`'s suffix names, keeping `base`'s rate, channels and bitrate.

    As ffmpeg and sox do, the file name chooses the container; only a suffix we cannot write is refused.
    """
    codec = _SUFFIX_CODECS.get(path.suffix.lower())
    if codec is None:
        raise AudioError(
            f"Không ghi được định dạng của tệp đích {path.name}.",
            f"Đặt tên tệp với một trong các đuôi: {', '.join(_SUFFIX_CODECS)}.",
        )
    if codec == base.codec:
        return base
    rate = base.sample_rate
    if codec == "opus" and rate not in (8000, 12000, 16000, 24000, 48000):
        rate = 48000
    return replace(base, codec=codec, sample_rate=rate, encoder_loss_lu=None)


def measure(path: Path, *, timeout: float | None = None) -> LoudnessMeasurement:
    """Integrated loudness, loudness range, true and sample peak of `path` (streaming, via ebur128)."""
    info = probe(path)
    meter = "ebur128=peak=true+sample:framelog=verbose"
    stderr = run_ffmpeg(["-i", str(path), "-map", "0:a:0", "-af", meter, "-f", "null", "-"], timeout=timeout)
    decoded = parse_decoded_duration(stderr)
    # What a player plays is the decoded length; container figures include MP3 encoder delay.
    duration = decoded if decoded is not None else info.duration_s
    return _measurement(parse_ebur128(stderr), duration, info.sample_rate, info.channels)


def _measurement(summary: Ebur128Summary, duration_s: float, rate: int, channels: int) -> LoudnessMeasurement:
    return LoudnessMeasurement(
        integrated_lufs=summary.integrated_lufs,
        loudness_range_lu=summary.loudness_range_lu,
        true_peak_dbtp=_or_neg_inf(summary.true_peak_dbtp),
        sample_peak_dbfs=_or_neg_inf(summary.sample_peak_dbfs),
        duration_s=round(duration_s, 4),
        sample_rate=rate,
        channels=channels,
    )


def _or_neg_inf(value: float | None) -> float:
    return value if value is not None else -math.inf


def content_bounds(silences: Sequence[Silence], duration_s: float, keep_s: float) -> tuple[float, float]:
    """Start and end (s) of the audio once leading/trailing silence is cut to `keep_s` (pure)."""
    eps = 0.05
    start, end = 0.0, duration_s
    if silences and silences[0].start_s <= eps:
        first_end = silences[0].end_s if silences[0].end_s is not None else duration_s
        start = max(0.0, first_end - keep_s)
    if silences:
        last = silences[-1]
        if (last.end_s is None or last.end_s >= duration_s - eps) and last.start_s > start:
            end = min(duration_s, last.start_s + keep_s)
    return start, max(end, start)


def interpolate_gain(points: Sequence[tuple[float, float]], target_lufs: float) -> tuple[float, float]:
    """Gain (dB) whose limited loudness hits the target, and the local slope, from (gain, lufs) pairs (pure).

    Loudness after a limiter grows monotonically but ever more slowly with gain, so the pairs are
    interpolated piecewise-linearly and extrapolated with the outermost slope.
    """
    pts = sorted(points)
    if len(pts) == 1:
        return pts[0][0] + (target_lufs - pts[0][1]), 1.0
    segments = list(itertools.pairwise(pts))
    chosen = segments[-1]
    if target_lufs <= pts[0][1]:
        chosen = segments[0]
    else:
        for seg in segments:
            if seg[0][1] <= target_lufs <= seg[1][1]:
                chosen = seg
                break
    (g0, l0), (g1, l1) = chosen
    slope = max((l1 - l0) / (g1 - g0), 0.05) if g1 != g0 else 1.0
    gain = g0 + (target_lufs - l0) / slope
    return min(gain, pts[0][0] + _MAX_EXTRA_GAIN_DB), min(slope, 1.0)


def _limiter(target: LoudnessTarget, limit_db: float) -> str:
    limit = min(1.0, max(0.0625, 10.0 ** (limit_db / 20.0)))  # alimiter's accepted range
    return (
        f"alimiter=limit={limit:.6f}:level=false:latency=true"
        f":attack={target.limiter_attack_ms:g}:release={target.limiter_release_ms:g}"
    )


def _prefix(source: AudioSource, bounds: tuple[float, float] | None, fmt: OutputFormat) -> str:
    trim = ""
    if bounds is not None:
        trim = f"atrim=start={bounds[0]:.4f}:end={bounds[1]:.4f},asetpts=PTS-STARTPTS,"
    return f"{source.graph};[src]{trim}aformat=sample_fmts=flt|fltp:channel_layouts={fmt.layout}"


@dataclass(frozen=True)
class _Analysis:
    integrated_lufs: float
    sample_peak_dbfs: float  # true peak would cost a 4x upsampling pass; the verify step catches overs
    duration_s: float
    silences: tuple[Silence, ...]


def _analyse(
    source: AudioSource, target: LoudnessTarget, fmt: OutputFormat, timeout: float | None
) -> _Analysis:
    detect = f"silencedetect=n={target.silence_threshold_dbfs:g}dB:d={max(target.keep_silence_s, 0.05):g},"
    graph = (
        f"{_prefix(source, None, fmt)},{detect if target.trim_silence else ''}"
        "ebur128=peak=sample:framelog=verbose[out]"
    )
    stderr = run_ffmpeg(
        [*source.input_args(), "-filter_complex", graph, "-map", "[out]", "-f", "null", "-"], timeout=timeout
    )
    summary = parse_ebur128(stderr)
    return _Analysis(
        integrated_lufs=summary.integrated_lufs,
        sample_peak_dbfs=_or_neg_inf(summary.sample_peak_dbfs),
        duration_s=parse_decoded_duration(stderr) or 0.0,
        silences=tuple(parse_silences(stderr)) if target.trim_silence else (),
    )


def _limited_loudness(
    source: AudioSource,
    bounds: tuple[float, float] | None,
    gains: Sequence[float],
    target: LoudnessTarget,
    fmt: OutputFormat,
    timeout: float | None,
) -> list[tuple[float, float]]:
    """Loudness after gain + limiter for several gains, one process each so they share the cores."""
    limit_db = target.true_peak_dbtp - target.limiter_margin_db
    prefix = f"{_prefix(source, bounds, fmt)},aresample={_ANALYSIS_RATE}"
    jobs = []
    for gain in gains:
        graph = f"{prefix},volume={gain:.3f}dB,{_limiter(target, limit_db)},ebur128=framelog=verbose[out]"
        jobs.append([*source.input_args(), "-filter_complex", graph, "-map", "[out]", "-f", "null", "-"])
    stderrs = run_ffmpeg_concurrently(jobs, piped=False, timeout=timeout)
    summaries = [parse_ebur128(text) for text in stderrs]
    return [(gain, s.integrated_lufs) for gain, s in zip(gains, summaries, strict=True)]


def _render_measured(
    source: AudioSource,
    bounds: tuple[float, float] | None,
    gain_db: float,
    limit_db: float | None,
    target: LoudnessTarget,
    fmt: OutputFormat,
    out: Path,
    timeout: float | None,
) -> Ebur128Summary:
    """Render into `out` and, on the other core, meter the very bytes being encoded (tee + pipe)."""
    chain = f"{_prefix(source, bounds, fmt)},volume={gain_db:.3f}dB"
    if limit_db is not None:
        # Limiting the oversampled signal catches inter-sample peaks: a true-peak limiter.
        up = fmt.sample_rate * max(1, target.limiter_oversample)
        chain += f",aresample={up},{_limiter(target, limit_db)}"
    chain += f",aresample={fmt.sample_rate}[out]"
    # Three processes, one pipeline: filter → encode (tee: the file, plus a pipe copy) → meter.
    # The file slave is seekable (so MP3 gets its gapless header); the meter reads the very same bytes.
    # Run in out's folder so the tee spec holds only our own plain file name, nothing to escape.
    raw = ["-f", "f32le", "-ar", str(fmt.sample_rate), "-ac", str(fmt.channels)]
    filtering = [*source.input_args(), "-filter_complex", chain, "-map", "[out]", *raw, "pipe:1"]
    tee = f"[f={fmt.muxer}]{out.name}|[f={fmt.stream_muxer}]pipe:1"
    encoding = [*raw, "-i", "pipe:0", "-map", "0:a", *fmt.encoder_args(), "-f", "tee", "-y", tee]
    meter = "ebur128=peak=true+sample:framelog=verbose"
    metering = ["-f", fmt.stream_muxer, "-i", "pipe:0", "-af", meter, "-f", "null", "-"]
    stderrs = run_ffmpeg_concurrently(
        [filtering, encoding, metering], piped=True, cwd=out.parent, timeout=timeout
    )
    return parse_ebur128(stderrs[-1])


def normalize(
    src: Path,
    dst: Path,
    target: LoudnessTarget | None = None,
    fmt: OutputFormat | None = None,
    max_duration_s: float | None = None,
    *,
    timeout: float | None = None,
) -> LoudnessMeasurement:
    """Normalise `src` into `dst` (atomically) and return the measurement of the written file."""
    info = probe(src)
    # Container durations run a little long (encoder delay), hence the slack before the exact check.
    if max_duration_s is not None and info.duration_s > max_duration_s + 0.5:  # nan compares False
        raise _too_long(src.name, info.duration_s, max_duration_s)
    return normalize_source(
        single_file(src), dst, target, fmt, max_duration_s, label=src.name, timeout=timeout
    )


def _too_long(name: str, duration_s: float, max_s: float) -> AudioError:
    return AudioError(
        f"Tệp {name} dài {duration_s:.1f} giây, vượt quá giới hạn {max_s:.0f} giây.",
        "Rút ngắn nội dung hoặc tăng giới hạn độ dài trong cấu hình.",
    )


def normalize_source(
    source: AudioSource,
    dst: Path,
    target: LoudnessTarget | None = None,
    fmt: OutputFormat | None = None,
    max_duration_s: float | None = None,
    *,
    label: str = "chương trình",
    timeout: float | None = None,
) -> LoudnessMeasurement:
    """Normalise any ffmpeg source graph into `dst`; measure → gain/limit plan → render → verify."""
    target = target or LoudnessTarget()
    fmt = fmt or OutputFormat()
    try:
        analysis = _analyse(source, target, fmt, timeout)
    except AudioError as exc:
        raise AudioError(f"Không giải mã được {label}: {exc.message}", exc.hint) from exc
    if max_duration_s is not None and analysis.duration_s > max_duration_s:
        raise _too_long(label, analysis.duration_s, max_duration_s)
    if not math.isfinite(analysis.integrated_lufs) or analysis.integrated_lufs <= target.min_input_lufs:
        raise AudioError(
            f"Âm thanh {label} gần như im lặng ({analysis.integrated_lufs:.1f} LUFS), không thể chuẩn hoá.",
            "Kiểm tra micro/tệp gốc và thu âm lại với âm lượng đủ lớn.",
        )
    bounds = None
    if target.trim_silence:
        bounds = content_bounds(analysis.silences, analysis.duration_s, target.keep_silence_s)
    gain, slope, limit_db = _plan_gain(source, bounds, analysis, target, fmt, timeout)
    # The temp name has word characters only (it goes into an ffmpeg tee spec unescaped), and fmt's suffix.
    with replacing(dst, suffix=fmt.extension) as tmp:
        for attempt in range(target.max_corrections + 1):
            summary = _render_measured(source, bounds, gain, limit_db, target, fmt, tmp, timeout)
            # The graph fixes the length exactly; encoders here keep it (MP3 via its gapless header).
            length = (bounds[1] - bounds[0]) if bounds else analysis.duration_s
            result = _measurement(summary, length, fmt.sample_rate, fmt.channels)
            _log.debug("pass %d: gain %.2f dB, limit %s dB -> %s", attempt, gain, limit_db, result)
            loud_error = target.integrated_lufs - result.integrated_lufs
            peak_over = result.true_peak_dbtp - target.true_peak_dbtp
            if abs(loud_error) <= target.tolerance_lu and peak_over <= 0:
                break
            if peak_over > 0:  # codec or resampler overshoot: pull the limiter down by as much, and a bit
                limit_db = min(limit_db or target.true_peak_dbtp, target.true_peak_dbtp) - peak_over - 0.2
            gain += loud_error / slope if limit_db is not None else loud_error
    return result


def _plan_gain(
    source: AudioSource,
    bounds: tuple[float, float] | None,
    analysis: _Analysis,
    target: LoudnessTarget,
    fmt: OutputFormat,
    timeout: float | None,
) -> tuple[float, float, float | None]:
    """Gain (dB), loudness-per-gain slope and limiter ceiling (None: no limiter) for the first render."""
    linear_gain = target.integrated_lufs - analysis.integrated_lufs + fmt.expected_loss_lu
    limit_db = target.true_peak_dbtp - target.limiter_margin_db
    if analysis.sample_peak_dbfs + linear_gain <= limit_db - _INTERSAMPLE_ALLOWANCE_DB:
        return linear_gain, 1.0, None  # peaks stay under the ceiling: plain gain, no limiter colouring
    gains = [linear_gain + step for step in _CANDIDATE_STEPS_DB]
    points = _limited_loudness(source, bounds, gains, target, fmt, timeout)
    gain, slope = interpolate_gain(points, target.integrated_lufs + fmt.expected_loss_lu)
    _log.debug("limited loudness by gain %s -> gain %.2f dB, slope %.2f", points, gain, slope)
    return gain, slope, limit_db
