"""The officer and the leader in a real Chromium: write with a live spoken preview, listen, submit,
approve after listening; record with the (fake) microphone; screenshots of every page at 360/1366 px."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pages_in_chromium import person, shoot

from broadcaster.app import App
from broadcaster.services import bulletins, media

pytestmark = pytest.mark.slow


def _plays(page: Any, selector: str) -> None:
    """The <audio> loads the render (a real duration) and, once playing, its clock moves."""
    page.wait_for_selector(selector)
    page.evaluate(f"document.querySelector({selector!r}).play().catch(() => null)")
    page.wait_for_function(f"document.querySelector({selector!r}).duration > 0")
    page.wait_for_function(f"document.querySelector({selector!r}).currentTime > 0.3")


def test_officer_writes_listens_submits_and_the_leader_listens_and_approves(
    web_app: App, live_server: str, chromium: Any
) -> None:
    base = live_server
    lan = person(chromium, base, "lan")
    lan.goto(f"{base}/ban-tin")
    shoot(lan, "ban-tin-danh-sach")
    lan.click("text=Viết bản tin mới")
    lan.fill("#f-title", "Tuyên truyền phòng, chống ma túy")
    lan.select_option("#f-campaign", label="Phòng, chống ma túy năm 2023")
    lan.click("#f-text")
    lan.keyboard.type("Phường tổ chức tuyên truyền", delay=5)
    lan.wait_for_function(
        "document.getElementById('loi-doc') && "
        "document.getElementById('loi-doc').textContent.includes('tuyên truyền')"
    )
    assert lan.locator("#xem-truoc mark.rewrite").count() == 0
    lan.keyboard.type(" lúc 17h30 theo Kế hoạch số 61/KH-UBND.", delay=5)
    lan.wait_for_selector("#xem-truoc mark.rewrite[title^='giờ']")
    assert "mười bảy giờ ba mươi phút" in lan.inner_text("#loi-doc")
    assert lan.locator("#xem-truoc mark.rewrite").count() >= 2
    lan.click("#nut-nghe")
    _plays(lan, "#nghe-thu")
    assert "giọng espeak" in lan.inner_text("#nghe-thu-tin")
    shoot(lan, "ban-tin-soan")
    lan.click("button[value=save]")
    lan.wait_for_selector("text=Đã lưu bản nháp")
    bid = int(lan.url.rsplit("/", 1)[1])
    lan.click("button:has-text('Gửi duyệt')")
    lan.wait_for_selector("text=Đã gửi lãnh đạo duyệt")
    shoot(lan, "ban-tin-chi-tiet")
    lan.goto(f"{base}/ban-tin/{bid}/sua")
    shoot(lan, "ban-tin-sua")

    khoi = person(chromium, base, "khoi")
    khoi.goto(f"{base}/duyet")
    card = f"#ban-tin-{bid}"
    khoi.wait_for_selector(f"{card} >> text=mười bảy giờ ba mươi phút")
    _plays(khoi, f"{card} audio")
    shoot(khoi, "duyet")
    khoi.on("dialog", lambda dialog: dialog.accept())
    khoi.click(f"{card} >> button:has-text('Duyệt phát')")
    khoi.wait_for_selector("text=Đã duyệt «Tuyên truyền phòng, chống ma túy»")
    with web_app.tx() as s:
        row = bulletins.get(s, bid)
        rev = bulletins.approved_revision(row)
        render = media.current_render(s, rev)
        assert rev.approved_by == "khoi" and render is not None and media.is_intact(render)
    khoi.goto(f"{base}/ban-tin/{bid}")
    assert "Đã duyệt bởi Vũ Văn Khôi" in khoi.inner_text("main")
    _plays(khoi, "#am-thanh audio")


def test_officer_records_with_the_microphone_and_the_recording_becomes_a_revision(
    web_app: App, live_server: str, chromium: Any
) -> None:
    base = live_server
    lan = person(chromium, base, "lan", permissions=["microphone"])
    lan.goto(f"{base}/ban-tin/moi")
    lan.fill("#f-title", "Thông báo bằng giọng cán bộ")
    lan.select_option("#f-campaign", label="Phòng, chống ma túy năm 2023")
    lan.click("#nut-ghi")
    lan.wait_for_selector("#nut-dung:visible")
    lan.wait_for_timeout(2000)  # record two seconds of the fake microphone (its length is not asserted)
    lan.click("#nut-dung")
    lan.wait_for_selector("#ghi-am-nghe:visible")
    assert lan.evaluate("document.getElementById('f-audio').files.length") == 1
    shoot(lan, "ban-tin-ghi-am")
    lan.click("#nut-tai-len")
    lan.wait_for_selector("text=Đã lưu bản ghi âm")
    bid = int(lan.url.rsplit("/", 1)[1])
    assert "Phiên bản 1 · bản ghi âm" in lan.inner_text("main")
    _plays(lan, "#am-thanh audio")
    with web_app.tx() as s:
        rev = bulletins.latest_revision(bulletins.get(s, bid))
        render = media.current_render(s, rev)
        assert rev.source_audio and render is not None and render.kind == "recording"
        assert 1.0 < render.duration_s < 4.0 and Path(render.path).is_file()
