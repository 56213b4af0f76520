"""The text of a district's consolidated report (báo cáo tổng hợp), shared by its PDF and its DOCX.

`blocks` lays the report out once, as a list of blocks (a section heading, a paragraph, an item, a
note, the table, the chart); each exporter only draws them. Every sentence says where its figures come
from: the logs the wards forwarded, which of them verify, which are broken or were never sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from broadcaster.planning.calendar import local_day
from broadcaster.reports.compliance import PeriodCompliance
from broadcaster.reports.periods import Period, PeriodKind
from broadcaster.reports.printable import (
    PARTIAL_NOTE,
    ConsolidatedDocument,
    ConsolidatedLine,
    WardSource,
    counting_statement,
    verdict_text,
    vn_number,
    zone_statement,
)

CONSOLIDATED_HEADER: tuple[str, ...] = (
    "STT",
    "Phường",
    "Chiến dịch",
    "Số lượt phát / chỉ tiêu",
    "Số phút / chỉ tiêu",
    "Kết quả",
)
BROKEN_MARK = "(**)"
BROKEN_NOTE = (
    "(**) Chuỗi nhật ký của phường không liền mạch: số liệu chỉ gồm các dòng máy chủ đã nhận "
    "trước chỗ gián đoạn, chưa đủ căn cứ để đánh giá."
)
SILENT_RESULT = "Chưa gửi nhật ký"
NO_CAMPAIGN = "Không có chiến dịch trong kỳ"
SHARE_NOTE = (
    "Biểu đồ: tỷ lệ số lượt đã phát so với chỉ tiêu số lượt của kỳ (chiến dịch chỉ giao chỉ tiêu số phút "
    "thì tính theo số phút); vạch đứng là mức chỉ tiêu (100%)."
)
_ROMAN = ("I", "II", "III", "IV")


@dataclass(frozen=True)
class Block:
    """One piece of the report's body: "section", "body", "item", "note", "table" or "chart"."""

    kind: str
    text: str = ""


def period_phrase(period: Period) -> str:
    """The period in running text: "tháng 3 năm 2026", "quý I năm 2026", "năm 2026", "tuần 10 năm 2026 …"."""
    start = period.start
    if period.kind is PeriodKind.MONTH:
        return f"tháng {start.month} năm {start.year}"
    if period.kind is PeriodKind.QUARTER:
        return f"quý {_ROMAN[(start.month - 1) // 3]} năm {start.year}"
    if period.kind is PeriodKind.YEAR:
        return f"năm {start.year}"
    year, week, _ = start.isocalendar()
    return f"tuần {week} năm {year} (từ ngày {start:%d/%m/%Y} đến ngày {period.end:%d/%m/%Y})"


def in_sentence(name: str) -> str:
    """A unit's name inside a sentence, its unit word in lower case: "Quận Cái Răng" → "quận Cái Răng"."""
    return name[:1].lower() + name[1:]


def subject(document: ConsolidatedDocument) -> str:
    """The line under "BÁO CÁO"."""
    return "Tổng hợp kết quả phát sóng tuyên truyền của các đài truyền thanh cơ sở " + period_phrase(
        document.period
    )


def _moment(instant: datetime, document: ConsolidatedDocument) -> str:
    local = instant.astimezone(document.zone)
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


def _names(wards: Sequence[WardSource]) -> str:
    return ", ".join(w.name for w in wards)


def today(document: ConsolidatedDocument) -> date:
    """The local day the report was compiled on."""
    return local_day(document.compiled_at, document.zone)


def source_paragraphs(document: ConsolidatedDocument) -> list[str]:
    """Where the figures come from: how many wards sent logs, whose chains verify, broken, never sent."""
    district = in_sentence(document.district_name)
    sent = [w for w in document.wards if w.rows]
    out = [
        f"Số liệu được tổng hợp từ nhật ký phát sóng do {len(sent)}/{len(document.wards)} phường gửi lên "
        f"máy chủ của {district}, tính đến {_moment(document.compiled_at, document)}; "
        "chỉ tính các lượt đã phát thực tế."
    ]
    if document.period.contains(today(document)):
        out.append(
            f"Kỳ báo cáo chưa kết thúc (đến ngày {document.period.end:%d/%m/%Y}): chiến dịch chưa đạt "
            "chỉ tiêu được ghi “Đang thực hiện”."
        )
    verified = [w for w in document.wards if w.state == "verified"]
    if verified:
        held = "; ".join(
            f"{w.name} ({w.rows} dòng"
            + (f", gửi lần cuối lúc {_moment(w.last_contact_at, document)}" if w.last_contact_at else "")
            + ")"
            for w in verified
        )
        out.append(f"Chuỗi nhật ký kiểm tra nguyên vẹn (chuỗi băm liền mạch từ dòng đầu tiên): {held}.")
    for w in (w for w in document.wards if w.state == "broken"):
        marked = f"số liệu của phường (đánh dấu {BROKEN_MARK})"
        if w.problem_at is not None:  # flagged as it arrived: nothing after the break was taken
            out.append(
                f"Chuỗi nhật ký của {w.name} KHÔNG liền mạch (phát hiện lúc "
                f"{_moment(w.problem_at, document)}: {w.problem}). Từ chỗ gián đoạn máy chủ không nhận "
                f"thêm nhật ký của phường; {marked} chỉ gồm {w.rows} dòng nhận trước đó. "
                "Đề nghị phường kiểm tra và báo cáo giải trình."
            )
        else:  # the district's own check of the rows it holds failed
            out.append(
                f"Chuỗi nhật ký của {w.name} mà máy chủ đang giữ KHÔNG liền mạch khi kiểm tra lại "
                f"({w.problem}); {marked} chưa được xác nhận. "
                "Đề nghị kiểm tra máy chủ và đối chiếu với nhật ký tại phường."
            )
    silent = [w for w in document.wards if w.state == "silent"]
    if silent:
        out.append(
            f"Chưa gửi nhật ký lên máy chủ: {_names(silent)}; không có số liệu để đánh giá kết quả "
            + ("của phường này." if len(silent) == 1 else "của các phường này.")
        )
    out.append(zone_statement(str(document.zone)))
    out.append(counting_statement(document.rules))
    return out


