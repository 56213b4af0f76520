"""What a printable report holds (Nghị định 30/2020/NĐ-CP layout), and its text, shared by PDF and DOCX."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from broadcaster import labels
from broadcaster.domain import AsRunRecord
from broadcaster.reports.compliance import ComplianceReport, CountingRules, PeriodCompliance
from broadcaster.reports.export import format_hms
from broadcaster.reports.periods import Period, PeriodKind

COMPLIANCE_HEADER: tuple[str, ...] = (
    "Kỳ",
    "Số lượt phát",
    "Số phút phát",
    "Chỉ tiêu",
    "Đánh giá",
    "Khoảng cách dài nhất / cho phép (ngày)",
    "Lượt bị lỡ",
    "Lượt lỗi",
)

LOG_HEADER: tuple[str, ...] = (
    "STT",
    "Ngày",
    "Giờ phát",
    "Thời lượng",
    "Nội dung tin, bài",
    "Cơ quan cung cấp",
    "Kết quả",
    "Người vận hành",
)

PARTIAL_NOTE = (
    "(*) Kỳ không trọn vẹn (chiến dịch bắt đầu hoặc kết thúc trong kỳ): chỉ tiêu tính theo tỷ lệ số ngày."
)


@dataclass(frozen=True)
class Letterhead:
    """Issuing body, number, place and date, signer and recipients of one administrative document."""

    issued_on: date
    signer_name: str
    parent_body: str = "ỦY BAN NHÂN DÂN"
    issuing_body: str = "PHƯỜNG PHÚ THỨ"
    place: str = "Phú Thứ"
    number: str = ""
    symbol: str = "BC-UBND"
    signer_authority: str = "TM. ỦY BAN NHÂN DÂN"
    signer_title: str = "CHỦ TỊCH"
    recipients: tuple[str, ...] = ("Như trên;", "Lưu: VT.")


@dataclass(frozen=True)
class ComplianceDocument:
    """A compliance report: one table per campaign, a chart of weekly airtime, the zone it uses."""

    letterhead: Letterhead
    station_name: str
    subject: str
    reports: tuple[ComplianceReport, ...]
    weekly: tuple[ComplianceReport, ...] = ()
    intro: str = ""
    zone_name: str = field(kw_only=True)


@dataclass(frozen=True)
class ProgrammeLogDocument:
    """The weekly programme log ("sổ nhật ký chương trình phát thanh hàng tuần") of one station."""

    letterhead: Letterhead
    station_name: str
    week: Period
    records: tuple[AsRunRecord, ...]
    zone: tzinfo


@dataclass(frozen=True)
class WardSource:
    """Where one ward's figures in a consolidated report come from: the log the district holds of it.

    `problem`: why its chain does not verify (a break flagged when it was received, or the district's
    own check of the rows it holds); `problem_at`: when the break was flagged.
    """

    code: str
    name: str
    rows: int
    last_contact_at: datetime | None = None
    problem: str = ""
    problem_at: datetime | None = None

    @property
    def state(self) -> str:
        """ "broken" (its chain does not verify), "silent" (nothing received) or "verified"."""
        if self.problem:
            return "broken"
        return "verified" if self.rows else "silent"


@dataclass(frozen=True)
class ConsolidatedLine:
    """One ward × campaign of a consolidated report: the period's row, as in the ward's own report."""

    ward_code: str
    campaign_code: str
    campaign_title: str
    row: PeriodCompliance


@dataclass(frozen=True)
class ConsolidatedDocument:
    """A district's consolidated report (báo cáo tổng hợp) of one period over the logs its wards forwarded."""

    letterhead: Letterhead
    district_name: str
    period: Period
    wards: tuple[WardSource, ...]
    lines: tuple[ConsolidatedLine, ...]
    compiled_at: datetime
    zone: tzinfo
    rules: CountingRules = field(default_factory=CountingRules)


_UNITS = ("Phường", "Xã", "Thị trấn", "Đặc khu", "Quận", "Huyện", "Thị xã", "Thành phố")


def place_from_name(name: str) -> str:
    """A date line's place from a unit's name: "Phường Phú Thứ" → "Phú Thứ", "Quận Cái Răng" → "Cái Răng".

    A unit named by a number keeps its unit word, as Nghị định 30/2020 asks: "Quận 1", "Phường 12".
    """
    text = " ".join(name.split())
    for unit in _UNITS:
        rest = text[len(unit) + 1 :]
        if text.startswith(unit + " ") and rest:
            return text if rest.isdigit() else rest
    return text


