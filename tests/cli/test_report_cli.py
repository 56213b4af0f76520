"""`broadcaster report` and `broadcaster log` as a user runs them: tables, exports, corrections, PDF text."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from seedpaths import SEED
from sqlalchemy import text
from tamper import drop_asrun_guards

from broadcaster import airlog
from broadcaster.app import App, build_app
from broadcaster.config import load_config
from broadcaster.domain import AsRunEntry, Outcome, Trigger
from broadcaster.schedules import load_schedule
from broadcaster.services.stations import find_station, import_schedule

BIN = str(Path(sys.executable).with_name("broadcaster"))
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
C, INTR, M, F = Outcome.COMPLETED, Outcome.INTERRUPTED, Outcome.MISSED, Outcome.FAILED
LOG = [
    (date(2023, 3, 17), C, 90, 90),
    (date(2023, 3, 20), C, 120, 120),
    (date(2023, 3, 24), INTR, 60, 90),
    (date(2023, 3, 28), F, 0, 90),
    (date(2023, 3, 29), INTR, 30, 90),
    (date(2023, 3, 30), C, 60, 60),
    (date(2023, 3, 31), M, 0, 60),
    (date(2023, 4, 3), C, 60, 60),
    (date(2023, 4, 5), C, 60, 60),
    (date(2023, 4, 12), C, 60, 60),
    (date(2023, 4, 19), C, 60, 60),
    (date(2023, 4, 26), C, 60, 60),
    (date(2023, 4, 28), M, 0, 60),
]
REPORT = ("report", "--campaign", "mai-dam-2023", "--to", "2023-04-30")


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed console script with the test's environment."""
    full_env = {**os.environ, "BROADCASTER_SPEECH_ENGINES": "espeak", **(env or {})}
    return subprocess.run(
        [BIN, *args], capture_output=True, text=True, env=full_env, timeout=120, check=False
    )


