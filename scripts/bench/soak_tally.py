"""Soak bench, the tally: what the sink heard against what the as-run log says, per planned airing.

An airing is *aired once* when one as-run row says completed and its code was heard once; *interrupted*,
*missed*, *failed* or *skipped* when its one row says so with a cause (and, for the last three,
nothing of it was heard); *aired twice* when its code was heard twice or two rows say completed;
*logged twice* when it has two rows; *unaccounted* otherwise (no row, a row that says completed with
nothing heard, a row that says not aired although it was heard, or a row without its cause).
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
from soak_faults import Fault
from soak_sink import Decoded, Heard

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
# The daemon's cause for an airing missed because it was not running at the set time (playout/daemon.py).
DOWN_WORDS = "không chạy vào giờ phát"
ORDER = (
    "aired once",
    "interrupted",
    "missed",
    "failed",
    "skipped",
    "aired twice",
    "logged twice",
    "unaccounted",
)


@dataclass(frozen=True)
class Airing:
    """A queued airing as the database has it after the run."""

    id: int
    bulletin_id: int
    planned: float
    position: int
    cancelled: bool


@dataclass(frozen=True)
class Row:
    """An as-run row as the database has it after the run."""

    airing_id: int | None
    outcome: str
    note: str
    actual_start: float | None
    actual_end: float | None
    start_error_ms: int | None
    corrects_id: int | None


@dataclass
class Tally:
    """One run's figures and the airings that went wrong, with what was heard and logged."""

    name: str
    planned: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    sink_errors_s: list[float] = field(default_factory=list)
    logged_errors_s: list[float] = field(default_factory=list)
    verdict_aired: Counter[str] = field(default_factory=Counter)
    verdict_unaired: Counter[str] = field(default_factory=Counter)
    unqueued: int = 0
    unqueued_aired: list[str] = field(default_factory=list)
    strays: int = 0
    problems: list[str] = field(default_factory=list)
    incomplete_completed: int = 0
    overlaps: int = 0
    false_down: int = 0
    notes: list[str] = field(default_factory=list)


def _local(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).astimezone(ZONE).strftime("%H:%M:%S.%f")[:-3]


def _faults_near(planned: float, faults: list[Fault], lead_s: float, grace_s: float) -> str:
    near = [f.label() for f in faults if f.start - lead_s - 3 <= planned <= (f.end or f.start) + grace_s + 5]
    return "; ".join(near) or "no fault near"


def _describe(a: Airing, code: int, heard: list[Heard], own: list[Row], why: str, faults: str) -> str:
    sounds = ", ".join(f"{h.onset - a.planned:+.2f} s ({h.seconds:.2f} s)" for h in heard) or "nothing"
    logged = "; ".join(
        f"{r.outcome} '{r.note}'"
        + (f" start {r.actual_start - a.planned:+.2f} s" if r.actual_start is not None else "")
        for r in own
    )
    return (
        f"airing {a.id} at {_local(a.planned)} (bulletin {a.bulletin_id}, code {code}): {why}; "
        f"heard {sounds}; rows [{logged or 'none'}]; near: {faults}"
    )


def _classify(own: list[Row], heard: list[Heard]) -> tuple[str, str]:
    completed = [r for r in own if r.outcome == "completed"]
    if len(heard) >= 2 or len(completed) >= 2:
        return "aired twice", f"heard {len(heard)}×, {len(completed)} completed rows"
    if not own:
        return "unaccounted", "no as-run row"
    if len(own) >= 2:
        return "logged twice", f"{len(own)} rows"
    row = own[0]
    if row.outcome == "completed":
        return ("aired once", "") if heard else ("unaccounted", "logged completed, nothing heard")
    if not row.note.strip():
        return "unaccounted", f"logged {row.outcome} without a cause"
    if row.outcome == "interrupted":
        return "interrupted", ""
    if heard:
        return "unaccounted", f"logged {row.outcome} but heard"
    return (row.outcome, "") if row.outcome in ORDER else ("unaccounted", f"outcome {row.outcome}")


