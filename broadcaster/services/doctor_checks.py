"""The self-check's judges: each turns one probe's result into a row of what was found and what to do.

Pure: no I/O; `now` is passed in where time matters.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import PurePath
from urllib.parse import urlsplit

from broadcaster import labels
from broadcaster.services.doctor_rows import Check, Status, num, offset, size
from broadcaster.services.probes import (
    ClockState,
    DatabaseState,
    DiskState,
    FontReport,
    LockState,
    OutputState,
    Reachability,
    ToolInfo,
    VoiceSample,
)

# Less than half a second of audio (espeak-ng writes 22050 Hz 16-bit mono) is not the test sentence.
MIN_VOICE_BYTES = 44 + 22050
PACKAGES = {"ffmpeg": "ffmpeg", "ffprobe": "ffmpeg", "espeak-ng": "espeak-ng"}


def check_tool(info: ToolInfo) -> Check:
    """A program the station cannot work without."""
    package = PACKAGES.get(info.name, info.name)
    details = asdict(info)
    if info.path is None:
        return Check(
            info.name,
            f"Chương trình {info.name}",
            Status.FAIL,
            "không tìm thấy trong PATH",
            f"Cài đặt: sudo apt-get install {package} (Windows: thêm thư mục chứa {info.name} vào PATH).",
            details,
        )
    version = f" ({info.version})" if info.version else ""
    return Check(info.name, f"Chương trình {info.name}", Status.OK, f"{info.path}{version}", "", details)


def check_voice(sample: VoiceSample) -> Check:
    """espeak-ng, the offline fallback, must actually speak Vietnamese."""
    name = f"Giọng đọc dự phòng espeak-ng '{sample.voice}'"
    details = asdict(sample)
    if sample.is_wav and sample.wav_bytes >= MIN_VOICE_BYTES and not sample.error:
        return Check(
            "voice", name, Status.OK, f"đọc câu thử được ({size(sample.wav_bytes)} WAV)", "", details
        )
    why = sample.error or (f"chỉ ra {sample.wav_bytes} byte" if sample.is_wav else "không ra âm thanh WAV")
    return Check(
        "voice",
        name,
        Status.FAIL,
        f"không đọc được câu thử: {why}",
        "Cài espeak-ng (sudo apt-get install espeak-ng) và kiểm tra speech.espeak_voice "
        "(espeak-ng --voices=vi).",
        details,
    )


def check_google(reach: Reachability | None) -> Check:
    """gTTS needs Google's host; offline is a warning: bulletins fall back to espeak-ng."""
    name = "Google TTS (gTTS)"
    if reach is None:
        return Check("google", name, Status.OK, "không dùng (speech.engines không có gtts)")
    host = urlsplit(reach.url).hostname or reach.url
    details = asdict(reach)
    if reach.ok:
        return Check("google", name, Status.OK, f"{host} trả lời ({reach.detail})", "", details)
    return Check(
        "google",
        name,
        Status.WARN,
        f"không kết nối được {host}: {reach.detail}",
        "Bản tin sẽ đọc bằng giọng dự phòng espeak-ng; khi có mạng, chạy "
        "'broadcaster speech render --upgrade' để đọc lại bằng gTTS.",
        details,
    )


def check_fonts(report: FontReport) -> Check:
    """The printable reports need faces that hold every Vietnamese letter."""
    name = "Phông chữ báo cáo"
    details = asdict(report)
    if report.error or not report.paths:
        found = f"không dùng được: {report.error}" if report.error else "không tìm thấy phông nào"
        return Check("fonts", name, Status.FAIL, found, "", details)
    folders = sorted({str(PurePath(p).parent) for p in report.paths})
    family = f"{report.family}, " if report.family else ""
    found = f"đủ chữ tiếng Việt: {family}{len(report.paths)} kiểu chữ trong {', '.join(folders)}"
    return Check("fonts", name, Status.OK, found, "", details)


def check_output(state: OutputState) -> Check:
    """The configured output exists (and, with --play-test, plays a tone); says which output is in use."""
    name = "Đầu ra âm thanh"
    in_use = state.resolved + (" (tự chọn từ 'auto')" if state.configured == "auto" else "")
    details = asdict(state)
    found = f"{in_use}: {state.detail}"
    if not state.available:
        return Check("output", name, Status.FAIL, found, _output_fix(state.resolved), details)
    status, action = Status.OK, ""
    if state.resolved == "file":
        found += "; không phát ra loa"
        if state.configured == "auto":
            status = Status.WARN
            action = (
                "Không có PulseAudio nên chỉ ghi tệp: khởi động PulseAudio, hoặc đặt playout.player "
                '= "aplay" nếu máy có card âm thanh.'
            )
    if state.tone is not None:
        if not state.tone.played:
            why = state.tone.detail or "không rõ lý do"
            return Check(
                "output",
                name,
                Status.FAIL,
                f"{found}; không phát được tiếng thử: {why}",
                _output_fix(state.resolved),
                details,
            )
        verb = "ghi" if state.resolved == "file" else "phát"
        found += f"; đã {verb} thử tiếng bíp {num(state.tone.played_s, 1)} s"
    elif state.resolved != "file" and not action:
        action = "Chạy 'broadcaster doctor --play-test' để phát thử một tiếng bíp ngắn."
    return Check("output", name, status, found, action, details)


