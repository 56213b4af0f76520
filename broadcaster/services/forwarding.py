"""A station forwards its as-run log to its district server: store and forward, resumable, never doubled.

The station keeps airing on its own database whatever the network does. Linked to a district
(`broadcaster station link URL --token T`: `district.json` in the data home, readable by its owner
only), it pushes its rows in seq order, in batches, each with its hashes and canonical content: it
first asks the district which head it holds and sends what comes after, so a lost answer, an outage
or a restart only means sending again from there, and the district keeps each row once. The
district's answer is the station's witness: the head it acknowledged is kept in
`heads/<station>.district.json` (`witness.HeadStore`), outside the database, and `log verify` checks that
the chain still holds it (rows already forwarded cannot be deleted or rewritten unseen, at either end).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import airlog
from broadcaster.errors import InputError
from broadcaster.files import write_atomic
from broadcaster.services.district_port import AuditEvent, DistrictChore
from broadcaster.services.district_port import DistrictHead as DistrictHead
from broadcaster.services.district_port import DistrictPort as DistrictPort
from broadcaster.services.district_port import DistrictUnreachable as DistrictUnreachable
from broadcaster.services.stations import find_station
from broadcaster.store.db import transaction
from broadcaster.store.models import AuditRow, StationRow
from broadcaster.witness import Witness

log = logging.getLogger("broadcaster.daemon")

LINK_FILE = "district.json"
BATCH = 500


@dataclass(frozen=True)
class Link:
    """Where this station's district server is and the token the district issued to the station."""

    url: str
    token: str


def link_path(home: Path) -> Path:
    """The link file in the data home."""
    return home / LINK_FILE


