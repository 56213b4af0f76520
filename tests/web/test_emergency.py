"""Phát khẩn cấp: choose, confirm, air at once; the daemon is woken after the commit; and with a real
`broadcaster run`, the as-run row starts within a second of the confirming POST."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import Browser
from station_air import (
    SHORT_TITLE,
    URGENT_TITLE,
    air_today,
    asrun,
    daemon,
    fake_audio,
    heard_from,
    on_air_programme,
    output_env,
    render_now,
    wait_for,
)

from broadcaster.app import App, build_app
from broadcaster.clock import FakeClock
from broadcaster.domain import BulletinStatus
from broadcaster.playout.wake import HomeSocket, PlanWatch
from broadcaster.services import bulletins, emergency, queue, stations
from broadcaster.store.models import AiringRow, BulletinRow


def approved(app: App) -> list[int]:
    """The station's approved bulletins, by id."""
    with app.tx() as s:
        row = stations.find_station(s, "phu-thu")
        return [b.id for b in bulletins.list_bulletins(s, row.id, status=BulletinStatus.APPROVED.value)]


def a_draft(app: App) -> int:
    """A bulletin of the seed that was never approved."""
    with app.tx() as s:
        row = stations.find_station(s, "phu-thu")
        return bulletins.list_bulletins(s, row.id, status=BulletinStatus.DRAFT.value)[0].id


def emergencies(app: App) -> list[AiringRow]:
    """Every emergency airing (detached)."""
    with app.tx() as s:
        rows = [a for a in s.query(AiringRow).order_by(AiringRow.id) if a.priority == "emergency"]
        s.expunge_all()
        return rows


NOW = datetime(2023, 3, 20, 9, 30, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))  # outside the allowed hours


@pytest.fixture
def quick_app(web_app: App, tmp_path: Path) -> App:
    """The seed on Monday 20/03/2023 at 09:30 with (silent) audio for every approved bulletin: the page
    tests never play it."""
    web_app.clock = FakeClock(NOW)
    fake_audio(web_app, tmp_path / "audio")
    return web_app


@pytest.fixture
def listening(quick_app: App) -> Iterator[threading.Event]:
    """The wake-up port a running daemon opens in the home; the event is set when a datagram arrives."""
    woken = threading.Event()
    sock = HomeSocket(quick_app.config.home)
    sock.start(woken.set)
    yield woken
    sock.stop()


