"""What the CLI refuses at the door and how a bulletin leaves the plan, as an operator meets it (issue 10).

Empty and emoji-only files on `bulletin add` / `edit`; a campaign whose period ended cannot be queued;
unknown `log list` / `bulletin list` filter values are errors listing the valid ones; `bulletin retire`
says how many airings it took out and who had queued them, and `schedule show` no longer lists them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

BIN = str(Path(sys.executable).with_name("broadcaster"))


def _station_toml(today: date) -> str:
    ended = (today - timedelta(days=30), today - timedelta(days=1))
    return f"""
[station]
code = "thu"
name = "Đài thử"
timezone = "Asia/Ho_Chi_Minh"
ident = "Đài thử."
allowed_hours = ["05:00-07:30", "16:30-19:00"]

[[session]]
code = "sang"
name = "Buổi sáng"
weekdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
start = "06:00"
max_minutes = 15

[[campaign]]
code = "ve-sinh"
title = "Vệ sinh môi trường"
plan_ref = "Kế hoạch thử"
period_start = {today - timedelta(days=30)}
period_end = {today + timedelta(days=365)}
topics = ["Vệ sinh"]

[[campaign]]
code = "da-xong"
title = "Chiến dịch đã kết thúc"
plan_ref = "Kế hoạch thử"
period_start = {ended[0]}
period_end = {ended[1]}
topics = ["Cũ"]

[[user]]
name = "lan"
full_name = "Nguyễn Thị Lan"
role = "officer"

[[user]]
name = "khoi"
full_name = "Vũ Văn Khôi"
role = "leader"

[[user]]
name = "hung"
full_name = "Phạm Văn Hùng"
role = "operator"

[[user]]
name = "mai"
full_name = "Lê Thị Mai"
role = "operator"

[[bulletin]]
key = "ve-sinh-1"
campaign = "ve-sinh"
title = "Tổng vệ sinh"
agency = "Ủy ban nhân dân phường"
approved_by = "khoi"
text = "Bà con chú ý giữ gìn vệ sinh."

[[bulletin]]
key = "cu-1"
campaign = "da-xong"
title = "Tin cũ"
agency = "Ủy ban nhân dân phường"
approved_by = "khoi"
text = "Tin của chiến dịch đã kết thúc."
"""


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The console script with offline speech and a short programme frame."""
    env = {**os.environ, "BROADCASTER_SPEECH_ENGINES": "espeak", "BROADCASTER_PROGRAMME_USE_SIGNATURE": "0"}
    return subprocess.run([BIN, *args], capture_output=True, text=True, env=env, timeout=120, check=False)


def ok(*args: str) -> str:
    done = run(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def refused(*args: str) -> str:
    """The one error line of a refused command."""
    done = run(*args)
    assert done.returncode == 1, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi: "), done.stderr
    return lines[0]


@pytest.fixture
def station(clean_env: Path) -> date:
    """The station imported; returns a local date a week ahead (its session is in the future)."""
    clean_env.mkdir(parents=True)
    today = date.today()
    toml = clean_env / "thu.toml"
    toml.write_text(_station_toml(today), encoding="utf-8")
    ok("init")
    ok("schedule", "import", str(toml))
    return today + timedelta(days=7)


def test_empty_and_emoji_only_files_are_refused_on_add_and_edit(station: date, tmp_path: Path) -> None:
    empty, emoji = tmp_path / "trong.txt", tmp_path / "bieu-tuong.txt"
    empty.write_text("", encoding="utf-8")
    emoji.write_text("🎉🎉🎉 !!!\n", encoding="utf-8")
    add = ("bulletin", "add", "--campaign", "ve-sinh", "--title", "Tin", "--as", "lan", "--file")
    assert "trống" in refused(*add, str(empty))
    assert "không có chữ nào để đọc" in refused(*add, str(emoji))
    assert "trống" in refused("bulletin", "edit", "1", "--file", str(empty), "--as", "lan")
    assert "không có chữ nào để đọc" in refused("bulletin", "edit", "1", "--file", str(emoji), "--as", "lan")
    listed = json.loads(ok("bulletin", "list", "--json"))
    assert [b["revision"] for b in listed] == [1, 1]  # nothing was stored


def test_a_bulletin_of_an_ended_campaign_is_not_queued(station: date) -> None:
    line = refused("schedule", "queue", "2", "--session", station.isoformat(), "06:00", "--as", "hung")
    assert "Chiến dịch da-xong đã kết thúc ngày" in line and f"{station:%d/%m/%Y}" in line


def test_unknown_filter_values_are_errors_that_list_the_valid_ones(station: date) -> None:
    line = refused("log", "list", "--campaign", "nope")
    assert "'nope'" in line and "da-xong, ve-sinh" in line
    line = refused("log", "export", "--campaign", "nope")
    assert "'nope'" in line
    line = refused("log", "list", "--outcome", "xong")
    assert "'xong'" in line and "completed" in line and "missed" in line
    line = refused("bulletin", "list", "--campaign", "nope")
    assert "'nope'" in line and "ve-sinh" in line
    assert "0 dòng" in ok("log", "list", "--campaign", "ve-sinh", "--outcome", "completed")


def test_retire_takes_the_airings_out_and_names_who_queued_them(station: date) -> None:
    days = [station, station + timedelta(days=1)]
    ok("schedule", "queue", "1", "--session", days[0].isoformat(), "06:00", "--as", "hung")
    ok("schedule", "queue", "1", "--session", days[1].isoformat(), "06:00", "--as", "mai")
    said = ok("bulletin", "retire", "1", "--as", "khoi")
    assert "Đã ngừng phát bản tin 1." in said
    assert "Đã gỡ 2 lượt phát sắp tới khỏi lịch" in said and "người xếp: hung, mai" in said
    assert f"{days[0]:%d/%m} 06:00" in said
    for day in days:
        shown = json.loads(ok("schedule", "show", "--day", day.isoformat(), "--json"))
        assert [i for s in shown["sessions"] for i in s["items"]] == []


def test_edit_withdraws_unless_a_leader_keeps_the_airings(station: date, tmp_path: Path) -> None:
    new_text = tmp_path / "moi.txt"
    new_text.write_text("Bà con chú ý giữ gìn vệ sinh chung.", encoding="utf-8")
    day = station.isoformat()
    ok("schedule", "queue", "1", "--session", day, "06:00", "--as", "hung")
    line = refused("bulletin", "edit", "1", "--file", str(new_text), "--keep-airings", "--as", "lan")
    assert "lan" in line
    kept = ok("bulletin", "edit", "1", "--file", str(new_text), "--keep-airings", "--as", "khoi")
    assert "Giữ 1 lượt phát sắp tới" in kept
    shown = json.loads(ok("schedule", "show", "--day", day, "--json"))
    assert [i["revision"] for s in shown["sessions"] for i in s["items"]] == [1]  # the approved words
    new_text.write_text("Bà con chú ý giữ gìn vệ sinh chung, sạch đẹp.", encoding="utf-8")
    edited = ok("bulletin", "edit", "1", "--file", str(new_text), "--as", "lan")
    assert "Đã gỡ 1 lượt phát sắp tới khỏi lịch" in edited and "người xếp: hung" in edited
    shown = json.loads(ok("schedule", "show", "--day", day, "--json"))
    assert [i for s in shown["sessions"] for i in s["items"]] == []
