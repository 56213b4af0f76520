"""Chart of weekly airtime per campaign (reportlab.graphics; Pillow for DOCX), in greys for black printing."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors

from broadcaster.reports.fonts import SerifFonts, check_serif_fonts
from broadcaster.reports.periods import Period

_SHADES = (0.15, 0.55, 0.8, 0.35, 0.95, 0.65)
TITLE = "Thời lượng phát theo tuần (phút)"
X_TITLE = "Tuần (theo ISO)"
Y_TITLE = "Phút"
_NUMERALS = "0123456789,"  # week numbers and the value axis's ticks, decimal comma


def chart_text(series: Sequence[tuple[str, Sequence[float]]]) -> str:
    """Every character the chart draws: titles, numbers and the campaign codes of the legend."""
    return TITLE + X_TITLE + Y_TITLE + _NUMERALS + "".join(code for code, _ in series)


def drawing_text(drawing: Drawing) -> str:
    """Every character a reportlab drawing draws: its strings, a bar chart's labels, a legend's names."""
    parts: list[str] = []
    for item in drawing.contents:
        if isinstance(item, String):
            parts.append(item.text)
        elif isinstance(item, VerticalBarChart):
            parts += [str(name) for name in item.categoryAxis.categoryNames or ()]
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
    x = left
    for j, (code, _) in enumerate(series):
        level = round(_SHADES[j % len(_SHADES)] * 255)
        draw.rectangle([x, height - 42, x + 26, height - 16], fill=(level, level, level), outline="black")
        draw.text((x + 36, height - 29), code, font=regular, fill="black", anchor="lm")
        x += 60 + int(draw.textlength(code, font=regular))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
