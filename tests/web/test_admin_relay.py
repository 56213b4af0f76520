"""A session's relay set from the settings page: stored, shown in the week plan, kept when the session is
edited by a form without relay fields; a bad source or a relay longer than its session is refused
beside its field, and nothing changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from conftest import Browser

from broadcaster.app import App
from broadcaster.domain import RelayRule
from broadcaster.services import station_settings
from broadcaster.services.stations import find_station, station_domain

People = Callable[[str | None], Browser]
FORM = {"name": "Buổi sáng", "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat"], "start": "06:00"}


def _sang(app: App) -> RelayRule | None:
    with app.tx() as s:
        station = station_domain(s, find_station(s, None))
    return next(r for r in station.sessions if r.code == "sang").relay


def test_an_administrator_adds_a_relay_and_the_plan_shows_it(web_app: App, browser: People) -> None:
    person = browser("admin")
    person.get("/quan-tri/dai")
    relay = {
        "relay_source": "https://luong.vov.vn/thoi-su.mp3",
        "relay_minutes": "10",
        "relay_place": "first",
    }
    saved = person.post(
        "/quan-tri/dai/buoi/sang", {**FORM, "max_minutes": "30", **relay}, follow_redirects=False
    )
    assert saved.status_code == 303
    assert _sang(web_app) == RelayRule("https://luong.vov.vn/thoi-su.mp3", timedelta(minutes=10), "first")
    page = person.get("/quan-tri/dai").text
    assert "Tiếp sóng</span> 10 phút đầu buổi từ https://luong.vov.vn/thoi-su.mp3" in page
    week = person.get("/lich-phat").text
    assert "Tiếp sóng</span> 06:00:00–06:10:00" in week and "bản tin phát sau phần tiếp sóng" in week
    # A change that does not carry the relay fields (the district's, say) keeps the relay.
    with web_app.tx() as s:
        values = {"start": "06:00", "max_minutes": "25", "weekdays": FORM["weekdays"], "name": "Buổi sáng"}
        station_settings.apply_session(
            s,
            find_station(s, None),
            "sang",
            values,
            actor="quan",
            now=web_app.clock.now(),
            speak=web_app.speak,
        )
    assert _sang(web_app) is not None
    removed = person.post("/quan-tri/dai/buoi/sang", {**FORM, "max_minutes": "15", "relay_source": ""})
    assert removed.status_code == 200 and _sang(web_app) is None


def test_a_bad_relay_is_refused_beside_its_field(web_app: App, browser: People) -> None:
    person = browser("admin")
    person.get("/quan-tri/dai")
    bad = person.post(
        "/quan-tri/dai/buoi/sang", {**FORM, "max_minutes": "15", "relay_source": "vov1", "relay_minutes": "5"}
    )
    assert (
        bad.status_code == 400
        and "Nguồn tiếp sóng &#39;vov1&#39; không hợp lệ"
        in bad.text.split('id="s-sang-relay_source-e"')[1][:300]
    )
    long = person.post(
        "/quan-tri/dai/buoi/sang",
        {**FORM, "max_minutes": "15", "relay_source": "http://vov1.vn/a", "relay_minutes": "20"},
    )
    assert long.status_code == 400 and 'id="s-sang-relay_minutes-e"' in long.text
    assert 'value="http://vov1.vn/a"' in long.text  # what was typed stays
    assert _sang(web_app) is None
