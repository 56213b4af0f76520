"""What the console's bulletin pages read: the filtered list, one bulletin with its revisions and their
differences, and the editor's choices (the approval queue is in `approval_queue`).

Each read checks who asks (a signed-in user, and for the editor the role that writes) and says which
actions the user may take, so pages show only the buttons the services allow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from broadcaster import labels
from broadcaster.domain import BulletinStatus, Role
from broadcaster.errors import InputError, NotFoundError
from broadcaster.services import bulletins, media
from broadcaster.services.bulletin_text import DiffPiece, Explained, Piece, explain, word_diff
from broadcaster.services.stations import session_names
from broadcaster.services.users import get_user, require_role
from broadcaster.services.withdrawals import future_airings
from broadcaster.store.models import AuditRow, BulletinRow, CampaignRow, RevisionRow, UserRow

if TYPE_CHECKING:
    from broadcaster.speech.normalize import Normalizer
    from broadcaster.speech.voices import VoiceOffer

# Who does what, as the services check it (admin holds every role); here only to choose the buttons.
WRITERS = (Role.OFFICER,)
APPROVERS = (Role.LEADER,)
RETIRERS = (Role.LEADER, Role.OFFICER)
REVIEWERS = (Role.LEADER, Role.INSPECTOR)  # who sees the approval queue (the inspector only reads)


def holds(user: UserRow, roles: tuple[Role, ...]) -> bool:
    """Whether the user holds one of the roles (admin holds all)."""
    return user.role == Role.ADMIN or user.role in roles


@dataclass(frozen=True)
class Choice:
    """One option of a select: the value sent and the label read."""

    value: str
    label: str


@dataclass(frozen=True)
class ListItem:
    """One bulletin in the list."""

    id: int
    title: str
    campaign_title: str
    status: str
    author: str
    changed_at: datetime
    revision: int
    recording: bool


@dataclass(frozen=True)
class BulletinList:
    """The list page: the bulletins that pass the filters, and the filters' choices."""

    items: list[ListItem]
    campaigns: list[Choice]
    statuses: list[Choice]
    authors: list[Choice]
    may_write: bool


def full_names(session: Session) -> dict[str, str]:
    return {u.name: u.full_name or u.name for u in session.scalars(select(UserRow))}


def _changed(session: Session, ids: list[int]) -> dict[int, datetime]:
    """The time of each bulletin's newest audited change."""
    if not ids:
        return {}
    q = (
        select(AuditRow.object_id, func.max(AuditRow.at))
        .where(AuditRow.object_type == "bulletin", AuditRow.object_id.in_([str(i) for i in ids]))
        .group_by(AuditRow.object_id)
    )
    return {int(object_id): at for object_id, at in session.execute(q) if at is not None}


def bulletin_list(
    session: Session,
    station_id: int,
    *,
    actor: str | None,
    campaign: str = "",
    status: str = "",
    author: str = "",
) -> BulletinList:
    """The station's bulletins, newest change first, filtered by campaign code, status and author."""
    user = get_user(session, actor)
    campaigns = list(
        session.scalars(
            select(CampaignRow).where(CampaignRow.station_id == station_id).order_by(CampaignRow.title)
        )
    )
    if campaign and campaign not in {c.code for c in campaigns}:
        raise InputError("Không có chiến dịch này.", "Chọn một chiến dịch trong danh sách.", field="campaign")
    if status and status not in {s.value for s in BulletinStatus}:
        raise InputError("Không có trạng thái này.", "Chọn một trạng thái trong danh sách.", field="status")
    q = (
        select(BulletinRow)
        .where(BulletinRow.station_id == station_id)
        .options(selectinload(BulletinRow.revisions), selectinload(BulletinRow.campaign))
    )
    if campaign:
        q = q.join(CampaignRow).where(CampaignRow.code == campaign)
    if status:
        q = q.where(BulletinRow.status == status)
    if author:
        q = q.where(BulletinRow.created_by == author)
    rows = list(session.scalars(q))
    names = full_names(session)
    changed = _changed(session, [b.id for b in rows])
    items = [
        ListItem(
            id=b.id,
            title=b.title,
            campaign_title=b.campaign.title,
            status=b.status,
            author=names.get(b.created_by, b.created_by),
            changed_at=changed.get(b.id, b.created_at),
            revision=bulletins.latest_revision(b).number,
            recording=bool(bulletins.latest_revision(b).source_audio),
        )
        for b in rows
    ]
    items.sort(key=lambda i: (i.changed_at, i.id), reverse=True)
    writers = session.scalars(
        select(BulletinRow.created_by).where(BulletinRow.station_id == station_id).distinct()
    )
    return BulletinList(
        items=items,
        campaigns=[Choice(c.code, c.title) for c in campaigns],
        statuses=[Choice(s.value, labels.bulletin_status(s.value, capital=True)) for s in BulletinStatus],
        authors=sorted((Choice(n, names.get(n, n)) for n in writers), key=lambda c: c.label),
        may_write=holds(user, WRITERS),
    )


