"""`bulletin voices`, and `bulletin add/edit --voice --speed`: chosen per bulletin, refused in one line."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable

import pytest

from broadcaster.app import App
from broadcaster.cli.main import main
from broadcaster.services import bulletins
from broadcaster.services.stations import find_station

TEXT = "Ủy ban nhân dân phường thông báo lịch tiêm chủng mở rộng cho trẻ em vào sáng thứ bảy tuần này."
ADD = (
    "bulletin",
    "add",
    "--campaign",
    "mai-dam-2023",
    "--title",
    "Tin tiêm chủng",
    "--as",
    "lan",
    "--file",
    "-",
)
Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(seeded: App, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """`broadcaster ARGS` in this process on the seeded station: (exit code, stdout, stderr)."""

    def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        capsys.readouterr()
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin or ""))
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def _count(app: App) -> int:
    with app.tx() as s:
        return len(bulletins.list_bulletins(s, find_station(s, None).id))


def _latest(app: App, bid: int) -> tuple[str, int, str, float]:
    with app.tx() as s:
        row = bulletins.get(s, bid)
        rev = bulletins.latest_revision(row)
        return row.status, rev.number, rev.voice, rev.speed


def test_voices_lists_what_this_pc_has(cli: Cli) -> None:
    code, out, err = cli("bulletin", "voices", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert [v["voice"] for v in data["voices"]] == [
        "espeak:vi",
        "espeak:vi-vn-x-central",
        "espeak:vi-vn-x-south",
    ]
    assert data["default_voice"] == "espeak:vi" and data["default_speed"] == 1.0
    code, table, _ = cli("bulletin", "voices")
    assert code == 0 and "Giọng nam miền Trung (espeak-ng)" in table and "Tốc độ đọc mặc định: 1×" in table


def test_add_with_a_voice_and_speed_then_edit_only_the_voice(cli: Cli, seeded: App) -> None:
    code, out, err = cli(*ADD, "--voice", "espeak:vi-vn-x-south", "--speed", "1,1", stdin=TEXT)
    assert code == 0, err
    assert "Giọng nam miền Nam (espeak-ng), tốc độ 1,1×" in out
    bid = int(out.split("bản tin số ", 1)[1].split()[0])
    assert _latest(seeded, bid) == ("draft", 1, "espeak:vi-vn-x-south", 1.1)
    assert cli("bulletin", "submit", str(bid), "--as", "lan")[0] == 0
    code, out, err = cli("bulletin", "approve", str(bid), "--as", "khoi", "--yes")
    assert code == 0, err
    assert _latest(seeded, bid)[0] == "approved"
    # Only the speed: no editor opens, the text stays, and the leader must approve again.
    code, out, err = cli("bulletin", "edit", str(bid), "--speed", "0.9", "--as", "lan")
    assert code == 0, err
    assert "phiên bản 2" in out and "tốc độ 0,9×" in out and "cần gửi duyệt lại" in out
    assert _latest(seeded, bid) == ("draft", 2, "espeak:vi-vn-x-south", 0.9)
    code, shown, _ = cli("bulletin", "show", str(bid))
    assert code == 0 and "Giọng đọc: Giọng nam miền Nam (espeak-ng), tốc độ 0,9×" in shown
    revisions = json.loads(cli("bulletin", "show", str(bid), "--json")[1])["revisions"]
    readings = [(r["voice"], r["speed"]) for r in revisions]
    assert readings == [("espeak:vi-vn-x-south", 1.1), ("espeak:vi-vn-x-south", 0.9)]


@pytest.mark.parametrize(
    ("option", "value", "needle"),
    [
        ("--speed", "2", "Tốc độ đọc 2× nằm ngoài khoảng cho phép"),
        ("--speed", "nhanh", "không phải là một số"),
        ("--voice", "espeak:vi-vn-x-hue", "Không có giọng đọc «espeak:vi-vn-x-hue»"),
    ],
)
def test_a_bad_voice_or_speed_is_one_line_and_stores_nothing(
    cli: Cli, seeded: App, option: str, value: str, needle: str
) -> None:
    before = _count(seeded)
    code, _, err = cli(*ADD, option, value, stdin=TEXT)
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("Lỗi") and needle in lines[0], err
    assert "Traceback" not in err and _count(seeded) == before


def test_speech_render_previews_a_text_in_a_chosen_voice_and_speed(cli: Cli, seeded: App) -> None:
    out = seeded.config.home / "nghe-thu.mp3"
    code, said, err = cli(
        "speech",
        "render",
        "--text",
        TEXT,
        "--voice",
        "espeak:vi-vn-x-central",
        "--speed",
        "1,2",
        "-o",
        str(out),
    )
    assert code == 0, err
    assert out.is_file() and "giọng espeak" in said and "dự phòng" not in said
    code, _, err = cli("speech", "render", "--bulletin", "1", "--speed", "1,2", "-o", str(out))
    assert code == 1 and "chỉ dùng với --text" in err and len(err.strip().splitlines()) == 1