def _verdict(row: Row, heard: list[Heard], decoded: Decoded) -> str:
    """What an ear on the output would say of a row that claims the airing was on air."""
    assert row.actual_start is not None
    end = row.actual_end if row.actual_end is not None else row.actual_start + 3
    if any(row.actual_start - 1.5 <= h.onset <= end + 1 for h in heard):
        return "heard"
    return "not heard" if decoded.loud_between(row.actual_start, end + 0.5) else "silent"


def tally(
    name: str,
    airings: list[Airing],
    rows: list[Row],
    code_of: dict[int, int],
    decoded: Decoded,
    code_offset_s: float,
    faults: list[Fault],
    alive: list[tuple[float, float]],
    *,
    lead_s: float,
    grace_s: float,
) -> Tally:
    """Compare one run's sink recording with its as-run rows."""
    out = Tally(name)
    by_code: dict[int, list[Heard]] = {}
    for h in decoded.heard:
        by_code.setdefault(h.code, []).append(h)
    by_airing: dict[int, list[Row]] = {}
    for r in rows:
        if r.airing_id is not None and r.corrects_id is None:
            by_airing.setdefault(r.airing_id, []).append(r)
    first_at: dict[float, int] = {}
    for a in airings:
        if not a.cancelled:
            first_at[a.planned] = min(first_at.get(a.planned, a.position), a.position)
    known = {code_of[a.bulletin_id] for a in airings}
    out.strays = sum(len(v) for c, v in by_code.items() if c not in known)
    for a in airings:
        code = code_of[a.bulletin_id]
        heard, own = by_code.get(code, []), by_airing.get(a.id, [])
        if a.cancelled:
            out.unqueued += 1
            if heard or own:
                out.unqueued_aired.append(
                    _describe(
                        a,
                        code,
                        heard,
                        own,
                        "unqueued, aired",
                        _faults_near(a.planned, faults, lead_s, grace_s),
                    )
                )
            continue
        out.planned += 1
        kind, why = _classify(own, heard)
        out.counts[kind] += 1
        if kind in ("aired twice", "logged twice", "unaccounted"):
            near = _faults_near(a.planned, faults, lead_s, grace_s)
            out.problems.append(f"{kind}: " + _describe(a, code, heard, own, why, near))
        for r in own:
            if r.actual_start is not None:
                out.verdict_aired[_verdict(r, heard, decoded)] += 1
            else:
                out.verdict_unaired["heard" if heard else "silent"] += 1
        if kind == "aired once" and not heard[0].complete:
            out.incomplete_completed += 1
            near = _faults_near(a.planned, faults, lead_s, grace_s)
            out.notes.append("heard cut short: " + _describe(a, code, heard, own, "logged completed", near))
        if len(own) == 1 and own[0].outcome == "missed" and DOWN_WORDS in own[0].note:
            ran = [span for span in alive if span[0] <= a.planned and a.planned + grace_s <= span[1]]
            if ran:
                out.false_down += 1
                why = f"daemon ran from {_local(ran[0][0])} to {_local(ran[0][1])}"
                near = _faults_near(a.planned, faults, lead_s, grace_s)
                out.notes.append("cause 'not running' untrue: " + _describe(a, code, heard, own, why, near))
        if kind == "aired once" and first_at.get(a.planned) == a.position:
            out.sink_errors_s.append(heard[0].onset - code_offset_s - a.planned)
            if own[0].start_error_ms is not None:
                out.logged_errors_s.append(own[0].start_error_ms / 1000)
    _overlaps(out, airings, by_airing)
    return out


