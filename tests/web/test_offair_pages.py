"""The off-air check in the console: the report's "chỉ tính lượt đã nghe thấy" box, the dashboard's alerts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from airtime import NOW, at, log_row, use_fake_clock
from conftest import Browser

from broadcaster.app import App
from broadcaster.domain import OffAir
from broadcaster.store.models import AsRunRow, OffAirRow


def judge(app: App, row_id: int, verdict: OffAir, at_: datetime) -> None:
    """The ear's verdict on one row."""
    with app.tx() as s:
        row = s.get_one(AsRunRow, row_id)
        s.add(
            OffAirRow(
                station_id=row.station_id,
                as_run_id=row.id,
                verdict=verdict.value,
                similarity=0.98 if verdict is OffAir.HEARD else 0.12,
                dead_air_ms=7000 if verdict is OffAir.SILENT else 0,
                delay_ms=30,
                detected_at=at_,
                recording="offair/2023-04-17/x.opus",
                recorded_at=at_,
            )
        )


def april_airings(html: str) -> str:
    """The April row of the mại dâm campaign's monthly table."""
    table = html.split('<section class="card report">')[1].split("</table>")[0]
    return table.split("Tháng 04/2023")[1].split("</tr>")[0]


def test_the_report_box_counts_only_the_heard_and_the_downloads_keep_it(
    browser: Callable[[str | None], Browser], web_app: App
) -> None:
    use_fake_clock(web_app)
    rows = [log_row(web_app, at(-n, "06:00"), title=f"Bản tin {n}") for n in (10, 9, 8)]
    judge(web_app, rows[0], OffAir.HEARD, NOW)
    judge(web_app, rows[1], OffAir.SILENT, NOW)  # the third was not listened to
    person = browser("inspector")
    page = person.get("/bao-cao?chien_dich=mai-dam-2023&ky=month").text
    assert "Chỉ tính lượt đã nghe thấy" in page and 'name="da_nghe"' in page
    assert 'name="da_nghe" type="checkbox" value="1">' in page  # unticked
    every = april_airings(page)
    heard_page = person.get("/bao-cao?chien_dich=mai-dam-2023&ky=month&da_nghe=1").text
    assert 'value="1" checked' in heard_page
    heard = april_airings(heard_page)
    assert ">3<" in every and ">1<" in heard and ">3<" not in heard
    assert "máy nghe đường ra loa đã nghe thấy" in heard_page  # the rule is stated under the table
    # The download form carries the choice, and the CSV counts the same.
    assert '<input type="hidden" name="da_nghe" value="1">' in heard_page
    csv = person.get("/bao-cao/tai-ve?chien_dich=mai-dam-2023&ky=month&dang=csv&da_nghe=1").text
    plain = person.get("/bao-cao/tai-ve?chien_dich=mai-dam-2023&ky=month&dang=csv").text
    assert csv != plain


def test_silence_and_a_wrong_programme_are_alerts_on_the_dashboard(
    browser: Callable[[str | None], Browser], web_app: App
) -> None:
    use_fake_clock(web_app)
    quiet = log_row(web_app, at(0, "05:30"), title="Tin mất tiếng")
    wrong = log_row(web_app, at(0, "05:40"), title="Tin phát nhầm")
    fine = log_row(web_app, at(0, "05:50"), title="Tin nghe rõ")
    judge(web_app, quiet, OffAir.SILENT, NOW)
    judge(web_app, wrong, OffAir.DIFFERENT, NOW)
    judge(web_app, fine, OffAir.HEARD, NOW)
    html = browser("operator").get("/").text
    alerts = html.split('id="canh-bao"')[1].split('id="chuoi-nhat-ky"')[0]
    assert "Mất tiếng trên loa" in alerts and "Tin mất tiếng" in alerts and "lặng 7 giây" in alerts
    assert "Loa phát sai nội dung" in alerts and "Tin phát nhầm" in alerts
    assert "Tin nghe rõ" not in alerts
