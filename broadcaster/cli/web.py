"""`broadcaster web`: serve the web console (the daemon, `broadcaster run`, does the playing)."""

from __future__ import annotations

import click

from broadcaster.cli.common import State, pass_state


@click.command("web")
@click.option(
    "--host",
    default=None,
    help="Địa chỉ nghe (mặc định [web] host); 0.0.0.0 để máy khác trong mạng của phường vào được.",
)
@click.option(
    "--port", default=None, type=click.IntRange(1, 65535), help="Cổng (mặc định [web] port = 8080)."
)
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(1, 16),
    help="Số tiến trình phục vụ (mặc định [web] workers: mỗi nhân một tiến trình, tối đa 2).",
)
@pass_state
def web(state: State, host: str | None, port: int | None, workers: int | None) -> None:
    """Chạy trang quản lý trên trình duyệt (máy tính hoặc điện thoại trong mạng của phường)."""
    import os

    from broadcaster.web.server import serve, worker_count

    app = state.app
    host = host or app.config.web.host
    port = port or app.config.web.port
    workers = workers or worker_count(app.config.web.workers)
    if state.station:  # each worker process builds its App from the environment
        os.environ["BROADCASTER_STATION_CODE"] = state.station
    with app.tx():
        pass  # an uninitialised home is refused in one line, before the server starts
    click.echo(f"Trang quản lý: http://{'localhost' if host in ('127.0.0.1', '0.0.0.0') else host}:{port}/")
    if host == "0.0.0.0":
        for address in lan_addresses():
            click.echo(f"Từ điện thoại hoặc máy khác trong mạng của phường: http://{address}:{port}/")
    serve(app, host=host, port=port, workers=workers)


def lan_addresses() -> list[str]:
    """This PC's IPv4 addresses on its networks (not loopback), for the URL typed on a phone."""
    import socket

    import psutil

    found = [
        a.address
        for addrs in psutil.net_if_addrs().values()
        for a in addrs
        if a.family == socket.AF_INET and not a.address.startswith("127.")
    ]
    return sorted(set(found))


COMMANDS = [web]