def date_line(place: str, day: date) -> str:
    """ "Phú Thứ, ngày 05 tháng 01 năm 2024": days under 10 and months 1–2 zero-padded (NĐ 30/2020)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"{place}, ngày {day.day:02d} tháng {month} năm {day.year}"


def number_line(number: str, symbol: str) -> str:
    """ "Số: 12/BC-UBND", or a blank to fill by hand when the number is not yet given."""
    blank = "\u00a0" * 6  # keeps room for the handwritten number; NBSP so it survives layout
    return f"Số: {number or blank}/{symbol}"


def zone_statement(zone_name: str, offset: str = "UTC+07:00") -> str:
    """The sentence saying which time zone and week convention the report uses."""
    return (
        f"Thời gian trong báo cáo tính theo giờ Việt Nam ({zone_name}, {offset}); "
        "tuần tính theo tiêu chuẩn ISO, bắt đầu từ thứ Hai."
    )


def rules_statement(report: ComplianceReport) -> str:
    """The counting rule of a report in words, printed under the tables."""
    return counting_statement(report.rules)


def counting_statement(rules: CountingRules) -> str:
    """The counting rule in words: only aired rows count, and when an interrupted one is an airing."""
    percent = round(rules.min_played_fraction * 100)
    return (
        "Chỉ tính các lượt đã phát thực tế theo nhật ký phát sóng. Lượt phát bị ngắt được tính số phút "
        f"đã phát và được tính là một lượt khi phát được từ {percent}% thời lượng bản tin trở lên."
    ) + (
        " Chỉ tính các lượt mà máy nghe đường ra loa đã nghe thấy đúng nội dung chương trình."
        if rules.heard_only
        else ""
    )


def vn_number(value: float, decimals: int = 1) -> str:
    """A number with a decimal comma, as Vietnamese documents write it (130,5)."""
    return f"{value:.{decimals}f}".replace(".", ",")


def verdict_text(row: PeriodCompliance) -> str:
    """ "Đạt", "Không đạt", "Đang thực hiện" or "—" when the campaign sets no target."""
    if row.met is True:
        return "Đạt"
    if row.met is False:
        return "Không đạt"
    if row.target_airings is None and row.target_minutes is None and row.allowed_gap_days is None:
        return "—"
    return "Đang thực hiện"


def target_text(row: PeriodCompliance) -> str:
    """The period's target as printed: "3 lượt", "8 lượt; 20 phút" or "—"."""
    parts = []
    if row.target_airings is not None:
        parts.append(f"{row.target_airings} lượt")
    if row.target_minutes is not None:
        parts.append(f"{vn_number(row.target_minutes)} phút")
    return "; ".join(parts) or "—"


def short_label(period: Period) -> str:
    """A period label without the week's date range, for narrow columns."""
    if period.kind is PeriodKind.WEEK:
        year, week, _ = period.start.isocalendar()
        return f"Tuần {week}/{year}\n{period.start:%d/%m}–{period.end:%d/%m}"
    return period.label


def compliance_rows(report: ComplianceReport) -> list[list[str]]:
    """The compliance table body, one list of cells per period, in COMPLIANCE_HEADER order."""
    rows = []
    for row in report.rows:
        allowed = str(row.allowed_gap_days) if row.allowed_gap_days is not None else "—"
        rows.append(
            [
                short_label(row.period) + (" (*)" if row.partial else ""),
                str(row.airings),
                vn_number(row.minutes),
                target_text(row),
                verdict_text(row),
                f"{row.longest_gap_days} / {allowed}",
                str(row.missed),
                str(row.failed),
            ]
        )
    return rows


def log_rows(records: Sequence[AsRunRecord], zone: tzinfo) -> list[list[str]]:
    """The programme log body, in LOG_HEADER order, sorted by start time."""

    def key(record: AsRunRecord) -> datetime:
        instant = record.actual_start or record.planned_start
        return instant if instant is not None else datetime.min.replace(tzinfo=zone)

    rows = []
    for index, record in enumerate(sorted(records, key=key), start=1):
        start = record.actual_start or record.planned_start
        local = start.astimezone(zone) if start else None
        content = record.title + (f" ({record.campaign_code})" if record.campaign_code else "")
        rows.append(
            [
                str(index),
                local.strftime("%d/%m/%Y") if local else "",
                local.strftime("%H:%M:%S") if local else "",
                format_hms(record.played_s),
                content,
                record.agency,
                labels.label(record.outcome, capital=True),
                record.queued_by or "",
            ]
        )
    return rows


def log_totals(records: Sequence[AsRunRecord]) -> str:
    """ "Tổng cộng: N lượt phát thực tế, M phút" for the programme log."""
    aired = [r for r in records if r.actual_start is not None and r.played_s > 0]
    minutes = sum(r.played_s for r in aired) / 60
    return f"Tổng cộng: {len(aired)} lượt phát thực tế, {vn_number(minutes)} phút phát sóng."


def log_period_text(week: Period) -> str:
    """ "Tuần 2/2024, từ ngày 08/01/2024 đến ngày 14/01/2024"."""
    year, number, _ = week.start.isocalendar()
    return f"Tuần {number}/{year}, từ ngày {week.start:%d/%m/%Y} đến ngày {week.end:%d/%m/%Y}"


def weekly_series(weekly: Sequence[ComplianceReport]) -> tuple[list[Period], list[tuple[str, list[float]]]]:
    """Weeks (union, in order) and per-campaign minutes aired in each, zero where a campaign had no row."""
    weeks = sorted({row.period for report in weekly for row in report.rows}, key=lambda p: p.start)
    series = []
    for report in weekly:
        minutes = {row.period: row.minutes for row in report.rows}
        series.append((report.campaign_code, [minutes.get(week, 0.0) for week in weeks]))
    return weeks, series
