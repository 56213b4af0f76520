"""Báo cáo: compliance per campaign and period with its weekly chart; PDF, DOCX and CSV downloads; the
weekly programme log."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from broadcaster import labels
from broadcaster.reports.periods import PeriodKind
from broadcaster.services import report_view
from broadcaster.services.log_view import FormRefused, campaign_choices
from broadcaster.web.context import Web, render, require_user, web_of
from broadcaster.web.pages.asrun import attachment

router = APIRouter()
FIELDS = ("chien_dich", "ky", "tu", "den", "da_nghe")
# Screen colours of the chart's series (the printed report uses greys).
COLOURS = ("#0b5394", "#e69138", "#6aa84f", "#a64d79", "#45818e", "#cc0000")


def _typed(request: Request) -> dict[str, str]:
    typed = {name: request.query_params.get(name, "") for name in FIELDS}
    typed["ky"] = typed["ky"] or PeriodKind.MONTH.value
    return typed


def _place(web: Web) -> str:
    return web.app.config.station.place


def _nice_step(peak: float, ticks: int = 4) -> float:
    raw = max(peak, 1.0) / ticks
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def chart_geometry(chart: report_view.WeeklyChart, width: int = 600, height: int = 260) -> dict[str, Any]:
    """Bars, ticks and week labels of the weekly airtime chart, in SVG user units (the page scales it)."""
    left, right, top, bottom = 44, 8, 12, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    step = _nice_step(chart.peak)
    ceiling = step * math.ceil(chart.peak / step)
    weeks, series = chart.weeks, chart.series
    group_w = plot_w / max(1, len(weeks))
    bar_w = group_w * 0.8 / max(1, len(series))
    bars = []
    for i, week in enumerate(weeks):
        year, number, _ = week.start.isocalendar()
        for j, (title, values) in enumerate(series):
            value = values[i]
            h = plot_h * value / ceiling
            minutes = f"{value:.1f}".replace(".", ",")
            bars.append(
                {
                    "x": round(left + i * group_w + group_w * 0.1 + j * bar_w, 2),
                    "y": round(top + plot_h - h, 2),
                    "w": round(max(bar_w - 0.5, 0.5), 2),
                    "h": round(h, 2),
                    "fill": COLOURS[j % len(COLOURS)],
                    "tip": f"Tuần {number}/{year} · {title}: {minutes} phút",
                }
            )
    every = max(1, math.ceil(len(weeks) / 12))
    week_labels = [
        {"x": round(left + (i + 0.5) * group_w, 2), "text": str(w.start.isocalendar()[1])}
        for i, w in enumerate(weeks)
        if i % every == 0
    ]
    ticks = []
    value = 0.0
    while value <= ceiling + 1e-9:
        ticks.append(
            {"y": round(top + plot_h * (1 - value / ceiling), 2), "text": f"{value:g}".replace(".", ",")}
        )
        value += step
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "bottom": top + plot_h,
        "bars": bars,
        "weeks": week_labels,
        "ticks": ticks,
        "legend": [(title, COLOURS[j % len(COLOURS)]) for j, (title, _) in enumerate(series)],
    }


def _page(request: Request, typed: dict[str, str], errors: dict[str, str], status: int) -> Response:
    """The Báo cáo page for the typed choices, each error beside its field (no table for a bad choice)."""
    user = require_user(request)
    web = web_of(request)
    data = None
    try:
        with web.tx() as s:
            data = report_view.report_page(
                s,
                web.settings.station,
                actor=user.name,
                now=web.now(),
                campaign=typed["chien_dich"],
                period=typed["ky"],
                first=typed["tu"],
                last=typed["den"],
                heard_only=typed["da_nghe"] == "1",
            )
    except FormRefused as exc:
        errors, status = {**errors, **exc.errors}, 400
    with web.tx() as s:
        choices = campaign_choices(s, web.settings.station, actor=user.name)
    context = {
        "data": data,
        "chart": chart_geometry(data.chart) if data and data.chart.weeks else None,
        "typed": typed,
        "errors": errors,
        "campaigns": choices,
        "kinds": [(k.value, labels.period_kind(k, capital=True)) for k in PeriodKind],
        "week": request.query_params.get("tuan", "") or (data.this_week.isoformat() if data else ""),
        "number": request.query_params.get("so", ""),
        "heard_only_label": labels.capitalise(labels.HEARD_ONLY),
    }
    return render(request, "reports/index.html", context, status=status)


@router.get("/bao-cao", include_in_schema=False)
def reports_page(request: Request) -> Response:
    """Compliance of the chosen campaigns and period kind, as `broadcaster report` prints it."""
    return _page(request, _typed(request), {}, 200)


@router.get("/bao-cao/tai-ve", include_in_schema=False)
def download(request: Request) -> Response:
    """The compliance report in PDF, DOCX or CSV (the same file as `broadcaster report --format ...`)."""
    user = require_user(request)
    web = web_of(request)
    typed = _typed(request)
    try:
        with web.tx() as s:
            file = report_view.compliance_download(
                s,
                web.settings.station,
                actor=user.name,
                now=web.now(),
                fmt=request.query_params.get("dang", "pdf"),
                campaign=typed["chien_dich"],
                period=typed["ky"],
                first=typed["tu"],
                last=typed["den"],
                place=_place(web),
                number=request.query_params.get("so", ""),
                heard_only=typed["da_nghe"] == "1",
            )
    except FormRefused as exc:
        return _page(request, typed, exc.errors, 400)
    return attachment(file)


@router.get("/bao-cao/so-nhat-ky", include_in_schema=False)
def programme_log(request: Request) -> Response:
    """The weekly programme log (`broadcaster report log --week`) in PDF or DOCX."""
    user = require_user(request)
    web = web_of(request)
    try:
        with web.tx() as s:
            file = report_view.programme_log_download(
                s,
                web.settings.station,
                actor=user.name,
                now=web.now(),
                week=request.query_params.get("tuan", ""),
                fmt=request.query_params.get("dang", "pdf"),
                place=_place(web),
                number=request.query_params.get("so", ""),
            )
    except FormRefused as exc:
        return _page(request, _typed(request), exc.errors, 400)
    return attachment(file)
