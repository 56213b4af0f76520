"""Printable reports as DOCX (python-docx), laid out per Nghị định 30/2020/NĐ-CP in Times New Roman."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from broadcaster.reports import consolidated
from broadcaster.reports import printable as text
from broadcaster.reports.chart import share_png, weekly_airtime_png
from broadcaster.reports.fonts import SerifFonts

FONT = "Times New Roman"
_CENTER = WD_ALIGN_PARAGRAPH.CENTER
_TEXT_WIDTH_MM = 210 - 30 - 15


def _new_document() -> Any:
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    section.header_distance = Mm(10)
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(13)
    # Word picks the font per script; set every slot so Vietnamese never falls back to Calibri.
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for slot in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(slot), FONT)
    normal.paragraph_format.space_after = Pt(0)
    _page_numbers(section)
    return document


def _page_numbers(section: Any) -> None:
    # NĐ 30/2020: page numbers centred in the top margin, from page 2 (the first page has its own header).
    section.different_first_page_header_footer = True
    section.first_page_header.is_linked_to_previous = False  # an explicit empty first-page header
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = _CENTER
    run = paragraph.add_run()
    for kind, instruction in (("begin", None), (None, "PAGE"), ("separate", None), ("end", None)):
        if instruction:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = instruction
        else:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), str(kind))
        run._r.append(element)
    run.font.size = Pt(13)


def _para(
    container: Any,
    content: str,
    size: float = 13,
    *,
    bold: bool = False,
    italic: bool = False,
    align: Any = _CENTER,
    indent_mm: float = 0,
    space_after: float = 0,
) -> Any:
    paragraph = container.add_paragraph()
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(space_after)
    if indent_mm:
        paragraph.paragraph_format.first_line_indent = Mm(indent_mm)
    run = paragraph.add_run(content)
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.italic = italic
    return paragraph


def _rule(container: Any, side_indent_mm: float) -> None:
    """A short horizontal rule: an empty paragraph with a bottom border, shortened by side indents."""
    paragraph = container.add_paragraph()
    paragraph.paragraph_format.left_indent = Mm(side_indent_mm)
    paragraph.paragraph_format.right_indent = Mm(side_indent_mm)
    paragraph.paragraph_format.space_after = Pt(2)
    fmt = paragraph.paragraph_format
    fmt.line_spacing = Pt(2)
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    paragraph._p.get_or_add_pPr().append(borders)


def _fill_cell(cell: Any) -> Any:
    cell.paragraphs[0]._p.getparent().remove(cell.paragraphs[0]._p)
    return cell


def _heading(document: Any, letterhead: text.Letterhead) -> None:
    table = document.add_table(rows=2, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = (Mm(68), Mm(_TEXT_WIDTH_MM - 68))
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width
    left, right = (_fill_cell(c) for c in table.rows[0].cells)
    _para(left, letterhead.parent_body, 12.5)
    _para(left, letterhead.issuing_body, 12.5, bold=True)
    _rule(left, 20)
    _para(right, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 12.5, bold=True)
    _para(right, "Độc lập - Tự do - Hạnh phúc", 13, bold=True)
    _rule(right, 20)
    number, dated = (_fill_cell(c) for c in table.rows[1].cells)
    _para(number, text.number_line(letterhead.number, letterhead.symbol), 13, space_after=0)
    _para(dated, text.date_line(letterhead.place, letterhead.issued_on), 13, italic=True)
    _para(document, "", 13)


def _title(document: Any, kind: str, subject: str) -> None:
    _para(document, kind, 14, bold=True)
    _para(document, subject, 14, bold=True)
    _rule(document, 62)
    _para(document, "", 13)


def _grid(
    document: Any,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths_mm: Sequence[float],
    size: float,
    spans: Sequence[tuple[int, int, int]] = (),
    left_columns: frozenset[int] = frozenset(),
) -> Any:
    """A ruled table with a repeated header; `spans`: (column, first, last) body rows joined into one
    cell that holds the first row's text."""
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, label, width in zip(table.rows[0].cells, header, widths_mm, strict=True):
        cell.width = Mm(width)
        _para(_fill_cell(cell), label, size, bold=True)
    _repeat_header(table.rows[0])
    for values in rows:
        cells = table.add_row().cells
        for i, (cell, value, width) in enumerate(zip(cells, values, widths_mm, strict=True)):
            cell.width = Mm(width)
            _para(
                _fill_cell(cell), value, size, align=WD_ALIGN_PARAGRAPH.LEFT if i in left_columns else _CENTER
            )
    for column, first, last in spans:
        if last > first:
            top = table.cell(first + 1, column)
            merged = top.merge(table.cell(last + 1, column))
            for paragraph in merged.paragraphs[1:]:  # the joined rows' empty texts
                paragraph._p.getparent().remove(paragraph._p)
            merged.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
    return table


def _repeat_header(row: Any) -> None:
    marker = OxmlElement("w:tblHeader")
    marker.set(qn("w:val"), "true")
    row._tr.get_or_add_trPr().append(marker)


