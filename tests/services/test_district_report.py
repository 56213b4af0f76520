"""The district's consolidated report: a district server on PostgreSQL, ward "thu" forwarding over HTTP
from its own SQLite, ward "hai" whose forwarded chain was broken by a rewrite at the station, ward "ba"
that never sent anything. The figures must be the wards' own; the breaks must be stated."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from district_world import District, env, import_wards
from docx import Document
from english_terms import english_terms
from PIL import Image
from sqlalchemy import text

from broadcaster import airlog
from broadcaster.app import App, build_app
from broadcaster.config import load_config
from broadcaster.domain import AsRunEntry, Outcome, Trigger
from broadcaster.errors import ConfigError, InputError, PermissionDenied
from broadcaster.reports.compliance import PeriodCompliance
from broadcaster.reports.consolidated import BROKEN_NOTE, CONSOLIDATED_HEADER, blocks
from broadcaster.reports.periods import PeriodKind
from broadcaster.reports.printable import ConsolidatedDocument, place_from_name
from broadcaster.services import forwarding, reporting, users
from broadcaster.services.district_http import HttpDistrict
from broadcaster.services.district_report import consolidated_document, render_consolidated
from broadcaster.services.stations import find_station

pytestmark = pytest.mark.postgres

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime.combine(date(2026, 3, 13), time(9), ZONE).astimezone(UTC)  # March under way
DISTRICT = "Quận Cái Răng"
BIN = str(Path(sys.executable).with_name("broadcaster"))


def nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def air_daily(app: App, code: str, first: date, last: date, title: str = "Bản tin") -> None:
    """One completed one-minute airing at 06:00 local every day of [first, last], in one commit."""
    with app.tx() as s:
        station = find_station(s, code)
        day = first
        while day <= last:
            start = datetime.combine(day, time(6), ZONE).astimezone(UTC)
            entry = AsRunEntry(
                Outcome.COMPLETED,
                Trigger.SCHEDULE,
                planned_start=start,
                actual_start=start,
                actual_end=start + timedelta(seconds=60),
                played_ms=60_000,
                clip_ms=60_000,
                campaign_code="ma-tuy-2026",
                title=f"{title} {day:%d/%m}",
            )
            airlog.append(s, station.id, entry, recorded_by="daemon", now=start + timedelta(seconds=61))
            day += timedelta(days=1)


def sync(app: App, district: District, code: str) -> forwarding.SyncResult:
    port = HttpDistrict(district.url, district.tokens[code], timeout_s=5)
    return forwarding.sync_up(app.sessions, code, port, app.witness, now=app.clock.now())


def ward_pc(district: District, code: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    """Another ward's station PC on its own SQLite, linked to the district (as the `ward` fixture)."""
    env(monkeypatch, home)
    app = build_app(load_config())
    app.init()
    import_wards(app, home, (code,))
    forwarding.save_link(home, district.url, district.tokens[code])
    return app


@dataclass
class World:
    district: District
    thu: App
    hai: App


