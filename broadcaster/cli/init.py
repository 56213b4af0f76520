"""`broadcaster init`: create the home, a commented config and the database."""

from __future__ import annotations

import click

from broadcaster.cli.common import State, pass_state


@click.command()
@pass_state
def init(state: State) -> None:
    """Tạo thư mục dữ liệu, tệp cấu hình mẫu và cơ sở dữ liệu (chạy lại không thay đổi gì)."""
    from broadcaster.services.home import check_existing_database

    check_existing_database(state.app.config.database_url)  # a bad database file: refuse before writing
    made = state.app.init()
    if made:
        for item in made:
            click.echo(f"Đã tạo: {item}")
    else:
        click.echo(f"Đã sẵn sàng, không có gì thay đổi: {state.app.config.home}")


COMMANDS = [init]
