"""`speech normalize/render` and the audio side of `bulletin add/approve/show`, as the officer meets them."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from google_fake import FakeGoogle
from sqlalchemy import func, select

import broadcaster.cli.common
from broadcaster import airlog
from broadcaster.app import App, build_app
from broadcaster.audio.ffmpeg import probe
from broadcaster.audio.loudness import measure
from broadcaster.cli.main import main
from broadcaster.config import load_config
from broadcaster.domain import AsRunEntry, BulletinStatus, Outcome, Trigger
from broadcaster.services import bulletins
from broadcaster.services.stations import find_station
from broadcaster.store.models import BulletinRow, RenderRow

BIN = str(Path(sys.executable).with_name("broadcaster"))
DOC = "Thực hiện Kế hoạch số 61/KH-UBND ngày 03/03/2023, phường tuyên truyền lúc 17h30."


def run(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the installed console script with the test's environment (offline voice unless overridden)."""
    full_env = {**os.environ, "BROADCASTER_SPEECH_ENGINES": "espeak", **(env or {})}
    return subprocess.run(
        [BIN, *args], input=stdin, capture_output=True, text=True, env=full_env, timeout=120, check=False
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Lỗi"), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Run `broadcaster ARGS` in this process through its error boundary: (exit code, stdout, stderr)."""
    monkeypatch.setenv("BROADCASTER_SPEECH_ENGINES", "espeak")  # tests using gapp switch to gTTS first

    def invoke(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
        capsys.readouterr()
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    return invoke


def one_line_error(result: tuple[int, str, str], *needles: str) -> str:
    """Assert exit code 1 and exactly one 'Lỗi' line on stderr containing every needle; return it."""
    code, _, err = result
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and lines[0].startswith("Lỗi"), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_console_script_normalizes_stdin_and_reports_one_line_errors() -> None:
    result = run("speech", "normalize", "-", stdin=DOC)
    assert result.returncode == 0, result.stderr
    assert "sáu mươi mốt" in result.stdout and "mười bảy giờ ba mươi" in result.stdout
    assert "61" not in result.stdout
    assert_one_line_error(run("speech", "normalize", "   "), "trống")


def test_normalize_explain_shows_each_rewrite_and_rule(cli: Cli) -> None:
    code, plain, _ = cli("speech", "normalize", DOC)
    assert code == 0 and plain == cli("speech", "normalize", "-", stdin=DOC)[1]
    code, table, err = cli("speech", "normalize", "--explain", DOC)
    assert code == 0, err
    lines = table.splitlines()
    assert lines[0].split() == ["Viết", "Đọc", "Quy", "tắc"]
    row = next(line for line in lines if line.startswith("17h30"))
    assert "mười bảy giờ ba mươi phút" in row and row.split()[-1] == "giờ"  # the rule "time", labelled
    assert any("61/KH-UBND" in line and line.endswith("số hiệu văn bản") for line in lines)
    assert lines[-1] == plain.strip()
    data = json.loads(cli("speech", "normalize", "--json", DOC)[1])
    assert data["spoken"] == plain.strip()
    assert {"original": "17h30", "spoken": "mười bảy giờ ba mươi phút", "rule": "time"} in data["rewrites"]
    assert data["normalizer_version"]


def test_bad_text_is_a_one_line_error(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    one_line_error(cli("speech", "normalize", "   "), "trống")
    one_line_error(cli("speech", "normalize", "Chuông\x07 báo"), "U+0007", "dòng 1")
    out = tmp_path / "x.mp3"
    one_line_error(cli("speech", "render", "--text", " \n ", "-o", str(out)), "trống")
    monkeypatch.setenv("BROADCASTER_SPEECH_MAX_CHARS", "20")
    one_line_error(cli("speech", "normalize", "-", stdin="Xin chào. " * 5), "20 ký tự")
    one_line_error(cli("speech", "render", "--text", "Xin chào. " * 5, "-o", str(out)), "20 ký tự")
    assert not out.exists()


def test_malformed_lexicon_line_is_named(cli: Cli, clean_env: Path) -> None:
    clean_env.mkdir(parents=True)
    (clean_env / "lexicon.csv").write_text("UBND,ủy ban nhân dân\nHĐND\n", encoding="utf-8")
    one_line_error(cli("speech", "normalize", "UBND phường"), "lexicon.csv", "dòng 2")


def test_render_text_writes_a_normalised_file_atomically(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "nghe thu" / "ban-tin.mp3"
    code, text, err = cli("speech", "render", "--text", "Xin chào bà con khu phố ba.", "-o", str(out))
    assert code == 0, err
    assert str(out) in text and "giọng espeak" in text
    info = probe(out)
    assert info.codec == "mp3" and info.sample_rate == 44100
    assert abs(measure(out).integrated_lufs - (-16.0)) < 1.0
    assert sorted(p.name for p in out.parent.iterdir()) == ["ban-tin.mp3"]  # no temp file left beside it
    one_line_error(cli("speech", "render", "--text", "Xin chào.", "-o", str(tmp_path / "a.wav")), ".mp3")
    one_line_error(cli("speech", "render", "--text", "Xin chào."), "-o")
    one_line_error(cli("speech", "render", "-o", str(out)), "--text", "--bulletin")


def offline_tools(tmp_path: Path) -> Path:
    """A PATH holding ffmpeg and ffprobe but no espeak-ng."""
    tools = tmp_path / "bin"
    tools.mkdir(exist_ok=True)
    for tool in ("ffmpeg", "ffprobe"):
        if not (tools / tool).exists():
            (tools / tool).symlink_to(str(shutil.which(tool)))
    return tools


def test_unknown_engine_and_missing_espeak_are_one_line(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "x.mp3"
    monkeypatch.setenv("BROADCASTER_SPEECH_ENGINES", "espek")
    one_line_error(cli("speech", "render", "--text", "Xin chào.", "-o", str(out)), "espek", "espeak")
    monkeypatch.setenv("BROADCASTER_SPEECH_ENGINES", "espeak")
    monkeypatch.setenv("PATH", str(offline_tools(tmp_path)))
    one_line_error(
        cli("speech", "render", "--text", "Xin chào.", "-o", str(out)), "espeak-ng", "apt-get install"
    )
    assert not out.exists()


def test_bad_recording_is_refused_and_nothing_is_stored(seeded: App, cli: Cli, tmp_path: Path) -> None:
    before = cli("bulletin", "list", "--json")[1]
    bad = tmp_path / "loi-nhan.m4a"
    bad.write_bytes(b"\x00\x00\x00\x18ftypM4A " + b"\x00" * 300)
    add = ("bulletin", "add", "--campaign", "mai-dam-2023", "--title", "Ghi âm", "--as", "lan", "--audio")
    one_line_error(cli(*add, str(bad)), "loi-nhan.m4a")
    one_line_error(cli(*add, str(tmp_path / "khong-co.mp3")), "khong-co.mp3")
    assert cli("bulletin", "list", "--json")[1] == before
    recordings = seeded.config.media_dir / "recordings"
    assert not recordings.exists() or not [p for p in recordings.rglob("*") if p.is_file()]


# --- in process, so gTTS's own HTTP goes to the interceptor ------------------------------------------


@pytest.fixture
def gapp(seeded: App, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    """The seed station, its long approved bulletins retired, with the real chain gTTS → espeak-ng."""
    with seeded.tx() as s:
        station = find_station(s, None)
        for row in bulletins.list_bulletins(s, station.id, status=BulletinStatus.APPROVED.value):
            bulletins.retire(s, row.id, actor="khoi", now=seeded.clock.now())
    monkeypatch.setenv("BROADCASTER_SPEECH_ENGINES", "gtts,espeak")
    monkeypatch.setenv("BROADCASTER_SPEECH_RETRIES", "0")
    application = build_app(load_config())
    # The CLI builds its App through common.build_app: hand it this one, whose HTTP is intercepted.
    monkeypatch.setattr(broadcaster.cli.common, "build_app", lambda config, clock=None: application)
    yield application
    application.engine.dispose()


def _written(app: App, text: str = "Phường thông báo lịch tiêm vắc-xin sởi vào sáng thứ bảy.") -> int:
    """An officer writes and submits a short bulletin; returns its id."""
    with app.tx() as s:
        row = bulletins.add(
            s,
            station_id=find_station(s, None).id,
            campaign_code="mai-dam-2023",
            title="Tin ngắn",
            agency="Trạm y tế",
            text=text,
            actor="lan",
            now=app.clock.now(),
            speak=app.speak,
        )
        bulletins.submit(s, row.id, actor="lan", now=app.clock.now())
        return row.id


def engines_of(app: App, bulletin_id: int) -> list[str]:
    with app.tx() as s:
        rev = bulletins.latest_revision(bulletins.get(s, bulletin_id))
        return list(
            s.scalars(select(RenderRow.engine).where(RenderRow.revision_id == rev.id).order_by(RenderRow.id))
        )


def test_approve_renders_with_gtts(gapp: App, fake_google: FakeGoogle, cli: Cli) -> None:
    bid = _written(gapp)
    code, out, err = cli("bulletin", "approve", str(bid), "--yes", "--as", "khoi")
    assert code == 0, err
    assert "Đã duyệt" in out and "giọng gtts" in out and "dự phòng" not in out
    assert engines_of(gapp, bid) == ["gtts"] and fake_google.served
    with gapp.tx() as s:
        entry = AsRunEntry(
            Outcome.COMPLETED, Trigger.MANUAL, actual_start=gapp.clock.now(), played_ms=9_000, bulletin_id=bid
        )
        airlog.append(s, find_station(s, None).id, entry, recorded_by="hung", now=gapp.clock.now())
    code, out, _ = cli("bulletin", "show", str(bid))
    assert code == 0 and "gtts" in out and "nguyên vẹn" in out and "dự phòng" not in out
    assert "Các lần phát gần đây (1)" in out and "đã phát xong" in out and "completed" not in out
    calls = len(fake_google.calls)
    code, out, _ = cli("speech", "render")
    assert code == 0 and "đều đã có âm thanh" in out and len(fake_google.calls) == calls


def test_fallback_voice_is_reported_then_upgraded(gapp: App, fake_google: FakeGoogle, cli: Cli) -> None:
    bid = _written(gapp)
    fake_google.fail_always(429)
    code, out, err = cli("bulletin", "approve", str(bid), "--yes", "--as", "khoi")
    assert code == 0, err
    assert "giọng dự phòng espeak" in out and "speech render --upgrade" in out
    assert engines_of(gapp, bid) == ["espeak"]
    code, out, _ = cli("bulletin", "show", str(bid))
    assert "giọng dự phòng espeak" in out
    show = json.loads(cli("bulletin", "show", str(bid), "--json")[1])
    assert show["on_fallback_voice"] is True and show["renders"][0]["engine"] == "espeak"
    assert show["renders"][0]["sha256"] and show["renders"][0]["integrated_lufs"] < -15
    code, out, _ = cli("speech", "render", "--upgrade")  # Google still refuses
    assert code == 0 and "Đã chuyển 0 bản tin sang giọng gtts; còn 1 bản dùng giọng dự phòng." in out
    fake_google.fail_always(None)
    code, out, _ = cli("speech", "render", "--upgrade")
    assert code == 0 and "Đã chuyển 1 bản tin sang giọng gtts; còn 0 bản dùng giọng dự phòng." in out
    assert engines_of(gapp, bid) == ["espeak", "gtts"]
    assert json.loads(cli("bulletin", "show", str(bid), "--json")[1])["on_fallback_voice"] is False


def test_failed_render_keeps_the_approval(
    gapp: App, fake_google: FakeGoogle, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = _written(gapp), _written(gapp, "Mời bà con đi tiêm phòng dại cho chó mèo.")
    fake_google.fail_always(429)
    path = os.environ["PATH"]
    monkeypatch.setenv("PATH", str(offline_tools(tmp_path)))  # no espeak-ng either: no voice at all
    for bid in (first, second):
        code, out, err = cli("bulletin", "approve", str(bid), "--yes", "--as", "khoi")
        assert code == 0, err
        assert "Chưa tạo được âm thanh" in out and "broadcaster speech render" in out
    with gapp.tx() as s:
        assert s.scalar(select(func.count()).select_from(RenderRow)) == 0
        assert {
            b.status for b in s.scalars(select(BulletinRow).where(BulletinRow.id.in_([first, second])))
        } == {"approved"}
    code, out, err = cli("speech", "render")
    assert code == 1 and "2 bản tin chưa tạo được âm thanh" in err and len(err.strip().splitlines()) == 1
    monkeypatch.setenv("PATH", path)
    code, out, err = cli("speech", "render")  # a batch: offline voice, with a progress bar
    assert code == 0, err
    assert "Đã tạo âm thanh cho 2 bản tin còn thiếu." in out and "2 bản tin (số" in out
    assert engines_of(gapp, first) == engines_of(gapp, second) == ["espeak"]


def test_preview_of_an_unapproved_bulletin(
    gapp: App, fake_google: FakeGoogle, cli: Cli, tmp_path: Path
) -> None:
    bid = _written(gapp)
    out_file = tmp_path / "nghe-thu.mp3"
    code, out, err = cli("speech", "render", "--bulletin", str(bid), "-o", str(out_file))
    assert code == 0, err
    assert "giọng gtts" in out and probe(out_file).codec == "mp3"
    with gapp.tx() as s:
        assert bulletins.get(s, bid).status == BulletinStatus.SUBMITTED
    calls = len(fake_google.calls)
    code, out, _ = cli("bulletin", "approve", str(bid), "--yes", "--as", "khoi")
    assert code == 0 and len(fake_google.calls) == calls  # what was previewed is what airs
