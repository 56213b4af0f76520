"""`broadcaster user`: manage the people and their roles."""

from __future__ import annotations

import click

from broadcaster.cli.common import State, actor_option, json_option, pass_state, print_json, print_table
from broadcaster.domain import Role
from broadcaster.services import users


@click.group()
def user() -> None:
    """Quản lý người dùng và vai trò (officer, leader, operator, admin)."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]), help="Vai trò.")
@click.option("--full-name", default="", help="Họ và tên.")
@click.option("--title", default="", help='Chức vụ, ví dụ "Phó Chủ tịch UBND phường" (in ở khối chữ ký).')
@actor_option
@pass_state
def add(state: State, name: str, role: str, full_name: str, title: str, actor: str | None) -> None:
    """Thêm người dùng NAME với một vai trò."""
    app = state.app
    with app.tx() as s:
        if users.list_users(s):  # the first user may be created by anyone (bootstrap); later ones by an admin
            users.require_role(s, actor, Role.ADMIN)
        row = users.add_user(s, name, role, full_name, actor=actor or name, now=app.clock.now(), title=title)
        click.echo(f"Đã thêm người dùng {row.name} ({users.ROLE_LABELS[Role(row.role)]}).")


@user.command("list")
@json_option
@pass_state
def list_(state: State, as_json: bool) -> None:
    """Danh sách người dùng."""
    with state.app.tx() as s:
        rows = [(u.name, u.full_name, u.title, u.role) for u in users.list_users(s)]
    if as_json:
        print_json([{"name": n, "full_name": f, "title": t, "role": r} for n, f, t, r in rows])
    else:
        print_table(["Tên", "Họ và tên", "Chức vụ", "Vai trò"], rows)


COMMANDS = [user]