def _output_fix(player: str) -> str:
    if player in ("pacat", "paplay", "ffplay"):
        return (
            "Khởi động PulseAudio (pulseaudio --start), kiểm tra playout.device "
            "(pactl list short sinks) và dây loa."
        )
    if player == "aplay":
        return "Bật/cắm card âm thanh (aplay -l) hoặc đổi playout.player."
    if player == "file":
        return "Cấp quyền ghi cho thư mục aired trong BROADCASTER_HOME."
    return "Sửa playout.player trong cấu hình (pacat, paplay, ffplay, aplay, file)."


def check_database(state: DatabaseState) -> Check:
    """The database opens and is at the newest migration this code ships."""
    name = "Cơ sở dữ liệu"
    details = {k: v for k, v in asdict(state).items() if k != "chains"}
    init = "Chạy 'broadcaster init' (tạo mới hoặc nâng cấp; dữ liệu được giữ nguyên)."
    if not state.opened:
        return Check(
            "database",
            name,
            Status.FAIL,
            f"không mở được {state.url}: {state.error}",
            f"{init} Kiểm tra đường dẫn và quyền ghi của BROADCASTER_HOME.",
            details,
        )
    if state.current is None:
        return Check("database", name, Status.FAIL, f"{state.url} chưa được khởi tạo", init, details)
    if state.current != state.head:
        found = f"{state.url} ở phiên bản {state.current}, phần mềm cần phiên bản {state.head}"
        return Check("database", name, Status.FAIL, found, init, details)
    return Check(
        "database", name, Status.OK, f"{state.url} mở được, phiên bản {state.current} (mới nhất)", "", details
    )


def check_asrun(state: DatabaseState) -> Check:
    """Every station's as-run chain verifies."""
    name = "Chuỗi băm nhật ký phát sóng"
    if state.chain_error:
        return Check(
            "asrun",
            name,
            Status.FAIL,
            f"không đọc được nhật ký: {state.chain_error}",
            "Chạy 'broadcaster log verify' để xem chi tiết; khôi phục cơ sở dữ liệu từ bản sao lưu nếu hỏng.",
            {"error": state.chain_error},
        )
    if state.chains is None:
        return Check(
            "asrun",
            name,
            Status.WARN,
            "chưa kiểm tra được vì cơ sở dữ liệu chưa sẵn sàng",
            "Sửa lỗi cơ sở dữ liệu rồi chạy lại.",
        )
    details = {"chains": [asdict(c) for c in state.chains]}
    if not state.chains:
        return Check("asrun", name, Status.OK, "chưa có đài nào, chưa có dòng nào để kiểm tra", "", details)
    parts = []
    for c in state.chains:
        if c.ok:
            parts.append(
                f"đài {c.station}: {c.rows} dòng nguyên vẹn"
                if c.rows
                else f"đài {c.station}: chưa có dòng nào"
            )
        else:
            kind = labels.chain_problem(c.kind)
            parts.append(f"đài {c.station}: dòng id={c.row_id} (số thứ tự {c.seq}) {kind}: {c.message}")
    if all(c.ok for c in state.chains):
        return Check("asrun", name, Status.OK, "; ".join(parts), "", details)
    return Check(
        "asrun",
        name,
        Status.FAIL,
        "; ".join(parts),
        "Nhật ký đã bị sửa ngoài phần mềm: đối chiếu với bản in hoặc bản sao lưu, xem 'broadcaster log "
        "verify'; không sửa tay cơ sở dữ liệu, đính chính bằng 'broadcaster log correct'.",
        details,
    )


@dataclass(frozen=True)
class Growth:
    """Bytes of audio written in the window, over how many days, and the daily rate."""

    bytes: int
    days: float
    per_day: float


def audio_growth(state: DiskState, now: datetime, window_days: int) -> Growth:
    """Recent growth of renders, media and aired audio: bytes of files written in the last `window_days`
    days, spread over the days since the oldest of them (at least one day, so a new station is not
    credited with a slow rate)."""
    since = now - timedelta(days=window_days)
    recent = [f for f in state.files if f.modified >= since]
    if not recent:
        return Growth(0, float(window_days), 0.0)
    oldest = min(f.modified for f in recent)
    days = min(float(window_days), max(1.0, (now - oldest) / timedelta(days=1)))
    total = sum(f.size for f in recent)
    return Growth(total, days, total / days)


