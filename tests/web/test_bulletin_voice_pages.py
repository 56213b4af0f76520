"""The editor's voice and speed beside the text: offered voices, Nghe thử in them, errors beside the field
with what was typed kept, a new approval after a change, and the approval page saying what is approved."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
from conftest import Browser

from broadcaster.app import App
from broadcaster.services import bulletins
from broadcaster.services.stations import find_station

TEXT = "Ủy ban nhân dân phường thông báo lịch tiêm chủng mở rộng cho trẻ em vào sáng thứ bảy tuần này."
SOUTH = "espeak:vi-vn-x-south"
People = Callable[[str | None], Browser]


def _count(app: App) -> int:
    with app.tx() as s:
        return len(bulletins.list_bulletins(s, find_station(s, None).id))


def _latest(app: App, bid: int) -> tuple[str, int, str, float]:
    with app.tx() as s:
        row = bulletins.get(s, bid)
        rev = bulletins.latest_revision(row)
        return row.status, rev.number, rev.voice, rev.speed


def _options(page: str) -> list[tuple[str, str, bool]]:
    select = re.search(r'<select id="f-voice" name="voice"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None, page[-3000:]
    found = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select.group(1))
    return [(value, html.unescape(label), bool(chosen)) for value, chosen, label in found]


def test_the_editor_offers_the_installed_voices_and_the_speed_beside_the_text(
    web_app: App, browser: People
) -> None:
    page = browser("officer").get("/ban-tin/moi")
    assert page.status_code == 200
    assert _options(page.text) == [  # this station's chain is offline: no Google voice
        ("espeak:vi", "Giọng nam miền Bắc (espeak-ng)", True),
        ("espeak:vi-vn-x-central", "Giọng nam miền Trung (espeak-ng)", False),
        ("espeak:vi-vn-x-south", "Giọng nam miền Nam (espeak-ng)", False),
    ]
    # A text field: what was typed comes back as typed (a number field would drop "1,1"); the server checks.
    speed = r'<input id="f-speed" name="speed" type="text" value="1" [^>]*inputmode="decimal"'
    assert re.search(speed, page.text)
    assert page.text.index('id="f-text"') < page.text.index('id="f-voice"') < page.text.index('id="f-speed"')


def test_a_bad_speed_or_voice_is_shown_beside_its_field_with_what_was_typed_kept(
    web_app: App, browser: People
) -> None:
    before = _count(web_app)
    lan = browser("officer")
    lan.get("/ban-tin/moi")
    form = {"title": "Tin tiêm chủng", "campaign": "ma-tuy-2023", "text": TEXT, "voice": SOUTH, "speed": "2"}
    answer = lan.post("/ban-tin/moi", form)
    assert answer.status_code == 400
    error = re.search(r'<p class="field-error" id="e-speed">([^<]*)</p>', answer.text)
    assert error is not None and "Tốc độ đọc 2× nằm ngoài khoảng cho phép" in error.group(1)
    assert 'aria-describedby="e-speed"' in answer.text and 'value="2"' in answer.text
    assert (SOUTH, "Giọng nam miền Nam (espeak-ng)", True) in _options(answer.text)  # the voice stays chosen
    assert 'value="Tin tiêm chủng"' in answer.text and "tiêm chủng mở rộng" in answer.text

    form |= {"voice": "espeak:vi-vn-x-hue", "speed": "1,1"}
    answer = lan.post("/ban-tin/moi", form)
    assert answer.status_code == 400
    error = re.search(r'<p class="field-error" id="e-voice">([^<]*)</p>', answer.text)
    assert error is not None and "Không có giọng đọc «espeak:vi-vn-x-hue»" in html.unescape(error.group(1))
    assert ("espeak:vi-vn-x-hue", "Giọng vi-vn-x-hue (espeak-ng)", True) in _options(answer.text)
    assert 'value="1,1"' in answer.text
    listen = lan.post("/ban-tin/nghe-thu", {"text": TEXT, "voice": SOUTH, "speed": "9"})
    assert listen.status_code == 400 and listen.json()["field"] == "speed"
    assert _count(web_app) == before


def test_listen_uses_the_voice_and_speed_chosen_beside_the_text(web_app: App, browser: People) -> None:
    lan = browser("officer")
    normal = lan.post("/ban-tin/nghe-thu", {"text": TEXT, "voice": SOUTH, "speed": "1"}).json()
    faster = lan.post("/ban-tin/nghe-thu", {"text": TEXT, "voice": SOUTH, "speed": "1,25"}).json()
    north = lan.post("/ban-tin/nghe-thu", {"text": TEXT, "voice": "espeak:vi", "speed": "1"}).json()
    assert normal["engine"] == faster["engine"] == "espeak" and not normal["fallback"]
    assert len({normal["url"], faster["url"], north["url"]}) == 3
    assert normal["duration_s"] / faster["duration_s"] == pytest.approx(1.25, rel=0.03)
    # Without JavaScript the button renders the same file into the page, the choices kept.
    lan.get("/ban-tin/moi")
    form = {"title": "T", "campaign": "ma-tuy-2023", "text": TEXT, "voice": SOUTH, "speed": "1,25"}
    page = lan.post("/ban-tin/moi", form | {"action": "listen"})
    assert page.status_code == 200 and f'src="{faster["url"]}"' in page.text
    assert 'value="1,25"' in page.text and (SOUTH, "Giọng nam miền Nam (espeak-ng)", True) in _options(
        page.text
    )


def test_changing_only_the_voice_makes_a_new_revision_the_leader_approves_as_shown(
    web_app: App, browser: People
) -> None:
    lan, khoi = browser("officer"), browser("leader")
    lan.get("/ban-tin/moi")
    form = {
        "title": "Tin tiêm chủng",
        "campaign": "ma-tuy-2023",
        "text": TEXT,
        "voice": SOUTH,
        "speed": "1,1",
    }
    done = lan.post("/ban-tin/moi", form, follow_redirects=False)
    bid = int(done.headers["location"].rsplit("/", 1)[1])
    assert _latest(web_app, bid) == ("draft", 1, SOUTH, 1.1)
    page = lan.get(f"/ban-tin/{bid}").text
    assert "Giọng đọc: Giọng nam miền Nam (espeak-ng) · tốc độ 1,1×" in page
    with web_app.tx() as s:
        bulletins.submit(s, bid, actor="lan", now=web_app.clock.now())
    queue = khoi.get("/duyet").text
    article = queue[queue.index(f'id="ban-tin-{bid}"') :]
    assert "Đọc bằng <strong>Giọng nam miền Nam (espeak-ng)</strong>, tốc độ <strong>1,1×</strong>" in article
    seen = re.search(r'name="seen" value="([0-9a-f]{64})"', article)
    assert seen is not None
    approved = khoi.post(f"/duyet/{bid}/duyet", {"seen": seen.group(1)})
    assert approved.status_code == 200 and _latest(web_app, bid)[0] == "approved"

    editor = lan.get(f"/ban-tin/{bid}/sua").text
    assert (SOUTH, "Giọng nam miền Nam (espeak-ng)", True) in _options(editor) and 'value="1,1"' in editor
    unchanged = lan.post(f"/ban-tin/{bid}/sua", form)
    assert unchanged.status_code == 400 and "Chưa có gì thay đổi" in unchanged.text
    saved = lan.post(
        f"/ban-tin/{bid}/sua", form | {"voice": "espeak:vi-vn-x-central"}, follow_redirects=False
    )
    assert saved.status_code == 303
    assert _latest(web_app, bid) == ("draft", 2, "espeak:vi-vn-x-central", 1.1)  # approval again
    assert "cần gửi duyệt lại" in lan.get(saved.headers["location"]).text
    with web_app.tx() as s:
        bulletins.submit(s, bid, actor="lan", now=web_app.clock.now())
    stale = khoi.post(f"/duyet/{bid}/duyet", {"seen": seen.group(1)})  # the hash of the southern voice
    assert stale.status_code == 400 and "Lời đọc đã thay đổi" in stale.text
    assert _latest(web_app, bid)[0] == "submitted"
    audio = khoi.get(f"/ban-tin/{bid}/am-thanh/2")
    assert audio.status_code == 200 and len(audio.content) > 10_000
    first = khoi.get(f"/ban-tin/{bid}/am-thanh/1")
    assert first.content != audio.content  # each revision is heard in its own voice


def test_the_api_takes_a_voice_and_speed_and_refuses_bad_ones(web_app: App) -> None:
    from fastapi.testclient import TestClient

    from broadcaster.services import web_auth
    from broadcaster.web.server import create_web

    with web_app.tx() as s:
        token = web_auth.create_api_token(
            s, actor="quan", name="mã lan", now=web_app.clock.now(), user_name="lan"
        ).token
    officer = {"Authorization": f"Bearer {token}"}
    body = {"campaign": "ma-tuy-2023", "title": "Tin", "text": TEXT, "voice": SOUTH, "speed": 1.1}
    before = _count(web_app)
    with TestClient(create_web(web_app), raise_server_exceptions=False) as api:
        made = api.post("/api/bulletins", json=body, headers=officer)
        assert made.status_code == 201, made.text
        revision = made.json()["revisions"][0]
        assert (revision["voice"], revision["speed"]) == (SOUTH, 1.1)
        refused = api.post("/api/bulletins", json=body | {"speed": 2.0}, headers=officer)
        assert refused.status_code == 400 and "Tốc độ đọc 2×" in refused.text
    assert _count(web_app) == before + 1
