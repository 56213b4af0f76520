"""The district server's side of bulletins sent down to its wards (Thông tư 39/2020/TT-BTTTT levels).

A district leader writes a bulletin, chooses the wards and a level, and sends it: sending is the
district's approval of exactly what will be heard. The spoken text is rendered and
loudness-normalised here once; the audio is named by its sha256, and each ward fetches it by that
hash and checks it before it takes the bulletin in. Each ward then reports what it did with it:
received (normal: the ward chooses when), queued first in its next session (priority), on air
(emergency, within its validity window) or missed (an emergency that reached it too late).

The station's side is `district_inbox.py`; only a station's own token reads what is addressed to it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from broadcaster.domain import Priority, Role
from broadcaster.errors import InputError, NotFoundError
from broadcaster.services import audit, bulletins, media
from broadcaster.services.api_access import ApiCaller
from broadcaster.services.district_intake import pushing_station, touch
from broadcaster.services.district_port import CampaignNote, Delivery, Incoming
from broadcaster.services.stations import campaigns_of
from broadcaster.services.users import require_role
from broadcaster.store.models import (
    CampaignRow,
    DispatchRow,
    DispatchTargetRow,
    StationRow,
    TargetRow,
)

# An emergency's validity window, in minutes: the default offered, and the bounds accepted.
EMERGENCY_MINUTES = 60
EMERGENCY_MINUTES_RANGE = (5, 24 * 60)
# What a ward may report of a dispatch (the target row's states other than 'sent').
REPORTED = ("received", "queued", "on_air", "missed", "refused")
# The most dispatches one poll returns (the oldest first; the rest come at the next poll).
INBOX_LIMIT = 20


@dataclass(frozen=True)
class DispatchDraft:
    """What the district's form sends: checked by `check_draft`, field by field."""

    title: str
    text: str
    level: str
    campaign_code: str
    wards: tuple[str, ...]
    valid_minutes: str = ""


@dataclass(frozen=True)
class Checked:
    """A draft whose every field is valid, with the wards' rows and the emergency's end."""

    title: str
    text: str
    level: Priority
    campaign_code: str
    stations: list[StationRow]
    valid_until: datetime | None


