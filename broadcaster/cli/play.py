"""`broadcaster run`: the station daemon in the foreground until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import click

from broadcaster.cli.common import State, pass_state
from broadcaster.services.stations import find_station


@click.command()
@click.option("-v", "--verbose", is_flag=True, help="In chi tiết hoạt động.")
@pass_state
def run(state: State, verbose: bool) -> None:
    """Chạy trạm phát: phát các buổi đã xếp đúng giờ và ghi nhật ký phát sóng."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    app = state.app
    with app.tx() as s:
        station = find_station(s, state.station)
    daemon = app.daemon(station)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    daemon.start()
    click.echo(f"Trạm phát {station.name} đang chạy (bộ phát {app.player_name()}). Dừng bằng Ctrl-C.")
    try:
        while not stop.wait(1.0):
            pass
    finally:
        daemon.stop()
        click.echo("Đã dừng trạm phát.")


COMMANDS = [run]