@pytest.fixture
def world(district: District, ward: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """thu airs daily from 1 January to 12 March and forwards it all; hai forwards to 10 February, then
    rewrites three forwarded rows and sends them again (the district flags the break); ba never sends."""
    air_daily(ward, "thu", date(2026, 1, 1), date(2026, 3, 12))
    assert sync(ward, district, "thu").complete
    hai = ward_pc(district, "hai", tmp_path / "hai", monkeypatch)
    air_daily(hai, "hai", date(2026, 1, 1), date(2026, 2, 10))
    assert sync(hai, district, "hai").rows == 41
    with hai.engine.begin() as conn:  # the newest three rows, already at the district, deleted
        conn.execute(text("DROP TRIGGER IF EXISTS as_run_no_delete"))
        conn.execute(text("DELETE FROM as_run WHERE seq > 38"))
    air_daily(hai, "hai", date(2026, 2, 8), date(2026, 2, 10), title="Bản tin viết lại")
    assert sync(hai, district, "hai").broken
    import_wards(district.app, district.app.config.home, ("ba",))
    now = district.app.clock.now()
    with district.app.tx() as s:
        users.add_user(s, "tra", "inspector", "Lê Thị Tra", actor="test", now=now)
        users.add_user(
            s, "lanh", "leader", "Nguyễn Văn Lành", actor="test", now=now, title="Chủ tịch UBND quận"
        )
    yield World(district, ward, hai)
    hai.engine.dispose()


def document_at(world: World, now: datetime, actor: str = "lanh", **options: Any) -> ConsolidatedDocument:
    with world.district.app.tx() as s:
        return consolidated_document(s, actor=actor, now=now, name=DISTRICT, **options)


def own_row(app: App, code: str, now: datetime, month: int) -> PeriodCompliance:
    with app.tx() as s:
        [report] = reporting.compliance_reports(s, find_station(s, code), None, PeriodKind.MONTH, now=now)
    return next(r for r in report.rows if r.period.start.month == month)


def pdftotext(path: Path, *args: str) -> str:
    done = subprocess.run(["pdftotext", *args, str(path), "-"], check=True, capture_output=True, text=True)
    return nfc(done.stdout)


def test_the_figures_are_the_wards_own_and_the_broken_and_silent_wards_are_stated(world: World) -> None:
    document = document_at(world, NOW)
    cells = {(line.ward_code, line.campaign_code): line.row for line in document.lines}
    assert set(cells) == {("thu", "ma-tuy-2026"), ("hai", "ma-tuy-2026"), ("ba", "ma-tuy-2026")}
    march = own_row(world.thu, "thu", NOW, 3)
    assert cells[("thu", "ma-tuy-2026")] == march
    assert (march.airings, march.minutes, march.met) == (12, 12.0, None)  # under way, on course
    assert cells[("hai", "ma-tuy-2026")].airings == 0  # hai sent nothing after 10 February
    states = {w.code: (w.state, w.rows) for w in document.wards}
    assert states == {"ba": ("silent", 0), "hai": ("broken", 41), "thu": ("verified", 71)}
    head = document.letterhead
    assert (head.issuing_body, head.place, head.issued_on) == ("QUẬN CÁI RĂNG", "Cái Răng", date(2026, 3, 13))
    assert (head.signer_name, head.signer_title, head.symbol) == ("Nguyễn Văn Lành", "CHỦ TỊCH", "BC-UBND")


def test_a_past_month_equals_the_wards_own_report_of_that_month(world: World) -> None:
    document = document_at(world, NOW, period=date(2026, 2, 1))
    assert document.period.label == "Tháng 02/2026"
    cells = {line.ward_code: line.row for line in document.lines}
    february = own_row(world.thu, "thu", NOW, 2)
    assert cells["thu"] == february and february.met is True and february.airings == 28
    # hai's February as the district holds it: the 10 days it forwarded before the break.
    assert (cells["hai"].airings, cells["hai"].met) == (10, False)
    with pytest.raises(InputError, match="chưa bắt đầu"):
        document_at(world, NOW, period=date(2026, 4, 1))


def test_a_row_altered_at_the_district_is_caught_by_the_reports_own_check(world: World) -> None:
    with world.district.app.engine.begin() as conn:  # someone with the server's database edits a row
        conn.execute(
            text(
                "UPDATE forwarded_as_run SET content = replace(content, 'Bản tin', 'Bản tin khác') "
                "WHERE seq = 5 AND station_id = (SELECT id FROM station WHERE code = 'thu')"
            )
        )
    document = document_at(world, NOW)
    [thu] = [w for w in document.wards if w.code == "thu"]
    assert thu.state == "broken" and "dòng số 5 không khớp mã băm" in thu.problem and thu.problem_at is None
    said = " ".join(" ".join(b.text for b in blocks(document)).split())
    assert "Chuỗi nhật ký của Đài phường thu mà máy chủ đang giữ KHÔNG liền mạch khi kiểm tra lại" in said
    assert "Đài phường thu: chuỗi nhật ký không liền mạch, số liệu chưa đầy đủ." in said


def test_the_pdf_reads_back_as_a_district_report(world: World, tmp_path: Path) -> None:
    path = tmp_path / "tong-hop.pdf"
    path.write_bytes(render_consolidated(document_at(world, NOW, actor="tra", number="07"), "pdf"))
    page1 = pdftotext(path, "-layout", "-f", "1", "-l", "1")
    for line in (
        "ỦY BAN NHÂN DÂN",
        "QUẬN CÁI RĂNG",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: 07/BC-UBND",
        "Cái Răng, ngày 13 tháng 3 năm 2026",
        "BÁO CÁO",
        "tháng 3 năm 2026",
        "do 2/3 phường gửi lên",
    ):
        assert nfc(line) in page1, line
    whole = pdftotext(path)
    flat = " ".join(whole.split())
    assert "Chuỗi nhật ký của Đài phường hai KHÔNG liền mạch" in flat
    assert "đã nhận trước đây nay gửi lại khác đi" in flat
    assert "Chưa gửi nhật ký lên máy chủ: Đài phường ba" in flat
    assert " ".join(BROKEN_NOTE.split()) in flat
    assert "Tỷ lệ thực hiện chỉ tiêu của từng phường (%)" in whole  # the chart's title
    assert "TM. ỦY BAN NHÂN DÂN" in whole and "Nơi nhận:" in whole
    assert english_terms(whole) == []
    # The table: thu's March row (12 of 20 airings, 12 of 15 minutes, under way), ba's never sent.
    table = pdftotext(path, "-layout")
    assert re.search(r"3\s+Đài phường thu\s+12 / 20\s+12,0 / 15,0", table), table
    assert re.search(r"1\s+Đài phường ba\s+0 / 20\s+0,0 / 15,0", table), table
    assert "Đang thực" in table and "Chưa gửi" in table
    assert "Đài phường hai (**)" in flat
    assert "1/3 phường đạt chỉ tiêu" not in flat and "0/3 phường đạt chỉ tiêu" in flat


def test_the_pdf_is_a4_within_the_decree_margins(world: World, tmp_path: Path) -> None:
    path = tmp_path / "tong-hop.pdf"
    path.write_bytes(render_consolidated(document_at(world, NOW), "pdf"))
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    assert "(A4)" in info
    bbox = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    mm = 72 / 25.4
    words = [
        (float(a), float(b), float(c), float(d))
        for a, b, c, d in re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)"', bbox)
    ]
    body = [w for w in words if w[1] > 20 * mm - 1]  # the page numbers sit in the top margin
    assert body and min(w[0] for w in body) >= 30 * mm - 1 and max(w[2] for w in body) <= 195 * mm + 1
    assert max(w[3] for w in words) <= 297 * mm - 20 * mm + 1
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(tmp_path / "p")], check=True)
    pages = sorted(tmp_path.glob("p-*.png"))
    assert len(pages) >= 2
    with Image.open(pages[0]) as image:
        assert (round(image.size[0], -1), round(image.size[1], -1)) == (500, 700)  # A4 at 60 dpi
        assert sum(image.convert("L").histogram()[:128]) > 3000  # text and rules were drawn
    page2 = pdftotext(path, "-f", "2", "-l", "2")
    assert page2.split()[0] == "2"


