"""The district's consolidated report (báo cáo tổng hợp): every ward × campaign of one period, from the
logs the wards forwarded to this server, printed as PDF or DOCX in the Nghị định 30/2020 layout.

The figures are the district's own table (`district_intake.compliance_table`, the same aggregate and
rules as each ward's report) for the current period, and the same arithmetic over a chosen past one.
Each ward's chain is checked again here; a ward whose chain is broken, or that never sent its log, is
stated in the report, never merged silently with the others.
"""

from __future__ import annotations

import unicodedata
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster.domain import Campaign, Role
from broadcaster.errors import ConfigError, InputError, NotFoundError
from broadcaster.planning.calendar import local_day, station_zone
from broadcaster.reports.compliance import CountingRules
from broadcaster.reports.periods import Period, PeriodKind, period_containing
from broadcaster.reports.printable import (
    ConsolidatedDocument,
    ConsolidatedLine,
    Letterhead,
    WardSource,
    place_from_name,
)
from broadcaster.reports.series import DaySeries, report_from_series
from broadcaster.services import district_intake
from broadcaster.services.day_totals import day_series
from broadcaster.services.district_intake import WardCompliance
from broadcaster.services.documents import print_format, signer_title, signing_leader
from broadcaster.services.stations import campaigns_of
from broadcaster.services.users import require_role
from broadcaster.store.models import ForwardStateRow, StationRow

__all__ = ["consolidated_document", "district_name", "render_consolidated"]


def district_name(name: str) -> str:
    """The configured district name, NFC and single-spaced; a ConfigError when it is not set."""
    text = " ".join(unicodedata.normalize("NFC", name).split())
    if not text:
        raise ConfigError(
            "Chưa đặt tên quận/huyện cho báo cáo tổng hợp.",
            'Ghi vào broadcaster.toml: [district] name = "Quận Cái Răng" '
            "(hoặc đặt biến BROADCASTER_DISTRICT_NAME).",
        )
    return text


def _period_table(
    session: Session, stations: list[StationRow], period: Period, *, now: datetime, rules: CountingRules
) -> list[WardCompliance]:
    """compliance_table's cells for a finished period: each ward × campaign running in it."""
    by_station: dict[int, list[Campaign]] = {}
    for station_id, campaign in campaigns_of(session, [st.id for st in stations]):
        by_station.setdefault(station_id, []).append(campaign)
    every = [c for cs in by_station.values() for c in cs]
    series = day_series(session, stations, every, now=now, rules=rules, forwarded=True)
    out = []
    for st in stations:
        zone = station_zone(st)
        today = local_day(now, zone)
        for campaign in by_station.get(st.id, []):
            first = max(period.start, campaign.period_start)
            if first > min(period.end, campaign.period_end, today):
                continue  # the campaign does not run in this period
            report = report_from_series(
                campaign,
                series.get((st.id, campaign.code), DaySeries()),
                period.kind,
                now=now,
                zone=zone,
                first=period.start,
                last=period.end,
                rules=rules,
            )
            rows = [r for r in report.rows if r.period == period]
            out.append(
                WardCompliance(st.code, st.name, campaign.code, campaign.title, rows[0] if rows else None)
            )
    return out


def _source(session: Session, station: StationRow, state: ForwardStateRow | None) -> WardSource:
    """What the district holds of one ward's log, and whether it still checks from the first row."""
    name = station.ward or station.name
    if state is None or (state.rows == 0 and state.broken_at is None):
        return WardSource(station.code, name, 0, state.last_contact_at if state else None)
    if state.broken_at is not None:
        return WardSource(
            station.code, name, state.rows, state.last_contact_at, state.broken_reason, state.broken_at
        )
    check = district_intake.verify_forwarded(session, station.id)
    problem = check.problem or ""
    if not problem and (check.rows, check.head_hash) != (state.rows, state.head_hash):
        problem = f"máy chủ đang giữ {check.rows} dòng, không khớp với {state.rows} dòng đã nhận"
    return WardSource(station.code, name, state.rows, state.last_contact_at, problem)


def consolidated_document(
    session: Session,
    *,
    actor: str | None,
    now: datetime,
    name: str,
    kind: PeriodKind = PeriodKind.MONTH,
    period: date | None = None,
    place: str = "",
    number: str = "",
    rules: CountingRules | None = None,
) -> ConsolidatedDocument:
    """The consolidated report of the period of `kind` containing `period` (default: the current one).

    `name`: the district (config `[district] name`), `place`: its date line (default: the name without
    its unit word). A district leader or inspector; the acting user signs if a leader, else the first
    leader by name.
    """
    require_role(session, actor, Role.INSPECTOR, Role.LEADER)
    district = district_name(name)
    rules = rules or CountingRules()
    stations = list(session.scalars(select(StationRow).order_by(StationRow.code)))
    if not stations:
        raise NotFoundError(
            "Máy chủ chưa có phường nào để tổng hợp.",
            "Nhập tệp lịch của các phường: broadcaster schedule import.",
        )
    zone = station_zone(stations[0])
    today = local_day(now, zone)
    current = period_containing(kind, today)
    chosen = current if period is None else period_containing(kind, period)
    if chosen.start > today:
        raise InputError(
            f"{chosen.label} chưa bắt đầu: chưa có số liệu để tổng hợp.",
            "Chọn kỳ hiện tại hoặc một kỳ đã qua (--of NGÀY, ví dụ 2026-11-01).",
        )
    if chosen == current:
        table = district_intake.compliance_table(session, actor=actor, now=now, kind=kind, rules=rules)
    else:
        table = _period_table(session, stations, chosen, now=now, rules=rules)
    states = {st.station_id: st for st in session.scalars(select(ForwardStateRow))}
    leader = signing_leader(session, prefer=actor)
    return ConsolidatedDocument(
        letterhead=Letterhead(
            issued_on=today,
            signer_name=(leader.full_name or leader.name) if leader else "",
            signer_title=signer_title(leader.title if leader else ""),
            issuing_body=district.upper(),
            place=" ".join(place.split()) or place_from_name(district),
            number=number.strip(),
        ),
        district_name=district,
        period=chosen,
        wards=tuple(_source(session, st, states.get(st.id)) for st in stations),
        lines=tuple(
            ConsolidatedLine(c.station_code, c.campaign_code, c.campaign_title, c.row)
            for c in table
            if c.row is not None
        ),
        compiled_at=now,
        zone=zone,
        rules=rules,
    )


def render_consolidated(document: ConsolidatedDocument, fmt: str) -> bytes:
    """PDF or DOCX bytes of the consolidated report."""
    print_format(fmt)
    # reportlab and python-docx load slowly: only commands that print pay for them.
    from broadcaster.reports import docx, pdf
    from broadcaster.reports.chart import share_text
    from broadcaster.reports.consolidated import share_series
    from broadcaster.reports.fonts import find_serif_fonts

    if fmt == "pdf":
        return pdf.consolidated_pdf(document)
    # DOCX draws only its chart with the faces (Word sets the text in Times New Roman itself).
    return docx.consolidated_docx(document, find_serif_fonts(text=share_text(*share_series(document))))