def _overlaps(out: Tally, airings: list[Airing], by_airing: dict[int, list[Row]]) -> None:
    """Programmes that, by their own rows, started while the one before was still on air."""
    spans: dict[float, list[float]] = {}  # planned start -> [programme start, end]
    for a in airings:
        for r in by_airing.get(a.id, []):
            if r.actual_start is None or r.actual_end is None or r.start_error_ms is None:
                continue
            begin = a.planned + r.start_error_ms / 1000
            span = spans.setdefault(a.planned, [begin, r.actual_end])
            span[0], span[1] = min(span[0], begin), max(span[1], r.actual_end)
    ordered = sorted(spans.items(), key=lambda kv: kv[1][0])
    for (p_prev, (_s, end_prev)), (p_next, (begin_next, _e)) in itertools.pairwise(ordered):
        if begin_next < end_prev - 0.05:
            out.overlaps += 1
            out.notes.append(
                f"on air together: programme of {_local(p_next)} started at {_local(begin_next)}, "
                f"{end_prev - begin_next:.2f} s before the item of {_local(p_prev)} ended "
                f"({_local(end_prev)})"
            )


def stats_ms(values: list[float]) -> str:
    """p50 / p99 / max in milliseconds."""
    if not values:
        return "n/a"
    arr = np.array(values) * 1000
    return f"{np.percentile(arr, 50):.0f} / {np.percentile(arr, 99):.0f} / {arr.max():.0f}"


def _ratio(fault: list[float], peer: list[float]) -> str:
    if not fault or not peer:
        return "n/a"
    parts = []
    for q in (50, 99, 100):
        f, p = np.percentile(fault, q), np.percentile(peer, q)
        parts.append(f"×{f / p:.1f}" if abs(p) >= 0.001 else "n/a")
    return " / ".join(parts)


def print_table(peer: Tally, faulty: Tally) -> None:
    """The side-by-side table: the run without faults (the peer) and the run with faults."""
    width = 44
    print(f"{'':<{width}} {peer.name:>22} {faulty.name:>22}")

    def line(label: str, a: object, b: object) -> None:
        print(f"{label:<{width}} {a!s:>22} {b!s:>22}")

    line("airings planned", peer.planned, faulty.planned)
    for kind in ORDER:
        goal = " (goal 0)" if kind in ("aired twice", "logged twice", "unaccounted") else ""
        line(kind + goal, peer.counts[kind], faulty.counts[kind])
    line("  completed rows heard cut short", peer.incomplete_completed, faulty.incomplete_completed)
    line("programmes on air together, per log (goal 0)", peer.overlaps, faulty.overlaps)
    line("missed 'not running' while it ran", peer.false_down, faulty.false_down)
    line("unqueued by the other process (not planned)", peer.unqueued, faulty.unqueued)
    line("  of them aired or logged anyway", len(peer.unqueued_aired), len(faulty.unqueued_aired))
    line("codes heard that no airing carries", peer.strays, faulty.strays)
    line("start error at sink, ms p50/p99/max", stats_ms(peer.sink_errors_s), stats_ms(faulty.sink_errors_s))
    line("  (n)", len(peer.sink_errors_s), len(faulty.sink_errors_s))
    line(
        "start error logged, ms p50/p99/max", stats_ms(peer.logged_errors_s), stats_ms(faulty.logged_errors_s)
    )
    ratio = _ratio(faulty.sink_errors_s, peer.sink_errors_s)
    print(f"{'start error at sink, faults / no faults':<{width}} {ratio:>45}")
    print("off-air style verdicts (what an ear on the output would say):")
    for label, key in (("rows logged as aired", "aired"), ("rows logged as not aired", "unaired")):
        for verdict in ("heard", "silent", "not heard"):
            if key == "unaired" and verdict == "not heard":
                continue
            a = (peer.verdict_aired if key == "aired" else peer.verdict_unaired)[verdict]
            b = (faulty.verdict_aired if key == "aired" else faulty.verdict_unaired)[verdict]
            line(f"  {label}: {verdict}", a, b)
