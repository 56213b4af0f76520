"""Store and forward to the district: a station on SQLite pushes its as-run chain over HTTP to a district
server on PostgreSQL (the real console app under uvicorn); outages, repeats, tampering, foreign tokens."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from district_world import T0, District, air, sync
from sqlalchemy import func, select

from broadcaster import airlog
from broadcaster.app import App
from broadcaster.domain import Outcome
from broadcaster.errors import InputError
from broadcaster.services import chain, district_intake, forwarding, users
from broadcaster.services.district_http import HttpDistrict
from broadcaster.services.forwarding import DistrictUnreachable
from broadcaster.services.stations import find_station
from broadcaster.store.models import AsRunRow, ForwardedAsRunRow, ForwardStateRow

pytestmark = pytest.mark.postgres


def held(district: District, code: str = "thu") -> list[tuple[int, str]]:
    with district.app.tx() as s:
        station = find_station(s, code)
        q = select(ForwardedAsRunRow.seq, ForwardedAsRunRow.row_hash).where(
            ForwardedAsRunRow.station_id == station.id
        )
        return sorted(s.execute(q.order_by(ForwardedAsRunRow.seq)).all())


def local(app: App) -> list[tuple[int, str]]:
    with app.tx() as s:
        return [
            (link.seq, link.row_hash) for link in airlog.links_after(s, find_station(s, "thu").id, 0, 10_000)
        ]


def test_rows_arrive_once_in_batches_and_verify_at_the_district(ward: App, district: District) -> None:
    air(ward, 23)
    result = sync(ward, district, batch=10)
    assert (result.sent, result.accepted, result.rows, result.local_rows) == (
        23,
        23,
        23,
        23,
    ) and result.complete
    assert held(district) == local(ward)
    with district.app.tx() as s:
        check = district_intake.verify_forwarded(s, find_station(s, "thu").id)
        state = s.get_one(ForwardStateRow, find_station(s, "thu").id)
        assert check.problem is None and check.rows == 23 and state.broken_at is None
        assert (
            state.signed_head is not None and state.signed_head["rows"] == 23
        )  # the station's own signature
        row = s.scalars(select(ForwardedAsRunRow).where(ForwardedAsRunRow.seq == 3)).one()
        assert row.title == "Bản tin số 3" and row.outcome == "completed" and row.played_ms == 60_000
        assert row.actual_start == T0 + timedelta(hours=2, milliseconds=12)
        assert row.clip_ms == 60_000 and row.corrects_id is None and row.station_row_id is not None
    again = sync(ward, district)  # nothing new: nothing sent
    assert (again.sent, again.accepted) == (0, 0) and again.complete
    assert ward.witness.heads.acknowledged("thu") == (23, local(ward)[-1][1])


def test_a_week_offline_then_everything_arrives_once(ward: App, district: District) -> None:
    air(ward, 5)
    assert sync(ward, district).rows == 5
    district.stop()
    air(ward, 40, first=5)  # airings while the district server is down
    with pytest.raises(DistrictUnreachable) as refused:
        sync(ward, district)
    assert "Không kết nối được máy chủ huyện" in refused.value.message and district.tokens["thu"] not in str(
        refused.value.one_line()
    )
    assert len(local(ward)) == 45  # nothing lost at the station
    district.start()
    result = sync(ward, district, batch=16)
    assert (result.accepted, result.rows) == (40, 45) and result.complete
    assert held(district) == local(ward)


def test_a_batch_sent_again_after_a_lost_answer_is_kept_once(ward: App, district: District) -> None:
    air(ward, 12)
    port = HttpDistrict(district.url, district.tokens["thu"])
    with ward.tx() as s:
        links = airlog.links_after(s, find_station(s, "thu").id, 0, 8)
    first = port.push("thu", links, None)
    second = port.push("thu", links, None)  # the station never saw the first answer
    assert (first.accepted, first.rows) == (8, 8) and (second.accepted, second.repeated, second.rows) == (
        0,
        8,
        8,
    )
    assert sync(ward, district).rows == 12
    assert held(district) == local(ward)
    with district.app.tx() as s:
        assert s.scalar(select(func.count(ForwardedAsRunRow.id))) == 12


def test_a_forwarded_row_rewritten_at_the_station_is_flagged_at_both_ends(
    ward: App, district: District
) -> None:
    air(ward, 10)
    assert sync(ward, district).rows == 10
    conn = sqlite3.connect(ward.config.home / "broadcaster.db", isolation_level=None)
    conn.execute("DROP TRIGGER IF EXISTS as_run_no_update")
    conn.execute("DROP TRIGGER IF EXISTS as_run_no_delete")
    conn.execute("DELETE FROM as_run WHERE seq > 7")  # the newest rows, already at the district
    conn.close()
    with ward.tx() as s:  # the station's own verify: the district's acknowledged head is gone
        problem = chain.verify_chain(s, find_station(s, "thu"), ward.witness).result.problem
    assert problem is not None and problem.kind in ("deleted", "unsigned")
    with pytest.raises(InputError) as refused:
        sync(ward, district)
    assert "huyện đã nhận 10 dòng" in refused.value.message.lower()

    air(ward, 3, first=20)  # new rows after the deletion: seq 8, 9, 10 again, with other content
    result = sync(ward, district)
    assert result.broken and "đã nhận trước đây nay gửi lại khác đi" in result.reason
    with district.app.tx() as s:
        state = s.get_one(ForwardStateRow, find_station(s, "thu").id)
        assert state.broken_at is not None and state.rows == 10  # nothing of the rewrite was merged
    assert held(district)[:7] == local(ward)[:7]


def test_a_token_of_one_ward_cannot_push_or_read_for_another(ward: App, district: District) -> None:
    air(ward, 4)
    as_hai = HttpDistrict(district.url, district.tokens["hai"])
    with pytest.raises(DistrictUnreachable) as refused:
        forwarding.sync_up(ward.sessions, "thu", as_hai, ward.witness, now=ward.clock.now())
    assert "từ chối mã truy cập" in refused.value.message and "hai" in refused.value.message
    with pytest.raises(DistrictUnreachable):
        HttpDistrict(district.url, "bc_not-a-token").head("thu")
    assert held(district) == [] and held(district, "hai") == []


def test_the_daemons_chore_forwards_and_logs_an_outage_once(
    ward: App, district: District, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="broadcaster.daemon")
    port = ward.district_port()
    assert port is not None
    chore = forwarding.ForwardChore(ward.sessions, "thu", port, ward.witness, ward.clock.now)
    air(ward, 3)
    chore()
    assert len(held(district)) == 3
    district.stop()
    air(ward, 2, first=3)
    chore()
    chore()
    outage = [r for r in caplog.records if "Chưa gửi được nhật ký lên huyện" in r.getMessage()]
    assert len(outage) == 1
    district.start()
    chore()
    assert len(held(district)) == 5 and any("Đã gửi lại được" in r.getMessage() for r in caplog.records)


def test_the_cli_links_syncs_and_says_where_it_stands(
    ward: App, district: District, capsys: pytest.CaptureFixture[str]
) -> None:
    from broadcaster.cli.main import main

    forwarding.link_path(ward.config.home).unlink()
    with pytest.raises(SystemExit) as unlinked:
        main(["sync"])
    assert unlinked.value.code != 0 and "chưa liên kết với máy chủ huyện" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["station", "link", "truyenthanh.huyen", "--token", district.tokens["thu"]])
    err = capsys.readouterr().err.strip()
    assert (
        err.startswith("Lỗi") and "Địa chỉ máy chủ huyện không hợp lệ" in err and len(err.splitlines()) == 1
    )
    main(["station", "link", district.url, "--token", district.tokens["thu"]])
    out = capsys.readouterr().out
    assert "Đã liên kết đài thu" in out and "Huyện đang có 0 dòng" in out
    assert oct(forwarding.link_path(ward.config.home).stat().st_mode & 0o777) == "0o600"
    air(ward, 6)
    main(["sync"])
    assert "Đã gửi 6 dòng mới lên huyện; huyện có 6 / 6 dòng nhật ký." in capsys.readouterr().out
    main(["station", "status"])
    assert "huyện đã xác nhận 6 / 6 dòng nhật ký" in capsys.readouterr().out
    assert district.tokens["thu"] not in capsys.readouterr().out


def test_the_district_table_equals_the_wards_own_report_row_for_row(ward: App, district: District) -> None:
    from broadcaster.reports.periods import PeriodKind
    from broadcaster.services import reporting

    air(ward, 23)  # 23 hourly airings from 03/03/2026 06:00 (local), 1 minute each
    with ward.tx() as s:  # one of them corrected afterwards: it counts as missed, at both ends
        station = find_station(s, "thu")
        first = s.scalars(select(AsRunRow).where(AsRunRow.station_id == station.id, AsRunRow.seq == 2)).one()
        later = T0 + timedelta(days=1)
        reporting.correct(s, first.id, Outcome.MISSED, reason="loa khu 3 hỏng", actor="hung", now=later)
    assert sync(ward, district).complete
    now = T0 + timedelta(days=10)
    with ward.tx() as s:
        [own] = reporting.compliance_reports(s, find_station(s, "thu"), None, PeriodKind.MONTH, now=now)
    march = next(r for r in own.rows if r.active_from.month == 3)
    with district.app.tx() as s:
        users.add_user(s, "tra", "inspector", "Lê Thị Tra", actor="test", now=now)
    with district.app.tx() as s:
        table = district_intake.compliance_table(s, actor="tra", now=now)
    cells = {(c.station_code, c.campaign_code): c for c in table}
    assert set(cells) == {("thu", "ma-tuy-2026"), ("hai", "ma-tuy-2026")}
    assert cells[("thu", "ma-tuy-2026")].row == march
    assert march.airings == 22 and march.missed == 1 and march.minutes == 22.0
    hai = cells[("hai", "ma-tuy-2026")].row
    assert hai is not None and hai.airings == 0
