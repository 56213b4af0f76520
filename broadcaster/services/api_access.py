"""Who calls the JSON API and what they may read: a user's token acts with that user's role; a station's
token (machines, the district sync) reads its own station and changes nothing.

The secret of a token is never logged or audited: the audit names the token by its id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.errors import NotFoundError, PermissionDenied
from broadcaster.services import audit, bulletins, web_auth
from broadcaster.services.stations import find_station
from broadcaster.store.models import AiringRow, BulletinRow, DaemonLeaseRow, RenderRow, StationRow, UserRow

TOKEN_PREFIX = "bc_"


@dataclass(frozen=True)
class ApiCaller:
    """The owner of a live API token: a user (with their role now) or a station."""

    token_id: int
    user_name: str | None
    role: str | None
    station_id: int | None

    @property
    def label(self) -> str:
        """Who this is in the audit trail: the user's name, or the station token's id."""
        return self.user_name or f"token:{self.token_id}"


def api_caller(session: Session, token: str | None, *, now: datetime) -> ApiCaller | None:
    """The caller behind a presented bearer token; None when it is missing, unknown or revoked."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    row = web_auth.api_token_owner(session, token, now=now)
    if row is None:
        return None
    if row.user_id is not None:
        user = session.get(UserRow, row.user_id)
        if user is None:
            return None
        return ApiCaller(row.id, user.name, user.role, None)
    return ApiCaller(row.id, None, None, row.station_id)


def acting_user(caller: ApiCaller) -> str:
    """The user a change is made as; a station's token only reads."""
    if caller.user_name is None:
        raise PermissionDenied(
            "Mã truy cập của đài chỉ được đọc bản tin, lịch phát và nhật ký của đài đó.",
            "Dùng mã truy cập của một người dùng (có vai trò phù hợp) để thay đổi dữ liệu.",
        )
    return caller.user_name


def caller_station(session: Session, caller: ApiCaller, served: str | None) -> StationRow:
    """The station a request reads: a station token's own, else the station the console serves."""
    if caller.station_id is not None:
        return session.get_one(StationRow, caller.station_id)
    return find_station(session, served)


def station_bulletin(session: Session, station: StationRow, bulletin_id: int) -> BulletinRow:
    """A bulletin of this station (another station's is as unknown as a missing one)."""
    row = bulletins.get(session, bulletin_id)
    if row.station_id != station.id:
        raise NotFoundError(f"Không có bản tin số {bulletin_id}.", "Kiểm tra số bản tin.")
    return row


def known_durations(session: Session, airing_ids: list[int]) -> dict[int, float | None]:
    """Seconds of each airing's audio where it is already made (a read renders nothing)."""
    if not airing_ids:
        return {}
    out: dict[int, float | None] = dict.fromkeys(airing_ids)
    q = (
        select(AiringRow.id, RenderRow.duration_s)
        .join(RenderRow, RenderRow.revision_id == AiringRow.revision_id)
        .where(AiringRow.id.in_(airing_ids), RenderRow.kind.in_(("speech", "recording")))
        .order_by(RenderRow.id)
    )
    for airing_id, seconds in session.execute(q):
        out[airing_id] = seconds  # the newest render wins
    return out


def record_api_use(session: Session, caller: ApiCaller, *, method: str, path: str, now: datetime) -> None:
    """Audit one change made through the API, naming the token by id (never its secret)."""
    audit.record(
        session,
        actor=caller.label,
        action="api.request",
        object_type="api_token",
        object_id=caller.token_id,
        now=now,
        method=method,
        path=path,
    )


@dataclass(frozen=True)
class DaemonView:
    """The station daemon's heartbeat as the API reports it."""

    state: str
    alive: bool
    host: str
    pid: int
    started_at: datetime
    heartbeat_at: datetime
    expires_at: datetime
    on_air_start: datetime | None
    backlog: int
    seconds_since_contact: float


def daemon_view(session: Session, station: StationRow, *, now: datetime) -> DaemonView | None:
    """The daemon's last heartbeat (None if no daemon ever ran); `alive` while its lease holds."""
    row = session.scalar(select(DaemonLeaseRow).where(DaemonLeaseRow.station_id == station.id))
    if row is None:
        return None
    alive = row.state != "stopped" and row.expires_at > now
    return DaemonView(
        state=row.state,
        alive=alive,
        host=row.host,
        pid=row.pid,
        started_at=row.started_at,
        heartbeat_at=row.heartbeat_at,
        expires_at=row.expires_at,
        on_air_start=row.on_air_start,
        backlog=row.backlog,
        seconds_since_contact=max(0.0, (now - row.heartbeat_at).total_seconds()),
    )
