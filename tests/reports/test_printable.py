"""Printable reports: PDF read back with pdftotext/pdftoppm, DOCX read back with python-docx."""

from __future__ import annotations

import io
import re
import subprocess
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from docx import Document
from docx.oxml.ns import qn
from PIL import Image

from broadcaster.domain import AsRunRecord, Campaign, Outcome, Target, Trigger
from broadcaster.errors import ToolMissingError
from broadcaster.reports import printable as P
from broadcaster.reports.chart import weekly_airtime_png
from broadcaster.reports.compliance import compliance_report
from broadcaster.reports.docx import compliance_docx, programme_log_docx
from broadcaster.reports.fonts import find_serif_fonts
from broadcaster.reports.pdf import compliance_pdf, programme_log_pdf
from broadcaster.reports.periods import PeriodKind, period_containing

STATION_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")  # the Phú Thứ station's zone, passed to every report

NOW = datetime.combine(date(2024, 4, 1), time(8), STATION_ZONE).astimezone(UTC)


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def aired(
    day: date, code: str, played: float, title: str, outcome: Outcome = Outcome.COMPLETED
) -> AsRunRecord:
    start = datetime.combine(day, time(6), STATION_ZONE).astimezone(UTC)
    ran = outcome is not Outcome.MISSED
    return AsRunRecord(
        station_code="PT",
        campaign_code=code,
        bulletin_id=1,
        revision=1,
        planned_start=start,
        actual_start=start if ran else None,
        actual_end=start + timedelta(seconds=played) if ran else None,
        played_s=played if ran else 0.0,
        clip_s=300.0,
        outcome=outcome,
        trigger=Trigger.SCHEDULE,
        title=title,
        agency="Công an phường",
        queued_by="Nguyễn Thị Hằng",
        approved_by="Vũ Văn Khôi",
    )


def quarter_log() -> list[AsRunRecord]:
    """Q1 2024: MD on Mondays and Thursdays (12 Feb missed, 4 Mar cut short), MT on Wednesdays from 10 Jan."""
    log = []
    day = date(2024, 1, 1)
    while day <= date(2024, 3, 28):
        if day.weekday() in (0, 3):
            outcome = {date(2024, 2, 12): Outcome.MISSED, date(2024, 3, 4): Outcome.INTERRUPTED}.get(
                day, Outcome.COMPLETED
            )
            played = 100.0 if outcome is Outcome.INTERRUPTED else 300.0  # a third: minutes, not an airing
            log.append(aired(day, "MD", played, "Tuyên truyền phòng, chống mại dâm", outcome))
        if day.weekday() == 2 and day >= date(2024, 1, 10):
            log.append(aired(day, "MT", 240.0, "Tác hại của ma túy đối với thanh thiếu niên"))
        day += timedelta(days=1)
    return log


CAMPAIGNS = (
    Campaign(
        "MD",
        "Phòng, chống mại dâm",
        "Kế hoạch số 61/KH-UBND",
        date(2024, 1, 1),
        date(2024, 12, 31),
        target=Target(
            min_airings_per_week=2, min_airings_per_month=8, min_minutes_per_month=40, max_gap_days=7
        ),
    ),
    Campaign(
        "MT",
        "Phòng, chống ma túy",
        "Kế hoạch số 12/KH-UBND",
        date(2024, 1, 10),
        date(2024, 12, 31),
        target=Target(min_airings_per_week=1, max_gap_days=10),
    ),
)
LETTERHEAD = P.Letterhead(
    issued_on=date(2024, 4, 5),
    signer_name="Vũ Văn Khôi",
    number="15",
    recipients=("UBND thị xã Kinh Môn;", "Thường trực Đảng ủy, HĐND phường;", "Lưu: VT."),
)


def compliance_document() -> P.ComplianceDocument:
    log = quarter_log()
    return P.ComplianceDocument(
        letterhead=LETTERHEAD,
        station_name="Đài truyền thanh phường Phú Thứ",
        subject="Kết quả tuyên truyền trên Đài truyền thanh phường quý I năm 2024",
        reports=tuple(
            compliance_report(c, log, PeriodKind.MONTH, now=NOW, zone=STATION_ZONE) for c in CAMPAIGNS
        ),
        weekly=tuple(
            compliance_report(c, log, PeriodKind.WEEK, now=NOW, zone=STATION_ZONE) for c in CAMPAIGNS
        ),
        intro="Thực hiện Kế hoạch số 61/KH-UBND ngày 03/03/2023 của UBND thị xã Kinh Môn, "
        "UBND phường Phú Thứ báo cáo kết quả phát sóng như sau:",
        zone_name=STATION_ZONE.key,
    )


