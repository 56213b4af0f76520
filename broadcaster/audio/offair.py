"""The off-air check's analysis: did what left the station match the programme, fall silent, or differ.

Pure functions over mono samples (float, int16 units) at one rate. An item of a programme sits at
known offsets (its readings' spans); the recording holds it at those offsets plus the output's delay.
For each item the recording is searched a little either side of where it should be, and judged:

* silent: the recording is dead (quieter than `SILENT_DBFS`) for `silence_s` seconds in a row where
  the programme has sound (or for nearly the whole item, when the item is shorter than that);
* heard: otherwise, when the normalised cross-correlation with the programme reaches `min_similarity`
  (a clean output measures above 0.95, another bulletin or a tone below 0.3);
* different: otherwise — something else was heard.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from broadcaster.audio.ffmpeg import run_ffmpeg
from broadcaster.domain import OffAir
from broadcaster.files import replacing

Samples = npt.NDArray[np.float64]

# What the ear records and compares at: wide enough for speech, a quarter of the CD rate's work.
EAR_RATE = 16000
FRAME_S = 0.1
# A recorded frame this quiet is dead air (−50 dBFS is far below speech at the −16 LUFS target).
SILENT_DBFS = -50.0
# A programme frame this quiet is a planned pause: silence there is not dead air.
PAUSE_DBFS = -45.0
# How far either side of the expected offset an item is looked for (start latency, clock mapping).
SEARCH_S = 0.75
# An item this much shorter than the window counts as silent when all but this fraction of it is dead.
WHOLE_ITEM = 0.9
_FULL_SCALE = 32768.0


@dataclass(frozen=True)
class EarRules:
    """When an airing counts as silent or different."""

    silence_s: float = 5.0
    min_similarity: float = 0.6


@dataclass(frozen=True)
class Judgement:
    """One item's verdict, the best similarity, the longest dead air and the delay (seconds).

    `delay_s`: how much later than the player's start (by the clock) the item was heard.
    """

    verdict: OffAir
    similarity: float
    dead_air_s: float
    delay_s: float


def frame_dbfs(samples: Samples, rate: int, frame_s: float = FRAME_S) -> Samples:
    """RMS level of each whole frame in dBFS (−120 for digital silence)."""
    size = max(1, int(rate * frame_s))
    count = len(samples) // size
    if count == 0:
        return np.zeros(0)
    frames = samples[: count * size].reshape(count, size)
    rms = np.sqrt(np.mean(frames**2, axis=1)) / _FULL_SCALE
    return np.asarray(20 * np.log10(np.maximum(rms, 1e-6)), dtype=np.float64)


def longest_dead_air(recorded: Samples, reference: Samples, rate: int) -> float:
    """Seconds of the longest run of dead recorded frames in which the programme itself had sound."""
    rec_db = frame_dbfs(recorded, rate)
    ref_db = frame_dbfs(reference, rate)
    n = min(len(rec_db), len(ref_db))
    dead, sound = rec_db[:n] < SILENT_DBFS, ref_db[:n] > PAUSE_DBFS
    best = run = 0
    had_sound = False
    for is_dead, has_sound in zip(dead.tolist(), sound.tolist(), strict=True):
        if is_dead:
            run += 1
            had_sound = had_sound or has_sound
            if had_sound:
                best = max(best, run)
        else:
            run, had_sound = 0, False
    return best * FRAME_S


def best_match(reference: Samples, window: Samples) -> tuple[float, int]:
    """The highest normalised cross-correlation of `reference` inside `window`, and its lag (samples)."""
    from scipy.signal import correlate  # the CLI never pays for scipy's import

    n = len(reference)
    if n == 0 or len(window) < n:
        return 0.0, 0
    ref = reference - reference.mean()
    ref_norm = float(np.sqrt(np.sum(ref**2)))
    if ref_norm == 0.0:
        return 0.0, 0
    dots = correlate(window, ref, mode="valid", method="fft")
    sq = np.concatenate(([0.0], np.cumsum(window**2)))
    sums = np.concatenate(([0.0], np.cumsum(window)))
    energy = (sq[n:] - sq[:-n]) - (sums[n:] - sums[:-n]) ** 2 / n  # each segment's, mean removed
    norms = np.sqrt(np.maximum(energy, 0.0)) * ref_norm
    scores = np.where(norms > 1e-9 * ref_norm, dots / np.maximum(norms, 1e-12), 0.0)
    lag = int(np.argmax(scores))
    return float(max(0.0, scores[lag])), lag


def judge_item(
    reference: npt.NDArray[np.float64] | npt.NDArray[np.int16],
    recorded: npt.NDArray[np.float64] | npt.NDArray[np.int16],
    offset: int,
    spans: Sequence[tuple[float, float]],
    played_s: float,
    rate: int,
    rules: EarRules,
) -> Judgement | None:
    """The verdict on one item: its `spans` (seconds into the programme) as heard from sample `offset`.

    Only what played is judged (`played_s` of the programme). None when the recording does not cover
    the item (the capture ended early): no verdict is better than a wrong one.
    """
    margin = int(SEARCH_S * rate)
    parts = [(start, min(end, played_s)) for start, end in spans if start < played_s]
    if not parts:
        return None
    sims: list[tuple[float, float]] = []
    dead = 0.0
    delays: list[int] = []
    length_s = 0.0
    for start, end in parts:
        a, b = int(start * rate), int(end * rate)
        # The search window, cut at the recording's ends; it must still hold the whole item.
        lo, hi = max(0, offset + a - margin), min(len(recorded), offset + b + margin)
        if b <= a or offset + a < 0 or hi - lo < b - a or offset + b > len(recorded):
            return None
        ref = reference[a:b].astype(np.float64)  # one item at a time in float: a programme stays int16
        sim, lag = best_match(ref, recorded[lo:hi].astype(np.float64))
        found = lo + lag - (offset + a)  # how much later than expected the item was heard
        sims.append((sim, (b - a) / rate))
        delays.append(found)
        # Dead air is measured where the item should be, aligned when the match says where that is.
        shift = found if sim >= rules.min_similarity else 0
        heard = recorded[offset + a + shift : offset + b + shift].astype(np.float64)
        dead = max(dead, longest_dead_air(heard, ref, rate))
        length_s += (b - a) / rate
    similarity = sum(s * w for s, w in sims) / max(sum(w for _, w in sims), 1e-9)
    window = min(rules.silence_s, WHOLE_ITEM * length_s)
    if dead + 1e-9 >= window:
        verdict = OffAir.SILENT
    elif similarity >= rules.min_similarity:
        verdict = OffAir.HEARD
    else:
        verdict = OffAir.DIFFERENT
    delay = sorted(delays)[len(delays) // 2] / rate
    return Judgement(verdict, round(similarity, 4), round(dead, 1), round(delay, 3))


def decode_mono(path: Path, rate: int = EAR_RATE) -> Samples:
    """`path` decoded by ffmpeg to mono samples at `rate` (int16 units, as float)."""
    return decode_pcm(path, rate).astype(np.float64)


def decode_pcm(path: Path, rate: int = EAR_RATE) -> npt.NDArray[np.int16]:
    """`path` decoded by ffmpeg to mono int16 samples at `rate` (a quarter of the float's memory)."""
    with tempfile.TemporaryDirectory(prefix="broadcaster-ear-") as folder:
        raw = Path(folder) / "ref.raw"
        run_ffmpeg(
            ["-v", "error", "-i", str(path), "-vn", "-ac", "1", "-ar", str(rate), "-f", "s16le", str(raw)],
            timeout=600,
        )
        return np.fromfile(raw, dtype=np.int16)


def encode_evidence(pcm: bytes, rate: int, out: Path, bitrate: str = "24k") -> Path:
    """Mono s16le `pcm` kept as an Opus file (about 11 MB a day at 24 kb/s), written whole or not at all."""
    with tempfile.TemporaryDirectory(prefix="broadcaster-ear-") as folder:
        raw = Path(folder) / "rec.raw"
        raw.write_bytes(pcm)
        with replacing(out, suffix=".opus") as tmp:
            args = ["-v", "error", "-y", "-f", "s16le", "-ar", str(rate), "-ac", "1", "-i", str(raw)]
            rate_args = ["-b:a", bitrate] if bitrate else []
            run_ffmpeg([*args, "-c:a", "libopus", *rate_args, "-application", "audio", str(tmp)], timeout=600)
    return out
