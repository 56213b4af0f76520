"""As-run rows to CSV (UTF-8 with BOM, for Excel) and JSON, with times in the station's zone."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo
from typing import Literal, TextIO
from zoneinfo import ZoneInfo

from broadcaster import labels
from broadcaster.domain import AsRunRecord
from broadcaster.errors import InputError
from broadcaster.reports.compliance import ComplianceReport, DueItem

Language = Literal["vi", "en"]

COLUMNS: tuple[str, ...] = (
    "date",
    "planned_start",
    "actual_start",
    "end",
    "duration",
    "bulletin",
    "campaign",
    "topic",
    "agency",
    "priority",
    "trigger",
    "outcome",
    "operator",
    "approver",
    "sha256",
)

HEADERS_VI: Mapping[str, str] = {
    "date": "Ngày",
    "planned_start": "Giờ dự kiến",
    "actual_start": "Giờ bắt đầu",
    "end": "Giờ kết thúc",
    "duration": "Thời lượng",
    "bulletin": "Bản tin",
    "campaign": "Mã chiến dịch",
    "topic": "Chủ đề",
    "agency": "Cơ quan cung cấp",
    "priority": "Mức ưu tiên",
    "trigger": "Hình thức phát",
    "outcome": "Kết quả",
    "operator": "Người vận hành",
    "approver": "Người duyệt",
    "sha256": "Mã băm SHA-256",
}

BOM = "\ufeff"


def format_hms(seconds: float) -> str:
    """A duration as H:MM:SS, rounded to the second."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def csv_row(record: AsRunRecord, zone: tzinfo, language: Language = "vi") -> list[str]:
    """One as-run row as CSV cells in COLUMNS order, local times to the second."""
    day_fmt = "%d/%m/%Y" if language == "vi" else "%Y-%m-%d"
    anchor = record.actual_start or record.planned_start

    def clock(instant: datetime | None) -> str:
        return instant.astimezone(zone).strftime("%H:%M:%S") if instant else ""

    vi = language == "vi"
    return [
        anchor.astimezone(zone).strftime(day_fmt) if anchor else "",
        clock(record.planned_start),
        clock(record.actual_start),
        clock(record.actual_end),
        format_hms(record.played_s),
        record.title,
        record.campaign_code or "",
        record.topic,
        record.agency,
        labels.label(record.priority, capital=True) if vi else record.priority.value,
        labels.label(record.trigger, capital=True) if vi else record.trigger.value,
        labels.label(record.outcome, capital=True) if vi else record.outcome.value,
        record.queued_by or "",
        record.approved_by or "",
        record.sha256 or "",
    ]


def write_asrun_csv(
    records: Iterable[AsRunRecord],
    out: TextIO,
    *,
    zone: tzinfo,
    language: Language = "vi",
) -> int:
    """Write a BOM, a header and one line per row to a text stream opened with newline=""; returns rows."""
    if language not in ("vi", "en"):
        raise InputError(f"Ngôn ngữ tiêu đề không hỗ trợ: {language!r}", "Dùng vi (tiếng Việt) hoặc en.")
    out.write(BOM)
    writer = csv.writer(out)
    writer.writerow([HEADERS_VI[c] for c in COLUMNS] if language == "vi" else list(COLUMNS))
    count = 0
    for record in records:
        writer.writerow(csv_row(record, zone, language))
        count += 1
    return count


def asrun_csv(records: Iterable[AsRunRecord], *, zone: tzinfo, language: Language = "vi") -> bytes:
    """The whole CSV export as UTF-8 bytes starting with a BOM, CRLF line ends (as Excel expects)."""
    buffer = io.StringIO(newline="")
    write_asrun_csv(records, buffer, zone=zone, language=language)
    return buffer.getvalue().encode("utf-8")


def asrun_dict(record: AsRunRecord, zone: tzinfo) -> dict[str, object]:
    """One as-run row as a JSON-ready dict: ISO instants with the station's offset, raw enum values."""

    def iso(instant: datetime | None) -> str | None:
        return instant.astimezone(zone).isoformat(timespec="seconds") if instant else None

    anchor = record.actual_start or record.planned_start
    return {
        "id": record.row_id,
        "station": record.station_code,
        "date": anchor.astimezone(zone).date().isoformat() if anchor else None,
        "planned_start": iso(record.planned_start),
        "actual_start": iso(record.actual_start),
        "end": iso(record.actual_end),
        "played_s": round(record.played_s, 3),
        "clip_s": round(record.clip_s, 3),
        "bulletin_id": record.bulletin_id,
        "revision": record.revision,
        "bulletin": record.title,
        "campaign": record.campaign_code,
        "topic": record.topic,
        "agency": record.agency,
        "priority": record.priority.value,
        "trigger": record.trigger.value,
        "outcome": record.outcome.value,
        "operator": record.queued_by,
        "approver": record.approved_by,
        "sha256": record.sha256,
    }


def asrun_json(
    records: Iterable[AsRunRecord],
    *,
    zone: tzinfo,
    signed_head: dict[str, object] | None = None,
) -> str:
    """The JSON export: {"timezone", "signed_head", "rows"}, UTF-8 text kept readable (no \\u escapes).

    The signed head (the station's signature over the chain's row count and last hash) travels with the
    export, so a copy kept elsewhere can later prove which rows existed when it was made.
    """
    payload = {
        "timezone": str(zone),
        "signed_head": signed_head,
        "rows": [asrun_dict(r, zone) for r in records],
    }
    return json.dumps(payload, ensure_ascii=False, indent=2)


def compliance_dict(report: ComplianceReport) -> dict[str, object]:
    """A compliance report as a JSON-ready dict (dates ISO, `now` with the station's offset)."""
    zone = ZoneInfo(report.zone_name)
    return {
        "campaign": report.campaign_code,
        "title": report.campaign_title,
        "plan_ref": report.plan_ref,
        "period": report.kind.value,
        "timezone": report.zone_name,
        "now": report.now.astimezone(zone).isoformat(timespec="seconds"),
        "interrupted_min_fraction": report.rules.min_played_fraction,
        "rows": [
            {
                "label": row.period.label,
                "from": row.period.start.isoformat(),
                "to": row.period.end.isoformat(),
                "active_from": row.active_from.isoformat(),
                "active_to": row.active_to.isoformat(),
                "partial": row.partial,
                "in_progress": row.in_progress,
                "airings": row.airings,
                "minutes": row.minutes,
                "interrupted": row.interrupted,
                "target_airings": row.target_airings,
                "target_minutes": row.target_minutes,
                "longest_gap_days": row.longest_gap_days,
                "allowed_gap_days": row.allowed_gap_days,
                "missed": row.missed,
                "failed": row.failed,
                "skipped": row.skipped,
                "met": row.met,
            }
            for row in report.rows
        ],
    }


def due_dict(item: DueItem, zone: tzinfo) -> dict[str, object]:
    """A due item as a JSON-ready dict, with its Vietnamese description."""
    return {
        "campaign": item.campaign_code,
        "reason": item.reason,
        "deadline": item.deadline.astimezone(zone).isoformat(timespec="seconds"),
        "airings": item.airings,
        "target_airings": item.target_airings,
        "needed": item.needed,
        "planned": item.planned,
        "time_left_s": int(item.time_left.total_seconds()),
        "at_risk": item.at_risk,
        "text": item.describe(),
    }
