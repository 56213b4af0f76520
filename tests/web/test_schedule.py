"""Lịch phát: the week view, queue / unqueue / move, automatic fill (proposal, then applied), exceptions;
each route signed out, with a wrong role and with the operator; bad input shown beside its form."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import Browser
from sqlalchemy import select
from station_air import fake_audio

from broadcaster.app import App
from broadcaster.clock import FakeClock
from broadcaster.domain import BulletinStatus
from broadcaster.services import bulletins, schedule_views, stations
from broadcaster.store.models import BulletinRow, ExceptionRow, StationRow

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2023, 3, 19, 20, 0, tzinfo=ZONE)  # Sunday evening, the week of Monday 20/03 ahead
MONDAY = date(2023, 3, 20)
WEEK = "/lich-phat?tuan=2023-03-22"  # any day of the week shows that week


@pytest.fixture
def plan_app(web_app: App, tmp_path: Path) -> App:
    """The seeded station on Sunday 19/03/2023 at 20:00, with (silent) audio for every approved bulletin."""
    web_app.clock = FakeClock(NOW)
    fake_audio(web_app, tmp_path / "audio")
    return web_app


def approved(app: App) -> list[int]:
    """The seed's approved bulletins, by id."""
    with app.tx() as s:
        row = stations.find_station(s, "phu-thu")
        return [b.id for b in bulletins.list_bulletins(s, row.id, status=BulletinStatus.APPROVED.value)]


def a_draft(app: App) -> int:
    """A bulletin of the seed that was never approved."""
    with app.tx() as s:
        row = stations.find_station(s, "phu-thu")
        return bulletins.list_bulletins(s, row.id, status=BulletinStatus.DRAFT.value)[0].id


def week(app: App, day: date = MONDAY) -> schedule_views.WeekPlan:
    """The week as the page's service reads it (the database, not the HTML)."""
    with app.tx() as s:
        return schedule_views.week_plan(s, app, "phu-thu", day, actor="hung", now=app.clock.now())


def queued(app: App, day: date = MONDAY) -> dict[str, list[int]]:
    """Bulletin ids queued in each session of the week, keyed "YYYY-MM-DD HH:MM"."""
    out: dict[str, list[int]] = {}
    for d in week(app, day).days:
        for slot in d.slots:
            key = slot.start.astimezone(ZONE).strftime("%Y-%m-%d %H:%M")
            out[key] = [i.bulletin_id for i in slot.items]
    return out


def airing_ids(app: App) -> list[int]:
    """Every queued airing of the week."""
    return [i.airing_id for d in week(app).days for s in d.slots for i in s.items]


def exception_count(app: App) -> int:
    """How many dated exceptions the station has (the seed has three)."""
    with app.tx() as s:
        return len(list(s.scalars(select(ExceptionRow.id))))


def queue_one(person: Browser, bulletin: int, session: str = "2023-03-20 06:00") -> object:
    """Queue through the form, as the operator does."""
    person.get(WEEK)
    return person.post(
        "/lich-phat/xep",
        {"bulletin": bulletin, "session": session, "priority": "normal", "tuan": "2023-03-20"},
        follow_redirects=False,
    )


# -- the week view ----------------------------------------------------------------------------------


