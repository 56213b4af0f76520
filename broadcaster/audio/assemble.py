"""Programme assembly: signature tune, ident, items (repeated), closing, gaps — one normalised file."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from broadcaster.audio.ffmpeg import AudioSource, probe
from broadcaster.audio.loudness import (
    LoudnessMeasurement,
    LoudnessTarget,
    OutputFormat,
    normalize_source,
)
from broadcaster.errors import AudioError


class PartKind(enum.StrEnum):
    """The role of one clip in a programme."""

    SIGNATURE = "signature"
    IDENT = "ident"
    ITEM = "item"
    CLOSING = "closing"


@dataclass(frozen=True)
class ProgrammeLayout:
    """How a programme is built around its items; every clip path is optional except the items."""

    signature: Path | None = None
    ident: Path | None = None
    closing: Path | None = None
    gap_s: float = 1.5  # silence between consecutive parts
    repeat: int = 1  # each item is read this many times in a row ("read twice")
    repeat_gap_s: float | None = None  # silence between readings of the same item; None: gap_s
    lead_s: float = 0.0  # silence before the first part
    tail_s: float = 1.0  # silence after the last part

    def __post_init__(self) -> None:
        if self.repeat < 1:
            raise AudioError(f"Số lần đọc phải từ 1 trở lên (đang là {self.repeat}).", "Sửa số lần đọc lặp.")
        gaps = (self.gap_s, self.lead_s, self.tail_s, self.repeat_gap_s or 0.0)
        if any(g < 0 or not math.isfinite(g) for g in gaps):
            raise AudioError(
                "Khoảng lặng trong chương trình phải là số giây không âm.", "Sửa cấu hình khoảng lặng."
            )


@dataclass(frozen=True)
class PlannedPart:
    """One clip's place in the programme timeline."""

    kind: PartKind
    item_index: int | None  # index into the items list; None for signature/ident/closing
    repeat_index: int
    start_s: float
    duration_s: float
    silence_after_s: float

    @property
    def end_s(self) -> float:
        """When the clip itself ends (before the silence after it)."""
        return self.start_s + self.duration_s


@dataclass(frozen=True)
class AssembledProgramme:
    """The written programme file, its exact duration, its measurement and where each part starts."""

    path: Path
    duration_s: float
    measurement: LoudnessMeasurement
    parts: tuple[PlannedPart, ...]

    @property
    def item_offsets(self) -> tuple[PlannedPart, ...]:
        """The item readings only, in playing order (start_s is the offset within the programme)."""
        return tuple(p for p in self.parts if p.kind is PartKind.ITEM)


def programme_sequence(layout: ProgrammeLayout, item_count: int) -> list[tuple[PartKind, int | None, int]]:
    """Playing order as (kind, item index, repeat index) (pure)."""
    order: list[tuple[PartKind, int | None, int]] = []
    if layout.signature is not None:
        order.append((PartKind.SIGNATURE, None, 0))
    if layout.ident is not None:
        order.append((PartKind.IDENT, None, 0))
    for index in range(item_count):
        order += [(PartKind.ITEM, index, r) for r in range(layout.repeat)]
    if layout.closing is not None:
        order.append((PartKind.CLOSING, None, 0))
    return order


def plan_programme(
    layout: ProgrammeLayout, item_durations: Sequence[float], clip_durations: Mapping[PartKind, float]
) -> list[PlannedPart]:
    """Timeline of every part from clip durations (pure); `clip_durations` holds signature/ident/closing."""
    order = programme_sequence(layout, len(item_durations))
    if not any(kind is PartKind.ITEM for kind, _, _ in order):
        raise AudioError("Chương trình không có bản tin nào để phát.", "Chọn ít nhất một bản tin.")
    repeat_gap = layout.gap_s if layout.repeat_gap_s is None else layout.repeat_gap_s
    parts: list[PlannedPart] = []
    clock = layout.lead_s
    for pos, (kind, index, rep) in enumerate(order):
        duration = item_durations[index] if index is not None else clip_durations[kind]
        if pos == len(order) - 1:
            after = layout.tail_s
        elif kind is PartKind.ITEM and order[pos + 1][1] == index:
            after = repeat_gap
        else:
            after = layout.gap_s
        parts.append(PlannedPart(kind, index, rep, clock, duration, after))
        clock += duration + after
    return parts


