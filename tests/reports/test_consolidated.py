"""A district's consolidated report from literal values: its table, summaries, the wards listed, the
chart's shares, and the PDF and DOCX drawn from one layout (no database: tests/services has that)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from docx import Document
from test_glyph_coverage import boxes

from broadcaster.domain import AsRunRecord, Campaign, Outcome, Target, Trigger
from broadcaster.reports import consolidated as C
from broadcaster.reports import printable as P
from broadcaster.reports.chart import SHARE_TITLE, drawing_text, share_chart
from broadcaster.reports.compliance import compliance_report
from broadcaster.reports.docx import consolidated_docx
from broadcaster.reports.fonts import find_serif_fonts
from broadcaster.reports.pdf import consolidated_pdf
from broadcaster.reports.periods import PeriodKind, period_containing

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime.combine(date(2026, 11, 20), time(8), ZONE).astimezone(UTC)  # November two-thirds through
NOVEMBER = period_containing(PeriodKind.MONTH, date(2026, 11, 1))
DRUGS = Campaign(
    "ma-tuy",
    "Phòng, chống ma túy",
    "Kế hoạch số 12/KH-UBND",
    date(2026, 1, 1),
    date(2026, 12, 31),
    target=Target(min_airings_per_month=20, min_minutes_per_month=15.0, max_gap_days=7),
)
ROADS = Campaign(
    "atgt",
    "An toàn giao thông",
    "Kế hoạch số 30/KH-UBND",
    date(2026, 11, 10),  # starts inside November: a partial period
    date(2026, 12, 31),
    target=Target(min_airings_per_week=3),
)


def aired(day: date, code: str) -> AsRunRecord:
    start = datetime.combine(day, time(6), ZONE).astimezone(UTC)
    return AsRunRecord(
        station_code="x",
        campaign_code=code,
        bulletin_id=1,
        revision=1,
        planned_start=start,
        actual_start=start,
        actual_end=start + timedelta(seconds=60),
        played_s=60.0,
        clip_s=60.0,
        outcome=Outcome.COMPLETED,
        trigger=Trigger.SCHEDULE,
        title="Bản tin",
        agency="Công an phường",
    )


def every(days: int, campaign: Campaign) -> list[AsRunRecord]:
    """An airing at 06:00 every `days` days from the campaign's start up to NOW (20 November)."""
    span = (date(2026, 11, 20) - campaign.period_start).days
    return [aired(campaign.period_start + timedelta(days=n), campaign.code) for n in range(0, span + 1, days)]


def november(campaign: Campaign, log: list[AsRunRecord]) -> P.PeriodCompliance:
    report = compliance_report(campaign, log, PeriodKind.MONTH, now=NOW, zone=ZONE)
    return next(row for row in report.rows if row.period == NOVEMBER)


def document() -> P.ConsolidatedDocument:
    """An Bình airs both daily; Hưng Phú every third day (drugs: behind its pace); Lê Bình's chain is
    broken; Tân Phú never sent a row."""
    lines = []
    for code, days in (("an-binh", 1), ("hung-phu", 3), ("le-binh", 2)):
        for campaign in (DRUGS, ROADS):
            row = november(campaign, every(days, campaign))
            lines.append(P.ConsolidatedLine(code, campaign.code, campaign.title, row))
    lines.append(P.ConsolidatedLine("tan-phu", "ma-tuy", DRUGS.title, november(DRUGS, [])))
    wards = (
        P.WardSource("an-binh", "Phường An Bình", 334, NOW - timedelta(minutes=3)),
        P.WardSource("hung-phu", "Phường Hưng Phú", 115, NOW - timedelta(minutes=4)),
        P.WardSource(
            "le-binh", "Phường Lê Bình", 90, NOW, "thiếu dòng: sau dòng số 90 lại nhận dòng số 95", NOW
        ),
        P.WardSource("tan-phu", "Phường Tân Phú", 0),
    )
    letterhead = P.Letterhead(
        issued_on=date(2026, 11, 20),
        signer_name="Nguyễn Văn Lành",
        issuing_body="QUẬN CÁI RĂNG",
        place="Cái Răng",
    )
    return P.ConsolidatedDocument(letterhead, "Quận Cái Răng", NOVEMBER, wards, tuple(lines), NOW, ZONE)


