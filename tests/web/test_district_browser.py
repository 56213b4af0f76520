"""The district console in a real Chromium against a PostgreSQL district server under uvicorn: a district
leader reads the wards, opens one, and sends a bulletin from the form; the ward takes it in and the
send page shows where it stands. Screenshots at 360 and 1366 px (nothing scrolls sideways)."""

from __future__ import annotations

from typing import Any

import pytest
from district_world import District, air, sync
from pages_in_chromium import shoot

from broadcaster.app import App
from broadcaster.services import users, web_auth
from broadcaster.services.district_http import HttpDistrict
from broadcaster.services.district_inbox import InboxParts, take_incoming

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
PASSWORD = "mat-khau-lanh-dao-huyen"


@pytest.fixture
def campaign_end() -> str:
    return "2099-12-31"


def test_a_district_leader_reads_the_wards_and_sends_a_bulletin(
    ward: App, district: District, chromium: Any
) -> None:
    air(ward, 6)
    assert sync(ward, district).rows == 6
    port = HttpDistrict(district.url, district.tokens["thu"], timeout_s=5)
    port.heartbeat("thu", ward.station_beat("thu"))
    now = district.app.clock.now()
    with district.app.tx() as s:
        users.add_user(s, "minh", "leader", "Nguyễn Văn Minh", actor="test", now=now)
        web_auth.set_password(s, "minh", PASSWORD, actor="minh", now=now)
    # Signed in at a district server (no station of its own), the wards are the first page.
    page = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="vi-VN").new_page()
    page.goto(f"{district.url}/dang-nhap")
    page.fill("#f-name", "minh")
    page.fill("#f-password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{district.url}/huyen")
    menu = page.locator("nav.main").inner_text()
    assert "Các phường" in menu and "Bản tin" not in menu and "Tổng quan" not in menu
    assert "Đang kết nối" in page.locator("#phuong-thu").inner_text()
    shoot(page, "huyen-cac-phuong")
    page.click("#phuong-thu >> text=Đài phường thu")
    page.wait_for_url(f"{district.url}/huyen/phuong/thu")
    assert "Bản tin số 6" in page.locator("#nhat-ky").inner_text()
    shoot(page, "huyen-phuong")
    page.click("nav.tabs >> text=Gửi bản tin xuống phường")
    page.wait_for_url(f"{district.url}/huyen/ban-tin")
    page.fill("#f-title", "Ra quân tuyên truyền phòng, chống ma túy")
    page.fill("#f-text", "Tối nay các tổ dân phố ra quân tuyên truyền phòng, chống ma túy; mời bà con dự.")
    page.select_option("#f-campaign", "ma-tuy-2026")
    page.check("input[name=level][value=priority]")
    page.click("button[type=submit] >> text=Gửi bản tin")
    page.wait_for_selector("#e-wards")
    assert "Chưa chọn phường nào" in page.locator("#e-wards").inner_text()
    assert page.input_value("#f-title") == "Ra quân tuyên truyền phòng, chống ma túy"  # kept
    page.check("input[name=wards][value=thu]")
    page.click("button[type=submit] >> text=Gửi bản tin")
    page.wait_for_selector("text=Đã gửi bản tin mức ưu tiên tới 1 phường")
    parts = InboxParts(ward.config.media_dir, ward)
    taken = take_incoming(ward.sessions, "thu", port, parts, now=ward.clock.now())
    assert len(taken) == 1
    page.reload()
    state = page.locator("[id^=gui-][id$=-thu]").first.inner_text()
    assert "Đã xếp vào buổi phát" in state
    shoot(page, "huyen-gui-ban-tin")
    page.context.close()
