"""Programmes: what a session will sound like (tune, ident, items, closing), built ahead of air."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.audio.assemble import ProgrammeLayout, assemble
from broadcaster.audio.ffmpeg import probe
from broadcaster.domain import Priority
from broadcaster.files import file_sha256
from broadcaster.playout.asrun import ItemSpan
from broadcaster.services import media
from broadcaster.services.queue import session_airings
from broadcaster.speech.render import Renderer
from broadcaster.store.models import AiringRow, BulletinRow, RenderRow, RevisionRow, StationRow


@dataclass(frozen=True)
class FrameSettings:
    """The parts around the items: tune, ident and closing words, gaps and repeats."""

    signature: Path | None
    ident_text: str
    closing_text: str
    gap_s: float
    repeat: int


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
    path, sha, engine, voice, duration, lufs, peak = media.render_spoken(spoken, renderer, settings)
    row = RenderRow(
        revision_id=None,
        kind=kind,
        path=str(path),
        sha256=sha,
        duration_s=duration,
        engine=engine,
        voice=voice,
        spoken_sha256=spoken_sha,
        integrated_lufs=lufs,
        true_peak_dbtp=peak,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def build(
    session: Session,
    station: StationRow,
    planned_start: datetime,
    *,
    frame: FrameSettings,
    speak_ident: str,
    speak_closing: str,
    renderer: Renderer,
    settings: media.MediaSettings,
    now: datetime,
    airings: list[AiringRow] | None = None,
) -> BuiltProgramme | None:
    """Render what is missing and assemble the session's programme; None when nothing is queued."""
    airings = airings if airings is not None else session_airings(session, station.id, planned_start)
    if not airings:
        return None
    renders: list[tuple[AiringRow, RevisionRow, BulletinRow, RenderRow]] = []
    for airing in airings:
        rev = session.get_one(RevisionRow, airing.revision_id)
        bulletin = session.get_one(BulletinRow, airing.bulletin_id)
        renders.append(
            (airing, rev, bulletin, media.ensure_render(session, rev, renderer, settings, now=now))
        )
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
    spans = []
    for index, (airing, rev, bulletin, render) in enumerate(renders):
        item_spans = [(p.start_s, p.end_s) for p in built.parts if p.item_index == index]
        spans.append(
            ItemSpan(
                spans=tuple(item_spans),
                airing_id=airing.id,
                bulletin_id=bulletin.id,
                revision_id=rev.id,
                revision_number=rev.number,
                campaign_code=bulletin.campaign.code,
                title=bulletin.title,
                sha256=render.sha256,
                priority=Priority(airing.priority),
                queued_by=airing.queued_by,
                approved_by=rev.approved_by,
            )
        )
    return BuiltProgramme(
        station_id=station.id,
        session_code=airings[0].session_code,
        planned_start=planned_start,
        path=built.path,
        sha256=file_sha256(built.path),
        duration_s=probe(built.path).duration_s,
        items=tuple(spans),
    )


def unbuilt_items(session: Session, airings: list[AiringRow]) -> list[ItemSpan]:
    """Item descriptions for airings that never got to air (spans from their renders where known)."""
    out = []
    for airing in airings:
        rev = session.get_one(RevisionRow, airing.revision_id)
        bulletin = session.get_one(BulletinRow, airing.bulletin_id)
        render = media.current_render(session, rev)
        length = render.duration_s if render else 0.0
        out.append(
            ItemSpan(
                spans=((0.0, length),),
                airing_id=airing.id,
                bulletin_id=bulletin.id,
                revision_id=rev.id,
                revision_number=rev.number,
                campaign_code=bulletin.campaign.code,
                title=bulletin.title,
                sha256=render.sha256 if render else None,
                priority=Priority(airing.priority),
                queued_by=airing.queued_by,
                approved_by=rev.approved_by,
            )
        )
    return out