def test_signed_out_is_sent_to_sign_in(quick_app: App, browser: Callable[[str | None], Browser]) -> None:
    person = browser(None)
    for url in ("/khan-cap", "/khan-cap?ban_tin=1", "/khan-cap/luot/1"):
        answer = person.get(url, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/dang-nhap?next="), url
    answer = person.post("/khan-cap/phat", {"bulletin": "1"}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/dang-nhap")
    status = person.client.get("/khan-cap/luot/1/trang-thai", headers={"Accept": "application/json"})
    assert status.status_code == 401
    assert emergencies(quick_app) == []


def test_officer_and_inspector_are_refused_and_the_leader_only_reads(
    quick_app: App, browser: Callable[[str | None], Browser]
) -> None:
    for role in ("officer", "inspector"):
        answer = browser(role).get("/khan-cap")
        assert answer.status_code == 403 and "Không được phép" in answer.text, role
    leader = browser("leader")
    page = leader.get("/khan-cap")
    assert page.status_code == 200 and "Chỉ nhân viên vận hành đài" in page.text
    assert 'name="ban_tin"' not in page.text
    assert leader.get(f"/khan-cap?ban_tin={approved(quick_app)[0]}").status_code == 403
    refused = leader.post("/khan-cap/phat", {"bulletin": str(approved(quick_app)[0])})
    assert refused.status_code == 403 and emergencies(quick_app) == []


def test_choose_then_confirm_shows_exactly_what_will_be_heard(
    quick_app: App, browser: Callable[[str | None], Browser]
) -> None:
    person = browser("operator")
    page = person.get("/khan-cap")
    assert page.status_code == 200 and "Chọn bản tin khẩn cấp" in page.text
    assert "Trạm phát không chạy" in page.text  # no daemon heartbeat in this database
    first = approved(quick_app)[0]
    confirm = person.get(f"/khan-cap?ban_tin={first}")
    assert confirm.status_code == 200 and "Xác nhận: phát khẩn cấp ngay" in confirm.text
    with quick_app.tx() as s:
        spoken = bulletins.approved_revision(bulletins.get(s, first)).spoken_text
    assert spoken.split(".")[0] in confirm.text.replace("&#39;", "'")
    assert emergencies(quick_app) == []  # choosing and confirming screens store nothing


def test_a_draft_or_no_choice_is_refused_beside_the_field(
    quick_app: App, browser: Callable[[str | None], Browser]
) -> None:
    person = browser("operator")
    draft = person.get(f"/khan-cap?ban_tin={a_draft(quick_app)}")
    assert draft.status_code == 400 and 'id="e-bulletin"' in draft.text and "chưa được duyệt" in draft.text
    person.get("/khan-cap")
    empty = person.post("/khan-cap/phat", {"bulletin": ""})
    assert empty.status_code == 400 and "Chưa chọn bản tin" in empty.text
    posted = person.post("/khan-cap/phat", {"bulletin": str(a_draft(quick_app))})
    assert posted.status_code == 400 and "chưa được duyệt" in posted.text
    assert person.get("/khan-cap?ban_tin=999999").status_code == 404
    assert emergencies(quick_app) == []


def test_confirm_queues_an_emergency_now_and_wakes_the_daemon_after_the_commit(
    quick_app: App, browser: Callable[[str | None], Browser], listening: threading.Event
) -> None:
    person = browser("operator")
    first = approved(quick_app)[0]
    person.get(f"/khan-cap?ban_tin={first}")
    answer = person.post("/khan-cap/phat", {"bulletin": str(first)}, follow_redirects=False)
    assert answer.status_code == 303
    assert listening.wait(5), "no wake-up datagram reached the daemon's port"
    [airing] = emergencies(quick_app)
    assert answer.headers["location"] == f"/khan-cap/luot/{airing.id}"
    # no lead: the planned start is the moment of the confirmation (not 2 s later), even outside the hours
    assert airing.planned_start == airing.queued_at == NOW
    assert airing.session_code == "emergency" and airing.queued_by == "hung"
    page = person.get(answer.headers["location"])
    assert page.status_code == 200 and "Chờ trạm phát nhận" in page.text and "Tải lại" in page.text
    status = person.get(f"/khan-cap/luot/{airing.id}/trang-thai").json()
    assert status["state"] == "waiting" and status["actual_start"] is None
    assert f"/khan-cap/luot/{airing.id}" in person.get("/khan-cap").text  # in the recent list


def test_a_refused_emergency_sends_no_wake_up(
    quick_app: App, browser: Callable[[str | None], Browser], listening: threading.Event
) -> None:
    person = browser("operator")
    person.get("/khan-cap")
    assert person.post("/khan-cap/phat", {"bulletin": str(a_draft(quick_app))}).status_code == 400
    assert not listening.wait(0.5)


def test_an_unknown_or_normal_airing_has_no_emergency_page(
    quick_app: App, browser: Callable[[str | None], Browser]
) -> None:
    person = browser("operator")
    assert person.get("/khan-cap/luot/424242").status_code == 404
    with quick_app.tx() as s:
        row = stations.find_station(s, "phu-thu")
        normal = queue.play_now(
            s,
            row,
            stations.station_domain(s, row),
            approved(quick_app)[0],
            actor="hung",
            now=NOW.replace(hour=6, minute=30),  # a play-now that is not an emergency keeps to the hours
            lengths=queue.Lengths(emergency.EMERGENCY_SHAPE, quick_app.duration_of(s)),
        ).id
    assert person.get(f"/khan-cap/luot/{normal}").status_code == 404


def test_a_script_title_is_shown_as_text(quick_app: App, browser: Callable[[str | None], Browser]) -> None:
    first = approved(quick_app)[0]
    with quick_app.tx() as s:
        s.get_one(BulletinRow, first).title = "<script>alert(1)</script>"
    person = browser("operator")
    for html in (person.get("/khan-cap").text, person.get(f"/khan-cap?ban_tin={first}").text):
        assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# -- with a real daemon ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.pulse
def test_with_broadcaster_run_the_emergency_starts_within_a_second_of_the_post(
    web_app: App, browser: Callable[[str | None], Browser], tmp_path: Path, null_sink: str | None
) -> None:
    ids = air_today(web_app, tmp_path)
    render_now(web_app, [ids[URGENT_TITLE], ids[SHORT_TITLE]])
    person = browser("operator")
    env = output_env(null_sink)
    with daemon(web_app.config.home, **env):
        for bulletin in (ids[URGENT_TITLE], ids[SHORT_TITLE]):
            person.get(f"/khan-cap?ban_tin={bulletin}")
            posted = datetime.now(UTC)
            answer = person.post("/khan-cap/phat", {"bulletin": str(bulletin)}, follow_redirects=False)
            assert answer.status_code == 303
            airing = int(re.sub(r"\D", "", answer.headers["location"]))
            wait_for(lambda a=airing: any(r.airing_id == a for r in asrun(web_app)), 60, "the as-run row")
            [row] = [r for r in asrun(web_app) if r.airing_id == airing]
            assert row.outcome == "completed" and row.trigger == "emergency"
            assert row.player == env["BROADCASTER_PLAYOUT_PLAYER"]
            assert row.actual_start is not None
            delay = (row.actual_start - posted).total_seconds()
            assert 0 < delay < 1.5, f"the emergency started {delay:.3f} s after the POST"
            page = person.get(answer.headers["location"]).text
            assert "Trạm phát bắt đầu phát lúc" in page and "Đã phát xong" in page


@pytest.mark.slow
@pytest.mark.pulse
def test_with_broadcaster_run_an_emergency_cuts_the_programme_on_air_within_a_second(
    web_app: App, browser: Callable[[str | None], Browser], tmp_path: Path, null_sink: str | None
) -> None:
    ids = air_today(web_app, tmp_path)
    long_one = next(b for b in approved(web_app) if b not in ids.values())
    render_now(web_app, [ids[URGENT_TITLE], long_one])
    person = browser("operator")
    with daemon(web_app.config.home, **output_env(null_sink)):
        with web_app.tx() as s:  # the operator's play-now (priority): on air two seconds from now
            row = stations.find_station(s, "phu-thu")
            cut = queue.play_now(
                s,
                row,
                stations.station_domain(s, row),
                long_one,
                actor="hung",
                now=web_app.clock.now(),
                lengths=web_app.lengths(s, row),
            ).id
        home = web_app.config.home
        wait_for(lambda: on_air_programme(home) is not None, 30, "the programme to go on air")
        record = on_air_programme(home)
        assert record is not None  # the ident first, then the bulletin: cut the bulletin itself
        item_at = heard_from(record, 0)
        wait_for(lambda: datetime.now(UTC) > item_at, 60, "the bulletin to be on air")
        person.get(f"/khan-cap?ban_tin={ids[URGENT_TITLE]}")
        posted = datetime.now(UTC)
        answer = person.post("/khan-cap/phat", {"bulletin": str(ids[URGENT_TITLE])}, follow_redirects=False)
        airing = int(re.sub(r"\D", "", answer.headers["location"]))
        wait_for(lambda: any(r.airing_id == airing for r in asrun(web_app)), 60, "the emergency's as-run row")
    rows = {r.airing_id: r for r in asrun(web_app)}
    urgent, interrupted = rows[airing], rows[cut]
    told = [(r.seq, r.airing_id, r.bulletin_id, r.outcome, r.played_ms, r.note) for r in asrun(web_app)]
    assert interrupted.outcome == "interrupted", f"{told} {record} {posted}"
    assert interrupted.note == "bị cắt để phát tin khẩn cấp"
    assert urgent.outcome == "completed" and urgent.actual_start is not None
    assert interrupted.actual_end is not None and interrupted.actual_end <= urgent.actual_start
    delay = (urgent.actual_start - posted).total_seconds()
    assert 0 < delay < 1.5, f"the emergency started {delay:.3f} s after the POST"
    page = person.get(answer.headers["location"]).text
    assert "Chương trình bị cắt" in page and "Bị ngắt" in page


@pytest.fixture
def district_app(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[App]:
    """The seed station on the database under test (SQLite, or PostgreSQL as a district runs it)."""
    from seedpaths import SEED

    from broadcaster.config import load_config
    from broadcaster.schedules import load_schedule

    monkeypatch.setenv("BROADCASTER_DATABASE_URL", db_url)
    monkeypatch.setenv("BROADCASTER_SPEECH_ENGINES", "espeak")
    app = build_app(load_config())
    app.clock = FakeClock(NOW)
    app.init()
    with app.tx() as s:
        stations.import_schedule(s, load_schedule(SEED), actor="test", now=NOW, speak=app.speak)
    fake_audio(app, tmp_path / "audio")
    yield app
    app.engine.dispose()


def test_without_a_datagram_the_daemons_fast_poll_sees_the_emergency(district_app: App) -> None:
    """A console on another machine (no port in its home): the daemon's poll of the plan wakes it."""
    with district_app.tx() as s:
        station_id = stations.find_station(s, "phu-thu").id
    woken = threading.Event()
    sessions = district_app.sessions
    watch = PlanWatch(lambda: emergency.plan_stamp(sessions, station_id, district_app.clock.now()))
    watch.start(woken.set)
    try:
        assert not woken.wait(0.5)  # an unchanged plan wakes nobody
        with district_app.tx() as s:
            emergency.start_emergency(
                s, district_app, "phu-thu", str(approved(district_app)[0]), actor="hung", now=NOW, wake=None
            )
        assert woken.wait(10), "the poll did not notice the new emergency airing"
    finally:
        watch.stop()


def manual_airings(app: App) -> list[AiringRow]:
    """Every play-now (priority, not emergency) airing (detached)."""
    with app.tx() as s:
        rows = [a for a in s.query(AiringRow).order_by(AiringRow.id) if a.session_code == "manual"]
        s.expunge_all()
        return rows


def test_play_now_outside_the_allowed_hours_is_refused_beside_the_field_and_wakes_nothing(
    quick_app: App, browser: Callable[[str | None], Browser], listening: threading.Event
) -> None:
    person = browser("operator")
    first = approved(quick_app)[0]
    assert 'action="/khan-cap/phat-ngay"' in person.get(f"/khan-cap?ban_tin={first}").text
    answer = person.post("/khan-cap/phat-ngay", {"bulletin": str(first)})
    assert answer.status_code == 400
    assert 'id="e-bulletin"' in answer.text and "khung giờ" in answer.text  # 09:30 is outside the hours
    assert manual_airings(quick_app) == [] and not listening.wait(0.5)


def test_play_now_in_the_allowed_hours_queues_a_priority_programme_and_wakes_the_daemon(
    quick_app: App, browser: Callable[[str | None], Browser], listening: threading.Event
) -> None:
    at = datetime(2023, 3, 20, 17, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))  # inside 16:30–19:00
    quick_app.clock = FakeClock(at)
    person = browser("operator")
    first = approved(quick_app)[0]
    person.get(f"/khan-cap?ban_tin={first}")
    answer = person.post("/khan-cap/phat-ngay", {"bulletin": str(first)}, follow_redirects=False)
    assert answer.status_code == 303
    assert listening.wait(5), "no wake-up datagram reached the daemon's port"
    [airing] = manual_airings(quick_app)
    assert answer.headers["location"] == f"/lich-phat?tuan=2023-03-20#luot-{airing.id}"
    assert airing.priority == "priority" and airing.bulletin_id == first and airing.queued_by == "hung"
    assert (airing.planned_start - at).total_seconds() == pytest.approx(2.0)  # a moment ahead, not a cut
    assert emergencies(quick_app) == []
    week = person.get(answer.headers["location"])
    assert f'id="luot-{airing.id}"' in week.text and "Đã xếp phát ngay" in week.text