def test_signed_out_is_sent_to_sign_in_from_every_route(
    plan_app: App, browser: Callable[[str | None], Browser]
) -> None:
    person = browser(None)
    assert person.get(WEEK, follow_redirects=False).headers["location"].startswith("/dang-nhap?next=")
    assert (
        person.get("/lich-phat/xep-tu-dong?tu=2023-03-20&den=2023-03-26", follow_redirects=False).status_code
        == 303
    )
    for url in (
        "/lich-phat/xep",
        "/lich-phat/rut/1",
        "/lich-phat/chuyen/1",
        "/lich-phat/xep-tu-dong",
        "/lich-phat/ngoai-le",
        "/lich-phat/ngoai-le/1/xoa",
    ):
        answer = person.post(url, {}, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/dang-nhap"), url


def test_week_view_is_monday_first_with_sessions_capacity_hours_and_exceptions(
    plan_app: App, browser: Callable[[str | None], Browser]
) -> None:
    page = browser("operator").get("/lich-phat?tuan=2023-06-08")  # the week of the cancelled 10/06 afternoon
    assert page.status_code == 200
    html = page.text
    assert "Lịch phát tuần 23/2023" in html and "Từ thứ Hai 05/06/2023 đến Chủ nhật 11/06/2023" in html
    days = [html.index(f'id="ngay-2023-06-{n:02d}"') for n in range(5, 12)]
    assert days == sorted(days) and "Thứ Hai 05/06/2023" in html and "Chủ nhật 11/06/2023" in html
    assert "05:00–07:30, 16:30–19:00" in html
    assert "Không phát</span> Buổi chiều 17:00 — Bảo dưỡng đường dây" in html
    assert "Chương trình 00:00 / tối đa 15:00" in html and 'class="bar-track"' in html
    extra = browser("operator").get("/lich-phat?tuan=2023-06-26").text
    assert "07:00 · Buổi phát thêm" in extra and "Hưởng ứng Ngày Quốc tế phòng, chống ma túy" in extra


def test_every_signed_in_role_reads_the_week_but_only_the_operator_gets_the_forms(
    plan_app: App, browser: Callable[[str | None], Browser]
) -> None:
    for role in ("officer", "leader", "inspector"):
        page = browser(role).get(WEEK)
        assert page.status_code == 200 and "Buổi sáng" in page.text
        assert 'action="/lich-phat/xep"' not in page.text and "Thêm ngoại lệ" not in page.text
    for role in ("operator", "admin"):
        page = browser(role).get(WEEK)
        assert 'action="/lich-phat/xep"' in page.text and "Thêm ngoại lệ" in page.text


def test_a_bad_week_is_a_vietnamese_400(plan_app: App, browser: Callable[[str | None], Browser]) -> None:
    answer = browser("officer").get("/lich-phat?tuan=hom-qua")
    assert answer.status_code == 400 and "Ngày không hợp lệ" in answer.text


# -- queue, unqueue, move -----------------------------------------------------------------------------


def test_operator_queues_an_approved_bulletin_and_the_week_shows_it(
    plan_app: App, browser: Callable[[str | None], Browser]
) -> None:
    first = approved(plan_app)[0]
    person = browser("operator")
    answer = queue_one(person, first)
    assert answer.status_code == 303 and answer.headers["location"].startswith(
        "/lich-phat?tuan=2023-03-20#luot-"
    )
    assert queued(plan_app)["2023-03-20 06:00"] == [first]
    page = person.get(answer.headers["location"]).text
    assert "Đã xếp bản tin vào buổi phát" in page
    with plan_app.tx() as s:
        title = s.get_one(BulletinRow, first).title
    assert title in page and "Chờ phát" in page
    # the programme (ident 7 s + gap + 60 s + gap + closing 5 s, plus the seed's tune) against 15 minutes
    assert "/ tối đa 15:00 — còn trống" in page


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("draft", "chưa được duyệt để phát"),
        ("ended", "đã kết thúc ngày 31/12/2023"),
        ("full", "không đủ chỗ"),
        ("past", "Buổi phát này đã qua"),
        ("hours", "ngoài khung giờ cho phép theo quy chế"),
        ("twice", "đã có trong buổi phát này"),
        ("no-session", "Chưa chọn buổi phát"),
    ],
)
def test_queue_refusals_are_shown_beside_the_form_and_nothing_is_stored(
    plan_app: App, browser: Callable[[str | None], Browser], case: str, message: str
) -> None:
    ids = approved(plan_app)
    person = browser("operator")
    session, bulletin = "2023-03-20 06:00", ids[0]
    if case == "draft":
        bulletin = a_draft(plan_app)
    elif case == "ended":
        session = "2024-01-02 06:00"
    elif case == "full":  # a one-minute extra session cannot hold a 60-s bulletin and the frame
        person.get(WEEK)
        made = person.post(
            "/lich-phat/ngoai-le",
            {"kind": "extra", "day": "2023-03-21", "start": "06:30", "minutes": "1", "reason": "Thử"},
            follow_redirects=False,
        )
        assert made.status_code == 303, made.text
        session = "2023-03-21 06:30"
    elif case == "past":
        session = "2023-03-18 06:00"
    elif case == "hours":  # the ward narrowed its allowed hours after the sessions were set
        with plan_app.tx() as s:
            s.get_one(StationRow, stations.find_station(s, "phu-thu").id).allowed_hours = ["05:00-05:30"]
    elif case == "twice":
        assert queue_one(person, bulletin).status_code == 303  # type: ignore[attr-defined]
    elif case == "no-session":
        session = ""
    before = airing_ids(plan_app)
    answer = queue_one(person, bulletin, session)
    assert answer.status_code == 400  # type: ignore[attr-defined]
    html = answer.text  # type: ignore[attr-defined]
    assert message in html and 'class="field-error"' in html
    assert html.index('class="field-error"') < html.index("Xếp vào buổi phát")  # inside the queue form
    assert airing_ids(plan_app) == before


