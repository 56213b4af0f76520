"""`broadcaster demo`: the first airing end to end, on a fresh or existing home."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from broadcaster import labels
from broadcaster.app import REPO_ROOT, App
from broadcaster.cli.common import State, pass_state, print_table, shorten
from broadcaster.cli.report import print_compliance
from broadcaster.cli.speech import raise_failures
from broadcaster.errors import InputError
from broadcaster.schedules import load_schedule
from broadcaster.services import demo as steps
from broadcaster.services import stations
from broadcaster.services.rendering import render_pending

DEFAULT_SCHEDULE = REPO_ROOT / "schedules" / "phu-thu-2023.toml"


@click.command()
@click.option(
    "--schedule",
    "schedule_file",
    type=click.Path(path_type=Path),
    default=DEFAULT_SCHEDULE,
    show_default=True,
    help="Tệp lịch để nhập.",
)
@click.option(
    "--items", default=1, show_default=True, type=click.IntRange(1, 10), help="Số bản tin trong buổi thử."
)
@click.option(
    "--lead", default=10.0, show_default=True, type=click.FloatRange(3, 600), help="Phát sau bao nhiêu giây."
)
@pass_state
def demo(state: State, schedule_file: Path, items: int, lead: float) -> None:
    """Chạy thử trọn vẹn: nhập lịch, dựng âm thanh, phát một buổi đúng giờ và ghi nhật ký."""
    app = state.app
    if not schedule_file.exists():
        raise InputError(f"Không tìm thấy tệp lịch {schedule_file}.", "Chỉ đường dẫn đúng bằng --schedule.")
    click.echo(f"1. Thư mục dữ liệu: {app.config.home}")
    app.init()
    sf, shifted_to = steps.current_plan(load_schedule(schedule_file), app.clock.now())
    if shifted_to is not None:
        click.echo(
            "   Kế hoạch mẫu đã hết thời hạn: để chạy thử, các chiến dịch được tính từ hôm nay "
            f"({shifted_to:%d/%m/%Y})."
        )
    with app.tx() as s:
        summary = stations.import_schedule(s, sf, actor="demo", now=app.clock.now(), speak=app.speak)
    click.echo(
        f"2. Đã nhập {schedule_file.name}: " + (_counts(summary.created) if summary.changed else "không đổi")
    )
    code = state.station or sf.station.code
    chosen = _render_all(app, code, items)
    _air(app, code, chosen, lead)
    _report(app, code)


def _report(app: App, code: str) -> None:
    with app.station_tx(code) as (s, station):
        month = steps.month_report(s, station, app.config.home / "reports", now=app.clock.now())
    click.echo(
        f"\n6. Kết quả thực hiện chỉ tiêu tháng {month.month:%m/%Y} (chỉ tính các lượt đã phát thực tế):"
    )
    print_compliance(month.reports)
    click.echo(f"\nBáo cáo in (PDF, thể thức Nghị định 30/2020/NĐ-CP): {month.pdf}")


def _counts(created: dict[str, int]) -> str:
    return labels.count_phrase(created) or "cập nhật"


def _render_all(app: App, code: str, items: int) -> list[int]:
    click.echo("3. Dựng âm thanh các bản tin đã duyệt (gTTS, dự phòng espeak-ng khi không có mạng)...")
    batch = render_pending(app.tx, code, app.renderer, app.media_settings(), app.clock, workers=2)
    raise_failures(batch.failures)
    with app.station_tx(code) as (s, station):
        picked = steps.pick_bulletins(
            s, station, app.renderer, app.media_settings(), items=items, now=app.clock.now()
        )
    click.echo("   " + ", ".join(f"{n} bản bằng {e}" for e, n in sorted(picked.engines.items())))
    if "espeak" in picked.engines:
        click.echo("   Lưu ý: không kết nối được Google; các bản tin đang dùng giọng dự phòng espeak-ng.")
    return picked.bulletin_ids


def _air(app: App, code: str, chosen: list[int], lead: float) -> None:
    with app.station_tx(code) as (s, station):
        queued = steps.queue_session(
            s, station, chosen, app.lengths(s, station), lead=timedelta(seconds=lead), now=app.clock.now()
        )
    zone = station.timezone
    click.echo(
        f"4. Đã xếp {len(queued.airing_ids)} bản tin vào buổi phát thử lúc {_t(queued.start, zone)} ({zone})."
    )
    daemon = app.daemon(station, outside_hours_ok=True, note="phát thử (demo)")
    click.echo(f"5. Trạm phát đang chạy, bộ phát: {labels.player(app.player_name())}. Chờ đến giờ phát...")
    daemon.start()
    try:
        time.sleep(0.5)
        daemon.wait_idle(timeout=lead + 600)
    finally:
        daemon.stop()
    with app.tx() as s:
        aired = steps.what_aired(s, station, queued.airing_ids)
    print_table(
        [
            "Bản tin",
            "Chiến dịch",
            "Giờ dự kiến",
            "Giờ phát thực",
            "Lệch (ms)",
            "Thời lượng (giây)",
            "Kết quả",
        ],
        [
            (
                shorten(r.title),
                shorten(r.campaign_title),
                _t(r.planned_start, zone),
                _t(r.actual_start, zone),
                "-" if r.start_error_ms is None else str(r.start_error_ms),
                f"{r.played_s:.1f}",
                labels.outcome(r.outcome),
            )
            for r in aired.items
        ],
    )
    click.echo("\nSố lượt phát trọn vẹn theo chiến dịch (toàn bộ nhật ký):")
    print_table(["Chiến dịch", "Lượt phát"], aired.completed)
    click.echo(f"\nÂm thanh đã phát (bộ phát tệp): {app.config.aired_dir}")


def _t(value: object, tz: str) -> str:
    if not isinstance(value, datetime):
        return "-"
    return value.astimezone(ZoneInfo(tz)).strftime("%H:%M:%S.%f")[:-3]


COMMANDS = [demo]
