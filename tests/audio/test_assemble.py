"""Programme assembly: the pure timeline, and a real assembled programme checked by ffmpeg."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from broadcaster.audio.assemble import (
    PartKind,
    ProgrammeLayout,
    assemble,
    plan_programme,
    programme_duration,
    programme_sequence,
)
from broadcaster.audio.ffmpeg import probe, run_ffmpeg
from broadcaster.audio.loudness import LoudnessTarget, OutputFormat, measure
from broadcaster.errors import AudioError

CLIPS = {PartKind.SIGNATURE: 4.0, PartKind.IDENT: 2.5, PartKind.CLOSING: 3.0}


def test_plan_places_every_part_with_gaps_repeats_and_tail() -> None:
    layout = ProgrammeLayout(
        signature=Path("sig.ogg"),
        ident=Path("id.wav"),
        closing=Path("end.wav"),
        gap_s=1.0,
        repeat=2,
        repeat_gap_s=0.5,
        lead_s=0.25,
        tail_s=2.0,
    )
    parts = plan_programme(layout, [10.0, 20.0], CLIPS)
    assert [(p.kind.value, p.item_index, p.repeat_index, p.start_s, p.silence_after_s) for p in parts] == [
        ("signature", None, 0, 0.25, 1.0),
        ("ident", None, 0, 5.25, 1.0),
        ("item", 0, 0, 8.75, 0.5),
        ("item", 0, 1, 19.25, 1.0),
        ("item", 1, 0, 30.25, 0.5),
        ("item", 1, 1, 50.75, 1.0),
        ("closing", None, 0, 71.75, 2.0),
    ]
    assert programme_duration(layout, [10.0, 20.0], CLIPS) == pytest.approx(76.75)


def test_plan_without_optional_clips_is_items_and_gaps() -> None:
    layout = ProgrammeLayout(gap_s=2.0, tail_s=0.0)
    assert programme_sequence(layout, 2) == [(PartKind.ITEM, 0, 0), (PartKind.ITEM, 1, 0)]
    assert programme_duration(layout, [5.0, 7.0], {}) == pytest.approx(14.0)


def test_plan_refuses_empty_programmes_and_bad_layouts() -> None:
    with pytest.raises(AudioError, match="không có bản tin"):
        plan_programme(ProgrammeLayout(signature=Path("sig.ogg")), [], CLIPS)
    with pytest.raises(AudioError):
        ProgrammeLayout(repeat=0)
    with pytest.raises(AudioError):
        ProgrammeLayout(gap_s=-1.0)


def _speak(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(path), text], check=True)
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tone as signature, a spoken ident and outro, and two bulletins (one as MP3, like gTTS)."""
    folder = tmp_path_factory.mktemp("clips")
    tune = folder / "tune.ogg"
    chime = "sine=frequency=660:sample_rate=44100:duration=3,afade=t=out:st=1:d=2"
    run_ffmpeg(["-f", "lavfi", "-i", chime, "-c:a", "libvorbis", "-y", str(tune)])
    ident = _speak(folder, "ident", "Đây là Đài truyền thanh phường Phú Thứ.")
    first = _speak(folder, "item1", "Thông báo về việc tiêm vắc xin phòng bệnh sởi cho trẻ em dưới năm tuổi.")
    second_wav = _speak(folder, "item2", "Đề nghị bà con không đốt rơm rạ gây ô nhiễm không khí.")
    second = folder / "item2.mp3"
    run_ffmpeg(["-i", str(second_wav), "-c:a", "libmp3lame", "-b:a", "64k", "-y", str(second)])
    outro = _speak(folder, "outro", "Chương trình phát thanh đến đây là kết thúc.")
    return {"tune": tune, "ident": ident, "item1": first, "item2": second, "outro": outro}


def _silences(path: Path, min_s: float) -> list[tuple[float, float]]:
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-i", str(path), "-af", f"silencedetect=n=-45dB:d={min_s}"]
    text = subprocess.run([*cmd, "-f", "null", "-"], capture_output=True, text=True, check=True).stderr
    starts = [float(v) for v in re.findall(r"silence_start: (-?[\d.]+)", text)]
    ends = [float(v) for v in re.findall(r"silence_end: ([\d.]+)", text)]
    return list(zip(starts, ends, strict=False))


def test_assembled_programme_matches_its_predicted_timeline(clips: dict[str, Path], tmp_path: Path) -> None:
    layout = ProgrammeLayout(
        signature=clips["tune"], ident=clips["ident"], closing=clips["outro"], gap_s=1.2, repeat=2, tail_s=1.5
    )
    items = [clips["item1"], clips["item2"]]
    dst = tmp_path / "programme.mp3"
    result = assemble(layout, items, dst, LoudnessTarget(), OutputFormat())

    clip_s = {
        kind: probe(clips[key]).duration_s
        for kind, key in (
            (PartKind.SIGNATURE, "tune"),
            (PartKind.IDENT, "ident"),
            (PartKind.CLOSING, "outro"),
        )
    }
    predicted = programme_duration(layout, [probe(p).duration_s for p in items], clip_s)
    assert result.duration_s == pytest.approx(predicted, abs=1e-6)
    written = measure(dst)
    assert written.duration_s == pytest.approx(predicted, abs=0.03)
    assert written.integrated_lufs == pytest.approx(-16.0, abs=0.5)
    assert written.true_peak_dbtp <= -1.5
    assert result.measurement.integrated_lufs == pytest.approx(written.integrated_lufs, abs=0.05)
    assert result.measurement.true_peak_dbtp == pytest.approx(written.true_peak_dbtp, abs=0.05)
    assert result.measurement.duration_s == pytest.approx(written.duration_s, abs=0.03)

    offsets = result.item_offsets
    assert [(p.item_index, p.repeat_index) for p in offsets] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    # Every gap of 1.2 s shows up as silence ending where the next part starts.
    gaps = _silences(dst, 1.0)
    for part in result.parts[1:]:
        assert any(abs(end - part.start_s) < 0.1 and start < part.start_s - 1.0 for start, end in gaps), part
    assert sorted(p.name for p in tmp_path.iterdir()) == ["programme.mp3"]


def test_assembly_with_a_corrupt_item_fails_cleanly(clips: dict[str, Path], tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"\xff\xfb" + b"\x00garbage" * 200)
    dst = tmp_path / "programme.mp3"
    with pytest.raises(AudioError):
        assemble(ProgrammeLayout(), [clips["item1"], broken], dst)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.mp3"]


def test_assembly_longer_than_allowed_is_refused(clips: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="vượt quá giới hạn"):
        assemble(ProgrammeLayout(repeat=3), [clips["item1"]], tmp_path / "p.mp3", max_duration_s=5.0)