def test_the_table_joins_each_wards_rows_and_marks_the_broken_and_silent() -> None:
    rows, spans = C.table_rows(document())
    assert spans == [(0, 1), (2, 3), (4, 5), (6, 6)]
    assert rows[0] == ["1", "Phường An Bình", "Phòng, chống ma túy (ma-tuy)", "20 / 20", "20,0 / 15,0", "Đạt"]
    # Road safety starts on 10 November: pro-rata, 3 a week × the 2 whole ISO weeks, no minutes target.
    assert rows[1] == ["", "", "An toàn giao thông (atgt) (*)", "11 / 6", "11,0 / —", "Đạt"]
    assert rows[2][3:] == ["6 / 20", "6,0 / 15,0", "Đang thực hiện"]
    assert rows[4][1] == "Phường Lê Bình (**)"
    assert rows[6][1:] == [
        "Phường Tân Phú",
        "Phòng, chống ma túy (ma-tuy)",
        "0 / 20",
        "0,0 / 15,0",
        "Chưa gửi nhật ký",
    ]


def test_summaries_and_the_wards_needing_attention() -> None:
    doc = document()
    broken = "số liệu của 1 phường chưa đầy đủ do chuỗi nhật ký không liền mạch."
    assert C.campaign_summaries(doc) == [
        f"An toàn giao thông (atgt): 2/3 phường đạt chỉ tiêu; 1 phường đang thực hiện; {broken}",
        "Phòng, chống ma túy (ma-tuy): 1/4 phường đạt chỉ tiêu; 2 phường đang thực hiện; "
        f"1 phường chưa gửi nhật ký; {broken}",
    ]
    items = C.attention_items(doc)
    assert items[:2] == [
        "Phường Lê Bình: chuỗi nhật ký không liền mạch, số liệu chưa đầy đủ.",
        "Phường Tân Phú: chưa gửi nhật ký lên máy chủ của quận Cái Răng.",
    ]
    # Hưng Phú: 6 airings in 20 of 30 days → about 9 by the month's end, short of 20 (its road safety,
    # 4 in 11 of 21 days → about 8 of 6, is on course). Lê Bình: 10 → 15.
    assert items[2] == (
        "Phường Hưng Phú — Phòng, chống ma túy: có nguy cơ không đạt (đến nay 6/20 lượt; 6,0/15,0 phút; "
        "giữ nhịp phát hiện nay thì cuối kỳ đạt khoảng 9 lượt)."
    )
    assert len(items) == 4 and items[3].endswith("cuối kỳ đạt khoảng 15 lượt).")


def test_the_sources_say_who_sent_what_and_whose_chain_verifies() -> None:
    text = " ".join(C.source_paragraphs(document()))
    assert "do 3/4 phường gửi lên máy chủ của quận Cái Răng, tính đến 08:00 ngày 20/11/2026" in text
    assert "Kỳ báo cáo chưa kết thúc (đến ngày 30/11/2026)" in text
    assert (
        "Chuỗi nhật ký kiểm tra nguyên vẹn (chuỗi băm liền mạch từ dòng đầu tiên): Phường An Bình (334 dòng"
        in text
    )
    assert (
        "Chuỗi nhật ký của Phường Lê Bình KHÔNG liền mạch (phát hiện lúc 08:00 ngày 20/11/2026: thiếu dòng"
        in text
    )
    assert "Chưa gửi nhật ký lên máy chủ: Phường Tân Phú; không có số liệu" in text


def test_the_chart_shows_each_ward_that_sent_its_share_of_each_target() -> None:
    wards, series = C.share_series(document())
    assert wards == ["Phường An Bình", "Phường Hưng Phú", "Phường Lê Bình"]
    shares = dict(series)
    assert [round(v or 0) for v in shares["ma-tuy"]] == [100, 30, 50]
    assert [round(v or 0) for v in shares["atgt"]] == [183, 67, 100]
    drawing = share_chart(wards, series, width=450, font="Times-Roman", bold_font="Times-Bold")
    drawn = drawing_text(drawing)
    assert SHARE_TITLE in drawn and "Phường Hưng Phú" in drawn and "183%" in drawn and "atgt" in drawn


def test_pdf_and_docx_draw_the_same_layout_with_every_glyph() -> None:
    doc = document()
    pdf = consolidated_pdf(doc, find_serif_fonts())
    assert boxes(pdf) == []
    assert [b.kind for b in C.blocks(doc)][:2] == ["body", "section"]
    docx = Document(io.BytesIO(consolidated_docx(doc, find_serif_fonts())))
    grid = docx.tables[1]
    assert [c.text for c in grid.rows[0].cells] == list(C.CONSOLIDATED_HEADER)
    # A ward's number and name are one cell down its rows, its text once.
    assert grid.cell(1, 1)._tc is grid.cell(2, 1)._tc and grid.cell(1, 1).text == "Phường An Bình"
    results = ["Đạt", "Đạt", "Đang thực hiện", "Đang thực hiện", "Đang thực hiện", "Đạt", "Chưa gửi nhật ký"]
    assert [grid.cell(r, 5).text for r in range(1, 8)] == results
    sections = [p.text for p in docx.paragraphs if p.text.startswith(("I.", "II.", "III."))]
    assert sections == [b.text for b in C.blocks(doc) if b.kind == "section"]
