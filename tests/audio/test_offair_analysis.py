"""The off-air analysis on generated audio: the programme found again, dead air measured, another differs."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from broadcaster.audio.offair import (
    EAR_RATE,
    EarRules,
    best_match,
    decode_mono,
    encode_evidence,
    judge_item,
    longest_dead_air,
)
from broadcaster.domain import OffAir

RATE = EAR_RATE
RULES = EarRules(silence_s=5.0, min_similarity=0.6)


def speech(tmp_path: Path, text: str, name: str) -> np.ndarray:
    """Vietnamese speech by espeak-ng, at the ear's rate."""
    wav = tmp_path / f"{name}.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(wav), text], check=True, capture_output=True)
    return decode_mono(wav, RATE)


@pytest.fixture(scope="module")
def programme(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    """About 10 s of speech."""
    text = (
        "Ủy ban nhân dân phường thông báo lịch tổng vệ sinh môi trường, đề nghị bà con tham gia đầy đủ. "
        "Các tổ dân phố khơi thông cống rãnh, thu gom rác thải, diệt bọ gậy phòng chống sốt xuất huyết."
    )
    return speech(tmp_path_factory.mktemp("ref"), text, "ref")


def heard_as(programme: np.ndarray, *, delay_s: float, gain: float = 0.5, noise: float = 30.0) -> np.ndarray:
    """The programme as a monitor would record it: later, quieter, a little noise."""
    rng = np.random.default_rng(4)
    lead = np.zeros(int(delay_s * RATE))
    out = np.concatenate([lead, programme * gain, np.zeros(RATE)])
    return out + rng.normal(0, noise, len(out))


def test_the_programme_is_found_again_at_its_delay(programme: np.ndarray) -> None:
    recorded = heard_as(programme, delay_s=1.0)
    span = (0.0, len(programme) / RATE)
    # The clock says it started at 0.8 s; the search finds the 0.2 s more.
    judged = judge_item(programme, recorded, int(0.8 * RATE), [span], 1e9, RATE, RULES)
    assert judged is not None
    assert judged.verdict is OffAir.HEARD and judged.similarity > 0.95
    assert judged.delay_s == pytest.approx(0.2, abs=0.01)
    assert judged.dead_air_s == 0.0


def test_dead_air_beyond_the_window_is_silent_and_a_short_dropout_is_not(programme: np.ndarray) -> None:
    n = len(programme)
    assert n / RATE > 7  # long enough for a 5 s window
    muted = heard_as(programme, delay_s=0.5, gain=0.0, noise=3.0)  # the output at volume 0
    span = (0.0, n / RATE)
    judged = judge_item(programme, muted, int(0.5 * RATE), [span], 1e9, RATE, RULES)
    assert judged is not None and judged.verdict is OffAir.SILENT and judged.dead_air_s >= 5.0
    dropout = heard_as(programme, delay_s=0.5)
    cut = slice(int(2.5 * RATE), int(4.0 * RATE))  # 1.5 s lost mid-item
    dropout[cut] = 0.0
    judged = judge_item(programme, dropout, int(0.5 * RATE), [span], 1e9, RATE, RULES)
    assert judged is not None and judged.verdict is OffAir.HEARD
    assert 1.0 <= judged.dead_air_s <= 1.6


def test_a_pause_in_the_programme_itself_is_not_dead_air() -> None:
    tone = 8000 * np.sin(2 * np.pi * 440 * np.arange(RATE) / RATE)
    reference = np.concatenate([tone, np.zeros(7 * RATE), tone])  # a planned 7 s pause
    assert longest_dead_air(reference * 0.5, reference, RATE) == 0.0
    assert longest_dead_air(np.zeros_like(reference), reference, RATE) >= 0.9


def test_another_bulletin_in_its_place_is_different(tmp_path: Path, programme: np.ndarray) -> None:
    other = speech(
        tmp_path, "Hội nghị tổng kết công tác thi đua khen thưởng sẽ họp vào sáng thứ hai tuần sau.", "x"
    )
    recorded = heard_as(np.resize(other, len(programme)), delay_s=0.5)
    span = (0.0, len(programme) / RATE)
    judged = judge_item(programme, recorded, int(0.5 * RATE), [span], 1e9, RATE, RULES)
    assert judged is not None and judged.verdict is OffAir.DIFFERENT and judged.similarity < 0.4


def test_only_what_played_is_judged_and_an_uncovered_item_has_no_verdict(programme: np.ndarray) -> None:
    n = len(programme) / RATE
    recorded = heard_as(programme, delay_s=0.5)
    # Cut after 3 s: the rest of the item is not judged (it did not play), the first 3 s are heard.
    judged = judge_item(programme, recorded, int(0.5 * RATE), [(0.0, n)], 3.0, RATE, RULES)
    assert judged is not None and judged.verdict is OffAir.HEARD
    assert judge_item(programme, recorded[: RATE * 2], int(0.5 * RATE), [(0.0, n)], 1e9, RATE, RULES) is None
    assert judge_item(programme, recorded, int(0.5 * RATE), [(4.0, n)], 3.0, RATE, RULES) is None


def test_best_match_is_normalised_whatever_the_level() -> None:
    rng = np.random.default_rng(1)
    ref = rng.normal(0, 1000, RATE)
    window = np.concatenate([rng.normal(0, 50, 300), ref * 0.1, rng.normal(0, 50, 300)])
    sim, lag = best_match(ref, window)
    assert sim > 0.98 and lag == 300
    assert best_match(ref, window[:100]) == (0.0, 0)


def test_evidence_is_kept_as_opus_that_decodes_back(tmp_path: Path, programme: np.ndarray) -> None:
    pcm = programme.astype(np.int16).tobytes()
    out = encode_evidence(pcm, RATE, tmp_path / "2026-12-02" / "x.opus")
    assert out.stat().st_size < len(pcm) / 8  # compressed
    back = decode_mono(out, RATE)
    assert abs(len(back) - len(programme)) < RATE // 10
    sim, _ = best_match(programme[RATE : 3 * RATE], back[: 4 * RATE])
    assert sim > 0.9
