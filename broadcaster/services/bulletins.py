"""Bulletin life cycle: write, edit, submit, approve exactly what will be heard, reject, retire."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.domain import BulletinSpec, BulletinStatus, Role
from broadcaster.errors import InputError, InvalidStateError, NotFoundError
from broadcaster.services import audit
from broadcaster.services.media import Recording, add_recording_render
from broadcaster.services.users import require_role
from broadcaster.store.models import AsRunRow, BulletinRow, CampaignRow, RevisionRow

Speak = Callable[[str], str]

STATUS_LABELS = {
    BulletinStatus.DRAFT: "bản nháp",
    BulletinStatus.SUBMITTED: "chờ duyệt",
    BulletinStatus.APPROVED: "đã duyệt",
    BulletinStatus.REJECTED: "bị trả lại",
    BulletinStatus.RETIRED: "ngừng phát",
}


def spoken_hash(spoken: str) -> str:
    """sha256 of the spoken text (what the approver approves)."""
    return hashlib.sha256(spoken.encode("utf-8")).hexdigest()


def get(session: Session, bulletin_id: int) -> BulletinRow:
    """A bulletin by id, or a clear error."""
    row = session.get(BulletinRow, bulletin_id)
    if row is None:
        raise NotFoundError(f"Không có bản tin số {bulletin_id}.", "Xem danh sách: broadcaster bulletin list")
    return row


def latest_revision(row: BulletinRow) -> RevisionRow:
    """The newest revision of a bulletin."""
    return row.revisions[-1]


def approved_revision(row: BulletinRow) -> RevisionRow:
    """The revision that may air: the bulletin must be approved and its latest revision approved."""
    rev = latest_revision(row)
    if row.status != BulletinStatus.APPROVED or rev.approval != "approved":
        label = STATUS_LABELS[BulletinStatus(row.status)]
        raise InvalidStateError(
            f"Bản tin {row.id} đang ở trạng thái '{label}', chưa được duyệt để phát.",
            "Lãnh đạo duyệt trước: broadcaster bulletin approve " + str(row.id),
        )
    return rev


def _campaign(session: Session, station_id: int, code: str) -> CampaignRow:
    row = session.scalar(
        select(CampaignRow).where(CampaignRow.station_id == station_id, CampaignRow.code == code)
    )
    if row is None:
        codes = ", ".join(
            session.scalars(select(CampaignRow.code).where(CampaignRow.station_id == station_id))
        )
        raise NotFoundError(
            f"Không có chiến dịch '{code}'.", f"Các chiến dịch hiện có: {codes or '(chưa có)'}."
        )
    return row


def _new_revision(
    session: Session,
    row: BulletinRow,
    text: str,
    *,
    author: str,
    now: datetime,
    speak: Speak,
    recording: Recording | None = None,
) -> RevisionRow:
    # A recording is heard as recorded: its description is not spoken, and approval covers the audio's hash.
    spoken = text.strip() if recording else (speak(text) if text else "")
    number = (row.revisions[-1].number + 1) if row.revisions else 1
    rev = RevisionRow(
        bulletin_id=row.id,
        number=number,
        text=text,
        spoken_text=spoken,
        spoken_sha256=recording.sha256 if recording else spoken_hash(spoken),
        author=author,
        created_at=now,
        source_audio=str(recording.path) if recording else None,
    )
    session.add(rev)
    session.flush()
    if recording is not None:
        add_recording_render(session, rev, recording, now=now)
    session.refresh(row, ["revisions"])
    return rev


def add(
    session: Session,
    *,
    station_id: int,
    campaign_code: str,
    title: str,
    agency: str,
    text: str,
    actor: str | None,
    now: datetime,
    speak: Speak,
    recording: Recording | None = None,
) -> BulletinRow:
    """An officer writes a new bulletin (a draft with revision 1); `recording`: an operator recording."""
    user = require_role(session, actor, Role.OFFICER)
    if not title.strip():
        raise InputError("Bản tin cần có tiêu đề.", 'Thêm --title "...".')
    campaign = _campaign(session, station_id, campaign_code)
    row = BulletinRow(
        station_id=station_id,
        campaign_id=campaign.id,
        title=title.strip(),
        agency=agency.strip(),
        status=BulletinStatus.DRAFT.value,
        created_by=user.name,
        created_at=now,
    )
    session.add(row)
    session.flush()
    rev = _new_revision(session, row, text, author=user.name, now=now, speak=speak, recording=recording)
    extra = {"recording_sha256": recording.sha256} if recording else {}
    audit.record(
        session,
        actor=user.name,
        action="bulletin.add",
        object_type="bulletin",
        object_id=row.id,
        now=now,
        revision=rev.number,
        campaign=campaign_code,
        **extra,
    )
    return row


def edit(
    session: Session, bulletin_id: int, text: str, *, actor: str | None, now: datetime, speak: Speak
) -> RevisionRow:
    """A new revision; an approved bulletin that is edited needs approval again."""
    user = require_role(session, actor, Role.OFFICER)
    row = get(session, bulletin_id)
    if row.status == BulletinStatus.RETIRED:
        raise InvalidStateError(
            f"Bản tin {row.id} đã ngừng phát.", "Viết bản tin mới thay vì sửa bản đã ngừng."
        )
    if latest_revision(row).text == text:
        raise InputError("Nội dung không thay đổi.", "Sửa nội dung rồi lưu lại.")
    rev = _new_revision(session, row, text, author=user.name, now=now, speak=speak)
    was = row.status
    row.status = BulletinStatus.DRAFT.value
    audit.record(
        session,
        actor=user.name,
        action="bulletin.edit",
        object_type="bulletin",
        object_id=row.id,
        now=now,
        revision=rev.number,
        previous_status=was,
    )
    return rev


def submit(session: Session, bulletin_id: int, *, actor: str | None, now: datetime) -> BulletinRow:
    """The officer sends the latest revision for approval."""
    user = require_role(session, actor, Role.OFFICER)
    row = get(session, bulletin_id)
    if row.status not in (BulletinStatus.DRAFT, BulletinStatus.REJECTED):
        raise InvalidStateError(
            f"Bản tin {row.id} đang '{STATUS_LABELS[BulletinStatus(row.status)]}', không gửi duyệt được.",
            "Chỉ gửi duyệt bản nháp hoặc bản bị trả lại.",
        )
    row.status = BulletinStatus.SUBMITTED.value
    audit.record(
        session,
        actor=user.name,
        action="bulletin.submit",
        object_type="bulletin",
        object_id=row.id,
        now=now,
        revision=latest_revision(row).number,
    )
    return row


def approve(
    session: Session, bulletin_id: int, *, actor: str | None, now: datetime, seen_sha256: str | None = None
) -> RevisionRow:
    """A leader approves the latest revision; the approval records the hash of the spoken text approved."""
    user = require_role(session, actor, Role.LEADER)
    row = get(session, bulletin_id)
    if row.status != BulletinStatus.SUBMITTED:
        raise InvalidStateError(
            f"Bản tin {row.id} đang '{STATUS_LABELS[BulletinStatus(row.status)]}', không có gì để duyệt.",
            "Công chức gửi duyệt trước: broadcaster bulletin submit " + str(row.id),
        )
    rev = latest_revision(row)
    if seen_sha256 is not None and not rev.spoken_sha256.startswith(seen_sha256.lower()):
        raise InvalidStateError(
            "Lời đọc đã thay đổi so với bản lãnh đạo đã xem.",
            "Xem lại: broadcaster bulletin show " + str(row.id),
        )
    _mark_approved(session, row, rev, user.name, now)
    return rev


def _mark_approved(
    session: Session, row: BulletinRow, rev: RevisionRow, approver: str, now: datetime, **detail: str
) -> None:
    """Approve `rev` once (it never changes afterwards), make the bulletin airable, and audit it."""
    rev.approval = "approved"
    rev.approved_by = approver
    rev.approved_at = now
    rev.approved_sha256 = rev.spoken_sha256
    row.status = BulletinStatus.APPROVED.value
    audit.record(
        session,
        actor=approver,
        action="bulletin.approve",
        object_type="bulletin",
        object_id=row.id,
        now=now,
        revision=rev.number,
        spoken_sha256=rev.spoken_sha256,
        **detail,
    )


def reject(
    session: Session, bulletin_id: int, reason: str, *, actor: str | None, now: datetime
) -> BulletinRow:
    """A leader sends a submitted bulletin back with a reason."""
    user = require_role(session, actor, Role.LEADER)
    if not reason.strip():
        raise InputError("Cần ghi lý do trả lại.", 'Thêm --reason "...".')
    row = get(session, bulletin_id)
    if row.status != BulletinStatus.SUBMITTED:
        raise InvalidStateError(
            f"Bản tin {row.id} không ở trạng thái chờ duyệt.", "Chỉ trả lại bản đang chờ duyệt."
        )
    rev = latest_revision(row)
    rev.approval, rev.reject_reason = "rejected", reason.strip()
    row.status = BulletinStatus.REJECTED.value
    audit.record(
        session,
        actor=user.name,
        action="bulletin.reject",
        object_type="bulletin",
        object_id=row.id,
        now=now,
        revision=rev.number,
        reason=reason.strip(),
    )
    return row


def retire(session: Session, bulletin_id: int, *, actor: str | None, now: datetime) -> BulletinRow:
    """Stop a bulletin from being queued again (a leader or officer decision)."""
    user = require_role(session, actor, Role.LEADER, Role.OFFICER)
    row = get(session, bulletin_id)
    row.status = BulletinStatus.RETIRED.value
    audit.record(
        session, actor=user.name, action="bulletin.retire", object_type="bulletin", object_id=row.id, now=now
    )
    return row


def list_bulletins(
    session: Session, station_id: int, campaign: str | None = None, status: str | None = None
) -> list[BulletinRow]:
    """Bulletins of a station, optionally by campaign code and status."""
    q = select(BulletinRow).where(BulletinRow.station_id == station_id).order_by(BulletinRow.id)
    if campaign:
        q = q.join(CampaignRow).where(CampaignRow.code == campaign)
    if status:
        q = q.where(BulletinRow.status == status)
    return list(session.scalars(q))


def recent_airings(session: Session, bulletin_id: int, limit: int = 20) -> list[AsRunRow]:
    """The bulletin's newest as-run rows (what actually aired, or failed to), newest first."""
    q = select(AsRunRow).where(AsRunRow.bulletin_id == bulletin_id).order_by(AsRunRow.id.desc()).limit(limit)
    return list(session.scalars(q))


