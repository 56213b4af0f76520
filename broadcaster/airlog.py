"""The as-run log: append-only, hash-chained rows per station, and `verify` of the whole chain."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, event, func, select, type_coerce
from sqlalchemy.orm import Session

from broadcaster.domain import AsRunEntry, Outcome, Priority, Trigger
from broadcaster.errors import AirLogError
from broadcaster.store.models import AsRunRow, StationRow

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
        if value.tzinfo is not UTC:
            value = value.astimezone(UTC)
        # Same text as strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" (both truncate), but several times faster.
        return value.isoformat(timespec="milliseconds")[:-6] + "Z"
    if hasattr(value, "value"):
        return value.value
    return value


# Inserting keys in sorted order gives json.dumps(sort_keys=True)'s output without sorting every row.
_SORTED_FIELDS = tuple(sorted(HASHED_FIELDS))
# The only hashed fields that may hold something other than str, int or None (instants and enums).
_CONVERTED_FIELDS = (
    "planned_start",
    "actual_start",
    "actual_end",
    "recorded_at",
    "outcome",
    "trigger",
    "priority",
)
# One encoder for every row: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def canonical_content(values: dict[str, Any]) -> str:
    """The canonical JSON text of a row's hashed fields (sorted keys, UTC instants to the millisecond)."""
    data = dict(zip(_SORTED_FIELDS, map(values.get, _SORTED_FIELDS), strict=True))
    for key in _CONVERTED_FIELDS:
        value = data[key]
        if value is not None and value.__class__ is not str:
            data[key] = _canonical_value(value)
    return _ENCODER.encode(data)


def row_digest(prev_hash: str, values: dict[str, Any]) -> str:
    """sha256 over the previous row's hash and this row's canonical JSON content."""
    return content_digest(prev_hash, canonical_content(values))


def content_digest(prev_hash: str, content: str) -> str:
    """The row hash of a row whose canonical content is `content` (what a receiver checks)."""
    return hashlib.sha256(f"{prev_hash}\n{content}".encode()).hexdigest()


def append(
    session: Session, station_id: int, entry: AsRunEntry, *, recorded_by: str, now: datetime
) -> AsRunRow:
    """Add one row at the end of the station's chain (inside the caller's transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appends per station on the station row: locking the last as-run row would not stop
        # a concurrent writer from reading the same "last" row (or any row, on an empty chain).
        session.execute(select(StationRow.id).where(StationRow.id == station_id).with_for_update())
    last_q = select(AsRunRow.seq, AsRunRow.row_hash).where(AsRunRow.station_id == station_id)
    last = session.execute(last_q.order_by(AsRunRow.seq.desc()).limit(1)).first()
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
    station = session.get(StationRow, station_id)
    if station is not None:
        appended_heads(session)[station.code] = (seq, row.row_hash)
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
    """The first place the chain breaks: the row to look at, and what happened to it."""

    row_id: int
    seq: int
    kind: str  # "edited", "deleted", "inserted" or "reordered"
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


VERIFY_COLUMNS = ("id", "prev_hash", "row_hash", *HASHED_FIELDS)
# How far back a renumbering after a deletion is recognised (see `verify_rows`).
_RENUMBER_LIMIT = 64


_INSTANTS = ("planned_start", "actual_start", "actual_end", "recorded_at")


def _not_canonical(stored: object) -> str:
    """A stand-in for a stored value that no canonical row can hold: its row then fails its hash.

    The log hashes instants to the millisecond, so a stored value that the canonical form does not
    reproduce exactly (sub-millisecond digits, text or a number where a time was) must not be read
    as the nearest canonical value: that would let an edit below the hash's precision pass.
    """
    return f"!not-canonical:{type(stored).__name__}:{stored!r}"


# How SQLite holds an instant the log wrote: "2024-01-08 23:00:00.123000" (whole milliseconds).
_SQLITE_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}000")


def _sqlite_instant(stored: object) -> str | None:
    """SQLite's stored UTC text straight to the canonical form, without parsing (hot loop of verify)."""
    if stored is None:
        return None
    if stored.__class__ is str and _SQLITE_INSTANT.fullmatch(stored):
        return f"{stored[:10]}T{stored[11:23]}Z"
    return _not_canonical(stored)


def _server_instant(stored: object) -> str | datetime | None:
    """An instant read back from a server database, if it holds whole milliseconds (else unreadable)."""
    if stored is None or (isinstance(stored, datetime) and stored.microsecond % 1000 == 0):
        return stored
    return _not_canonical(stored)