def log_document() -> P.ProgrammeLogDocument:
    week = period_containing(PeriodKind.WEEK, date(2024, 2, 12))
    records = tuple(
        r for r in quarter_log() if week.contains((r.planned_start or NOW).astimezone(STATION_ZONE).date())
    )
    return P.ProgrammeLogDocument(LETTERHEAD, "Đài truyền thanh phường Phú Thứ", week, records, STATION_ZONE)


def pdftotext(path: Path, *args: str) -> str:
    done = subprocess.run(["pdftotext", *args, str(path), "-"], check=True, capture_output=True, text=True)
    return nfc(done.stdout)


@pytest.fixture(scope="module")
def compliance_pdf_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "bao-cao.pdf"
    path.write_bytes(compliance_pdf(compliance_document(), find_serif_fonts()))
    return path


def test_date_line_pads_days_under_ten_and_january_february_only() -> None:
    assert P.date_line("Phú Thứ", date(2024, 1, 5)) == "Phú Thứ, ngày 05 tháng 01 năm 2024"
    assert P.date_line("Phú Thứ", date(2024, 2, 9)) == "Phú Thứ, ngày 09 tháng 02 năm 2024"
    assert P.date_line("Phú Thứ", date(2023, 3, 16)) == "Phú Thứ, ngày 16 tháng 3 năm 2023"
    assert P.date_line("Phú Thứ", date(2024, 12, 25)) == "Phú Thứ, ngày 25 tháng 12 năm 2024"
    assert P.number_line("", "BC-UBND") == "Số: \u00a0\u00a0\u00a0\u00a0\u00a0\u00a0/BC-UBND"


def test_pdf_text_keeps_vietnamese_heading_and_table_numbers(compliance_pdf_file: Path) -> None:
    page1 = pdftotext(compliance_pdf_file, "-layout", "-f", "1", "-l", "1")
    for line in (
        "ỦY BAN NHÂN DÂN",
        "PHƯỜNG PHÚ THỨ",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: 15/BC-UBND",
        "Phú Thứ, ngày 05 tháng 4 năm 2024",
        "BÁO CÁO",
        "Kết quả tuyên truyền trên Đài truyền thanh phường quý I năm 2024",
        "Asia/Ho_Chi_Minh",
    ):
        assert nfc(line) in page1, line
    rows: dict[str, list[str]] = {}
    for match in re.finditer(r"^\s*(Tháng 0\d/2024)\s+(\S.*)$", page1, re.M):
        rows.setdefault(match.group(1), match.group(2).split())  # the first table is MD's
    # February: 9 Mondays/Thursdays minus the missed 12 Feb = 8 airings of 5 min; the missed one shows.
    assert rows["Tháng 02/2024"] == ["8", "40,0", "8", "lượt;", "40,0", "phút", "Đạt", "7/7", "1", "0"]
    assert rows["Tháng 01/2024"][:2] == ["9", "45,0"]
    # March: the 4 Mar airing was cut after a third, so 7 airings and 36.7 minutes: not met.
    assert rows["Tháng 03/2024"] == [
        "7",
        "36,7",
        "8",
        "lượt;",
        "40,0",
        "phút",
        "Không",
        "đạt",
        "7/7",
        "0",
        "0",
    ]
    whole = pdftotext(compliance_pdf_file)
    assert "TM. ỦY BAN NHÂN DÂN" in whole and "Vũ Văn Khôi" in whole and "Nơi nhận:" in whole
    assert "Thời lượng phát theo tuần (phút)" in whole  # the chart's title


def test_pdf_page_numbers_start_on_page_two(compliance_pdf_file: Path) -> None:
    page1 = pdftotext(compliance_pdf_file, "-f", "1", "-l", "1")
    page2 = pdftotext(compliance_pdf_file, "-f", "2", "-l", "2")
    assert page1.split()[0] == nfc("ỦY")
    assert page2.split()[0] == "2"


def test_pdf_renders_a4_pages_with_embedded_liberation_serif(
    compliance_pdf_file: Path, tmp_path: Path
) -> None:
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", str(compliance_pdf_file), str(tmp_path / "p")], check=True
    )
    pages = sorted(tmp_path.glob("p-*.png"))
    assert len(pages) >= 2
    with Image.open(pages[0]) as image:
        assert (round(image.size[0], -1), image.size[1]) == (410, 585)  # A4 at 50 dpi
        grey = image.convert("L")
        dark = sum(grey.histogram()[:128])
    assert dark > 2000  # text and table lines were drawn
    fonts = subprocess.run(
        ["pdffonts", str(compliance_pdf_file)], check=True, capture_output=True, text=True
    ).stdout
    assert "LiberationSerif-Bold " in fonts and "LiberationSerif-Italic " in fonts


