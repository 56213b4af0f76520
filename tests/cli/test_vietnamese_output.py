"""Every word the station reads is Vietnamese: the README's tour of the commands prints no English term.

The walk runs each command of the tour in this process, through the CLI's error boundary, on a home
with the seed plan (and its campaigns moved to run today, so that queueing, filling and the reports
have something to say), an as-run log with every outcome, trigger and priority, and a short WAV.
Output a person reads (stdout and stderr, except `--json` stdout) must hold none of the domain's
English terms; `--json` output keeps the codes. `broadcaster demo` is checked in tests/test_demo.py.
"""

from __future__ import annotations

import importlib
import inspect
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from english_terms import english_terms
from google_fake import FakeGoogle
from seedpaths import SEED

from broadcaster import airlog
from broadcaster.app import build_app
from broadcaster.cli import click_vi
from broadcaster.cli.main import main
from broadcaster.config import load_config
from broadcaster.domain import AsRunEntry, Outcome, Priority, Trigger
from broadcaster.services.stations import find_station

ZONE = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass
class Walk:
    """Runs commands in this process and keeps what each printed for a person to read."""

    capsys: pytest.CaptureFixture[str]
    monkeypatch: pytest.MonkeyPatch
    paths: list[str]
    seen: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, *args: str, stdin: str | None = None, code: int = 0) -> str:
        """Run `broadcaster ARGS`, expect exit `code`, return stdout."""
        self.capsys.readouterr()
        if stdin is not None:
            self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        try:
            main(list(args))
            got = 0
        except SystemExit as exc:
            got = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        assert got == code, f"broadcaster {' '.join(args)} → {got}\n{out}\n{err}"
        assert "Traceback" not in err
        readable = err if "--json" in args else out + err
        self.seen.append((" ".join(args), readable))
        return out

    def english(self) -> list[str]:
        """Each output line that holds an English term, as "broadcaster CMD: [terms] line"."""
        found = []
        for cmd, text in self.seen:
            for line in text.splitlines():
                if terms := english_terms(line, self.paths):
                    found.append(f"broadcaster {cmd}: {terms} {line.strip()}")
        return found


@pytest.fixture
def walk(
    clean_env: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fake_google: FakeGoogle,
) -> Iterator[Walk]:
    """A home for the tour: gTTS answered by the fake Google (short clips), the file sink, no tune."""
    monkeypatch.setenv("BROADCASTER_SPEECH_ENGINES", "gtts,espeak")
    monkeypatch.setenv("BROADCASTER_SPEECH_RETRIES", "0")
    monkeypatch.setenv("BROADCASTER_PLAYOUT_PLAYER", "file")
    monkeypatch.setenv("BROADCASTER_PROGRAMME_USE_SIGNATURE", "0")
    yield Walk(capsys, monkeypatch, [str(tmp_path), str(clean_env)])


def current_seed(folder: Path, today: date) -> Path:
    """The seed plan with every campaign running from 60 days ago to 300 days ahead."""
    text = SEED.read_text(encoding="utf-8")
    assert text.count("period_start = 2023-03-16") == 4 and text.count("period_end = 2023-12-31") == 4
    text = text.replace("period_start = 2023-03-16", f"period_start = {today - timedelta(days=60)}")
    text = text.replace("period_end = 2023-12-31", f"period_end = {today + timedelta(days=300)}")
    # play-now runs at whatever hour the suite does: the whole day is allowed in this copy.
    assert text.count('allowed_hours = ["05:00-07:30", "16:30-19:00"]') == 1
    text = text.replace('allowed_hours = ["05:00-07:30", "16:30-19:00"]', 'allowed_hours = ["00:00-24:00"]')
    path = folder / "phu-thu-hien-tai.toml"
    path.write_text(text, encoding="utf-8")
    return path


def store_log(today: date) -> None:
    """As-run rows of bulletin 1 over the last days: every outcome, every trigger, every priority."""
    app = build_app(load_config())
    rows = [
        (Outcome.COMPLETED, Trigger.SCHEDULE, Priority.NORMAL, "sang", 60),
        (Outcome.INTERRUPTED, Trigger.EMERGENCY, Priority.EMERGENCY, "emergency", 20),
        (Outcome.FAILED, Trigger.SCHEDULE, Priority.NORMAL, "chieu", 0),
        (Outcome.MISSED, Trigger.SCHEDULE, Priority.PRIORITY, "sang", 0),
        (Outcome.SKIPPED, Trigger.MANUAL, Priority.PRIORITY, "manual", 0),
        (Outcome.COMPLETED, Trigger.MANUAL, Priority.PRIORITY, "manual", 60),
    ]
    try:
        with app.tx() as s:
            station = find_station(s, "phu-thu")
            for n, (outcome, trigger, priority, session, played) in enumerate(rows):
                planned = datetime.combine(today - timedelta(days=len(rows) - n), time(6), ZONE)
                started = outcome in (Outcome.COMPLETED, Outcome.INTERRUPTED)
                entry = AsRunEntry(
                    outcome,
                    trigger,
                    planned_start=planned,
                    actual_start=planned if started else None,
                    actual_end=planned + timedelta(seconds=played) if started else None,
                    played_ms=played * 1000,
                    clip_ms=60_000,
                    priority=priority,
                    session_code=session,
                    bulletin_id=1,
                    revision_number=1,
                    campaign_code="mai-dam-2023",
                    title="Phường Phú Thứ triển khai Kế hoạch phòng, chống mại dâm năm 2023",
                    queued_by="hung",
                    approved_by="khoi",
                )
                airlog.append(s, station.id, entry, recorded_by="daemon", now=planned)
    finally:
        app.engine.dispose()


