"""Tổng quan, Nhật ký and Báo cáo in a real Chromium: the dashboard shows the daemon on air and refreshes
itself when it goes quiet; an operator corrects a row; a report downloads as a PDF that reads back as
Vietnamese; screenshots of the three pages at 360 and 1366 px."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from airtime import approved_ids, at, give_audio, heartbeat, log_row, queue_today, use_fake_clock
from pages_in_chromium import person, shoot

from broadcaster.app import App
from broadcaster.domain import Outcome
from broadcaster.store.models import AsRunRow

TITLE = "Phòng, chống mại dâm năm 2023"

pytestmark = pytest.mark.slow


@pytest.fixture
def station_day(web_app: App, tmp_path: Path) -> App:
    """The morning session on air at 06:05, a month of history, a missed airing yesterday."""
    use_fake_clock(web_app)
    airings = queue_today(web_app, approved_ids(web_app))
    give_audio(web_app, airings["sang"][0], tmp_path / "media")
    for n in range(28, 0, -1):
        if n % 7:
            log_row(web_app, at(-n, "06:00"), title=f"Bản tin {n} ngày trước")
    log_row(web_app, at(-1, "17:00"), Outcome.MISSED, title="Tin bị lỡ hôm qua", note="trạm phát không chạy")
    heartbeat(web_app, on_air_start=at(0, "06:00"), ttl_s=3600)
    return web_app


def test_the_dashboard_shows_the_daemon_on_air_and_refreshes_when_it_goes_quiet(
    station_day: App, live_server: str, chromium: Any
) -> None:
    page = person(chromium, live_server, "tra", accept_downloads=True)
    block = page.locator("#dang-phat")
    assert "Trạm phát: Đang phát" in block.inner_text()
    assert "Phường Phú Thứ triển khai Kế hoạch phòng, chống mại dâm năm 2023" in block.inner_text()
    assert "Tin bị lỡ hôm qua" not in page.inner_text("#canh-bao")  # yesterday's is not today's alert
    shoot(page, "tong-quan")
    heartbeat(station_day, state="idle", seconds_ago=120, ttl_s=15)  # the daemon stopped beating
    page.wait_for_selector("#dang-phat >> text=Trạm phát: Mất liên lạc", timeout=20_000)  # no reload
    assert "cách đây 2 phút" in block.inner_text()
    page.reload()
    assert "Mất liên lạc" in page.inner_text("#canh-bao")  # the alert, once the page is drawn again
    shoot(page, "tong-quan-mat-lien-lac")
    page.context.close()


def test_an_operator_corrects_a_missed_airing(station_day: App, live_server: str, chromium: Any) -> None:
    page = person(chromium, live_server, "hung", accept_downloads=True)
    page.click("nav.main >> text=Nhật ký phát sóng")
    page.wait_for_url(f"{live_server}/nhat-ky")
    page.select_option("#f-ket_qua", label="Bị lỡ")
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("text=1 dòng")
    shoot(page, "nhat-ky")
    page.click("#noi-dung a.button >> text=Đính chính")
    page.select_option("#f-outcome", label="Đã phát xong")
    page.fill("#f-reason", "Ông Hùng phát tay lúc 17:10, có sổ ghi chép")
    shoot(page, "nhat-ky-dinh-chinh")
    page.click("text=Ghi dòng đính chính")
    page.wait_for_selector("text=Đã ghi dòng đính chính")
    with station_day.tx() as s:
        fix = s.query(AsRunRow).filter(AsRunRow.corrects_id.is_not(None)).one()
    row = page.locator(f"#dong-{fix.id}")
    assert "Đính chính dòng" in row.inner_text() and "Ông Hùng phát tay lúc 17:10" in row.inner_text()
    shoot(page, "nhat-ky-sau-dinh-chinh")
    page.context.close()


def test_a_report_downloads_and_reads_back_as_vietnamese(
    station_day: App, live_server: str, chromium: Any, tmp_path: Path
) -> None:
    page = person(chromium, live_server, "khoi", accept_downloads=True)
    page.click("nav.main >> text=Báo cáo")
    page.wait_for_url(f"{live_server}/bao-cao")
    page.select_option("#f-chien_dich", label=TITLE)
    page.select_option("#f-ky", label="Tuần")
    page.click("text=Xem báo cáo")
    page.wait_for_selector(f"h2 >> text=1. {TITLE}")
    assert page.locator(".chart svg rect").count() > 0
    shoot(page, "bao-cao")
    page.fill("#f-so", "12")
    with page.expect_download() as pending:
        page.click("text=Tải PDF")
    download = pending.value
    assert download.suggested_filename == "bao-cao-phu-thu-week-2023-04-17.pdf"
    path = tmp_path / download.suggested_filename
    download.save_as(str(path))
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    for needle in ("ỦY BAN NHÂN DÂN", "PHƯỜNG PHÚ THỨ", "Số: 12/BC-UBND", TITLE, "Tuần 15/2023"):
        assert needle in text.stdout, needle
    with page.expect_download() as pending:
        page.click("text=Tải sổ nhật ký PDF")
    log = tmp_path / "so-nhat-ky.pdf"
    pending.value.save_as(str(log))
    text = subprocess.run(["pdftotext", "-layout", str(log), "-"], capture_output=True, text=True, check=True)
    assert "SỔ NHẬT KÝ CHƯƠNG TRÌNH PHÁT THANH" in text.stdout
    page.context.close()