def test_the_docx_opens_with_the_heading_and_the_table(world: World) -> None:
    data = render_consolidated(document_at(world, NOW), "docx")
    document = Document(io.BytesIO(data))
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    margins = (section.left_margin, section.right_margin, section.top_margin, section.bottom_margin)
    assert [round(m.mm) for m in margins] == [30, 15, 20, 20]
    heading = document.tables[0]
    assert [p.text for p in heading.cell(0, 0).paragraphs][:2] == ["ỦY BAN NHÂN DÂN", "QUẬN CÁI RĂNG"]
    assert heading.cell(1, 0).text.startswith("Số: ") and heading.cell(1, 0).text.endswith("/BC-UBND")
    assert heading.cell(1, 1).text == "Cái Răng, ngày 13 tháng 3 năm 2026"
    table = document.tables[1]
    assert [c.text for c in table.rows[0].cells] == list(CONSOLIDATED_HEADER)
    body = {row.cells[1].text: [c.text for c in row.cells] for row in table.rows[1:]}
    assert body["Đài phường thu"][3:] == ["12 / 20", "12,0 / 15,0", "Đang thực hiện"]
    assert body["Đài phường hai (**)"][5] == "Không đạt"  # nothing since 10 February: past the gap
    assert body["Đài phường ba"][5] == "Chưa gửi nhật ký"
    assert len(document.inline_shapes) == 1  # the chart
    texts = " ".join(p.text for p in document.paragraphs)
    assert "KHÔNG liền mạch" in texts and "Nguyễn Văn Lành" in " ".join(
        c.text for t in document.tables for row in t.rows for c in row.cells
    )


