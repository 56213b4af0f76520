"""The station self-check: each check passes, and fails for the right reason.

Real probes where they run here (PATH, espeak-ng, fonts, SQLite, the disk, the lock, PulseAudio); fakes
of the same protocols where the machine cannot be put in that state (an unsynchronised clock).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from doctor_fakes import (
    NOW,
    FakeClock,
    FakeNetwork,
    FakeOutput,
    FakeTools,
    audio_file,
    healthy,
    path_without,
)
from sqlalchemy import text

from broadcaster import airlog
from broadcaster.app import App
from broadcaster.domain import AsRunEntry, Outcome, Trigger
from broadcaster.services import doctor
from broadcaster.services.doctor import MB, Check, DoctorSettings, Status, run_checks
from broadcaster.services.probes import (
    ClockState,
    DatabaseState,
    DiskState,
    FileStat,
    FontReport,
    OutputState,
)
from broadcaster.services.system_probes import (
    ReportFonts,
    StoreProbe,
    SystemDisk,
    SystemLock,
    SystemOutput,
    SystemTools,
)
from broadcaster.store import db
from broadcaster.store.models import StationRow

LIBERATION_107 = Path("/usr/share/fonts/truetype/liberation")


def by_code(checks: list[Check]) -> dict[str, Check]:
    return {c.code: c for c in checks}


# -- the whole run ------------------------------------------------------------------------------------


def test_a_healthy_station_passes_every_check_in_order() -> None:
    checks = run_checks(healthy(), DoctorSettings(), now=NOW)
    codes = [c.code for c in checks]
    assert codes == [
        "ffmpeg", "ffprobe", "espeak-ng", "voice", "google", "fonts", "output",
        "database", "asrun", "disk", "daemon", "clock",
    ]  # fmt: skip
    assert [c.status for c in checks] == [Status.OK] * len(checks), [doctor.line(c) for c in checks]
    assert not doctor.failed(checks)
    assert doctor.summary(checks) == "Kết quả: 12 đạt, 0 cảnh báo, 0 lỗi."


def test_google_is_asked_with_the_short_timeout_and_offline_is_only_a_warning() -> None:
    network = FakeNetwork()
    checks = by_code(run_checks(healthy(network=network), DoctorSettings(network_timeout_s=2.0), now=NOW))
    assert network.timeouts == [2.0]
    assert checks["google"].status is Status.OK
    offline = healthy(network=FakeNetwork(ok=False))
    checks = by_code(run_checks(offline, DoctorSettings(), now=NOW))
    assert checks["google"].status is Status.WARN
    assert "espeak-ng" in checks["google"].action
    assert not doctor.failed(list(checks.values()))


def test_google_is_not_asked_when_gtts_is_not_in_the_engine_chain() -> None:
    network = FakeNetwork()
    checks = by_code(run_checks(healthy(network=network), DoctorSettings(gtts_url=None), now=NOW))
    assert checks["google"].status is Status.OK and "không dùng" in checks["google"].found
    assert network.timeouts == []


class BrokenDisk:
    """A disk probe whose file system vanished (a real OSError, raised as the real probe would)."""

    def inspect(self) -> DiskState:
        raise FileNotFoundError(2, "No such file or directory", "/mnt/usb")


def test_a_probe_that_breaks_is_one_fail_row_and_the_other_checks_still_run() -> None:
    checks = run_checks(healthy(disk=BrokenDisk()), DoctorSettings(), now=NOW)
    rows = by_code(checks)
    assert len(checks) == 12
    assert rows["disk"].status is Status.FAIL and "không kiểm tra được" in rows["disk"].found
    assert "/mnt/usb" in rows["disk"].found
    assert all(c.status is Status.OK for c in checks if c.code != "disk")


def test_json_rows_carry_codes_and_the_line_carries_the_vietnamese_label() -> None:
    fail = doctor.check_tool(FakeTools(missing={"ffmpeg"}).find("ffmpeg"))
    assert fail.as_dict()["status"] == "fail" and fail.as_dict()["details"]["path"] is None
    assert doctor.line(fail).startswith("LỖI ")
    assert "sudo apt-get install ffmpeg" in doctor.line(fail)
    warn = doctor.check_clock(ClockState("chronyc", False, None), max_offset_s=5)
    assert doctor.line(warn).startswith("CẢNH BÁO ")
    ok = doctor.check_clock(ClockState("chronyc", True, 0.0), max_offset_s=5)
    assert doctor.line(ok).startswith("ĐẠT ")


# -- programs and the offline voice (real PATH, real espeak-ng) ------------------------------------


def test_programs_and_the_vi_voice_pass_on_this_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    tools = SystemTools()
    for name in ("ffmpeg", "ffprobe", "espeak-ng"):
        check = doctor.check_tool(tools.find(name))
        assert check.status is Status.OK and check.found.startswith(str(shutil.which(name)))
    voice = doctor.check_voice(tools.speak("vi"))
    assert voice.status is Status.OK, voice
    assert voice.details["is_wav"] and voice.details["wav_bytes"] > doctor.MIN_VOICE_BYTES


def test_a_path_without_ffmpeg_and_espeak_fails_those_checks(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", path_without(tmp_path / "bin", "ffmpeg", "espeak-ng"))
    assert shutil.which("ffprobe") is not None  # everything else is still there
    checks = by_code(run_checks(healthy(tools=SystemTools()), DoctorSettings(), now=NOW))
    assert checks["ffmpeg"].status is Status.FAIL and checks["ffmpeg"].found == "không tìm thấy trong PATH"
    assert "apt-get install ffmpeg" in checks["ffmpeg"].action
    assert (
        checks["espeak-ng"].status is Status.FAIL
        and "apt-get install espeak-ng" in checks["espeak-ng"].action
    )
    assert checks["ffprobe"].status is Status.OK
    assert checks["voice"].status is Status.FAIL and "espeak-ng" in checks["voice"].found


def test_a_voice_espeak_does_not_have_fails_with_espeaks_own_words() -> None:
    check = doctor.check_voice(SystemTools().speak("khong-co-giong-nay"))
    assert check.status is Status.FAIL
    assert "voice does not exist" in check.found and "espeak_voice" in check.action


# -- fonts (the reports' own search) ----------------------------------------------------------------


def test_the_installed_report_fonts_cover_vietnamese() -> None:
    check = doctor.check_fonts(ReportFonts().find())
    assert check.status is Status.OK, check.found
    assert len(check.details["paths"]) == 4


def test_a_font_folder_with_only_liberation_107_fails_with_the_package_to_install(tmp_path: Path) -> None:
    faces = sorted(LIBERATION_107.glob("LiberationSerif-*.ttf"))
    assert len(faces) == 4
    for face in faces:
        (tmp_path / face.name).symlink_to(face)
    check = doctor.check_fonts(ReportFonts([tmp_path]).find())
    assert check.status is Status.FAIL
    assert "fonts-liberation2" in check.found and "tiếng Việt" in check.found
    assert doctor.line(check).count("\n") == 0


def test_no_font_at_all_fails() -> None:
    check = doctor.check_fonts(FontReport(error="Không tìm thấy phông chữ — Cài gói phông."))
    assert check.status is Status.FAIL and "Cài gói phông" in check.found


# -- the audio output -------------------------------------------------------------------------------


def test_the_file_sink_accepts_a_test_tone_and_keeps_no_copy(tmp_path: Path) -> None:
    aired = tmp_path / "aired"
    aired.mkdir()
    probe = SystemOutput("file", lambda: "file", "", aired)
    check = doctor.check_output(probe.inspect(play_test=True))
    assert check.status is Status.OK, check
    assert "đã ghi thử tiếng bíp 0,5 s" in check.found and "không phát ra loa" in check.found
    assert list(aired.iterdir()) == []
    assert doctor.check_output(probe.inspect(play_test=False)).details["tone"] is None


def test_auto_falling_back_to_the_file_sink_warns_and_names_the_output(tmp_path: Path) -> None:
    check = doctor.check_output(SystemOutput("auto", lambda: "file", "", tmp_path).inspect(False))
    assert check.status is Status.WARN
    assert check.found.startswith("file (tự chọn từ 'auto')") and "PulseAudio" in check.action


def test_an_output_whose_program_is_missing_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", path_without(tmp_path / "bin", "paplay"))
    check = doctor.check_output(SystemOutput("paplay", lambda: "paplay", "", tmp_path).inspect(False))
    assert check.status is Status.FAIL and "paplay" in check.found and "pulseaudio-utils" in check.found


def test_a_tone_the_output_refuses_fails() -> None:
    check = doctor.check_output(FakeOutput(tone_fails=True).inspect(play_test=True))
    assert check.status is Status.FAIL and "không phát được tiếng thử: thiết bị bận" in check.found
    ok = doctor.check_output(FakeOutput().inspect(play_test=False))
    assert ok.status is Status.OK and "--play-test" in ok.action


@pytest.mark.pulse
def test_pulseaudio_sink_plays_the_tone_and_a_missing_sink_fails(tmp_path: Path) -> None:
    from pulse import PulseServer

    with PulseServer("doctor_test") as server:
        check = doctor.check_output(
            SystemOutput("pacat", lambda: "pacat", server.sink, tmp_path).inspect(True)
        )
        assert check.status is Status.OK, check
        assert "doctor_test" in check.found and "đã phát thử tiếng bíp 0,5 s" in check.found
        missing = SystemOutput("pacat", lambda: "pacat", "khong_co_loa", tmp_path).inspect(True)
        check = doctor.check_output(missing)
        assert check.status is Status.FAIL and "khong_co_loa" in check.found and missing.tone is None


def test_output_unavailable_is_fail_with_the_fix() -> None:
    state = OutputState("aplay", "aplay", "", False, "ALSA không thấy card âm thanh nào (aplay -l)")
    check = doctor.check_output(state)
    assert check.status is Status.FAIL and "aplay -l" in check.action


# -- the database and its as-run chain (real SQLite) ------------------------------------------------


def add_airings(app: App, count: int) -> int:
    """A station with `count` as-run rows; returns the station id."""
    start = datetime(2024, 3, 18, 23, 0, tzinfo=UTC)
    with app.tx() as s:
        station = StationRow(code="phu-thu", name="Đài Phú Thứ", timezone="Asia/Ho_Chi_Minh")
        s.add(station)
        s.flush()
        for n in range(count):
            at = start + timedelta(days=n)
            entry = AsRunEntry(
                Outcome.COMPLETED, Trigger.SCHEDULE, planned_start=at, actual_start=at,
                actual_end=at + timedelta(seconds=60), played_ms=60_000, clip_ms=60_000,
                title=f"Bản tin số {n + 1}",
            )  # fmt: skip
            airlog.append(s, station.id, entry, recorded_by="daemon", now=at)
        return station.id


def test_a_current_database_with_an_intact_chain_passes(app: App) -> None:
    add_airings(app, 3)
    state = StoreProbe(app.config.database_url).inspect()
    assert doctor.check_database(state).status is Status.OK
    asrun = doctor.check_asrun(state)
    assert asrun.status is Status.OK and asrun.found == "đài phu-thu: 3 dòng nguyên vẹn"


def test_a_database_one_migration_behind_fails_and_names_both_versions(app: App) -> None:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(db.MIGRATIONS))
    cfg.attributes["engine"] = app.engine
    command.downgrade(cfg, "-1")
    behind = db.current_revision(app.engine)
    assert behind is not None and behind != db.head_revision()
    checks = by_code(
        run_checks(healthy(database=StoreProbe(app.config.database_url)), DoctorSettings(), now=NOW)
    )
    assert checks["database"].status is Status.FAIL
    assert f"phiên bản {behind}, phần mềm cần phiên bản {db.head_revision()}" in checks["database"].found
    assert "broadcaster init" in checks["database"].action
    assert checks["asrun"].status is Status.WARN  # not verified on a schema it may not match


def test_a_tampered_as_run_row_fails_and_names_the_row(app: App) -> None:
    add_airings(app, 3)
    with app.engine.begin() as conn:
        triggers = conn.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'as_run'")
        ).scalars()
        for name in list(triggers):  # the triggers stop an honest mistake; a forger drops them first
            conn.execute(text(f'DROP TRIGGER IF EXISTS "{name}"'))
        conn.execute(text("UPDATE as_run SET title = 'Bản tin đã sửa' WHERE seq = 2"))
        row_id = conn.execute(text("SELECT id FROM as_run WHERE seq = 2")).scalar_one()
    check = doctor.check_asrun(StoreProbe(app.config.database_url).inspect())
    assert check.status is Status.FAIL
    assert f"dòng id={row_id} (số thứ tự 2) bị sửa" in check.found
    assert "log verify" in check.action


def test_a_missing_database_fails_without_creating_it(tmp_path: Path) -> None:
    path = tmp_path / "khong-co" / "broadcaster.db"
    state = StoreProbe(f"sqlite:///{path}").inspect()
    check = doctor.check_database(state)
    assert check.status is Status.FAIL and "chưa có tệp" in check.found and "broadcaster init" in check.action
    assert not path.parent.exists()
    assert doctor.check_asrun(state).status is Status.WARN


def test_a_file_that_is_not_a_database_fails(tmp_path: Path) -> None:
    path = tmp_path / "broadcaster.db"
    path.write_bytes(b"not a database, just words " * 100)
    check = doctor.check_database(StoreProbe(f"sqlite:///{path}").inspect())
    assert check.status is Status.FAIL and "không mở được" in check.found


def test_an_uninitialised_database_fails() -> None:
    check = doctor.check_database(DatabaseState("SQLite /h/b.db", True, "0005", None))
    assert check.status is Status.FAIL and "chưa được khởi tạo" in check.found


# -- disk space and the estimate --------------------------------------------------------------------


def test_growth_is_the_recent_audio_over_the_days_since_the_oldest_recent_file() -> None:
    files = (
        FileStat("cache/tts", NOW - timedelta(days=10), 4 * MB),
        FileStat("media", NOW - timedelta(days=5), 4 * MB),
        FileStat("aired", NOW - timedelta(hours=1), 2 * MB),
        FileStat("aired", NOW - timedelta(days=45), 100 * MB),  # outside the 30-day window
    )
    growth = doctor.audio_growth(DiskState("/h", 0, 0, files), NOW, 30)
    assert (growth.bytes, growth.days, growth.per_day) == (10 * MB, 10.0, 1 * MB)
    fresh = doctor.audio_growth(DiskState("/h", 0, 0, files[2:3]), NOW, 30)
    assert (fresh.days, fresh.per_day) == (1.0, 2 * MB)  # a new station: at least one day


def test_disk_check_explains_its_estimate() -> None:
    files = (FileStat("media", NOW - timedelta(days=10), 20 * MB),)
    state = DiskState("/h", 100 * 1024 * MB, 1024 * MB, files)
    check = doctor.check_disk(state, min_free_bytes=500 * MB, window_days=30, now=NOW)
    assert check.status is Status.OK
    assert check.found == (
        "còn trống 1,0 GB / 100,0 GB ở /h; âm thanh mới (cache/tts, media, aired) 20,0 MB trong 10,0 "
        "ngày qua, khoảng 2,0 MB/ngày → đủ cho khoảng 512 ngày nữa"
    )
    assert check.details["days_left"] == 512


def test_a_disk_that_fills_within_a_week_warns_and_within_a_day_fails() -> None:
    files = (FileStat("aired", NOW - timedelta(days=2), 200 * MB),)  # 100 MB a day
    week = doctor.check_disk(
        DiskState("/h", 10**12, 500 * MB, files), min_free_bytes=0, window_days=30, now=NOW
    )
    assert week.status is Status.WARN and "trong tuần này" in week.action
    day = doctor.check_disk(
        DiskState("/h", 10**12, 50 * MB, files), min_free_bytes=0, window_days=30, now=NOW
    )
    assert day.status is Status.FAIL and "ngay hôm nay" in day.action


def test_a_nearly_full_disk_warns_below_the_threshold(app: App) -> None:
    home = app.config.home
    now = datetime.now(UTC)
    audio_file(home / "cache" / "tts", "a.mp3", 300_000, now - timedelta(days=6))
    audio_file(home / "media", "b.mp3", 200_000, now - timedelta(days=3))
    audio_file(home / "aired", "c.mp3", 100_000, now - timedelta(days=1))
    state = SystemDisk(home).inspect()
    assert sorted(f.folder for f in state.files) == ["aired", "cache/tts", "media"]
    roomy = doctor.check_disk(state, min_free_bytes=0, window_days=30, now=now)
    assert roomy.status is Status.OK and "đủ cho khoảng" in roomy.found
    assert roomy.details["growth_bytes"] == 600_000
    full = doctor.check_disk(state, min_free_bytes=state.free_bytes + MB, window_days=30, now=now)
    assert full.status is Status.WARN
    assert "dưới ngưỡng" in full.found and "doctor.min_free_mb" in full.action


# -- the daemon's lock (real filelock, a real second process) ---------------------------------------

HOLDER = """
import os, sys, time
from filelock import FileLock
home = sys.argv[1]
lock = FileLock(os.path.join(home, "daemon.lock"))
lock.acquire(timeout=5)
open(os.path.join(home, "daemon.pid"), "w").write(str(os.getpid()))
print("held", flush=True)
time.sleep(60)
"""


def test_no_daemon_warns(tmp_path: Path) -> None:
    check = doctor.check_daemon(SystemLock(tmp_path).inspect())
    assert check.status is Status.WARN and "không có trạm phát nào đang chạy" in check.found
    assert not (tmp_path / "daemon.lock").exists()  # the probe never creates the lock


def test_a_running_daemon_passes_with_its_pid_and_a_stale_pid_file_warns(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        check = doctor.check_daemon(SystemLock(tmp_path).inspect())
        assert check.status is Status.OK and check.found == f"đang chạy, PID {holder.pid} giữ khóa"
    finally:
        holder.kill()  # like kill -9: the PID file stays behind
        holder.communicate(timeout=10)
    check = doctor.check_daemon(SystemLock(tmp_path).inspect())
    assert check.status is Status.WARN and f"còn sót PID {holder.pid}" in check.found


def test_the_daemon_itself_holding_the_lock_passes(tmp_path: Path) -> None:
    from filelock import FileLock

    lock = FileLock(str(tmp_path / "daemon.lock"))
    lock.acquire(timeout=1)
    try:
        (tmp_path / "daemon.pid").write_text(str(os.getpid()))
        check = doctor.check_daemon(SystemLock(tmp_path).inspect())
        assert check.status is Status.OK and check.found.startswith(f"tiến trình này (PID {os.getpid()})")
    finally:
        lock.release()


# -- the clock (a fake time service; the parsers on captured output) --------------------------------


def test_an_unsynchronised_clock_warns() -> None:
    probes = healthy(clock=FakeClock(ClockState("timedatectl", False, None)))
    check = by_code(run_checks(probes, DoctorSettings(), now=NOW))["clock"]
    assert check.status is Status.WARN and "chưa đồng bộ" in check.found and "set-ntp" in check.action


def test_a_clock_more_than_the_limit_off_fails_even_when_synchronising() -> None:
    probes = healthy(clock=FakeClock(ClockState("chronyc", True, -7.25)))
    check = by_code(run_checks(probes, DoctorSettings(max_clock_offset_s=5.0), now=NOW))["clock"]
    assert check.status is Status.FAIL and "lệch -7,2 s" in check.found and "5,0 s" in check.found
    within = doctor.check_clock(ClockState("chronyc", True, -4.9), max_offset_s=5.0)
    assert within.status is Status.OK and "lệch -4,9 s" in within.found


def test_a_synchronised_clock_passes_and_shows_its_offset() -> None:
    check = doctor.check_clock(ClockState("chronyc", True, 0.0123), max_offset_s=5.0)
    assert check.status is Status.OK and check.found == "đã đồng bộ (chronyc), lệch +12 ms"


def test_no_time_service_warns() -> None:
    check = doctor.check_clock(ClockState(None, None, None, "không có công cụ nào"), max_offset_s=5.0)
    assert check.status is Status.WARN and "không có công cụ nào" in check.found
