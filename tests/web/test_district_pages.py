"""The district console (/huyen) on a real PostgreSQL district server with ward "thu" forwarding from its
own SQLite database: every ward's state and heartbeat, the colour-coded wards × campaigns table and
the wards at risk, one ward's drill-down, and sending a bulletin to chosen wards from the form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from district_world import T0, District, air, sync
from fastapi.testclient import TestClient
from sqlalchemy import select

from broadcaster.app import App
from broadcaster.clock import FakeClock
from broadcaster.services import district_console, forwarding, users, web_auth
from broadcaster.services.district_http import HttpDistrict
from broadcaster.store.models import DispatchRow, DispatchTargetRow
from broadcaster.web.server import create_web

pytestmark = pytest.mark.postgres
PASSWORD = "mat-khau-huyen"
# 23 hourly airings from 06:00 on 03/03/2026 (local); five days later March is on course for "thu".
NOW = T0 + timedelta(days=5)


def _client(district: District, name: str, role: str) -> TestClient:
    now = district.app.clock.now()
    with district.app.tx() as s:
        users.add_user(s, name, role, f"Người dùng {name}", actor="test", now=now)
        web_auth.set_password(s, name, PASSWORD, actor=name, now=now)
    client = TestClient(create_web(district.app))
    form = client.get("/dang-nhap").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None
    signed = client.post(
        "/dang-nhap", data={"name": name, "password": PASSWORD, "csrf": csrf.group(1)}, follow_redirects=False
    )
    assert signed.status_code == 303
    return client


@pytest.fixture
def inspector(ward: App, district: District) -> Iterator[TestClient]:
    """The district inspector, after ward "thu" forwarded 23 airings and its heartbeat."""
    district.app.clock = FakeClock(NOW)
    air(ward, 23)
    assert sync(ward, district).rows == 23
    port = HttpDistrict(district.url, district.tokens["thu"], timeout_s=5)
    beat = {"daemon": "stopped", "alerts": ["Trạm phát đã dừng"], "queued": 3, "disk_free_mb": 20480}
    port.heartbeat("thu", beat | {"clock_offset_s": 0.25, "at_risk": []})
    assert forwarding.sync_audit(ward.sessions, "thu", port).sent > 0  # the schedule import, at least
    client = _client(district, "tra", "inspector")
    yield client
    client.close()


def _part(page: str, marker: str, end: str = "</tr>") -> str:
    assert marker in page, marker
    return page.split(marker)[1].split(end)[0]


def test_the_board_shows_each_ward_its_heartbeat_and_the_table_coloured(
    inspector: TestClient, district: District
) -> None:
    page = inspector.get("/huyen")
    assert page.status_code == 200
    html = page.text
    thu, hai = _part(html, 'id="phuong-thu"'), _part(html, 'id="phuong-hai"')
    assert "Đang kết nối" in thu
    assert "Đã dừng" in thu and "Trạm phát đã dừng" in thu and ">23<" in thu and "Liền mạch" in thu
    assert "Chưa gửi lần nào" in hai
    # 23 airings against 20, but none from the campaign's start on 01/01 until 03/03: over the 7-day gap.
    cell = _part(html, 'id="kq-thu-ma-tuy-2026"', "</td>")
    assert 'tone-bad"' in html.split('id="kq-thu-ma-tuy-2026"')[0][-60:]
    assert "Không đạt" in cell and "23/20 lượt" in cell and "23,0/15,0 phút" in cell
    assert 'tone-bad"' in html.split('id="kq-hai-ma-tuy-2026"')[0][-60:]
    at_risk = _part(html, 'id="nguy-co"', "</section>")
    assert at_risk.index("Đài phường hai") < at_risk.index("Đài phường thu")
    assert "ngày liền không phát (cho phép 7)" in at_risk
    assert "2 ô không đạt" in re.sub(r"<[^>]+>", "", html)
    # The menu offers the district's pages on a district server.
    assert 'href="/huyen"' in html.split("</nav>")[0]


def test_a_cell_is_at_risk_when_its_pace_falls_short_or_its_ward_says_so() -> None:
    from datetime import date

    from broadcaster.reports.compliance import PeriodCompliance
    from broadcaster.reports.periods import Period, PeriodKind

    march = Period(PeriodKind.MONTH, date(2026, 3, 1), date(2026, 3, 31))

    def row(airings: int, met: bool | None = None, in_progress: bool = True) -> PeriodCompliance:
        return PeriodCompliance(
            march, march.start, march.end, False, in_progress, airings, float(airings), 0,
            31, None, 0, None, 0, 0, 0, met,
        )  # fmt: skip

    on_day_10 = date(2026, 3, 10)
    assert district_console.tone(row(10), on_day_10) == "pending"  # 10 in 10 days: 31 by the end
    assert district_console.tone(row(9), on_day_10) == "risk"  # 9 in 10 days: about 28 of 31
    assert district_console.tone(row(10), on_day_10, flagged=True) == "risk"  # its own plan is short
    assert district_console.tone(row(31, met=True), on_day_10) == "ok"
    assert district_console.tone(row(3, met=False, in_progress=False), on_day_10) == "bad"
    assert district_console.tone(None, on_day_10) == "none"
    assert district_console.projected(row(9), on_day_10) == (pytest.approx(27.9), pytest.approx(27.9))


def test_one_wards_drill_down_has_its_state_reports_and_log(inspector: TestClient) -> None:
    page = inspector.get("/huyen/phuong/thu")
    assert page.status_code == 200
    html = page.text
    state = _part(html, 'id="tinh-trang"', "</section>")
    assert "Trạm phát đã dừng" in state and "20,0 GB" in state and "0,25 giây" in state
    report = _part(html, 'id="bao-cao-ma-tuy-2026"', "</table>")
    assert "03/2026" in report and "23 / 20" in report and "Không đạt" in report
    log = _part(html, 'id="nhat-ky"', "</section>")
    assert 'id="dong-23"' in log and "Bản tin số 23" in log and "Đã phát xong" in log.replace("đã", "Đã")
    day = inspector.get("/huyen/phuong/thu", params={"ngay": "2026-03-04"}).text
    rows = re.findall(r'id="dong-(\d+)"', _part(day, 'id="nhat-ky"', "</section>"))
    assert rows and all(int(n) >= 19 for n in rows)  # 00:00 on the 4th (local) is the 19th airing
    bad = inspector.get("/huyen/phuong/thu", params={"ngay": "4/3"})
    assert bad.status_code == 400 and "Ngày «4/3» không hợp lệ" in bad.text and "Traceback" not in bad.text
    events = _part(html, 'id="thao-tac"', "</section>")
    assert "Nhập tệp lịch" in events and "schedule.import" not in events
    sessions = _part(html, 'id="lich-phat"', "</section>")
    assert "Buổi sáng" in sessions and "06:00 · tối đa 15 phút" in sessions
    assert "Gửi thay đổi xuống phường" not in sessions  # an inspector reads, a district leader changes
    unknown = inspector.get("/huyen/phuong/khong-co")
    assert unknown.status_code == 404 and "Không có phường «khong-co»" in unknown.text


def test_a_district_leader_sends_from_the_form_and_sees_each_wards_state(
    ward: App, district: District
) -> None:
    leader = _client(district, "minh", "leader")
    form = leader.get("/huyen/ban-tin").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', form)
    assert csrf is not None and 'value="thu"' in form and 'value="hai"' in form
    fields = {
        "csrf": csrf.group(1),
        "title": "Cảnh báo mưa lớn",
        "text": "Ủy ban nhân dân quận đề nghị bà con chằng chống nhà cửa trước 17 giờ.",
        "level": "emergency",
        "campaign": "ma-tuy-2026",
        "valid_minutes": "2000",
    }
    refused = leader.post("/huyen/ban-tin", data=fields | {"wards": ["thu", "hai"]})
    assert refused.status_code == 400
    assert 'id="e-valid_minutes"' in refused.text and "Thời hạn phát khẩn cấp «2000»" in refused.text
    assert "Cảnh báo mưa lớn" in refused.text  # what was typed is kept
    nothing = leader.post("/huyen/ban-tin", data=fields | {"valid_minutes": "30"})
    assert nothing.status_code == 400 and 'id="e-wards"' in nothing.text
    with district.app.tx() as s:
        assert s.scalars(select(DispatchRow)).all() == []
    sent = leader.post("/huyen/ban-tin", data=fields | {"valid_minutes": "30", "wards": ["thu", "hai"]})
    assert sent.status_code == 200 and "Đã gửi bản tin mức khẩn cấp tới 2 phường" in sent.text
    with district.app.tx() as s:
        [row] = s.scalars(select(DispatchRow)).all()
        states = sorted(s.scalars(select(DispatchTargetRow.state)).all())
    assert row.level == "emergency" and row.approved_by == "minh" and states == ["sent", "sent"]
    listed = _part(sent.text, f'id="gui-{row.id}-thu"')
    assert "Đã gửi, phường chưa nhận" in listed
    leader.close()


def test_an_inspector_reads_the_sends_but_has_no_form(inspector: TestClient) -> None:
    page = inspector.get("/huyen/ban-tin")
    assert page.status_code == 200 and 'action="/huyen/ban-tin"' not in page.text
    assert "Chỉ lãnh đạo huyện gửi được bản tin" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', inspector.get("/huyen").text)
    assert csrf is not None
    data = {"csrf": csrf.group(1), "title": "x", "text": "y", "level": "normal", "wards": ["thu"]}
    refused = inspector.post("/huyen/ban-tin", data=data | {"campaign": "ma-tuy-2026"})
    assert refused.status_code == 403 and "không được làm bước này" in refused.text


def test_a_district_leader_changes_a_wards_session_from_its_page(ward: App, district: District) -> None:
    from broadcaster.services.district_inbox import InboxParts, take_changes

    leader = _client(district, "minh", "leader")
    page = leader.get("/huyen/phuong/thu").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None and 'action="/huyen/phuong/thu/buoi/sang"' in page
    form = {"csrf": csrf.group(1), "max_minutes": "20", "weekdays": ["mon", "tue"]}
    bad = leader.post("/huyen/phuong/thu/buoi/sang", data=form | {"start": "21:00"})
    assert bad.status_code == 400 and "ngoài giờ được phép" in bad.text
    assert 'value="21:00"' in bad.text  # what was typed is kept, beside its message
    done = leader.post("/huyen/phuong/thu/buoi/sang", data=form | {"start": "06:30"})
    assert done.status_code == 200 and "Đã gửi thay đổi lịch phát số 1 xuống phường" in done.text
    assert "Đã gửi, phường chưa nhận" in _part(done.text, 'id="thay-doi-1"')
    parts = InboxParts(ward.config.media_dir, ward, None, ward.speak)
    port = HttpDistrict(district.url, district.tokens["thu"], timeout_s=5)
    [report] = take_changes(ward.sessions, "thu", port, parts, now=ward.clock.now())
    assert report.state == "applied"
    after = leader.get("/huyen/phuong/thu").text
    assert "Phường đã áp dụng" in _part(after, 'id="thay-doi-1"')
    assert "06:30 · tối đa 20 phút · T2, T3" in _part(after, 'id="buoi-sang"', "</p>")
    leader.close()


def test_the_consolidated_report_downloads_as_pdf_and_docx(inspector: TestClient, district: District) -> None:
    import dataclasses
    import io
    import subprocess

    from docx import Document

    page = inspector.get("/huyen/bao-cao-tong-hop")
    assert page.status_code == 200 and 'name="dinh_dang" value="pdf"' in page.text
    unnamed = inspector.get("/huyen/bao-cao-tong-hop", params={"dinh_dang": "pdf"})
    assert unnamed.status_code == 400 and "Chưa đặt tên quận/huyện" in unnamed.text
    config = district.app.config
    district.app.config = dataclasses.replace(
        config, district=dataclasses.replace(config.district, name="Quận Cái Răng")
    )
    bad = inspector.get("/huyen/bao-cao-tong-hop", params={"dinh_dang": "pdf", "ngay": "3/2026"})
    assert bad.status_code == 400 and 'id="e-ngay"' in bad.text
    pdf = inspector.get(
        "/huyen/bao-cao-tong-hop", params={"dinh_dang": "pdf", "ngay": "2026-03-01", "so": "07"}
    )
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert "bao-cao-tong-hop-month-2026-03-01.pdf" in pdf.headers["content-disposition"]
    text = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf.content, capture_output=True, check=True
    ).stdout.decode()
    assert "QUẬN CÁI RĂNG" in text and "Số: 07/BC-UBND" in text and "Đài phường thu" in text
    word = inspector.get("/huyen/bao-cao-tong-hop", params={"dinh_dang": "docx", "ky": "quarter"})
    assert word.status_code == 200
    paragraphs = "\n".join(p.text for p in Document(io.BytesIO(word.content)).paragraphs)
    assert "quý I năm 2026" in paragraphs and "Ủy ban nhân dân quận Cái Răng" in paragraphs
