"""`broadcaster station link|status` and `broadcaster sync`: this station and its district server."""

from __future__ import annotations

import click

from broadcaster.cli.common import State, pass_state
from broadcaster.errors import InputError


@click.group("station")
def station() -> None:
    """Liên kết đài với máy chủ của huyện (gửi nhật ký phát sóng lên huyện)."""


@station.command("link")
@click.argument("url")
@click.option("--token", required=True, metavar="MÃ", help="Mã truy cập huyện cấp cho đài (bc_…).")
@pass_state
def link(state: State, url: str, token: str) -> None:
    """Liên kết đài với máy chủ huyện ở URL; thử kết nối ngay."""
    from broadcaster.services import forwarding

    app = state.app
    with app.station_tx(state.station) as (_, row):
        code = row.code
    saved = forwarding.save_link(app.config.home, url, token)
    click.echo(f"Đã liên kết đài {code} với máy chủ huyện {saved.url}.")
    district = app.district_port()
    assert district is not None
    try:
        held = district.head(code)
    except forwarding.DistrictUnreachable as exc:
        click.echo(f"Chưa kết nối được: {exc.one_line()}", err=True)
        return
    click.echo(f"Huyện đang có {held.rows} dòng nhật ký của đài; trạm phát sẽ gửi phần còn lại.")


@station.command("status")
@pass_state
def status(state: State) -> None:
    """Đài đã liên kết với huyện chưa, và huyện đã xác nhận đến dòng nhật ký nào."""
    from broadcaster.services import forwarding

    app = state.app
    with app.station_tx(state.station) as (s, row):
        code, rows = row.code, forwarding.local_rows(s, row)
    saved = forwarding.load_link(app.config.home)
    if saved is None:
        click.echo(f"Đài {code} chưa liên kết với máy chủ huyện ({rows} dòng nhật ký ở máy này).")
        return
    acked = app.witness.heads.acknowledged(code)
    done = acked[0] if acked else 0
    click.echo(f"Đài {code} liên kết với {saved.url}: huyện đã xác nhận {done} / {rows} dòng nhật ký.")


@click.command("sync")
@pass_state
def sync(state: State) -> None:
    """Gửi ngay nhật ký chưa gửi lên huyện và nhận bản tin huyện gửi (trạm phát cũng tự làm định kỳ)."""
    from broadcaster import labels
    from broadcaster.services import district_inbox, forwarding

    app = state.app
    with app.station_tx(state.station) as (_, row):
        code = row.code
    district = app.district_port()
    if district is None:
        raise InputError(
            f"Đài {code} chưa liên kết với máy chủ huyện.",
            "Liên kết trước: broadcaster station link URL --token MÃ (mã do huyện cấp).",
        )
    result = forwarding.sync_up(app.sessions, code, district, app.witness, now=app.clock.now())
    if result.broken:
        raise InputError(
            f"Huyện phát hiện chuỗi nhật ký của đài không liền mạch: {result.reason}.",
            "Không sửa gì trong cơ sở dữ liệu; báo ngay cho huyện và lãnh đạo phường.",
        )
    held = f"{result.rows} / {result.local_rows}"
    click.echo(f"Đã gửi {result.accepted} dòng mới lên huyện; huyện có {held} dòng nhật ký.")
    district.heartbeat(code, app.station_beat(code))
    events = forwarding.sync_audit(app.sessions, code, district)
    click.echo(f"Đã gửi {events.sent} thao tác mới vào nhật ký thao tác ở huyện.")
    parts = district_inbox.InboxParts(app.config.media_dir, app, app.wake_daemon, app.speak)
    taken = district_inbox.take_incoming(app.sessions, code, district, parts, now=app.clock.now())
    for d in taken:
        note = f" ({d.note})" if d.note else ""
        click.echo(f"Bản tin số {d.dispatch_id} của huyện: {labels.dispatch_state(d.state)}{note}.")
    if not taken:
        click.echo("Không có bản tin mới của huyện.")
    for r in district_inbox.take_changes(app.sessions, code, district, parts, now=app.clock.now()):
        done = "đã áp dụng" if r.state == "applied" else "không áp dụng được"
        note = f" ({r.note})" if r.note else ""
        click.echo(f"Thay đổi lịch phát số {r.change_id} của huyện: {done}{note}.")


COMMANDS = [station, sync]
