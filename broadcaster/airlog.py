"""The as-run log: append-only, hash-chained rows per station, and `verify` of the whole chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from broadcaster.domain import Outcome, Priority, Trigger
from broadcaster.errors import AirLogError
from broadcaster.store.models import AsRunRow

GENESIS = "0" * 64
HASHED_FIELDS = (
    "seq",
    "station_id",
    "airing_id",
    "corrects_id",
    "session_code",
    "planned_start",
    "actual_start",
    "actual_end",
    "start_error_ms",
    "played_ms",
    "clip_ms",
    "outcome",
    "trigger",
    "priority",
    "bulletin_id",
    "revision_id",
    "revision_number",
    "campaign_code",
    "title",
    "sha256",
    "player",
    "queued_by",
    "approved_by",
    "note",
    "recorded_by",
    "recorded_at",
)


@dataclass(frozen=True)
class AsRunEntry:
    """What happened to one item, as the daemon or an operator reports it."""

    outcome: Outcome
    trigger: Trigger
    planned_start: datetime | None = None
    actual_start: datetime | None = None
    actual_end: datetime | None = None
    played_ms: int = 0
    clip_ms: int = 0
    priority: Priority = Priority.NORMAL
    airing_id: int | None = None
    session_code: str | None = None
    bulletin_id: int | None = None
    revision_id: int | None = None
    revision_number: int | None = None
    campaign_code: str | None = None
    title: str = ""
    sha256: str | None = None
    player: str = ""
    queued_by: str | None = None
    approved_by: str | None = None
    note: str = ""
    corrects_id: int | None = None


def to_ms(moment: datetime | None) -> datetime | None:
    """Truncate an instant to whole milliseconds in UTC (what the log stores and hashes)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise AirLogError("Thời điểm không có múi giờ.", "Báo cho người phát triển: dùng giờ UTC có múi giờ.")
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _canonical_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    if hasattr(value, "value"):
        return value.value
    return value


def row_digest(prev_hash: str, values: dict[str, Any]) -> str:
    """sha256 over the previous row's hash and this row's canonical JSON content."""
    canonical = json.dumps(
        {k: _canonical_value(values.get(k)) for k in HASHED_FIELDS},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def append(
    session: Session, station_id: int, entry: AsRunEntry, *, recorded_by: str, now: datetime
) -> AsRunRow:
    """Add one row at the end of the station's chain (inside the caller's transaction)."""
    last_q = select(AsRunRow.seq, AsRunRow.row_hash).where(AsRunRow.station_id == station_id)
    last_q = last_q.order_by(AsRunRow.seq.desc()).limit(1)
    if session.get_bind().dialect.name == "postgresql":
        last_q = last_q.with_for_update()
    last = session.execute(last_q).first()
    seq, prev = (last.seq + 1, last.row_hash) if last else (1, GENESIS)
    values = asdict(entry)
    for key in ("planned_start", "actual_start", "actual_end"):
        values[key] = to_ms(values[key])
    values.update(seq=seq, station_id=station_id, recorded_by=recorded_by, recorded_at=to_ms(now))
    values = {
        k: _canonical_value(v) if k in {"outcome", "trigger", "priority"} else v for k, v in values.items()
    }
    row = AsRunRow(**values, prev_hash=prev, row_hash=row_digest(prev, values))
    session.add(row)
    session.flush()
    return row


@event.listens_for(Session, "before_flush")
def _refuse_changes(session: Session, _ctx: Any, _instances: Any) -> None:
    """Rows of the as-run log are never updated or deleted through the ORM."""
    for obj in session.dirty:
        if isinstance(obj, AsRunRow) and session.is_modified(obj):
            raise AirLogError(
                "Nhật ký phát sóng không được sửa.", "Ghi một dòng đính chính trỏ tới dòng cũ (log correct)."
            )
    for obj in session.deleted:
        if isinstance(obj, AsRunRow):
            raise AirLogError(
                "Nhật ký phát sóng không được xóa.", "Ghi một dòng đính chính trỏ tới dòng cũ (log correct)."
            )


@dataclass(frozen=True)
class ChainProblem:
    """The first place the chain breaks."""

    row_id: int
    seq: int
    kind: str
    message: str


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of checking one station's chain."""

    rows: int
    head_hash: str
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        """True when the chain is intact."""
        return self.problem is None


def _rows(session: Session, station_id: int) -> Iterator[dict[str, Any]]:
    cols = [getattr(AsRunRow, name) for name in ("id", "prev_hash", "row_hash", *HASHED_FIELDS)]
    q = select(*cols).where(AsRunRow.station_id == station_id).order_by(AsRunRow.seq)
    for row in session.execute(q.execution_options(yield_per=5000)):
        yield row._asdict()


def verify_rows(rows: Iterable[dict[str, Any]]) -> VerifyResult:
    """Walk rows in seq order; name the first edited, deleted, inserted or reordered row."""
    prev_hash, expected_seq, count = GENESIS, 1, 0
    history: dict[str, int] = {}
    for values in rows:
        count += 1
        seq, row_id = values["seq"], values["id"]
        content_ok = row_digest(values["prev_hash"], values) == values["row_hash"]
        link_ok = values["prev_hash"] == prev_hash
        problem: tuple[str, str] | None = None
        if not content_ok and link_ok:
            problem = ("edited", "nội dung dòng đã bị sửa sau khi ghi")
        elif not content_ok:
            problem = ("inserted", "dòng không thuộc chuỗi (bị chèn hoặc giả mạo)")
        elif seq != expected_seq and seq > expected_seq:
            problem = ("deleted", f"thiếu {seq - expected_seq} dòng trước dòng này (bị xóa)")
        elif not link_ok and values["prev_hash"] in history:
            problem = ("reordered", "thứ tự các dòng đã bị đảo")
        elif not link_ok:
            problem = ("deleted", "dòng liền trước đã bị xóa hoặc thay")
        if problem:
            return VerifyResult(count, prev_hash, ChainProblem(row_id, seq, problem[0], problem[1]))
        history[values["row_hash"]] = seq
        prev_hash, expected_seq = values["row_hash"], seq + 1
    return VerifyResult(count, prev_hash, None)


def verify(session: Session, station_id: int) -> VerifyResult:
    """Check one station's whole chain in the database."""
    return verify_rows(_rows(session, station_id))


def count_rows(session: Session, station_id: int) -> int:
    """Number of as-run rows of a station."""
    return int(session.scalar(select(func.count()).where(AsRunRow.station_id == station_id)) or 0)
