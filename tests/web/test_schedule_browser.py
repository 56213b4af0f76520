"""The operator plans a week in a real Chromium: queue with the selects, a refusal beside the form, move,
unqueue (after the confirm dialog), a day without broadcast, automatic fill proposed then applied.
Screenshots at 360 and 1366 px."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pages_in_chromium import person, shoot
from station_air import fake_audio

from broadcaster.app import App
from broadcaster.clock import FakeClock
from broadcaster.services import schedule_views

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2023, 3, 19, 20, 0, tzinfo=ZONE)  # Sunday evening, the week of Monday 20/03 ahead
MONDAY = date(2023, 3, 20)

pytestmark = pytest.mark.slow


def _items(app: App) -> dict[str, list[str]]:
    """Titles queued in each session of the week, keyed "DD/MM HH:MM" (a service read)."""
    with app.tx() as s:
        plan = schedule_views.week_plan(s, app, "phu-thu", MONDAY, actor="hung", now=app.clock.now())
    return {
        slot.start.astimezone(ZONE).strftime("%d/%m %H:%M"): [i.title for i in slot.items]
        for day in plan.days
        for slot in day.slots
    }


def test_operator_plans_the_week(web_app: App, live_server: str, chromium: Any, tmp_path: Path) -> None:
    web_app.clock = FakeClock(NOW)
    fake_audio(web_app, tmp_path / "audio")
    base = live_server
    page = person(chromium, base, "hung")
    page.on("dialog", lambda dialog: dialog.accept())  # the "Rút ... khỏi buổi phát này?" confirmation
    page.goto(f"{base}/lich-phat?tuan=2023-03-20")
    assert "Lịch phát tuần 12/2023" in page.inner_text("h1")

    # queue two bulletins into Monday morning with the selects
    options = page.locator("#f-bulletin option").all_inner_texts()
    first, second = (re.sub(r" \(\d\d:\d\d\)$", "", t) for t in options[1:3])
    for title in (first, second):
        page.select_option("#f-bulletin", label=next(o for o in options if o.startswith(title)))
        page.select_option("#f-session", "2023-03-20 06:00")
        page.click("#xep button[type=submit]")
        page.wait_for_selector("text=Đã xếp bản tin vào buổi phát")
    assert _items(web_app)["20/03 06:00"] == [first, second]

    # the same bulletin again: refused beside the form, nothing stored
    page.select_option("#f-bulletin", label=next(o for o in options if o.startswith(first)))
    page.select_option("#f-session", "2023-03-20 06:00")
    page.click("#xep button[type=submit]")
    page.wait_for_selector("#xep .field-error")
    assert "đã có trong buổi phát này" in page.inner_text("#xep .field-error")
    assert _items(web_app)["20/03 06:00"] == [first, second]
    shoot(page, "lich-phat-loi")

    # move the second to Wednesday afternoon, then take the first out
    row = page.locator("#buoi-20230320-0600 tr", has_text=second)
    row.locator("a", has_text="Chuyển buổi").click()
    page.wait_for_selector("#f-move")
    assert second in page.inner_text("#chuyen h2")
    shoot(page, "lich-phat-chuyen")
    page.select_option("#f-move", "2023-03-22 17:00")
    page.click("#chuyen button[type=submit]")
    page.wait_for_selector("text=sang buổi khác")
    page.locator("#buoi-20230320-0600 tr", has_text=first).locator("button", has_text="Rút khỏi buổi").click()
    page.wait_for_selector("text=khỏi buổi phát")
    plan = _items(web_app)
    assert plan["20/03 06:00"] == [] and plan["22/03 17:00"] == [second]

    # no broadcast on Thursday afternoon
    page.check("input[name=kind][value=cancel]")
    page.fill("#f-day", "2023-03-23")
    page.select_option("#f-session-code", "chieu")
    page.fill("#f-reason", "Bảo dưỡng cụm loa khu 3")
    page.click("#ngoai-le button[type=submit]")
    page.wait_for_selector("text=Đã ghi ngày không phát")
    assert "Bảo dưỡng cụm loa khu 3" in page.inner_text("#ngay-2023-03-23")

    # automatic fill: a proposal first, then applied
    page.click("#tu-dong button[type=submit]")
    page.wait_for_selector("h1:has-text('Tự động xếp lịch')")
    proposed = page.locator("tbody tr").count()
    assert proposed > 0 and "Áp dụng đề xuất" in page.inner_text("main")
    shoot(page, "lich-phat-xep-tu-dong")
    assert sum(len(v) for v in _items(web_app).values()) == 1  # nothing queued by looking
    page.click("button:has-text('Áp dụng đề xuất')")
    page.wait_for_selector(f"text=Đã tự động xếp {proposed} lượt phát")
    assert sum(len(v) for v in _items(web_app).values()) == 1 + proposed
    shoot(page, "lich-phat-tuan-day-du")
