"""Charts of printable reports (reportlab.graphics; Pillow for DOCX), in greys for black printing:
weekly airtime per campaign (a ward's report), each ward's share of its targets (a district's)."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from reportlab.graphics.charts.barcharts import BarChart, HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, Line, String
from reportlab.lib import colors

from broadcaster.reports.fonts import SerifFonts, check_serif_fonts
from broadcaster.reports.periods import Period

_SHADES = (0.15, 0.55, 0.8, 0.35, 0.95, 0.65)
TITLE = "Thời lượng phát theo tuần (phút)"
X_TITLE = "Tuần (theo ISO)"
Y_TITLE = "Phút"
_NUMERALS = "0123456789,%"  # week numbers and the value axis's ticks, decimal comma, percent
SHARE_TITLE = "Tỷ lệ thực hiện chỉ tiêu của từng phường (%)"
SHARE_LINE = "Chỉ tiêu"


def chart_text(series: Sequence[tuple[str, Sequence[float]]]) -> str:
    """Every character the chart draws: titles, numbers and the campaign codes of the legend."""
    return TITLE + X_TITLE + Y_TITLE + _NUMERALS + "".join(code for code, _ in series)


def drawing_text(drawing: Drawing) -> str:
    """Every character a reportlab drawing draws: its strings, a bar chart's labels, a legend's names."""
    parts: list[str] = []
    for item in drawing.contents:
        if isinstance(item, String):
            parts.append(item.text)
        elif isinstance(item, BarChart):
            parts += [str(name) for name in item.categoryAxis.categoryNames or ()]
            parts += [str(label) for row in item.barLabelArray or () for label in row]
            parts.append(_NUMERALS)
        elif isinstance(item, Legend):
            parts += [str(name) for _, name in item.colorNamePairs]
    return "".join(parts)


def _tick(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def shade(index: int) -> colors.Color:
    """The grey fill of the n-th series; black-and-white printers keep them apart."""
    level = _SHADES[index % len(_SHADES)]
    return colors.Color(level, level, level)


def weekly_airtime_chart(
    weeks: Sequence[Period],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    width: float,
    height: float,
    font: str,
    bold_font: str,
) -> Drawing:
    """Grouped bars: minutes aired per ISO week (x) for each campaign (one series each), with a legend."""
    drawing = Drawing(width, height)
    legend_h = 14 * ((len(series) + 2) // 3)
    chart = VerticalBarChart()
    chart.x, chart.y = 40, 34 + legend_h
    chart.width, chart.height = width - 50, height - chart.y - 22
    chart.data = [list(values) for _, values in series] or [[0.0] * len(weeks)]
    chart.strokeColor = colors.black
    chart.barSpacing = 0
    chart.groupSpacing = 2
    for i in range(len(chart.data)):
        chart.bars[i].fillColor = shade(i)
        chart.bars[i].strokeColor = colors.black
        chart.bars[i].strokeWidth = 0.3
    step = max(1, len(weeks) // 16)  # a year has 53 weeks: label every few so numbers stay legible
    chart.categoryAxis.categoryNames = [
        str(w.start.isocalendar()[1]) if i % step == 0 else "" for i, w in enumerate(weeks)
    ]
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 8
    chart.valueAxis.labelTextFormat = _tick  # Vietnamese decimal comma, as in the tables
    chart.valueAxis.valueMin = 0
    peak = max((v for _, values in series for v in values), default=0.0)
    chart.valueAxis.valueMax = max(1.0, peak * 1.15)
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.Color(0.8, 0.8, 0.8)
    chart.valueAxis.gridStrokeWidth = 0.3
    drawing.add(chart)
    drawing.add(
        String(
            width / 2,
            height - 12,
            TITLE,
            fontName=bold_font,
            fontSize=11,
            textAnchor="middle",
        )
    )
    drawing.add(String(width / 2, 8 + legend_h, X_TITLE, fontName=font, fontSize=9, textAnchor="middle"))
    drawing.add(String(4, chart.y + chart.height / 2, Y_TITLE, fontName=font, fontSize=9))
    if series:
        legend = Legend()
        legend.x, legend.y = 40, legend_h
        legend.fontName = font
        legend.fontSize = 9
        legend.alignment = "right"
        legend.columnMaximum = 1 if len(series) <= 3 else 2
        legend.boxAnchor = "nw"
        legend.dx = legend.dy = 8
        legend.deltax = (width - 60) / 3
        legend.colorNamePairs = [(shade(i), code) for i, (code, _) in enumerate(series)]
        drawing.add(legend)
    return drawing


def _nice_step(peak: float, ticks: int = 5) -> float:
    raw = max(peak, 1.0) / ticks
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def weekly_airtime_png(
    weeks: Sequence[Period],
    series: Sequence[tuple[str, Sequence[float]]],
    fonts: SerifFonts,
    *,
    size: tuple[int, int] = (1650, 780),
) -> bytes:
    """The same chart as a PNG drawn with Pillow, for DOCX (reportlab's bitmap renderer needs Cairo).

    Refuses faces that lack a glyph for the chart's text (ToolMissingError) rather than draw boxes.
    """
    check_serif_fonts(fonts, chart_text(series))
    width, height = size
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    regular = ImageFont.truetype(str(fonts.regular), 24)
    bold = ImageFont.truetype(str(fonts.bold), 30)
    left, right, top, bottom = 90, 20, 70, 150
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max((v for _, values in series for v in values), default=0.0)
    step = _nice_step(peak * 1.1)
    ceiling = step * math.ceil(max(peak * 1.1, step) / step)

    def y_of(value: float) -> float:
        return top + plot_h * (1 - value / ceiling)

    draw.text((width / 2, 10), TITLE, font=bold, fill="black", anchor="ma")
    tick = 0.0
    while tick <= ceiling + 1e-9:
        y = y_of(tick)
        draw.line([(left, y), (left + plot_w, y)], fill=(200, 200, 200), width=1)
        draw.text((left - 8, y), _tick(tick), font=regular, fill="black", anchor="rm")
        tick += step
    draw.rectangle([left, top, left + plot_w, top + plot_h], outline="black", width=2)
    group_w = plot_w / max(1, len(weeks))
    bar_w = group_w * 0.8 / max(1, len(series))
    label_every = max(1, len(weeks) // 16)
    for i, week in enumerate(weeks):
        x0 = left + i * group_w + group_w * 0.1
        for j, (_, values) in enumerate(series):
            level = round(_SHADES[j % len(_SHADES)] * 255)
            box = [x0 + j * bar_w, y_of(values[i]), x0 + (j + 1) * bar_w, top + plot_h]
            draw.rectangle(box, fill=(level, level, level), outline="black", width=1)
        if i % label_every == 0:
            label = str(week.start.isocalendar()[1])
            draw.text(
                (left + (i + 0.5) * group_w, top + plot_h + 8), label, font=regular, fill="black", anchor="ma"
            )
    draw.text((left + plot_w / 2, top + plot_h + 44), X_TITLE, font=regular, fill="black", anchor="ma")
    _png_legend(draw, [code for code, _ in series], regular, left, height - 29)
    return _png_bytes(image)


def _grey(index: int) -> tuple[int, int, int]:
    level = round(_SHADES[index % len(_SHADES)] * 255)
    return (level, level, level)


def _png_legend(draw: ImageDraw.ImageDraw, codes: Sequence[str], font: Any, x: float, y: float) -> None:
    """One shaded box and code per series, in a row centred on `y`."""
    for j, code in enumerate(codes):
        draw.rectangle([x, y - 13, x + 26, y + 13], fill=_grey(j), outline="black")
        draw.text((x + 36, y), code, font=font, fill="black", anchor="lm")
        x += 60 + int(draw.textlength(code, font=font))


def _png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def share_text(wards: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]]) -> str:
    """Every character the share chart draws: title, ward names, campaign codes, numbers."""
    return SHARE_TITLE + SHARE_LINE + _NUMERALS + "".join(wards) + "".join(code for code, _ in series)


def _share_axis(series: Sequence[tuple[str, Sequence[float | None]]]) -> tuple[float, float]:
    """The value axis's top and step: at least 120% (the 100% line shows), at most 200% (bars beyond stop)."""
    peak = max((v for _, values in series for v in values if v is not None), default=0.0)
    top = min(200.0, max(120.0, peak * 1.08))
    step = _nice_step(top, 6)
    return step * math.ceil(top / step - 1e-9), step


def _percent(value: float | None) -> str:
    return "" if value is None else f"{round(value)}%"


def share_chart(
    wards: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    *,
    width: float,
    font: str,
    bold_font: str,
) -> Drawing:
    """Horizontal bars: each ward's share (%) of each campaign's target, a line at 100%, a legend.

    Each bar is labelled with its true share; bars beyond the axis (200%) stop at its end.
    """
    bar, gap = 9.0, 7.0
    plot_h = max(1, len(wards)) * (max(1, len(series)) * bar + gap)
    label_w = max((len(w) for w in wards), default=4) * 4.6 + 8  # 9 pt serif: about 4.6 pt per character
    legend_h = 16 * ((len(series) + 2) // 3)
    height = plot_h + 62 + legend_h
    top, step = _share_axis(series)
    drawing = Drawing(width, height)
    chart = HorizontalBarChart()
    chart.x, chart.y = label_w, 22 + legend_h
    chart.width, chart.height = width - label_w - 28, plot_h
    # reportlab stacks a group's bars from the bottom: the series go in reversed, the first on top.
    order = list(reversed(range(len(series))))
    chart.data = [[min(v, top) if v is not None else None for v in series[i][1]] for i in order] or [
        [0.0] * len(wards)
    ]
    chart.barLabelFormat = "values"
    chart.barLabelArray = [[_percent(v) for v in series[i][1]] for i in order] or [[""] * len(wards)]
    chart.barLabels.fontName, chart.barLabels.fontSize = font, 7.5
    chart.barLabels.boxAnchor, chart.barLabels.dx = "w", 2
    chart.barWidth, chart.barSpacing, chart.groupSpacing = bar, 0, gap
    chart.strokeColor = colors.black
    for position, i in enumerate(order):
        chart.bars[position].fillColor = shade(i)
        chart.bars[position].strokeColor = colors.black
        chart.bars[position].strokeWidth = 0.3
    chart.categoryAxis.categoryNames = list(wards)
    chart.categoryAxis.reverseDirection = True  # the first ward at the top, as in the table
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 9
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = 0, top, step
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 8
    chart.valueAxis.labelTextFormat = lambda v: f"{v:g}%"
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.Color(0.8, 0.8, 0.8)
    chart.valueAxis.gridStrokeWidth = 0.3
    drawing.add(chart)
    target_x = chart.x + chart.width * 100 / top
    drawing.add(
        Line(target_x, chart.y, target_x, chart.y + plot_h + 4, strokeWidth=1, strokeDashArray=[3, 2])
    )
    drawing.add(
        String(
            target_x,
            chart.y + plot_h + 7,
            SHARE_LINE + " 100%",
            fontName=font,
            fontSize=8,
            textAnchor="middle",
        )
    )
    drawing.add(
        String(width / 2, height - 13, SHARE_TITLE, fontName=bold_font, fontSize=11, textAnchor="middle")
    )
    if series:
        legend = Legend()
        legend.x, legend.y = label_w, legend_h
        legend.fontName, legend.fontSize = font, 9
        legend.alignment = "right"
        legend.columnMaximum = 1 if len(series) <= 3 else 2
        legend.boxAnchor = "nw"
        legend.dx = legend.dy = 8
        legend.deltax = (width - label_w) / 3
        legend.colorNamePairs = [(shade(i), code) for i, (code, _) in enumerate(series)]
        drawing.add(legend)
    return drawing


def share_png(
    wards: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    fonts: SerifFonts,
    *,
    width: int = 1650,
) -> bytes:
    """The share chart as a PNG drawn with Pillow, for DOCX; refuses faces that lack a glyph of its text."""
    check_serif_fonts(fonts, share_text(wards, series))
    regular = ImageFont.truetype(str(fonts.regular), 24)
    small = ImageFont.truetype(str(fonts.regular), 20)
    bold = ImageFont.truetype(str(fonts.bold), 30)
    bar, gap = 26, 20
    plot_h = max(1, len(wards)) * (max(1, len(series)) * bar + gap)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    left = 24 + max((int(probe.textlength(w, font=regular)) for w in wards), default=60)
    right, top_margin = 70, 90
    height = top_margin + plot_h + 110
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    plot_w = width - left - right
    top, step = _share_axis(series)

    def x_of(value: float) -> float:
        return left + plot_w * min(value, top) / top

    draw.text((width / 2, 10), SHARE_TITLE, font=bold, fill="black", anchor="ma")
    tick = 0.0
    while tick <= top + 1e-9:
        draw.line([(x_of(tick), top_margin), (x_of(tick), top_margin + plot_h)], fill=(200, 200, 200))
        draw.text((x_of(tick), top_margin + plot_h + 8), f"{tick:g}%", font=small, fill="black", anchor="ma")
        tick += step
    draw.rectangle([left, top_margin, left + plot_w, top_margin + plot_h], outline="black", width=2)
    for i, ward in enumerate(wards):
        y0 = top_margin + i * (len(series) * bar + gap) + gap / 2
        draw.text((left - 12, y0 + len(series) * bar / 2), ward, font=regular, fill="black", anchor="rm")
        for j, (_, values) in enumerate(series):
            value = values[i]
            if value is None:
                continue
            box = [left, y0 + j * bar, x_of(value), y0 + (j + 1) * bar]
            draw.rectangle(box, fill=_grey(j), outline="black", width=1)
            draw.text(
                (x_of(value) + 6, y0 + (j + 0.5) * bar),
                _percent(value),
                font=small,
                fill="black",
                anchor="lm",
            )
    target = x_of(100)
    for y in range(top_margin - 10, top_margin + plot_h, 12):  # dashed: Pillow draws no dashes itself
        draw.line([(target, y), (target, min(y + 7, top_margin + plot_h))], fill="black", width=3)
    draw.text((target, top_margin - 14), SHARE_LINE + " 100%", font=small, fill="black", anchor="md")
    _png_legend(draw, [code for code, _ in series], regular, left, height - 32)
    return _png_bytes(image)
