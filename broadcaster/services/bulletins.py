"""Bulletin life cycle: write, edit, submit, approve exactly what will be heard, reject, retire."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import labels
from broadcaster.domain import BulletinSpec, BulletinStatus, Role
from broadcaster.errors import InputError, InvalidStateError, NotFoundError
from broadcaster.services import audit
from broadcaster.services.media import Recording, add_recording_render
from broadcaster.services.users import require_role
from broadcaster.services.withdrawals import (
    REASON_EDITED,
    REASON_IMPORTED,
    REASON_RETIRED,
    Withdrawn,
    future_airings,
    withdraw_future_airings,
)
from broadcaster.speech.voices import NORMAL_SPEED, VoiceOffer, parse_speed
from broadcaster.store.models import AsRunRow, BulletinRow, CampaignRow, RevisionRow

Speak = Callable[[str], str]


@dataclass(frozen=True)
class Retired:
    """A retired bulletin and the future airings that left the plan with it."""

    bulletin: BulletinRow
    withdrawn: list[Withdrawn]


@dataclass(frozen=True)
class Edited:
    """The new revision and the future airings taken out (none when `kept` of them stayed)."""

    revision: RevisionRow
    withdrawn: list[Withdrawn]
    kept: int = 0


def spoken_hash(spoken: str, voice: str = "", speed: float = NORMAL_SPEED) -> str:
    """sha256 of what will be heard (what the approver approves): the spoken text, and the voice and
    speed it is read with when chosen (the station's chain at 1× hashes the text alone, as before)."""
    if not voice and speed == NORMAL_SPEED:
        return hashlib.sha256(spoken.encode("utf-8")).hexdigest()
    material = json.dumps([spoken, voice, round(speed, 2)], ensure_ascii=False)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


# How a revision is read: its voice id ("" the station's chain) and speed.
Reading = tuple[str, float]
STATION_READING: Reading = ("", NORMAL_SPEED)


def choose_reading(
    offer: VoiceOffer | None, voice: str | None, speed: str | float | None, keep: Reading | None = None
) -> Reading:
    """The voice and speed of a new revision: what was chosen (checked against the offer), else `keep`
    (the revision before), else the station's defaults; InputError for a voice or speed it cannot use."""
    given_voice = (voice or "").strip()
    given_speed = speed is not None and str(speed).strip() != ""
    if offer is None:
        if given_voice:
            raise InputError("Máy của đài chưa có danh sách giọng đọc.", "Bỏ chọn giọng đọc rồi lưu lại.")
        base = keep or STATION_READING
        return base[0], parse_speed(speed) if given_speed and speed is not None else base[1]
    if keep is not None and given_voice == keep[0]:
        given_voice = ""  # the voice it already has, even one this PC no longer offers
    chosen_voice, chosen_speed = offer.choose(given_voice or None, speed)
    if keep is not None:
        chosen_voice = chosen_voice if given_voice else keep[0]
        chosen_speed = chosen_speed if given_speed else keep[1]
    return chosen_voice, chosen_speed


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
        label = labels.bulletin_status(row.status)
        raise InvalidStateError(
            f"Bản tin {row.id} đang ở trạng thái '{label}', chưa được duyệt để phát.",
            "Lãnh đạo duyệt trước: broadcaster bulletin approve " + str(row.id),
        )
    return rev


def find_campaign(session: Session, station_id: int, code: str) -> CampaignRow:
    """A campaign of the station by code; an unknown code is an error that lists the valid ones."""
    row = session.scalar(
        select(CampaignRow).where(CampaignRow.station_id == station_id, CampaignRow.code == code)
    )
    if row is None:
        codes = ", ".join(
            session.scalars(
                select(CampaignRow.code)
                .where(CampaignRow.station_id == station_id)
                .order_by(CampaignRow.code)
            )
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
    reading: Reading = STATION_READING,
) -> RevisionRow:
    # A recording is heard as recorded: its description is not spoken, and approval covers the audio's hash.
    spoken = text.strip() if recording else _speakable(text, speak)
    voice, speed = STATION_READING if recording else reading
    number = (row.revisions[-1].number + 1) if row.revisions else 1
    rev = RevisionRow(
        bulletin_id=row.id,
        number=number,
        text=text,
        spoken_text=spoken,
        spoken_sha256=recording.sha256 if recording else spoken_hash(spoken, voice, speed),
        author=author,
        created_at=now,
        source_audio=str(recording.path) if recording else None,
        voice=voice,
        speed=speed,
    )
    session.add(rev)
    session.flush()
    if recording is not None:
        add_recording_render(session, rev, recording, now=now)
    session.refresh(row, ["revisions"])
    return rev


def _speakable(text: str, speak: Speak) -> str:
    """The spoken text of a bulletin, refusing one that is empty or has nothing a voice can read."""
    if not text.strip():
        raise InputError(
            "Nội dung bản tin trống.",
            "Nhập nội dung cần phát thanh (tệp rỗng hoặc chỉ có dấu cách không dùng được).",
        )
    spoken = speak(text)
    if not any(ch.isalpha() for ch in spoken):
        raise InputError(
            "Nội dung bản tin không có chữ nào để đọc (chỉ có biểu tượng, dấu câu hoặc ký hiệu).",
            "Viết nội dung bằng chữ: biểu tượng cảm xúc và dấu câu không được đọc lên loa.",
        )
    return spoken


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
    voice: str | None = None,
    speed: str | float | None = None,
    offer: VoiceOffer | None = None,
) -> BulletinRow:
    """An officer writes a new bulletin (a draft with revision 1); `recording`: an operator recording.

    `voice` and `speed` are checked against `offer` (the station's voices); not given, the station's
    defaults. Without an offer the bulletin is read by the station's chain at 1×.
    """
    user = require_role(session, actor, Role.OFFICER)
    if not title.strip():
        raise InputError("Bản tin cần có tiêu đề.", 'Thêm --title "...".')
    reading = STATION_READING if recording else choose_reading(offer, voice, speed)
    campaign = find_campaign(session, station_id, campaign_code)
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
    rev = _new_revision(
        session, row, text, author=user.name, now=now, speak=speak, recording=recording, reading=reading
    )
    extra: dict[str, object] = {"recording_sha256": recording.sha256} if recording else {}
    if rev.voice or rev.speed != NORMAL_SPEED:
        extra |= {"voice": rev.voice, "speed": rev.speed}
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
    session: Session,
    bulletin_id: int,
    text: str,
    *,
    actor: str | None,
    now: datetime,
    speak: Speak,
    keep_airings: bool = False,
    recording: Recording | None = None,
    voice: str | None = None,
    speed: str | float | None = None,
    offer: VoiceOffer | None = None,
) -> Edited:
    """A new revision; the bulletin needs approval again and its future airings leave the plan.

    `keep_airings` keeps them, on the revision that was approved: the words already approved go on
    airing. That is a leader's (approval) or operator's (plan) decision, so only they may ask for it.
    `recording`: the new revision is that recording (its `text` the description), not speech.
    `voice`, `speed`: a new reading (checked against `offer`); not given, those of the revision before.
    A new voice or speed alone is a new revision too: the leader approves how it is read.
    """
    roles = (Role.LEADER, Role.OPERATOR) if keep_airings else (Role.OFFICER,)
    user = require_role(session, actor, *roles)
    row = get(session, bulletin_id)
    if row.status == BulletinStatus.RETIRED:
        raise InvalidStateError(
            f"Bản tin {row.id} đã ngừng phát.", "Viết bản tin mới thay vì sửa bản đã ngừng."
        )
    latest = latest_revision(row)
    keep = None if latest.source_audio else (latest.voice, latest.speed)
    reading = STATION_READING if recording else choose_reading(offer, voice, speed, keep)
    if recording is None and latest.text == text and (latest.voice, latest.speed) == reading:
        raise InputError(
            "Nội dung, giọng đọc và tốc độ đọc không thay đổi.",
            "Sửa nội dung, giọng hoặc tốc độ rồi lưu lại.",
        )
    rev = _new_revision(
        session, row, text, author=user.name, now=now, speak=speak, recording=recording, reading=reading
    )
    was = row.status
    row.status = BulletinStatus.DRAFT.value
    if keep_airings:
        withdrawn, kept = [], len(future_airings(session, row.id, now))
    else:
        withdrawn = withdraw_future_airings(session, row, actor=user.name, now=now, reason=REASON_EDITED)
        kept = 0
    audit.record(
        session,
        actor=user.name,
        action="bulletin.edit",
        object_type="bulletin",
        object_id=row.id,
        now=now,
        revision=rev.number,
        previous_status=was,
        withdrawn=[w.airing_id for w in withdrawn],
        kept_airings=kept,
        voice=rev.voice,
        speed=rev.speed,
    )
    return Edited(rev, withdrawn, kept)