def _ratio(value: str, target: str | None) -> str:
    return f"{value} / {target if target is not None else '—'}"


def _lines_of(document: ConsolidatedDocument, ward: WardSource) -> list[ConsolidatedLine]:
    return [line for line in document.lines if line.ward_code == ward.code]


def table_rows(document: ConsolidatedDocument) -> tuple[list[list[str]], list[tuple[int, int]]]:
    """The table body in CONSOLIDATED_HEADER order, and the (first, last) body rows of each ward.

    A ward's number and name are printed in its first row; the exporters join them down its rows.
    """
    rows: list[list[str]] = []
    spans: list[tuple[int, int]] = []
    for number, ward in enumerate(document.wards, start=1):
        name = ward.name + (f" {BROKEN_MARK}" if ward.state == "broken" else "")
        first = len(rows)
        lines = _lines_of(document, ward)
        if not lines:
            rows.append([str(number), name, NO_CAMPAIGN, "—", "—", "—"])
        for n, line in enumerate(lines):
            row = line.row
            minutes_target = vn_number(row.target_minutes) if row.target_minutes is not None else None
            airings_target = str(row.target_airings) if row.target_airings is not None else None
            rows.append(
                [
                    str(number) if n == 0 else "",
                    name if n == 0 else "",
                    f"{line.campaign_title} ({line.campaign_code})" + (" (*)" if row.partial else ""),
                    _ratio(str(row.airings), airings_target),
                    _ratio(vn_number(row.minutes), minutes_target),
                    SILENT_RESULT if ward.state == "silent" else verdict_text(row),
                ]
            )
        spans.append((first, len(rows) - 1))
    return rows, spans


def projected(row: PeriodCompliance, day: date) -> tuple[float, float]:
    """Airings and minutes the period ends with if the ward keeps its pace so far (whole days)."""
    if not row.in_progress:
        return float(row.airings), row.minutes
    total = (row.active_to - row.active_from).days + 1
    elapsed = max(1, min(total, (day - row.active_from).days + 1))
    return row.airings * total / elapsed, row.minutes * total / elapsed


def at_risk(row: PeriodCompliance, day: date) -> bool:
    """A running period not yet met whose pace falls short of a target."""
    if row.met is not None or not row.in_progress:
        return False
    airings, minutes = projected(row, day)
    return (row.target_airings is not None and airings < row.target_airings) or (
        row.target_minutes is not None and minutes + 1e-9 < row.target_minutes
    )


def campaign_summaries(document: ConsolidatedDocument) -> list[str]:
    """One line per campaign: how many wards met its target, and how the others stand."""
    states = {w.code: w.state for w in document.wards}
    titles = {line.campaign_code: line.campaign_title for line in document.lines}
    out = []
    for code in sorted(titles):
        lines = [line for line in document.lines if line.campaign_code == code]
        heard = [line for line in lines if states.get(line.ward_code) != "silent"]
        counts = {
            "không đạt": sum(1 for line in heard if line.row.met is False),
            "đang thực hiện": sum(
                1 for line in heard if line.row.met is None and verdict_text(line.row) == "Đang thực hiện"
            ),
            "không giao chỉ tiêu": sum(1 for line in heard if verdict_text(line.row) == "—"),
            "chưa gửi nhật ký": len(lines) - len(heard),
        }
        met = sum(1 for line in heard if line.row.met is True)
        parts = [f"{met}/{len(lines)} phường đạt chỉ tiêu"]
        parts += [f"{n} phường {label}" for label, n in counts.items() if n]
        broken = sum(1 for line in lines if states.get(line.ward_code) == "broken")
        if broken:
            parts.append(f"số liệu của {broken} phường chưa đầy đủ do chuỗi nhật ký không liền mạch")
        out.append(f"{titles[code]} ({code}): " + "; ".join(parts) + ".")
    return out


