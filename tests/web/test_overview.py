"""Tổng quan: the daemon's state and last contact, what is on air and next, alerts, today's sessions,
campaigns at risk and the chain's verdict (verified once per head), for every role."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from airtime import (
    NOW,
    approved_ids,
    at,
    give_audio,
    heartbeat,
    log_row,
    queue_today,
    use_fake_clock,
)
from conftest import PEOPLE, Browser

from broadcaster import planning
from broadcaster.app import App
from broadcaster.domain import Outcome, Trigger
from broadcaster.services import overview
from broadcaster.services.dashboard_memory import DashboardMemory
from broadcaster.services.stations import find_station

ROLES = list(PEOPLE)


@pytest.fixture
def day(web_app: App, tmp_path: Path) -> dict[str, list[int]]:
    """Monday 06:05: the morning session on air, history since March, a failed and a missed row today."""
    use_fake_clock(web_app)
    ids = approved_ids(web_app)
    airings = queue_today(web_app, ids)
    give_audio(web_app, airings["sang"][0], tmp_path / "media")
    for n in range(20, 0, -2):  # an airing every other day before today
        log_row(web_app, at(-n, "17:00"), title=f"Bản tin ngày trước {n}")
    log_row(
        web_app,
        at(0, "05:40"),
        Outcome.FAILED,
        title="Tin phát ngay lúc sáng",
        trigger=Trigger.MANUAL,
        note="không dựng được chương trình: espeak-ng không chạy",
    )
    log_row(web_app, at(0, "05:50"), Outcome.MISSED, title="Tin bị lỡ lúc sáng", note="trạm phát không chạy")
    heartbeat(web_app, on_air_start=at(0, "06:00"))
    return airings


def test_signed_out_is_sent_to_sign_in_and_json_gets_401(browser: Callable[[str | None], Browser]) -> None:
    person = browser(None)
    for path in ("/", "/tong-quan/dang-phat"):
        answer = person.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/dang-nhap?next=")
    answer = person.get("/tong-quan/dang-phat", headers={"Accept": "application/json"})
    assert answer.status_code == 401 and "đăng nhập" in answer.json()["error"]


def test_every_role_sees_the_dashboard(
    browser: Callable[[str | None], Browser], day: dict[str, list[int]]
) -> None:
    for role in ROLES:  # the inspector included: the dashboard changes nothing
        page = browser(role).get("/")
        assert page.status_code == 200, role
        html = page.text
        assert "Trạm phát: Đang phát" in html and "cách đây 5 giây" in html
        on_air = html.split('id="dang-phat"')[1].split("Tiếp theo")[0]
        assert "bắt đầu lúc 06:00:00" in on_air
        assert "Phường Phú Thứ triển khai Kế hoạch phòng, chống mại dâm năm 2023" in on_air
        upcoming = html.split("Tiếp theo")[1].split('id="canh-bao"')[0]
        assert "Buổi chiều" in upcoming and "17:00 ngày 17/04/2023" in upcoming
        assert "mai-dam-2023" not in html  # titles, never codes


def test_alerts_name_the_render_failure_the_missed_airing_and_missing_audio(
    browser: Callable[[str | None], Browser], day: dict[str, list[int]]
) -> None:
    html = browser("inspector").get("/").text
    alerts = html.split('id="canh-bao"')[1].split('id="chuoi-nhat-ky"')[0]
    assert "Lỗi dựng âm thanh" in alerts and "Tin phát ngay lúc sáng" in alerts and "espeak-ng" in alerts
    assert "Lượt phát bị lỡ" in alerts and "Tin bị lỡ lúc sáng" in alerts
    # The first morning item has audio; the second and the afternoon one do not (still to air).
    assert alerts.count("Thiếu âm thanh") == 2


def test_a_corrected_missed_row_is_no_longer_an_alert(
    browser: Callable[[str | None], Browser], web_app: App, day: dict[str, list[int]]
) -> None:
    from broadcaster.services import reporting

    with web_app.tx() as s:
        from broadcaster.store.models import AsRunRow

        missed = s.query(AsRunRow).filter_by(title="Tin bị lỡ lúc sáng").one()
        reporting.correct(s, missed.id, Outcome.COMPLETED, reason="Đã phát tay", actor="hung", now=NOW)
    alerts = browser("officer").get("/").text.split('id="canh-bao"')[1].split('id="chuoi-nhat-ky"')[0]
    assert "Tin bị lỡ lúc sáng" not in alerts


def test_todays_sessions_show_their_items_and_capacity_bars(
    browser: Callable[[str | None], Browser], web_app: App, day: dict[str, list[int]]
) -> None:
    html = browser("operator").get("/").text
    sessions = html.split('id="buoi-phat-hom-nay"')[1].split('id="chien-dich-nguy-co"')[0]
    morning, afternoon = sessions.split("Buổi chiều · 17:00")
    assert "Buổi sáng · 06:00" in morning and sessions.count('class="bar-fill') == 2
    # 65 s of audio for the first morning item (the other has none yet) in the frame (tune, ident, gaps).
    memory = DashboardMemory(witness=web_app.witness, frame_of=web_app.frame, speak=web_app.speak_frame)
    with web_app.tx() as s:
        shape = memory.shape(s, find_station(s, None), NOW)
    total = planning.programme_length(shape, [65.0, 0.0])
    minutes, seconds = divmod(round(total), 60)
    assert f"{minutes} phút {seconds:02d} giây / 15 phút 00 giây" in morning
    assert f'style="width: {round(100 * total / 900)}%"' in morning
    assert (
        "Tư vấn, xét nghiệm HIV miễn phí tại Trạm y tế phường" in afternoon
        and "chưa có âm thanh" in afternoon
    )


def test_an_expired_heartbeat_is_shown_offline(
    browser: Callable[[str | None], Browser], web_app: App, day: dict[str, list[int]]
) -> None:
    heartbeat(web_app, state="idle", seconds_ago=200)
    html = browser("leader").get("/").text
    assert "Trạm phát: Mất liên lạc" in html and "cách đây 3 phút" in html
    assert "Không có chương trình nào đang phát." in html
    assert "không báo tin cách đây 3 phút" in html  # the alert, with the host


def test_no_daemon_at_all_says_so(browser: Callable[[str | None], Browser], web_app: App) -> None:
    use_fake_clock(web_app)
    html = browser("officer").get("/").text
    assert "Trạm phát: Chưa chạy lần nào" in html and "broadcaster run" in html


def test_campaigns_at_risk_show_the_time_left(
    browser: Callable[[str | None], Browser], day: dict[str, list[int]]
) -> None:
    html = browser("officer").get("/").text
    due = html.split('id="chien-dich-nguy-co"')[1]
    assert "Phòng, chống ma túy năm 2023" in due and "Có nguy cơ không đạt" in due
    assert "còn <strong>6 ngày 17 giờ</strong>" in due  # to Sunday 23:59 from Monday 06:05


def test_the_dashboard_uses_the_report_due_rule_and_follows_new_rows(
    web_app: App, day: dict[str, list[int]]
) -> None:
    from broadcaster.services import reporting

    memory = DashboardMemory(witness=web_app.witness, frame_of=web_app.frame, speak=web_app.speak_frame)

    def both() -> tuple[list[object], list[object]]:
        with web_app.tx() as s:
            shown = overview.dashboard(s, None, actor="tra", now=NOW, memory=memory).due
            return [d.item for d in shown], list(reporting.due_items(s, find_station(s, None), now=NOW))

    first, expected = both()
    assert first == expected and first
    log_row(web_app, at(0, "05:30"), campaign="ma-tuy-2023", title="Tin ma túy sáng nay")
    log_row(web_app, at(0, "05:35"), campaign="ma-tuy-2023", title="Tin ma túy thứ hai")
    after, expected = both()
    assert after == expected and after != first  # the cached rows were read again after the appends


def test_the_json_block_carries_the_state_and_its_html(
    browser: Callable[[str | None], Browser], day: dict[str, list[int]]
) -> None:
    answer = browser("inspector").get("/tong-quan/dang-phat", headers={"Accept": "application/json"})
    data = answer.json()
    assert answer.status_code == 200 and data["state"] == "on_air" and data["state_label"] == "Đang phát"
    assert data["last_contact"] == "cách đây 5 giây"
    assert [i["airing"] for i in data["on_air"]["items"]] == day["sang"]
    assert [i["airing"] for i in data["next"]["items"]] == day["chieu"]
    assert "Trạm phát: Đang phát" in data["html"]


def test_the_chain_is_verified_once_per_head(web_app: App, day: dict[str, list[int]]) -> None:
    memory = DashboardMemory(witness=web_app.witness, frame_of=web_app.frame, speak=web_app.speak_frame)

    def view() -> overview.Dashboard:
        with web_app.tx() as s:
            return overview.dashboard(s, None, actor="tra", now=NOW, memory=memory)

    first, second = view(), view()
    assert first.chain.ok and second.chain == first.chain and memory.verdicts.verifications == 1
    log_row(web_app, at(0, "05:55"), title="Một dòng mới")
    assert view().chain.rows == first.chain.rows + 1 and memory.verdicts.verifications == 2


def test_an_edited_row_shows_the_chain_broken(
    browser: Callable[[str | None], Browser], web_app: App, day: dict[str, list[int]]
) -> None:
    conn = sqlite3.connect(web_app.config.home / "broadcaster.db", isolation_level=None)
    conn.execute("DROP TRIGGER IF EXISTS as_run_no_update")
    conn.execute("UPDATE as_run SET played_ms = 1 WHERE seq = 3")
    conn.close()
    html = browser("officer").get("/").text
    block = html.split('id="chuoi-nhat-ky"')[1]
    assert "KHÔNG nguyên vẹn" in block and "số thứ tự 3" in block and "bị sửa" in block
    assert "Nhật ký KHÔNG nguyên vẹn" in html.split('id="canh-bao"')[1]


def test_an_intact_chain_says_so(browser: Callable[[str | None], Browser], day: dict[str, list[int]]) -> None:
    block = browser("officer").get("/").text.split('id="chuoi-nhat-ky"')[1]
    assert "Nguyên vẹn" in block and "12 dòng" in block


def test_a_title_with_markup_is_shown_as_text(
    browser: Callable[[str | None], Browser], web_app: App, day: dict[str, list[int]]
) -> None:
    log_row(web_app, at(0, "05:58"), Outcome.MISSED, title="<script>alert(1)</script>")
    html = browser("officer").get("/").text
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_dashboard_reads_a_bounded_number_of_queries(web_app: App, day: dict[str, list[int]]) -> None:
    """No query per row: adding history and airings does not add queries."""
    from sqlalchemy import event

    memory = DashboardMemory(witness=web_app.witness, frame_of=web_app.frame, speak=web_app.speak_frame)
    counted: list[str] = []

    def count(*_args: object) -> None:
        counted.append("q")

    def queries() -> int:
        counted.clear()
        event.listen(web_app.engine, "before_cursor_execute", count)
        try:
            with web_app.tx() as s:
                overview.dashboard(s, None, actor="tra", now=NOW + timedelta(seconds=1), memory=memory)
        finally:
            event.remove(web_app.engine, "before_cursor_execute", count)
        return len(counted)

    queries()  # the first view verifies the chain and reads the frame
    before = queries()
    for n in range(30):
        log_row(web_app, at(0, "05:00") + timedelta(seconds=n), Outcome.MISSED, title=f"Lỡ {n}")
    memory.verdicts.max_age = timedelta(days=1)
    queries()  # the head moved: verified once more
    assert queries() == before
    with web_app.tx() as s:
        assert find_station(s, None).code == "phu-thu"


def test_the_console_reads_work_on_both_databases(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Dashboard, log page and report on SQLite and PostgreSQL (a district server runs the latter)."""
    from seedpaths import SEED

    from broadcaster.app import build_app
    from broadcaster.config import load_config
    from broadcaster.schedules import load_schedule
    from broadcaster.services import log_view, report_view
    from broadcaster.services.stations import import_schedule

    monkeypatch.setenv("BROADCASTER_DATABASE_URL", db_url)
    monkeypatch.setenv("BROADCASTER_SPEECH_ENGINES", "espeak")
    app = build_app(load_config())
    app.init()
    use_fake_clock(app)
    with app.tx() as s:
        import_schedule(s, load_schedule(SEED), actor="test", now=NOW, speak=app.speak)
    airings = queue_today(app, approved_ids(app))
    give_audio(app, airings["sang"][0], tmp_path / "media")
    for n in range(10, 0, -1):
        log_row(app, at(-n, "06:00"), title=f"Tin {n}")
    log_row(app, at(0, "05:50"), Outcome.MISSED, title="Tin bị lỡ lúc sáng", airing_id=None)
    heartbeat(app, on_air_start=at(0, "06:00"))
    memory = DashboardMemory(witness=app.witness, frame_of=app.frame, speak=app.speak_frame)
    with app.tx() as s:
        board = overview.dashboard(s, None, actor="hung", now=NOW, memory=memory)
        page = log_view.log_page(s, None, actor="hung", outcome="missed")
        report = report_view.report_page(
            s, None, actor="hung", now=NOW, campaign="mai-dam-2023", period="week"
        )
    assert board.live.daemon.state == "on_air" and board.chain.ok and board.chain.rows == 11
    assert [i.airing_id for i in board.live.on_air.items] == airings["sang"]  # type: ignore[union-attr]
    assert [a.kind for a in board.alerts].count("missed") == 1 and board.due
    assert page.total == 1 and page.lines[0].title == "Tin bị lỡ lúc sáng"
    assert report.tables[0].report.campaign_code == "mai-dam-2023" and report.chart.weeks
    app.engine.dispose()