def upsert_from_spec(
    session: Session,
    station_id: int,
    campaign_id: int,
    spec: BulletinSpec,
    *,
    actor: str,
    now: datetime,
    speak: Speak,
) -> str | None:
    """Import one bulletin from a schedule file by key; returns 'created', 'updated' or None."""
    row = session.scalar(
        select(BulletinRow).where(BulletinRow.station_id == station_id, BulletinRow.key == spec.key)
    )
    result: str | None = None
    if row is None:
        row = BulletinRow(
            station_id=station_id,
            campaign_id=campaign_id,
            key=spec.key,
            title=spec.title,
            agency=spec.agency,
            status=BulletinStatus.DRAFT.value,
            created_by=actor,
            created_at=now,
        )
        session.add(row)
        session.flush()
        _new_revision(session, row, spec.text, author=actor, now=now, speak=speak)
        result = "created"
    else:
        if (row.title, row.agency, row.campaign_id) != (spec.title, spec.agency, campaign_id):
            row.title, row.agency, row.campaign_id = spec.title, spec.agency, campaign_id
            result = "updated"
        if latest_revision(row).text != spec.text:
            _new_revision(session, row, spec.text, author=actor, now=now, speak=speak)
            row.status = BulletinStatus.DRAFT.value
            result = "updated"
    rev = latest_revision(row)
    if spec.approved_by and rev.approval != "approved":
        _mark_approved(session, row, rev, spec.approved_by, now, via="schedule import")
        result = result or "updated"
    return result
