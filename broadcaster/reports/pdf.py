"""Printable reports as PDF (reportlab) per Nghị định 30/2020/NĐ-CP, in faces that draw all their text."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    HRFlowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from broadcaster.reports import consolidated
from broadcaster.reports import printable as text
from broadcaster.reports.chart import drawing_text, share_chart, weekly_airtime_chart
from broadcaster.reports.fonts import SerifFonts, check_serif_fonts, find_serif_fonts

FAMILY = "LiberationSerif"  # reportlab's name for whichever Times-metric family was found

# NĐ 30/2020 margins: top/bottom 20–25 mm, left 30–35 mm, right 15–20 mm.
MARGINS = {"top": 20 * mm, "bottom": 20 * mm, "left": 30 * mm, "right": 15 * mm}
TEXT_WIDTH = A4[0] - MARGINS["left"] - MARGINS["right"]


_SUFFIXES = ("", "-Bold", "-Italic", "-BoldItalic")
_registered: list[SerifFonts] = []  # the faces now registered under FAMILY (reportlab keeps one registry)


def _map_family() -> None:
    # Paragraphs resolve their face names when built; the faces themselves are loaded only to lay out.
    pdfmetrics.registerFontFamily(
        FAMILY,
        normal=FAMILY,
        bold=FAMILY + "-Bold",
        italic=FAMILY + "-Italic",
        boldItalic=FAMILY + "-BoldItalic",
    )


def _register(name: str, path: Path) -> None:
    font = TTFont(name, str(path))
    pdfmetrics.registerFont(font)
    held = pdfmetrics.getFont(name)
    if held is not font:
        # reportlab keeps the first font of a name, and hands out the first font of a PostScript name
        # ("LiberationSerif" in 1.07 and 2.x alike) for any later one: drop that one, register again.
        held.unregister()
        font.unregister()
        pdfmetrics.registerFont(font)


def register_fonts(fonts: SerifFonts) -> None:
    """Register the faces with reportlab under FAMILY (idempotent; other faces replace those registered)."""
    if _registered == [fonts]:
        return
    for suffix, path in zip(_SUFFIXES, fonts.faces, strict=True):
        _register(FAMILY + suffix, path)
    _map_family()
    _registered[:] = [fonts]


def story_text(flowables: Iterable[Any]) -> str:
    """Every character a story draws: paragraphs, table cells, kept-together groups and charts."""
    parts: list[str] = []
    for item in flowables:
        if isinstance(item, str):
            parts.append(item)
        elif isinstance(item, Paragraph):
            parts.append(item.getPlainText())
        elif isinstance(item, Table):
            parts.append(story_text(item._cellvalues))
        elif isinstance(item, KeepTogether):
            parts.append(story_text(item._content))
        elif isinstance(item, Drawing):
            parts.append(drawing_text(item))
        elif isinstance(item, list | tuple):
            parts.append(story_text(item))
    return "".join(parts)


class _RuleUnder(HRFlowable):  # type: ignore[misc]
    """A rule as wide as a line of text, measured at layout, once the faces are registered."""

    def __init__(self, line: str, font: str, size: float, **options: Any) -> None:
        super().__init__(width=1, **options)
        self._line = (line, font, size)

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        """Measure the line, then lay out as a rule of that width."""
        self.width = pdfmetrics.stringWidth(*self._line)
        size: tuple[float, float] = super().wrap(avail_width, avail_height)
        return size


def _style(size: float, face: str = "", align: int = TA_CENTER, **extra: Any) -> ParagraphStyle:
    options: dict[str, Any] = {"leading": size * 1.2, "textColor": colors.black, **extra}
    return ParagraphStyle(
        f"s{size}{face}{align}", fontName=FAMILY + face, fontSize=size, alignment=align, **options
    )


def _p(content: str, style: ParagraphStyle) -> Paragraph:
    escaped = content.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br/>")
    return Paragraph(escaped, style)


def _heading(letterhead: text.Letterhead) -> list[Flowable]:
    left_w, right_w = 68 * mm, TEXT_WIDTH - 68 * mm
    motto = "Độc lập - Tự do - Hạnh phúc"
    left = [
        _p(letterhead.parent_body, _style(12.5)),
        _p(letterhead.issuing_body, _style(12.5, "-Bold")),
        HRFlowable(width=28 * mm, thickness=0.6, color=colors.black, spaceBefore=3, hAlign="CENTER"),
    ]
    right = [
        _p("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", _style(12.5, "-Bold")),
        _p(motto, _style(13, "-Bold")),
        _RuleUnder(
            motto, FAMILY + "-Bold", 13, thickness=0.6, color=colors.black, spaceBefore=3, hAlign="CENTER"
        ),
    ]
    number = _p(text.number_line(letterhead.number, letterhead.symbol), _style(13))
    dated = _p(text.date_line(letterhead.place, letterhead.issued_on), _style(13, "-Italic"))
    table = Table([[left, right], [number, dated]], colWidths=[left_w, right_w])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),  # places the short rules under their lines
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 1), (-1, 1), 6),
            ]
        )
    )
    return [table, Spacer(1, 8 * mm)]


def _title(kind: str, subject: str) -> list[Flowable]:
    return [
        _p(kind, _style(14, "-Bold")),
        _p(subject, _style(14, "-Bold")),
        HRFlowable(width=40 * mm, thickness=0.6, color=colors.black, spaceBefore=5, hAlign="CENTER"),
        Spacer(1, 5 * mm),
    ]


def _grid(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float],
    size: float,
    left_columns: frozenset[int] = frozenset(),
    spans: Sequence[tuple[int, int, int]] = (),
) -> Table:
    """A ruled table with a repeated header; `spans`: (column, first, last) body rows joined into one
    cell, which holds the first row's text and is never split across pages."""
    head = _style(size, "-Bold")
    cell = _style(size)
    left = _style(size, align=TA_LEFT)
    data: list[list[Flowable]] = [[_p(h, head) for h in header]]
    for row in rows:
        data.append([_p(v, left if i in left_columns else cell) for i, v in enumerate(row)])
    table = Table(data, colWidths=list(widths), repeatRows=1)
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    for column, first, last in spans:
        if last > first:  # body rows follow the header row
            commands.append(("SPAN", (column, first + 1), (column, last + 1)))
            commands.append(("NOSPLIT", (0, first + 1), (-1, last + 1)))
    table.setStyle(TableStyle(commands))
    return table


