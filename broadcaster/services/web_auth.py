"""Sign-in for the web console and the API: passwords (argon2), server-side sessions, API tokens.

Cookies and tokens carry a random secret; the database keeps only its sha256, so a copy of the
database signs nobody in. Failed sign-ins grow a waiting time on the account (no sleeping server).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from broadcaster.domain import Role
from broadcaster.errors import InputError, NotFoundError, PermissionDenied
from broadcaster.services import audit
from broadcaster.services.users import get_user
from broadcaster.store.models import ApiTokenRow, StationRow, UserRow, WebSessionRow

if TYPE_CHECKING:
    from argon2 import PasswordHasher

MIN_PASSWORD = 8
# Failed attempts allowed before a wait starts; the wait then doubles per failure, up to the cap.
FREE_FAILURES = 3
MAX_WAIT = timedelta(minutes=15)
# last_seen_at is written at most this often (not on every page view).
TOUCH_EVERY = timedelta(seconds=60)
_WRONG = "Tên đăng nhập hoặc mật khẩu không đúng."


@dataclass(frozen=True)
class SignInRefused:
    """Sign-in refused: wrong name or password, or too many failures (then `wait_s` is set).

    Returned, not raised, so that the caller's transaction commits the failure count.
    """

    message: str
    wait_s: int = 0


def _hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()


def token_hash(token: str) -> str:
    """What the database keeps of a cookie or API token."""
    return hashlib.sha256(token.encode()).hexdigest()


def check_password_rules(password: str) -> None:
    """Refuse a password a station could not keep safe."""
    if len(password) < MIN_PASSWORD:
        raise InputError(
            f"Mật khẩu quá ngắn ({len(password)} ký tự).",
            f"Dùng ít nhất {MIN_PASSWORD} ký tự.",
            field="password",
        )
    if password.strip() != password or not password.strip():
        raise InputError(
            "Mật khẩu không được bắt đầu hay kết thúc bằng dấu cách.", "Nhập lại mật khẩu.", field="password"
        )


def set_password(session: Session, name: str, password: str, *, actor: str, now: datetime) -> UserRow:
    """Set a user's password (an administrator for anyone, or the user for themself); ends their sessions."""
    user = get_user(session, name)
    if actor != user.name:
        acting = get_user(session, actor)
        if acting.role != Role.ADMIN:
            raise PermissionDenied(
                "Chỉ quản trị viên mới đặt mật khẩu cho người khác.", "Mỗi người tự đổi mật khẩu của mình."
            )
    check_password_rules(password)
    user.password_hash = _hasher().hash(password)
    user.password_changed_at = now
    user.failed_logins = 0
    user.last_failed_at = None
    session.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user.id))
    audit.record(
        session, actor=actor, action="user.password", object_type="user", object_id=user.name, now=now
    )
    return user


def change_own_password(session: Session, user: UserRow, old: str, new: str, *, now: datetime) -> UserRow:
    """A signed-in user changes their own password, proving the old one first."""
    if not user.password_hash or not _verify(user.password_hash, old):
        raise InputError("Mật khẩu hiện tại không đúng.", "Nhập lại mật khẩu đang dùng.", field="old")
    return set_password(session, user.name, new, actor=user.name, now=now)


