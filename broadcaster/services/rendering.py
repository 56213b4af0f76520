"""The batch render job: air audio for every approved bulletin that lacks it, one transaction per bulletin.

`speech render` and `broadcaster demo` both run it. Each bulletin is rendered in its own transaction,
so one failure (a bad recording, every engine down) keeps the others' audio and is reported with the
rest at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext, suppress
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from broadcaster.clock import Clock
from broadcaster.domain import BulletinStatus
from broadcaster.errors import BroadcasterError
from broadcaster.services import bulletins, media
from broadcaster.services.stations import find_station
from broadcaster.speech.render import Renderer

Transaction = Callable[[], AbstractContextManager[Session]]


@dataclass(frozen=True)
class PendingRender:
    """One bulletin to render: its approved revision, its words, and whether its audio is on the fallback."""

    bulletin_id: int
    revision_id: int
    spoken_text: str | None  # None for a recording: nothing to speak
    was_fallback: bool
    voice: str = ""  # the voice and speed the revision is read with
    speed: float = 1.0


# How the caller follows the batch: given the items, a context yielding them (click.progressbar fits).
Progress = Callable[[Sequence[PendingRender]], AbstractContextManager[Iterable[PendingRender]]]


@dataclass
class RenderBatch:
    """What one run did: approved bulletins seen, those it had to render, and how each went."""

    approved: int = 0
    pending: int = 0
    rendered: int = 0
    upgraded: int = 0
    on_fallback: list[int] = field(default_factory=list)
    failures: list[tuple[int, str]] = field(default_factory=list)


def pending_renders(
    session: Session, station_code: str | None, first_engine: str, *, upgrade: bool
) -> tuple[int, list[PendingRender]]:
    """How many bulletins are approved, and those lacking intact audio (with upgrade: or on the fallback)."""
    station = find_station(session, station_code)
    approved = bulletins.list_bulletins(session, station.id, status=BulletinStatus.APPROVED.value)
    todo: list[PendingRender] = []
    for b in approved:
        rev = bulletins.approved_revision(b)
        if media.needs_render(session, rev, first_engine, upgrade=upgrade):
            existing = media.current_render(session, rev)
            was_fallback = (
                existing is not None
                and media.is_intact(existing)
                and media.revision_on_fallback(existing, rev, first_engine)
            )
            spoken = None if rev.source_audio else rev.spoken_text
            todo.append(PendingRender(b.id, rev.id, spoken, was_fallback, rev.voice, rev.speed))
    return len(approved), todo


def render_pending(
    tx: Transaction,
    station_code: str | None,
    renderer: Renderer,
    settings: media.MediaSettings,
    clock: Clock,
    *,
    upgrade: bool = False,
    progress: Progress = nullcontext,
    workers: int = 1,
) -> RenderBatch:
    """Render every approved bulletin lacking intact audio (and, with upgrade, those on the fallback voice).

    With `workers` > 1 the words are first spoken and normalised in parallel (no database), so the
    transactions that follow only store what is already made.
    """
    first = renderer.first_engine
    with tx() as session:
        approved, todo = pending_renders(session, station_code, first, upgrade=upgrade)
    batch = RenderBatch(approved=approved, pending=len(todo))
    if workers > 1:
        spoken = [item for item in todo if item.spoken_text]
        texts = [item.spoken_text or "" for item in spoken]
        readings = [(item.voice, item.speed) for item in spoken]
        with suppress(BroadcasterError):  # each item tries again in its own transaction and reports there
            media.prerender(texts, renderer, settings, workers=workers, upgrade=upgrade, readings=readings)
    with progress(todo) as items:
        for item in items:
            _render_one(tx, item, renderer, settings, clock, upgrade, batch)
    return batch


def _render_one(
    tx: Transaction,
    item: PendingRender,
    renderer: Renderer,
    settings: media.MediaSettings,
    clock: Clock,
    upgrade: bool,
    batch: RenderBatch,
) -> None:
    """One bulletin in its own transaction, so one failure keeps the others' audio."""
    first = renderer.first_engine
    try:
        with tx() as session:
            row = media.ensure_revision_render(
                session, item.revision_id, renderer, settings, now=clock.now(), upgrade=upgrade
            )
            fallback = media.on_fallback(row, first, item.voice)
    except BroadcasterError as exc:
        batch.failures.append((item.bulletin_id, exc.one_line()))
        return
    if not item.was_fallback:
        batch.rendered += 1
    if fallback:
        batch.on_fallback.append(item.bulletin_id)
    elif item.was_fallback:
        batch.upgraded += 1