@dataclass(frozen=True)
class RevisionView:
    """One revision as the history shows it."""

    number: int
    author: str
    created_at: datetime
    text: str
    spoken_text: str
    spoken_sha256: str
    approval: str
    approved_by: str
    approved_at: datetime | None
    reject_reason: str
    recording: bool
    diff: list[DiffPiece] | None  # against the revision before it (None for the first)
    voice: str = ""  # how it is read: the voice id ("" the station's chain) and speed, with their labels
    speed: float = 1.0

    @property
    def voice_label(self) -> str:
        """ "Giọng nam miền Nam (espeak-ng)"."""
        return labels.voice(self.voice)

    @property
    def speed_label(self) -> str:
        """ "1,1×"."""
        return labels.speed(self.speed)


@dataclass(frozen=True)
class AiringView:
    """An airing of the bulletin: one that happened (as-run) or one still planned."""

    start: datetime | None
    session: str
    state: str  # outcome label for an aired one, priority label for a planned one
    seconds: float | None
    trigger: str
    revision: int | None
    who: str = ""


@dataclass(frozen=True)
class Actions:
    """What the reader may do with this bulletin now."""

    edit: bool
    submit: bool
    retire: bool
    approve: bool


@dataclass(frozen=True)
class AudioView:
    """The latest revision's stored air audio, if any."""

    duration_s: float
    engine: str
    kind: str
    intact: bool


@dataclass(frozen=True)
class BulletinDetail:
    """One bulletin's page."""

    id: int
    title: str
    agency: str
    campaign_title: str
    status: str
    created_by: str
    latest: RevisionView
    revisions: list[RevisionView]  # newest first
    explained: Explained
    audio: AudioView | None
    aired: list[AiringView]
    planned: list[AiringView]
    actions: Actions
    returned_by: str = ""  # who sent the latest revision back (its reason is on `latest`)


def find(session: Session, bulletin_id: int) -> BulletinRow:
    """A bulletin by id; the 404 page says where to look instead."""
    row = session.get(BulletinRow, bulletin_id)
    if row is None:
        raise NotFoundError(f"Không có bản tin số {bulletin_id}.", "Xem danh sách ở trang Bản tin.")
    return row


def revision_views(rows: list[RevisionRow], names: dict[str, str]) -> list[RevisionView]:
    out: list[RevisionView] = []
    previous: RevisionRow | None = None
    for r in rows:
        out.append(
            RevisionView(
                number=r.number,
                author=names.get(r.author, r.author),
                created_at=r.created_at,
                text=r.text,
                spoken_text=r.spoken_text,
                spoken_sha256=r.spoken_sha256,
                approval=r.approval,
                approved_by=names.get(r.approved_by or "", r.approved_by or ""),
                approved_at=r.approved_at,
                reject_reason=r.reject_reason or "",
                recording=bool(r.source_audio),
                diff=word_diff(previous.text, r.text) if previous is not None else None,
                voice=r.voice,
                speed=r.speed,
            )
        )
        previous = r
    return out


def _returned_by(session: Session, bulletin_id: int, names: dict[str, str]) -> str:
    q = (
        select(AuditRow.actor)
        .where(AuditRow.object_type == "bulletin", AuditRow.object_id == str(bulletin_id))
        .where(AuditRow.action == "bulletin.reject")
        .order_by(AuditRow.id.desc())
        .limit(1)
    )
    actor = session.scalar(q)
    return names.get(actor, actor) if actor else ""