def _clean(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def check_draft(session: Session, draft: DispatchDraft, *, now: datetime) -> Checked:
    """Every field checked before anything is rendered or stored; the first bad one names itself."""
    title, text = _clean(draft.title), _clean(draft.text)
    if not title:
        raise InputError(
            "Chưa có tiêu đề bản tin.", "Viết tiêu đề ngắn, ví dụ «Cảnh báo mưa lũ».", field="title"
        )
    if len(title) > 300:
        raise InputError("Tiêu đề dài quá 300 ký tự.", "Viết tiêu đề ngắn hơn.", field="title")
    if not text:
        raise InputError("Chưa có nội dung bản tin.", "Viết nội dung sẽ được đọc trên loa.", field="text")
    try:
        level = Priority(draft.level)
    except ValueError:
        raise InputError("Chưa chọn mức độ.", "Chọn thường, ưu tiên hoặc khẩn cấp.", field="level") from None
    codes = sorted({c.strip() for c in draft.wards if c.strip()})
    if not codes:
        raise InputError("Chưa chọn phường nào.", "Đánh dấu ít nhất một phường nhận bản tin.", field="wards")
    stations = list(session.scalars(select(StationRow).where(StationRow.code.in_(codes))))
    unknown = sorted(set(codes) - {s.code for s in stations})
    if unknown:
        raise InputError(
            f"Không có phường {', '.join(unknown)} ở máy chủ huyện.",
            "Chọn phường trong danh sách.",
            field="wards",
        )
    code = draft.campaign_code.strip()
    having = {sid for sid, _ in campaigns_of(session, [s.id for s in stations], code)} if code else set()
    lacking = [s.code for s in stations if s.id not in having]
    if not code:
        raise InputError("Chưa chọn chiến dịch.", "Chọn chiến dịch mà bản tin thuộc về.", field="campaign")
    if lacking:
        raise InputError(
            f"Phường {', '.join(lacking)} không có chiến dịch «{code}».",
            "Chọn chiến dịch mà mọi phường đã chọn đều có, hoặc bỏ các phường đó ra.",
            field="campaign",
        )
    valid_until = None
    if level is Priority.EMERGENCY:
        low, high = EMERGENCY_MINUTES_RANGE
        raw = draft.valid_minutes.strip() or str(EMERGENCY_MINUTES)
        try:
            minutes = int(raw)
        except ValueError:
            minutes = -1
        if not low <= minutes <= high:
            raise InputError(
                f"Thời hạn phát khẩn cấp «{raw}» không hợp lệ.",
                f"Nhập số phút từ {low} đến {high}: phường nhận muộn hơn sẽ không phát mà ghi là bị lỡ.",
                field="valid_minutes",
            )
        valid_until = now + timedelta(minutes=minutes)
    return Checked(title, text, level, code, sorted(stations, key=lambda s: s.code), valid_until)


Render = Callable[[str], media.Spoken]


def send_dispatch(
    session: Session,
    draft: DispatchDraft,
    *,
    actor: str | None,
    speak: Callable[[str], str],
    render: Render,
    now: datetime,
) -> DispatchRow:
    """Check, render and store a district bulletin with one target row per ward (district leader only)."""
    user = require_role(session, actor, Role.LEADER)
    checked = check_draft(session, draft, now=now)
    spoken = speak(checked.text)
    path, sha, engine, _voice, duration, lufs, peak = render(spoken)
    row = DispatchRow(
        title=checked.title,
        text=checked.text,
        spoken_text=spoken,
        spoken_sha256=bulletins.spoken_hash(spoken),
        campaign_code=checked.campaign_code,
        level=checked.level.value,
        valid_until=checked.valid_until,
        audio_path=str(path),
        audio_sha256=sha,
        audio_ext=path.suffix[:8],
        duration_s=duration,
        integrated_lufs=lufs,
        true_peak_dbtp=peak,
        engine=engine,
        created_by=user.name,
        approved_by=user.name,
        created_at=now,
    )
    session.add(row)
    session.flush()
    session.add_all(
        [DispatchTargetRow(dispatch_id=row.id, station_id=s.id, state="sent") for s in checked.stations]
    )
    audit.record(
        session,
        actor=user.name,
        action="dispatch.send",
        object_type="dispatch",
        object_id=row.id,
        now=now,
        level=row.level,
        wards=",".join(s.code for s in checked.stations),
        audio_sha256=sha,
    )
    return row


def inbox(session: Session, caller: ApiCaller, station_code: str, *, now: datetime) -> list[Incoming]:
    """What the district has sent this station and not yet heard back about, oldest first."""
    station = pushing_station(session, caller, station_code)
    touch(session, station, now)
    q = (
        select(DispatchRow)
        .join(DispatchTargetRow, DispatchTargetRow.dispatch_id == DispatchRow.id)
        .where(DispatchTargetRow.station_id == station.id, DispatchTargetRow.state == "sent")
        .order_by(DispatchRow.id)
        .limit(INBOX_LIMIT)
    )
    rows = list(session.scalars(q))
    codes = {r.campaign_code for r in rows}
    campaigns: dict[str, CampaignNote] = {}
    if codes:
        cq = (
            select(CampaignRow, TargetRow)
            .outerjoin(TargetRow, TargetRow.campaign_id == CampaignRow.id)
            .where(CampaignRow.station_id == station.id, CampaignRow.code.in_(codes))
        )
        for c, t in session.execute(cq):
            campaigns[c.code] = CampaignNote(
                c.code,
                c.title,
                c.plan_ref,
                c.period_start.isoformat(),
                c.period_end.isoformat(),
                {
                    "min_airings_per_week": t.min_airings_per_week if t else None,
                    "min_airings_per_month": t.min_airings_per_month if t else None,
                    "min_minutes_per_month": t.min_minutes_per_month if t else None,
                    "max_gap_days": t.max_gap_days if t else None,
                },
            )
    return [
        Incoming(
            r.id,
            r.title,
            r.text,
            r.spoken_text,
            r.level,
            r.valid_until,
            r.audio_sha256,
            r.audio_ext,
            r.duration_s,
            r.approved_by,
            r.created_at,
            campaigns.get(r.campaign_code) or CampaignNote(r.campaign_code, r.campaign_code, "", "", ""),
        )
        for r in rows
    ]


def audio_file(session: Session, caller: ApiCaller, sha256: str) -> Path:
    """The audio of a dispatch addressed to the calling station, by its hash (never another ward's)."""
    if caller.station_id is None:
        raise NotFoundError(
            "Không có tệp âm thanh này.", "Chỉ đài được gửi bản tin mới tải được âm thanh của nó."
        )
    q = (
        select(DispatchRow.audio_path)
        .join(DispatchTargetRow, DispatchTargetRow.dispatch_id == DispatchRow.id)
        .where(DispatchRow.audio_sha256 == sha256, DispatchTargetRow.station_id == caller.station_id)
        .limit(1)
    )
    path = session.scalar(q)
    if path is None or not Path(path).is_file():
        raise NotFoundError(
            "Không có tệp âm thanh này cho đài.", "Chỉ đài được gửi bản tin mới tải được âm thanh của nó."
        )
    return Path(path)


def report(
    session: Session, caller: ApiCaller, station_code: str, deliveries: Sequence[Delivery], *, now: datetime
) -> int:
    """Record the station's reports on dispatches addressed to it; returns how many rows changed."""
    station = pushing_station(session, caller, station_code)
    bad = [d.state for d in deliveries if d.state not in REPORTED]
    if bad:
        raise InputError(f"Trạng thái không hợp lệ: {bad[0]}.", f"Dùng một trong: {', '.join(REPORTED)}.")
    ids = [d.dispatch_id for d in deliveries]
    if not ids:
        return 0
    targets = {
        t.dispatch_id: t
        for t in session.scalars(
            select(DispatchTargetRow).where(
                DispatchTargetRow.station_id == station.id, DispatchTargetRow.dispatch_id.in_(ids)
            )
        )
    }
    changed = 0
    for d in deliveries:
        target = targets.get(d.dispatch_id)
        if target is None:  # not addressed to this station: nothing of another ward's is touched
            continue
        if (target.state, target.note, target.planned_start) != (d.state, d.note, d.planned_start):
            target.state, target.note, target.planned_start = d.state, d.note[:2000], d.planned_start
            target.reported_at = now
            changed += 1
    return changed


@dataclass(frozen=True)
class TargetView:
    """One ward's state for a dispatch, as the district console shows it."""

    station_code: str
    station_name: str
    state: str
    note: str
    planned_start: datetime | None
    reported_at: datetime | None


@dataclass(frozen=True)
class DispatchView:
    """A sent dispatch with each ward's state."""

    id: int
    title: str
    level: str
    campaign_code: str
    valid_until: datetime | None
    duration_s: float
    sent_by: str
    sent_at: datetime
    targets: list[TargetView]


def recent_dispatches(session: Session, *, actor: str | None, limit: int = 30) -> list[DispatchView]:
    """The latest dispatches and where each ward stands with them (district leader or inspector)."""
    require_role(session, actor, Role.LEADER, Role.INSPECTOR)
    rows = session.scalars(
        select(DispatchRow)
        .options(selectinload(DispatchRow.targets))
        .order_by(DispatchRow.id.desc())
        .limit(limit)
    ).all()
    names = {s.id: (s.code, s.name) for s in session.scalars(select(StationRow))}
    return [
        DispatchView(
            r.id,
            r.title,
            r.level,
            r.campaign_code,
            r.valid_until,
            r.duration_s,
            r.approved_by,
            r.created_at,
            sorted(
                (
                    TargetView(*names[t.station_id], t.state, t.note, t.planned_start, t.reported_at)
                    for t in r.targets
                ),
                key=lambda v: v.station_code,
            ),
        )
        for r in rows
    ]