def check_disk(state: DiskState, *, min_free_bytes: int, window_days: int, now: datetime) -> Check:
    """Free space in the home; warns below the threshold and estimates the days it leaves."""
    name = "Dung lượng ổ đĩa"
    growth = audio_growth(state, now, window_days)
    days_left = state.free_bytes / growth.per_day if growth.per_day > 0 else None
    found = f"còn trống {size(state.free_bytes)} / {size(state.total_bytes)} ở {state.path}"
    if days_left is None:
        found += f"; chưa có âm thanh mới nào trong {window_days} ngày qua để ước tính số ngày còn lại"
    else:
        found += (
            f"; âm thanh mới (cache/tts, media, aired) {size(growth.bytes)} trong {num(growth.days, 1)} "
            f"ngày qua, khoảng {size(int(growth.per_day))}/ngày → đủ cho khoảng {int(days_left)} ngày nữa"
        )
    details = {
        "free_bytes": state.free_bytes,
        "total_bytes": state.total_bytes,
        "min_free_bytes": min_free_bytes,
        "window_days": window_days,
        "growth_bytes": growth.bytes,
        "growth_days": growth.days,
        "growth_bytes_per_day": growth.per_day,
        "days_left": days_left,
    }
    free_up = (
        "Giải phóng ổ đĩa: xóa bản dựng cũ trong cache/tts, chuyển tệp cũ của thư mục aired sang nơi khác"
    )
    if days_left is not None and days_left < 1:
        return Check("disk", name, Status.FAIL, found, f"{free_up} ngay hôm nay.", details)
    if state.free_bytes < min_free_bytes:
        found += f" (dưới ngưỡng {size(min_free_bytes)})"
        return Check("disk", name, Status.WARN, found, f"{free_up}; ngưỡng: doctor.min_free_mb.", details)
    if days_left is not None and days_left < 7:
        return Check("disk", name, Status.WARN, found, f"{free_up} trong tuần này.", details)
    return Check("disk", name, Status.OK, found, "", details)


def check_daemon(state: LockState) -> Check:
    """The daemon's lock: who holds it, and whether a daemon is running."""
    name = "Trạm phát (broadcaster run)"
    details = asdict(state)
    start = "Chạy 'broadcaster run' hoặc bật dịch vụ (systemctl start broadcaster)."
    if state.held and state.pid == state.own_pid:
        return Check("daemon", name, Status.OK, f"tiến trình này (PID {state.pid}) giữ khóa", "", details)
    if state.held and state.pid_alive:
        return Check("daemon", name, Status.OK, f"đang chạy, PID {state.pid} giữ khóa", "", details)
    if state.held:
        pid = (
            "không có daemon.pid" if state.pid is None else f"PID {state.pid} ghi trong daemon.pid không chạy"
        )
        return Check(
            "daemon",
            name,
            Status.WARN,
            f"khóa {state.lock_path} đang bị giữ nhưng {pid}",
            "Tìm tiến trình giữ khóa (ps aux | grep 'broadcaster run'); "
            "mỗi thư mục dữ liệu chỉ một trạm phát.",
            details,
        )
    if state.pid is not None:
        found = (
            f"không có trạm phát nào giữ khóa; daemon.pid còn sót PID {state.pid} "
            "(trạm phát trước đã dừng đột ngột?)"
        )
        return Check(
            "daemon",
            name,
            Status.WARN,
            found,
            f"{start} Lượt đang phát lúc dừng sẽ được ghi là bị gián đoạn.",
            details,
        )
    found = "không có trạm phát nào đang chạy: các buổi đã xếp sẽ không được phát"
    return Check("daemon", name, Status.WARN, found, start, details)


def check_clock(state: ClockState, *, max_offset_s: float) -> Check:
    """Start precision is only as good as the PC clock: unsynchronised warns, far off fails."""
    name = "Đồng hồ máy tính"
    details = {**asdict(state), "max_offset_s": max_offset_s}
    source = f" ({state.source})" if state.source else ""
    shift = f", lệch {offset(state.offset_s)}" if state.offset_s is not None else ""
    sync_fix = "Bật đồng bộ giờ: sudo timedatectl set-ntp true, hoặc cài chrony (Windows: w32tm /resync)."
    if state.offset_s is not None and abs(state.offset_s) > max_offset_s:
        return Check(
            "clock",
            name,
            Status.FAIL,
            f"lệch {offset(state.offset_s)} so với giờ chuẩn{source}, quá {num(max_offset_s, 1)} s cho phép",
            "Đồng bộ giờ ngay (sudo chronyc makestep, hoặc sudo timedatectl set-ntp true); "
            "các buổi phát đang lệch giờ tương ứng.",
            details,
        )
    if state.synchronised is None:
        detail = f": {state.detail}" if state.detail else ""
        return Check(
            "clock", name, Status.WARN, f"không biết đồng hồ có được đồng bộ không{detail}", sync_fix, details
        )
    if not state.synchronised:
        return Check(
            "clock",
            name,
            Status.WARN,
            f"chưa đồng bộ với máy chủ giờ{source}{shift}",
            f"{sync_fix} Giờ phát chỉ đúng như đồng hồ máy.",
            details,
        )
    if state.offset_s is None:
        return Check("clock", name, Status.OK, f"đã đồng bộ{source}; không đọc được độ lệch", "", details)
    return Check("clock", name, Status.OK, f"đã đồng bộ{source}{shift}", "", details)
