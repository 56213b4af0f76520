"""One daemon per station, wherever its data home is: a lease row in the database, renewed by a heartbeat.

The row (holder, host, PID, home, heartbeat, expiry, state) is taken in one transaction with a
conditional UPDATE, so two daemons racing for it cannot both win; on PostgreSQL the daemon also holds
`pg_try_advisory_lock` for the station on a connection of its own. A lease whose heartbeat expired,
or that was left by a dead process on this machine, is taken over. The row doubles as the daemon's
status (idle or on air, rows waiting in its journal, last contact) for the web console to read.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from broadcaster.errors import PlayoutError
from broadcaster.playout.source import DaemonStatus, Holder
from broadcaster.services.station_playout import quick_transaction
from broadcaster.store.db import transaction
from broadcaster.store.models import AiringRow, DaemonLeaseRow, StationRow

# First key of the advisory lock pair ("BRDC"); the second is the station id.
ADVISORY_NAMESPACE = 0x42524443


class LeaseRefused(PlayoutError):
    """Another daemon, alive, holds the station."""


def pid_alive(pid: int) -> bool:
    """True when a process with this PID runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lease_free(row: DaemonLeaseRow, holder: Holder, now: datetime) -> bool:
    """Pure: may `holder` take this lease now (its own, stopped, expired, or left by a dead local process)?"""
    if row.holder == holder.id or row.state == "stopped" or row.expires_at <= now:
        return True
    if row.host != holder.host:
        return False
    # Same machine: the holder of this home's file lock is us, so one with the same home is gone.
    return row.home == holder.home or not pid_alive(row.pid)


class StationLease:
    """The lease of one station's daemon."""

    def __init__(self, sessions: sessionmaker[Session], station_id: int, *, wait_s: float = 2.0) -> None:
        self._sessions = sessions
        self._station_id = station_id
        self._wait_s = wait_s
        self._advisory: Connection | None = None

    def acquire(self, holder: Holder, now: datetime, ttl: timedelta) -> None:
        """Take the lease (and, on PostgreSQL, the advisory lock) or raise LeaseRefused naming the holder."""
        self._lock_advisory()
        try:  # a short wait: a locked database is Unwritable at once, and the daemon tries again
            with quick_transaction(self._sessions, self._wait_s) as session:
                self._take(session, holder, now, ttl)
        except BaseException:
            self._unlock_advisory()
            raise

    def renew(self, holder: Holder, now: datetime, ttl: timedelta, status: DaemonStatus) -> bool:
        """Extend the lease and report status; take it back if it was lost but is free; False if taken."""
        with quick_transaction(self._sessions, self._wait_s) as session:
            done = session.execute(
                update(DaemonLeaseRow)
                .where(DaemonLeaseRow.station_id == self._station_id, DaemonLeaseRow.holder == holder.id)
                .values(
                    heartbeat_at=now,
                    expires_at=now + ttl,
                    state=status.state,
                    on_air_start=status.on_air_start,
                    backlog=status.backlog,
                )
                .execution_options(synchronize_session=False)
            )
            if done.rowcount == 1:  # type: ignore[attr-defined]
                return True
            try:
                self._take(session, holder, now, ttl)
            except LeaseRefused:
                return False
            return True

    def release(self, holder: Holder, now: datetime) -> None:
        """Mark the lease stopped (another daemon may start at once) and drop the advisory lock."""
        try:
            with quick_transaction(self._sessions, self._wait_s) as session:
                session.execute(
                    update(DaemonLeaseRow)
                    .where(DaemonLeaseRow.station_id == self._station_id, DaemonLeaseRow.holder == holder.id)
                    .values(state="stopped", heartbeat_at=now, expires_at=now, on_air_start=None)
                    .execution_options(synchronize_session=False)
                )
        finally:
            self._unlock_advisory()

    def _take(self, session: Session, holder: Holder, now: datetime, ttl: timedelta) -> None:
        row = session.get(DaemonLeaseRow, self._station_id, populate_existing=True)
        values = {
            "holder": holder.id,
            "host": holder.host,
            "pid": holder.pid,
            "home": holder.home,
            "started_at": now,
            "heartbeat_at": now,
            "expires_at": now + ttl,
            "state": "idle",
            "on_air_start": None,
            "backlog": 0,
        }
        if row is None:
            session.add(DaemonLeaseRow(station_id=self._station_id, **values))
            try:
                session.flush()
            except IntegrityError:  # another daemon inserted it first
                raise LeaseRefused(
                    "Một trạm phát khác vừa nhận quyền phát đài này.",
                    "Dừng trạm phát đó trước: mỗi đài chỉ chạy một trạm phát.",
                ) from None
            return
        if not lease_free(row, holder, now):
            raise self._refusal(session, row)
        previous, beat = row.holder, row.heartbeat_at
        done = session.execute(
            update(DaemonLeaseRow)
            .where(
                DaemonLeaseRow.station_id == self._station_id,
                DaemonLeaseRow.holder == previous,
                DaemonLeaseRow.heartbeat_at == beat,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise self._refusal(
                session, session.get_one(DaemonLeaseRow, self._station_id, populate_existing=True)
            )
        if previous != holder.id:
            # A dead daemon's claims on programmes not yet due never aired: they are free again. Claims on
            # past ones stay: that daemon's journal (in its home) holds what happened to them.
            session.execute(
                update(AiringRow)
                .where(
                    AiringRow.claimed_by == previous,
                    AiringRow.settled_at.is_(None),
                    AiringRow.planned_start > now,
                )
                .values(claim=None, claimed_by=None, claimed_at=None)
                .execution_options(synchronize_session=False)
            )

    def _refusal(self, session: Session, row: DaemonLeaseRow) -> LeaseRefused:
        station = session.get_one(StationRow, self._station_id)
        seen = row.heartbeat_at.astimezone(ZoneInfo(station.timezone))
        return LeaseRefused(
            f"Đài {station.code} đã có trạm phát đang chạy trên máy {row.host} (PID {row.pid}, "
            f"thư mục {row.home}), liên lạc lần cuối lúc {seen:%H:%M:%S %d/%m/%Y}.",
            "Dừng trạm phát đó trước: mỗi đài chỉ chạy một trạm phát, dù thư mục dữ liệu khác nhau.",
        )

    def _lock_advisory(self) -> None:
        engine = self._sessions.kw["bind"]
        if engine.dialect.name != "postgresql" or self._advisory is not None:
            return
        conn = engine.connect()
        got = conn.execute(
            text("SELECT pg_try_advisory_lock(:ns, :station)"),
            {"ns": ADVISORY_NAMESPACE, "station": self._station_id},
        ).scalar_one()
        conn.commit()
        if got:
            self._advisory = conn
            return
        conn.close()
        with transaction(self._sessions) as session:
            row = session.scalar(select(DaemonLeaseRow).where(DaemonLeaseRow.station_id == self._station_id))
            if row is not None:
                raise self._refusal(session, row)
        raise LeaseRefused(
            "Đài này đã có trạm phát khác đang giữ khóa trên cơ sở dữ liệu.",
            "Dừng trạm phát đó trước: mỗi đài chỉ chạy một trạm phát.",
        )

    def _unlock_advisory(self) -> None:
        conn, self._advisory = self._advisory, None
        if conn is None:
            return
        try:
            conn.execute(
                text("SELECT pg_advisory_unlock(:ns, :station)"),
                {"ns": ADVISORY_NAMESPACE, "station": self._station_id},
            )
            conn.commit()
        finally:
            conn.close()