def tone(path: Path) -> Path:
    """One second of a 440 Hz tone as WAV, made by ffmpeg."""
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-y", str(path)],
        check=True,
    )
    return path


def test_the_checker_finds_terms_but_not_command_lines_or_files() -> None:
    assert english_terms("Kết quả: completed, 2 Bulletins") == ["Bulletins", "completed"]
    assert english_terms("Đã nhập phu-thu-2023.toml: thêm 12 bulletin, 4 campaign.") == [
        "bulletin",
        "campaign",
    ]
    quoted = "Lỗi: thiếu --to — xem 'broadcaster schedule plan --help'; gửi: broadcaster bulletin submit 13"
    assert english_terms(quoted) == []
    # a command line hides command words only: an English value after it is still found
    assert english_terms("broadcaster log list: completed") == ["completed"]
    assert english_terms("/tmp/x/schedule/nhat-ky.csv", ["/tmp/x/schedule"]) == []
    assert english_terms("BROADCASTER_USER, session_code") == []  # identifiers, not words


@pytest.mark.slow
def test_every_command_of_the_tour_prints_vietnamese(walk: Walk, tmp_path: Path) -> None:
    today = datetime.now(ZONE).date()
    walk("init")
    walk("user", "add", "tuan", "--role", "admin", "--full-name", "Trần Văn Tuấn")  # the first user
    walk("schedule", "import", str(SEED))
    walk("schedule", "import", str(SEED))  # nothing changes
    walk("schedule", "import", str(current_seed(tmp_path, today)))  # the campaigns move to today
    walk("user", "add", "mai", "--role", "operator", "--full-name", "Lê Thị Mai", "--as", "tuan")
    walk("user", "list")
    walk("user", "add", "nam", "--role", "officer", "--as", "lan", code=1)  # only an admin adds users
    walk("speech", "normalize", "Kế hoạch số 61/KH-UBND ngày 03/03/2023")
    walk("speech", "normalize", "--explain", "Kế hoạch số 61/KH-UBND ngày 03/03/2023, họp lúc 19h30.")

    text = "Tối 20/3, UBND phường họp lúc 19h30 tại nhà văn hóa."
    add = ("bulletin", "add", "--file", "-", "--as", "lan")
    bid = (
        walk(*add, "--campaign", "mai-dam-2023", "--title", "Họp dân phố", stdin=text)
        .split("số ")[1]
        .split(" ")[0]
    )
    walk("bulletin", "list")
    walk("bulletin", "list", "--status", "draft")
    walk("bulletin", "submit", bid, "--as", "lan")
    walk("bulletin", "show", bid)
    walk("bulletin", "approve", bid, "--yes", "--as", "lan", code=1)  # an officer may not approve
    walk("bulletin", "approve", bid, "--yes", "--as", "khoi")
    walk("bulletin", "show", bid)
    walk("speech", "render", "--bulletin", bid, "-o", str(tmp_path / "nghe-thu.mp3"))
    other = walk(*add, "--campaign", "ma-tuy-2023", "--title", "Tin chưa đạt", stdin="Nội dung cần sửa.")
    other = other.split("số ")[1].split(" ")[0]
    walk("bulletin", "submit", other, "--as", "lan")
    walk("bulletin", "reject", other, "--reason", "Thiếu nguồn tin.", "--as", "khoi")
    walk("bulletin", "show", other)
    walk("bulletin", "retire", other, "--as", "khoi")
    walk("bulletin", "show", "999", code=1)

    # The seed's long bulletins step aside: queueing and filling then render only the new, short one.
    approved = json.loads(walk("bulletin", "list", "--status", "approved", "--json"))
    for row in approved:
        if str(row["id"]) != bid:
            walk("bulletin", "retire", str(row["id"]), "--as", "khoi")

    week = [today.isoformat(), (today + timedelta(days=6)).isoformat()]
    empty = json.loads(walk("schedule", "plan", "--from", week[0], "--to", week[1], "--json"))
    soon = datetime.now(ZONE) + timedelta(minutes=5)
    first, second, third = [
        t for t in (datetime.fromisoformat(s["start"]) for s in empty["sessions"]) if t > soon
    ][:3]
    walk("schedule", "queue", bid, "--next", "--as", "hung")
    at = ("--session", f"{second:%Y-%m-%d}", f"{second:%H:%M}")
    walk("schedule", "queue", bid, *at, "--priority", "priority", "--as", "hung")
    walk("play-now", bid, "--as", "hung")
    walk("play-now", bid, "--emergency", "--as", "hung")
    plan = json.loads(walk("schedule", "plan", "--from", week[0], "--to", week[1], "--json"))
    items = [(s, i) for s in plan["sessions"] for i in s["items"]]
    assert {i["priority"] for _, i in items} == {"normal", "priority", "emergency"}  # codes in JSON
    assert {s["session"] for s, _ in items} >= {"manual", "emergency"}
    walk("schedule", "show", "--day", first.date().isoformat())
    walk("schedule", "plan", "--from", week[0], "--to", week[1])
    airing = next(i["airing_id"] for s, i in items if datetime.fromisoformat(s["start"]) == first)
    walk("schedule", "move", str(airing), "--session", f"{third:%Y-%m-%d}", f"{third:%H:%M}", "--as", "hung")
    walk("schedule", "fill", "--from", week[0], "--to", week[1], "--as", "hung")
    walk("schedule", "plan", "--from", week[0], code=1)  # a usage error names the option

    store_log(today)
    listed = json.loads(walk("log", "list", "--json"))
    assert {r["outcome"] for r in listed} == {o.value for o in Outcome}  # codes in JSON
    missed = next(r["id"] for r in listed if r["outcome"] == "missed")
    walk("log", "list")
    walk("log", "list", "--outcome", "missed")
    walk("log", "correct", str(missed), "--outcome", "completed", "--reason", "Đã phát bù.", "--as", "hung")
    walk("log", "verify")
    walk("log", "export")
    walk("log", "export", "--format", "csv", "-o", str(tmp_path / "nhat-ky.csv"))
    walk("bulletin", "show", "1")
    walk("report", "--campaign", "mai-dam-2023", "--period", "week")
    walk("report")
    walk("report", "--due")
    walk("report", "--format", "csv")
    walk("report", "--format", "docx", "-o", str(tmp_path / "bao-cao.docx"))
    walk("report", "log", "--week", today.isoformat(), "-o", str(tmp_path / "nhat-ky.pdf"))

    wav = tone(tmp_path / "tieng-beep.wav")
    walk("audio", "measure", str(wav))
    walk("audio", "normalize", str(wav), str(tmp_path / "chuan.mp3"))

    assert len(walk.seen) > 45
    english = walk.english()
    assert not english, "\n".join(english)