def _rows(
    session: Session, station_id: int, after_seq: int = 0, limit: int | None = None
) -> Iterator[dict[str, Any]]:
    sqlite = session.get_bind().dialect.name == "sqlite"
    cols = [
        type_coerce(getattr(AsRunRow, name), String).label(name)
        if sqlite and name in _INSTANTS
        else getattr(AsRunRow, name)
        for name in VERIFY_COLUMNS
    ]
    q = (
        select(*cols)
        .where(AsRunRow.station_id == station_id, AsRunRow.seq > after_seq)
        .order_by(AsRunRow.seq)
    )
    if limit is not None:
        q = q.limit(limit)
    for row in session.connection().execute(q.execution_options(yield_per=5000)):
        values = row._asdict()
        read = _sqlite_instant if sqlite else _server_instant
        for name in _INSTANTS:
            values[name] = read(values[name])
        yield values


@dataclass(frozen=True)
class _Seen:
    row_id: int
    seq: int
    row_hash: str


def verify_rows(
    rows: Iterable[dict[str, Any]], *, known_head: str | None = None, signed: tuple[int, str] | None = None
) -> VerifyResult:
    """Walk one station's rows in seq order; name the first edited, deleted, inserted or reordered row.

    A row is sound when its stored `prev_hash` is the previous row's `row_hash`, its content hashes to
    its `row_hash`, its seq follows the previous one and its id is larger (ids grow as rows are
    appended). Only when a row is not sound is the rest of the chain read into memory, and the first
    bad row is classified from what a forger would have had to do (see `_diagnose`):

    * **inserted** — the row duplicates the hash of an earlier row (a copied row); or the next row
      links to the row before this one, skipping it; or earlier rows were accepted but this row links
      past them to an older row (a forged continuation with correct hashes): the first of them is named.
    * **reordered** — this row links to a row that comes *later* in seq order (rows swapped or moved;
      seq is hashed, so a swap also breaks both rows' content), or ids run backwards while content and
      links are intact (contents exchanged between ids, which would misdirect corrections).
    * **edited** — links intact but content differs from its hash; or this row is intact and numbered
      right after the previous row but links to a hash that exists nowhere: the previous row was changed
      and re-hashed, and it is the one named.
    * **deleted** — the row links to a hash that exists nowhere and seq numbers are missing before it
      (or its content hashes correctly once its seq is moved up by 1..64: rows were deleted and the rest
      renumbered); the row after the gap is named, the message says how many are missing.

    When several readings fit, the first in this order wins: copied hash (inserted), link to a later row
    (reordered), next row skipping this one (inserted), intact link (edited), link to an older row
    (inserted or, if the skipped rows are linked to later, reordered), link to nothing (deleted/edited).

    Limits, by design of an unkeyed chain: a row appended at the end with correctly computed hashes is
    indistinguishable from a real one (access control and the audit trail cover that); and deleting
    the newest rows leaves a shorter chain that is still consistent, caught only against a head hash
    recorded earlier (printed by `log verify` and on reports): pass it as `known_head` (the whole
    hash, or its first 12 or more hex digits as printed on reports).
    """
    iterator = iter(rows)
    prev: _Seen | None = None
    seen: dict[str, _Seen] = {}
    by_prev: dict[str, _Seen] = {}
    count = 0
    for values in iterator:
        count += 1
        prev_hash = prev.row_hash if prev else GENESIS
        sound = (
            values["prev_hash"] == prev_hash
            and values["seq"] == (prev.seq + 1 if prev else 1)
            and (prev is None or values["id"] > prev.row_id)
            and row_digest(values["prev_hash"], values) == values["row_hash"]
        )
        if not sound:
            rest = list(iterator)
            problem = _diagnose(prev, values, rest, seen, by_prev)
            return VerifyResult(count + len(rest), prev_hash, problem)
        prev = _Seen(values["id"], values["seq"], values["row_hash"])
        seen[prev.row_hash] = prev
        by_prev[values["prev_hash"]] = prev
    head = prev.row_hash if prev else GENESIS
    if signed is not None:
        unsigned = _against_signed(signed, seen, count, prev)
        if unsigned is not None:
            return VerifyResult(count, head, unsigned)
    if known_head is not None and not _head_known(known_head.strip().lower(), seen):
        last_id, last_seq = (prev.row_id, prev.seq) if prev else (0, 0)
        message = "mã băm cuối đã ghi trước đây không còn trong chuỗi: các dòng cuối đã bị xóa hoặc thay"
        return VerifyResult(count, head, ChainProblem(last_id, last_seq, "deleted", message))
    return VerifyResult(count, head, None)