def test_unqueue_and_move(plan_app: App, browser: Callable[[str | None], Browser]) -> None:
    first, second = approved(plan_app)[:2]
    person = browser("operator")
    queue_one(person, first)
    queue_one(person, second)
    [to_move, to_drop] = airing_ids(plan_app)
    week = person.get(WEEK).text
    assert f'href="/lich-phat/chuyen/{to_move}"' in week  # the move form is one click away, not in every row
    form = person.get(f"/lich-phat/chuyen/{to_move}").text
    assert 'id="f-move"' in form and 'value="2023-03-22 17:00"' in form
    assert 'value="2023-03-20 06:00"' not in form  # not the session it is in
    moved = person.post(
        f"/lich-phat/chuyen/{to_move}",
        {"session": "2023-03-22 17:00", "tuan": "2023-03-20"},
        follow_redirects=False,
    )
    assert moved.status_code == 303
    dropped = person.post(f"/lich-phat/rut/{to_drop}", {"tuan": "2023-03-20"}, follow_redirects=False)
    assert dropped.status_code == 303
    plan = queued(plan_app)
    assert plan["2023-03-20 06:00"] == [] and plan["2023-03-22 17:00"] == [first]
    again = person.post(f"/lich-phat/rut/{to_drop}", {"tuan": "2023-03-20"})
    assert again.status_code == 404 and "Không có lượt phát" in again.text
    nowhere = person.post(
        f"/lich-phat/chuyen/{to_move}", {"session": "2023-03-26 06:00", "tuan": "2023-03-20"}
    )
    assert nowhere.status_code == 400 and "Ngày 26/03/2023 không có buổi phát nào" in nowhere.text
    assert 'id="e-move"' in nowhere.text  # said beside the select
    assert queued(plan_app)["2023-03-22 17:00"] == [first]


def test_wrong_roles_cannot_change_the_plan(plan_app: App, browser: Callable[[str | None], Browser]) -> None:
    first = approved(plan_app)[0]
    for role in ("officer", "leader", "inspector"):
        person = browser(role)
        person.get(WEEK)
        answer = queue_one(person, first)
        assert answer.status_code == 403 and "Không được phép" in answer.text, role  # type: ignore[attr-defined]
        exc = person.post(
            "/lich-phat/ngoai-le",
            {"kind": "cancel", "day": "2023-03-22", "reason": "Thử"},
            follow_redirects=False,
        )
        assert exc.status_code == 403
        proposal = person.get("/lich-phat/xep-tu-dong?tu=2023-03-20&den=2023-03-26")
        assert proposal.status_code == 403
    assert airing_ids(plan_app) == [] and week(plan_app).exceptions == []


def test_a_bulletin_title_with_script_is_shown_as_text(
    plan_app: App, browser: Callable[[str | None], Browser]
) -> None:
    first = approved(plan_app)[0]
    with plan_app.tx() as s:
        s.get_one(BulletinRow, first).title = "<script>alert('x')</script> Tin"
    person = browser("operator")
    queue_one(person, first)
    page = person.get(WEEK).text
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Tin" in page


# -- automatic fill -----------------------------------------------------------------------------------


def test_fill_is_a_proposal_first_then_applied_exactly(
    plan_app: App, browser: Callable[[str | None], Browser]
) -> None:
    person = browser("operator")
    page = person.get("/lich-phat/xep-tu-dong?tu=2023-03-20&den=2023-03-26&tuan=2023-03-20")
    assert page.status_code == 200 and "Đề xuất" in page.text and "Áp dụng đề xuất" in page.text
    assert airing_ids(plan_app) == []  # a proposal stores nothing
    import re

    fingerprint = re.search(r'name="fingerprint" value="([0-9a-f]+)"', page.text)
    assert fingerprint
    proposed = len(re.findall(r'<td data-label="Buổi phát">', page.text))
    assert proposed > 0
    stale = person.post(
        "/lich-phat/xep-tu-dong", {"tu": "2023-03-20", "den": "2023-03-26", "fingerprint": "0" * 16}
    )
    assert stale.status_code == 400 and "Lịch đã thay đổi từ lúc xem đề xuất" in stale.text
    assert airing_ids(plan_app) == []
    applied = person.post(
        "/lich-phat/xep-tu-dong",
        {"tu": "2023-03-20", "den": "2023-03-26", "fingerprint": fingerprint.group(1), "tuan": "2023-03-20"},
        follow_redirects=False,
    )
    assert applied.status_code == 303
    assert len(airing_ids(plan_app)) == proposed
    assert f"Đã tự động xếp {proposed} lượt phát" in person.get(applied.headers["location"]).text


def test_fill_with_bad_dates_says_so_beside_the_field(
    plan_app: App, browser: Callable[[str | None], Browser]
) -> None:
    answer = browser("operator").get("/lich-phat/xep-tu-dong?tu=2023-03-26&den=2023-03-20&tuan=2023-03-20")
    assert (
        answer.status_code == 400
        and 'id="e-den"' in answer.text
        and "Ngày kết thúc trước ngày bắt đầu" in answer.text
    )


