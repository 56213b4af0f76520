"""Printable and exported reports of a station: letterhead, PDF/DOCX documents, CSV, atomic file writes."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from broadcaster import airlog, labels
from broadcaster.domain import Role
from broadcaster.errors import InputError
from broadcaster.files import write_atomic
from broadcaster.planning.calendar import local_day, station_zone
from broadcaster.reports.compliance import ComplianceReport, CountingRules
from broadcaster.reports.export import BOM
from broadcaster.reports.periods import PeriodKind, period_containing
from broadcaster.reports.printable import (
    ComplianceDocument,
    Letterhead,
    ProgrammeLogDocument,
    place_from_name,
    verdict_text,
    vn_number,
)
from broadcaster.services.reporting import compliance_reports, load_records
from broadcaster.store.models import StationRow, UserRow

__all__ = [
    "COMPLIANCE_CSV_HEADER",
    "PRINT_FORMATS",
    "compliance_csv",
    "compliance_document",
    "letterhead",
    "place_from_ward",
    "print_format",
    "programme_log_document",
    "render_document",
    "signing_leader",
    "write_atomic",
    "write_compliance_pdf",
]


def place_from_ward(ward: str) -> str:
    """The place name of a date line from the ward's name: "Phường Phú Thứ" → "Phú Thứ"."""
    return place_from_name(ward)


def signing_leader(session: Session, prefer: str | None = None) -> UserRow | None:
    """Who signs a report: the user `prefer` if a leader, else the first leader by name (None: none)."""
    leaders = select(UserRow).where(UserRow.role == Role.LEADER.value)
    chosen = session.scalar(leaders.where(UserRow.name == prefer)) if prefer else None
    return chosen or session.scalar(leaders.order_by(UserRow.name))


def letterhead(
    session: Session, station: StationRow, *, issued_on: date, place: str = "", number: str = ""
) -> Letterhead:
    """Issuing body from the station's ward, signer from the leader in the database, place and number."""
    ward = station.ward or station.name
    leader = signing_leader(session)
    return Letterhead(
        issued_on=issued_on,
        signer_name=(leader.full_name or leader.name) if leader else "",
        signer_title=signer_title(leader.title if leader else ""),
        issuing_body=ward.upper(),
        place=place or place_from_ward(ward),
        number=number,
    )


def signer_title(title: str) -> str:
    """The signature block's office line from a user's title: "Phó Chủ tịch UBND phường" → "PHÓ CHỦ TỊCH"."""
    office = re.split(r"\s+(?:UBND|Ủy ban|ỦY BAN)\b", title.strip(), maxsplit=1)[0].strip()
    return office.upper() if office else "CHỦ TỊCH"


def compliance_document(
    session: Session,
    station: StationRow,
    campaign_codes: Sequence[str] | None,
    kind: PeriodKind,
    *,
    now: datetime,
    first: date | None = None,
    last: date | None = None,
    place: str = "",
    number: str = "",
    rules: CountingRules | None = None,
) -> ComplianceDocument:
    """The printable compliance report of a station: one table per campaign and a weekly airtime chart."""
    reports = compliance_reports(
        session, station, campaign_codes, kind, now=now, first=first, last=last, rules=rules
    )
    weekly = compliance_reports(
        session, station, campaign_codes, PeriodKind.WEEK, now=now, first=first, last=last, rules=rules
    )
    start = min(r.rows[0].active_from for r in reports)
    end = max(r.rows[-1].active_to for r in reports)
    chain = airlog.verify(session, station.id)
    proof = (
        f"Số liệu lấy từ nhật ký phát sóng của đài ({chain.rows} dòng, kiểm tra chuỗi băm: "
        + ("nguyên vẹn" if chain.ok else "KHÔNG nguyên vẹn")
        + f"; mã băm cuối {chain.head_hash[:16]})."
    )
    return ComplianceDocument(
        letterhead=letterhead(
            session, station, issued_on=local_day(now, station_zone(station)), place=place, number=number
        ),
        station_name=station.name,
        subject=f"Kết quả phát sóng tuyên truyền theo {labels.period_kind(kind)}, từ ngày {start:%d/%m/%Y} "
        f"đến ngày {end:%d/%m/%Y}",
        reports=tuple(reports),
        weekly=tuple(weekly),
        intro=f"{station.name} báo cáo kết quả phát sóng các chiến dịch tuyên truyền như sau. {proof}",
        zone_name=station.timezone,
    )


