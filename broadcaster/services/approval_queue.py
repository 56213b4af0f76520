"""The leader's approval queue: each submitted revision with its text, the spoken text with its rewrites
marked, and the audio that will air, rendered on view if it has none yet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from broadcaster.domain import BulletinStatus
from broadcaster.errors import BroadcasterError
from broadcaster.services import bulletins, media
from broadcaster.services.bulletin_text import Explained, Piece, explain
from broadcaster.services.bulletin_views import (
    APPROVERS,
    REVIEWERS,
    AudioView,
    RevisionView,
    full_names,
    holds,
    revision_views,
)
from broadcaster.services.users import require_role
from broadcaster.store.models import AuditRow, BulletinRow

if TYPE_CHECKING:
    from broadcaster.speech.normalize import Normalizer
    from broadcaster.speech.render import Renderer


@dataclass(frozen=True)
class Pending:
    """A submitted revision waiting for the leader: what it says, what will be heard, and its audio."""

    bulletin_id: int
    title: str
    campaign_title: str
    agency: str
    author: str
    submitted_at: datetime
    revision: RevisionView
    explained: Explained
    audio: AudioView | None
    audio_error: str = ""


@dataclass(frozen=True)
class Queue:
    """The approval page: every submitted revision, and whether the reader may decide."""

    items: list[Pending]
    may_approve: bool


def _submitted_at(session: Session, bulletin_id: int, fallback: datetime) -> datetime:
    q = (
        select(func.max(AuditRow.at))
        .where(AuditRow.object_type == "bulletin", AuditRow.object_id == str(bulletin_id))
        .where(AuditRow.action == "bulletin.submit")
    )
    return session.scalar(q) or fallback


def approval_queue(
    session: Session,
    station_id: int,
    *,
    actor: str | None,
    normalizer: Normalizer,
    renderer: Renderer,
    settings: media.MediaSettings,
    now: datetime,
) -> Queue:
    """Submitted bulletins, oldest first, each rendered now if needed so the leader can listen to it."""
    user = require_role(session, actor, *REVIEWERS)
    people = full_names(session)
    q = (
        select(BulletinRow)
        .where(BulletinRow.station_id == station_id, BulletinRow.status == BulletinStatus.SUBMITTED.value)
        .options(selectinload(BulletinRow.revisions), selectinload(BulletinRow.campaign))
        .order_by(BulletinRow.id)
    )
    items = []
    for row in list(session.scalars(q)):
        latest_row = bulletins.latest_revision(row)
        latest = revision_views(list(row.revisions), people)[-1]
        audio, error = None, ""
        try:
            with session.begin_nested():
                render = media.ensure_render(session, latest_row, renderer, settings, now=now)
            audio = AudioView(render.duration_s, render.engine, render.kind, True)
        except BroadcasterError as exc:
            error = exc.one_line()
        explained = Explained([Piece(latest.spoken_text)], [])
        if not latest.recording:
            explained = explain(latest.text, latest.spoken_text, normalizer)
        items.append(
            Pending(
                bulletin_id=row.id,
                title=row.title,
                campaign_title=row.campaign.title,
                agency=row.agency,
                author=latest.author,
                submitted_at=_submitted_at(session, row.id, latest.created_at),
                revision=latest,
                explained=explained,
                audio=audio,
                audio_error=error,
            )
        )
    items.sort(key=lambda p: p.submitted_at)
    return Queue(items, holds(user, APPROVERS))
