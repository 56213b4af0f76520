"""Users and roles: who may write, approve, queue and play."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import labels
from broadcaster.domain import Role
from broadcaster.errors import InputError, NotFoundError, PermissionDenied
from broadcaster.services import audit
from broadcaster.store.models import UserRow


def get_user(session: Session, name: str | None) -> UserRow:
    """The acting user by name; a clear error when none is given or it is unknown."""
    if not name:
        raise PermissionDenied(
            "Chưa biết ai đang thao tác.", "Thêm --as TÊN hoặc đặt biến môi trường BROADCASTER_USER."
        )
    user = session.scalar(select(UserRow).where(UserRow.name == name))
    if user is None:
        raise NotFoundError(
            f"Không có người dùng '{name}'.",
            "Xem danh sách bằng 'broadcaster user list' hoặc thêm bằng 'user add'.",
        )
    return user


def require_role(session: Session, name: str | None, *roles: Role) -> UserRow:
    """The acting user, if they hold one of `roles` (admin holds every role)."""
    user = get_user(session, name)
    if user.role != Role.ADMIN and user.role not in roles:
        wanted = " hoặc ".join(labels.label(r) for r in roles)
        raise PermissionDenied(
            f"'{user.name}' ({labels.role(user.role)}) không được làm bước này.",
            f"Bước này cần {wanted}.",
        )
    return user


def add_user(
    session: Session, name: str, role: str, full_name: str, *, actor: str, now: datetime, title: str = ""
) -> UserRow:
    """Create a user; the name must be new and the role known."""
    try:
        role_value = Role(role)
    except ValueError as exc:
        raise InputError(
            f"Vai trò '{role}' không hợp lệ.",
            f"Chọn một trong: {', '.join(r.value for r in Role)}.",
            field="role",
        ) from exc
    name = name.strip()
    if not name or any(c.isspace() for c in name):
        raise InputError(
            "Tên đăng nhập không hợp lệ.", "Dùng một từ không dấu cách, ví dụ 'lan.vhxh'.", field="name"
        )
    if session.scalar(select(UserRow).where(UserRow.name == name)):
        raise InputError(f"Người dùng '{name}' đã có.", "Chọn tên khác.", field="name")
    user = UserRow(name=name, role=role_value.value, full_name=full_name, title=title.strip(), created_at=now)
    session.add(user)
    session.flush()
    audit.record(
        session, actor=actor, action="user.add", object_type="user", object_id=name, now=now, role=role
    )
    return user


def list_users(session: Session) -> list[UserRow]:
    """All users by name."""
    return list(session.scalars(select(UserRow).order_by(UserRow.name)))