def test_programme_log_pdf_lists_the_week(tmp_path: Path) -> None:
    path = tmp_path / "so-nhat-ky.pdf"
    path.write_bytes(programme_log_pdf(log_document(), find_serif_fonts()))
    content = pdftotext(path)
    assert "SỔ NHẬT KÝ CHƯƠNG TRÌNH PHÁT THANH" in content
    assert "Tuần 7/2024, từ ngày 12/02/2024 đến ngày 18/02/2024" in content
    assert "06:00:00" in content and "Bị lỡ" in content and "Tác hại của ma túy" in content
    assert "Tổng cộng: 2 lượt phát thực tế, 9,0 phút phát sóng." in content


def test_missing_fonts_raise_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(ToolMissingError, match="Liberation Serif"):
        find_serif_fonts([tmp_path])


def test_compliance_docx_reads_back_with_heading_and_table() -> None:
    document = Document(io.BytesIO(compliance_docx(compliance_document(), find_serif_fonts())))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    margins = (section.left_margin, section.right_margin, section.top_margin, section.bottom_margin)
    assert [round(m.mm) for m in margins] == [30, 15, 20, 20]
    assert document.styles["Normal"].font.name == "Times New Roman"
    heading = document.tables[0]
    assert [p.text for p in heading.cell(0, 0).paragraphs][:2] == ["ỦY BAN NHÂN DÂN", "PHƯỜNG PHÚ THỨ"]
    right = [p.text for p in heading.cell(0, 1).paragraphs]
    assert right[:2] == ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"]
    assert heading.cell(1, 0).text == "Số: 15/BC-UBND"
    assert heading.cell(1, 1).text == "Phú Thứ, ngày 05 tháng 4 năm 2024"
    assert heading.cell(1, 1).paragraphs[0].runs[0].italic
    texts = [p.text for p in document.paragraphs]
    assert "BÁO CÁO" in texts and any("Asia/Ho_Chi_Minh" in t for t in texts)
    md = document.tables[1]
    assert [c.text for c in md.rows[0].cells] == list(P.COMPLIANCE_HEADER)
    assert [c.text for c in md.rows[2].cells] == [
        "Tháng 02/2024",
        "8",
        "40,0",
        "8 lượt; 40,0 phút",
        "Đạt",
        "7 / 7",
        "1",
        "0",
    ]
    (chart,) = document.inline_shapes  # the weekly airtime chart, full text width
    assert round(chart.width.mm) == 165
    weekly = document.tables[3]
    assert [c.text for c in weekly.rows[0].cells] == ["Tuần", "MD", "MT"]
    assert [c.text for c in weekly.rows[7].cells] == ["Tuần 7/2024 12/02–18/02", "5,0", "4,0"]
    # Page numbers: a PAGE field in the header of later pages, none on the first page.
    assert section.different_first_page_header_footer
    assert "PAGE" in "".join(t.text or "" for t in section.header._element.iter(qn("w:instrText")))
    signature = document.tables[-1]
    assert "TM. ỦY BAN NHÂN DÂN" in signature.cell(0, 1).text and "Vũ Văn Khôi" in signature.cell(0, 1).text
    assert "Nơi nhận:" in signature.cell(0, 0).text


def test_programme_log_docx_reads_back() -> None:
    document = Document(io.BytesIO(programme_log_docx(log_document())))
    log = document.tables[1]
    assert [c.text for c in log.rows[0].cells] == list(P.LOG_HEADER)
    assert [c.text for c in log.rows[1].cells] == [
        "1",
        "12/02/2024",
        "06:00:00",
        "0:00:00",
        "Tuyên truyền phòng, chống mại dâm (MD)",
        "Công an phường",
        "Bị lỡ",
        "Nguyễn Thị Hằng",
    ]
    assert len(log.rows) == 4  # header + Mon (missed), Wed (MT), Thu (MD)


def test_weekly_chart_png_draws_bars_for_each_campaign() -> None:
    doc = compliance_document()
    weeks, series = P.weekly_series(doc.weekly)
    assert [code for code, _ in series] == ["MD", "MT"] and len(weeks) == 14
    assert series[0][1][6] == 5.0 and series[1][1][0] == 0.0  # week 7 lost an airing; MT began in week 2
    with Image.open(io.BytesIO(weekly_airtime_png(weeks, series, find_serif_fonts()))) as image:
        assert image.size == (1650, 780)
        histogram = image.convert("L").histogram()
    assert sum(histogram[20:60]) > 50_000  # the dark MD bars
    assert sum(histogram[120:160]) > 30_000  # the grey MT bars
