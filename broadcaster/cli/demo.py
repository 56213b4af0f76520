"""`broadcaster demo`: the first airing end to end, on a fresh or existing home."""

from __future__ import annotations

import dataclasses
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from sqlalchemy import select

from broadcaster import labels
from broadcaster.app import REPO_ROOT, App
from broadcaster.cli.common import State, pass_state, print_table, shorten
from broadcaster.cli.report import print_compliance
from broadcaster.domain import BulletinStatus, Role, SessionOccurrence
from broadcaster.errors import InputError
from broadcaster.reports.periods import PeriodKind
from broadcaster.schedules import ScheduleFile, load_schedule
from broadcaster.services import bulletins, documents, media, queue, reporting, stations
from broadcaster.store.models import AsRunRow, StationRow, UserRow

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
    sf = load_schedule(schedule_file)
    today = app.clock.now().astimezone(ZoneInfo(sf.station.timezone)).date()
    if not any(c.active_on(today) for c in sf.campaigns):
        sf = shift_campaigns(sf, today)
        click.echo(
            "   Kế hoạch mẫu đã hết thời hạn: để chạy thử, các chiến dịch được tính từ hôm nay "
            f"({today:%d/%m/%Y})."
        )
    with app.tx() as s:
        summary = stations.import_schedule(s, sf, actor="demo", now=app.clock.now(), speak=app.speak)
    click.echo(
        f"2. Đã nhập {schedule_file.name}: " + (_counts(summary.created) if summary.changed else "không đổi")
    )
    station_row, chosen = _render_all(app, state.station or sf.station.code, items)
    _air(app, station_row.code, chosen, lead)
    _report(app, station_row.code)


def shift_campaigns(sf: ScheduleFile, first_day: date) -> ScheduleFile:
    """The same plan with every campaign starting on `first_day`, each period keeping its length."""
    campaigns = tuple(
        dataclasses.replace(c, period_start=first_day, period_end=first_day + (c.period_end - c.period_start))
        for c in sf.campaigns
    )
    return dataclasses.replace(sf, campaigns=campaigns)


def _report(app: App, code: str) -> None:
    now = app.clock.now()
    with app.tx() as s:
        station_row = stations.find_station(s, code)
        today = now.astimezone(ZoneInfo(station_row.timezone)).date()
        first = today.replace(day=1)
        active = [c.code for c in stations.campaigns_domain(s, station_row.id) if c.active_on(today)]
        reports = reporting.compliance_reports(
            s, station_row, active, PeriodKind.MONTH, now=now, first=first, last=today
        )
        out = app.config.home / "reports" / f"bao-cao-{today:%Y-%m}.pdf"
        documents.write_compliance_pdf(
            s, station_row, active, PeriodKind.MONTH, now, out, first=first, last=today
        )
    click.echo(f"\n6. Kết quả thực hiện chỉ tiêu tháng {today:%m/%Y} (chỉ tính các lượt đã phát thực tế):")
    print_compliance(reports)
    click.echo(f"\nBáo cáo in (PDF, thể thức Nghị định 30/2020/NĐ-CP): {out}")


def _counts(created: dict[str, int]) -> str:
    return labels.count_phrase(created) or "cập nhật"


