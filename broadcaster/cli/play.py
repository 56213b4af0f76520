"""`broadcaster run` (the station daemon, in the foreground until SIGTERM or Ctrl-C) and `play-now`."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from zoneinfo import ZoneInfo

import click

from broadcaster import labels
from broadcaster.cli.common import State, actor_option, pass_state
from broadcaster.cli.doctor import log_self_check
from broadcaster.services import queue
from broadcaster.services.emergency import start_emergency
from broadcaster.services.stations import station_domain


@click.command()
@click.option("-v", "--verbose", is_flag=True, help="In chi tiết hoạt động.")
@pass_state
def run(state: State, verbose: bool) -> None:
    """Chạy trạm phát: phát các buổi đã xếp đúng giờ và ghi nhật ký phát sóng."""
    for level in (logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL):
        logging.addLevelName(level, labels.log_level(logging.getLevelName(level)))
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format="%(asctime)s %(levelname)s %(message)s"
    )
    # Their lines are English and not the station's business: the daemon logs what matters itself
    # (a job skipped because the previous run is still busy is expected while the database is locked).
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    app = state.app
    with app.station_tx(state.station) as (_, station):
        pass  # the station row only: the daemon opens its own transactions
    daemon = app.daemon(station)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()
        daemon.request_stop()  # also while it still waits for the database at start

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    daemon.start()
    output = labels.player(app.player_name())
    click.echo(f"Trạm phát {station.name} đang chạy (bộ phát: {output}). Dừng bằng Ctrl-C.")
    try:
        log_self_check(app)  # the doctor's checks, one log line each; they never stop the station
        while not stop.wait(1.0):
            pass
    finally:
        daemon.stop()
        click.echo("Đã dừng trạm phát.")


@click.command("play-now")
@click.argument("bulletin_id", type=int)
@click.option("--emergency", is_flag=True, help="Tin khẩn cấp: cắt chương trình đang phát.")
@actor_option
@pass_state
def play_now(state: State, bulletin_id: int, emergency: bool, actor: str | None) -> None:
    """Phát ngay một bản tin đã duyệt (trạm phát đang chạy sẽ phát sau vài giây)."""
    app = state.app
    with app.station_tx(state.station) as (s, row):
        domain = station_domain(s, row)
        if emergency:  # the console's service: no lead, and the daemon is woken once this commits
            now, wake = app.clock.now(), app.wake_daemon
            airing = start_emergency(s, app, state.station, str(bulletin_id), actor=actor, now=now, wake=wake)
        else:
            airing = queue.play_now(
                s,
                row,
                domain,
                bulletin_id,
                actor=actor,
                now=app.clock.now(),
                lengths=app.lengths(s, row),
            )
        local = airing.planned_start.astimezone(ZoneInfo(domain.timezone))
    kind = labels.priority("emergency" if emergency else "priority")
    soon = "ngay (trong vòng một giây)" if emergency else "trong vài giây"
    click.echo(
        f"Đã xếp phát {kind} bản tin {bulletin_id} lúc {local:%H:%M:%S} (lượt số {airing.id}); "
        f"trạm phát đang chạy sẽ phát {soon}."
    )


COMMANDS = [run, play_now]