def _signature(letterhead: text.Letterhead) -> Flowable:
    return KeepTogether(_signature_parts(letterhead))


def _signature_parts(letterhead: text.Letterhead) -> list[Flowable]:
    """Recipients on the left, the signer on the right (a KeepTogether inside another measures as a page)."""
    recipients = [_p("Nơi nhận:", _style(12, "-BoldItalic", TA_LEFT))]
    recipients += [_p(f"- {r}", _style(11, align=TA_LEFT)) for r in letterhead.recipients]
    signer = [
        _p(letterhead.signer_authority, _style(13, "-Bold")),
        _p(letterhead.signer_title, _style(13, "-Bold")),
        Spacer(1, 24 * mm),
        _p(letterhead.signer_name, _style(13, "-Bold")),
    ]
    table = Table([[recipients, signer]], colWidths=[TEXT_WIDTH * 0.45, TEXT_WIDTH * 0.55])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return [Spacer(1, 6 * mm), table]


def _page_number(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    # NĐ 30/2020: numbered from page 2, centred in the top margin.
    canvas.saveState()
    canvas.setFont(FAMILY, 13)
    canvas.drawCentredString(MARGINS["left"] + TEXT_WIDTH / 2, A4[1] - 12 * mm, str(doc.page))
    canvas.restoreState()


def _build(story: list[Flowable], title: str, fonts: SerifFonts | None) -> bytes:
    # The faces are chosen for the characters this story draws (page numbers are digits).
    drawn = story_text(story) + "0123456789"
    register_fonts(find_serif_fonts(text=drawn) if fonts is None else check_serif_fonts(fonts, drawn))
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGINS["left"],
        rightMargin=MARGINS["right"],
        topMargin=MARGINS["top"],
        bottomMargin=MARGINS["bottom"],
        title=title,
        author="broadcaster",
        initialFontName=FAMILY,  # else every page references a non-embedded Helvetica
    )
    first: Callable[[Canvas, SimpleDocTemplate], None] = lambda canvas, doc: None  # noqa: E731
    doc.build(story, onFirstPage=first, onLaterPages=_page_number)
    return buffer.getvalue()


def body(content: str) -> Paragraph:
    """A body paragraph: 13 pt, justified, first line indented, as in the decree's samples."""
    return _p(content, _style(13, align=TA_JUSTIFY, firstLineIndent=10 * mm, spaceAfter=4, leading=17))