def _signature(document: Any, letterhead: text.Letterhead) -> None:
    _para(document, "", 13)
    table = document.add_table(rows=1, cols=2)
    left, right = (_fill_cell(c) for c in table.rows[0].cells)
    left.width, right.width = Mm(_TEXT_WIDTH_MM * 0.45), Mm(_TEXT_WIDTH_MM * 0.55)
    _para(left, "Nơi nhận:", 12, bold=True, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT)
    for recipient in letterhead.recipients:
        _para(left, f"- {recipient}", 11, align=WD_ALIGN_PARAGRAPH.LEFT)
    _para(right, letterhead.signer_authority, 13, bold=True)
    _para(right, letterhead.signer_title, 13, bold=True)
    for _ in range(4):
        _para(right, "", 13)
    _para(right, letterhead.signer_name, 13, bold=True)


def _body(document: Any, content: str) -> None:
    _para(document, content, 13, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent_mm=10, space_after=4)


def _save(document: Any, subject: str) -> bytes:
    document.core_properties.title = subject
    document.core_properties.author = "broadcaster"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def compliance_docx(doc: text.ComplianceDocument, fonts: SerifFonts) -> bytes:
    """The compliance report as DOCX bytes: the chart as a picture (drawn with `fonts`), then its numbers."""
    document = _new_document()
    _heading(document, doc.letterhead)
    _title(document, "BÁO CÁO", doc.subject)
    if doc.intro:
        _body(document, doc.intro)
    _body(document, text.zone_statement(doc.zone_name))
    widths = (25, 14, 15, 28, 28, 25, 15, 15)
    for number, report in enumerate(doc.reports, start=1):
        heading = f"{number}. {report.campaign_title} ({report.campaign_code}; {report.plan_ref})"
        _para(document, heading, 13, bold=True, align=WD_ALIGN_PARAGRAPH.LEFT, space_after=4)
        _grid(document, text.COMPLIANCE_HEADER, text.compliance_rows(report), widths, 10.5)
        if any(row.partial for row in report.rows):
            _para(document, text.PARTIAL_NOTE, 10.5, italic=True, align=WD_ALIGN_PARAGRAPH.LEFT)
    if doc.reports:
        _para(document, "", 13)
        _body(document, text.rules_statement(doc.reports[0]))
    if doc.weekly:
        weeks, series = text.weekly_series(doc.weekly)
        picture = io.BytesIO(weekly_airtime_png(weeks, series, fonts))
        document.add_picture(picture, width=Mm(_TEXT_WIDTH_MM))
        document.paragraphs[-1].alignment = _CENTER
        header = ["Tuần", *(code for code, _ in series)]
        rows = [
            [text.short_label(week).replace("\n", " "), *(text.vn_number(values[i]) for _, values in series)]
            for i, week in enumerate(weeks)
        ]
        first = 45.0
        rest = (_TEXT_WIDTH_MM - first) / max(1, len(series))
        _grid(document, header, rows, [first, *([rest] * len(series))], 10.5)
    _para(document, "", 13)
    _body(document, f"Trên đây là báo cáo kết quả phát sóng của {doc.station_name}./.")
    _signature(document, doc.letterhead)
    return _save(document, f"Báo cáo {doc.subject}")


def consolidated_docx(doc: text.ConsolidatedDocument, fonts: SerifFonts) -> bytes:
    """The district's consolidated report as DOCX bytes: its chart a picture drawn with `fonts`."""
    document = _new_document()
    subject = consolidated.subject(doc)
    _heading(document, doc.letterhead)
    _title(document, "BÁO CÁO", subject)
    left = WD_ALIGN_PARAGRAPH.LEFT
    for block in consolidated.blocks(doc):
        if block.kind == "section":
            _para(document, block.text, 13, bold=True, align=left, space_after=4)
        elif block.kind == "item":
            paragraph = _para(
                document, f"- {block.text}", 13, align=WD_ALIGN_PARAGRAPH.JUSTIFY, space_after=3
            )
            paragraph.paragraph_format.left_indent = Mm(10)
        elif block.kind == "note":
            _para(document, block.text, 10.5, italic=True, align=left, space_after=4)
        elif block.kind == "table":
            rows, spans = consolidated.table_rows(doc)
            joined = [(column, first, last) for first, last in spans for column in (0, 1)]
            widths = (10, 33, 52, 24, 24, 22)
            _grid(document, consolidated.CONSOLIDATED_HEADER, rows, widths, 10.5, joined, frozenset({1, 2}))
            _para(document, "", 6)
        elif block.kind == "chart":
            wards, series = consolidated.share_series(doc)
            document.add_picture(io.BytesIO(share_png(wards, series, fonts)), width=Mm(_TEXT_WIDTH_MM))
            document.paragraphs[-1].alignment = _CENTER
        else:
            _body(document, block.text)
    _signature(document, doc.letterhead)
    return _save(document, f"Báo cáo {subject}")


def programme_log_docx(doc: text.ProgrammeLogDocument) -> bytes:
    """The weekly programme log as DOCX bytes."""
    document = _new_document()
    subject = f"Sổ nhật ký chương trình phát thanh hàng tuần của {doc.station_name}"
    _heading(document, doc.letterhead)
    _title(document, "SỔ NHẬT KÝ CHƯƠNG TRÌNH PHÁT THANH", subject)
    _para(document, text.log_period_text(doc.week), 13, italic=True)
    _para(document, text.zone_statement(str(doc.zone)), 11, italic=True, space_after=6)
    widths = (9, 19, 16, 15, 43, 24, 18, 21)
    _grid(document, text.LOG_HEADER, text.log_rows(doc.records, doc.zone), widths, 10)
    _para(document, "", 13)
    _body(document, text.log_totals(doc.records))
    _signature(document, doc.letterhead)
    return _save(document, subject)