def _verify(stored: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(_hasher().verify(stored, password))
    except (VerificationError, InvalidHashError):
        return False


def wait_after_failures(failures: int) -> timedelta:
    """How long an account waits after `failures` wrong passwords in a row (pure)."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(MAX_WAIT, timedelta(seconds=2 ** (failures - FREE_FAILURES + 1)))


@dataclass(frozen=True)
class SignedIn:
    """A new browser session: the cookie value to set (shown once) and who it is."""

    token: str
    user: UserRow


def sign_in(
    session: Session, name: str, password: str, *, client: str, now: datetime
) -> SignedIn | SignInRefused:
    """Check a name and password; on success a new server-side session, on failure a growing wait."""
    user = session.scalar(select(UserRow).where(UserRow.name == name.strip()))
    if user is None or not user.password_hash:
        _hasher().hash(password)  # about the same time as a real check: names cannot be probed by timing
        return SignInRefused(f"{_WRONG} Kiểm tra chữ hoa, chữ thường và bộ gõ tiếng Việt.")
    if user.last_failed_at is not None:
        ready = user.last_failed_at + wait_after_failures(user.failed_logins)
        if now < ready:
            wait_s = int((ready - now).total_seconds()) + 1
            return SignInRefused(
                f"Đã nhập sai {user.failed_logins} lần. Chờ {wait_s} giây rồi thử lại.", wait_s
            )
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        user.last_failed_at = now
        audit.record(
            session,
            actor=user.name,
            action="web.sign_in_failed",
            object_type="user",
            object_id=user.name,
            now=now,
            client=client,
        )
        wait_s = int(wait_after_failures(user.failed_logins).total_seconds())
        return SignInRefused(f"{_WRONG} Chờ {wait_s} giây rồi thử lại." if wait_s else _WRONG, wait_s)
    user.failed_logins = 0
    user.last_failed_at = None
    token = secrets.token_urlsafe(32)
    session.add(
        WebSessionRow(
            token_hash=token_hash(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            client=client[:255],
        )
    )
    audit.record(
        session,
        actor=user.name,
        action="web.sign_in",
        object_type="user",
        object_id=user.name,
        now=now,
        client=client,
    )
    return SignedIn(token, user)


def session_user(session: Session, token: str | None, *, now: datetime, idle: timedelta) -> UserRow | None:
    """The user of a browser session that has been active within `idle`; an idle one is ended."""
    if not token:
        return None
    row = session.scalar(select(WebSessionRow).where(WebSessionRow.token_hash == token_hash(token)))
    if row is None:
        return None
    if now - row.last_seen_at > idle:
        session.delete(row)
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
    return session.get(UserRow, row.user_id)


def sign_out(session: Session, token: str | None, *, now: datetime) -> None:
    """End a browser session (nothing to do if it already ended)."""
    if not token:
        return
    row = session.scalar(select(WebSessionRow).where(WebSessionRow.token_hash == token_hash(token)))
    if row is not None:
        user = session.get(UserRow, row.user_id)
        session.delete(row)
        if user is not None:
            audit.record(
                session,
                actor=user.name,
                action="web.sign_out",
                object_type="user",
                object_id=user.name,
                now=now,
            )


@dataclass(frozen=True)
class NewToken:
    """An API token as created: the secret is shown once and never stored."""

    token: str
    row: ApiTokenRow


def create_api_token(
    session: Session,
    *,
    actor: str,
    name: str,
    now: datetime,
    user_name: str | None = None,
    station_code: str | None = None,
) -> NewToken:
    """An administrator issues a token for a user (acts with their role) or for a station (machines)."""
    acting = get_user(session, actor)
    if acting.role != Role.ADMIN:
        raise PermissionDenied("Chỉ quản trị viên mới cấp mã truy cập.", "Nhờ quản trị viên của đài.")
    if (user_name is None) == (station_code is None):
        raise InputError(
            "Mã truy cập phải thuộc một người dùng hoặc một đài.", "Chọn một trong hai.", field="owner"
        )
    if not name.strip():
        raise InputError("Thiếu tên gợi nhớ của mã truy cập.", "Ví dụ: 'máy chủ huyện'.", field="name")
    if len(name.strip()) > 100:
        raise InputError("Tên gợi nhớ quá dài.", "Dùng tối đa 100 ký tự.", field="name")
    user_id = station_id = None
    if user_name is not None:
        user_id = get_user(session, user_name).id
    else:
        station = session.scalar(select(StationRow).where(StationRow.code == station_code))
        if station is None:
            raise NotFoundError(f"Không có đài '{station_code}'.", "Kiểm tra mã đài.")
        station_id = station.id
    token = "bc_" + secrets.token_urlsafe(32)
    row = ApiTokenRow(
        name=name.strip(),
        token_hash=token_hash(token),
        user_id=user_id,
        station_id=station_id,
        created_at=now,
        created_by=acting.name,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=acting.name,
        action="api_token.create",
        object_type="api_token",
        object_id=row.id,
        now=now,
        name=row.name,
        user=user_name,
        station=station_code,
    )
    return NewToken(token, row)


def revoke_api_token(session: Session, token_id: int, *, actor: str, now: datetime) -> ApiTokenRow:
    """An administrator revokes a token; it stops working at once."""
    acting = get_user(session, actor)
    if acting.role != Role.ADMIN:
        raise PermissionDenied("Chỉ quản trị viên mới thu hồi mã truy cập.", "Nhờ quản trị viên của đài.")
    row = session.get(ApiTokenRow, token_id)
    if row is None:
        raise NotFoundError(f"Không có mã truy cập số {token_id}.", "Xem danh sách trong trang Quản trị.")
    if row.revoked_at is None:
        row.revoked_at = now
        audit.record(
            session,
            actor=acting.name,
            action="api_token.revoke",
            object_type="api_token",
            object_id=row.id,
            now=now,
        )
    return row


def api_token_owner(session: Session, token: str, *, now: datetime) -> ApiTokenRow | None:
    """The live token row for a presented token (None if unknown or revoked)."""
    row = session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == token_hash(token)))
    if row is None or row.revoked_at is not None:
        return None
    if row.last_used_at is None or now - row.last_used_at > TOUCH_EVERY:
        row.last_used_at = now
    return row


@dataclass(frozen=True)
class TokenView:
    """One API token as the administrator's list shows it (never its secret)."""

    id: int
    name: str
    user_name: str | None
    user_full_name: str
    user_role: str | None
    station_code: str | None
    station_name: str
    created_at: datetime
    created_by: str
    last_used_at: datetime | None
    revoked_at: datetime | None


def list_api_tokens(session: Session, *, actor: str) -> list[TokenView]:
    """Every API token, newest first, with its owner and last use (administrators only)."""
    acting = get_user(session, actor)
    if acting.role != Role.ADMIN:
        raise PermissionDenied("Chỉ quản trị viên mới xem các mã truy cập.", "Nhờ quản trị viên của đài.")
    q = (
        select(ApiTokenRow, UserRow, StationRow)
        .outerjoin(UserRow, UserRow.id == ApiTokenRow.user_id)
        .outerjoin(StationRow, StationRow.id == ApiTokenRow.station_id)
        .order_by(ApiTokenRow.id.desc())
    )
    return [
        TokenView(
            id=token.id,
            name=token.name,
            user_name=user.name if user else None,
            user_full_name=(user.full_name or user.name) if user else "",
            user_role=user.role if user else None,
            station_code=station.code if station else None,
            station_name=station.name if station else "",
            created_at=token.created_at,
            created_by=token.created_by,
            last_used_at=token.last_used_at,
            revoked_at=token.revoked_at,
        )
        for token, user, station in session.execute(q)
    ]
