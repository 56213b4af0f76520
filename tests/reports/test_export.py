"""CSV and JSON exports of as-run rows: BOM, Vietnamese text, local times to the second."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from broadcaster.domain import AsRunRecord, Campaign, Outcome, Priority, Target, Trigger
from broadcaster.errors import InputError
from broadcaster.reports.compliance import compliance_report, due
from broadcaster.reports.export import (
    COLUMNS,
    asrun_csv,
    asrun_json,
    compliance_dict,
    due_dict,
    format_hms,
    write_asrun_csv,
)
from broadcaster.reports.periods import PeriodKind

STATION_ZONE = ZoneInfo("Asia/Ho_Chi_Minh")  # the Phú Thứ station's zone, passed to every report

TITLE = unicodedata.normalize("NFC", "Tuyên truyền phòng, chống tệ nạn mại dâm – Công an phường")


def rows() -> list[AsRunRecord]:
    start = datetime(2024, 1, 4, 23, 0, 7, 600_000, tzinfo=UTC)  # 06:00:07.6 on 5 Jan in Vietnam
    return [
        AsRunRecord(
            station_code="PT",
            campaign_code="MD-2023",
            bulletin_id=3,
            revision=2,
            planned_start=datetime(2024, 1, 4, 23, 0, tzinfo=UTC),
            actual_start=start,
            actual_end=start + timedelta(seconds=135.4),
            played_s=135.4,
            clip_s=135.4,
            outcome=Outcome.COMPLETED,
            trigger=Trigger.SCHEDULE,
            priority=Priority.NORMAL,
            sha256="ab" * 32,
            title=TITLE,
            topic="Mại dâm",
            agency="Công an phường",
            queued_by="Nguyễn Thị Hằng",
            approved_by="Vũ Văn Khôi",
            row_id=1,
        ),
        AsRunRecord(
            station_code="PT",
            campaign_code=None,
            bulletin_id=None,
            revision=None,
            planned_start=datetime(2024, 1, 5, 10, 0, tzinfo=UTC),
            actual_start=None,
            actual_end=None,
            played_s=0.0,
            clip_s=60.0,
            outcome=Outcome.MISSED,
            trigger=Trigger.EMERGENCY,
            priority=Priority.EMERGENCY,
            title="Thông báo khẩn: bão số 3",
        ),
    ]


def test_csv_has_bom_vietnamese_headers_and_local_times_to_the_second() -> None:
    data = asrun_csv(rows(), zone=STATION_ZONE)
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    header, first, second = parsed
    assert header[:5] == ["Ngày", "Giờ dự kiến", "Giờ bắt đầu", "Giờ kết thúc", "Thời lượng"]
    assert len(header) == len(COLUMNS) == 15
    assert first[:5] == ["05/01/2024", "06:00:00", "06:00:07", "06:02:23", "0:02:15"]
    assert first[5] == TITLE and unicodedata.is_normalized("NFC", first[5])
    assert first[9:15] == [
        "Thông thường",
        "Theo lịch",
        "Đã phát xong",
        "Nguyễn Thị Hằng",
        "Vũ Văn Khôi",
        "ab" * 32,
    ]
    # A missed emergency: no actual times, dated by its planned start (17:00 local).
    assert second[:5] == ["05/01/2024", "17:00:00", "", "", "0:00:00"]
    assert second[9:12] == ["Khẩn cấp", "Khẩn cấp", "Bị lỡ"]


def test_csv_english_headers_and_streaming_writer() -> None:
    out = io.StringIO(newline="")
    assert write_asrun_csv(rows(), out, language="en", zone=STATION_ZONE) == 2
    text = out.getvalue()
    assert text.startswith("\ufeffdate,planned_start,actual_start,end,duration,bulletin,campaign,")
    line = text.splitlines()[1]
    assert line.startswith("2024-01-05,06:00:00,06:00:07,06:02:23,0:02:15,")
    assert ",normal,schedule,completed," in line
    with pytest.raises(InputError):
        write_asrun_csv(rows(), io.StringIO(), language="fr", zone=STATION_ZONE)  # type: ignore[arg-type]


def test_json_is_valid_with_offset_instants() -> None:
    text = asrun_json(rows(), zone=STATION_ZONE)
    assert "Tuyên truyền" in text  # readable, not \\u-escaped
    payload = json.loads(text)
    assert payload["timezone"] == "Asia/Ho_Chi_Minh"
    first, second = payload["rows"]
    assert first["actual_start"] == "2024-01-05T06:00:07+07:00"
    assert first["end"] == "2024-01-05T06:02:23+07:00"
    assert first["date"] == "2024-01-05"
    assert first["bulletin"] == TITLE
    assert (first["outcome"], first["trigger"], first["played_s"]) == ("completed", "schedule", 135.4)
    assert (second["actual_start"], second["planned_start"]) == (None, "2024-01-05T17:00:00+07:00")


def test_format_hms() -> None:
    assert [format_hms(s) for s in (0, 59.5, 61, 3725)] == ["0:00:00", "0:01:00", "0:01:01", "1:02:05"]


def test_compliance_and_due_as_json() -> None:
    day = date(2024, 1, 8)
    c = Campaign(
        "MD",
        "Phòng, chống mại dâm",
        "61/KH-UBND",
        date(2024, 1, 1),
        date(2024, 12, 31),
        target=Target(min_airings_per_week=3),
    )
    log = [replace(rows()[0], campaign_code="MD", actual_start=datetime.combine(day, time(6), STATION_ZONE))]
    now = datetime(2024, 1, 10, 5, 0, tzinfo=UTC)
    report = compliance_report(c, log, PeriodKind.WEEK, now=now, first=day, zone=STATION_ZONE)
    payload = json.loads(json.dumps(compliance_dict(report), ensure_ascii=False))
    assert payload["now"] == "2024-01-10T12:00:00+07:00"
    expected = {
        "label": "Tuần 2/2024 (08/01–14/01)",
        "from": "2024-01-08",
        "to": "2024-01-14",
        "airings": 1,
        "target_airings": 3,
        "met": None,
        "in_progress": True,
        "minutes": 2.26,
    }
    assert {key: payload["rows"][0][key] for key in expected} == expected
    (item,) = due([c], log, {}, now=now, zone=STATION_ZONE)
    as_json = due_dict(item, STATION_ZONE)
    assert (as_json["deadline"], as_json["needed"], as_json["at_risk"]) == (
        "2024-01-15T00:00:00+07:00",
        2,
        True,
    )
    assert (
        as_json["text"]
        == "Phòng, chống mại dâm: cần thêm 2 lượt phát tuần này trong 4 ngày 12 giờ; đã lên lịch 0"
        " — có nguy cơ không đạt"
    )