def _render_all(app: App, code: str, items: int) -> tuple[StationRow, list[int]]:
    click.echo("3. Dựng âm thanh các bản tin đã duyệt (gTTS, dự phòng espeak-ng khi không có mạng)...")
    with app.tx() as s:
        station_row = stations.find_station(s, code)
        approved = bulletins.list_bulletins(s, station_row.id, status=BulletinStatus.APPROVED.value)
        texts = [bulletins.approved_revision(b).spoken_text for b in approved]
    media.prerender(texts, app.renderer, app.media_settings())
    with app.tx() as s:
        approved = bulletins.list_bulletins(s, station_row.id, status=BulletinStatus.APPROVED.value)
        durations: list[tuple[float, int, str]] = []
        engines: dict[str, int] = {}
        for b in approved:
            render = media.ensure_render(
                s, bulletins.approved_revision(b), app.renderer, app.media_settings(), now=app.clock.now()
            )
            engines[render.engine] = engines.get(render.engine, 0) + 1
            durations.append((render.duration_s, b.id, b.campaign.code))
    click.echo("   " + ", ".join(f"{n} bản bằng {e}" for e, n in sorted(engines.items())))
    if "espeak" in engines:
        click.echo("   Lưu ý: không kết nối được Google; các bản tin đang dùng giọng dự phòng espeak-ng.")
    chosen: list[int] = []
    seen: set[str] = set()
    for _, bid, campaign in sorted(durations):  # shortest first, one per campaign
        if campaign not in seen and len(chosen) < items:
            chosen.append(bid)
            seen.add(campaign)
    return station_row, chosen


def _air(app: App, code: str, chosen: list[int], lead: float) -> None:
    with app.tx() as s:
        station_row = stations.find_station(s, code)
        operator = s.scalar(select(UserRow.name).where(UserRow.role == Role.OPERATOR.value).limit(1))
        shape = app.programme_shape(s, station_row)
        start = (app.clock.now() + timedelta(seconds=lead)).replace(microsecond=0)
        occurrence = SessionOccurrence("demo", labels.session_name("demo"), start, timedelta(minutes=15))
        domain = stations.station_domain(s, station_row)
        airing_ids = [
            queue.queue(
                s,
                station_row,
                domain,
                occurrence,
                bid,
                actor=operator,
                now=app.clock.now(),
                shape=shape,
                duration_of=app.duration_of(s),
                check_hours=False,
            ).id
            for bid in chosen
        ]
    click.echo(
        f"4. Đã xếp {len(airing_ids)} bản tin vào buổi phát thử lúc {_t(start, station_row.timezone)} "
        f"({station_row.timezone})."
    )
    daemon = app.daemon(station_row, outside_hours_ok=True, note="phát thử (demo)")
    click.echo(f"5. Trạm phát đang chạy, bộ phát: {labels.player(app.player_name())}. Chờ đến giờ phát...")
    daemon.start()
    try:
        time.sleep(0.5)
        daemon.wait_idle(timeout=lead + 600)
    finally:
        daemon.stop()
    with app.tx() as s:
        rows = list(
            s.scalars(select(AsRunRow).where(AsRunRow.airing_id.in_(airing_ids)).order_by(AsRunRow.seq))
        )
        titles = stations.campaign_titles(s, station_row.id)
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
                    shorten(titles.get(r.campaign_code or "", r.campaign_code or "")),
                    _t(r.planned_start, station_row.timezone),
                    _t(r.actual_start, station_row.timezone),
                    _err(r),
                    f"{r.played_ms / 1000:.1f}",
                    labels.outcome(r.outcome),
                )
                for r in rows
            ],
        )
        counts: dict[str, int] = {}
        for r in s.scalars(
            select(AsRunRow).where(AsRunRow.station_id == station_row.id, AsRunRow.outcome == "completed")
        ):
            title = titles.get(r.campaign_code, r.campaign_code) if r.campaign_code else "-"
            counts[title] = counts.get(title, 0) + 1
    click.echo("\nSố lượt phát trọn vẹn theo chiến dịch (toàn bộ nhật ký):")
    print_table(["Chiến dịch", "Lượt phát"], sorted(counts.items()))
    click.echo(f"\nÂm thanh đã phát (bộ phát tệp): {app.config.aired_dir}")


def _t(value: object, tz: str) -> str:
    if not isinstance(value, datetime):
        return "-"
    return value.astimezone(ZoneInfo(tz)).strftime("%H:%M:%S.%f")[:-3]


def _err(row: AsRunRow) -> str:
    if row.actual_start is None or row.planned_start is None:
        return "-"
    return str(round((row.actual_start - row.planned_start).total_seconds() * 1000))


COMMANDS = [demo]