def _figures(row: PeriodCompliance) -> str:
    parts = [f"{row.airings}/{row.target_airings} lượt"] if row.target_airings is not None else []
    if row.target_minutes is not None:
        parts.append(f"{vn_number(row.minutes)}/{vn_number(row.target_minutes)} phút")
    if row.allowed_gap_days is not None and row.longest_gap_days > row.allowed_gap_days:
        parts.append(
            f"khoảng cách dài nhất giữa hai lượt phát {row.longest_gap_days} ngày, "
            f"cho phép {row.allowed_gap_days} ngày"
        )
    return "; ".join(parts)


def attention_items(document: ConsolidatedDocument) -> list[str]:
    """The wards not met or at risk, each with why; the broken and silent wards first."""
    district = in_sentence(document.district_name)
    day = today(document)
    out = [
        f"{w.name}: chuỗi nhật ký không liền mạch, số liệu chưa đầy đủ."
        for w in document.wards
        if w.state == "broken"
    ]
    out += [
        f"{w.name}: chưa gửi nhật ký lên máy chủ của {district}."
        for w in document.wards
        if w.state == "silent"
    ]
    names = {w.code: w.name for w in document.wards}
    states = {w.code: w.state for w in document.wards}
    for line in document.lines:
        row, where = line.row, f"{names[line.ward_code]} — {line.campaign_title}"
        if states[line.ward_code] == "silent":
            continue
        if row.met is False:
            out.append(f"{where}: không đạt ({_figures(row)}).")
        elif at_risk(row, day):
            airings, minutes = projected(row, day)
            pace = (
                f"{round(airings)} lượt" if row.target_airings is not None else f"{vn_number(minutes)} phút"
            )
            out.append(
                f"{where}: có nguy cơ không đạt (đến nay {_figures(row)}; giữ nhịp phát hiện nay thì cuối kỳ "
                f"đạt khoảng {pace})."
            )
    return out


def share(row: PeriodCompliance) -> float | None:
    """Percent of the airings target reached (of the minutes target when only that is set), or None."""
    if row.target_airings:
        return 100 * row.airings / row.target_airings
    if row.target_minutes:
        return 100 * row.minutes / row.target_minutes
    return None


def share_series(
    document: ConsolidatedDocument,
) -> tuple[list[str], list[tuple[str, list[float | None]]]]:
    """The chart's wards (wards that sent logs) and, per campaign code, each ward's share of its target."""
    wards = [w for w in document.wards if w.state != "silent"]
    codes = sorted({line.campaign_code for line in document.lines})
    cells = {(line.ward_code, line.campaign_code): share(line.row) for line in document.lines}
    series = [(code, [cells.get((w.code, code)) for w in wards]) for code in codes]
    return [w.name for w in wards], [
        (code, values) for code, values in series if any(v is not None for v in values)
    ]


def blocks(document: ConsolidatedDocument) -> list[Block]:
    """The report's body between the title and the signature, in order."""
    district = in_sentence(document.district_name)
    out = [
        Block(
            "body",
            f"Ủy ban nhân dân {district} báo cáo tổng hợp kết quả phát sóng tuyên truyền trên hệ thống "
            f"truyền thanh cơ sở {period_phrase(document.period)} như sau:",
        ),
        Block("section", "I. NGUỒN SỐ LIỆU"),
        *(Block("body", text) for text in source_paragraphs(document)),
        Block("section", "II. KẾT QUẢ THỰC HIỆN CHỈ TIÊU"),
    ]
    if document.wards:
        out.append(Block("table"))
    if any(line.row.partial for line in document.lines):
        out.append(Block("note", PARTIAL_NOTE))
    if any(w.state == "broken" and _lines_of(document, w) for w in document.wards):
        out.append(Block("note", BROKEN_NOTE))
    summaries = campaign_summaries(document)
    if summaries:
        out.append(Block("body", "Tổng hợp theo chiến dịch:"))
        out += [Block("item", text) for text in summaries]
    else:
        out.append(Block("body", "Trong kỳ không có chiến dịch tuyên truyền nào được giao cho các phường."))
    if share_series(document)[1]:
        out += [Block("chart"), Block("note", SHARE_NOTE)]
    out.append(Block("section", "III. CÁC PHƯỜNG CHƯA ĐẠT HOẶC CÓ NGUY CƠ KHÔNG ĐẠT CHỈ TIÊU"))
    items = attention_items(document)
    out += [Block("item", text) for text in items]
    if items:
        out.append(
            Block(
                "body",
                "Đề nghị Ủy ban nhân dân các phường nêu trên chỉ đạo đài truyền thanh bố trí phát bổ sung "
                "cho đủ chỉ tiêu, kiểm tra nhật ký phát sóng và báo cáo nguyên nhân về Ủy ban nhân dân "
                f"{district}.",
            )
        )
    else:
        out.append(Block("body", "Không có phường nào chưa đạt hoặc có nguy cơ không đạt chỉ tiêu trong kỳ."))
    out.append(
        Block(
            "body",
            f"Trên đây là báo cáo tổng hợp kết quả phát sóng tuyên truyền của Ủy ban nhân dân {district}./.",
        )
    )
    return out