def programme_log_document(
    session: Session, station: StationRow, week_of: date, *, now: datetime, place: str = "", number: str = ""
) -> ProgrammeLogDocument:
    """The weekly programme log of the ISO week containing `week_of` (corrections applied)."""
    zone = station_zone(station)
    week = period_containing(PeriodKind.WEEK, week_of)
    records = load_records(session, station, start=week.start_instant(zone), end=week.end_instant(zone))
    return ProgrammeLogDocument(
        letterhead=letterhead(session, station, issued_on=local_day(now, zone), place=place, number=number),
        station_name=station.name,
        week=week,
        records=tuple(records),
        zone=zone,
    )


PRINT_FORMATS = ("pdf", "docx")


def print_format(fmt: str) -> str:
    """`fmt` if a printable format (pdf, docx), else an InputError."""
    if fmt not in PRINT_FORMATS:
        raise InputError(f"Định dạng in không hỗ trợ: {fmt!r}", "Dùng pdf hoặc docx.")
    return fmt


def render_document(document: ComplianceDocument | ProgrammeLogDocument, fmt: str) -> bytes:
    """PDF or DOCX bytes of a printable document."""
    print_format(fmt)
    # reportlab and python-docx load slowly: only commands that print pay for them.
    from broadcaster.reports import docx, pdf
    from broadcaster.reports.chart import chart_text
    from broadcaster.reports.fonts import find_serif_fonts
    from broadcaster.reports.printable import weekly_series

    # Without a fonts argument the PDF builders choose faces that draw every character of the document.
    if isinstance(document, ProgrammeLogDocument):
        if fmt == "pdf":
            return pdf.programme_log_pdf(document)
        return docx.programme_log_docx(document)
    if fmt == "pdf":
        return pdf.compliance_pdf(document)
    # DOCX draws only its chart with the faces (Word sets the text in Times New Roman itself).
    return docx.compliance_docx(
        document, find_serif_fonts(text=chart_text(weekly_series(document.weekly)[1]))
    )


def write_compliance_pdf(
    session: Session,
    station: StationRow,
    campaign_codes: Sequence[str] | None,
    period: PeriodKind,
    now: datetime,
    out_path: Path,
    *,
    first: date | None = None,
    last: date | None = None,
    place: str = "",
    number: str = "",
    fmt: str = "pdf",
    rules: CountingRules | None = None,
) -> Path:
    """Build the compliance report and write it (PDF by default, or DOCX) atomically to `out_path`."""
    document = compliance_document(
        session,
        station,
        campaign_codes,
        period,
        now=now,
        first=first,
        last=last,
        place=place,
        number=number,
        rules=rules,
    )
    return write_atomic(out_path, render_document(document, fmt))


COMPLIANCE_CSV_HEADER = (
    "Mã đài",
    "Mã chiến dịch",
    "Kỳ",
    "Từ ngày",
    "Đến ngày",
    "Số lượt phát",
    "Số phút phát",
    "Chỉ tiêu lượt",
    "Chỉ tiêu phút",
    "Đánh giá",
    "Khoảng cách dài nhất (ngày)",
    "Khoảng cách cho phép (ngày)",
    "Lượt bị lỡ",
    "Lượt lỗi",
    "Lượt bỏ qua",
)


def compliance_csv(station: StationRow, reports: Sequence[ComplianceReport]) -> bytes:
    """Compliance rows as CSV for Excel: UTF-8 with BOM, CRLF, decimal comma, Vietnamese headers."""
    buffer = io.StringIO(newline="")
    buffer.write(BOM)
    writer = csv.writer(buffer)
    writer.writerow(COMPLIANCE_CSV_HEADER)
    for report in reports:
        for row in report.rows:
            writer.writerow(
                [
                    station.code,
                    report.campaign_code,
                    row.period.label,
                    f"{row.active_from:%d/%m/%Y}",
                    f"{row.active_to:%d/%m/%Y}",
                    row.airings,
                    vn_number(row.minutes, 2),
                    "" if row.target_airings is None else row.target_airings,
                    "" if row.target_minutes is None else vn_number(row.target_minutes, 2),
                    verdict_text(row),
                    row.longest_gap_days,
                    "" if row.allowed_gap_days is None else row.allowed_gap_days,
                    row.missed,
                    row.failed,
                    row.skipped,
                ]
            )
    return buffer.getvalue().encode("utf-8")
