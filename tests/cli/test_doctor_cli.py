"""`broadcaster doctor` as a user meets it (exit code, lines, --json), and `broadcaster run` logging it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from doctor_fakes import FakeClock, healthy, path_without
from seedpaths import SEED

from broadcaster.app import App
from broadcaster.cli.main import main
from broadcaster.services.probes import ClockState

BIN = str(Path(sys.executable).with_name("broadcaster"))
CODES = ["ffmpeg", "ffprobe", "espeak-ng", "voice", "google", "fonts", "output"]
CODES += ["database", "asrun", "disk", "daemon", "clock"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed console script, offline engine and file sink, with extra variables."""
    full = {
        **os.environ,
        "BROADCASTER_SPEECH_ENGINES": "espeak",
        "BROADCASTER_PLAYOUT_PLAYER": "file",
        **(env or {}),
    }
    return subprocess.run([BIN, *args], capture_output=True, text=True, env=full, timeout=120, check=False)


def test_a_set_up_station_pc_passes_and_json_has_every_check() -> None:
    assert run("init").returncode == 0
    done = run("doctor", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] is True and report["counts"]["fail"] == 0
    assert [c["code"] for c in report["checks"]] == CODES
    assert {c["status"] for c in report["checks"]} <= {"ok", "warn"}
    assert report["checks"][CODES.index("database")]["status"] == "ok"


def test_a_path_without_ffmpeg_and_espeak_exits_1_with_one_line_per_check(tmp_path: Path) -> None:
    assert run("init").returncode == 0
    env = {"PATH": path_without(tmp_path / "bin", "ffmpeg", "espeak-ng")}
    done = run("doctor", env=env)
    assert done.returncode == 1 and done.stderr == "" and "Traceback" not in done.stdout
    lines = done.stdout.strip().splitlines()
    assert len(lines) == len(CODES) + 1 and lines[-1].startswith("Kết quả: ")
    assert lines[0].startswith("LỖI") and "Chương trình ffmpeg: không tìm thấy trong PATH" in lines[0]
    assert lines[2].startswith("LỖI") and "espeak-ng" in lines[2]
    assert lines[1].startswith("ĐẠT")  # ffprobe is still there
    as_json = run("doctor", "--json", env=env)
    assert as_json.returncode == 1
    status = {c["code"]: c["status"] for c in json.loads(as_json.stdout)["checks"]}
    assert status["ffmpeg"] == status["espeak-ng"] == status["voice"] == "fail"
    assert status["ffprobe"] == "ok" and status["database"] == "ok"


def test_doctor_before_init_fails_on_the_database_and_creates_nothing(clean_env: Path) -> None:
    done = run("doctor")
    assert done.returncode == 1
    assert any(ln.startswith("LỖI") and "Cơ sở dữ liệu" in ln for ln in done.stdout.splitlines())
    assert not (clean_env / "broadcaster.db").exists()


def test_exit_code_follows_the_fail_rows(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(App, "doctor_probes", lambda app: healthy())
    main(["doctor"])  # returns: exit code 0
    out = capsys.readouterr().out.splitlines()
    assert (
        all(line.startswith("ĐẠT") for line in out[:-1]) and out[-1] == "Kết quả: 12 đạt, 0 cảnh báo, 0 lỗi."
    )

    far_off = healthy(clock=FakeClock(ClockState("chronyc", True, 12.0)))
    monkeypatch.setattr(App, "doctor_probes", lambda app: far_off)
    with pytest.raises(SystemExit) as exited:
        main(["doctor", "--json"])
    assert exited.value.code == 1
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is False and report["counts"] == {"ok": 11, "warn": 0, "fail": 1}
    clock = report["checks"][-1]
    assert clock["code"] == "clock" and clock["status"] == "fail"
    assert clock["details"]["offset_s"] == 12.0 and clock["details"]["max_offset_s"] == 5.0


def test_the_clock_limit_comes_from_the_config(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BROADCASTER_DOCTOR_MAX_CLOCK_OFFSET_S", "15")
    monkeypatch.setattr(
        App, "doctor_probes", lambda app: healthy(clock=FakeClock(ClockState("chronyc", True, 12.0)))
    )
    main(["doctor"])
    assert "ĐẠT       Đồng hồ máy tính: đã đồng bộ (chronyc), lệch +12,0 s" in capsys.readouterr().out


def test_play_test_reaches_the_output_probe(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(App, "doctor_probes", lambda app: healthy())
    main(["doctor", "--play-test"])
    assert "đã phát thử tiếng bíp 0,5 s" in capsys.readouterr().out


def test_run_logs_one_line_per_check_at_start() -> None:
    assert run("init").returncode == 0
    assert run("schedule", "import", str(SEED)).returncode == 0
    env = {**os.environ, "BROADCASTER_SPEECH_ENGINES": "espeak", "BROADCASTER_PLAYOUT_PLAYER": "file"}
    daemon = subprocess.Popen(
        [BIN, "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    lines: list[str] = []
    done = threading.Event()

    def read() -> None:
        assert daemon.stderr is not None
        for text in daemon.stderr:
            lines.append(text.rstrip("\n"))
            if "Tự kiểm tra xong" in text:
                done.set()
        done.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert done.wait(60), lines
    finally:
        daemon.send_signal(signal.SIGTERM)
        out, _ = daemon.communicate(timeout=30)
        reader.join(10)
    assert daemon.returncode == 0, lines
    assert "Đã dừng trạm phát" in out
    checks = [ln for ln in lines if "Tự kiểm tra: " in ln]
    assert len(checks) == len(CODES), checks
    assert any(f"tiến trình này (PID {daemon.pid}) giữ khóa" in ln for ln in checks)
    assert not any("Traceback" in ln for ln in lines)