def test_unsigned_rows_are_signed_by_a_leader_after_checking_with_the_reason_beside_the_field(
    browser: Callable[[str | None], Browser], web_app: App, day: dict[str, list[int]]
) -> None:
    (web_app.config.home / "heads" / "phu-thu.json").unlink()  # e.g. power lost before the signature
    officer = browser("officer").get("/").text.split('id="chuoi-nhat-ky"')[1]
    assert "Có dòng chưa ký" in officer and 'action="/nhat-ky/ky-moc"' not in officer  # no form for them
    leader = browser("leader")
    block = leader.get("/").text.split('id="chuoi-nhat-ky"')[1]
    assert "Có dòng chưa ký" in block and 'action="/nhat-ky/ky-moc"' in block
    empty = leader.post("/nhat-ky/ky-moc", {"reason": "  "})
    assert empty.status_code == 400 and 'id="e-reason"' in empty.text and "Thiếu lý do" in empty.text
    assert not (web_app.config.home / "heads" / "phu-thu.json").exists()  # nothing signed
    assert browser("operator").post("/nhat-ky/ky-moc", {"reason": "đã xem"}).status_code == 403
    done = leader.post("/nhat-ky/ky-moc", {"reason": "đã đối chiếu sổ nhật ký giấy"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/#chuoi-nhat-ky"
    block = leader.get("/").text.split('id="chuoi-nhat-ky"')[1]
    assert "Nguyên vẹn" in block and "12 dòng" in block
