"""The reports as the console reads them: compliance per campaign and period with its weekly chart, and
the downloads (PDF, DOCX, CSV, the weekly programme log) that `broadcaster report` writes.

Every signed-in user may read them, the inspector included. A download holds the same document as the
command line's for the same choices: both call services.documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from broadcaster import labels
from broadcaster.errors import InputError
from broadcaster.planning.calendar import local_day, station_zone
from broadcaster.reports.compliance import ComplianceReport, CountingRules
from broadcaster.reports.periods import Period, PeriodKind
from broadcaster.reports.printable import (
    COMPLIANCE_HEADER,
    PARTIAL_NOTE,
    compliance_rows,
    rules_statement,
    weekly_series,
    zone_statement,
)
from broadcaster.services import documents, form_fields, reporting
from broadcaster.services.log_view import Download, FormRefused
from broadcaster.services.stations import campaign_titles, find_station
from broadcaster.services.users import get_user
from broadcaster.store.models import StationRow

FORMATS = ("pdf", "docx", "csv")
MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "csv": "text/csv; charset=utf-8",
}


@dataclass(frozen=True)
class ReportQuery:
    """What a report covers: one campaign (None: all), the period kind, optional local date bounds."""

    campaign: str | None = None
    kind: PeriodKind = PeriodKind.MONTH
    first: date | None = None
    last: date | None = None

    @property
    def codes(self) -> list[str] | None:
        """The campaign codes as the reporting services take them (None: every campaign)."""
        return [self.campaign] if self.campaign else None


def parse_query(
    session: Session,
    station: StationRow,
    *,
    campaign: str = "",
    period: str = "month",
    first: str = "",
    last: str = "",
) -> ReportQuery:
    """A report's choices from a form (fields chien_dich, ky, tu, den); FormRefused names each bad one."""
    errors: dict[str, str] = {}
    titles = campaign_titles(session, station.id)
    code = form_fields.campaign_field(titles, campaign, errors)
    if not titles:
        errors["chien_dich"] = "Đài chưa có chiến dịch nào: nhập lịch có chiến dịch ở trang Quản trị."
    kinds = {k.value: k for k in PeriodKind}
    kind = kinds.get(period.strip() or "month")
    if kind is None:
        choices = ", ".join(labels.period_kind(k) for k in PeriodKind)
        errors["ky"] = f"Không có kỳ báo cáo «{period.strip()}». Chọn một trong: {choices}."
    start, end = form_fields.day_range(first, last, errors)
    if errors:
        raise FormRefused(errors)
    return ReportQuery(code, kind or PeriodKind.MONTH, start, end)


@dataclass(frozen=True)
class CampaignTable:
    """One campaign's compliance as `broadcaster report` prints it: the header and a row per period."""

    report: ComplianceReport
    rows: tuple[tuple[str, ...], ...]
    partial: bool


@dataclass(frozen=True)
class WeeklyChart:
    """Minutes aired per ISO week for each campaign (by title), as the printed report's chart draws it."""

    weeks: tuple[Period, ...]
    series: tuple[tuple[str, tuple[float, ...]], ...]

    @property
    def peak(self) -> float:
        """The largest weekly value (at least 1, so an empty chart still has an axis)."""
        return max((v for _, values in self.series for v in values), default=0.0) or 1.0


@dataclass(frozen=True)
class ReportPage:
    """The Báo cáo page: the choices made, a table per campaign, the chart and the statements under them."""

    query: ReportQuery
    tables: tuple[CampaignTable, ...]
    chart: WeeklyChart
    campaigns: dict[str, str]
    header: tuple[str, ...]
    zone_statement: str
    rules_statement: str
    partial_note: str
    this_week: date