def test_usage_errors_and_help_headings_are_vietnamese(walk: Walk) -> None:
    missing = walk("schedule", "plan", "--from", "2023-03-01", code=1)
    err = walk.seen[-1][1]
    assert missing == "" and err.startswith(
        "Lỗi: Thiếu tùy chọn '--to'. — xem 'broadcaster schedule plan --help'"
    )
    walk("bulletin", "show", "abc", code=1)
    assert "'abc' không phải là số hợp lệ" in walk.seen[-1][1]
    walk("schedule", "nope", code=1)
    assert "Không có lệnh 'nope'" in walk.seen[-1][1]
    walk("report", "--campaing", "x", code=1)
    assert (
        "Không có tùy chọn --campaing" in walk.seen[-1][1]
        and "Có phải ý bạn là --campaign?" in walk.seen[-1][1]
    )
    walk("schedule", "queue", "1", "--session", "2023-03-20", code=1)
    assert "Tùy chọn '--session' cần 2 giá trị." in walk.seen[-1][1]
    helped = walk("schedule", "--help")
    assert (
        helped.startswith("Cách dùng: broadcaster schedule") and "Tùy chọn:" in helped and "Lệnh:" in helped
    )
    assert "Hiện trợ giúp này rồi thoát." in helped
    assert english_terms("\n".join(text for _, text in walk.seen)) == []


def test_every_translated_click_message_is_still_one_of_clicks() -> None:
    sources = "".join(inspect.getsource(importlib.import_module(name)) for name in click_vi.MODULES)
    quoted = {key: (json.dumps(key), repr(key)) for key in click_vi.CATALOG}  # "…" or '…' in the source
    stale = [key for key, forms in quoted.items() if not any(form in sources for form in forms)]
    assert stale == [], f"click no longer prints these; update broadcaster/cli/click_vi.py: {stale}"