def detail(
    session: Session, bulletin_id: int, *, actor: str | None, now: datetime, normalizer: Normalizer
) -> BulletinDetail:
    """One bulletin: text, spoken text, audio, status, airings and the revision history with diffs."""
    user = get_user(session, actor)
    row = find(session, bulletin_id)
    names = full_names(session)
    history = revision_views(list(row.revisions), names)
    latest_row = bulletins.latest_revision(row)
    latest = history[-1]
    render = media.current_render(session, latest_row)
    audio = (
        AudioView(render.duration_s, render.engine, render.kind, media.is_intact(render)) if render else None
    )
    sessions = session_names(session, row.station_id)
    aired = [
        AiringView(
            a.actual_start or a.planned_start,
            labels.session_name(a.session_code or "", sessions.get(a.session_code or "", "")),
            labels.outcome(a.outcome),
            a.played_ms / 1000,
            labels.trigger(a.trigger),
            a.revision_number,
        )
        for a in bulletins.recent_airings(session, row.id)
    ]
    revision_numbers = {r.id: r.number for r in row.revisions}
    planned = [
        AiringView(
            a.planned_start,
            labels.session_name(a.session_code, sessions.get(a.session_code, "")),
            labels.priority(a.priority),
            None,
            "",
            revision_numbers.get(a.revision_id),
            names.get(a.queued_by, a.queued_by),
        )
        for a in future_airings(session, row.id, now)
    ]
    status = BulletinStatus(row.status)
    live = status != BulletinStatus.RETIRED
    explained = Explained([Piece(latest.spoken_text)], [])
    if not latest.recording:
        explained = explain(latest.text, latest.spoken_text, normalizer)
    return BulletinDetail(
        id=row.id,
        title=row.title,
        agency=row.agency,
        campaign_title=row.campaign.title,
        status=row.status,
        created_by=names.get(row.created_by, row.created_by),
        latest=latest,
        revisions=list(reversed(history)),
        explained=explained,
        audio=audio,
        aired=aired,
        planned=planned,
        actions=Actions(
            edit=live and holds(user, WRITERS),
            submit=status in (BulletinStatus.DRAFT, BulletinStatus.REJECTED) and holds(user, WRITERS),
            retire=live and holds(user, RETIRERS),
            approve=status == BulletinStatus.SUBMITTED and holds(user, APPROVERS),
        ),
        returned_by=_returned_by(session, row.id, names) if latest.approval == "rejected" else "",
    )


@dataclass(frozen=True)
class Editor:
    """The editor's form: the campaigns to choose from and the bulletin's current values."""

    campaigns: list[Choice]
    bulletin_id: int | None = None
    title: str = ""
    campaign: str = ""
    agency: str = ""
    text: str = ""
    status: str = ""
    recording: bool = False
    voice: str = ""
    speed: str = "1"
    voices: list[Choice] = field(default_factory=list)


def _typed(speed: float) -> str:
    """A speed as the officer types it: "1,1" (the decimal comma)."""
    return f"{speed:g}".replace(".", ",")


def voice_choices(offer: VoiceOffer | None, current: str = "") -> list[Choice]:
    """The voice select's options: every offered voice, and a revision's own voice if no longer offered."""
    offered = [Choice(v.id, v.label) for v in offer.voices] if offer is not None else []
    if current not in {c.value for c in offered}:
        offered.append(Choice(current, labels.voice(current)))
    return offered


def editor(
    session: Session,
    station_id: int,
    *,
    actor: str | None,
    bulletin_id: int | None = None,
    offer: VoiceOffer | None = None,
) -> Editor:
    """The form to write a new bulletin or edit one (officers write; a retired one cannot be edited);
    the voice and speed are the bulletin's, or for a new one the station's defaults in `offer`."""
    require_role(session, actor, *WRITERS)
    campaigns = [
        Choice(c.code, c.title)
        for c in session.scalars(
            select(CampaignRow).where(CampaignRow.station_id == station_id).order_by(CampaignRow.title)
        )
    ]
    if bulletin_id is None:
        voice, speed = bulletins.choose_reading(offer, None, None)
        return Editor(campaigns, voice=voice, speed=_typed(speed), voices=voice_choices(offer, voice))
    row = find(session, bulletin_id)
    if row.status == BulletinStatus.RETIRED:
        from broadcaster.errors import InvalidStateError

        raise InvalidStateError(
            f"Bản tin {row.id} đã ngừng phát.", "Viết bản tin mới thay vì sửa bản đã ngừng."
        )
    latest = bulletins.latest_revision(row)
    keep = None if latest.source_audio else (latest.voice, latest.speed)
    voice, speed = bulletins.choose_reading(offer, None, None, keep)
    return Editor(
        campaigns,
        row.id,
        row.title,
        row.campaign.code,
        row.agency,
        latest.text,
        row.status,
        bool(latest.source_audio),
        voice,
        _typed(speed),
        voice_choices(offer, voice),
    )
