"""What the console's bulletin forms do, each in one step: write, edit (title, campaign, text), add a
recording, return with a reason. Each refusal names the form field it belongs to.

They call the life-cycle functions of `bulletins` (which check the role and audit); what is added
here is the field each message belongs beside, and changing a bulletin's title or campaign.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.domain import BulletinStatus, Role
from broadcaster.errors import InputError, InvalidStateError
from broadcaster.services import audit, bulletins
from broadcaster.services.bulletins import Speak
from broadcaster.services.media import Recording
from broadcaster.services.users import require_role
from broadcaster.services.withdrawals import Withdrawn
from broadcaster.speech.voices import VoiceOffer
from broadcaster.store.models import BulletinRow, CampaignRow, RevisionRow

_SHA256_RE = re.compile(r"[0-9a-f]{64}")


@contextmanager
def _beside(name: str) -> Iterator[None]:
    """An InputError that names no field belongs beside field `name`."""
    try:
        yield
    except InputError as exc:
        if exc.field:
            raise
        raise InputError(exc.message, exc.hint, field=name) from exc


def _title(title: str) -> str:
    title = title.strip()
    if not title:
        raise InputError("Bản tin cần có tiêu đề.", "Nhập tiêu đề ngắn cho bản tin.", field="title")
    if len(title) > 300:
        raise InputError("Tiêu đề dài quá 300 ký tự.", "Rút gọn tiêu đề.", field="title")
    return title


def _text(text: str) -> str:
    """The text as stored: NFC, with the browser's CRLF line ends made LF (so "unchanged" compares equal)."""
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n"))


def _campaign(session: Session, station_id: int, code: str) -> CampaignRow:
    row = session.scalar(
        select(CampaignRow).where(CampaignRow.station_id == station_id, CampaignRow.code == code)
    )
    if row is None:
        raise InputError("Chưa chọn chiến dịch.", "Chọn chiến dịch mà bản tin thuộc về.", field="campaign")
    return row


def write(
    session: Session,
    station_id: int,
    *,
    campaign: str,
    title: str,
    agency: str,
    text: str,
    actor: str | None,
    now: datetime,
    speak: Speak,
    recording: Recording | None = None,
    voice: str | None = None,
    speed: str | None = None,
    offer: VoiceOffer | None = None,
) -> BulletinRow:
    """A new bulletin (a draft): its text read in `voice` at `speed` (checked against the station's
    `offer`; empty: its defaults), or `recording` (then `text`, voice and speed are unused)."""
    require_role(session, actor, Role.OFFICER)
    clean_title = _title(title)
    code = _campaign(session, station_id, campaign).code
    text = f"Bản ghi âm: {clean_title}" if recording is not None else _text(text)
    with _beside("audio" if recording is not None else "text"):
        return bulletins.add(
            session,
            station_id=station_id,
            campaign_code=code,
            title=clean_title,
            agency=agency,
            text=text,
            actor=actor,
            now=now,
            speak=speak,
            recording=recording,
            voice=voice,
            speed=speed,
            offer=offer,
        )


@dataclass(frozen=True)
class Saved:
    """What an edit changed: a new revision (with the airings it took out), and/or the details."""

    revision: int | None
    details: bool
    withdrawn: list[Withdrawn]


def save(
    session: Session,
    bulletin_id: int,
    *,
    campaign: str,
    title: str,
    agency: str,
    text: str,
    actor: str | None,
    now: datetime,
    speak: Speak,
    voice: str | None = None,
    speed: str | None = None,
    offer: VoiceOffer | None = None,
) -> Saved:
    """Save the editor: a new revision when the text, the voice or the speed changed; title, campaign
    and agency as given.

    Title, campaign and agency are not spoken, so changing only them keeps the approval; a new voice
    or speed is heard, so it needs approval again as a new text does.
    """
    user = require_role(session, actor, Role.OFFICER)
    row = bulletins.get(session, bulletin_id)
    if row.status == BulletinStatus.RETIRED:
        raise InvalidStateError(
            f"Bản tin {row.id} đã ngừng phát.", "Viết bản tin mới thay vì sửa bản đã ngừng."
        )
    clean_title = _title(title)
    target = _campaign(session, row.station_id, campaign)
    text = _text(text)
    latest = bulletins.latest_revision(row)
    text_changed = latest.text != text
    keep = None if latest.source_audio else (latest.voice, latest.speed)
    reading = bulletins.choose_reading(offer, voice, speed, keep)  # its errors name the voice or speed field
    # A recording is heard as recorded: a voice or speed means something only for a text.
    reading_changed = keep is not None and keep != reading
    details = (row.title, row.campaign_id, row.agency) != (clean_title, target.id, agency.strip())
    if not text_changed and not reading_changed and not details:
        raise InputError(
            "Chưa có gì thay đổi.", "Sửa nội dung, giọng đọc, tốc độ hoặc tiêu đề rồi lưu lại.", field="text"
        )
    edited: bulletins.Edited | None = None
    if text_changed or reading_changed:
        with _beside("text"):
            edited = bulletins.edit(
                session,
                row.id,
                text,
                actor=actor,
                now=now,
                speak=speak,
                voice=reading[0],
                speed=reading[1],
                offer=offer,
            )
    if details:
        was = {"title": row.title, "campaign": row.campaign.code, "agency": row.agency}
        row.title, row.campaign_id, row.agency = clean_title, target.id, agency.strip()
        audit.record(
            session,
            actor=user.name,
            action="bulletin.details",
            object_type="bulletin",
            object_id=row.id,
            now=now,
            before=was,
            after={"title": clean_title, "campaign": target.code, "agency": agency.strip()},
        )
        session.flush()
    return Saved(edited.revision.number if edited else None, details, edited.withdrawn if edited else [])


def record(
    session: Session,
    bulletin_id: int,
    recording: Recording,
    *,
    actor: str | None,
    now: datetime,
    speak: Speak,
) -> bulletins.Edited:
    """A recording becomes the bulletin's new revision (approval again; future airings withdrawn)."""
    row = bulletins.get(session, bulletin_id)
    with _beside("audio"):
        return bulletins.edit(
            session,
            row.id,
            f"Bản ghi âm: {row.title}",
            actor=actor,
            now=now,
            speak=speak,
            recording=recording,
        )


def send_back(
    session: Session, bulletin_id: int, reason: str, *, actor: str | None, now: datetime
) -> BulletinRow:
    """The leader returns a submitted bulletin; the reason is shown to the officer on its page."""
    require_role(session, actor, Role.LEADER)
    if not reason.strip():
        raise InputError("Cần ghi lý do trả lại.", "Ghi rõ cần sửa gì để công chức biết.", field="reason")
    with _beside("reason"):
        return bulletins.reject(session, bulletin_id, reason, actor=actor, now=now)


def approve_seen(
    session: Session, bulletin_id: int, seen: str, *, actor: str | None, now: datetime
) -> RevisionRow:
    """The leader approves the revision whose spoken text they were shown: its full hash must match.

    The page sends the hash of the spoken text (or recording) it showed; a newer revision, or a form
    without the hash, is refused rather than approved unseen.
    """
    require_role(session, actor, Role.LEADER)
    if not _SHA256_RE.fullmatch(seen.strip().lower()):
        raise InvalidStateError(
            "Không rõ lãnh đạo đã xem lời đọc nào.", "Tải lại trang Duyệt tin, nghe và đọc lại rồi duyệt."
        )
    return bulletins.approve(session, bulletin_id, actor=actor, now=now, seen_sha256=seen.strip().lower())
