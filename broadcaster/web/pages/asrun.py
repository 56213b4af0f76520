"""Nhật ký phát sóng: the as-run log with filters and pages, its CSV export, and corrections with a reason."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from broadcaster import labels
from broadcaster.domain import Outcome
from broadcaster.services import log_view
from broadcaster.web.context import redirect, render, require_user, station_zone, web_of

router = APIRouter()
FILTERS = ("tu", "den", "chien_dich", "ket_qua")


def _typed(request: Request) -> dict[str, str]:
    """The filter fields as typed (kept in the form and in the page links)."""
    return {name: request.query_params.get(name, "") for name in FILTERS}


def _page_number(text: str) -> int:
    return int(text) if text.isdigit() and 0 < len(text) < 7 else 1


def outcome_choices() -> list[tuple[str, str]]:
    """(value, label) of every outcome, for the filter and the correction form."""
    return [(o.value, labels.label(o, capital=True)) for o in Outcome]


def query_string(typed: dict[str, str], **extra: object) -> str:
    """The filters (and e.g. a page number) as a URL query, empty fields left out."""
    pairs = {k: v for k, v in typed.items() if v}
    pairs.update({k: str(v) for k, v in extra.items() if v})
    return urlencode(pairs)


@router.get("/nhat-ky", include_in_schema=False)
def log_page(request: Request) -> Response:
    """The log, newest first, 50 rows a page; a bad filter is shown beside its field (status 400)."""
    user = require_user(request)
    web = web_of(request)
    typed = _typed(request)
    page = _page_number(request.query_params.get("trang", "1"))
    context: dict[str, object] = {"typed": typed, "outcomes": outcome_choices(), "query_string": query_string}
    try:
        with web.tx() as s:
            data = log_view.log_page(
                s,
                web.settings.station,
                actor=user.name,
                first=typed["tu"],
                last=typed["den"],
                campaign=typed["chien_dich"],
                outcome=typed["ket_qua"],
                page=page,
            )
    except log_view.FormRefused as exc:
        return _refused(request, user.name, typed, exc.errors)
    context |= {"data": data, "errors": {}, "campaigns": data.campaigns}
    return render(request, "asrun/index.html", context)


def _refused(request: Request, actor: str, typed: dict[str, str], errors: dict[str, str]) -> Response:
    """The log page with each bad filter's message beside it and no rows (an empty list would mislead)."""
    web = web_of(request)
    with web.tx() as s:
        campaigns = log_view.campaign_choices(s, web.settings.station, actor=actor)
    context = {
        "typed": typed,
        "outcomes": outcome_choices(),
        "query_string": query_string,
        "data": None,
        "errors": errors,
        "campaigns": campaigns,
    }
    return render(request, "asrun/index.html", context, status=400)


@router.get("/nhat-ky/xuat-csv", include_in_schema=False)
def export_csv(request: Request) -> Response:
    """The filtered log as CSV (UTF-8 with BOM), the bytes `broadcaster log export --format csv` writes."""
    user = require_user(request)
    web = web_of(request)
    typed = _typed(request)
    try:
        with web.tx() as s:
            download = log_view.log_csv(
                s,
                web.settings.station,
                actor=user.name,
                first=typed["tu"],
                last=typed["den"],
                campaign=typed["chien_dich"],
                outcome=typed["ket_qua"],
                all_rows=request.query_params.get("tat_ca") == "1",
            )
    except log_view.FormRefused as exc:
        return _refused(request, user.name, typed, exc.errors)
    return attachment(download)


def attachment(download: log_view.Download) -> Response:
    """A file the browser saves under its name (UTF-8 names encoded as RFC 5987 says)."""
    disposition = f"attachment; filename=\"{download.filename}\"; filename*=UTF-8''{quote(download.filename)}"
    return Response(
        download.data, media_type=download.media_type, headers={"Content-Disposition": disposition}
    )


@router.get("/nhat-ky/{row_id}/dinh-chinh", include_in_schema=False)
def correction_form(request: Request, row_id: int) -> Response:
    """The correction form of one row (operator or leader)."""
    user = require_user(request)
    web = web_of(request)
    with web.tx() as s:
        line = log_view.correction_target(s, web.settings.station, row_id, actor=user.name)
    context = {"line": line, "outcomes": outcome_choices(), "errors": {}, "typed": {}}
    return render(request, "asrun/correct.html", context)


@router.post("/nhat-ky/{row_id}/dinh-chinh", include_in_schema=False)
def correct(
    request: Request,
    row_id: int,
    outcome: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    played_s: Annotated[str, Form()] = "",
) -> Response:
    """Append a correction (a new row pointing at the old one); the old row stays as it was."""
    user = require_user(request)
    web = web_of(request)
    try:
        with web.tx() as s:
            row = log_view.correct_row(
                s,
                web.settings.station,
                row_id,
                outcome=outcome,
                reason=reason,
                played_s=played_s,
                actor=user.name,
                now=web.now(),
            )
            new_id, anchor = row.id, row.actual_start or row.planned_start
    except log_view.FormRefused as exc:
        with web.tx() as s:
            line = log_view.correction_target(s, web.settings.station, row_id, actor=user.name)
        typed = {"outcome": outcome, "reason": reason, "played_s": played_s}
        context = {"line": line, "outcomes": outcome_choices(), "errors": exc.errors, "typed": typed}
        return render(request, "asrun/correct.html", context, status=400)
    day = ""
    if anchor is not None:
        local = anchor.astimezone(station_zone(web)).date().isoformat()
        day = query_string({"tu": local, "den": local})
    message = f"Đã ghi dòng đính chính số {new_id} cho dòng {row_id}: {labels.outcome(outcome)}."
    return redirect(f"/nhat-ky?{day}#dong-{new_id}", message)
