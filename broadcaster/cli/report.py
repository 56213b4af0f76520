"""`broadcaster report`: compliance of aired airings against campaign targets, due campaigns, weekly log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import click

from broadcaster.cli.common import State, actor_option, parse_date, pass_state, print_json, print_table
from broadcaster.errors import InputError
from broadcaster.planning.calendar import check_day_order, local_day
from broadcaster.reports.compliance import ComplianceReport, CountingRules, DueItem
from broadcaster.reports.export import compliance_dict, due_dict
from broadcaster.reports.periods import parse_kind
from broadcaster.reports.printable import COMPLIANCE_HEADER, compliance_rows
from broadcaster.services import documents, reporting

FORMATS = ("table", "json", "csv", "docx", "pdf")


def print_compliance(reports: Sequence[ComplianceReport]) -> None:
    """Print each campaign's compliance as an aligned table under a heading (used by `demo` too)."""
    for n, report in enumerate(reports):
        if n:
            click.echo()
        click.echo(f"Chiến dịch {report.campaign_code} — {report.campaign_title}")
        rows = [[cell.replace("\n", " ") for cell in row] for row in compliance_rows(report)]
        print_table(COMPLIANCE_HEADER, rows)
    if any(row.partial for report in reports for row in report.rows):
        click.echo("(*) Kỳ không trọn vẹn: chỉ tiêu tính theo tỷ lệ số ngày chiến dịch trong kỳ.")


def print_due(items: Sequence[DueItem]) -> None:
    """Print the campaigns that still need airings, at-risk ones first."""
    if not items:
        click.echo("Không có chiến dịch nào cần phát bù: các chỉ tiêu tuần và tháng này đã đạt.")
    for item in items:
        click.echo(("! " if item.at_risk else "  ") + item.describe())


def _emit(data: bytes, out: Path | None) -> None:
    if out is None:
        click.echo(data.decode("utf-8"), nl=False)
    else:
        documents.write_atomic(out, data)
        click.echo(f"Đã ghi {out}")


@click.group(invoke_without_command=True)
@click.option(
    "--campaign", "campaigns", multiple=True, metavar="MÃ", help="Mã chiến dịch, hoặc all (mặc định)."
)
@click.option(
    "--period", "period", default="month", show_default=True, help="week, month, quarter hoặc year."
)
@click.option("--from", "from_", metavar="NGÀY", help="Từ ngày (mặc định: đầu chiến dịch).")
@click.option("--to", metavar="NGÀY", help="Đến ngày (mặc định: cuối chiến dịch hoặc hôm nay).")
@click.option(
    "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Dạng kết quả."
)
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), help="Ghi ra tệp (ghi trọn vẹn).")
@click.option("--due", is_flag=True, help="Các chiến dịch có nguy cơ không đạt chỉ tiêu tuần/tháng này.")
@click.option("--number", default="", metavar="SỐ", help='Số văn bản, in thành "Số: SỐ/BC-UBND".')
@click.option(
    "--heard-only", is_flag=True, help="Chỉ tính lượt đã nghe thấy (máy nghe đường ra loa xác nhận)."
)
@click.pass_context
def report(
    ctx: click.Context,
    campaigns: tuple[str, ...],
    period: str,
    from_: str | None,
    to: str | None,
    fmt: str,
    out: Path | None,
    due: bool,
    number: str,
    heard_only: bool,
) -> None:
    """Báo cáo kết quả phát sóng theo chỉ tiêu chiến dịch (chỉ tính các lượt đã phát thực tế)."""
    if ctx.invoked_subcommand is not None:
        return
    state = ctx.find_object(State)
    assert state is not None
    app = state.app
    now = app.clock.now()
    if due:
        with app.station_tx(state.station) as (s, station):
            items = reporting.due_items(s, station, now=now)
            zone = reporting.station_zone(station)
            today = now.astimezone(zone).date()
            active = [c for c in reporting.station_campaigns(s, station) if c.active_on(today)]
        if fmt == "json":
            print_json([due_dict(i, zone) for i in items])
        elif not active:
            click.echo(f"Hôm nay ({today:%d/%m/%Y}) không có chiến dịch nào trong thời hạn thực hiện.")
        else:
            print_due(items)
        return
    kind = parse_kind(period)
    first, last = (parse_date(from_) if from_ else None), (parse_date(to) if to else None)
    check_day_order(first, last, "Đổi lại --from và --to.")
    codes = [c for c in campaigns if c != "all"] or None
    rules = CountingRules(heard_only=heard_only)
    with app.station_tx(state.station) as (s, station):
        if fmt in ("pdf", "docx"):
            today = local_day(now, reporting.station_zone(station))
            target = out or Path(f"bao-cao-{station.code}-{kind.value}-{today}.{fmt}")
            documents.write_compliance_pdf(
                s,
                station,
                codes,
                kind,
                now,
                target,
                first=first,
                last=last,
                place=app.config.station.place,
                number=number,
                fmt=fmt,
                rules=rules,
            )
            click.echo(f"Đã ghi báo cáo {target}")
            return
        reports = reporting.compliance_reports(
            s, station, codes, kind, now=now, first=first, last=last, rules=rules
        )
    if fmt == "json":
        payload = {"station": station.code, "reports": [compliance_dict(r) for r in reports]}
        _emit((json.dumps(payload, ensure_ascii=False, indent=2) + "\n").encode("utf-8"), out)
    elif fmt == "csv":
        _emit(documents.compliance_csv(station, reports), out)
    else:
        print_compliance(reports)


