"""The operator in a real Chromium with `broadcaster run` playing to a PulseAudio null sink: adds an extra
session a few seconds ahead, queues two bulletins into it, sees the programme air; cuts it with an
emergency and sees the emergency's as-run row and the interrupted one. Screenshots at 360 and 1366 px."""

from __future__ import annotations

import time as pytime
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pages_in_chromium import person, shoot
from station_air import (
    SHORT_TITLE,
    URGENT_TITLE,
    air_today,
    asrun,
    daemon,
    heard_from,
    on_air_programme,
    output_env,
    render_now,
    wait_for,
)

from broadcaster.app import App
from broadcaster.domain import BulletinStatus
from broadcaster.services import bulletins, stations

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")

pytestmark = [pytest.mark.slow, pytest.mark.pulse]


def _next_minute(lead_s: float) -> datetime:
    """The first whole local minute at least `lead_s` seconds from now (sessions start on a minute)."""
    later = datetime.now(ZONE) + timedelta(seconds=lead_s)
    return later.replace(second=0, microsecond=0) + timedelta(minutes=1)


def _session_minutes(wanted: int = 15, least: int = 10) -> int:
    """How long the extra session can be without crossing local midnight (a day's plan ends there);
    with fewer than `least` minutes left today, first wait for tomorrow."""
    start = _next_minute(25)
    midnight = datetime.combine(start.date() + timedelta(days=1), time(0), ZONE)
    left = int((midnight - start).total_seconds() // 60)
    if left >= least:
        return min(wanted, left)
    pytime.sleep((midnight - datetime.now(ZONE)).total_seconds() + 1)
    return wanted


def _long_bulletin(app: App, taken: set[int]) -> int:
    """A seed bulletin of about a minute, to be on air when the emergency comes."""
    with app.tx() as s:
        row = stations.find_station(s, "phu-thu")
        found = bulletins.list_bulletins(s, row.id, status=BulletinStatus.APPROVED.value)
        return next(b.id for b in found if b.id not in taken)


def _title(app: App, bulletin_id: int) -> str:
    with app.tx() as s:
        return bulletins.get(s, bulletin_id).title


def test_queue_into_an_extra_session_see_it_air_then_an_emergency_cuts_the_programme(
    web_app: App, live_server: str, chromium: Any, tmp_path: Path, null_sink: str | None
) -> None:
    minutes = _session_minutes()
    today = datetime.now(ZONE).date()
    ids = air_today(web_app, tmp_path, sessions_until=today - timedelta(days=1))
    short, urgent = ids[SHORT_TITLE], ids[URGENT_TITLE]
    long_one = _long_bulletin(web_app, {short, urgent})
    render_now(web_app, [short, urgent, long_one])  # as approval does: nothing waits for the TTS later
    base, home = live_server, web_app.config.home
    with daemon(home, **output_env(null_sink)):
        page = person(chromium, base, "hung")
        page.goto(f"{base}/lich-phat")
        shoot(page, "lich-phat-tuan")

        # an extra session at the next whole minute, then two bulletins into it
        start = _next_minute(25)
        page.check("input[name=kind][value=extra]")
        page.fill("#f-day", start.date().isoformat())
        page.fill("#f-start", start.strftime("%H:%M"))
        page.fill("#f-minutes", str(minutes))
        page.fill("#f-reason", "Buổi phát thử nghiệm của đài")
        page.click("#ngoai-le button[type=submit]")
        page.wait_for_selector("text=Đã thêm buổi phát thêm")
        slot = start.strftime("%Y-%m-%d %H:%M")
        for bulletin in (short, long_one):
            page.select_option("#f-bulletin", str(bulletin))
            page.select_option("#f-session", slot)
            page.click("#xep button[type=submit]")
            page.wait_for_selector("text=Đã xếp bản tin vào buổi phát")
        assert start > datetime.now(ZONE), "the session began before it was filled"
        article = page.locator(f"#buoi-{start:%Y%m%d-%H%M}")
        assert "Buổi phát thêm" in article.inner_text() and SHORT_TITLE in article.inner_text()
        shoot(page, "lich-phat-buoi-them")

        # it airs: wait until the long bulletin (the second item) is on air
        wait_until = (start - datetime.now(ZONE)).total_seconds() + 30
        wait_for(lambda: on_air_programme(home) is not None, wait_until, "the extra session to go on air")
        record = on_air_programme(home)
        assert record is not None and record["items"][1]["bulletin_id"] == long_one
        long_heard = heard_from(record, 1)
        wait_for(lambda: datetime.now(ZONE) > long_heard, 60, "the long bulletin to be on air")

        # the emergency: choose, confirm, and follow it on its page
        page.goto(f"{base}/khan-cap")
        assert "Trạm phát đang chạy" in page.inner_text("main")  # from the daemon's lease heartbeat
        page.select_option("#f-bulletin", str(urgent))
        shoot(page, "khan-cap")
        page.click("#chon button[type=submit]")
        page.wait_for_selector("#xac-nhan")
        shoot(page, "khan-cap-xac-nhan")
        page.click("#xac-nhan")
        page.wait_for_url("**/khan-cap/luot/*")
        page.wait_for_selector("#nhat-ky", timeout=60_000)  # the page polls until the row is written
        main = page.inner_text("main")
        assert "Trạm phát bắt đầu phát lúc" in main and "giây sau khi xác nhận" in main
        assert "Chương trình bị cắt" in main and _title(web_app, long_one) in main
        assert page.locator("#bi-cat tr.asrun-row[data-outcome=interrupted]").count() == 1
        assert page.locator("#nhat-ky tr.asrun-row[data-outcome=completed]").count() == 1
        shoot(page, "khan-cap-trang-thai")

        # back on the week: the short bulletin aired to the end, the long one was cut
        page.goto(f"{base}/lich-phat#buoi-{start:%Y%m%d-%H%M}")
        row_short = page.locator(f"#buoi-{start:%Y%m%d-%H%M} tr", has_text=SHORT_TITLE)
        assert "Đã phát xong" in row_short.inner_text()
        row_long = page.locator(f"#buoi-{start:%Y%m%d-%H%M} tr", has_text=_title(web_app, long_one))
        assert "Bị ngắt" in row_long.inner_text() and "bị cắt để phát tin khẩn cấp" in row_long.inner_text()
        shoot(page, "lich-phat-da-phat")

    logged = {r.airing_id: r for r in asrun(web_app)}
    outcomes = sorted((r.bulletin_id, r.outcome) for r in logged.values())
    assert (short, "completed") in outcomes and (long_one, "interrupted") in outcomes
    assert (urgent, "completed") in outcomes
