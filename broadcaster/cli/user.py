"""`broadcaster user`: manage the people and their roles."""

from __future__ import annotations

import sys

import click

from broadcaster import labels
from broadcaster.cli.common import State, actor_option, json_option, pass_state, print_json, print_table
from broadcaster.domain import Role
from broadcaster.errors import InputError
from broadcaster.services import users


@click.group()
def user() -> None:
    """Quản lý người dùng, vai trò và mật khẩu đăng nhập."""


@user.command("add")
@click.argument("name")
@click.option(
    "--role",
    required=True,
    type=click.Choice([r.value for r in Role]),
    help="Vai trò: " + "; ".join(f"{r.value} = {labels.label(r)}" for r in Role) + ".",
)
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
        click.echo(f"Đã thêm người dùng {row.name} ({labels.role(row.role)}).")


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
        table = [(n, f, t, labels.role(r)) for n, f, t, r in rows]
        print_table(["Tên", "Họ và tên", "Chức vụ", "Vai trò"], table)


def _read_password_twice() -> str:
    """Ask twice at a terminal; from a pipe, read two lines (so a script can set a password)."""
    if sys.stdin.isatty():
        first = str(click.prompt("Mật khẩu mới", hide_input=True))
        second = str(click.prompt("Nhập lại mật khẩu mới", hide_input=True))
    else:
        lines = sys.stdin.read().splitlines()
        if len(lines) < 2:
            raise InputError(
                "Cần hai dòng mật khẩu giống nhau trên đầu vào chuẩn.",
                "Ví dụ: printf 'mk\\nmk\\n' | broadcaster ...",
            )
        first, second = lines[0], lines[1]
    if first != second:
        raise InputError("Hai lần nhập mật khẩu không giống nhau.", "Chạy lại lệnh và nhập lại.")
    return first


@user.command("passwd")
@click.argument("name")
@actor_option
@pass_state
def passwd(state: State, name: str, actor: str | None) -> None:
    """Đặt mật khẩu đăng nhập trang quản lý cho NAME (hỏi hai lần; quản trị viên hoặc chính người đó)."""
    from broadcaster.services import web_auth

    password = _read_password_twice()
    app = state.app
    with app.tx() as s:
        row = web_auth.set_password(s, name, password, actor=actor or name, now=app.clock.now())
        click.echo(f"Đã đặt mật khẩu cho {row.name}.")


COMMANDS = [user]
