"""`broadcaster bulletin`: the officer writes, the leader approves what will be heard."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from broadcaster.cli.common import State, actor_option, json_option, pass_state, print_json, print_table
from broadcaster.domain import BulletinStatus
from broadcaster.errors import InputError
from broadcaster.services import bulletins
from broadcaster.services.stations import find_station


def _read_text(file: str | None, initial: str = "") -> str:
    if file == "-":
        return sys.stdin.read()
    if file:
        path = Path(file)
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise InputError(f"Không tìm thấy tệp {file}.", "Kiểm tra đường dẫn.") from exc
        except UnicodeDecodeError as exc:
            raise InputError(
                f"Tệp {file} không phải văn bản UTF-8.", "Lưu lại tệp với mã hóa UTF-8."
            ) from exc
    if not sys.stdin.isatty():
        return sys.stdin.read()
    edited = click.edit(initial, extension=".txt")
    if edited is None:
        raise InputError("Chưa nhập nội dung.", "Viết nội dung trong trình soạn thảo rồi lưu lại.")
    return edited


@click.group()
def bulletin() -> None:
    """Bản tin: viết, sửa, gửi duyệt, duyệt, trả lại, ngừng phát, xem."""


@bulletin.command("add")
@click.option("--campaign", required=True, metavar="MÃ", help="Mã chiến dịch.")
@click.option("--title", required=True, help="Tiêu đề bản tin.")
@click.option("--agency", default="", help="Cơ quan cung cấp nội dung.")
@click.option(
    "--file", "file", metavar="TỆP", help="Đọc nội dung từ tệp ('-' là stdin); không có thì mở $EDITOR."
)
@actor_option
@pass_state
def add(state: State, campaign: str, title: str, agency: str, file: str | None, actor: str | None) -> None:
    """Viết bản tin mới (bản nháp)."""
    app = state.app
    text = _read_text(file)
    with app.tx() as s:
        station = find_station(s, state.station)
        row = bulletins.add(
            s,
            station_id=station.id,
            campaign_code=campaign,
            title=title,
            agency=agency,
            text=text,
            actor=actor,
            now=app.clock.now(),
            speak=app.speak,
        )
        click.echo(f"Đã lưu bản tin số {row.id} (bản nháp). Gửi duyệt: broadcaster bulletin submit {row.id}")


@bulletin.command("edit")
@click.argument("bulletin_id", type=int)
@click.option(
    "--file", "file", metavar="TỆP", help="Nội dung mới từ tệp ('-' là stdin); không có thì mở $EDITOR."
)
@actor_option
@pass_state
def edit(state: State, bulletin_id: int, file: str | None, actor: str | None) -> None:
    """Sửa bản tin: tạo phiên bản mới (bản đã duyệt phải duyệt lại)."""
    app = state.app
    with app.tx() as s:
        current = bulletins.latest_revision(bulletins.get(s, bulletin_id)).text
    text = _read_text(file, current)
    with app.tx() as s:
        rev = bulletins.edit(s, bulletin_id, text, actor=actor, now=app.clock.now(), speak=app.speak)
        click.echo(f"Đã lưu phiên bản {rev.number} của bản tin {bulletin_id}; cần gửi duyệt lại.")


@bulletin.command("submit")
@click.argument("bulletin_id", type=int)
@actor_option
@pass_state
def submit(state: State, bulletin_id: int, actor: str | None) -> None:
    """Gửi bản tin cho lãnh đạo duyệt."""
    with state.app.tx() as s:
        bulletins.submit(s, bulletin_id, actor=actor, now=state.app.clock.now())
    click.echo(f"Đã gửi duyệt bản tin {bulletin_id}.")


@bulletin.command("approve")
@click.argument("bulletin_id", type=int)
@click.option(
    "--spoken-hash", metavar="SHA", help="Mã băm lời đọc đã xem (từ 'bulletin show'); duyệt đúng bản đó."
)
@click.option("--yes", is_flag=True, help="Không hỏi xác nhận.")
@actor_option
@pass_state
def approve(state: State, bulletin_id: int, spoken_hash: str | None, yes: bool, actor: str | None) -> None:
    """Duyệt bản tin: xem đúng lời sẽ được đọc trên loa rồi xác nhận."""
    app = state.app
    with app.tx() as s:
        rev = bulletins.latest_revision(bulletins.get(s, bulletin_id))
        spoken, digest = rev.spoken_text, rev.spoken_sha256
    if not yes:
        click.echo("Lời sẽ được đọc trên loa:\n")
        click.echo(spoken)
        click.echo(f"\nMã băm lời đọc: {digest[:12]}")
        click.confirm("Duyệt đúng nội dung này?", abort=True)
    with app.tx() as s:
        rev = bulletins.approve(
            s, bulletin_id, actor=actor, now=app.clock.now(), seen_sha256=spoken_hash or digest
        )
    click.echo(
        f"Đã duyệt bản tin {bulletin_id}, phiên bản {rev.number} (lời đọc {rev.approved_sha256 or ''})."
    )


@bulletin.command("reject")
@click.argument("bulletin_id", type=int)
@click.option("--reason", required=True, help="Lý do trả lại.")
@actor_option
@pass_state
def reject(state: State, bulletin_id: int, reason: str, actor: str | None) -> None:
    """Trả lại bản tin kèm lý do."""
    with state.app.tx() as s:
        bulletins.reject(s, bulletin_id, reason, actor=actor, now=state.app.clock.now())
    click.echo(f"Đã trả lại bản tin {bulletin_id}.")


@bulletin.command("retire")
@click.argument("bulletin_id", type=int)
@actor_option
@pass_state
def retire(state: State, bulletin_id: int, actor: str | None) -> None:
    """Ngừng phát bản tin."""
    with state.app.tx() as s:
        bulletins.retire(s, bulletin_id, actor=actor, now=state.app.clock.now())
    click.echo(f"Đã ngừng phát bản tin {bulletin_id}.")


@bulletin.command("list")
@click.option("--campaign", metavar="MÃ")
@click.option("--status", type=click.Choice([s.value for s in BulletinStatus]))
@json_option
@pass_state
def list_(state: State, campaign: str | None, status: str | None, as_json: bool) -> None:
    """Danh sách bản tin."""
    with state.app.tx() as s:
        station = find_station(s, state.station)
        rows = [
            {
                "id": b.id,
                "campaign": b.campaign.code,
                "title": b.title,
                "agency": b.agency,
                "status": b.status,
                "revision": bulletins.latest_revision(b).number,
            }
            for b in bulletins.list_bulletins(s, station.id, campaign, status)
        ]
    if as_json:
        print_json(rows)
        return
    print_table(
        ["Số", "Chiến dịch", "Tiêu đề", "Cơ quan", "Trạng thái", "Bản"],
        [
            (
                r["id"],
                r["campaign"],
                r["title"],
                r["agency"],
                bulletins.STATUS_LABELS[BulletinStatus(str(r["status"]))],
                r["revision"],
            )
            for r in rows
        ],
    )


@bulletin.command("show")
@click.argument("bulletin_id", type=int)
@json_option
@pass_state
def show(state: State, bulletin_id: int, as_json: bool) -> None:
    """Xem bản tin: nội dung, lời đọc, các phiên bản."""
    with state.app.tx() as s:
        b = bulletins.get(s, bulletin_id)
        revs = [
            {
                "number": r.number,
                "author": r.author,
                "created_at": r.created_at,
                "approval": r.approval,
                "approved_by": r.approved_by,
                "approved_at": r.approved_at,
                "spoken_sha256": r.spoken_sha256,
                "text": r.text,
                "spoken_text": r.spoken_text,
                "reject_reason": r.reject_reason,
            }
            for r in b.revisions
        ]
        data = {
            "id": b.id,
            "title": b.title,
            "campaign": b.campaign.code,
            "agency": b.agency,
            "status": b.status,
            "revisions": revs,
        }
    if as_json:
        print_json(data)
        return
    last = revs[-1]
    click.echo(f"Bản tin {data['id']}: {data['title']} [{data['campaign']}] — {data['agency']}")
    click.echo(
        f"Trạng thái: {bulletins.STATUS_LABELS[BulletinStatus(str(data['status']))]}; "
        f"phiên bản {last['number']}"
    )
    click.echo("\nNội dung:\n" + str(last["text"]).strip())
    click.echo("\nLời đọc trên loa:\n" + str(last["spoken_text"]).strip())
    click.echo(f"\nMã băm lời đọc: {last['spoken_sha256']}")
    click.echo("\nCác phiên bản:")
    for r in revs:
        extra = f", duyệt bởi {r['approved_by']}" if r["approved_by"] else ""
        click.echo(f"  {r['number']}: {r['author']} lúc {r['created_at']}: {r['approval']}{extra}")


COMMANDS = [bulletin]