def test_only_a_district_leader_or_inspector_and_a_named_district(world: World) -> None:
    with pytest.raises(PermissionDenied):
        document_at(world, NOW, actor="hung")  # a ward operator
    with world.district.app.tx() as s, pytest.raises(ConfigError, match=r"\[district\] name"):
        consolidated_document(s, actor="tra", now=NOW, name="  ")
    with pytest.raises(InputError, match="Định dạng in"):
        render_consolidated(document_at(world, NOW), "odt")


def test_place_comes_from_the_name_and_numbered_units_keep_their_word() -> None:
    assert place_from_name("Quận Cái Răng") == "Cái Răng"
    assert place_from_name("Huyện  Phong Điền") == "Phong Điền"
    assert place_from_name("Thị xã Kinh Môn") == "Kinh Môn"
    assert place_from_name("Quận 1") == "Quận 1"
    assert place_from_name("Phường Phú Thứ") == "Phú Thứ"


def test_the_cli_writes_the_report_whole_or_says_why_in_one_line(world: World, tmp_path: Path) -> None:
    config = world.district.app.config
    base = {k: v for k, v in os.environ.items() if not k.startswith("BROADCASTER_")}
    base |= {"BROADCASTER_HOME": str(config.home), "BROADCASTER_DATABASE_URL": config.database.url}
    named = base | {"BROADCASTER_DISTRICT_NAME": DISTRICT}
    out = tmp_path / "ra" / "tong-hop.docx"

    def run(*args: str, environ: dict[str, str] = named) -> subprocess.CompletedProcess[str]:
        command = [BIN, "report", "district", "-o", str(out), "--as", "tra", *args]
        return subprocess.run(command, capture_output=True, text=True, env=environ, timeout=120, check=False)

    for bad, said, environ in (
        ([], "[district] name", base),
        (["--period", "fortnight"], "Kỳ báo cáo không hợp lệ", named),
        (["--of", "31/02/2026"], "Ngày không hợp lệ", named),
        (["--of", "2099-01-01"], "chưa bắt đầu", named),
        (["--as", "hung"], "không được làm bước này", named),
    ):
        refused = run(*bad, environ=environ)
        err = refused.stderr.strip()
        assert refused.returncode == 1 and err.startswith("Lỗi") and said in err, err
        assert len(err.splitlines()) == 1 and "Traceback" not in err
        values = {"week", "month", "quarter", "year"}  # the values --period takes, typed as given
        assert set(english_terms(err, [str(tmp_path)])) <= values, err
    assert not out.exists() and not list(tmp_path.rglob(".*part*"))
    done = run("--format", "docx", "--of", "2026-02-01")
    assert done.returncode == 0, done.stderr
    assert "Đã ghi báo cáo tổng hợp Tháng 02/2026" in done.stdout and "(3 phường)" in done.stdout
    assert [c.text for c in Document(str(out)).tables[1].rows[0].cells] == list(CONSOLIDATED_HEADER)
    out = tmp_path / "thu-muc.pdf"
    out.mkdir()
    refused = run()
    err = refused.stderr.strip()
    assert refused.returncode == 1 and "Không ghi được tệp" in err and "thư mục" in err, err
    assert len(err.splitlines()) == 1 and out.is_dir() and not list(tmp_path.rglob(".*part*"))