def report_page(
    session: Session,
    station_code: str | None,
    *,
    actor: str | None,
    now: datetime,
    campaign: str = "",
    period: str = "month",
    first: str = "",
    last: str = "",
    heard_only: bool = False,
) -> ReportPage:
    """Compliance of the chosen campaigns over the chosen periods, with the weekly airtime chart.

    `heard_only`: count only the airings the station's ear heard as planned.
    """
    get_user(session, actor)
    station = find_station(session, station_code)
    query = parse_query(session, station, campaign=campaign, period=period, first=first, last=last)
    rules = CountingRules(heard_only=heard_only)
    reports = _reports(session, station, query, query.kind, now, rules)
    weekly = (
        reports
        if query.kind is PeriodKind.WEEK
        else _reports(session, station, query, PeriodKind.WEEK, now, rules)
    )
    titles = campaign_titles(session, station.id)
    weeks, series = weekly_series(weekly)
    chart = WeeklyChart(
        tuple(weeks), tuple((titles.get(code, code), tuple(values)) for code, values in series)
    )
    tables = tuple(
        CampaignTable(
            r,
            tuple(tuple(c.replace("\n", " ") for c in row) for row in compliance_rows(r)),
            any(p.partial for p in r.rows),
        )
        for r in reports
    )
    zone = station_zone(station)
    return ReportPage(
        query=query,
        tables=tables,
        chart=chart,
        campaigns=titles,
        header=COMPLIANCE_HEADER,
        zone_statement=zone_statement(zone.key),
        rules_statement=rules_statement(reports[0]) if reports else "",
        partial_note=PARTIAL_NOTE,
        this_week=local_day(now, zone),
    )


def _reports(
    session: Session,
    station: StationRow,
    query: ReportQuery,
    kind: PeriodKind,
    now: datetime,
    rules: CountingRules | None = None,
) -> list[ComplianceReport]:
    try:
        return reporting.compliance_reports(
            session, station, query.codes, kind, now=now, first=query.first, last=query.last, rules=rules
        )
    except InputError as exc:  # e.g. dates outside every campaign's period
        raise FormRefused({exc.field or "tu": exc.one_line()}) from exc


def compliance_download(
    session: Session,
    station_code: str | None,
    *,
    actor: str | None,
    now: datetime,
    fmt: str,
    campaign: str = "",
    period: str = "month",
    first: str = "",
    last: str = "",
    place: str = "",
    number: str = "",
    heard_only: bool = False,
) -> Download:
    """The compliance report as `broadcaster report --format pdf|docx|csv` writes it, named as it names it."""
    get_user(session, actor)
    station = find_station(session, station_code)
    if fmt not in FORMATS:
        raise FormRefused({"dang": f"Không có dạng tệp «{fmt}»: chọn PDF, DOCX hoặc CSV."})
    query = parse_query(session, station, campaign=campaign, period=period, first=first, last=last)
    today = local_day(now, station_zone(station))
    name = f"bao-cao-{station.code}-{query.kind.value}-{today}.{fmt}"
    rules = CountingRules(heard_only=heard_only)
    if fmt == "csv":
        data = documents.compliance_csv(station, _reports(session, station, query, query.kind, now, rules))
    else:
        try:
            document = documents.compliance_document(
                session,
                station,
                query.codes,
                query.kind,
                now=now,
                first=query.first,
                last=query.last,
                place=place,
                number=number.strip(),
                rules=rules,
            )
        except InputError as exc:
            raise FormRefused({exc.field or "tu": exc.one_line()}) from exc
        data = documents.render_document(document, fmt)
    return Download(name, MEDIA_TYPES[fmt], data)


def programme_log_download(
    session: Session,
    station_code: str | None,
    *,
    actor: str | None,
    now: datetime,
    week: str,
    fmt: str,
    place: str = "",
    number: str = "",
) -> Download:
    """The weekly programme log (`broadcaster report log --week`) as PDF or DOCX."""
    get_user(session, actor)
    station = find_station(session, station_code)
    errors: dict[str, str] = {}
    day = form_fields.day_field(week, "tuan", errors)
    if day is None and not errors:
        errors["tuan"] = "Chọn một ngày trong tuần cần in."
    if fmt not in ("pdf", "docx"):
        errors["so_nhat_ky"] = "Sổ nhật ký in ra PDF hoặc DOCX."
    if errors or day is None:
        raise FormRefused(errors)
    document = documents.programme_log_document(
        session, station, day, now=now, place=place, number=number.strip()
    )
    year, number_of_week, _ = document.week.start.isocalendar()
    name = f"nhat-ky-{station.code}-{year}-W{number_of_week:02d}.{fmt}"
    return Download(name, MEDIA_TYPES[fmt], documents.render_document(document, fmt))
