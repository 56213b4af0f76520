"""`broadcaster log`: verify and read the as-run log."""

from __future__ import annotations

import sys

import click

from broadcaster import airlog
from broadcaster.cli.common import State, json_option, pass_state, print_json
from broadcaster.services.stations import find_station


@click.group()
def log() -> None:
    """Nhật ký phát sóng (as-run log)."""


@log.command("verify")
@json_option
@pass_state
def verify(state: State, as_json: bool) -> None:
    """Kiểm tra chuỗi băm của nhật ký; mã thoát 0 nếu nguyên vẹn, 1 nếu bị sửa."""
    with state.app.tx() as s:
        station = find_station(s, state.station)
        result = airlog.verify(s, station.id)
    if as_json:
        problem = result.problem
        print_json(
            {
                "station": station.code,
                "rows": result.rows,
                "ok": result.ok,
                "head_hash": result.head_hash,
                "problem": None if problem is None else problem.__dict__,
            }
        )
    elif result.ok:
        click.echo(
            f"Nhật ký đài {station.code} nguyên vẹn: {result.rows} dòng; mã băm cuối {result.head_hash}."
        )
    else:
        assert result.problem is not None
        p = result.problem
        click.echo(
            f"Nhật ký đài {station.code} KHÔNG nguyên vẹn: dòng id={p.row_id} "
            f"(số thứ tự {p.seq}): {p.message}."
        )
    if not result.ok:
        sys.exit(1)


COMMANDS = [log]
