"""Báo cáo: compliance per campaign and period as the CLI prints it, its chart, the PDF/DOCX/CSV
downloads (the CLI's documents), the weekly programme log, bad choices beside their field."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from airtime import NOW, at, log_row, use_fake_clock
from click.testing import CliRunner
from conftest import PEOPLE, Browser
from docx import Document

from broadcaster.app import App, build_app
from broadcaster.cli import common
from broadcaster.cli.main import cli
from broadcaster.clock import FakeClock
from broadcaster.domain import Outcome
from broadcaster.reports.periods import PeriodKind
from broadcaster.reports.printable import compliance_rows
from broadcaster.services import reporting
from broadcaster.services.stations import find_station

TITLE = "Phòng, chống mại dâm năm 2023"


def fill_history(app: App) -> None:
    """Airings of the mại dâm campaign on most weekdays from 20/03 to 14/04/2023, one missed."""
    use_fake_clock(app)
    for n in range(28, 2, -1):
        if n % 7 not in (0, 1):
            log_row(app, at(-n, "06:00"), title=f"Bản tin {n} ngày trước")
    log_row(app, at(-4, "17:00"), Outcome.MISSED, title="Tin bị lỡ")
    log_row(app, at(-4, "17:05"), campaign="ma-tuy-2023", title="Nhận diện ma túy tổng hợp", played_s=90)


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_signed_out_is_sent_to_sign_in(browser: Callable[[str | None], Browser]) -> None:
    person = browser(None)
    for path in ("/bao-cao", "/bao-cao/tai-ve?dang=pdf", "/bao-cao/so-nhat-ky?tuan=2023-04-10&dang=pdf"):
        answer = person.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/dang-nhap?next="), path


def test_every_role_reads_the_compliance_tables_as_the_cli_prints_them(
    browser: Callable[[str | None], Browser], web_app: App
) -> None:
    fill_history(web_app)
    with web_app.tx() as s:
        expected = reporting.compliance_reports(
            s, find_station(s, None), ["mai-dam-2023"], PeriodKind.WEEK, now=NOW
        )
    for role in PEOPLE:
        page = browser(role).get("/bao-cao?chien_dich=mai-dam-2023&ky=week")
        assert page.status_code == 200, role
        html = page.text
        assert f"1. {TITLE}" in html and "Kế hoạch" in html
        table = html.split('<section class="card report">')[1].split("</table>")[0]
        for row in compliance_rows(expected[0]):
            cells = [cell.replace("\n", " ") for cell in row]
            assert f'<td data-label="Kỳ">{cells[0]}</td>' in table
            for cell in cells[1:]:
                assert f">{cell}<" in table, cell
        assert "Asia/Ho_Chi_Minh" in html and "Chỉ tính các lượt đã phát thực tế" in html


def test_every_campaign_and_every_period_kind(browser: Callable[[str | None], Browser], web_app: App) -> None:
    fill_history(web_app)
    person = browser("inspector")
    for kind, label in (("month", "Tháng 04/2023"), ("quarter", "Quý II/2023"), ("year", "Năm 2023")):
        html = person.get(f"/bao-cao?ky={kind}").text
        assert label in html
        for title in ("Phòng, chống HIV/AIDS năm 2023", "Phòng, chống ma túy năm 2023", TITLE):
            assert title in html
        assert html.count('<section class="card report">') == 4


def test_the_chart_has_a_bar_per_week_and_campaign_and_its_numbers(
    browser: Callable[[str | None], Browser], web_app: App
) -> None:
    fill_history(web_app)
    html = browser("officer").get("/bao-cao?chien_dich=mai-dam-2023").text
    chart = html.split('<section class="card chart">')[1].split("</section>")[0]
    assert "<svg" in chart and chart.count("<rect") == 6  # ISO weeks 11 (from 16/03) to 16 of 2023
    assert f"Tuần 13/2023 · {TITLE}: 5,0 phút" in chart  # five one-minute airings in week 13
    assert f'<span class="swatch" style="background: #0b5394"></span>{TITLE}' in chart
    assert "Số liệu của biểu đồ" in chart and "5,0 phút" in chart


def test_the_pdf_reads_back_as_vietnamese(
    browser: Callable[[str | None], Browser], web_app: App, tmp_path: Path
) -> None:
    fill_history(web_app)
    answer = browser("inspector").get("/bao-cao/tai-ve?chien_dich=mai-dam-2023&ky=month&dang=pdf&so=12")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/pdf"
    assert 'filename="bao-cao-phu-thu-month-2023-04-17.pdf"' in answer.headers["content-disposition"]
    text = pdf_text(answer.content, tmp_path)
    for needle in (
        "ỦY BAN NHÂN DÂN",
        "PHƯỜNG PHÚ THỨ",
        "Số: 12/BC-UBND",
        TITLE,
        "Tháng 04/2023",
        "Vũ Văn Khôi",
    ):
        assert needle in text, needle


def test_the_docx_holds_the_report_and_its_chart(
    browser: Callable[[str | None], Browser], web_app: App
) -> None:
    fill_history(web_app)
    answer = browser("leader").get("/bao-cao/tai-ve?ky=week&dang=docx")
    assert answer.status_code == 200 and "wordprocessingml" in answer.headers["content-type"]
    document = Document(io.BytesIO(answer.content))
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    text = "\n".join([p.text for p in document.paragraphs] + cells)
    assert "ỦY BAN NHÂN DÂN" in text and TITLE in text
    assert len(document.inline_shapes) == 1  # the weekly airtime chart


def test_the_csv_is_the_bytes_the_command_line_writes(
    browser: Callable[[str | None], Browser], web_app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill_history(web_app)
    answer = browser("officer").get("/bao-cao/tai-ve?ky=week&den=2023-04-09&dang=csv")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    # The command line on the same clock as the console (a report's running periods depend on today).
    monkeypatch.setattr(common, "build_app", lambda config, clock=None: build_app(config, FakeClock(NOW)))
    out = tmp_path / "cli.csv"
    args = ["report", "--period", "week", "--to", "2023-04-09", "--format", "csv", "-o", str(out)]
    done = CliRunner().invoke(cli, args)
    assert done.exit_code == 0, done.output
    assert answer.content == out.read_bytes() and answer.content.startswith("\ufeff".encode())


def test_the_weekly_programme_log_downloads_as_pdf_and_docx(
    browser: Callable[[str | None], Browser], web_app: App, tmp_path: Path
) -> None:
    fill_history(web_app)
    person = browser("inspector")
    pdf = person.get("/bao-cao/so-nhat-ky?tuan=2023-04-12&dang=pdf")
    assert (
        pdf.status_code == 200
        and 'filename="nhat-ky-phu-thu-2023-W15.pdf"' in pdf.headers["content-disposition"]
    )
    text = pdf_text(pdf.content, tmp_path)
    assert "SỔ NHẬT KÝ CHƯƠNG TRÌNH PHÁT THANH" in text and "Tuần 15/2023" in text
    assert "Nhận diện ma túy tổng hợp" in text and "Tin bị lỡ" in text
    docx = person.get("/bao-cao/so-nhat-ky?tuan=13/04/2023&dang=docx")
    assert docx.status_code == 200
    cells = [c.text for t in Document(io.BytesIO(docx.content)).tables for r in t.rows for c in r.cells]
    assert "Nhận diện ma túy tổng hợp (ma-tuy-2023)" in cells


def test_bad_choices_are_shown_beside_their_field(
    browser: Callable[[str | None], Browser], web_app: App
) -> None:
    fill_history(web_app)
    person = browser("officer")
    for path, field, message in (
        ("/bao-cao?ky=ngay", "ky", "Không có kỳ báo cáo «ngay»"),
        ("/bao-cao?chien_dich=khong-co", "chien_dich", "Không có chiến dịch «khong-co»"),
        ("/bao-cao?tu=2023-04-10&den=2023-04-01", "den", "Ngày kết thúc trước ngày bắt đầu"),
        ("/bao-cao/tai-ve?dang=xls", "dang", "Không có dạng tệp «xls»"),
        ("/bao-cao/tai-ve?dang=pdf&tu=hôm-qua", "tu", "Ngày không hợp lệ"),
        ("/bao-cao/so-nhat-ky?tuan=tuần-sau&dang=pdf", "tuan", "Ngày không hợp lệ"),
        ("/bao-cao/so-nhat-ky?tuan=&dang=pdf", "tuan", "Chọn một ngày trong tuần"),
        ("/bao-cao/so-nhat-ky?tuan=2023-04-10&dang=odt", "so_nhat_ky", "Sổ nhật ký in ra PDF hoặc DOCX"),
    ):
        answer = person.get(path)
        assert answer.status_code == 400 and "text/html" in answer.headers["content-type"], path
        assert f'<p class="field-error" id="e-{field}">{message}' in answer.text, path


def test_no_history_still_reads(browser: Callable[[str | None], Browser], web_app: App) -> None:
    use_fake_clock(web_app)
    page = browser("officer").get("/bao-cao")
    assert page.status_code == 200 and TITLE in page.text
    assert '<td data-label="Số lượt phát">0</td>' in page.text and "Không đạt" in page.text  # gap exceeded


def test_a_campaign_title_with_markup_is_shown_as_text(
    browser: Callable[[str | None], Browser], web_app: App
) -> None:
    use_fake_clock(web_app)
    from broadcaster.store.models import CampaignRow

    with web_app.tx() as s:
        row = s.query(CampaignRow).filter_by(code="mai-dam-2023").one()
        row.title = "<script>alert(1)</script>"
    log_row(web_app, at(-3, "06:00") + timedelta(seconds=1))
    html = browser("officer").get("/bao-cao").text
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