# -- exceptions ---------------------------------------------------------------------------------------


def test_no_broadcast_day_and_extra_session_then_taken_back(
    plan_app: App, browser: Callable[[str | None], Browser]
) -> None:
    person = browser("operator")
    person.get(WEEK)
    cancel = person.post(
        "/lich-phat/ngoai-le",
        {
            "kind": "cancel",
            "day": "2023-03-22",
            "session_code": "chieu",
            "reason": "Mất điện lưới",
            "tuan": "2023-03-20",
        },
        follow_redirects=False,
    )
    assert cancel.status_code == 303 and cancel.headers["location"].endswith("#ngay-2023-03-22")
    extra = person.post(
        "/lich-phat/ngoai-le",
        {
            "kind": "extra",
            "day": "23/03/2023",
            "start": "07:00",
            "minutes": "20",
            "reason": "Tin bầu cử",
            "tuan": "2023-03-20",
        },
        follow_redirects=False,
    )
    assert extra.status_code == 303, extra.text
    plan = week(plan_app)
    wednesday, thursday = plan.days[2], plan.days[3]
    assert [c.name for c in wednesday.cancelled] == ["Buổi chiều"] and wednesday.cancelled[
        0
    ].reason == "Mất điện lưới"
    assert [s.session_code for s in wednesday.slots] == ["sang"]
    [added] = [s for s in thursday.slots if s.kind == schedule_views.SLOT_EXTRA]
    assert added.start.astimezone(ZONE).strftime("%H:%M") == "07:00" and added.max_s == 20 * 60
    page = person.get(WEEK).text
    assert "Mất điện lưới" in page and "Tin bầu cử" in page
    for exc in plan.exceptions:
        gone = person.post(
            f"/lich-phat/ngoai-le/{exc.id}/xoa", {"tuan": "2023-03-20"}, follow_redirects=False
        )
        assert gone.status_code == 303
    assert week(plan_app).exceptions == [] and week(plan_app).days[2].cancelled == []


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        (
            {"kind": "extra", "day": "2023-03-21", "start": "03:15", "minutes": "15"},
            "start",
            "ngoài khung giờ",
        ),
        (
            {"kind": "extra", "day": "2023-03-21", "start": "07:20", "minutes": "15"},
            "start",
            "quá giờ kết thúc 07:30",
        ),
        (
            {"kind": "extra", "day": "2023-03-21", "start": "06:05", "minutes": "15"},
            "start",
            "Trùng với buổi «Buổi sáng»",
        ),
        (
            {"kind": "extra", "day": "2023-03-21", "start": "", "minutes": "15"},
            "start",
            "Chưa nhập giờ bắt đầu",
        ),
        ({"kind": "extra", "day": "2023-03-21", "start": "05:10", "minutes": "mười"}, "minutes", "số phút"),
        ({"kind": "cancel", "day": "2023-03-18"}, "day", "Ngày này đã qua"),
        ({"kind": "cancel", "day": "ngay-mai"}, "day", "Ngày không hợp lệ"),
        ({"kind": "cancel", "day": "2023-03-26"}, "session_code", "không có buổi phát nào để hủy"),
        ({"kind": "", "day": "2023-03-21"}, "kind", "Chưa chọn loại ngoại lệ"),
    ],
)
def test_exception_refusals_are_shown_beside_the_field_and_nothing_is_stored(
    plan_app: App, browser: Callable[[str | None], Browser], form: dict[str, str], field: str, message: str
) -> None:
    person = browser("operator")
    person.get(WEEK)
    before = exception_count(plan_app)
    answer = person.post("/lich-phat/ngoai-le", {"reason": "Thử", "tuan": "2023-03-20", **form})
    assert answer.status_code == 400
    assert f'<p class="field-error" id="e-{field}" role="alert">' in answer.text and message in answer.text
    assert f'value="{form["day"]}"' in answer.text  # what was typed is kept
    assert exception_count(plan_app) == before


def test_a_session_with_bulletins_cannot_be_cancelled(
    plan_app: App, browser: Callable[[str | None], Browser]
) -> None:
    person = browser("operator")
    queue_one(person, approved(plan_app)[0])
    answer = person.post(
        "/lich-phat/ngoai-le",
        {"kind": "cancel", "day": "2023-03-20", "session_code": "sang", "reason": "Thử"},
    )
    assert answer.status_code == 400 and "đã có 1 bản tin xếp vào" in answer.text
    assert week(plan_app).days[0].cancelled == []