def save_link(home: Path, url: str, token: str) -> Link:
    """Write the link file (owner-only: it holds the token); the URL is checked for a scheme."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise InputError(
            f"Địa chỉ máy chủ huyện không hợp lệ: «{url}».",
            "Viết đầy đủ, ví dụ https://truyenthanh.huyen.gov.vn",
            field="url",
        )
    if not token.strip().startswith("bc_"):
        raise InputError(
            "Mã truy cập không hợp lệ: mã do huyện cấp bắt đầu bằng bc_.",
            "Chép lại mã ở trang Quản trị → Mã truy cập API của máy chủ huyện.",
            field="token",
        )
    path = link_path(home)
    write_atomic(path, json.dumps({"url": url, "token": token.strip()}).encode())
    os.chmod(path, 0o600)
    return Link(url, token.strip())


def load_link(home: Path) -> Link | None:
    """The link, or None when this station is not linked to a district."""
    path = link_path(home)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Link(str(data["url"]), str(data["token"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(
            f"Tệp liên kết với huyện {path} bị hỏng ({type(exc).__name__}).",
            "Liên kết lại: broadcaster station link URL --token MÃ.",
        ) from None


@dataclass(frozen=True)
class SyncResult:
    """One sync: new rows sent and taken, the head the district holds, and a break it found."""

    sent: int
    accepted: int
    repeated: int
    rows: int
    local_rows: int
    broken: bool
    reason: str

    @property
    def complete(self) -> bool:
        """The district holds every row this station has."""
        return not self.broken and self.rows == self.local_rows


def sync_up(
    sessions: sessionmaker[Session],
    station_code: str,
    port: DistrictPort,
    witness: Witness,
    *,
    now: datetime,
    batch: int = BATCH,
) -> SyncResult:
    """Push every row the district does not hold yet, batch by batch; stop at a break the district finds."""
    held = port.head(station_code)
    with transaction(sessions) as session:
        station_id = _station_id(session, station_code)
        local_rows, _ = airlog.head_of(session, station_id)
    if held.rows > local_rows:
        raise InputError(
            f"Huyện đã nhận {held.rows} dòng nhật ký của đài, nhưng máy này chỉ còn {local_rows} dòng: "
            "các dòng đã gửi lên huyện bị xóa ở máy này.",
            "Không sửa gì thêm; báo ngay cho huyện và lãnh đạo phường.",
        )
    sent = accepted = repeated = 0
    while not held.broken:
        # From the district's last row on: resent unchanged it is a repeat; changed since, the district sees.
        with transaction(sessions) as session:
            links = airlog.links_after(session, station_id, max(0, held.rows - 1), batch)
        if not links or (
            len(links) == 1 and links[0].seq == held.rows and links[0].row_hash == held.head_hash
        ):
            break
        signed = witness.last(station_code)
        answer = port.push(station_code, links, signed.to_json() if signed else None)
        sent += sum(1 for link in links if link.seq > held.rows)  # the overlap row is not news
        accepted += answer.accepted
        repeated += answer.repeated
        progressed = answer.rows > held.rows
        held = answer
        if not answer.broken and answer.rows > 0:
            witness.heads.acknowledge(station_code, answer.rows, answer.head_hash, url=port.url, at=now)
        if not progressed:
            break
    return SyncResult(sent, accepted, repeated, held.rows, local_rows, held.broken, held.reason)


AUDIT_BATCH = 500


@dataclass(frozen=True)
class AuditSync:
    """One push of audit events: how many the district did not hold, and the highest id it holds now."""

    sent: int
    held: int


def sync_audit(
    sessions: sessionmaker[Session], station_code: str, port: DistrictPort, *, batch: int = AUDIT_BATCH
) -> AuditSync:
    """Push every audit event after the highest one the district holds, in id order, batch by batch."""
    held = port.audit_head(station_code)
    with transaction(sessions) as session:
        newest = session.scalar(select(func.max(AuditRow.id))) or 0
    if held > newest:
        raise InputError(
            f"Huyện đã nhận nhật ký thao tác của đài đến số {held}, nhưng máy này chỉ có đến số {newest}: "
            "cơ sở dữ liệu của đài không còn là cơ sở dữ liệu đã gửi lên huyện.",
            "Không sửa gì thêm; báo ngay cho huyện và lãnh đạo phường.",
        )
    sent = 0
    while True:
        with transaction(sessions) as session:
            rows = session.scalars(
                select(AuditRow).where(AuditRow.id > held).order_by(AuditRow.id).limit(batch)
            ).all()
            events = [
                AuditEvent(r.id, r.at, r.actor, r.action, r.object_type, r.object_id, dict(r.detail or {}))
                for r in rows
            ]
        if not events:
            break
        answer = port.push_audit(station_code, events)
        sent += sum(1 for e in events if e.id > held)
        if answer <= held:
            break
        held = answer
    return AuditSync(sent, held)


def local_rows(session: Session, station: StationRow) -> int:
    """How many as-run rows this station's chain holds here."""
    return airlog.head_of(session, station.id)[0]


def _station_id(session: Session, station_code: str) -> int:
    return find_station(session, station_code).id


class ForwardChore(DistrictChore):
    """The daemon's background forwarding (and heartbeat): a sync every minute, one log line per change."""

    failing = "Chưa gửi được nhật ký lên huyện: %s"
    recovered = "Đã gửi lại được nhật ký lên huyện."

    def __init__(
        self,
        sessions: sessionmaker[Session],
        station_code: str,
        port: DistrictPort,
        witness: Witness,
        now: Callable[[], datetime],
        *,
        beat: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        super().__init__()
        self._args = (sessions, station_code, port, witness)
        self._now = now
        self._beat = beat

    def run(self) -> None:
        """Push what the district lacks, then the heartbeat."""
        sessions, code, port, witness = self._args
        result = sync_up(sessions, code, port, witness, now=self._now())
        if self._beat is not None:
            port.heartbeat(code, self._beat())
        sync_audit(sessions, code, port)
        if result.broken:
            log.error("Huyện phát hiện chuỗi nhật ký của đài không liền mạch: %s", result.reason)
        elif result.accepted:
            log.info("Đã gửi %d dòng nhật ký lên huyện (huyện có %d dòng).", result.accepted, result.rows)
