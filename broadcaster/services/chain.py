"""The as-run chain checked against the head the station signed (kept outside the database)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import airlog
from broadcaster.domain import Role
from broadcaster.errors import InputError, InvalidStateError
from broadcaster.services import audit
from broadcaster.services.stations import find_station
from broadcaster.services.users import require_role
from broadcaster.store.models import StationRow
from broadcaster.witness import SignedHead, Witness


@dataclass(frozen=True)
class ChainCheck:
    """One station's chain verified, with the signed head it was compared against."""

    result: airlog.VerifyResult
    signed: SignedHead | None
    key: str  # fingerprint of the station key (compare it with the one on paper or at the district)


def verify_chain(
    session: Session, station: StationRow, witness: Witness, *, known_head: str | None = None
) -> ChainCheck:
    """Verify the chain, and that it ends exactly at the last head this station signed.

    With no signed head at all, every row is unsigned (the head file was removed, or rows were written
    around the software); an empty chain needs none.
    """
    signed = witness.last(station.code)
    pair = (signed.rows, signed.head_hash) if signed else (0, airlog.GENESIS)
    if known_head is None and (acked := witness.heads.acknowledged(station.code)) is not None:
        known_head = acked[1]  # the district holds the chain up to there: those rows cannot go or change
    result = airlog.verify(session, station.id, known_head=known_head, signed=pair)
    return ChainCheck(result, signed, witness.key.fingerprint())


def sign_existing_chains(session: Session, witness: Witness, now: datetime) -> list[str]:
    """Trust on first use: sign the current head of every station that has no signed head yet.

    Run when the station key is first created (`init` on a home from before signed heads); afterwards a
    missing head file is a finding, not something to paper over.
    """
    signed = []
    for station in session.scalars(select(StationRow).order_by(StationRow.id)):
        if witness.heads.load(station.code) is None:
            rows, head_hash = airlog.head_of(session, station.id)
            witness.record(station.code, rows, head_hash, now)
            signed.append(station.code)
    return signed


def sign_head(
    session: Session, station: StationRow, witness: Witness, *, actor: str | None, reason: str, now: datetime
) -> SignedHead:
    """A leader accepts unsigned rows at the end of an otherwise intact chain (after checking them).

    Only rows after the last signed head may be accepted: a chain that no longer contains that head was
    rewritten, and no signature makes it sound again.
    """
    user = require_role(session, actor, Role.LEADER)
    if not reason.strip():
        raise InputError(
            "Thiếu lý do ký mốc: ghi đã đối chiếu những gì (ví dụ sổ nhật ký giấy).",
            'Thêm --reason "đã đối chiếu sổ nhật ký giấy ...".',
            field="reason",
        )
    check = verify_chain(session, station, witness)
    problem = check.result.problem
    if problem is not None and problem.kind != "unsigned":
        raise InvalidStateError(
            f"Chuỗi nhật ký không nguyên vẹn ({problem.message}); không thể ký.",
            "Xem 'broadcaster log verify' và báo cho cấp trên.",
        )
    rows, head_hash = airlog.head_of(session, station.id)
    audit.record(
        session,
        actor=user.name,
        action="as_run.sign_head",
        object_type="station",
        object_id=station.code,
        now=now,
        rows=rows,
        head_hash=head_hash,
        previous_rows=check.signed.rows if check.signed else 0,
        reason=reason.strip(),
    )
    return witness.record(station.code, rows, head_hash, now)


def sign_station_head(
    session: Session,
    witness: Witness,
    station_code: str | None,
    *,
    actor: str | None,
    reason: str,
    now: datetime,
) -> SignedHead:
    """`sign_head` for the station named by its code (None: the only one), as the console calls it."""
    return sign_head(
        session, find_station(session, station_code), witness, actor=actor, reason=reason, now=now
    )