def ok(*args: str, env: dict[str, str] | None = None) -> str:
    """Run and expect success; returns stdout."""
    result = run(*args, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def store_log(app: App) -> dict[date, int]:
    """mai-dam-2023 airings at 06:00 local, appended through airlog; returns row ids by day."""
    ids = {}
    with app.tx() as s:
        station = find_station(s, "phu-thu")
        for day, outcome, played, clip in LOG:
            planned = datetime.combine(day, time(6), ZONE)
            started = outcome in (C, INTR)
            start = planned + timedelta(seconds=1)
            entry = AsRunEntry(
                outcome,
                Trigger.SCHEDULE,
                planned_start=planned,
                actual_start=start if started else None,
                actual_end=start + timedelta(seconds=played) if started else None,
                played_ms=played * 1000,
                clip_ms=clip * 1000,
                campaign_code="mai-dam-2023",
                title=f"Bản tin ngày {day:%d/%m}",
                queued_by="hung",
                approved_by="khoi",
            )
            ids[day] = airlog.append(s, station.id, entry, recorded_by="daemon", now=planned).id
    return ids


@pytest.fixture
def logged(seeded: App) -> dict[date, int]:
    """The seed station with the mai-dam-2023 log of 16 March – 30 April 2023."""
    return store_log(seeded)


def month_rows(stdout: str) -> list[tuple[object, ...]]:
    """(label, airings, minutes, longest gap, missed, failed, met) of the JSON report's rows."""
    (report,) = json.loads(stdout)["reports"]
    keys = ("label", "airings", "minutes", "longest_gap_days", "missed", "failed", "met")
    return [tuple(row[k] for k in keys) for row in report["rows"]]


# The campaign ended on 31 December 2023: the gap after 26 April runs to then (249 days).
MARCH = ("Tháng 03/2023", 4, 6.0, 6, 1, 1, True)
APRIL = ("Tháng 04/2023", 5, 5.0, 249, 1, 0, False)


def test_report_as_table_json_and_csv(logged: dict[date, int], tmp_path: Path) -> None:
    table = ok(*REPORT)
    assert "Chiến dịch mai-dam-2023 — Phòng, chống mại dâm năm 2023" in table
    march = next(line for line in table.splitlines() if line.startswith("Tháng 03/2023"))
    assert re.search(r"\(\*\)\s+4\s+6,0\s+3 lượt; 2,6 phút\s+Đạt\s+6 / 7\s+1\s+1$", march), march
    assert month_rows(ok(*REPORT, "--format", "json")) == [MARCH, APRIL]
    out = tmp_path / "bao-cao.csv"
    assert "Đã ghi" in ok(*REPORT, "--format", "csv", "-o", str(out))
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Mã đài,Mã chiến dịch,Kỳ,Từ ngày,Đến ngày,Số lượt phát,Số phút phát")
    assert lines[1:] == [
        'phu-thu,mai-dam-2023,Tháng 03/2023,16/03/2023,31/03/2023,4,"6,00",3,"2,58",Đạt,6,7,1,1,0',
        'phu-thu,mai-dam-2023,Tháng 04/2023,01/04/2023,30/04/2023,5,"5,00",4,"5,00",Không đạt,249,7,1,0,0',
    ]
    assert not list(tmp_path.glob(".bao-cao.csv.*"))  # no temp file left behind


def test_a_correction_changes_the_report(logged: dict[date, int]) -> None:
    row_id = logged[date(2023, 4, 26)]
    denied = run("log", "correct", str(row_id), "--outcome", "missed", "--reason", "Mất điện", "--as", "lan")
    assert denied.returncode == 1 and len(denied.stderr.strip().splitlines()) == 1
    assert "lan" in denied.stderr and "Traceback" not in denied.stderr
    out = ok(
        "log", "correct", str(row_id), "--outcome", "missed", "--reason", "Mất điện cả phường", "--as", "hung"
    )
    assert f"cho dòng {row_id}" in out
    # 26 April no longer counts: four airings, four minutes, two missed; the gap now starts on 19 April.
    assert month_rows(ok(*REPORT, "--format", "json")) == [MARCH, ("Tháng 04/2023", 4, 4.0, 256, 2, 0, False)]
    listed = json.loads(ok("log", "list", "--campaign", "mai-dam-2023", "--outcome", "missed", "--json"))
    assert [(r["date"], r["corrects_id"]) for r in listed] == [
        ("2023-03-31", None),
        ("2023-04-26", row_id),
        ("2023-04-28", None),
    ]
    assert "nguyên vẹn: 14 dòng" in ok("log", "verify")


def test_the_pdf_report_reads_back_in_vietnamese(logged: dict[date, int], tmp_path: Path) -> None:
    pdf = tmp_path / "bao-cao.pdf"
    ok(*REPORT, "--format", "pdf", "-o", str(pdf), "--number", "15")
    content = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    for needle in (
        "ỦY BAN NHÂN DÂN",
        "PHƯỜNG PHÚ THỨ",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Số: 15/BC-UBND",
        "BÁO CÁO",
        "Phòng, chống mại dâm năm 2023",
        "Vũ Văn Khôi",
        "nguyên vẹn",
    ):
        assert needle in content, needle
    lines = content.splitlines()
    april = next(line for line in lines if line.strip().startswith("Tháng 04/2023"))
    assert re.search(r"Tháng 04/2023\s+5\s+5,0\s+4 lượt; 5,0 phút\s+Không đạt\s+249 ?/ ?7\s+1\s+0$", april), (
        april
    )
    march = next(line for line in lines if re.search(r"\s6 ?/ ?7\s", line))  # "6/7" in some layouts
    assert re.search(r"\s4\s+6,0\s+3 lượt; 2,6 phút\s+Đạt\s+6 ?/ ?7\s+1\s+1$", march), march


def test_the_weekly_programme_log(logged: dict[date, int], tmp_path: Path) -> None:
    pdf = tmp_path / "nhat-ky.pdf"
    assert "(2 dòng)" in ok("report", "log", "--week", "05/04/2023", "--format", "pdf", "-o", str(pdf))
    content = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    )
    for needle in (
        "SỔ NHẬT KÝ CHƯƠNG TRÌNH PHÁT THANH",
        "Tuần 14/2023, từ ngày 03/04/2023 đến ngày 09/04/2023",
        "Bản tin ngày 03/04",
        "Bản tin ngày 05/04",
        "Đã phát",  # the outcome column is narrow: "xong" wraps to the next line
        "Tổng cộng: 2 lượt phát thực tế, 2,0 phút phát sóng.",
    ):
        assert needle in content.stdout, needle
    docx = tmp_path / "nhat-ky.docx"
    ok("report", "log", "--week", "2023-04-05", "--format", "docx", "-o", str(docx))
    with zipfile.ZipFile(docx) as archive:
        assert "Bản tin ngày 05/04" in archive.read("word/document.xml").decode("utf-8")


