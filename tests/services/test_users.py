"""Users and roles: creation rules and the role check every service step relies on."""

from __future__ import annotations

import pytest

from broadcaster.app import App
from broadcaster.domain import Role
from broadcaster.errors import InputError, PermissionDenied
from broadcaster.services import users


def test_add_user_validates_name_role_and_uniqueness(app: App) -> None:
    with app.tx() as s:
        row = users.add_user(
            s,
            "lan",
            "officer",
            "Nguyễn Thị Lan",
            actor="lan",
            now=app.clock.now(),
            title="Công chức Văn hóa - Xã hội",
        )
        assert (row.role, row.title) == ("officer", "Công chức Văn hóa - Xã hội")
    with pytest.raises(InputError, match="đã có"), app.tx() as s:
        users.add_user(s, "lan", "leader", "", actor="x", now=app.clock.now())
    with pytest.raises(InputError, match="officer, leader, operator, admin"), app.tx() as s:
        users.add_user(s, "khoi", "chairman", "", actor="x", now=app.clock.now())
    with pytest.raises(InputError, match="dấu cách"), app.tx() as s:
        users.add_user(s, "vu van khoi", "leader", "", actor="x", now=app.clock.now())
    with app.tx() as s:
        assert [u.name for u in users.list_users(s)] == ["lan"]


def test_admin_holds_every_role_and_others_only_their_own(app: App) -> None:
    with app.tx() as s:
        users.add_user(s, "quan", "admin", "", actor="quan", now=app.clock.now())
        users.add_user(s, "hung", "operator", "", actor="quan", now=app.clock.now())
    with app.tx() as s:
        assert users.require_role(s, "quan", Role.LEADER).name == "quan"
        assert users.require_role(s, "hung", Role.OPERATOR).name == "hung"
        with pytest.raises(PermissionDenied, match="lãnh đạo duyệt tin"):
            users.require_role(s, "hung", Role.LEADER)