def _against_signed(
    signed: tuple[int, str], seen: dict[str, _Seen], count: int, last: _Seen | None
) -> ChainProblem | None:
    """Compare an intact chain with the head the station signed last (rows, hash), kept outside the database.

    The signed hash must be the row numbered `rows` (or the genesis, for none); rows beyond it carry no
    signature: appended by something other than this station's software, or (rarely) written just before
    a crash that stopped the signature.
    """
    rows, head_hash = signed
    last_id, last_seq = (last.row_id, last.seq) if last else (0, 0)
    at = seen.get(head_hash)
    if not ((rows == 0 and head_hash == GENESIS) or (at is not None and at.seq == rows)):
        return ChainProblem(
            last_id,
            last_seq,
            "deleted",
            f"mốc đã ký ({rows} dòng, mã băm {head_hash[:12]}…) không còn trong chuỗi: "
            "các dòng đã bị xóa hoặc viết lại",
        )
    if count > rows:
        return ChainProblem(
            last_id,
            last_seq,
            "unsigned",
            f"{count - rows} dòng cuối nằm sau mốc đã ký và không có chữ ký của đài "
            "(bị thêm vào ngoài phần mềm, hoặc máy tắt ngay sau khi ghi)",
        )
    return None


def _head_known(head: str, seen: dict[str, _Seen]) -> bool:
    if len(head) < 12:
        raise AirLogError("Mã băm cuối quá ngắn.", "Nhập ít nhất 12 ký tự đầu của mã băm đã ghi.")
    return head == GENESIS or head in seen or any(h.startswith(head) for h in seen)


def _diagnose(
    prev: _Seen | None,
    cur: dict[str, Any],
    rest: list[dict[str, Any]],
    seen: dict[str, _Seen],
    by_prev: dict[str, _Seen],
) -> ChainProblem:
    """Classify the first unsound row `cur`, knowing the sound rows before it and all rows after it.

    The checks run in the order stated in `verify_rows`; each returns the row a person should look at.
    """
    row_id, seq = cur["id"], cur["seq"]
    expected_prev = prev.row_hash if prev else GENESIS
    expected_seq = prev.seq + 1 if prev else 1
    content_ok = row_digest(cur["prev_hash"], cur) == cur["row_hash"]
    nxt = rest[0] if rest else None

    def problem(kind: str, message: str, at: _Seen | None = None) -> ChainProblem:
        return ChainProblem(at.row_id if at else row_id, at.seq if at else seq, kind, message)

    if cur["row_hash"] in seen:
        copied = seen[cur["row_hash"]]
        return problem("inserted", f"dòng bị chèn: mang mã băm của dòng id={copied.row_id}")
    later = (
        None
        if cur["prev_hash"] == expected_prev
        else next((r for r in rest if r["row_hash"] == cur["prev_hash"]), None)
    )
    if later is not None:
        return problem("reordered", f"thứ tự bị đảo: dòng này phải đứng sau dòng id={later['id']}")
    if nxt is not None and nxt["prev_hash"] == expected_prev:
        return problem("inserted", "dòng bị chèn: dòng sau nó nối thẳng vào dòng trước nó")
    if cur["prev_hash"] == expected_prev:
        if not content_ok:
            return problem("edited", "nội dung dòng đã bị sửa sau khi ghi")
        if prev is not None and row_id < prev.row_id:
            return problem("reordered", f"thứ tự các dòng đã bị đảo (id nhỏ hơn dòng trước id={prev.row_id})")
        return problem("inserted", f"dòng bị chèn với số thứ tự {seq} thay vì {expected_seq}")
    if cur["prev_hash"] in seen and cur["prev_hash"] in by_prev:
        first = by_prev[cur["prev_hash"]]
        moved = prev is not None and any(r["prev_hash"] == prev.row_hash for r in rest)
        if moved:
            return problem("reordered", "thứ tự các dòng đã bị đảo", first)
        return problem(
            "inserted", f"dòng bị chèn trước dòng id={row_id} (dòng đó nối vào dòng cũ hơn)", first
        )
    if content_ok and seq > expected_seq:
        missing = seq - expected_seq
        return problem("deleted", f"thiếu {missing} dòng ngay trước dòng này (bị xóa)")
    if content_ok:
        if prev is None:
            return problem("edited", "dòng đầu tiên không nối vào gốc chuỗi")
        return problem("edited", "nội dung dòng đã bị sửa và tính lại mã băm (dòng sau không còn khớp)", prev)
    for shift in range(1, _RENUMBER_LIMIT + 1):
        if row_digest(cur["prev_hash"], {**cur, "seq": seq + shift}) == cur["row_hash"]:
            return problem("deleted", f"thiếu {shift} dòng ngay trước dòng này (bị xóa, số thứ tự đánh lại)")
    return problem("edited", "dòng đã bị sửa, kể cả mã băm liên kết")


def verify(
    session: Session,
    station_id: int,
    *,
    known_head: str | None = None,
    signed: tuple[int, str] | None = None,
) -> VerifyResult:
    """Check one station's whole chain in the database (against a signed head, when given)."""
    return verify_rows(_rows(session, station_id), known_head=known_head, signed=signed)


