"""In a real Chromium: the officer chooses a voice and a speed beside the text and Nghe thử plays that
reading; the bulletin saved keeps them, and the leader's card says what is approved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pages_in_chromium import person

from broadcaster.app import App
from broadcaster.services import bulletins, media

pytestmark = pytest.mark.slow
SOUTH = "espeak:vi-vn-x-south"


def test_listen_plays_the_chosen_voice_at_the_chosen_speed(
    web_app: App, live_server: str, chromium: Any
) -> None:
    base = live_server
    lan = person(chromium, base, "lan")
    lan.goto(f"{base}/ban-tin/moi")
    lan.fill("#f-title", "Lịch tiêm chủng")
    lan.select_option("#f-campaign", label="Phòng, chống ma túy năm 2023")
    lan.fill("#f-text", "Phường thông báo lịch tiêm chủng cho trẻ em vào sáng thứ bảy.")
    lan.select_option("#f-voice", label="Giọng nam miền Nam (espeak-ng)")
    lan.fill("#f-speed", "1,25")
    lan.click("#nut-nghe")
    lan.wait_for_function("document.getElementById('nghe-thu').getAttribute('src')")
    src = lan.get_attribute("#nghe-thu", "src") or ""
    spoken = web_app.speak("Phường thông báo lịch tiêm chủng cho trẻ em vào sáng thứ bảy.")
    made = media.render_spoken(spoken, web_app.renderer, web_app.media_settings(), voice=SOUTH, speed=1.25)
    assert src.endswith(Path(made[0]).stem)  # exactly the south voice at 1.25×
    lan.wait_for_function("document.getElementById('nghe-thu').duration > 0")
    lan.click("button[value=save]")
    lan.wait_for_selector("text=Đã lưu bản nháp")
    bid = int(lan.url.rsplit("/", 1)[1])
    assert "Giọng nam miền Nam (espeak-ng) · tốc độ 1,25×" in lan.inner_text("main")
    with web_app.tx() as s:
        rev = bulletins.latest_revision(bulletins.get(s, bid))
        assert (rev.voice, rev.speed) == (SOUTH, 1.25)
        bulletins.submit(s, bid, actor="lan", now=web_app.clock.now())
    khoi = person(chromium, base, "khoi")
    khoi.goto(f"{base}/duyet")
    card = khoi.inner_text(f"#ban-tin-{bid}")
    assert "Đọc bằng Giọng nam miền Nam (espeak-ng), tốc độ 1,25×" in card
