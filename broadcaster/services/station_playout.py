"""The daemon's view of the database: upcoming sessions, claims, building programmes, writing as-run rows.

Exactly once lives in two conditional UPDATEs on the airing row: a claim (`claim IS NULL`) before air,
and `settled_at IS NULL` in the transaction that appends the airing's as-run rows. Both run with a short
wait for the database (not the 30-s busy timeout), so a lock near air time fails fast and is retried.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from broadcaster import airlog
from broadcaster.domain import AsRunEntry, Priority
from broadcaster.playout.asrun import ItemSpan
from broadcaster.playout.source import Unwritable
from broadcaster.services import queue
from broadcaster.services.programmes import BuiltProgramme, unbuilt_items
from broadcaster.store.db import transaction
from broadcaster.store.models import AiringRow, AsRunRow


@dataclass(frozen=True)
class PlannedSession:
    """A session start with queued airings; `signature` changes whenever its content changes."""

    planned_start: datetime
    session_code: str
    signature: tuple[tuple[int, int], ...]
    priority: Priority


class _AllOrNothing(Exception):
    """Roll the claim back: some airing of the programme could not be claimed."""


def _unwritable(exc: DBAPIError) -> Unwritable:
    said = str(exc.orig).lower()
    why = "đang bị khóa" if "locked" in said or "lock timeout" in said else f"báo lỗi: {exc.orig}"
    return Unwritable(
        f"cơ sở dữ liệu {why}", "Đóng chương trình đang giữ cơ sở dữ liệu; trạm phát tự ghi lại sau."
    )


@contextmanager
def quick_transaction(sessions: sessionmaker[Session], wait_s: float) -> Iterator[Session]:
    """A unit of work that waits at most `wait_s` for another writer; Unwritable when it cannot commit.

    It has a connection of its own, so the short SQLite busy timeout is set and restored on exactly
    that connection (PostgreSQL: a lock timeout local to the transaction).
    """
    engine = sessions.kw["bind"]
    ms = max(1, int(wait_s * 1000))
    try:
        with engine.connect() as conn:
            old: int | None = None
            if conn.dialect.name == "sqlite":
                old = int(conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one())
                conn.exec_driver_sql(f"PRAGMA busy_timeout = {ms}")
                conn.commit()
            try:
                with Session(bind=conn, expire_on_commit=False) as session, session.begin():
                    if old is None:
                        session.execute(text(f"SET LOCAL lock_timeout = '{ms}ms'"))
                    yield session
            finally:
                if old is not None:
                    conn.rollback()
                    conn.exec_driver_sql(f"PRAGMA busy_timeout = {old}")
                    conn.commit()
    except DBAPIError as exc:
        raise _unwritable(exc) from exc


class StationPlayout:
    """Database-backed source of programmes for one station's daemon."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        station_id: int,
        builder: Callable[[Session, datetime], BuiltProgramme | None],
        recorded_by: str = "daemon",
    ) -> None:
        self._sessions = sessions
        self.station_id = station_id
        self._builder = builder
        self._recorded_by = recorded_by

    def _open(self, session: Session, airings: Sequence[AiringRow], holder: str | None) -> list[AiringRow]:
        """Airings not yet settled or logged and not claimed by another daemon than `holder`."""
        done = self._logged(session, [a.id for a in airings])
        return [
            a
            for a in airings
            if a.settled_at is None and a.id not in done and (a.claim is None or a.claimed_by == holder)
        ]

    def pending(self, start: datetime, end: datetime, holder: str) -> list[PlannedSession]:
        """Sessions in [start, end) with airings not yet settled and not claimed by another daemon."""
        with transaction(self._sessions) as session:
            airings = self._open(session, queue.active_airings(session, self.station_id, start, end), holder)
        grouped: dict[datetime, list[AiringRow]] = {}
        for a in airings:
            grouped.setdefault(a.planned_start, []).append(a)
        out = []
        for when, rows in sorted(grouped.items()):
            top = max((Priority(r.priority) for r in rows), key=list(Priority).index)
            out.append(
                PlannedSession(when, rows[0].session_code, tuple((r.id, r.revision_id) for r in rows), top)
            )
        return out

    @staticmethod
    def _logged(session: Session, airing_ids: Sequence[int]) -> set[int]:
        if not airing_ids:
            return set()
        q = select(AsRunRow.airing_id).where(AsRunRow.airing_id.in_(airing_ids))
        return {i for i in session.scalars(q) if i is not None}

    def build(self, planned_start: datetime) -> BuiltProgramme | None:
        """Render what is missing and assemble the programme of one session."""
        with transaction(self._sessions) as session:
            return self._builder(session, planned_start)

    def claim(
        self, airing_ids: Sequence[int], token: str, holder: str, now: datetime, wait_s: float
    ) -> set[int]:
        """Claim all these airings for `token` in one transaction, or none; returns the ids it could not."""
        lost: set[int] = set()
        try:
            with quick_transaction(self._sessions, wait_s) as session:
                self._claim(session, airing_ids, token, holder, now, lost)
        except _AllOrNothing:
            return lost  # rolled back: never half a programme
        return lost

    def _claim(
        self,
        session: Session,
        airing_ids: Sequence[int],
        token: str,
        holder: str,
        now: datetime,
        lost: set[int],
    ) -> None:
        for airing_id in airing_ids:
            done = session.execute(
                update(AiringRow)
                .where(
                    AiringRow.id == airing_id,
                    AiringRow.cancelled_at.is_(None),
                    AiringRow.settled_at.is_(None),
                    or_(AiringRow.claim.is_(None), AiringRow.claim == token),
                )
                .values(claim=token, claimed_by=holder, claimed_at=func.coalesce(AiringRow.claimed_at, now))
                .execution_options(synchronize_session=False)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                lost.add(airing_id)
        if lost:
            raise _AllOrNothing
        self._release(session, token, keep=airing_ids)

    def release(self, airing_ids: Sequence[int], token: str, wait_s: float) -> None:
        """Give back unsettled airings claimed by `token` (it never went on air)."""
        with quick_transaction(self._sessions, wait_s) as session:
            self._release(session, token, only=airing_ids)

    @staticmethod
    def _release(
        session: Session, token: str, *, only: Sequence[int] | None = None, keep: Sequence[int] = ()
    ) -> None:
        q = update(AiringRow).where(AiringRow.claim == token, AiringRow.settled_at.is_(None))
        if only is not None:
            q = q.where(AiringRow.id.in_(only))
        if keep:
            q = q.where(AiringRow.id.not_in(keep))
        session.execute(
            q.values(claim=None, claimed_by=None, claimed_at=None).execution_options(
                synchronize_session=False
            )
        )

    def record(
        self, entries: Sequence[AsRunEntry], now: datetime, *, token: str, holder: str, wait_s: float
    ) -> list[int]:
        """Append as-run rows once, in one transaction; an airing already settled is skipped."""
        with quick_transaction(self._sessions, wait_s) as session:
            ids = []
            for entry in entries:
                if entry.airing_id is not None and not self._settle(
                    session, entry.airing_id, token, holder, now
                ):
                    continue  # its rows are in the log already (a retry, a restart, another daemon)
                row = airlog.append(session, self.station_id, entry, recorded_by=self._recorded_by, now=now)
                ids.append(row.id)
            return ids

    @staticmethod
    def _settle(session: Session, airing_id: int, token: str, holder: str, now: datetime) -> bool:
        done = session.execute(
            update(AiringRow)
            .where(
                AiringRow.id == airing_id,
                AiringRow.settled_at.is_(None),
                or_(AiringRow.claim.is_(None), AiringRow.claim == token),
            )
            .values(
                settled_at=now,
                claim=token,
                claimed_by=func.coalesce(AiringRow.claimed_by, holder),
                claimed_at=func.coalesce(AiringRow.claimed_at, now),
            )
            .execution_options(synchronize_session=False)
        )
        return bool(done.rowcount == 1)  # type: ignore[attr-defined]

    def requeue(self, airing_ids: Sequence[int], planned_start: datetime, now: datetime) -> list[int]:
        """Queue these airings' revisions again, in the same order, as one programme at `planned_start`."""
        with transaction(self._sessions) as session:
            made = [
                queue.resume_airing(
                    session, airing_id, planned_start, position, actor=self._recorded_by, now=now
                ).id
                for position, airing_id in enumerate(airing_ids)
            ]
            return made

    def unbuilt(self, planned_start: datetime) -> list[ItemSpan]:
        """The unsettled items of a session, described without building it (to log it as not aired)."""
        with transaction(self._sessions) as session:
            rows = queue.active_airings(
                session, self.station_id, planned_start, planned_start + timedelta(microseconds=1)
            )
            done = self._logged(session, [a.id for a in rows])
            return unbuilt_items(session, [r for r in rows if r.id not in done and r.settled_at is None])