@report.command("log")
@click.option("--week", required=True, metavar="NGÀY", help="Một ngày bất kỳ trong tuần cần in.")
@click.option("--format", "fmt", type=click.Choice(("pdf", "docx")), default="pdf", show_default=True)
@click.option("-o", "--output", "out", type=click.Path(path_type=Path), help="Tệp ra.")
@click.option("--number", default="", metavar="SỐ", help='Số văn bản, in thành "Số: SỐ/BC-UBND".')
@pass_state
def log_(state: State, week: str, fmt: str, out: Path | None, number: str) -> None:
    """Sổ nhật ký chương trình phát thanh hàng tuần (PDF hoặc DOCX)."""
    day: date = parse_date(week)
    app = state.app
    with app.station_tx(state.station) as (s, station):
        document = documents.programme_log_document(
            s, station, day, now=app.clock.now(), place=app.config.station.place, number=number
        )
    year, number_of_week, _ = document.week.start.isocalendar()
    target = out or Path(f"nhat-ky-{station.code}-{year}-W{number_of_week:02d}.{fmt}")
    documents.write_atomic(target, documents.render_document(document, fmt))
    click.echo(f"Đã ghi sổ nhật ký tuần {number_of_week}/{year}: {target} ({len(document.records)} dòng)")


def _write_fault(exc: OSError) -> str:
    """Why a file could not be written, in Vietnamese (the system's own text is English)."""
    if isinstance(exc, PermissionError):
        return "không có quyền ghi"
    if isinstance(exc, IsADirectoryError):
        return "đường dẫn này là một thư mục"
    if isinstance(exc, NotADirectoryError | FileExistsError):
        return "một phần của đường dẫn không phải là thư mục"
    return f"lỗi hệ thống tệp (mã {exc.errno})"


@report.command("district", short_help="Báo cáo tổng hợp của quận/huyện (PDF hoặc DOCX).")
@click.option(
    "--period", "period", default="month", show_default=True, help="week, month, quarter hoặc year."
)
@click.option(
    "--of",
    "of",
    metavar="NGÀY",
    help="Ngày đầu (hoặc một ngày bất kỳ) của kỳ cần báo cáo, ví dụ 2026-11-01 (mặc định: kỳ hiện tại).",
)
@click.option("--format", "fmt", type=click.Choice(("pdf", "docx")), default="pdf", show_default=True)
@click.option(
    "-o", "--output", "--out", "out", type=click.Path(path_type=Path), help="Tệp ra (ghi trọn vẹn)."
)
@click.option("--number", default="", metavar="SỐ", help='Số văn bản, in thành "Số: SỐ/BC-UBND".')
@actor_option
@pass_state
def district(
    state: State, period: str, of: str | None, fmt: str, out: Path | None, number: str, actor: str | None
) -> None:
    """Báo cáo tổng hợp của quận/huyện từ nhật ký các phường gửi lên máy chủ (PDF hoặc DOCX)."""
    from broadcaster.services import district_report

    kind = parse_kind(period)
    first = parse_date(of) if of else None
    app = state.app
    settings = app.config.district
    with app.tx() as s:
        document = district_report.consolidated_document(
            s,
            actor=actor,
            now=app.clock.now(),
            name=settings.name,
            kind=kind,
            period=first,
            place=settings.place,
            number=number,
        )
    data = district_report.render_consolidated(document, fmt)
    target = out or Path(f"bao-cao-tong-hop-{kind.value}-{document.period.start}.{fmt}")
    try:
        documents.write_atomic(target, data)
    except OSError as exc:
        raise InputError(
            f"Không ghi được tệp {target}: {_write_fault(exc)}.",
            "Chọn một đường dẫn tệp trong thư mục có quyền ghi (-o TỆP).",
        ) from exc
    click.echo(f"Đã ghi báo cáo tổng hợp {document.period.label}: {target} ({len(document.wards)} phường)")


COMMANDS = [report]
