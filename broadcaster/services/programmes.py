"""Programmes: what a session will sound like (tune, ident, items, closing), built ahead of air."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import planning
from broadcaster.audio.assemble import ProgrammeLayout, assemble
from broadcaster.audio.ffmpeg import probe
from broadcaster.domain import Priority, Station
from broadcaster.errors import PlanningError
from broadcaster.files import file_sha256
from broadcaster.planning import ProgrammeShape
from broadcaster.playout.asrun import ItemSpan
from broadcaster.services import media
from broadcaster.services.queue import DurationOf, Lengths, session_airings
from broadcaster.speech.render import Renderer
from broadcaster.store.models import AiringRow, BulletinRow, RenderRow, RevisionRow, StationRow

# An emergency airs at once: its programme is the bulletin's air audio as it is, with no tune, ident or
# closing words to assemble, so it can start within a second of the click (the queue counts it so).
EMERGENCY_SHAPE = ProgrammeShape()


@dataclass(frozen=True)
class FrameSettings:
    """The parts around the items: tune, ident and closing words, gaps and repeats."""

    signature: Path | None
    ident_text: str
    closing_text: str
    gap_s: float
    repeat: int


@dataclass(frozen=True)
class ProgrammeParts:
    """What measuring and building a station's programmes needs from the composition root (the App builds it).

    `frame` gives a station's tune, ident and closing words; `speak` turns words into what the
    loudspeakers say.
    """

    renderer: Renderer
    media: media.MediaSettings
    frame: Callable[[StationRow], FrameSettings]
    speak: Callable[[str], str]


def spoken_frame(speak: Callable[[str], str], text: str) -> str:
    """Spoken ident or closing words; empty when the station configured none (that part is left out)."""
    return speak(text) if text.strip() else ""


def programme_shape(
    session: Session, station: StationRow, parts: ProgrammeParts, *, now: datetime
) -> ProgrammeShape:
    """Durations of the frame around a station's items (renders the ident and closing words if needed)."""
    frame = parts.frame(station)
    ident, closing = (
        frame_render(session, kind, spoken_frame(parts.speak, text), parts.renderer, parts.media, now=now)
        for kind, text in (("ident", frame.ident_text), ("closing", frame.closing_text))
    )
    return ProgrammeShape(
        signature_s=probe(frame.signature).duration_s if frame.signature else 0.0,
        ident_s=ident.duration_s if ident else 0.0,
        closing_s=closing.duration_s if closing else 0.0,
        gap_s=frame.gap_s,
        repeat=frame.repeat,
    )


def revision_duration(
    session: Session, revision: RevisionRow, parts: ProgrammeParts, *, now: datetime
) -> float:
    """Seconds of a revision's air audio, rendering it first if needed."""
    return media.ensure_render(session, revision, parts.renderer, parts.media, now=now).duration_s


def durations(session: Session, parts: ProgrammeParts, *, now: datetime) -> DurationOf:
    """`revision_duration` for any revision, in this session."""
    return lambda revision: revision_duration(session, revision, parts, now=now)


def lengths(session: Session, station: StationRow, parts: ProgrammeParts, *, now: datetime) -> Lengths:
    """The station's programme shape and its revisions' durations, as the queue checks capacity with."""
    return Lengths(programme_shape(session, station, parts, now=now), durations(session, parts, now=now))


def hours_rule(station: Station, *, any_hour: bool = False) -> Callable[[datetime, float, Priority], bool]:
    """The daemon's check before air: may a programme of `length_s` seconds start then (any_hour: yes)."""

    def allowed(start: datetime, length_s: float, priority: Priority) -> bool:
        if any_hour:
            return True
        try:
            planning.check_allowed(station, start, timedelta(seconds=length_s), priority)
        except PlanningError:
            return False
        return True

    return allowed


@dataclass(frozen=True)
class BuiltProgramme:
    """An assembled programme file and where each item sits in it."""

    station_id: int
    session_code: str
    planned_start: datetime
    path: Path
    sha256: str
    duration_s: float
    items: tuple[ItemSpan, ...]


def frame_render(
    session: Session,
    kind: str,
    spoken: str,
    renderer: Renderer,
    settings: media.MediaSettings,
    *,
    now: datetime,
) -> RenderRow | None:
    """The ident or closing words rendered once and reused while intact."""
    if not spoken.strip():
        return None
    spoken_sha = hashlib.sha256(spoken.encode("utf-8")).hexdigest()
    row = session.scalar(
        select(RenderRow)
        .where(RenderRow.kind == kind, RenderRow.spoken_sha256 == spoken_sha, RenderRow.revision_id.is_(None))
        .order_by(RenderRow.id.desc())
        .limit(1)
    )
    if row is not None and media.is_intact(row):
        return row
    made = media.render_spoken(spoken, renderer, settings)
    return media.add_speech_render(
        session, made, revision_id=None, kind=kind, spoken_sha256=spoken_sha, now=now
    )