def submit(session: Session, bulletin_id: int, *, actor: str | None, now: datetime) -> BulletinRow:
    """The officer sends the latest revision for approval."""
    user = require_role(session, actor, Role.OFFICER)
    row = get(session, bulletin_id)
    if row.status not in (BulletinStatus.DRAFT, BulletinStatus.REJECTED):
        raise InvalidStateError(
            f"Bản tin {row.id} đang '{labels.bulletin_status(row.status)}', không gửi duyệt được.",
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
            f"Bản tin {row.id} đang '{labels.bulletin_status(row.status)}', không có gì để duyệt.",
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
        voice=rev.voice,
        speed=rev.speed,
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


def retire(session: Session, bulletin_id: int, *, actor: str | None, now: datetime) -> Retired:
    """Stop a bulletin (a leader or officer decision): never queued again, its future airings withdrawn."""
    user = require_role(session, actor, Role.LEADER, Role.OFFICER)
    row = get(session, bulletin_id)
    if row.status == BulletinStatus.RETIRED:
        raise InvalidStateError(f"Bản tin {row.id} đã ngừng phát từ trước.", "Không cần làm gì thêm.")
    withdrawn = withdraw_future_airings(session, row, actor=user.name, now=now, reason=REASON_RETIRED)
    row.status = BulletinStatus.RETIRED.value
    audit.record(
        session,
        actor=user.name,
        action="bulletin.retire",
        object_type="bulletin",
        object_id=row.id,
        now=now,
        withdrawn=[w.airing_id for w in withdrawn],
    )
    return Retired(row, withdrawn)


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
            withdraw_future_airings(session, row, actor=actor, now=now, reason=REASON_IMPORTED)
            result = "updated"
    rev = latest_revision(row)
    if spec.approved_by and rev.approval != "approved":
        _mark_approved(session, row, rev, spec.approved_by, now, via="schedule import")
        result = result or "updated"
    return result