def head_of(session: Session, station_id: int) -> tuple[int, str]:
    """(row count, last row hash) of a station's chain as stored: what the station signs after appends."""
    q = select(AsRunRow.seq, AsRunRow.row_hash).where(AsRunRow.station_id == station_id)
    last = session.execute(q.order_by(AsRunRow.seq.desc()).limit(1)).first()
    return (last.seq, last.row_hash) if last else (0, GENESIS)


APPENDED = "broadcaster.asrun_appended"


def appended_heads(session: Session) -> dict[str, tuple[int, str]]:
    """Station code → (seq, row hash) of the newest row this session appended (read after commit)."""
    heads: dict[str, tuple[int, str]] = session.info.setdefault(APPENDED, {})
    return heads


def count_rows(session: Session, station_id: int) -> int:
    """Number of as-run rows of a station."""
    return int(session.scalar(select(func.count()).where(AsRunRow.station_id == station_id)) or 0)


def correction_entry(
    original: AsRunRow, outcome: Outcome, *, reason: str, played_ms: int | None = None
) -> AsRunEntry:
    """A new entry that corrects `original`: its facts copied, the outcome replaced, the reason noted.

    Played time, unless given: a completed correction plays the whole clip (or what was logged, if
    longer), an interrupted one keeps what was logged, and any other outcome played nothing.
    """
    if played_ms is None:
        if outcome is Outcome.COMPLETED:
            played_ms = max(original.clip_ms, original.played_ms)
        elif outcome is Outcome.INTERRUPTED:
            played_ms = original.played_ms
        else:
            played_ms = 0
    return AsRunEntry(
        outcome=outcome,
        trigger=Trigger(original.trigger),
        planned_start=original.planned_start,
        actual_start=original.actual_start,
        actual_end=original.actual_end,
        played_ms=played_ms,
        clip_ms=original.clip_ms,
        priority=Priority(original.priority),
        airing_id=original.airing_id,
        session_code=original.session_code,
        bulletin_id=original.bulletin_id,
        revision_id=original.revision_id,
        revision_number=original.revision_number,
        campaign_code=original.campaign_code,
        title=original.title,
        sha256=original.sha256,
        player=original.player,
        queued_by=original.queued_by,
        approved_by=original.approved_by,
        note=reason,
        # A correction of a correction still points at the original row, so "newest wins" is per original.
        corrects_id=original.corrects_id or original.id,
    )


# -- forwarding the chain (a station to its district) --------------------------------------------------


@dataclass(frozen=True)
class ChainLink:
    """One row as a station forwards it: its place, its hashes, and the canonical content they cover."""

    seq: int
    prev_hash: str
    row_hash: str
    content: str
    row_id: int | None = None  # the sender's own id of the row (not hashed: corrections name rows by it)


def links_after(session: Session, station_id: int, after_seq: int, limit: int) -> list[ChainLink]:
    """The station's rows after `after_seq`, as stored (an edited row travels edited: the receiver sees)."""
    return [
        ChainLink(v["seq"], v["prev_hash"], v["row_hash"], canonical_content(v), v["id"])
        for v in _rows(session, station_id, after_seq, limit)
    ]


@dataclass(frozen=True)
class Intake:
    """What a receiver makes of a batch of links: the new ones to keep, repeats, and why it stopped."""

    new: tuple[ChainLink, ...]
    repeated: int
    rows: int  # the receiver's head after the batch
    head_hash: str
    problem: str | None


def take_links(head: tuple[int, str], held: dict[int, str], links: Sequence[ChainLink]) -> Intake:
    """Pure: continue a chain whose head is `head` (rows, hash) with `links`, in order.

    A link the receiver holds already (`held`: seq → row hash) is a repeat if identical, and a break if
    not (rewritten after it was sent); a new link must come next in seq, link to the head's hash and
    hash to its own. The first link that fails stops the batch; the links before it are kept.
    """
    rows, head_hash = head
    new: list[ChainLink] = []
    repeated = 0
    problem = None
    for link in links:
        if link.seq <= rows:
            if held.get(link.seq) == link.row_hash:
                repeated += 1
                continue
            problem = (
                f"dòng số {link.seq} đã nhận trước đây nay gửi lại khác đi (bị sửa hoặc thay sau khi đã gửi)"
            )
        elif link.seq != rows + 1:
            problem = f"thiếu dòng: sau dòng số {rows} lại nhận dòng số {link.seq}"
        elif link.prev_hash != head_hash:
            problem = f"dòng số {link.seq} không nối tiếp dòng số {rows} đã nhận (chuỗi bị viết lại)"
        elif content_digest(link.prev_hash, link.content) != link.row_hash:
            problem = f"nội dung dòng số {link.seq} không khớp mã băm của nó (bị sửa)"
        if problem is not None:
            break
        new.append(link)
        rows, head_hash = link.seq, link.row_hash
    return Intake(tuple(new), repeated, rows, head_hash, problem)