def programme_duration(
    layout: ProgrammeLayout, item_durations: Sequence[float], clip_durations: Mapping[PartKind, float]
) -> float:
    """Expected programme length in seconds from clip durations, gaps, lead and tail (pure)."""
    last = plan_programme(layout, item_durations, clip_durations)[-1]
    return last.end_s + last.silence_after_s


def _clip_path(layout: ProgrammeLayout, kind: PartKind, index: int | None, items: Sequence[Path]) -> Path:
    if index is not None:
        return items[index]
    path = {
        PartKind.SIGNATURE: layout.signature,
        PartKind.IDENT: layout.ident,
        PartKind.CLOSING: layout.closing,
    }
    found = path[kind]
    assert found is not None  # programme_sequence only yields kinds whose path is set
    return found


def build_source(
    parts: Sequence[PlannedPart], paths: Sequence[Path], lead_s: float, sample_rate: int, layout_name: str
) -> AudioSource:
    """ffmpeg graph that concatenates the clips with exact-length silences (pure, streaming).

    Every clip is cut/padded to its planned sample count, so the programme is exactly as long as
    planned and each offset is exact even where a container's duration is slightly off.
    """
    chains: list[str] = []
    labels: list[str] = []
    fmt = f"aresample={sample_rate},aformat=sample_fmts=flt:channel_layouts={layout_name},asetpts=N/SR/TB"
    if lead_s > 0:
        lead = round(lead_s * sample_rate)
        chains.append(f"anullsrc=r={sample_rate}:cl={layout_name},atrim=end_sample={lead}[lead]")
        labels.append("[lead]")
    for i, part in enumerate(parts):
        clip = round(part.duration_s * sample_rate)
        whole = clip + round(part.silence_after_s * sample_rate)
        chains.append(f"[{i}:a:0]{fmt},atrim=end_sample={clip},apad=whole_len={whole}[p{i}]")
        labels.append(f"[p{i}]")
    chains.append(f"{''.join(labels)}concat=n={len(labels)}:v=0:a=1[src]")
    return AudioSource(inputs=tuple(paths), graph=";".join(chains))


def assemble(
    layout: ProgrammeLayout,
    items: Sequence[Path],
    dst: Path,
    target: LoudnessTarget | None = None,
    fmt: OutputFormat | None = None,
    *,
    max_duration_s: float | None = None,
    timeout: float | None = None,
) -> AssembledProgramme:
    """Assemble and normalise a programme into `dst` (atomic); ffmpeg streams, nothing is held in memory."""
    fmt = fmt or OutputFormat()
    # The tail and the gaps are part of the programme: silence must not be trimmed away.
    target = replace(target or LoudnessTarget(), trim_silence=False)
    order = programme_sequence(layout, len(items))
    paths = [_clip_path(layout, kind, index, items) for kind, index, _ in order]
    durations = {path: probe(path).duration_s for path in set(paths)}
    for path, seconds in durations.items():
        if not math.isfinite(seconds) or seconds <= 0:
            raise AudioError(f"Không xác định được độ dài của tệp {path.name}.", "Tạo lại tệp âm thanh này.")
    clips = {
        kind: durations[_clip_path(layout, kind, None, items)] for kind, index, _ in order if index is None
    }
    parts = plan_programme(layout, [durations[p] for p in items], clips)
    expected = parts[-1].end_s + parts[-1].silence_after_s
    if max_duration_s is not None and expected > max_duration_s:
        raise AudioError(
            f"Chương trình dài {expected:.0f} giây, vượt quá giới hạn {max_duration_s:.0f} giây.",
            "Bớt bản tin hoặc giảm số lần đọc lặp.",
        )
    source = build_source(parts, paths, layout.lead_s, fmt.sample_rate, fmt.layout)
    measurement = normalize_source(source, dst, target, fmt, label="chương trình", timeout=timeout)
    return AssembledProgramme(path=dst, duration_s=expected, measurement=measurement, parts=tuple(parts))