def build(
    session: Session,
    station: StationRow,
    planned_start: datetime,
    parts: ProgrammeParts,
    *,
    now: datetime,
    airings: list[AiringRow] | None = None,
) -> BuiltProgramme | None:
    """Render what is missing and assemble the session's programme; None when nothing is queued."""
    airings = airings if airings is not None else session_airings(session, station.id, planned_start)
    if not airings:
        return None
    renderer, settings, frame = parts.renderer, parts.media, parts.frame(station)
    speak_ident = spoken_frame(parts.speak, frame.ident_text)
    speak_closing = spoken_frame(parts.speak, frame.closing_text)
    renders: list[tuple[AiringRow, RevisionRow, BulletinRow, RenderRow]] = []
    for airing in airings:
        rev = session.get_one(RevisionRow, airing.revision_id)
        bulletin = session.get_one(BulletinRow, airing.bulletin_id)
        renders.append(
            (airing, rev, bulletin, media.ensure_render(session, rev, renderer, settings, now=now))
        )
    if all(Priority(a.priority) is Priority.EMERGENCY for a in airings):
        if len(renders) == 1:
            return _as_is(station, planned_start, *renders[0])
        frame = FrameSettings(None, "", "", frame.gap_s, 1)
        speak_ident = speak_closing = ""
    ident = frame_render(session, "ident", speak_ident, renderer, settings, now=now)
    closing = frame_render(session, "closing", speak_closing, renderer, settings, now=now)
    layout = ProgrammeLayout(
        signature=frame.signature,
        ident=Path(ident.path) if ident else None,
        closing=Path(closing.path) if closing else None,
        gap_s=frame.gap_s,
        repeat=frame.repeat,
    )
    key = hashlib.sha256(
        "|".join(
            [str(layout), *(r.sha256 for *_, r in renders), str(settings.target), str(settings.fmt)]
        ).encode()
    ).hexdigest()[:16]
    stamp = planned_start.strftime("%Y%m%dT%H%M%SZ")
    dst = settings.media_dir / "programmes" / f"{station.code}-{stamp}-{key}{settings.fmt.extension}"
    dst.parent.mkdir(parents=True, exist_ok=True)
    built = assemble(layout, [Path(r.path) for *_, r in renders], dst, settings.target, settings.fmt)
    spans = [
        item_span(
            airing,
            rev,
            bulletin,
            render.sha256,
            [(p.start_s, p.end_s) for p in built.parts if p.item_index == i],
        )
        for i, (airing, rev, bulletin, render) in enumerate(renders)
    ]
    return BuiltProgramme(
        station_id=station.id,
        session_code=airings[0].session_code,
        planned_start=planned_start,
        path=built.path,
        sha256=file_sha256(built.path),
        duration_s=probe(built.path).duration_s,
        items=tuple(spans),
    )


def item_span(
    airing: AiringRow,
    rev: RevisionRow,
    bulletin: BulletinRow,
    sha256: str | None,
    spans: Sequence[tuple[float, float]],
) -> ItemSpan:
    """What the as-run log records about one queued item, and where its readings sit in the programme."""
    return ItemSpan(
        spans=tuple(spans),
        airing_id=airing.id,
        bulletin_id=bulletin.id,
        revision_id=rev.id,
        revision_number=rev.number,
        campaign_code=bulletin.campaign.code,
        title=bulletin.title,
        sha256=sha256,
        priority=Priority(airing.priority),
        queued_by=airing.queued_by,
        approved_by=rev.approved_by,
    )


def _as_is(
    station: StationRow,
    planned_start: datetime,
    airing: AiringRow,
    rev: RevisionRow,
    bulletin: BulletinRow,
    render: RenderRow,
) -> BuiltProgramme:
    """A one-item emergency: the bulletin's normalised air audio is the programme (nothing to build)."""
    return BuiltProgramme(
        station_id=station.id,
        session_code=airing.session_code,
        planned_start=planned_start,
        path=Path(render.path),
        sha256=render.sha256,
        duration_s=render.duration_s,
        items=(item_span(airing, rev, bulletin, render.sha256, [(0.0, render.duration_s)]),),
    )


def unbuilt_items(session: Session, airings: list[AiringRow]) -> list[ItemSpan]:
    """Item descriptions for airings that never got to air (spans from their renders where known)."""
    out = []
    for airing in airings:
        rev = session.get_one(RevisionRow, airing.revision_id)
        bulletin = session.get_one(BulletinRow, airing.bulletin_id)
        render = media.current_render(session, rev)
        length = render.duration_s if render else 0.0
        out.append(item_span(airing, rev, bulletin, render.sha256 if render else None, [(0.0, length)]))
    return out