def test_log_list_and_export(logged: dict[date, int], tmp_path: Path) -> None:
    listed = ok("log", "list", "--from", "2023-04-01", "--to", "2023-04-05")
    assert "03/04/2023  06:00:01" in listed and "2 dòng; giờ Asia/Ho_Chi_Minh." in listed
    out = tmp_path / "nhat-ky.csv"
    assert "Đã ghi 13 dòng" in ok("log", "export", "--format", "csv", "-o", str(out))
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].split(",")[:5] == ["Ngày", "Giờ dự kiến", "Giờ bắt đầu", "Giờ kết thúc", "Thời lượng"]
    assert len(lines) == 14
    assert lines[1].startswith(
        "17/03/2023,06:00:00,06:00:01,06:01:31,0:01:30,Bản tin ngày 17/03,mai-dam-2023"
    )
    exported = json.loads(ok("log", "export", "--format", "json", "--outcome", "interrupted"))
    assert exported["timezone"] == "Asia/Ho_Chi_Minh"
    assert exported["signed_head"]["rows"] == 13 and exported["signed_head"]["signature"]
    assert [(r["date"], r["played_s"]) for r in exported["rows"]] == [
        ("2023-03-24", 60.0),
        ("2023-03-29", 30.0),
    ]


def test_bad_options_are_one_line_errors(logged: dict[date, int]) -> None:
    for args, needle in (
        (("report", "--campaign", "khong-co"), "khong-co"),
        (("report", "--period", "fortnight"), "fortnight"),
        (("report", "--from", "2023-05-01", "--to", "2023-04-01"), "--from"),
        (("log", "correct", "99999", "--outcome", "missed", "--reason", "x", "--as", "hung"), "99999"),
    ):
        result = run(*args)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Lỗi") and needle in lines[0], result.stderr
    due = json.loads(ok("report", "--due", "--format", "json"))
    assert due == []  # the seed campaigns ended in 2023


def test_log_verify_names_the_tampered_row(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {"BROADCASTER_DATABASE_URL": db_url}
    monkeypatch.setenv("BROADCASTER_DATABASE_URL", db_url)
    monkeypatch.setenv("BROADCASTER_SPEECH_ENGINES", "espeak")
    app = build_app(load_config())
    app.init()
    with app.tx() as s:
        import_schedule(s, load_schedule(SEED), actor="test", now=app.clock.now(), speak=app.speak)
    ids = store_log(app)
    assert "nguyên vẹn: 13 dòng" in ok("log", "verify", env=env)
    with app.engine.begin() as conn:
        drop_asrun_guards(conn)
        conn.execute(
            text("UPDATE as_run SET played_ms = 90000 WHERE id = :id"), {"id": ids[date(2023, 3, 29)]}
        )
    app.engine.dispose()
    result = run("log", "verify", env=env)
    assert result.returncode == 1
    assert (
        f"dòng id={ids[date(2023, 3, 29)]} (số thứ tự 5) — bị sửa" in result.stdout
        and "edited" not in result.stdout
    )
    report = json.loads(run("log", "verify", "--json", env=env).stdout)
    assert report["ok"] is False and report["problem"]["kind"] == "edited"


def test_due_says_when_no_campaign_is_running(seeded: App) -> None:
    # The seed plan's campaigns ended on 31/12/2023: nothing can be "at risk" today.
    out = ok("report", "--due")
    assert "không có chiến dịch nào trong thời hạn" in out
