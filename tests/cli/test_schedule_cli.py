"""`broadcaster schedule` show/move/plan/fill and `play-now` as an operator runs them (console script)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

BIN = str(Path(sys.executable).with_name("broadcaster"))

STATION_TOML = """
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
period_start = 2026-01-01
period_end = 2030-12-31
topics = ["Vệ sinh"]

[campaign.target]
min_airings_per_week = 3

[[campaign]]
code = "tiem-chung"
title = "Tiêm chủng"
plan_ref = "Kế hoạch thử"
period_start = 2026-01-01
period_end = 2030-12-31
topics = ["Tiêm chủng"]

[campaign.target]
min_airings_per_week = 9

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

[[bulletin]]
key = "ve-sinh-1"
campaign = "ve-sinh"
title = "Tổng vệ sinh"
agency = "Ủy ban nhân dân phường"
approved_by = "khoi"
text = "Bà con chú ý giữ gìn vệ sinh."

[[bulletin]]
key = "ve-sinh-2"
campaign = "ve-sinh"
title = "Thu gom rác"
agency = "Ủy ban nhân dân phường"
approved_by = "khoi"
text = "Xe thu gom rác đi qua lúc năm giờ chiều."

[[bulletin]]
key = "tiem-chung-1"
campaign = "tiem-chung"
title = "Lịch tiêm chủng"
agency = "Trạm y tế phường"
approved_by = "khoi"
text = "Trạm y tế phường thông báo lịch tiêm chủng."
"""


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """The console script with offline speech and a short programme frame."""
    env = {
        **os.environ,
        "BROADCASTER_SPEECH_ENGINES": "espeak",
        "BROADCASTER_PROGRAMME_USE_SIGNATURE": "0",
        "BROADCASTER_PROGRAMME_CLOSING": "Hết.",
    }
    return subprocess.run([BIN, *args], capture_output=True, text=True, env=env, timeout=120, check=False)


def ok(*args: str) -> str:
    done = run(*args)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def station(clean_env: Path) -> date:
    """The station imported; returns next week's Monday (local dates, all ahead)."""
    clean_env.mkdir(parents=True)
    toml = clean_env / "thu.toml"
    toml.write_text(STATION_TOML, encoding="utf-8")
    ok("init")
    ok("schedule", "import", str(toml))
    today = date.today()
    return today + timedelta(days=7 - today.weekday() + 7)


def test_fill_proposes_applies_and_reports_what_cannot_fit(station: date) -> None:
    week = [station.isoformat(), (station + timedelta(days=6)).isoformat()]
    text = ok("schedule", "fill", "--from", week[0], "--to", week[1], "--as", "hung")
    assert "Đề xuất 10 lượt phát" in text and "--apply" in text
    assert "tiem-chung, tuần" in text and "cần 9 lần phát, mới có 7 lần, thiếu 2 lần" in text
    plan = json.loads(ok("schedule", "plan", "--from", week[0], "--to", week[1], "--json"))
    assert all(s["items"] == [] for s in plan["sessions"])  # proposing changes nothing

    applied = json.loads(
        ok("schedule", "fill", "--from", week[0], "--to", week[1], "--apply", "--json", "--as", "hung")
    )
    assert applied["applied"] and len(applied["queued"]) == len(applied["proposals"]) == 10
    assert [f["missing"] for f in applied["shortfalls"]] == [2]
    plan = json.loads(ok("schedule", "plan", "--from", week[0], "--to", week[1], "--json"))
    items = [i for s in plan["sessions"] for i in s["items"]]
    assert len(items) == 10 and all(i["duration_s"] > 1 for i in items)
    per_campaign = {c: sum(1 for i in items if i["campaign"] == c) for c in ("ve-sinh", "tiem-chung")}
    assert per_campaign == {"ve-sinh": 3, "tiem-chung": 7}
    # rotation: the campaign's two bulletins alternate rather than one airing three times
    assert {i["bulletin_id"] for i in items if i["campaign"] == "ve-sinh"} == {1, 2}


def test_show_move_and_plan_with_durations(station: date) -> None:
    day = station.isoformat()
    ok("schedule", "queue", "1", "--session", day, "06:00", "--as", "hung")
    ok("schedule", "queue", "3", "--session", day, "06:00", "--as", "hung")
    moved = ok("schedule", "move", "2", "--session", day, "06:00", "--position", "1", "--as", "hung")
    assert "vị trí 1" in moved
    shown = json.loads(ok("schedule", "show", "--day", day, "--json"))
    [session] = shown["sessions"]
    assert [i["bulletin_id"] for i in session["items"]] == [3, 1]
    assert session["max_s"] == 900 and session["over_s"] == 0
    assert session["total_s"] > sum(i["duration_s"] for i in session["items"])  # ident, closing and gaps
    table = ok("schedule", "show", "--day", day)
    assert "Buổi sáng" in table and "/ tối đa 15:00" in table and "Lịch tiêm chủng" in table
    plan = ok("schedule", "plan", "--from", day, "--to", day)
    assert "Thời lượng" in plan and "00:0" in plan


def test_play_now_and_its_refusals(station: date) -> None:
    urgent = ok("play-now", "3", "--emergency", "--as", "hung")
    assert "khẩn cấp" in urgent and "lượt số 1" in urgent
    no_actor = run("schedule", "fill", "--from", station.isoformat(), "--to", station.isoformat())
    assert no_actor.returncode == 1 and len(no_actor.stderr.strip().splitlines()) == 1
    assert no_actor.stderr.startswith("Lỗi")


def test_the_plan_lists_a_sessions_relay_where_it_airs(clean_env: Path) -> None:
    clean_env.mkdir(parents=True)
    toml = clean_env / "thu.toml"
    relay = 'relay = { source = "https://luong.vov.vn/vov1.mp3", minutes = 10, place = "last" }\n'
    relay = "max_minutes = 15\n" + relay
    toml.write_text(STATION_TOML.replace("max_minutes = 15\n", relay, 1), encoding="utf-8")
    ok("init")
    ok("schedule", "import", str(toml))
    day = (date.today() + timedelta(days=3)).isoformat()
    text = ok("schedule", "plan", "--from", day, "--to", day)
    lines = [line for line in text.splitlines() if "Buổi sáng" in line]
    assert len(lines) == 2 and "(trống)" in lines[0] and "06:00" in lines[0]
    assert (
        "06:05" in lines[1] and "Tiếp sóng" in lines[1] and "10:00" in lines[1] and "luong.vov.vn" in lines[1]
    )
    [session] = json.loads(ok("schedule", "plan", "--from", day, "--to", day, "--json"))["sessions"]
    assert session["max_minutes"] == 5 and session["relay"]["minutes"] == 10
    assert session["relay"]["start"].endswith("06:05:00+07:00")
