"""The station self-check: ask every probe, judge each answer into a row of ĐẠT / CẢNH BÁO / LỖI.

The probes are small protocols (probes.py, real ones in system_probes.py); the judges are pure
(doctor_checks.py); each row says what was found and what to do (doctor_rows.py).

`run_checks` takes `now` and never raises for a failing probe; this module is the one the CLI and
the daemon call, and it re-exports the rows and judges it is built from.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from broadcaster.domain import Role
from broadcaster.errors import BroadcasterError
from broadcaster.services.doctor_checks import (
    MIN_VOICE_BYTES,
    Growth,
    audio_growth,
    check_asrun,
    check_clock,
    check_daemon,
    check_database,
    check_disk,
    check_fonts,
    check_google,
    check_output,
    check_tool,
    check_voice,
)
from broadcaster.services.doctor_rows import MB, STATUS_VI, Check, Status, failed, line, summary
from broadcaster.services.probes import (
    ClockProbe,
    DatabaseProbe,
    DatabaseState,
    DiskProbe,
    FontProbe,
    LockProbe,
    NetworkProbe,
    OutputProbe,
    ToolProbe,
)
from broadcaster.services.users import require_role

__all__ = [
    "MB",
    "MIN_VOICE_BYTES",
    "STATUS_VI",
    "Check",
    "DoctorSettings",
    "Growth",
    "Probes",
    "Status",
    "audio_growth",
    "check_asrun",
    "check_clock",
    "check_daemon",
    "check_database",
    "check_disk",
    "check_fonts",
    "check_google",
    "check_output",
    "check_tool",
    "check_voice",
    "failed",
    "line",
    "run_checks",
    "summary",
]


@dataclass(frozen=True)
class DoctorSettings:
    """What the checks compare against (from the config)."""

    espeak_voice: str = "vi"
    gtts_url: str | None = "https://translate.google.com/"  # None: gTTS is not in the engine chain
    network_timeout_s: float = 2.0
    min_free_bytes: int = 1024 * MB
    max_clock_offset_s: float = 5.0
    play_test: bool = False
    growth_window_days: int = 30


@dataclass(frozen=True)
class Probes:
    """The machine as the self-check sees it."""

    tools: ToolProbe
    network: NetworkProbe
    fonts: FontProbe
    output: OutputProbe
    database: DatabaseProbe
    disk: DiskProbe
    lock: LockProbe
    clock: ClockProbe


def run_checks(probes: Probes, settings: DoctorSettings, *, now: datetime) -> list[Check]:
    """Ask every probe and judge each answer; a probe that breaks becomes a LỖI row, never an exception."""

    def tool(name: str) -> Callable[[], Check]:
        return lambda: check_tool(probes.tools.find(name))

    checks = [_guard(t, f"Chương trình {t}", tool(t)) for t in ("ffmpeg", "ffprobe", "espeak-ng")]
    checks.append(
        _guard("voice", "Giọng đọc dự phòng", lambda: check_voice(probes.tools.speak(settings.espeak_voice)))
    )
    url = settings.gtts_url
    checks.append(
        _guard(
            "google",
            "Google TTS (gTTS)",
            lambda: check_google(
                probes.network.reach(url, settings.network_timeout_s) if url is not None else None
            ),
        )
    )
    checks.append(_guard("fonts", "Phông chữ báo cáo", lambda: check_fonts(probes.fonts.find())))
    checks.append(
        _guard("output", "Đầu ra âm thanh", lambda: check_output(probes.output.inspect(settings.play_test)))
    )
    try:
        db_state: DatabaseState | Check = probes.database.inspect()
    except Exception as exc:  # a self-check reports what broke instead of stopping
        db_state = _broken("database", "Cơ sở dữ liệu", exc)
    if isinstance(db_state, Check):
        checks.append(db_state)
        checks.append(_broken("asrun", "Chuỗi băm nhật ký phát sóng", None))
    else:
        state = db_state
        checks.append(_guard("database", "Cơ sở dữ liệu", lambda: check_database(state)))
        checks.append(_guard("asrun", "Chuỗi băm nhật ký phát sóng", lambda: check_asrun(state)))
    checks.append(
        _guard(
            "disk",
            "Dung lượng ổ đĩa",
            lambda: check_disk(
                probes.disk.inspect(),
                min_free_bytes=settings.min_free_bytes,
                window_days=settings.growth_window_days,
                now=now,
            ),
        )
    )
    checks.append(
        _guard("daemon", "Trạm phát (broadcaster run)", lambda: check_daemon(probes.lock.inspect()))
    )
    checks.append(
        _guard(
            "clock",
            "Đồng hồ máy tính",
            lambda: check_clock(probes.clock.read(), max_offset_s=settings.max_clock_offset_s),
        )
    )
    return checks


def _guard(code: str, name: str, judge: Callable[[], Check]) -> Check:
    try:
        return judge()
    except Exception as exc:  # a self-check reports what broke instead of stopping
        return _broken(code, name, exc)


def _broken(code: str, name: str, exc: BaseException | None) -> Check:
    if exc is None:
        return Check(code, name, Status.WARN, "chưa kiểm tra được", "Sửa lỗi ở dòng trên rồi chạy lại.")
    what = exc.one_line() if isinstance(exc, BroadcasterError) else f"{type(exc).__name__}: {exc}"
    return Check(
        code,
        name,
        Status.FAIL,
        f"không kiểm tra được: {what}",
        "Chạy lại với BROADCASTER_DEBUG=1 và báo cho người phát triển nếu lỗi còn.",
        {"error": what},
    )


@dataclass(frozen=True)
class SelfCheck:
    """The self-check as the console shows it: every row, the summary line, when it ran."""

    checks: list[Check]
    summary: str
    ran_at: datetime

    @property
    def failed(self) -> bool:
        """True when a row is LỖI."""
        return failed(self.checks)


def console_self_check(
    session: Session, actor: str | None, probes: Probes, settings: DoctorSettings, *, now: datetime
) -> SelfCheck:
    """`broadcaster doctor` for the console: the operator, the administrator or the inspector asks."""
    require_role(session, actor, Role.OPERATOR, Role.INSPECTOR)
    checks = run_checks(probes, settings, now=now)
    return SelfCheck(checks, summary(checks), now)
