"""Nhật ký phát sóng: filters (bad values are messages beside their field), pages, times to the second in
the station's zone, the CSV export (the CLI's bytes), and corrections by an operator or a leader."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from airtime import NOW, at, log_row, use_fake_clock
from click.testing import CliRunner
from conftest import PEOPLE, Browser

from broadcaster.app import App
from broadcaster.cli.main import cli
from broadcaster.domain import Outcome
from broadcaster.services import reporting
from broadcaster.services.stations import find_station
from broadcaster.store.models import AsRunRow

ROLES = list(PEOPLE)
CORRECTORS = ("operator", "leader", "admin")


@pytest.fixture
def history(web_app: App) -> list[int]:
    """Rows on 10–16 April 2023: completed ones, a missed one and one of another campaign."""
    use_fake_clock(web_app)
    ids = [
        log_row(web_app, at(-7 + n, "06:00") + timedelta(seconds=17), title=f"Bản tin {n}") for n in range(6)
    ]
    ids.append(
        log_row(web_app, at(-1, "17:00"), Outcome.MISSED, title="Tin bị lỡ", note="trạm phát không chạy")
    )
    ids.append(log_row(web_app, at(-1, "17:05"), campaign="ma-tuy-2023", title="Nhận diện ma túy tổng hợp"))
    return ids


def test_signed_out_is_sent_to_sign_in(browser: Callable[[str | None], Browser], history: list[int]) -> None:
    person = browser(None)
    for path in ("/nhat-ky", "/nhat-ky/xuat-csv", f"/nhat-ky/{history[0]}/dinh-chinh"):
        answer = person.get(path, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/dang-nhap?next="), path
    person.get("/dang-nhap")
    answer = person.post(
        f"/nhat-ky/{history[0]}/dinh-chinh", {"outcome": "missed", "reason": "x"}, follow_redirects=False
    )
    assert answer.status_code == 303 and answer.headers["location"].startswith("/dang-nhap")


def test_every_role_reads_the_log_with_times_to_the_second(
    browser: Callable[[str | None], Browser], history: list[int]
) -> None:
    for role in ROLES:
        page = browser(role).get("/nhat-ky")
        assert page.status_code == 200, role
        html = page.text
        assert "8 dòng" in html and "giờ theo <strong>Asia/Ho_Chi_Minh (UTC+07:00)</strong>" in html
        assert "10/04/2023" in html and "06:00:17" in html  # local time, to the second (23:00:17 UTC)
        table = html.split("<table")[1]
        assert "Phòng, chống ma túy năm 2023" in table and "ma-tuy-2023" not in table  # titles, not codes
        assert "Bị lỡ" in html and "trạm phát không chạy" in html
        assert ("/dinh-chinh" in html) == (role in CORRECTORS), role


def test_filters_narrow_the_log(browser: Callable[[str | None], Browser], history: list[int]) -> None:
    person = browser("inspector")
    by_campaign = person.get("/nhat-ky?chien_dich=ma-tuy-2023").text
    assert "1 dòng" in by_campaign and "Nhận diện ma túy tổng hợp" in by_campaign
    by_outcome = person.get("/nhat-ky?ket_qua=missed").text
    assert "1 dòng" in by_outcome and "Tin bị lỡ" in by_outcome
    by_dates = person.get("/nhat-ky?tu=2023-04-11&den=2023-04-12").text
    assert "2 dòng" in by_dates and "Bản tin 1" in by_dates and "Bản tin 2" in by_dates
    assert person.get("/nhat-ky?tu=11/04/2023&den=12/04/2023").text.count('id="dong-') == 2


BAD_FILTERS = (
    ("chien_dich=khong-co", "chien_dich", "Không có chiến dịch «khong-co»"),
    ("ket_qua=tot", "ket_qua", "Không có kết quả «tot»"),
    ("tu=32/13/2023", "tu", "Ngày không hợp lệ"),
    ("tu=2023-04-12&den=2023-04-10", "den", "Ngày kết thúc trước ngày bắt đầu"),
)


def test_an_unknown_filter_is_a_message_beside_its_field_not_an_empty_list(
    browser: Callable[[str | None], Browser], history: list[int]
) -> None:
    person = browser("officer")
    for query, field, message in BAD_FILTERS:
        for path in ("/nhat-ky", "/nhat-ky/xuat-csv"):
            answer = person.get(f"{path}?{query}")
            assert answer.status_code == 400 and "text/html" in answer.headers["content-type"]
            assert f'<p class="field-error" id="e-{field}">{message}' in answer.text
            assert 'id="dong-' not in answer.text and "Không có dòng nào" not in answer.text


def test_the_log_is_paginated_newest_first(
    browser: Callable[[str | None], Browser], web_app: App, history: list[int]
) -> None:
    for n in range(50):
        log_row(web_app, at(-20, "06:00") + timedelta(minutes=n), title=f"Tin cũ {n}")
    person = browser("officer")
    first = person.get("/nhat-ky").text
    assert "58 dòng" in first and "trang 1/2" in first and first.count('id="dong-') == 50
    assert first.index("Nhận diện ma túy tổng hợp") < first.index("Bản tin 0")  # newest first
    assert 'href="/nhat-ky?trang=2"' in first
    second = person.get("/nhat-ky?trang=2").text
    assert second.count('id="dong-') == 8 and "Tin cũ 0" in second


def test_the_csv_is_the_bytes_the_command_line_writes(
    browser: Callable[[str | None], Browser], web_app: App, history: list[int], tmp_path: Path
) -> None:
    with web_app.tx() as s:
        reporting.correct(s, history[-2], Outcome.COMPLETED, reason="Đã phát bù", actor="hung", now=NOW)
    for query, args in (
        ("", []),
        ("?chien_dich=mai-dam-2023&tu=2023-04-11", ["--campaign", "mai-dam-2023", "--from", "2023-04-11"]),
        ("?tat_ca=1", ["--all"]),
    ):
        answer = browser("inspector").get(f"/nhat-ky/xuat-csv{query}")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
        assert "attachment" in answer.headers["content-disposition"]
        out = tmp_path / "cli.csv"
        done = CliRunner().invoke(cli, ["log", "export", "--format", "csv", "-o", str(out), *args])
        assert done.exit_code == 0, done.output
        assert answer.content == out.read_bytes() and answer.content.startswith("\ufeff".encode())


def test_an_operator_corrects_a_row_with_a_reason(
    browser: Callable[[str | None], Browser], web_app: App, history: list[int]
) -> None:
    missed = history[-2]
    person = browser("operator")
    form = person.get(f"/nhat-ky/{missed}/dinh-chinh")
    assert form.status_code == 200 and "Tin bị lỡ" in form.text
    done = person.post(
        f"/nhat-ky/{missed}/dinh-chinh",
        {"outcome": "completed", "reason": "Anh Hùng xác nhận đã phát tay lúc 17:10", "played_s": "60"},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/nhat-ky?tu=2023-04-16")
    with web_app.tx() as s:
        fix = s.query(AsRunRow).filter_by(corrects_id=missed).one()
        assert (fix.outcome, fix.recorded_by, fix.played_ms) == ("completed", "hung", 60_000)
        assert s.get_one(AsRunRow, missed).outcome == "missed"  # the old row stays
        effective = reporting.load_records(s, find_station(s, None), outcomes=[Outcome.MISSED])
        assert effective == []
    page = person.get(done.headers["location"]).text
    assert f"Đã ghi dòng đính chính số {fix.id} cho dòng {missed}" in page
    new_row = page.split(f'id="dong-{fix.id}"')[1].split("</tr>")[0]
    assert f'Đính chính dòng <a href="#dong-{missed}">{missed}</a>' in new_row
    assert "Lý do: Anh Hùng xác nhận đã phát tay lúc 17:10" in new_row
    old_row = page.split(f'id="dong-{missed}"')[1].split("</tr>")[0]
    assert f'Đã được đính chính bởi dòng <a href="#dong-{fix.id}">{fix.id}</a>' in old_row


def test_other_roles_may_not_correct(
    browser: Callable[[str | None], Browser], web_app: App, history: list[int]
) -> None:
    for role in ("officer", "inspector"):
        person = browser(role)
        assert person.get(f"/nhat-ky/{history[0]}/dinh-chinh").status_code == 403
        person.get("/nhat-ky")
        answer = person.post(f"/nhat-ky/{history[0]}/dinh-chinh", {"outcome": "missed", "reason": "thử"})
        assert answer.status_code == 403 and "Không được phép" in answer.text
    with web_app.tx() as s:
        assert s.query(AsRunRow).filter(AsRunRow.corrects_id.is_not(None)).count() == 0


def test_bad_correction_input_is_shown_beside_the_field_and_nothing_is_stored(
    browser: Callable[[str | None], Browser], web_app: App, history: list[int]
) -> None:
    for role in CORRECTORS:
        person = browser(role)
        person.get(f"/nhat-ky/{history[0]}/dinh-chinh")
        answer = person.post(
            f"/nhat-ky/{history[0]}/dinh-chinh", {"outcome": "tot", "reason": " ", "played_s": "nhiều"}
        )
        assert answer.status_code == 400, role
        for field in ("outcome", "reason", "played_s"):
            assert f'<p class="field-error" id="e-{field}">' in answer.text
        assert 'value="nhiều"' in answer.text  # what was typed is kept
    with web_app.tx() as s:
        assert s.query(AsRunRow).count() == len(history)


def test_an_unknown_row_is_a_404_page(browser: Callable[[str | None], Browser], history: list[int]) -> None:
    person = browser("operator")
    answer = person.get("/nhat-ky/9999/dinh-chinh")
    assert answer.status_code == 404 and "Không có dòng nhật ký số 9999" in answer.text


def test_a_form_without_its_token_is_refused(
    browser: Callable[[str | None], Browser], web_app: App, history: list[int]
) -> None:
    person = browser("operator")
    answer = person.client.post(
        f"/nhat-ky/{history[0]}/dinh-chinh", data={"outcome": "missed", "reason": "x"}
    )
    assert answer.status_code == 403
    with web_app.tx() as s:
        assert s.query(AsRunRow).count() == len(history)


def test_a_title_with_markup_is_shown_as_text(
    browser: Callable[[str | None], Browser], web_app: App, history: list[int]
) -> None:
    log_row(web_app, at(0, "05:00"), title="<script>alert(1)</script>")
    html = browser("officer").get("/nhat-ky").text
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