def compliance_pdf(document: text.ComplianceDocument, fonts: SerifFonts | None = None) -> bytes:
    """The compliance report as PDF bytes, in `fonts` or the first faces found that draw all its text."""
    _map_family()
    story: list[Flowable] = [*_heading(document.letterhead), *_title("BÁO CÁO", document.subject)]
    if document.intro:
        story.append(body(document.intro))
    story.append(body(text.zone_statement(document.zone_name)))
    widths = [w * mm for w in (25, 14, 15, 28, 28, 25, 15, 15)]
    for number, report in enumerate(document.reports, start=1):
        heading = f"{number}. {report.campaign_title} ({report.campaign_code}; {report.plan_ref})"
        story.append(_p(heading, _style(13, "-Bold", TA_LEFT, spaceBefore=6, spaceAfter=4)))
        story.append(_grid(text.COMPLIANCE_HEADER, text.compliance_rows(report), widths, 10.5))
        if any(row.partial for row in report.rows):
            story.append(_p(text.PARTIAL_NOTE, _style(10.5, "-Italic", TA_LEFT, spaceBefore=2)))
    if document.reports:
        story.append(Spacer(1, 3 * mm))
        story.append(body(text.rules_statement(document.reports[0])))
    if document.weekly:
        weeks, series = text.weekly_series(document.weekly)
        chart = weekly_airtime_chart(
            weeks, series, width=TEXT_WIDTH, height=75 * mm, font=FAMILY, bold_font=FAMILY + "-Bold"
        )
        story.append(KeepTogether([Spacer(1, 4 * mm), chart]))
    story.append(body(f"Trên đây là báo cáo kết quả phát sóng của {document.station_name}./."))
    story.append(_signature(document.letterhead))
    return _build(story, f"Báo cáo {document.subject}", fonts)


def consolidated_pdf(document: text.ConsolidatedDocument, fonts: SerifFonts | None = None) -> bytes:
    """The district's consolidated report as PDF bytes, in `fonts` or the first faces that draw its text."""
    _map_family()
    subject = consolidated.subject(document)
    story: list[Flowable] = [*_heading(document.letterhead), *_title("BÁO CÁO", subject)]
    *body_blocks, closing = consolidated.blocks(document)
    for block in body_blocks:
        story += _consolidated_block(document, block)
    # The closing sentence goes with the signature: a signature never stands alone on a page.
    story.append(
        KeepTogether([*_consolidated_block(document, closing), *_signature_parts(document.letterhead)])
    )
    return _build(story, f"Báo cáo {subject}", fonts)


def _consolidated_block(document: text.ConsolidatedDocument, block: consolidated.Block) -> list[Flowable]:
    if block.kind == "section":
        return [_p(block.text, _style(13, "-Bold", TA_LEFT, spaceBefore=6, spaceAfter=4))]
    if block.kind == "item":
        return [
            _p(f"- {block.text}", _style(13, align=TA_JUSTIFY, leftIndent=10 * mm, spaceAfter=3, leading=17))
        ]
    if block.kind == "note":
        return [_p(block.text, _style(10.5, "-Italic", TA_LEFT, spaceBefore=2, spaceAfter=4))]
    if block.kind == "table":
        rows, spans = consolidated.table_rows(document)
        widths = [w * mm for w in (10, 33, 52, 24, 24, 22)]
        joined = [(column, first, last) for first, last in spans for column in (0, 1)]
        grid = _grid(consolidated.CONSOLIDATED_HEADER, rows, widths, 10.5, frozenset({1, 2}), joined)
        return [grid, Spacer(1, 2 * mm)]
    if block.kind == "chart":
        wards, series = consolidated.share_series(document)
        chart = share_chart(wards, series, width=TEXT_WIDTH, font=FAMILY, bold_font=FAMILY + "-Bold")
        return [KeepTogether([Spacer(1, 4 * mm), chart, Spacer(1, 2 * mm)])]
    return [body(block.text)]


def programme_log_pdf(document: text.ProgrammeLogDocument, fonts: SerifFonts | None = None) -> bytes:
    """The weekly programme log as PDF bytes, in `fonts` or the first faces found that draw all its text."""
    _map_family()
    subject = f"Sổ nhật ký chương trình phát thanh hàng tuần của {document.station_name}"
    story: list[Flowable] = [
        *_heading(document.letterhead),
        *_title("SỔ NHẬT KÝ CHƯƠNG TRÌNH PHÁT THANH", subject),
        _p(text.log_period_text(document.week), _style(13, "-Italic")),
        Spacer(1, 2 * mm),
        _p(text.zone_statement(str(document.zone)), _style(11, "-Italic")),
        Spacer(1, 4 * mm),
    ]
    widths = [w * mm for w in (9, 19, 16, 15, 43, 24, 18, 21)]
    log = text.log_rows(document.records, document.zone)
    story.append(_grid(text.LOG_HEADER, log, widths, 10, frozenset({4, 5, 7})))
    story.append(Spacer(1, 3 * mm))
    story.append(body(text.log_totals(document.records)))
    story.append(_signature(document.letterhead))
    return _build(story, subject, fonts)
